//! Race reports: for each pair of racing instructions the search found, an
//! execution in which they race, extended to a final state (or a panic) when
//! one is reachable, else to a state where every unfinished thread is
//! blocked when one is (a deadlock or leak).

use std::collections::{BTreeSet, VecDeque};

use rustc_hash::FxHashMap;

use serde::Serialize;

use super::search::{StateGraph, StateId};
use crate::ir::{Loc, ThreadId, Val};
use crate::model::machine::Machine;
use crate::outcome::Outcome;
use crate::trace::{Step, Trace};

/// An instruction of a thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Site {
    /// The thread.
    pub thread: ThreadId,
    /// The instruction's index in the thread's code.
    pub pc: usize,
}

/// Two instructions that race, with an execution in which they do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RaceReport {
    /// The variable both access.
    pub loc: Loc,
    /// The access that executes first in the witness.
    pub first: Site,
    /// The access that executes second.
    pub second: Site,
    /// An execution containing the race, from the initial state.
    pub witness: Trace,
    /// The outcome the witness ends in; `None` when it could not be extended to
    /// a final state, a panic or a blocked state (the exploration stopped
    /// early, or every execution through the race runs forever).
    pub outcome: Option<Outcome>,
}

/// One report per distinct pair of racing instructions, ordered by variable,
/// then first and second access. `toward` is from
/// [`super::analysis::toward_final`]; without it (a graded machine's graph,
/// which keeps no transitions) a witness goes on from the race by the
/// machine alone ([`first_steps_to_end`]).
pub(crate) fn report(
    machine: &Machine<'_>,
    graph: &StateGraph,
    toward: Option<&[Option<StateId>]>,
) -> Vec<RaceReport> {
    let mut seen = BTreeSet::new();
    let mut reports = Vec::new();
    for (key, &(state, step)) in &graph.races {
        let site = |thread, pc| Site { thread, pc };
        let (first, second) = (site(key.earlier, key.earlier_pc), site(key.thread, key.pc));
        // Under symmetry the pair stands for its renamings, reported together.
        if seen.contains(&(key.loc, first.min(second), first.max(second))) {
            continue;
        }
        // The walk reaches a state of `state`'s class, `state`'s thread `j`
        // being its thread `at[j]`.
        let (mut trace, reached, at) = graph.walk_to(machine, state);
        let rename = |t: ThreadId| ThreadId(at[t.index()] as u16);
        let step = step.renamed(rename);
        let (first, second) = (
            site(rename(first.thread), first.pc),
            site(rename(second.thread), second.pc),
        );
        trace.steps.push(step);
        let (_, next) = machine
            .apply(&reached, step)
            .expect("invariant: a recorded race step is enabled");
        let end = match toward {
            Some(toward) => graph
                .successor(state, &next)
                .and_then(|id| {
                    path_to_final(machine, graph, id, toward)
                        .or_else(|| path_to_dead_end(graph, id))
                })
                .map(|ids| {
                    let last = ids.last().expect("invariant: paths are non-empty");
                    (steps_along(machine, graph, &ids), graph.states.get(*last))
                }),
            None => Some(first_steps_to_end(machine, next)),
        };
        let last = end.map(|(steps, last)| {
            trace.steps.extend(steps);
            last
        });
        let renamings = match &graph.symmetry {
            Some(symmetry) => symmetry.pair_renamings(first.thread.index(), second.thread.index()),
            None => vec![(0..machine.core.program.threads.len()).collect()],
        };
        let mut renamed = Vec::new();
        for to in renamings {
            let rename = |t: ThreadId| ThreadId(to[t.index()] as u16);
            let (first, second) = (
                site(rename(first.thread), first.pc),
                site(rename(second.thread), second.pc),
            );
            if !seen.insert((key.loc, first.min(second), first.max(second))) {
                continue;
            }
            let outcome = last.as_ref().map(|last| match &graph.symmetry {
                Some(symmetry) => {
                    symmetry.renamed(&machine.core.layout, last, &to, &mut renamed);
                    outcome_of(machine, &renamed)
                }
                None => outcome_of(machine, last),
            });
            reports.push(RaceReport {
                loc: key.loc,
                first,
                second,
                witness: Trace {
                    steps: trace.steps.iter().map(|s| s.renamed(rename)).collect(),
                },
                outcome,
            });
        }
    }
    reports.sort_by_key(|r| (r.loc, r.first, r.second));
    reports
}

/// What an execution ending in state `last` ends as: a final state, a panic,
/// or blocked threads.
fn outcome_of(machine: &Machine<'_>, last: &[Val]) -> Outcome {
    match machine.panicked(last) {
        Some(t) => Outcome::Panic(t),
        None if machine.is_final(last) => Outcome::Final(machine.observe(last)),
        None => Outcome::Blocked(
            machine
                .thread_ids()
                .filter(|&t| !machine.thread_done(last, t))
                .collect(),
        ),
    }
}

/// The states of a shortest path from `from` to a final state (or one where
/// a thread panicked); `None` if none is reachable.
fn path_to_final(
    machine: &Machine<'_>,
    graph: &StateGraph,
    from: StateId,
    toward: &[Option<StateId>],
) -> Option<Vec<StateId>> {
    let mut ids = vec![from];
    while let Some(next) = toward[*ids.last().expect("non-empty") as usize] {
        ids.push(next);
    }
    let end = graph.states.get(*ids.last().expect("non-empty"));
    (machine.is_final(&end) || machine.panicked(&end).is_some()).then_some(ids)
}

/// The states of a shortest path from `from` to an explored state with no
/// step left (breadth-first); `None` if there is none. Called when no final
/// state is reachable, so such a state has every unfinished thread blocked.
fn path_to_dead_end(graph: &StateGraph, from: StateId) -> Option<Vec<StateId>> {
    let mut parent: FxHashMap<StateId, StateId> = FxHashMap::default();
    let mut queue = VecDeque::from([from]);
    while let Some(id) = queue.pop_front() {
        if graph.is_dead_end(id) {
            let mut ids = vec![id];
            while let Some(&p) = parent.get(ids.last().expect("non-empty")) {
                ids.push(p);
            }
            ids.reverse();
            return Some(ids);
        }
        for &next in graph.successors_of(id) {
            if next != from && !parent.contains_key(&next) {
                parent.insert(next, id);
                queue.push_back(next);
            }
        }
    }
    None
}

/// The steps from `state` to a state with no step left, taking the first
/// step the machine lists at each state, and that state. For a graded
/// machine ([`Machine::graded`]), where every path ends in a final state
/// after the same number of steps, so this is a shortest way to one.
fn first_steps_to_end(machine: &Machine<'_>, mut state: Vec<Val>) -> (Vec<Step>, Vec<Val>) {
    let mut steps = Vec::new();
    loop {
        let mut first = None;
        machine.successors(&state, &mut Vec::new(), |step, _, _, next| {
            if first.is_none() {
                first = Some((step, next.to_vec()));
            }
        });
        let Some((step, next)) = first else {
            return (steps, state);
        };
        steps.push(step);
        state = next;
    }
}

/// The steps leading along the path of states `ids`.
fn steps_along(machine: &Machine<'_>, graph: &StateGraph, ids: &[StateId]) -> Vec<Step> {
    ids.windows(2)
        .map(|w| step_between(machine, &graph.states.get(w[0]), &graph.states.get(w[1])))
        .collect()
}

/// The step leading from state `from` to its successor `to`.
fn step_between(machine: &Machine<'_>, from: &[Val], to: &[Val]) -> Step {
    let mut found = None;
    machine.successors(from, &mut Vec::new(), |step, _, _, next| {
        if found.is_none() && next == to {
            found = Some(step);
        }
    });
    found.expect("invariant: `to` is a successor of `from`")
}

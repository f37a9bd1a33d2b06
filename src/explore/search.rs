//! Exhaustive stateful search: a depth-first walk of the machine's state graph
//! with a visited set, so each distinct state is expanded once however many
//! interleavings reach it.
//!
//! The search records the whole state graph compactly (successor ids per state
//! and one discovery parent per state) because the analyses that follow need it:
//! counting executions per outcome, finding states from which no execution can
//! terminate, and rebuilding a witness path to any state.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use indexmap::IndexMap;
use rustc_hash::FxBuildHasher;

use super::{Completeness, Limit, Limits, Progress};
use crate::model::machine::Machine;
use crate::trace::{Step, Trace};

pub(crate) use super::store::StateId;
use super::store::StateStore;

/// How often (in expanded states) the search checks for cancellation and reports
/// progress.
const CHECK_INTERVAL: usize = 1 << 12;

/// Edge offsets are stored as `u32`; a graph this large is treated like hitting
/// the memory limit.
const MAX_EDGES: usize = u32::MAX as usize;

/// Estimated bytes per visited state besides its encoding: its end offset, the
/// hash table slot, the parent link and the successor range.
const STATE_OVERHEAD: usize = 40;

/// The explored part of the state graph.
#[derive(Debug)]
pub(crate) struct StateGraph {
    /// Every discovered state, by id.
    pub states: StateStore,
    /// For each state but the initial one: the state it was discovered from and
    /// the step taken. Entry 0 is a placeholder.
    pub parent: Vec<(StateId, Step)>,
    /// For each state: its successors' range in `edges`, or `None` if it was
    /// never expanded (the search stopped first).
    pub successors: Vec<Option<(u32, u32)>>,
    /// Successor ids, grouped per expanded state.
    pub edges: Vec<StateId>,
    /// For each distinct race found (variable, earlier thread, racing thread and
    /// instruction), the first transition that found it: its source state and step.
    pub races: IndexMap<RaceKey, (StateId, Step), FxBuildHasher>,
}

/// A pair of racing instructions found during the search: the variable, the
/// earlier access (thread and instruction) and the racing access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct RaceKey {
    pub loc: crate::ir::Loc,
    pub earlier: crate::ir::ThreadId,
    pub earlier_pc: usize,
    pub thread: crate::ir::ThreadId,
    pub pc: usize,
}

impl StateGraph {
    /// The successor ids of an expanded state.
    pub fn successors_of(&self, id: StateId) -> &[StateId] {
        match self.successors[id as usize] {
            Some((start, len)) => &self.edges[start as usize..(start + len) as usize],
            None => &[],
        }
    }

    /// The steps from the initial state to `id` along discovery parents.
    pub fn path_to(&self, mut id: StateId) -> Trace {
        let mut steps = Vec::new();
        while id != 0 {
            let (parent, step) = self.parent[id as usize];
            steps.push(step);
            id = parent;
        }
        steps.reverse();
        Trace { steps }
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }
}

/// Explores every state reachable from the initial state, within the limits.
pub(crate) fn search(
    machine: &Machine<'_>,
    limits: Limits,
    cancel: Option<&AtomicBool>,
    progress: &mut Option<&mut dyn FnMut(&Progress)>,
) -> (StateGraph, Completeness) {
    let started = Instant::now();
    let mut graph = StateGraph {
        states: StateStore::default(),
        parent: vec![(0, Step::Run(crate::ir::ThreadId(0)))],
        successors: vec![None],
        edges: Vec::new(),
        races: IndexMap::with_hasher(FxBuildHasher),
    };
    graph.states.insert(&machine.initial_state());
    let mut stack: Vec<StateId> = vec![0];
    let mut current = Vec::new();
    let mut scratch = Vec::new();
    let mut completeness = Completeness::Exhaustive;
    let mut expanded = 0usize;
    let mut memory = graph.states.encoded_bytes() + STATE_OVERHEAD;
    let max_states = limits.max_states.max(1);

    while let Some(id) = stack.pop() {
        if expanded.is_multiple_of(CHECK_INTERVAL) {
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                completeness = Completeness::Interrupted;
                break;
            }
            if let Some(report) = progress {
                report(&Progress {
                    states: graph.len(),
                    transitions: graph.edges.len(),
                    pending: stack.len(),
                    elapsed: started.elapsed(),
                });
            }
        }
        expanded += 1;
        graph.states.get_into(id, &mut current);
        let start = graph.edges.len();
        let mut truncated = None;
        machine.successors(&current, &mut scratch, |step, effect, race, next| {
            if truncated.is_some() {
                return;
            }
            if let (Some(race), Some(pc)) = (race, effect.pc()) {
                for &(earlier, earlier_pc) in &race.earlier {
                    let key = RaceKey {
                        loc: race.loc,
                        earlier,
                        earlier_pc,
                        thread: step
                            .thread()
                            .expect("invariant: races come from thread steps"),
                        pc,
                    };
                    graph.races.entry(key).or_insert((id, step));
                }
            }
            let succ = match graph.states.look_up(next) {
                Some(i) => i,
                None if graph.states.len() >= max_states => {
                    truncated = Some(Limit::States(max_states));
                    return;
                }
                None if memory + graph.states.looked_up_len() + STATE_OVERHEAD
                    > limits.max_memory
                    || graph.edges.len() >= MAX_EDGES =>
                {
                    truncated = Some(Limit::Memory(limits.max_memory));
                    return;
                }
                None => {
                    memory += graph.states.looked_up_len() + STATE_OVERHEAD;
                    let i = graph.states.insert_looked_up();
                    graph.parent.push((id, step));
                    graph.successors.push(None);
                    stack.push(i);
                    i
                }
            };
            graph.edges.push(succ);
            memory += size_of::<StateId>();
        });
        if let Some(limit) = truncated {
            graph.edges.truncate(start);
            completeness = Completeness::Truncated(limit);
            break;
        }
        let len = graph.edges.len() - start;
        graph.successors[id as usize] = Some((start as u32, len as u32));
    }
    (graph, completeness)
}

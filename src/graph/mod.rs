//! The execution-graph engine: explores consistent executions, not states.
//!
//! The state-space engine ([`crate::explore`]) pays for every distinct
//! machine state; here the unit of work is an execution graph (events,
//! program order, and the write each read reads from), so work tracks the
//! number of outcomes. [`search`] builds graphs event by event, [`axioms`]
//! decides which are consistent under `sc`, `tso` or `pso` with coherence left
//! lazy, and [`witness`] turns each consistent graph into a machine trace and
//! its data races, so reports, explanations and pictures are the same as the
//! state-space engine's. docs/models.md states the axioms and why they agree
//! with the machines; tests check both engines give the same outcomes,
//! races and verdicts on every corpus file and on random programs.
//!
//! Supported: loads, stores, fences, read-modify-writes and atomic accesses,
//! registers and branches, loops unrolled to a bound. Programs with Go
//! synchronisation, the `go` model and model files with bounded buffers or
//! without forwarding stay with the state-space engine ([`unsupported`]).

mod axioms;
mod bits;
mod execution;
mod search;
mod thread;
mod witness;

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;

pub use search::GraphStats;

use crate::explore::{Completeness, Limit, Limits, Progress, RaceReport, Site};
use crate::ir::{Instr, Loc, Observable, Program, ThreadId};
use crate::model::Model;
use crate::outcome::{Count, Outcome, OutcomeSet};

use axioms::Axioms;
use execution::{Execution, OBSERVER};

/// Loop iterations the graph engine unrolls by default.
pub const DEFAULT_UNROLL: u32 = 4;

/// Why the graph engine cannot explore `program` under `model`; `None` when
/// it can.
pub fn unsupported(program: &Program, model: &Model) -> Option<String> {
    if Axioms::of(model).is_none() {
        return Some(match model.store_buffers_config() {
            None => format!("the {} model", model.name),
            Some(_) => format!(
                "model {}: bounded buffers or no store forwarding",
                model.name
            ),
        });
    }
    let sync = program
        .threads
        .iter()
        .flat_map(|t| &t.code)
        .any(|i| matches!(i, Instr::Sync { .. }));
    (sync || !program.channels.is_empty()).then(|| "Go synchronisation".to_string())
}

/// Whether some thread of `program` can jump backwards (has a loop).
pub fn has_loops(program: &Program) -> bool {
    program.threads.iter().any(|t| {
        t.code
            .iter()
            .enumerate()
            .any(|(pc, i)| matches!(i, Instr::Goto { target, .. } if *target <= pc))
    })
}

/// What a graph exploration found.
#[derive(Debug)]
pub(crate) struct Found {
    pub outcomes: OutcomeSet,
    pub races: Vec<RaceReport>,
    pub stats: GraphStats,
    pub memory: usize,
    pub completeness: Completeness,
}

/// Explores `program` under `model`, which must be supported
/// ([`unsupported`] is `None`), unrolling loops `unroll` times.
pub(crate) fn explore(
    program: &Program,
    model: &Model,
    limits: Limits,
    unroll: u32,
    cancel: Option<&AtomicBool>,
    progress: &mut Option<&mut dyn FnMut(&Progress)>,
) -> Found {
    let axioms = Axioms::of(model).expect("invariant: the caller checked the model is supported");
    let observables = program.observables();
    let mut outcomes = OutcomeSet::new(program);
    let mut races = BTreeMap::new();
    let mut search = search::Search::new(program, axioms, unroll);
    let completeness = search.run(limits, cancel, progress, &mut |execution, check| {
        let values = final_values(program, &observables, execution);
        let pairs = witness::races(execution);
        let mut cached = None;
        let witness_of = |cached: &mut Option<witness::Witness>| {
            cached
                .get_or_insert_with(|| witness::witness(axioms, execution, check))
                .trace
                .clone()
        };
        outcomes.add(
            Outcome::Final(values.clone()),
            Some(Count::Finite(1)),
            !pairs.is_empty(),
            || witness_of(&mut cached),
        );
        for (p, q) in pairs {
            let (a, b) = (&execution.events[p as usize], &execution.events[q as usize]);
            let site = |e: &execution::Event| Site {
                thread: ThreadId(e.thread),
                pc: e.pc as usize,
            };
            let key = (a.loc, site(a).min(site(b)), site(a).max(site(b)));
            if races.contains_key(&key) {
                continue;
            }
            let trace = witness_of(&mut cached);
            let run = cached.as_ref().expect("invariant: built by witness_of");
            let (first, second) = if run.step_of[p as usize] < run.step_of[q as usize] {
                (site(a), site(b))
            } else {
                (site(b), site(a))
            };
            races.insert(
                key,
                RaceReport {
                    loc: Loc(a.loc),
                    first,
                    second,
                    witness: trace,
                    outcome: Some(Outcome::Final(values.clone())),
                },
            );
        }
    });
    let completeness = match completeness {
        Completeness::Exhaustive if search.stats.cut > 0 => {
            Completeness::Truncated(Limit::Unroll(unroll))
        }
        other => other,
    };
    let mut races: Vec<RaceReport> = races.into_values().collect();
    races.sort_by_key(|r| (r.loc, r.first, r.second));
    Found {
        outcomes,
        races,
        stats: search.stats,
        memory: search.memory,
        completeness,
    }
}

/// The value of every observable at the end of a complete execution: the
/// threads' registers, and what the observer read of each variable.
fn final_values(program: &Program, observables: &[Observable], execution: &Execution) -> Vec<i64> {
    observables
        .iter()
        .map(|&o| match o {
            Observable::Reg(t, r) => execution.threads[t.index()].regs[r.index()],
            // What the observer read, or else the last write (all by one
            // thread), or else the initial value.
            Observable::Loc(l) => execution
                .events
                .iter()
                .find(|e| e.thread == OBSERVER && e.loc == l.0)
                .map(|e| e.read)
                .or_else(|| {
                    execution
                        .events
                        .iter()
                        .rev()
                        .find(|e| e.loc == l.0 && e.writes())
                        .and_then(|e| e.written)
                })
                .unwrap_or(program.locs[l.index()].init),
        })
        .collect()
}

//! The execution-graph engine: explores consistent executions, not states.
//!
//! The state-space engine ([`crate::explore`]) pays for every distinct
//! machine state; here the unit of work is an execution graph (events,
//! program order, and the write each read reads from), so work tracks the
//! number of outcomes. `search` builds graphs event by event, `axioms`
//! decides which are consistent under `sc`, `tso` or `pso` with coherence left
//! lazy, and `witness` turns each consistent graph into a machine trace and
//! its data races, so reports, explanations and pictures are the same as the
//! state-space engine's. docs/models.md states the axioms and why they agree
//! with the machines; tests check both engines give the same outcomes,
//! races and verdicts on every corpus file and on random programs.
//!
//! Supported: loads, stores, fences, read-modify-writes and atomic accesses,
//! registers and branches, loops unrolled to a bound, `go` statements,
//! `sync.Mutex` `Lock`, `TryLock` and `Unlock`, `sync.WaitGroup` `Add`,
//! `Done` and `Wait`, and `sync.Once` (read-modify-writes, reads and writes
//! of the object's word that can block, fail and panic). The `go` model is
//! explored as `sc` (`drf`): the Go memory model makes race-free programs
//! sequentially consistent, and a program with a race in some `sc`
//! execution, or one `drf` names as the exception, is handed back to the
//! state-space engine. Programs
//! with channels, RWMutexes or atomic values of several words, and model
//! files with bounded buffers or without forwarding, stay with the
//! state-space engine ([`unsupported`]).

mod axioms;
mod bits;
mod collect;
mod drf;
mod execution;
mod order;
mod search;
mod thread;
mod witness;

use std::sync::atomic::AtomicBool;

pub(crate) use axioms::{Axioms, PoEnd};
pub use search::GraphStats;

use crate::explore::{Completeness, Limit, Limits, Progress, RaceReport};
use crate::ir::{Instr, LocKind, Program, Thread};
use crate::model::{Model, ModelKind};
use crate::outcome::OutcomeSet;

/// Iterations of each loop the graph engine unrolls by default.
pub const DEFAULT_UNROLL: u32 = 4;

/// The largest unrolling bound: a loop of register-only instructions that
/// never ends is run this many times before its thread is cut.
pub const MAX_UNROLL: u32 = 1_000_000;

/// Why the graph engine cannot explore `program` under `model`; `None` when
/// it can.
pub fn unsupported(program: &Program, model: &Model) -> Option<String> {
    if axioms_exploring(model).is_none() {
        return Some(match model.store_buffers_config() {
            None => format!("the {} model", model.name),
            Some(_) => format!(
                "model {}: bounded buffers or no store forwarding",
                model.name
            ),
        });
    }
    if !program.channels.is_empty() {
        return Some("channels".to_string());
    }
    if model.kind == ModelKind::Go
        && let Some(why) = drf::sc_exception(program)
    {
        return Some(why);
    }
    program
        .threads
        .iter()
        .flat_map(|t| &t.code)
        .find_map(|i| match i {
            Instr::Sync { op, .. } => execution::unsupported_sync(op),
            _ => None,
        })
        .map(str::to_string)
}

/// The axioms the engine explores `model` with: its own, or for the `go`
/// model those of `sc` ([`drf`]).
fn axioms_exploring(model: &Model) -> Option<Axioms> {
    match model.kind {
        ModelKind::Go => Some(Axioms::Sc),
        ModelKind::StoreBuffers(_) => Axioms::of(model),
    }
}

/// Why a `go` exploration is handed back to the state-space engine: some
/// `sc` execution has a data race, so the program's `go` outcomes need not
/// be its `sc` ones, or the limits stopped the search before it could show
/// that none has.
const RACY_UNDER_GO: &str = "racy programs under the go model (an sc execution has a data race, and go then allows more than sc), nor ones it cannot show race-free within the limits";

/// Why a `go` exploration is handed back when a witness does not replay on
/// the `go` machine (never, for race-free programs; tests check it).
const UNTRANSLATED_UNDER_GO: &str =
    "this program under the go model (a witness does not replay on the go machine)";

/// Threads from which the state-space engine is the faster choice, when as
/// many read-modify-writes on one variable: each order of the RMWs is an
/// execution, and the graph engine reaches each through revisits, with many
/// dead ends and repeats, while the machine's states share prefixes (`ainc 6`:
/// 12 ms against 0.9 ms; docs/performance.md).
pub const RMW_THREADS_FOR_STATES: usize = 3;

/// Pairs of a read of one variable and a later write to it (in a later
/// thread, or later in the same thread) from which the state-space engine is
/// the faster choice. The graph engine adds threads in order, so each such
/// write revisits the read, dropping what was added between them to add it
/// again; without TruSt's maximality condition the same executions are then
/// reached again and again. Measured (tso, `-j 1`; docs/performance.md):
/// four threads each storing then loading `x` (6 pairs) 1.1 ms against 2.2
/// ms, four each storing, loading and storing (16) 0.40 s against 0.07 s,
/// six each storing then loading (15) 1.7 s against 0.42 s; a reader of 3
/// loads after 4 threads of 3 stores (no pair) 0.13 s against 5.5 s, the
/// same reader first (36 pairs) 23 s against 5.5 s.
pub const REVISIT_PAIRS_FOR_STATES: usize = 12;

/// Why `auto` should prefer the state-space engine for `program` although
/// the graph engine supports it: loops (which the graph engine can only
/// unroll), read-modify-writes on one variable in
/// [`RMW_THREADS_FOR_STATES`] threads or more, or a variable with
/// [`REVISIT_PAIRS_FOR_STATES`] pairs of a read and a later write. Every Go
/// synchronisation operation counts as a read-modify-write of its object's
/// word (`waitgroup 6`, seven threads updating one counter: the graph
/// engine passes 4 GiB within two minutes, the state-space engine needs
/// 29 ms).
pub fn prefers_states(program: &Program) -> Option<String> {
    if has_loops(program) {
        return Some("loops".to_string());
    }
    let locs = program.locs.len();
    let mut rmw_threads = vec![0; locs];
    for thread in &program.threads {
        let mut seen = vec![false; locs];
        for instr in &thread.code {
            if let Instr::Rmw { loc, .. } | Instr::Sync { obj: loc, .. } = instr
                && !std::mem::replace(&mut seen[loc.index()], true)
            {
                rmw_threads[loc.index()] += 1;
            }
        }
    }
    let pairs = order::revisit_pairs(program, &order::thread_order(program));
    let name = |l: usize| &program.locs[l].name;
    if let Some(l) = (0..locs).find(|&l| rmw_threads[l] >= RMW_THREADS_FOR_STATES) {
        let what = match program.locs[l].kind {
            LocKind::Mutex => "Lock and Unlock of",
            LocKind::WaitGroup => "Add and Done of",
            _ => "read-modify-writes on",
        };
        return Some(format!("{what} {} in {} threads", name(l), rmw_threads[l]));
    }
    (0..locs)
        .find(|&l| pairs[l] >= REVISIT_PAIRS_FOR_STATES)
        .map(|l| {
            format!(
                "{} pairs of a read of {} and a later write to it",
                pairs[l],
                name(l)
            )
        })
}

/// Whether some thread of `program` has a loop.
fn has_loops(program: &Program) -> bool {
    program.threads.iter().any(loops)
}

/// Whether `thread` can jump backwards (has a loop).
fn loops(thread: &Thread) -> bool {
    thread
        .code
        .iter()
        .enumerate()
        .any(|(pc, i)| matches!(i, Instr::Goto { target, .. } if *target <= pc))
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
/// ([`unsupported`] is `None`), unrolling loops `unroll` times and keeping
/// a witness per outcome if `witnesses`, on every thread of rayon's pool
/// (what `-j` sets). Under the `go` model, the
/// reason the state-space engine must explore it instead, if it must.
pub(crate) fn explore(
    program: &Program,
    model: &Model,
    limits: Limits,
    (unroll, witnesses): (u32, bool),
    cancel: Option<&AtomicBool>,
    progress: &mut Option<&mut dyn FnMut(&Progress)>,
) -> Result<Found, &'static str> {
    let axioms =
        axioms_exploring(model).expect("invariant: the caller checked the model is supported");
    let workers = rayon::current_num_threads().max(1);
    // Under go one race settles it: the state-space engine takes over.
    let go = model.kind == ModelKind::Go;
    let recording = (go, witnesses);
    let mut searched = search::search(
        program, axioms, unroll, workers, limits, cancel, recording, progress,
    );
    // Which graphs workers reach before a limit depends on their timing; the
    // same search on one worker stops at the same graph every time, so the
    // output stays the same for any number of threads. (Under go a limit
    // hands the program over whatever the workers found: see below.)
    if workers > 1 && !go && matches!(searched.completeness, Completeness::Truncated(_)) {
        searched = search::search(
            program, axioms, unroll, 1, limits, cancel, recording, progress,
        );
    }
    let completeness = match searched.completeness {
        Completeness::Exhaustive if searched.stats.cut > 0 => {
            Completeness::Truncated(Limit::Unroll(unroll))
        }
        other => other,
    };
    let (mut outcomes, races) = searched.collector.finish();
    if go {
        // A race, or a limit before the search could show there is none
        // (which of the two comes first depends on the workers' timing, so
        // both give the same answer).
        let limited = matches!(
            completeness,
            Completeness::Truncated(Limit::States(_) | Limit::Memory(_))
        );
        if !races.is_empty() || limited {
            return Err(RACY_UNDER_GO);
        }
        if !drf::translate_witnesses(program, &mut outcomes) {
            debug_assert!(false, "race-free sc witnesses replay on the go machine");
            return Err(UNTRANSLATED_UNDER_GO);
        }
    }
    Ok(Found {
        outcomes,
        races,
        stats: searched.stats,
        memory: searched.memory,
        completeness,
    })
}

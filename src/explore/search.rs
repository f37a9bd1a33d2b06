//! Exhaustive stateful search: a breadth-first walk of the machine's state
//! graph with a visited set, so each distinct state is expanded once however
//! many interleavings reach it, and each state's discovery path (its witness)
//! is a shortest one.
//!
//! The search goes layer by layer. A slice of the current layer's states is
//! expanded in parallel (each worker decodes a state, takes every enabled step,
//! encodes and hashes each successor and looks it up among the states stored
//! so far), then the results are merged into the visited set on one thread,
//! in the order of the states and of their steps. Ids, parents, edges and races therefore come out the same whatever
//! the number of threads: the output is byte-identical on 1 core or many.
//!
//! The search records the whole state graph compactly (successor ids per state
//! and one discovery parent per state) because the analyses that follow need it:
//! counting executions per outcome, finding states from which no execution can
//! terminate, and rebuilding a witness path to any state.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use indexmap::IndexMap;
use rayon::prelude::*;
use rustc_hash::FxBuildHasher;

use super::{Completeness, Limit, Limits, Progress};
use crate::model::machine::Machine;
use crate::trace::{Step, Trace};

pub(crate) use super::store::StateId;
use super::store::StateStore;

/// How often (in discovered states) the search reports progress.
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

/// Frontier states expanded per parallel round: bounds the memory held by
/// successors waiting to be merged.
const ROUND: usize = 1 << 14;

/// The fewest frontier states a worker takes at once: fewer cost more in
/// scheduling than they save.
const MIN_CHUNK: usize = 64;

/// The successors of a run of frontier states, computed by one worker.
#[derive(Default)]
struct Batch {
    /// Each expanded state and the end of its successors in `succs`.
    states: Vec<(StateId, usize)>,
    /// Each successor: the step, the end of its encoding in `bytes`, its
    /// hash, and its id if it was stored before this round.
    succs: Vec<(Step, usize, u64, Option<StateId>)>,
    /// The successors' encodings, back to back.
    bytes: Vec<u8>,
    /// Races found, with the index in `succs` of the step that found each.
    races: Vec<(usize, RaceKey)>,
}

/// Expands `ids` into `batch` (emptied first: batches are reused from round
/// to round, so their memory is allocated once); `current` and `scratch` are
/// reusable buffers.
fn expand(
    machine: &Machine<'_>,
    states: &StateStore,
    ids: &[StateId],
    (current, scratch): &mut (Vec<crate::ir::Val>, Vec<crate::ir::Val>),
    batch: &mut Batch,
) {
    batch.states.clear();
    batch.succs.clear();
    batch.bytes.clear();
    batch.races.clear();
    for &id in ids {
        states.get_into(id, current);
        machine.successors(current, scratch, |step, effect, race, next| {
            if let (Some(race), Some(pc)) = (race, effect.pc()) {
                let thread = step
                    .thread()
                    .expect("invariant: races come from thread steps");
                for &(earlier, earlier_pc) in &race.earlier {
                    let key = RaceKey {
                        loc: race.loc,
                        earlier,
                        earlier_pc,
                        thread,
                        pc,
                    };
                    batch.races.push((batch.succs.len(), key));
                }
            }
            let start = batch.bytes.len();
            super::store::encode(next, &mut batch.bytes);
            let encoded = &batch.bytes[start..];
            let hash = states.hash(encoded);
            let known = states.find(hash, encoded);
            batch.succs.push((step, batch.bytes.len(), hash, known));
        });
        batch.states.push((id, batch.succs.len()));
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
    let mut memory = graph.states.encoded_bytes() + STATE_OVERHEAD;
    let max_states = limits.max_states.max(1);
    let mut frontier: Vec<StateId> = vec![0];
    let mut batches: Vec<Batch> = Vec::new();
    let mut depth = 0;
    let mut last_report = 0;
    while !frontier.is_empty() {
        let mut next_layer = Vec::new();
        for round in frontier.chunks(ROUND) {
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                return (graph, Completeness::Interrupted);
            }
            let chunk = round
                .len()
                .div_ceil(4 * rayon::current_num_threads())
                .max(MIN_CHUNK);
            let chunks = round.len().div_ceil(chunk);
            if batches.len() < chunks {
                batches.resize_with(chunks, Batch::default);
            }
            round
                .par_chunks(chunk)
                .zip(batches[..chunks].par_iter_mut())
                .for_each_init(Default::default, |buffers, (ids, batch)| {
                    expand(machine, &graph.states, ids, buffers, batch)
                });
            for batch in &batches[..chunks] {
                if let Some(limit) = merge(
                    &mut graph,
                    batch,
                    &mut next_layer,
                    &mut memory,
                    (max_states, limits.max_memory),
                ) {
                    return (graph, Completeness::Truncated(limit));
                }
            }
            if let Some(report) = progress
                && graph.len() - last_report >= CHECK_INTERVAL
            {
                last_report = graph.len();
                report(&Progress {
                    states: graph.len(),
                    transitions: graph.edges.len(),
                    pending: next_layer.len() + frontier.len(),
                    depth,
                    elapsed: started.elapsed(),
                });
            }
        }
        frontier = next_layer;
        depth += 1;
    }
    (graph, Completeness::Exhaustive)
}

/// Merges a batch into the graph, in order: new successors get the next ids
/// and join `next_layer`. Returns the limit reached, if one was; the state
/// being merged then stays unexpanded.
fn merge(
    graph: &mut StateGraph,
    batch: &Batch,
    next_layer: &mut Vec<StateId>,
    memory: &mut usize,
    (max_states, max_memory): (usize, usize),
) -> Option<Limit> {
    let mut races = batch.races.iter().peekable();
    let (mut succ, mut byte) = (0, 0);
    for &(id, succ_end) in &batch.states {
        let start = graph.edges.len();
        for &(step, byte_end, hash, known) in &batch.succs[succ..succ_end] {
            while let Some((_, key)) = races.next_if(|(i, _)| *i == succ) {
                graph.races.entry(*key).or_insert((id, step));
            }
            let encoded = &batch.bytes[byte..byte_end];
            // A state unknown before the round may have been stored since.
            let found = known.or_else(|| graph.states.find(hash, encoded));
            let target = match found {
                Some(i) => i,
                None if graph.states.len() >= max_states => {
                    graph.edges.truncate(start);
                    return Some(Limit::States(max_states));
                }
                None if *memory + encoded.len() + STATE_OVERHEAD > max_memory
                    || graph.edges.len() >= MAX_EDGES =>
                {
                    graph.edges.truncate(start);
                    return Some(Limit::Memory(max_memory));
                }
                None => {
                    *memory += encoded.len() + STATE_OVERHEAD;
                    let i = graph.states.insert_encoded(hash, encoded);
                    graph.parent.push((id, step));
                    graph.successors.push(None);
                    next_layer.push(i);
                    i
                }
            };
            graph.edges.push(target);
            *memory += size_of::<StateId>();
            succ += 1;
            byte = byte_end;
        }
        let len = graph.edges.len() - start;
        graph.successors[id as usize] = Some((start as u32, len as u32));
    }
    None
}

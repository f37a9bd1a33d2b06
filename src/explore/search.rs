//! Exhaustive stateful search: a breadth-first walk of the machine's state
//! graph with a visited set, so each distinct state is expanded once however
//! many interleavings reach it, and each state's discovery path (its witness)
//! is a shortest one.
//!
//! The search goes layer by layer, each layer in rounds. A round of the
//! current layer's states is expanded in parallel (each worker decodes a
//! state, takes every enabled step, encodes and hashes each successor and
//! looks it up among the frozen states of the earlier layers), and its
//! results are merged into the visited set on one thread, in the order of the
//! states and of their steps, while the next round is expanded. Ids, parents, edges and races therefore come out the same whatever
//! the number of threads: the output is byte-identical on 1 core or many.
//! When the machine's state graph is graded ([`Machine::graded`]), no
//! successor lies in an earlier layer, and the visited set indexes only the
//! layer being merged ([`StateStore::layered`]).
//!
//! The search records the whole state graph compactly (successor ids per state
//! and one discovery parent per state) because the analyses that follow need it:
//! counting executions per outcome, finding states from which no execution can
//! terminate, and rebuilding a witness path to any state. A graded machine's
//! search keeps no successors: it counts the paths to each state as its
//! layer is merged, and no state of its graph is kept from terminating
//! ([`Transitions::Counted`]).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use indexmap::IndexMap;
use rayon::prelude::*;
use rustc_hash::{FxBuildHasher, FxHashMap, FxHashSet};

use super::{Completeness, Limit, Limits, Progress};
use crate::ir::{ThreadId, Val};
use crate::model::machine::Machine;
use crate::model::symmetry::Symmetry;
use crate::trace::{Step, Trace};

pub(crate) use super::store::StateId;
use super::store::{Part, StateStore};

/// How often (in discovered states) the search reports progress.
const CHECK_INTERVAL: usize = 1 << 12;

/// Edge offsets are stored as `u32`; a graph this large is treated like hitting
/// the memory limit.
const MAX_EDGES: usize = u32::MAX as usize;

/// Estimated bytes per visited state besides its encoding: its end offset
/// (8), the hash table slot ([`TABLE_SLOT`]), the parent link (8) and the
/// end of its successors (4).
const STATE_OVERHEAD: usize = 20 + TABLE_SLOT;

/// Estimated bytes of a state's hash table slot (8 bytes a slot, the table
/// between half and seven eighths full); a layered store
/// ([`StateStore::layered`]) gives them back when the state's layer is done.
const TABLE_SLOT: usize = 10;

/// The explored part of the state graph.
#[derive(Debug)]
pub(crate) struct StateGraph {
    /// Every discovered state, by id.
    pub states: StateStore,
    /// For each state but the initial one: the state it was discovered from and
    /// the step taken, as its place among that state's steps in the order
    /// [`Machine::successors`] lists them (4 bytes where the step itself
    /// takes 12). Entry 0 is a placeholder.
    pub parent: Vec<(StateId, u32)>,
    /// For each expanded state, by id, the number of transitions taken from
    /// it and the states before it: the end of its successors when
    /// [`Transitions::Kept`] (they start where the previous state's end).
    /// States are expanded in the order of their ids; those from
    /// `edge_ends.len()` on never were (the search stopped first).
    pub edge_ends: Vec<u32>,
    /// What is kept of the transitions.
    pub transitions: Transitions,
    /// For each distinct race found (variable, earlier thread, racing thread and
    /// instruction), the first transition that found it: its source state and step.
    pub races: IndexMap<RaceKey, (StateId, Step), FxBuildHasher>,
    /// Estimated bytes of the visited states and this graph: what
    /// `--max-memory` bounds.
    pub memory: usize,
    /// The interchangeable threads, when the states are stored in canonical
    /// form ([`Symmetry`]): each state then stands for its class, the
    /// transitions of a state go to the classes of its successors, and path
    /// counts are the paths to any state of the class.
    pub symmetry: Option<Symmetry>,
    /// Whether some expanded state had an enabled step the machine's
    /// partial-order reduction left out ([`Machine::successors`]): only then
    /// do the graph's paths differ from the machine's executions.
    pub left_out: bool,
    /// The discovery step into each state a witness walk has passed, found
    /// once by listing its parent's steps: witnesses of many outcomes share
    /// most of their paths (`sb 10` under tso: 1,024 witnesses of about 30
    /// steps through 4,103 states).
    steps_into: Mutex<FxHashMap<StateId, Step>>,
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

/// What the state graph keeps of its transitions besides their number.
#[derive(Debug)]
pub(crate) enum Transitions {
    /// Every transition's target, grouped per expanded state.
    Kept(Vec<StateId>),
    /// For a graded machine ([`Machine::graded`]): only the number of paths
    /// to each dead end, counted as the layers are merged.
    Counted(LayerPaths),
}

/// Paths from the initial state, counted layer by layer. In a graded state
/// graph every transition goes from one layer to the next, so the paths to
/// the states of a layer are all counted once the layer before is merged,
/// and only two layers' counts are held at a time (saturating, like
/// [`crate::explore::analysis::path_counts`]).
#[derive(Debug)]
pub(crate) struct LayerPaths {
    /// The first id of the layer being expanded, and the paths to each of
    /// its states.
    current: (StateId, Vec<u128>),
    /// The same for the next layer, summed as its states are reached.
    next: (StateId, Vec<u128>),
    /// Each dead end, in the order of ids, with the paths to it.
    pub dead_ends: Vec<(StateId, u128)>,
}

impl LayerPaths {
    /// Counts, before the initial state (id 0, one path) is frozen.
    fn new() -> Self {
        LayerPaths {
            current: (0, Vec::new()),
            next: (0, vec![1]),
            dead_ends: Vec::new(),
        }
    }

    fn paths_to_current(&self, id: StateId) -> u128 {
        self.current.1[(id - self.current.0) as usize]
    }

    /// Adds the paths to `from`, of the layer being expanded, to those to
    /// `to`, of the next layer (new if it is the next one's newest id).
    fn add(&mut self, from: StateId, to: StateId) {
        let paths = self.paths_to_current(from);
        let (first, next) = &mut self.next;
        let i = (to - *first) as usize;
        if i == next.len() {
            next.push(0);
        }
        next[i] = next[i].saturating_add(paths);
    }

    /// The next layer becomes the one expanded; `first` is the id of the
    /// layer after it.
    fn freeze(&mut self, first: StateId) {
        self.current = std::mem::replace(&mut self.next, (first, Vec::new()));
    }
}

impl Transitions {
    /// Records a transition from state `from` to state `to`.
    fn push(&mut self, from: StateId, to: StateId) {
        match self {
            Transitions::Kept(edges) => edges.push(to),
            Transitions::Counted(paths) => paths.add(from, to),
        }
    }

    /// Records that state `id` was expanded, with `steps` transitions.
    fn expanded(&mut self, id: StateId, steps: usize) {
        if let Transitions::Counted(paths) = self
            && steps == 0
        {
            let count = paths.paths_to_current(id);
            paths.dead_ends.push((id, count));
        }
    }

    /// Forgets the transitions from the `len`-th on.
    fn truncate(&mut self, len: usize) {
        if let Transitions::Kept(edges) = self {
            edges.truncate(len);
        }
    }
}

impl RaceKey {
    /// The key in one number, distinct for distinct keys (16 bits each for
    /// the variable and the threads, 32 for each pc, as [`Step::Exec`]'s):
    /// cheaper to hash and compare than its fields.
    fn packed(&self) -> u128 {
        let pc = |pc: usize| u128::from(u32::try_from(pc).expect("invariant: pcs fit 32 bits"));
        u128::from(self.loc.0)
            | u128::from(self.earlier.0) << 16
            | u128::from(self.thread.0) << 32
            | pc(self.earlier_pc) << 48
            | pc(self.pc) << 80
    }
}

impl StateGraph {
    /// The successor ids of a state (none if it was not expanded). Only a
    /// graph that keeps its transitions has them.
    pub fn successors_of(&self, id: StateId) -> &[StateId] {
        match self.edge_ends.get(id as usize) {
            Some(&end) => &self.edges()[self.edges_before(id) as usize..end as usize],
            None => &[],
        }
    }

    /// Every transition's target, grouped per expanded state. Only a graph
    /// that keeps its transitions has them.
    pub fn edges(&self) -> &[StateId] {
        match &self.transitions {
            Transitions::Kept(edges) => edges,
            Transitions::Counted(_) => {
                panic!("invariant: transitions are asked of a graph that keeps them")
            }
        }
    }

    /// The number of transitions taken from the states before `id`.
    fn edges_before(&self, id: StateId) -> u32 {
        (id as usize)
            .checked_sub(1)
            .map_or(0, |i| self.edge_ends[i])
    }

    /// The number of transitions taken.
    pub fn transition_count(&self) -> usize {
        self.edge_ends.last().map_or(0, |&end| end as usize)
    }

    /// Whether the graph keeps its transitions (it is not
    /// [`Transitions::Counted`]).
    pub fn keeps_transitions(&self) -> bool {
        matches!(self.transitions, Transitions::Kept(_))
    }

    /// The id of `next`, a successor of state `id` (none if `id` was not
    /// expanded).
    pub fn successor(&self, id: StateId, next: &[crate::ir::Val]) -> Option<StateId> {
        let mut state = Vec::new();
        self.successors_of(id).iter().copied().find(|&succ| {
            self.states.get_into(succ, &mut state);
            state == next
        })
    }

    /// Whether the state was expanded and has no step: it is final, blocked
    /// or panicked.
    pub fn is_dead_end(&self, id: StateId) -> bool {
        self.edge_ends
            .get(id as usize)
            .is_some_and(|&end| end == self.edges_before(id))
    }

    /// The steps from the initial state to `id` along discovery parents
    /// (under symmetry, to a state of `id`'s class).
    pub fn path_to(&self, machine: &Machine<'_>, id: StateId) -> Trace {
        self.walk_to(machine, id).0
    }

    /// The steps from the initial state to a state of `id`'s class along
    /// discovery parents, each found again by listing its state's steps (once
    /// per state: later walks through it reuse the step); the
    /// state reached; and where `id`'s threads are in it: thread `j` of `id`
    /// is thread `at[j]` of the state reached. Without symmetry the state is
    /// `id` and `at` is the identity.
    pub fn walk_to(&self, machine: &Machine<'_>, id: StateId) -> (Trace, Vec<Val>, Vec<usize>) {
        let mut chain = Vec::new();
        let mut child = id;
        while child != 0 {
            let (parent, nth) = self.parent[child as usize];
            chain.push((parent, nth, child));
            child = parent;
        }
        chain.reverse();
        let mut at: Vec<usize> = (0..machine.core.program.threads.len()).collect();
        let step_into = |(parent, nth, child): (StateId, u32, StateId)| {
            *(self.steps_into.lock().expect("unpoisoned"))
                .entry(child)
                .or_insert_with(|| machine.nth_step(&self.states.get(parent), nth as usize))
        };
        let Some(symmetry) = &self.symmetry else {
            let steps = chain.into_iter().map(step_into).collect();
            return (Trace { steps }, self.states.get(id), at);
        };
        // Each step is listed for a canonical state; the walk takes it in the
        // state it has reached, renamed.
        let (mut state, mut steps) = (self.states.get(0), Vec::new());
        let mut canonical = Vec::new();
        for (parent, nth, child) in chain {
            let step = step_into((parent, nth, child)).renamed(|t| ThreadId(at[t.index()] as u16));
            state = machine
                .apply(&state, step)
                .expect("invariant: a step renamed with its state is enabled")
                .1;
            symmetry.canonical(&machine.core.layout, &state, &mut at, &mut canonical);
            debug_assert_eq!(
                canonical,
                self.states.get(child),
                "invariant: the walk stays in the class of the discovery path's states"
            );
            steps.push(step);
        }
        (Trace { steps }, state, at)
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// Freezes the `states` states of the layer just merged; a layered store
    /// gives their table slots back.
    fn freeze_layer(&mut self, states: usize) {
        self.states.freeze();
        if self.states.is_layered() {
            self.memory -= TABLE_SLOT * states;
        }
        if let Transitions::Counted(paths) = &mut self.transitions {
            paths.freeze(self.states.len() as StateId);
        }
    }
}

/// Frontier states expanded per parallel round: bounds the memory held by
/// successors waiting to be merged.
const ROUND: usize = 1 << 14;

/// The fewest frontier states a worker takes at once: fewer cost more in
/// scheduling than they save.
const MIN_CHUNK: usize = 64;

/// Rounds smaller than this are expanded and merged on the calling thread:
/// handing work to other threads costs microseconds, more than small rounds
/// take (most litmus tests have a few dozen states per layer).
const PARALLEL_MIN: usize = 256;

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
    /// Races found, with the index in `succs` of the step that found each:
    /// only the first step of the batch finding each, the one the merge keeps.
    races: Vec<(usize, RaceKey)>,
    /// The races in `races`, packed ([`RaceKey::packed`]).
    found: FxHashSet<u128>,
    /// Whether an expanded state had an enabled step left out.
    left_out: bool,
}

/// A worker's reusable buffers: the state expanded, its successor, and the
/// successor's canonical form with where its threads come from.
#[derive(Default)]
struct Buffers {
    current: Vec<Val>,
    next: Vec<Val>,
    canonical: Vec<Val>,
    from: Vec<usize>,
}

/// Expands `ids` into `batch` (emptied first: batches are reused from round
/// to round, so their memory is allocated once), storing successors in
/// canonical form under `symmetry`.
fn expand(
    machine: &Machine<'_>,
    (states, symmetry): (&Part, Option<&Symmetry>),
    ids: &[StateId],
    buffers: &mut Buffers,
    batch: &mut Batch,
) {
    batch.states.clear();
    batch.succs.clear();
    batch.bytes.clear();
    batch.races.clear();
    batch.found.clear();
    batch.left_out = false;
    let Buffers {
        current,
        next: scratch,
        canonical,
        from,
    } = buffers;
    for &id in ids {
        states.get_into(id, current);
        batch.left_out |= machine.successors(current, scratch, |step, effect, race, next| {
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
                    if batch.found.insert(key.packed()) {
                        batch.races.push((batch.succs.len(), key));
                    }
                }
            }
            let layout = &machine.core.layout;
            let next = match symmetry {
                Some(symmetry)
                    if step.thread().is_some_and(|moved| {
                        symmetry.canonical_order_after(layout, next, moved, from)
                    }) =>
                {
                    symmetry.rename(layout, next, from, canonical);
                    canonical.as_slice()
                }
                _ => next,
            };
            let start = batch.bytes.len();
            super::store::encode(next, &mut batch.bytes);
            let encoded = &batch.bytes[start..];
            let hash = StateStore::hash(encoded);
            let known = states.find(hash, encoded);
            batch.succs.push((step, batch.bytes.len(), hash, known));
        });
        batch.states.push((id, batch.succs.len()));
    }
}

/// Expands one round of frontier states (all frozen) into `batches`, by
/// every core; returns how many batches it filled.
fn expand_round(
    machine: &Machine<'_>,
    frozen: (&Part, Option<&Symmetry>),
    round: &[StateId],
    batches: &mut Vec<Batch>,
) -> usize {
    let chunk = round
        .len()
        .div_ceil(4 * rayon::current_num_threads())
        .max(MIN_CHUNK);
    let chunks = round.len().div_ceil(chunk);
    if batches.len() < chunks {
        batches.resize_with(chunks, Batch::default);
    }
    if round.len() < PARALLEL_MIN {
        let mut buffers = Default::default();
        for (ids, batch) in round.chunks(chunk).zip(&mut batches[..chunks]) {
            expand(machine, frozen, ids, &mut buffers, batch);
        }
    } else {
        round
            .par_chunks(chunk)
            .zip(batches[..chunks].par_iter_mut())
            .for_each_init(Default::default, |buffers, (ids, batch)| {
                expand(machine, frozen, ids, buffers, batch)
            });
    }
    chunks
}

/// Explores every state reachable from the initial state, within the limits;
/// under `symmetry`, every class of states, each stored in canonical form.
///
/// Within a layer, round `i` is expanded while round `i - 1` is merged: the
/// expansion reads only the frozen states (the layers before), the merge
/// adds to the recent ones, and the layer's states are frozen when its last
/// round is merged.
pub(crate) fn search(
    machine: &Machine<'_>,
    symmetry: Option<Symmetry>,
    limits: Limits,
    cancel: Option<&AtomicBool>,
    progress: &mut Option<&mut dyn FnMut(&Progress)>,
) -> (StateGraph, Completeness) {
    let started = Instant::now();
    let graded = machine.graded();
    let mut graph = StateGraph {
        states: if graded {
            StateStore::layered()
        } else {
            StateStore::default()
        },
        parent: vec![(0, 0)],
        edge_ends: Vec::new(),
        transitions: if graded {
            Transitions::Counted(LayerPaths::new())
        } else {
            Transitions::Kept(Vec::new())
        },
        races: IndexMap::with_hasher(FxBuildHasher),
        memory: 0,
        symmetry,
        left_out: false,
        steps_into: Mutex::default(),
    };
    let initial = machine.initial_state();
    debug_assert!(
        graph.symmetry.as_ref().is_none_or(|symmetry| {
            let mut canonical = Vec::new();
            symmetry.canonical(
                &machine.core.layout,
                &initial,
                &mut Vec::new(),
                &mut canonical,
            );
            canonical == initial
        }),
        "invariant: the initial state is canonical"
    );
    graph.states.insert(&initial);
    graph.memory = graph.states.encoded_bytes() + STATE_OVERHEAD;
    graph.freeze_layer(1);
    let bounds = (limits.max_states.max(1), limits.max_memory);
    let mut frontier: Vec<StateId> = vec![0];
    // Batches expanded and waiting to be merged, and batches to expand into.
    let (mut ready, mut spare): (Vec<Batch>, Vec<Batch>) = (Vec::new(), Vec::new());
    let mut depth = 0;
    let mut last_report = 0;
    while !frontier.is_empty() {
        let mut next_layer = Vec::new();
        let rounds: Vec<&[StateId]> = frontier.chunks(ROUND).collect();
        let (mut ready_len, mut expanded_in_layer) = (0, 0);
        for i in 0..=rounds.len() {
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                return (graph, Completeness::Interrupted);
            }
            let StateGraph {
                states,
                parent,
                edge_ends,
                transitions,
                races,
                memory,
                symmetry,
                left_out,
                steps_into: _,
            } = &mut graph;
            let (frozen, recent) = states.parts();
            let mut sink = Sink {
                recent,
                parent,
                edge_ends,
                transitions,
                races,
                next_layer: &mut next_layer,
                memory,
                left_out,
            };
            let to_merge = &ready[..ready_len];
            let mut merge = || {
                to_merge
                    .iter()
                    .try_for_each(|batch| sink.merge(batch, bounds))
            };
            let round = rounds.get(i).copied().unwrap_or_default();
            let mut expand = || match round {
                [] => 0,
                round => expand_round(machine, (frozen, symmetry.as_ref()), round, &mut spare),
            };
            let (merged, expanded) = if round.len() < PARALLEL_MIN {
                (merge(), expand())
            } else {
                rayon::join(merge, expand)
            };
            if let Err(limit) = merged {
                return (graph, Completeness::Truncated(limit));
            }
            std::mem::swap(&mut ready, &mut spare);
            ready_len = expanded;
            expanded_in_layer += rounds.get(i).map_or(0, |round| round.len());
            if let Some(report) = progress
                && graph.len() - last_report >= CHECK_INTERVAL
            {
                last_report = graph.len();
                report(&Progress {
                    states: graph.len(),
                    transitions: graph.transition_count(),
                    pending: next_layer.len() + frontier.len() - expanded_in_layer,
                    depth,
                    elapsed: started.elapsed(),
                });
            }
        }
        graph.freeze_layer(next_layer.len());
        frontier = next_layer;
        depth += 1;
    }
    (graph, Completeness::Exhaustive)
}

/// What a merge adds to: the recent states, the graph's other parts, the
/// next layer and the memory estimate.
struct Sink<'g> {
    recent: &'g mut Part,
    parent: &'g mut Vec<(StateId, u32)>,
    edge_ends: &'g mut Vec<u32>,
    transitions: &'g mut Transitions,
    races: &'g mut IndexMap<RaceKey, (StateId, Step), FxBuildHasher>,
    next_layer: &'g mut Vec<StateId>,
    memory: &'g mut usize,
    left_out: &'g mut bool,
}

impl Sink<'_> {
    /// Merges a batch, in order: new successors get the next ids and join the
    /// next layer. Returns the limit reached, if one was; the state being
    /// merged then stays unexpanded.
    fn merge(
        &mut self,
        batch: &Batch,
        (max_states, max_memory): (usize, usize),
    ) -> Result<(), Limit> {
        *self.left_out |= batch.left_out;
        let mut races = batch.races.iter().peekable();
        let (mut succ, mut byte) = (0, 0);
        for &(id, succ_end) in &batch.states {
            let start = self.edge_ends.last().map_or(0, |&end| end as usize);
            let mut taken = start;
            for (nth, &(step, byte_end, hash, known)) in
                batch.succs[succ..succ_end].iter().enumerate()
            {
                while let Some((_, key)) = races.next_if(|(i, _)| *i == succ) {
                    self.races.entry(*key).or_insert((id, step));
                }
                let encoded = &batch.bytes[byte..byte_end];
                // Not frozen: it may have been found earlier in this layer.
                let found = known.or_else(|| self.recent.find(hash, encoded));
                if taken >= MAX_EDGES {
                    self.transitions.truncate(start);
                    return Err(Limit::Memory(max_memory));
                }
                let target = match found {
                    Some(i) => i,
                    None if self.recent.next_id() >= max_states => {
                        self.transitions.truncate(start);
                        return Err(Limit::States(max_states));
                    }
                    None if *self.memory + encoded.len() + STATE_OVERHEAD > max_memory => {
                        self.transitions.truncate(start);
                        return Err(Limit::Memory(max_memory));
                    }
                    None => {
                        *self.memory += encoded.len() + STATE_OVERHEAD;
                        let i = self.recent.insert_encoded(hash, encoded);
                        self.parent.push((id, nth as u32));
                        self.next_layer.push(i);
                        i
                    }
                };
                self.transitions.push(id, target);
                if let Transitions::Kept(_) = self.transitions {
                    *self.memory += size_of::<StateId>();
                }
                taken += 1;
                succ += 1;
                byte = byte_end;
            }
            debug_assert_eq!(
                self.edge_ends.len(),
                id as usize,
                "invariant: states are expanded in the order of their ids"
            );
            self.transitions.expanded(id, taken - start);
            self.edge_ends.push(taken as u32);
        }
        Ok(())
    }
}

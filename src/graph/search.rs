//! The search over execution graphs (TruSt's exploration, Kokologiannakis,
//! Marmanis, Gladstein, Vafeiadis, "Truly Stateless, Optimal Dynamic Partial
//! Order Reduction", POPL 2022, with coherence left lazy).
//!
//! A graph grows one event at a time, always in the first thread that has
//! not finished, in an order of the threads that puts writes before the
//! reads of their variable where it can ([`order::thread_order`]). A read
//! (or read-modify-write) branches over every write of its variable already
//! in the graph and the initial value. A write also *revisits* every earlier
//! read of its variable outside its po ∪ rf prefix: the read is made to read
//! the new write and the events that could depend on its old value are
//! dropped ([`Execution::revisit`]). When every
//! thread has finished, the final observer reads each written variable,
//! choosing among the writes that can be last. A thread blocked at a `Lock`
//! or stopped by a panicking `Unlock` counts as finished: a later write may
//! still revisit that event and let the thread go on, and a complete graph
//! with such threads ends blocked or panics ([`Collector`]) instead of
//! being observed. Each graph travels with its
//! [`Consistency`] derivation, extended by every new event; a graph whose
//! derivation finds a cycle is dropped with everything it would grow into (a
//! prefix of a consistent graph is consistent), and a complete graph is kept
//! when [`Consistency::solve`] finds a coherence order.
//!
//! Instead of TruSt's maximality condition, which makes every revisited
//! graph come from exactly one graph, a set of grown graphs skips a repeated
//! one, and a set of complete executions counts any execution reached twice
//! as a duplicate. The first set holds every graph a revisit produced, and
//! every graph whose newest event reads a variable that read-modify-writes
//! access: revisits repairing atomicity (a read-modify-write reading a write
//! another one claims) move events and reach graphs the forward search also
//! reaches (`ainc 8`: 219,137 graphs and 69,273 duplicate executions without
//! them, 109,594 and none with them), which no other program measured does.
//!
//! Subtrees are independent, so every core explores: the first graphs are
//! grown breadth-first until there are enough to share, then each worker
//! grows one at a time depth-first. The two sets are shared, so each graph is
//! still grown once, whoever reaches it; counters, outcomes and the choice of
//! witnesses ([`Collector`]) do not depend on the number of workers. Which
//! graphs a search stopped by a limit has visited does, so
//! [`crate::graph::explore`] runs such a search again on one worker.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rustc_hash::FxHashSet;
use smallvec::SmallVec;

use crate::explore::{Completeness, Limit, Limits, Progress};
use crate::ir::{Instr, LocKind, Program, SyncOp};
use crate::varint;

use super::axioms::{Axioms, Consistency};
use super::collect::Collector;
use super::execution::{Execution, Kind, Pos, read_loc};
use super::order;
use super::thread::Status;

/// How often (in graphs) a worker checks the limits and cancellation, and the
/// calling thread reports progress.
const POLL_EVERY: usize = 1024;

/// Events from which every graph is a time to check the limits.
const POLL_EVENTS: usize = 256;

/// Graphs handed out to each worker, at least, before the parallel phase.
const SHARES_PER_WORKER: usize = 32;

/// What the search did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct GraphStats {
    /// Distinct consistent complete executions found.
    pub explored: usize,
    /// Graphs dropped as inconsistent (partial or complete).
    pub blocked: usize,
    /// Complete executions reached again after the first time.
    pub duplicates: usize,
    /// Executions abandoned because a thread exceeded the loop unrolling bound.
    pub cut: usize,
    /// Graphs visited (partial and complete).
    pub graphs: usize,
    /// Events added (forward steps and revisits).
    pub events: usize,
}

impl GraphStats {
    fn add(&mut self, other: &GraphStats) {
        self.explored += other.explored;
        self.blocked += other.blocked;
        self.duplicates += other.duplicates;
        self.cut += other.cut;
        self.graphs += other.graphs;
        self.events += other.events;
    }
}

/// A graph waiting to be grown, with its derivation and the derivations
/// kept before its reads ([`Snapshots`]).
struct Node {
    graph: Execution,
    derived: Consistency,
    before: Snapshots,
}

impl Node {
    fn new(graph: Execution, derived: Consistency, before: Snapshots) -> Node {
        Node {
            graph,
            derived,
            before,
        }
    }
}

/// The derivation of the events before position `at`, where a read that a
/// write may still revisit was added since they last changed, by growing
/// the graph or by the revisit that rebuilt it (a revisit of the read
/// rebuilds from it instead of from nothing), with the same for earlier
/// positions.
struct Snapshot {
    at: Pos,
    derived: Consistency,
    older: Snapshots,
}

/// A graph's [`Snapshot`]s, newest first. A graph's children share them: a
/// persistent list costs one reference count per child, where a vector of
/// them cost one per read.
#[derive(Clone, Default)]
struct Snapshots(Option<Arc<Snapshot>>);

impl Drop for Snapshots {
    /// Drops the snapshots no other list shares one by one: a recursive
    /// drop of a list as long as a graph could overflow the stack.
    fn drop(&mut self) {
        let mut older = self.0.take();
        while let Some(snapshot) = older {
            match Arc::try_unwrap(snapshot) {
                Ok(mut unshared) => older = unshared.older.0.take(),
                Err(_) => break,
            }
        }
    }
}

impl Snapshots {
    /// Keeps `derived` as the derivation before the read at `at`, newer
    /// than every snapshot kept; returns it, shared with the list.
    fn push(&mut self, at: Pos, derived: Consistency) -> Arc<Snapshot> {
        let older = Snapshots(self.0.take());
        let snapshot = Arc::new(Snapshot { at, derived, older });
        self.0 = Some(Arc::clone(&snapshot));
        snapshot
    }

    /// The position of the newest snapshot, if there is one.
    fn newest_at(&self) -> Option<Pos> {
        self.0.as_ref().map(|s| s.at)
    }

    /// The snapshots, newest first.
    fn iter(&self) -> impl Iterator<Item = &Snapshot> {
        std::iter::successors(self.0.as_deref(), |s| s.older.0.as_deref())
    }

    /// The snapshots at positions up to `pos`.
    fn up_to(&self, pos: Pos) -> Snapshots {
        let mut list = &self.0;
        while let Some(snapshot) = list {
            if snapshot.at <= pos {
                return Snapshots(Some(Arc::clone(snapshot)));
            }
            list = &snapshot.older.0;
        }
        Snapshots(None)
    }

    /// The derivation kept before position `pos`, if one is.
    fn before(&self, pos: Pos) -> Option<&Consistency> {
        self.iter()
            .find(|s| s.at <= pos)
            .filter(|s| s.at == pos)
            .map(|s| &s.derived)
    }
}

/// What the workers share.
struct Shared {
    /// Whether outcomes keep witnesses.
    witnesses: bool,
    /// The order in which threads are grown ([`order::thread_order`]).
    order: Vec<usize>,
    /// The [`Execution::order_key`] of every graph a revisit produced, and
    /// of every graph keeping atomicity whose newest event reads a variable
    /// of `rmw_locs`.
    grown: Mutex<FxHashSet<Box<[u8]>>>,
    /// Which variables read-modify-writes access.
    rmw_locs: Vec<bool>,
    /// For each variable, the most write events of it an execution can
    /// have ([`write_bounds`]): a read of a variable whose writes are all
    /// in the graph cannot be revisited, so only the others keep the
    /// derivation before them.
    write_bounds: Vec<usize>,
    /// Which variables instructions of several threads may write: only those
    /// can end with more than one thread's write ([`Search::final_candidates`]).
    contested: Vec<bool>,
    /// The [`Execution::execution_key`] of every complete execution found,
    /// [`varint::packed`].
    complete: Mutex<FxHashSet<Box<[u8]>>>,
    /// Graphs not yet handed to a worker.
    queue: Mutex<Vec<Node>>,
    /// Graphs visited, for the state limit and progress.
    graphs: AtomicUsize,
    /// Events added, for progress.
    events: AtomicUsize,
    /// Estimated bytes held by the two sets.
    memory: AtomicUsize,
    /// Estimated bytes held by the graphs on the workers' stacks, as last
    /// measured ([`Search::account`]). The memory limit counts them.
    held: AtomicUsize,
    /// The most the sets and the graphs held took at a check of the limit:
    /// the reported memory (on several workers it depends on their timing;
    /// a long spin loop unrolled keeps gigabytes of derivations on the
    /// stack where the sets take megabytes).
    peak: AtomicUsize,
    /// Why the search stopped early, if it did.
    stopped: Mutex<Option<Completeness>>,
    stop: AtomicBool,
}

/// What one exploration found.
#[derive(Debug)]
pub(crate) struct Searched<'p> {
    pub collector: Collector<'p>,
    pub stats: GraphStats,
    pub memory: usize,
    pub completeness: Completeness,
}

/// Explores every execution of `program` under `axioms` on `workers`
/// threads (the calling one included), unrolling loops `unroll` times;
/// with `stop_at_race`, stops (as interrupted) once an execution races; with
/// `witnesses`, keeps a witness per outcome ([`Collector::new`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn search<'p>(
    program: &'p Program,
    axioms: Axioms,
    unroll: u32,
    workers: usize,
    limits: Limits,
    cancel: Option<&AtomicBool>,
    (stop_at_race, witnesses): (bool, bool),
    progress: &mut Option<&mut dyn FnMut(&Progress)>,
) -> Searched<'p> {
    let started = Instant::now();
    let writers = writers(program);
    let shared = Shared {
        witnesses,
        order: order::thread_order(program),
        grown: Mutex::default(),
        rmw_locs: rmw_locs(program),
        write_bounds: write_bounds(program),
        contested: writers.iter().map(|&n| n > 1).collect(),
        complete: Mutex::default(),
        queue: Mutex::default(),
        graphs: AtomicUsize::new(0),
        events: AtomicUsize::new(0),
        memory: AtomicUsize::new(0),
        peak: AtomicUsize::new(0),
        held: AtomicUsize::new(0),
        stopped: Mutex::new(None),
        stop: AtomicBool::new(false),
    };
    let empty = Execution::new(program, unroll);
    let derived = Consistency::of(axioms, &empty).expect("the empty graph is consistent");
    let mut main = Search::new(program, axioms, unroll, &shared, limits, cancel);
    main.stop_at_race = stop_at_race;
    // Breadth-first until there is work for every worker.
    let mut frontier = VecDeque::from([Node::new(empty, derived, Snapshots::default())]);
    let wanted = if workers > 1 {
        workers * SHARES_PER_WORKER
    } else {
        1
    };
    while frontier.len() < wanted
        && let Some(node) = frontier.pop_front()
    {
        if main.poll_due(&node) {
            main.account(frontier.iter().chain([&node]));
        }
        let mut children = Vec::new();
        if main.visit(node, &mut children) {
            frontier.extend(children);
        }
    }
    // The frontier goes to the queue, whose graphs the workers count as
    // they take them.
    main.account(std::iter::empty());
    *shared.queue.lock().expect("unpoisoned") = frontier.into_iter().rev().collect();
    let mut report = |stack: usize| {
        if let Some(report) = progress.as_mut() {
            report(&Progress {
                states: shared.graphs.load(Ordering::Relaxed),
                transitions: shared.events.load(Ordering::Relaxed),
                pending: stack + shared.queue.lock().map_or(0, |q| q.len()),
                depth: 0,
                elapsed: started.elapsed(),
            });
        }
    };
    let others: Vec<Search<'_, 'p>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (1..workers)
            .map(|_| {
                let shared = &shared;
                scope.spawn(move || {
                    let mut worker = Search::new(program, axioms, unroll, shared, limits, cancel);
                    worker.stop_at_race = stop_at_race;
                    worker.work(&mut |_| {});
                    worker
                })
            })
            .collect();
        main.work(&mut report);
        handles
            .into_iter()
            .map(|h| h.join().expect("a search worker panicked"))
            .collect()
    });
    let mut stats = main.stats;
    let mut collector = main.collector;
    for worker in others {
        stats.add(&worker.stats);
        collector.merge(worker.collector);
    }
    let completeness = shared
        .stopped
        .into_inner()
        .expect("unpoisoned")
        .unwrap_or(Completeness::Exhaustive);
    Searched {
        collector,
        stats,
        memory: shared.memory.into_inner().max(shared.peak.into_inner()),
        completeness,
    }
}

/// One worker: grows graphs depth-first, recording complete executions.
struct Search<'s, 'p> {
    program: &'p Program,
    axioms: Axioms,
    unroll: u32,
    shared: &'s Shared,
    limits: Limits,
    cancel: Option<&'s AtomicBool>,
    /// Whether to stop every worker once an execution races.
    stop_at_race: bool,
    collector: Collector<'p>,
    stats: GraphStats,
    /// The bytes this worker last published as held ([`Search::account`]).
    held: usize,
}

impl<'s, 'p> Search<'s, 'p> {
    fn new(
        program: &'p Program,
        axioms: Axioms,
        unroll: u32,
        shared: &'s Shared,
        limits: Limits,
        cancel: Option<&'s AtomicBool>,
    ) -> Search<'s, 'p> {
        Search {
            program,
            axioms,
            unroll,
            shared,
            limits,
            cancel,
            stop_at_race: false,
            collector: Collector::new(program, axioms, shared.witnesses),
            stats: GraphStats::default(),
            held: 0,
        }
    }

    /// Takes graphs from the shared queue and grows each to the end, until
    /// the queue is empty or the search stops; `report` is told the size of
    /// the worker's own stack now and then.
    fn work(&mut self, report: &mut dyn FnMut(usize)) {
        'queue: loop {
            let Some(node) = self.shared.queue.lock().expect("unpoisoned").pop() else {
                break;
            };
            let mut stack = vec![node];
            while let Some(node) = stack.pop() {
                if self.poll_due(&node) {
                    self.account(stack.iter().chain([&node]));
                    report(stack.len());
                }
                if !self.visit(node, &mut stack) {
                    break 'queue;
                }
            }
        }
        self.account(std::iter::empty());
    }

    /// Whether to check the limits and cancellation before growing `node`:
    /// every [`POLL_EVERY`] graphs, and at every graph of [`POLL_EVENTS`]
    /// events or more (each costs enough to repay it, and memory grows with
    /// the square of its size).
    fn poll_due(&self, node: &Node) -> bool {
        self.stats.graphs.is_multiple_of(POLL_EVERY) || node.graph.events.len() >= POLL_EVENTS
    }

    /// Measures the bytes this worker's graphs `nodes` hold (each derivation
    /// kept before a read counted once) and publishes them for the memory
    /// limit.
    fn account<'n>(&mut self, nodes: impl Iterator<Item = &'n Node>) {
        let mut seen: FxHashSet<*const Snapshot> = FxHashSet::default();
        let mut bytes = 0;
        for node in nodes {
            bytes += node.graph.bytes() + node.derived.bytes();
            // A list shares its tail from the first snapshot seen on.
            for snapshot in node.before.iter() {
                if !seen.insert(snapshot) {
                    break;
                }
                bytes += size_of::<Snapshot>() + snapshot.derived.bytes();
            }
        }
        if bytes >= self.held {
            self.shared
                .held
                .fetch_add(bytes - self.held, Ordering::Relaxed);
        } else {
            self.shared
                .held
                .fetch_sub(self.held - bytes, Ordering::Relaxed);
        }
        self.held = bytes;
    }

    /// Grows one graph by one step, pushing what it grows into; false when
    /// the search must stop (a limit, a cancellation), having said why.
    fn visit(&mut self, node: Node, stack: &mut Vec<Node>) -> bool {
        let poll = self.poll_due(&node);
        let Node {
            graph,
            derived,
            before,
        } = node;
        if self.shared.stop.load(Ordering::Relaxed) || (poll && !self.may_go_on()) {
            return false;
        }
        if self.shared.graphs.fetch_add(1, Ordering::Relaxed) >= self.limits.max_states {
            self.stop(Completeness::Truncated(Limit::States(
                self.limits.max_states,
            )));
            return false;
        }
        self.stats.graphs += 1;
        // A cut thread waits: a later write of another thread may revisit one
        // of its reads and let it leave the loop (a spin loop waiting for a
        // flag set by a thread grown after it).
        let mut cut = false;
        let mut next = None;
        for &t in &self.shared.order {
            match graph.threads[t].status(&self.program.threads[t]) {
                Status::Ready(pc) => {
                    next = Some((t, pc));
                    break;
                }
                Status::Cut => cut = true,
                Status::Done | Status::Stopped => {}
            }
        }
        match next {
            Some((t, pc)) => self.extend(Node::new(graph, derived, before), t, pc, stack),
            None if cut => self.stats.cut += 1,
            // A pending TryLock: its failure without reading, explored beside
            // it, stands for it.
            None if graph.events.iter().any(|e| e.pending()) => self.stats.blocked += 1,
            None => {
                let Some(key) = self.first_time(&graph) else {
                    return true;
                };
                // A run that panics or blocks forever has no final values.
                if graph.events.iter().any(|e| e.panics() || e.blocked()) {
                    self.complete(graph, derived, &key);
                    return true;
                }
                let finals = self.final_candidates(&graph);
                self.observe(graph, derived, &finals, &key);
            }
        }
        true
    }

    /// Each variable several threads write (by variable) with its candidates
    /// for its last write: each thread's last write to it (by thread). A
    /// variable only one thread writes ends with that thread's last write,
    /// which no observer read needs to confirm.
    fn final_candidates(&self, graph: &Execution) -> SmallVec<[(u16, SmallVec<[Pos; 4]>); 8]> {
        let mut finals: SmallVec<[(u16, SmallVec<[Pos; 4]>); 8]> = SmallVec::new();
        let events = &graph.events;
        // Backwards, so the first write of a thread met is its last.
        for (p, e) in events.iter().enumerate().rev() {
            if !e.writes()
                || !self.shared.contested[usize::from(e.loc)]
                || self.program.locs[usize::from(e.loc)].kind != LocKind::Variable
            {
                continue;
            }
            match finals.iter_mut().find(|(l, _)| *l == e.loc) {
                Some((_, writes)) => {
                    if !writes
                        .iter()
                        .any(|&w| events[w as usize].thread == e.thread)
                    {
                        writes.push(p as Pos);
                    }
                }
                None => finals.push((e.loc, smallvec::smallvec![p as Pos])),
            }
        }
        finals.retain(|(_, writes)| writes.len() > 1);
        finals.sort_unstable_by_key(|&(l, _)| l);
        for (_, writes) in &mut finals {
            writes.sort_unstable_by_key(|&w| events[w as usize].thread);
        }
        finals
    }

    /// Whether the search may go on: no cancellation or memory limit stops
    /// it now.
    fn may_go_on(&self) -> bool {
        let used =
            self.shared.memory.load(Ordering::Relaxed) + self.shared.held.load(Ordering::Relaxed);
        self.shared.peak.fetch_max(used, Ordering::Relaxed);
        let reason = if self.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            Completeness::Interrupted
        } else if used > self.limits.max_memory {
            Completeness::Truncated(Limit::Memory(self.limits.max_memory))
        } else {
            return true;
        };
        self.stop(reason);
        false
    }

    /// Stops every worker, saying why (the first reason given stands).
    fn stop(&self, reason: Completeness) {
        self.shared
            .stopped
            .lock()
            .expect("unpoisoned")
            .get_or_insert(reason);
        self.shared.stop.store(true, Ordering::Relaxed);
    }

    /// Adds thread `t`'s access at `pc` to the node's graph, each way it
    /// can go.
    fn extend(&mut self, node: Node, t: usize, pc: usize, stack: &mut Vec<Node>) {
        let Node {
            graph,
            derived,
            mut before,
        } = node;
        match read_loc(&self.program.threads[t].code[pc]) {
            Some(loc) => {
                let try_lock = matches!(
                    self.program.threads[t].code[pc],
                    Instr::Sync {
                        op: SyncOp::TryLock(_),
                        ..
                    }
                );
                if try_lock {
                    // It may fail at any time; it succeeds only by reading a 0.
                    let mut failed = graph.clone();
                    failed.push_failed_try_lock(self.program, self.unroll, t, pc);
                    self.add(Node::new(failed, derived.clone(), before.clone()), stack);
                }
                let mut sources: SmallVec<[Option<Pos>; 8]> = std::iter::once(None)
                    .chain(graph.writes_to(loc.0).map(Some))
                    .collect();
                let all = sources.len();
                sources.retain(|s| derived.may_read(&graph, t as u16, loc.0, *s));
                self.stats.blocked += all - sources.len();
                // Only a read some write may revisit keeps its derivation.
                let at = graph.events.len() as Pos;
                let snapshot = if self.may_be_revisited(&graph, loc.0) {
                    before.push(at, derived)
                } else {
                    Arc::new(Snapshot {
                        at,
                        derived,
                        older: Snapshots::default(),
                    })
                };
                // Each source's revisits first, on the graph itself: most
                // sources of a read-modify-write break atomicity, and their
                // graphs are only needed for the revisits that repair it.
                let mut graph = graph;
                // A graph reached before (recorded when it keeps atomicity and
                // the read's variable has read-modify-writes) is skipped
                // whole, revisits included; one breaking atomicity is only
                // there for its revisits, which are recorded.
                let recorded = self.shared.rmw_locs[usize::from(loc.0)];
                sources.retain(|&mut source| {
                    graph.with_access(self.program, self.unroll, t, pc, source, |g| {
                        let rivals = rivals(g, (g.events.len() - 1) as Pos);
                        let atomic = rivals.is_empty();
                        if atomic && recorded && !self.first_growth(g.order_key()) {
                            return false;
                        }
                        self.added(g, &before, &rivals, stack);
                        self.stats.blocked += usize::from(!atomic);
                        atomic
                    })
                });
                // Pushed last first, so the initial value is explored first;
                // the last one pushed takes the graph itself.
                let Some((&first, others)) = sources.split_first() else {
                    return;
                };
                for &source in others.iter().rev() {
                    let mut graph = graph.clone();
                    graph.push_access(self.program, self.unroll, t, pc, source);
                    let derived = snapshot.derived.clone();
                    self.keep(Node::new(graph, derived, before.clone()), stack);
                }
                graph.push_access(self.program, self.unroll, t, pc, first);
                let derived = match Arc::try_unwrap(snapshot) {
                    Ok(snapshot) => snapshot.derived,
                    Err(shared) => shared.derived.clone(),
                };
                self.keep(Node::new(graph, derived, before), stack);
            }
            None => {
                let mut graph = graph;
                graph.push_access(self.program, self.unroll, t, pc, None);
                self.add(Node::new(graph, derived, before), stack);
            }
        }
    }

    /// Keeps `node`, whose last event is new and its derivation does not
    /// cover yet, if it may be consistent, with the revisits its last event
    /// makes if it writes.
    fn add(&mut self, node: Node, stack: &mut Vec<Node>) {
        let rivals = rivals(&node.graph, (node.graph.events.len() - 1) as Pos);
        self.added(&node.graph, &node.before, &rivals, stack);
        if rivals.is_empty() {
            self.keep(node, stack);
        } else {
            self.stats.blocked += 1;
        }
    }

    /// Counts the new last event of `graph` and pushes the revisits it
    /// makes if it writes; `rivals` are the events claiming its source with
    /// it ([`rivals`]). The revisits are made even when there are rivals
    /// (the graph itself breaks atomicity): a read-modify-write reading a
    /// write that another one already read breaks atomicity, but revisiting
    /// the other one (which then reads it) repairs that.
    fn added(
        &mut self,
        graph: &Execution,
        before: &Snapshots,
        rivals: &[Pos],
        stack: &mut Vec<Node>,
    ) {
        self.stats.events += 1;
        self.shared.events.fetch_add(1, Ordering::Relaxed);
        let last = (graph.events.len() - 1) as Pos;
        if graph.events[last as usize].writes() {
            self.revisits(graph, before, last, rivals, stack);
        }
    }

    /// Pushes `node`, whose new last event keeps atomicity, if its
    /// derivation extended by that event finds no cycle.
    fn keep(&mut self, mut node: Node, stack: &mut Vec<Node>) {
        if node.derived.extend(&node.graph) {
            stack.push(node);
        } else {
            self.stats.blocked += 1;
        }
    }

    /// Whether the graph with [`Execution::order_key`] `key` is reached for
    /// the first time; records it.
    fn first_growth(&self, key: Box<[u8]>) -> bool {
        let bytes = key.len() + 32;
        let first = self.shared.grown.lock().expect("unpoisoned").insert(key);
        if first {
            self.shared.memory.fetch_add(bytes, Ordering::Relaxed);
        }
        first
    }

    /// Pushes every backward revisit the write at `write` makes; `before` is
    /// the graph's derivations before its reads, `rivals` the events that
    /// claim the write's source with it ([`rivals`]).
    fn revisits(
        &mut self,
        graph: &Execution,
        before: &Snapshots,
        write: Pos,
        rivals: &[Pos],
        stack: &mut Vec<Node>,
    ) {
        let prefix = graph.prefix(write);
        let loc = graph.events[write as usize].loc;
        for read in 0..write {
            let e = &graph.events[read as usize];
            if !e.reads() || e.kind == Kind::Observe || e.loc != loc || prefix[read as usize] {
                continue;
            }
            // A rival the revisit keeps still claims the write's source.
            if rivals
                .iter()
                .any(|&c| c != read && (c < read || prefix[c as usize]))
            {
                self.stats.blocked += 1;
                continue;
            }
            let map = graph.revisit_positions(read, &prefix);
            if !self.first_growth(graph.revisit_key((read, write), &map)) {
                continue;
            }
            self.stats.events += 1;
            let next = graph.revisit(self.program, self.unroll, (read, write), &map);
            debug_assert_eq!(
                next.order_key(),
                graph.revisit_key((read, write), &map),
                "invariant: revisit_key predicts the revisit's key"
            );
            // The events before the read's position are unchanged: their
            // derivations stay, so does the one at that position (it covers
            // exactly them), and the new graph's derivation starts from it.
            let mut kept = before.up_to(read);
            let derived = self.derive_revisit(before.before(read), &next, read, &mut kept);
            let last = (next.events.len() - 1) as Pos;
            if next.events[last as usize].writes() {
                self.revisits(&next, &kept, last, &self::rivals(&next, last), stack);
            }
            match derived {
                Some(derived) => stack.push(Node::new(next, derived, kept)),
                None => self.stats.blocked += 1,
            }
        }
    }

    /// Whether a read of `loc` in `graph` may be revisited: a write of `loc`
    /// can still be added to it.
    fn may_be_revisited(&self, graph: &Execution, loc: u16) -> bool {
        let bound = self.shared.write_bounds[usize::from(loc)];
        bound == usize::MAX || graph.writes_to(loc).count() < bound
    }

    /// The derivation of `next`, a revisit whose events before position
    /// `from` are those of the graph revisited, built from `start`, the
    /// derivation kept before `from` (from nothing without one); `None` if
    /// `next` is inconsistent. Keeps in `kept` the derivation before each
    /// later read a write may revisit, as growing the graph forward does: a
    /// later revisit of one of them starts there instead of from nothing
    /// (`ainc 8`: 60,424 derivations from nothing of 78,951 revisits
    /// without them).
    fn derive_revisit(
        &self,
        start: Option<&Consistency>,
        next: &Execution,
        from: Pos,
        kept: &mut Snapshots,
    ) -> Option<Consistency> {
        let mut derived = match start {
            Some(snapshot) => snapshot.clone(),
            None => Consistency::empty(self.axioms, next),
        };
        for (q, e) in next.events.iter().enumerate().skip(from as usize) {
            let revisitable =
                e.reads() && e.kind != Kind::Observe && self.may_be_revisited(next, e.loc);
            if !revisitable || kept.newest_at() == Some(q as Pos) {
                continue;
            }
            if !derived.cover_until(next, q) {
                return None;
            }
            kept.push(q as Pos, derived.clone());
        }
        derived.cover(next)
    }

    /// Adds the final observer's reads of the variables of `finals` to
    /// `graph`, each way they can go, and records every consistent result.
    /// `finals` pairs each variable several threads write with each thread's last write to
    /// it: only those can be the final one. `key` is the
    /// [`Execution::execution_key`] of `graph` before any observer read.
    /// Depth-first with a stack of its own, variable after variable (a test
    /// can write thousands of them; recursing overflowed the thread's stack).
    fn observe(
        &mut self,
        graph: Execution,
        derived: Consistency,
        finals: &[(u16, SmallVec<[Pos; 4]>)],
        key: &[u64],
    ) {
        let mut stack = vec![(graph, derived, 0)];
        while let Some((graph, derived, at)) = stack.pop() {
            let Some((loc, candidates)) = finals.get(at) else {
                // A complete graph can cost milliseconds (a hundred writes of
                // one variable: a coherence order to solve, every pair a
                // race), and a wide test has few graphs: Ctrl-C is heard at
                // each.
                if !self.may_go_on() {
                    return;
                }
                self.complete(graph, derived, key);
                continue;
            };
            let candidates: SmallVec<[Pos; 4]> = candidates
                .iter()
                .copied()
                .filter(|&w| derived.may_be_last(w))
                .collect();
            self.stats.blocked += finals[at].1.len() - candidates.len();
            // Each candidate's graph, the last taking this one; pushed last
            // first, so the first candidate is grown first.
            let mut node = Some((graph, derived));
            let mut children: SmallVec<[_; 4]> = SmallVec::new();
            for (i, &w) in candidates.iter().enumerate() {
                let (mut next, mut extended) = if i + 1 == candidates.len() {
                    node.take()
                        .expect("invariant: taken once, by the last candidate")
                } else {
                    node.clone()
                        .expect("invariant: present until the last candidate")
                };
                next.push_observer(self.program, *loc, Some(w));
                self.stats.events += 1;
                if extended.extend(&next) {
                    children.push((next, extended, at + 1));
                } else {
                    self.stats.blocked += 1;
                }
            }
            stack.extend(children.into_iter().rev());
        }
    }

    /// The [`Execution::execution_key`] of `graph`, whose threads have all
    /// finished, if it is reached for the first time; counts it as a
    /// duplicate if not. The observer's reads follow from the graph, so they
    /// are added only the first time.
    fn first_time(&mut self, graph: &Execution) -> Option<Vec<u64>> {
        let key = graph.execution_key();
        // Each event's id halves into its thread and its index, both small.
        let packed = varint::packed(key.iter().flat_map(|&n| [n >> 32, n & 0xffff_ffff]));
        let bytes = packed.len() + 32;
        if !self
            .shared
            .complete
            .lock()
            .expect("unpoisoned")
            .insert(packed)
        {
            self.stats.duplicates += 1;
            return None;
        }
        self.shared.memory.fetch_add(bytes, Ordering::Relaxed);
        Some(key)
    }

    /// Records a complete `graph`, observer reads included, if it is
    /// consistent; `key` is its key before the observer's reads.
    fn complete(&mut self, graph: Execution, derived: Consistency, key: &[u64]) {
        let observed = graph.events.last().is_some_and(|e| e.kind == Kind::Observe);
        let full;
        let key = if observed {
            full = graph.execution_key();
            &full[..]
        } else {
            key
        };
        // A thread blocked for good (or a goroutine never started) read its
        // object's last write: a `Go` for a goroutine that waits would start it.
        let stuck = graph
            .events
            .iter()
            .filter(|e| e.blocked() || e.unstarted())
            .map(|e| (e.loc, e.rf));
        let mut derived = derived;
        for (loc, source) in stuck.collect::<SmallVec<[_; 4]>>() {
            if !derived.make_last(&graph, loc, source) {
                self.stats.blocked += 1;
                return;
            }
        }
        match derived.solve(&graph) {
            Some(solved) => {
                self.stats.explored += 1;
                self.collector.record(&graph, key, &solved);
                if self.stop_at_race && self.collector.has_races() {
                    self.stop(Completeness::Interrupted);
                }
            }
            None => self.stats.blocked += 1,
        }
    }
}

/// For each variable of `program`, whether a read-modify-write (an atomic
/// `Rmw`, or a mutex, wait group or once operation that writes what it
/// read) accesses it.
fn rmw_locs(program: &Program) -> Vec<bool> {
    let mut locs = vec![false; program.locs.len()];
    for instr in program.threads.iter().flat_map(|t| &t.code) {
        let rmw = match instr {
            Instr::Rmw { .. } => true,
            Instr::Sync { op, .. } => matches!(
                op,
                SyncOp::Lock
                    | SyncOp::TryLock(_)
                    | SyncOp::Unlock
                    | SyncOp::Add(_)
                    | SyncOp::OnceEnter(_)
            ),
            _ => false,
        };
        if rmw && let Some(loc) = read_loc(instr) {
            locs[loc.index()] = true;
        }
    }
    locs
}

/// For each variable of `program`, how many threads have an instruction that
/// may write it: a store or read-modify-write of it, or a Go synchronisation
/// operation on it (all of them count, the graph engine running some as
/// writes of the object's word).
fn writers(program: &Program) -> Vec<usize> {
    let mut writers = vec![0; program.locs.len()];
    for thread in &program.threads {
        let mut writes = vec![false; program.locs.len()];
        for instr in &thread.code {
            match instr {
                Instr::Store { loc, .. }
                | Instr::Rmw { loc, .. }
                | Instr::Sync { obj: loc, .. } => writes[loc.index()] = true,
                _ => {}
            }
        }
        for (count, written) in writers.iter_mut().zip(writes) {
            *count += usize::from(written);
        }
    }
    writers
}

/// For each variable of `program`, the most write events of it an execution
/// can have: one per store and read-modify-write instruction of it, and no
/// bound (`usize::MAX`) if a thread that writes it has a loop or a Go
/// synchronisation operation on it.
fn write_bounds(program: &Program) -> Vec<usize> {
    let mut bounds = vec![0usize; program.locs.len()];
    for thread in &program.threads {
        let loops = super::loops(thread);
        for instr in &thread.code {
            let (loc, bounded) = match instr {
                Instr::Store { loc, .. } | Instr::Rmw { loc, .. } => (loc, !loops),
                Instr::Sync { obj, .. } => (obj, false),
                _ => continue,
            };
            let bound = &mut bounds[loc.index()];
            *bound = if bounded {
                bound.saturating_add(1)
            } else {
                usize::MAX
            };
        }
    }
    bounds
}

/// The events of `graph` that claim the same write as its event at
/// `write` ([`Event::claims_its_source`]), one of the two writing: a
/// read-modify-write writing after a write another one already wrote after,
/// or a blocked `Lock` on a write another event overwrote. The graph breaks
/// atomicity unless a revisit removes all of them but one.
/// Every graph the search keeps is free of such pairs, so after adding an
/// event only pairs with it can appear, and a revisit by it (which makes a
/// read read it, a write nothing else reads yet) only keeps or removes those.
fn rivals(graph: &Execution, write: Pos) -> SmallVec<[Pos; 2]> {
    let w = &graph.events[write as usize];
    if !w.claims_its_source() {
        return SmallVec::new();
    }
    (0..write)
        .filter(|&p| {
            let e = &graph.events[p as usize];
            e.claims_its_source() && e.loc == w.loc && e.rf == w.rf && (e.writes() || w.writes())
        })
        .collect()
}

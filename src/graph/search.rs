//! The search over execution graphs (TruSt's exploration, Kokologiannakis,
//! Marmanis, Gladstein, Vafeiadis, "Truly Stateless, Optimal Dynamic Partial
//! Order Reduction", POPL 2022, with coherence left lazy).
//!
//! A graph grows one event at a time, always in the lowest-numbered thread
//! that has not finished. A read (or read-modify-write) branches over every
//! write of its variable already in the graph and the initial value. A write
//! also *revisits* every earlier read of its variable outside its po ∪ rf
//! prefix: the read is made to read the new write and the events that could
//! depend on its old value are dropped ([`Execution::revisit`]). When every
//! thread has finished, the final observer reads each written variable,
//! choosing among the writes that can be last. Each graph travels with its
//! [`Consistency`] derivation, extended by every new event; a graph whose
//! derivation finds a cycle is dropped with everything it would grow into (a
//! prefix of a consistent graph is consistent), and a complete graph is kept
//! when [`Consistency::solve`] finds a coherence order.
//!
//! Instead of TruSt's maximality condition, which makes every revisited
//! graph come from exactly one graph, a set of the graphs revisits have
//! produced skips a repeated one, and a set of complete executions counts
//! any execution reached twice as a duplicate.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rustc_hash::FxHashSet;
use smallvec::SmallVec;

use crate::explore::{Completeness, Limit, Limits, Progress};
use crate::ir::{Instr, LocKind, Program, RmwOp};

use super::axioms::{Axioms, Consistency};
use super::execution::{Execution, Kind, Pos};
use super::thread::Status;

/// How often (in graphs) the search checks cancellation and reports progress.
const POLL_EVERY: usize = 1024;

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

/// A graph waiting to be grown, with its derivation.
type Node = (Execution, Consistency);

/// A search over the execution graphs of one program under one model.
pub(crate) struct Search<'a> {
    program: &'a Program,
    axioms: Axioms,
    unroll: u32,
    revisited: FxHashSet<Vec<u32>>,
    complete: FxHashSet<Vec<u64>>,
    /// Estimated bytes held by the two sets.
    pub memory: usize,
    /// Counters.
    pub stats: GraphStats,
}

impl<'a> Search<'a> {
    /// A search with nothing explored yet.
    pub fn new(program: &'a Program, axioms: Axioms, unroll: u32) -> Search<'a> {
        Search {
            program,
            axioms,
            unroll,
            revisited: FxHashSet::default(),
            complete: FxHashSet::default(),
            memory: 0,
            stats: GraphStats::default(),
        }
    }

    /// Explores every execution, calling `found` once for each distinct
    /// consistent complete one, with its solved coherence.
    pub fn run(
        &mut self,
        limits: Limits,
        cancel: Option<&AtomicBool>,
        progress: &mut Option<&mut dyn FnMut(&Progress)>,
        found: &mut dyn FnMut(&Execution, &Consistency),
    ) -> Completeness {
        let started = Instant::now();
        let empty = Execution::new(self.program, self.unroll);
        let derived = Consistency::of(self.axioms, &empty).expect("the empty graph is consistent");
        let mut stack = vec![(empty, derived)];
        while let Some((graph, derived)) = stack.pop() {
            if self.stats.graphs.is_multiple_of(POLL_EVERY) {
                if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                    return Completeness::Interrupted;
                }
                if let Some(report) = progress.as_mut() {
                    report(&Progress {
                        states: self.stats.graphs,
                        transitions: self.stats.events,
                        pending: stack.len(),
                        depth: graph.events.len(),
                        elapsed: started.elapsed(),
                    });
                }
            }
            if self.stats.graphs >= limits.max_states {
                return Completeness::Truncated(Limit::States(limits.max_states));
            }
            if self.memory > limits.max_memory {
                return Completeness::Truncated(Limit::Memory(limits.max_memory));
            }
            self.stats.graphs += 1;
            let next = graph
                .threads
                .iter()
                .zip(&self.program.threads)
                .enumerate()
                .find_map(
                    |(t, (state, thread))| match state.status(thread, self.unroll) {
                        Status::Done => None,
                        Status::Ready(pc) => Some(Some((t, pc))),
                        Status::Cut => Some(None),
                    },
                );
            match next {
                Some(Some((t, pc))) => self.extend(graph, derived, t, pc, &mut stack),
                Some(None) => self.stats.cut += 1,
                None => {
                    let locs: Vec<u16> = (0..self.program.locs.len() as u16)
                        .filter(|&l| {
                            self.program.locs[usize::from(l)].kind == LocKind::Variable
                                && graph.writes_to(l).next().is_some()
                        })
                        .collect();
                    self.observe(graph, derived, &locs, found);
                }
            }
        }
        Completeness::Exhaustive
    }

    /// Adds thread `t`'s access at `pc` to `graph`, each way it can go.
    fn extend(
        &mut self,
        graph: Execution,
        derived: Consistency,
        t: usize,
        pc: usize,
        stack: &mut Vec<Node>,
    ) {
        match &self.program.threads[t].code[pc] {
            Instr::Load { loc, .. } | Instr::Rmw { loc, .. } => {
                let sources: Vec<Option<Pos>> = std::iter::once(None)
                    .chain(graph.writes_to(loc.0).map(Some))
                    .collect();
                // Pushed last first, so the initial value is explored first;
                // the last one pushed takes the graph itself.
                let (&first, others) = sources.split_first().expect("the initial value");
                for &source in others.iter().rev() {
                    let mut next = graph.clone();
                    next.push_access(self.program, self.unroll, t, pc, source);
                    self.add(next, derived.clone(), stack);
                }
                let mut next = graph;
                next.push_access(self.program, self.unroll, t, pc, first);
                self.add(next, derived, stack);
            }
            _ => {
                let mut next = graph;
                next.push_access(self.program, self.unroll, t, pc, None);
                self.add(next, derived, stack);
            }
        }
    }

    /// Keeps `graph`, whose last event is new and `derived` does not cover
    /// yet, if it may be consistent, with the revisits its last event makes
    /// if it writes. The revisits come first: a read-modify-write reading a
    /// write that another one already read breaks atomicity, but revisiting
    /// the other one (which then reads it) repairs that.
    fn add(&mut self, graph: Execution, mut derived: Consistency, stack: &mut Vec<Node>) {
        self.stats.events += 1;
        let last = (graph.events.len() - 1) as Pos;
        if graph.events[last as usize].writes() {
            self.revisits(&graph, last, stack);
        }
        if !reads_a_taken_write(&graph) && derived.extend(&graph) {
            stack.push((graph, derived));
        } else {
            self.stats.blocked += 1;
        }
    }

    /// Pushes every backward revisit the write at `write` makes.
    fn revisits(&mut self, graph: &Execution, write: Pos, stack: &mut Vec<Node>) {
        let prefix = graph.prefix(write);
        let loc = graph.events[write as usize].loc;
        for read in 0..write {
            let e = &graph.events[read as usize];
            if !e.reads() || e.kind == Kind::Observe || e.loc != loc || prefix[read as usize] {
                continue;
            }
            if self.breaks_atomicity(graph, &prefix, read, write) {
                self.stats.blocked += 1;
                continue;
            }
            let next = graph.revisit(self.program, self.unroll, read, write);
            let key = next.order_key();
            let bytes = key.len() * 4 + 48;
            if !self.revisited.insert(key) {
                continue;
            }
            self.memory += bytes;
            self.stats.events += 1;
            let last = (next.events.len() - 1) as Pos;
            if next.events[last as usize].writes() {
                self.revisits(&next, last, stack);
            }
            match Consistency::of(self.axioms, &next) {
                Some(derived) => stack.push((next, derived)),
                None => self.stats.blocked += 1,
            }
        }
    }

    /// Whether the revisit of `read` by `write` would keep two
    /// read-modify-writes that write after reading the same write: no
    /// coherence order puts both right after it, so the revisited graph is
    /// inconsistent, and building it can be skipped.
    fn breaks_atomicity(&self, graph: &Execution, prefix: &[bool], read: Pos, write: Pos) -> bool {
        // Each writing read-modify-write's variable and source.
        let mut sources: SmallVec<[(u16, Option<Pos>); 16]> = SmallVec::new();
        let kept = (0..graph.events.len()).filter(|&p| p < read as usize || prefix[p]);
        for p in kept {
            let e = &graph.events[p];
            if e.kind == Kind::Rmw && e.writes() {
                if sources.contains(&(e.loc, e.rf)) {
                    return true;
                }
                sources.push((e.loc, e.rf));
            }
        }
        // The revisited read itself, if it writes whatever it reads.
        let r = &graph.events[read as usize];
        let always_writes = matches!(
            self.program.threads[usize::from(r.thread)].code[r.pc as usize],
            Instr::Rmw {
                op: RmwOp::Xchg(_) | RmwOp::FetchAdd(_),
                ..
            }
        );
        always_writes && sources.contains(&(r.loc, Some(write)))
    }

    /// Adds the final observer's reads of `locs` to `graph`, each way they
    /// can go, and hands every consistent result to `found`.
    fn observe(
        &mut self,
        graph: Execution,
        derived: Consistency,
        locs: &[u16],
        found: &mut dyn FnMut(&Execution, &Consistency),
    ) {
        let Some((&loc, rest)) = locs.split_first() else {
            self.complete(graph, derived, found);
            return;
        };
        // Only a thread's last write to the variable can be the final one.
        let candidates: Vec<Pos> = graph
            .writes_to(loc)
            .filter(|&w| {
                let e = &graph.events[w as usize];
                !graph.events.iter().any(|x| {
                    x.thread == e.thread && x.index > e.index && x.loc == loc && x.writes()
                })
            })
            .collect();
        // A variable only one thread writes ends with that thread's last
        // write, which no observer read needs to confirm.
        if let [_] = candidates[..] {
            self.observe(graph, derived, rest, found);
            return;
        }
        let mut node = Some((graph, derived));
        for (i, &w) in candidates.iter().enumerate() {
            let (mut next, mut extended) = if i + 1 == candidates.len() {
                node.take()
                    .expect("invariant: taken once, by the last candidate")
            } else {
                node.clone()
                    .expect("invariant: present until the last candidate")
            };
            next.push_observer(self.program, loc, Some(w));
            self.stats.events += 1;
            if extended.extend(&next) {
                self.observe(next, extended, rest, found);
            } else {
                self.stats.blocked += 1;
            }
        }
    }

    /// Hands a complete `graph` to `found` if it is consistent and new.
    fn complete(
        &mut self,
        graph: Execution,
        derived: Consistency,
        found: &mut dyn FnMut(&Execution, &Consistency),
    ) {
        let key = graph.execution_key();
        let bytes = key.len() * 8 + 48;
        if !self.complete.insert(key) {
            self.stats.duplicates += 1;
            return;
        }
        self.memory += bytes;
        match derived.solve(&graph) {
            Some(solved) => {
                self.stats.explored += 1;
                found(&graph, &solved);
            }
            None => self.stats.blocked += 1,
        }
    }
}

/// Whether the last event of `graph` is a read-modify-write that writes
/// after reading a write another one already read: atomicity fails, so the
/// graph is inconsistent (its revisits may not be).
fn reads_a_taken_write(graph: &Execution) -> bool {
    let (last, others) = graph.events.split_last().expect("a new event");
    last.kind == Kind::Rmw
        && last.writes()
        && others
            .iter()
            .any(|e| e.kind == Kind::Rmw && e.writes() && e.loc == last.loc && e.rf == last.rf)
}

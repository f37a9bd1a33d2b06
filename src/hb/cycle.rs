//! Why a stronger model forbids an execution a weaker one allows: a cycle in
//! the stronger model's ordering axiom (docs/models.md, "Axioms").
//!
//! For `sc` the axiom is `po ∪ rf ∪ co ∪ fr` acyclic; for `tso` and `pso`
//! it is `ppo ∪ rfe ∪ co ∪ fr` acyclic, where `ppo` is the program order
//! the model preserves (`Axioms::keeps` in the graph engine's `axioms`, its rule: all but a
//! plain store before a later load, and under `pso` also a plain store before
//! a plain store of another variable; fences are events of their own, so
//! program order through one is kept). `co` is the order in which the execution's writes reached
//! memory (on the `go` machine, which has no buffers, the order they were
//! made in, except that the write a variable ends with comes last: the go
//! model's final observer may read an older one), `fr` goes from a read to
//! every write coherence-later than the one it reads. A recorded execution of
//! a store-buffer machine satisfies its own model's axiom; checked against a
//! stronger model's, a cycle is the reason that model forbids it.

use std::collections::VecDeque;

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use super::{Event, EventId, EventKind, Execution};
use crate::graph::{Axioms, PoEnd};
use crate::ir::Access;
use crate::model::Model;

/// How one event of a cycle leads to the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relation {
    /// Program order the model preserves.
    Po,
    /// The write a read reads from (another thread's, under `tso` and `pso`).
    Rf,
    /// Coherence: the order writes of one variable reach memory.
    Co,
    /// From-read: a read before a write coherence-later than the one it reads.
    Fr,
}

impl Relation {
    /// Its name, as herd7 writes it.
    pub fn name(self) -> &'static str {
        match self {
            Relation::Po => "po",
            Relation::Rf => "rf",
            Relation::Co => "co",
            Relation::Fr => "fr",
        }
    }
}

/// A shortest cycle of `model`'s ordering axiom in `execution` (recorded on a
/// store-buffer machine or the `go` machine), as each event and the relation to the next (the
/// last leads back to the first); `None` if the execution satisfies the
/// axiom, or `model` is not `sc`, `tso` or `pso` (unbounded buffers, with
/// store forwarding).
pub fn forbidding_cycle(execution: &Execution, model: &Model) -> Option<Vec<(EventId, Relation)>> {
    let axioms = Axioms::of(model)?;
    // One node per event, at the event's index.
    let mut graph: DiGraph<EventId, Relation> = DiGraph::new();
    for e in &execution.events {
        graph.add_node(e.id);
    }
    let node = |id: EventId| NodeIndex::new(id.index());
    for a in &execution.events {
        for b in &execution.events {
            let ordered = a.thread.is_some() && a.thread == b.thread && a.order < b.order;
            if ordered && axioms.keeps(po_end(a), po_end(b)) {
                graph.add_edge(node(a.id), node(b.id), Relation::Po);
            }
        }
    }
    let co = coherence(execution);
    for (r, source) in execution.reads_from.iter().enumerate() {
        let Some(w) = *source else { continue };
        let r = EventId(r as u32);
        let external = execution.event(w).thread != execution.event(r).thread;
        if axioms == Axioms::Sc || external {
            graph.add_edge(node(w), node(r), Relation::Rf);
        }
        for later in co.iter().filter(|order| order.contains(&w)) {
            let after = later.iter().skip_while(|&&x| x != w).skip(1);
            for &x in after.filter(|&&x| x != r) {
                graph.add_edge(node(r), node(x), Relation::Fr);
            }
        }
    }
    for order in &co {
        for pair in order.windows(2) {
            graph.add_edge(node(pair[0]), node(pair[1]), Relation::Co);
        }
    }
    shortest_cycle(&graph)
}

/// What [`Axioms::keeps`] needs to know of an event.
fn po_end(e: &Event) -> PoEnd {
    PoEnd {
        plain_store: e.kind == EventKind::Write && e.access == Access::Plain,
        load: e.kind == EventKind::Read,
        loc: e.loc.map_or(u16::MAX, |l| l.0),
    }
}

/// Each variable's writes in the order they reached memory, its initial
/// write first, and the write a `go` run's final observer read last.
fn coherence(execution: &Execution) -> Vec<Vec<EventId>> {
    let mut orders: Vec<Vec<EventId>> = Vec::new();
    let mut push = |w: EventId| {
        let loc = execution.event(w).loc;
        match orders.iter_mut().find(|o| execution.event(o[0]).loc == loc) {
            Some(order) => order.push(w),
            None => orders.push(vec![w]),
        }
    };
    for e in execution
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Init)
    {
        push(e.id);
    }
    for step in &execution.steps {
        match (step.event, step.committed) {
            (Some(e), None) if execution.event(e).writes() && !step.via_buffer => push(e),
            (None, Some(w)) => push(w),
            _ => {}
        }
    }
    for last in execution.steps.iter().filter_map(|step| step.observed) {
        let loc = execution.event(last).loc;
        if let Some(order) = orders.iter_mut().find(|o| execution.event(o[0]).loc == loc) {
            order.retain(|&w| w != last);
            order.push(last);
        }
    }
    orders
}

/// A shortest cycle of `graph`, first by length, then by its first event.
fn shortest_cycle(graph: &DiGraph<EventId, Relation>) -> Option<Vec<(EventId, Relation)>> {
    let mut best: Option<Vec<(EventId, Relation)>> = None;
    for component in tarjan_scc(graph).into_iter().filter(|c| c.len() > 1) {
        for &start in &component {
            let Some(cycle) = cycle_through(graph, start) else {
                continue;
            };
            if best.as_ref().is_none_or(|b| cycle.len() < b.len()) {
                best = Some(cycle);
            }
        }
    }
    best
}

/// A shortest cycle through `start`, by breadth-first search.
fn cycle_through(
    graph: &DiGraph<EventId, Relation>,
    start: NodeIndex,
) -> Option<Vec<(EventId, Relation)>> {
    let mut parent: Vec<Option<(NodeIndex, Relation)>> = vec![None; graph.node_count()];
    let mut queue = VecDeque::from([start]);
    while let Some(n) = queue.pop_front() {
        for edge in graph.edges(n) {
            let (next, relation) = (petgraph::visit::EdgeRef::target(&edge), *edge.weight());
            if next == start {
                let mut cycle = vec![(graph[n], relation)];
                let mut at = n;
                while at != start {
                    let (from, via) = parent[at.index()].expect("invariant: reached from start");
                    cycle.push((graph[from], via));
                    at = from;
                }
                cycle.reverse();
                return Some(cycle);
            }
            if parent[next.index()].is_none() {
                parent[next.index()] = Some((n, relation));
                queue.push_back(next);
            }
        }
    }
    None
}

//! The happens-before graph of one execution, on petgraph.
//!
//! Nodes are events; edges are the relations that generate happens-before:
//! program order between consecutive events of a thread, synchronised-before
//! (sw) from an atomic write to each atomic read that observes it, and an edge
//! from every initial write to the first event of every thread. Happens-before
//! is reachability. The graph is built append-only, so node indices equal event
//! ids. It is acyclic: program order follows each thread's code, and every other
//! edge goes from an event to a later one in the execution (only plain accesses
//! run ahead of program order, and nothing synchronises through them).

use petgraph::algo::{DfsSpace, has_path_connecting};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::Visitable;

use super::EventId;

/// Why an edge is in the graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HbEdge {
    /// Program order: consecutive events of one thread.
    ProgramOrder,
    /// Synchronised before: an atomic write observed by an atomic read.
    Sync,
    /// An initial write precedes every thread's first event.
    Init,
}

/// Reusable scratch space for reachability queries on an [`HbGraph`].
pub type Scratch = DfsSpace<NodeIndex, <DiGraph<EventId, HbEdge> as Visitable>::Map>;

/// Happens-before as a graph of generating edges.
#[derive(Clone, Debug, Default)]
pub struct HbGraph {
    graph: DiGraph<EventId, HbEdge>,
}

impl HbGraph {
    /// Adds the next event; its id must be the number of events added so far.
    pub(crate) fn add_event(&mut self, id: EventId) {
        let node = self.graph.add_node(id);
        debug_assert_eq!(node.index(), id.index(), "invariant: append-only");
    }

    /// Adds an edge between two events already added.
    pub(crate) fn add_edge(&mut self, from: EventId, to: EventId, kind: HbEdge) {
        self.graph.add_edge(node(from), node(to), kind);
    }

    /// Whether `a` happens before `b` (a non-empty path from `a` to `b`).
    /// `space` is reused between queries to avoid allocating.
    ///
    /// # Complexity
    /// O(|V| + |E|) per query.
    pub fn reaches(&self, a: EventId, b: EventId, space: &mut Scratch) -> bool {
        a != b && has_path_connecting(&self.graph, node(a), node(b), Some(space))
    }

    /// A fresh scratch space for [`HbGraph::reaches`].
    pub fn scratch(&self) -> Scratch {
        DfsSpace::new(&self.graph)
    }

    /// Every generating edge, in insertion order.
    pub fn edges(&self) -> impl Iterator<Item = (EventId, EventId, HbEdge)> + '_ {
        self.graph
            .raw_edges()
            .iter()
            .map(|e| (self.graph[e.source()], self.graph[e.target()], e.weight))
    }
}

fn node(id: EventId) -> NodeIndex {
    NodeIndex::new(id.index())
}

//! What the explored state graph says about executions.
//!
//! - **Execution counts.** An execution is a path from the initial state to a
//!   final state. Counting paths is a forward sum over the graph in topological
//!   order. Breadth-first ids are one when every step leads to a state
//!   discovered later (a program without loops, where every step moves some
//!   thread or buffer on); otherwise Kahn's algorithm finds one. States that
//!   Kahn's algorithm never releases lie on or after a cycle (a loop that can
//!   repeat), so infinitely many paths reach them.
//! - **Non-termination.** A reachable state from which no final state can be
//!   reached dooms every execution through it. Each *bottom* strongly connected
//!   component of the doomed states (one with no way out) is where such
//!   executions end up: a single state with no step left, where every
//!   unfinished thread is blocked forever (a blocked outcome: deadlock or
//!   leak), or a cycle some thread runs around forever (a never-terminating
//!   outcome, a spin loop). Its outcome names the threads that have not
//!   finished there.
//!
//! Both are exact only for a complete search; after truncation or interruption
//! they are not computed.

use std::collections::VecDeque;

use petgraph::graph::{DiGraph, NodeIndex};

use super::search::{StateGraph, StateId};
use crate::ir::ThreadId;
use crate::model::machine::Machine;
use crate::outcome::Count;

/// The number of paths from the initial state to each state.
pub(crate) struct PathCounts {
    /// Paths to each state, by id (saturating).
    paths: Vec<u128>,
    /// For each state, by id, whether infinitely many paths reach it (it
    /// lies on or after a cycle); empty when no state does.
    unbounded: Vec<bool>,
}

impl PathCounts {
    /// The number of paths to state `id`.
    pub fn get(&self, id: StateId) -> Count {
        let id = id as usize;
        if self.unbounded.get(id).copied().unwrap_or(false) {
            Count::Infinite
        } else {
            Count::Finite(self.paths[id])
        }
    }
}

/// Number of paths from the initial state to each state.
pub(crate) fn path_counts(graph: &StateGraph) -> PathCounts {
    if ids_are_topological(graph) {
        path_counts_by_id(graph)
    } else {
        path_counts_by_kahn(graph)
    }
}

/// Whether every edge of `graph` leads to a state with a larger id.
fn ids_are_topological(graph: &StateGraph) -> bool {
    (0..graph.len() as StateId).all(|id| graph.successors_of(id).iter().all(|&s| s > id))
}

/// [`path_counts`] for a graph whose ids are a topological order: one
/// sweep in id order, each state's count final when it is reached.
fn path_counts_by_id(graph: &StateGraph) -> PathCounts {
    let mut paths = vec![0u128; graph.len()];
    paths[0] = 1;
    for id in 0..graph.len() {
        let here = paths[id];
        for &succ in graph.successors_of(id as StateId) {
            let s = succ as usize;
            paths[s] = paths[s].saturating_add(here);
        }
    }
    PathCounts {
        paths,
        unbounded: Vec::new(),
    }
}

/// [`path_counts`] by Kahn's algorithm, for any graph.
fn path_counts_by_kahn(graph: &StateGraph) -> PathCounts {
    let n = graph.len();
    let mut in_degree = vec![0u32; n];
    for &succ in &graph.edges {
        in_degree[succ as usize] += 1;
    }
    let mut paths = vec![0u128; n];
    let mut released = vec![false; n];
    paths[0] = 1;
    let mut queue: VecDeque<StateId> = VecDeque::new();
    if in_degree[0] == 0 {
        queue.push_back(0);
    }
    while let Some(id) = queue.pop_front() {
        released[id as usize] = true;
        let here = paths[id as usize];
        for &succ in graph.successors_of(id) {
            let s = succ as usize;
            paths[s] = paths[s].saturating_add(here);
            in_degree[s] -= 1;
            if in_degree[s] == 0 {
                queue.push_back(succ);
            }
        }
    }
    PathCounts {
        paths,
        unbounded: released.into_iter().map(|r| !r).collect(),
    }
}

/// A region of the state graph in which executions stay forever.
#[derive(Debug)]
pub(crate) struct Trap {
    /// The threads that have not finished in some state of the region.
    pub unfinished: Vec<ThreadId>,
    /// The region's state with the smallest id (the first discovered).
    pub entry: StateId,
    /// Whether executions can cycle inside the region (a spin loop) rather than
    /// stop in one state with no step left, every unfinished thread blocked.
    pub cyclic: bool,
}

/// The bottom strongly connected components of the states that cannot reach a
/// final state. `is_final` is indexed by state id.
pub(crate) fn traps(
    graph: &StateGraph,
    machine: &Machine<'_>,
    is_final: &[bool],
    toward: &Toward,
) -> Vec<Trap> {
    let can_finish: Vec<bool> = (0..graph.len())
        .map(|id| is_final[id] || toward.next(graph, id as StateId).is_some())
        .collect();
    if can_finish.iter().all(|&c| c) {
        return Vec::new();
    }
    let mut doomed = DiGraph::<StateId, ()>::new();
    let mut node_of = vec![NodeIndex::end(); graph.len()];
    for id in 0..graph.len() {
        if !can_finish[id] {
            node_of[id] = doomed.add_node(id as StateId);
        }
    }
    for id in 0..graph.len() {
        if can_finish[id] {
            continue;
        }
        for &succ in graph.successors_of(id as StateId) {
            // Every successor of a doomed state is doomed.
            doomed.add_edge(node_of[id], node_of[succ as usize], ());
        }
    }
    let components = petgraph::algo::tarjan_scc(&doomed);
    let mut component_of = vec![usize::MAX; doomed.node_count()];
    for (c, nodes) in components.iter().enumerate() {
        for n in nodes {
            component_of[n.index()] = c;
        }
    }
    let mut traps = Vec::new();
    for (c, nodes) in components.iter().enumerate() {
        let is_bottom = nodes
            .iter()
            .all(|&n| doomed.neighbors(n).all(|m| component_of[m.index()] == c));
        if !is_bottom {
            continue;
        }
        let ids: Vec<StateId> = nodes.iter().map(|&n| doomed[n]).collect();
        let cyclic = nodes.len() > 1 || doomed.neighbors(nodes[0]).any(|m| m == nodes[0]);
        let unfinished: Vec<ThreadId> = machine
            .thread_ids()
            .filter(|&t| {
                ids.iter()
                    .any(|&id| !machine.thread_done(&graph.states.get(id), t))
            })
            .collect();
        traps.push(Trap {
            unfinished,
            entry: *ids
                .iter()
                .min()
                .expect("invariant: components are non-empty"),
            cyclic,
        });
    }
    traps
}

/// How a witness goes on from a state to a final state.
pub(crate) enum Toward {
    /// For each state, the next state on a shortest path to a final state
    /// (`None` for final states and for states that cannot reach one), from
    /// [`toward_final`].
    Shortest(Vec<Option<StateId>>),
    /// Any successor: in the whole state graph of a graded machine
    /// ([`Machine::graded`]) every path ends in a final state, and all
    /// final states lie in the last layer, so every path to one is a
    /// shortest one.
    Any,
}

impl Toward {
    /// The next state from `id` toward a final state, if there is one.
    pub fn next(&self, graph: &StateGraph, id: StateId) -> Option<StateId> {
        match self {
            Toward::Shortest(next) => next[id as usize],
            Toward::Any => graph.successors_of(id).first().copied(),
        }
    }
}

/// For each state, the next state on a shortest path to a final state (`None`
/// for final states and for states that cannot reach one): a backward
/// breadth-first search from every final state.
pub(crate) fn toward_final(graph: &StateGraph, is_final: &[bool]) -> Vec<Option<StateId>> {
    let n = graph.len();
    let mut predecessor_start = vec![0u32; n + 1];
    for &succ in &graph.edges {
        predecessor_start[succ as usize + 1] += 1;
    }
    for i in 0..n {
        predecessor_start[i + 1] += predecessor_start[i];
    }
    let mut fill = predecessor_start.clone();
    let mut predecessors = vec![0 as StateId; graph.edges.len()];
    for id in 0..n {
        for &succ in graph.successors_of(id as StateId) {
            predecessors[fill[succ as usize] as usize] = id as StateId;
            fill[succ as usize] += 1;
        }
    }
    let mut next = vec![None; n];
    let mut reached = is_final.to_vec();
    let mut queue: VecDeque<StateId> = (0..n as StateId)
        .filter(|&id| is_final[id as usize])
        .collect();
    while let Some(id) = queue.pop_front() {
        let range =
            predecessor_start[id as usize] as usize..predecessor_start[id as usize + 1] as usize;
        for &p in &predecessors[range] {
            if !reached[p as usize] {
                reached[p as usize] = true;
                next[p as usize] = Some(id);
                queue.push_back(p);
            }
        }
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::Limits;
    use crate::explore::search::search;
    use crate::model::Model;
    use crate::syntax::parse_str;

    /// Explores `threads` under tso; whether its ids are a topological
    /// order, and its path counts both ways.
    fn counted(threads: &str) -> (bool, Vec<Count>, Vec<Count>) {
        let all = |counts: PathCounts| -> Vec<Count> {
            (0..counts.paths.len() as StateId)
                .map(|id| counts.get(id))
                .collect()
        };
        let source = format!(r#"Litmus(name: "t", threads: {threads}, condition: "exists true")"#);
        let program = parse_str(&source, "t.ron").unwrap().program;
        let model = Model::tso();
        let machine = Machine::new(&program, &model);
        let (graph, _) = search(&machine, Limits::default(), None, &mut None);
        let by_id = ids_are_topological(&graph).then(|| all(path_counts_by_id(&graph)));
        (
            by_id.is_some(),
            by_id.unwrap_or_default(),
            all(path_counts_by_kahn(&graph)),
        )
    }

    #[test]
    fn a_loop_free_program_is_counted_in_id_order_as_kahn_counts_it() {
        let (topological, by_id, by_kahn) = counted(
            r#"[[Store("x", 1), Load("r0", "y")], [Store("y", 1), Load("r0", "x")], [Store("x", 2)]]"#,
        );
        assert!(
            topological,
            "every step of a loop-free program leads to a later state"
        );
        assert_eq!(by_id, by_kahn);
        assert!(
            by_id
                .iter()
                .all(|c| matches!(c, Count::Finite(n) if *n > 0))
        );
    }

    #[test]
    fn a_loop_keeps_kahns_count_with_its_unbounded_states() {
        let (topological, _, by_kahn) =
            counted(r#"[[Loop(body: [Load("r0", "x")], until: "r0 == 1")], [Store("x", 1)]]"#);
        assert!(!topological, "the loop steps back to an earlier state");
        assert!(by_kahn.contains(&Count::Infinite));
    }
}

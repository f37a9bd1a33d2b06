//! What the explored state graph says about executions.
//!
//! - **Execution counts.** An execution is a path from the initial state to a
//!   final state. Counting paths is a forward sum over the graph in topological
//!   order. Breadth-first ids are one when every step leads to a state
//!   discovered later (a program without loops, where every step moves some
//!   thread or buffer on); otherwise Kahn's algorithm finds one. States that
//!   Kahn's algorithm never releases lie on or after a cycle (a loop that can
//!   repeat), so infinitely many paths reach them. The search of a graded
//!   machine keeps no transitions and counts the paths to its dead ends
//!   itself, layer by layer ([`super::search::LayerPaths`]).
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

use super::search::{StateGraph, StateId, Transitions};
use crate::ir::ThreadId;
use crate::model::machine::Machine;
use crate::outcome::Count;

/// The number of paths from the initial state to each state, or to each
/// dead end.
pub(crate) enum PathCounts<'g> {
    /// For every state.
    Every {
        /// Paths to each state, by id (saturating).
        paths: Vec<u128>,
        /// For each state, by id, whether infinitely many paths reach it (it
        /// lies on or after a cycle); empty when no state does.
        unbounded: Vec<bool>,
    },
    /// For each dead end, sorted by id ([`super::search::LayerPaths`]).
    DeadEnds(&'g [(StateId, u128)]),
}

impl PathCounts<'_> {
    /// The number of paths to state `id` (a dead end, for
    /// [`PathCounts::DeadEnds`]).
    pub fn get(&self, id: StateId) -> Count {
        match self {
            PathCounts::Every { paths, unbounded } => {
                let id = id as usize;
                if unbounded.get(id).copied().unwrap_or(false) {
                    Count::Infinite
                } else {
                    Count::Finite(paths[id])
                }
            }
            PathCounts::DeadEnds(ends) => {
                let i = ends
                    .binary_search_by_key(&id, |&(end, _)| end)
                    .expect("invariant: only dead ends are asked for");
                Count::Finite(ends[i].1)
            }
        }
    }
}

/// Number of paths from the initial state to each state (each dead end,
/// when the search counted them).
pub(crate) fn path_counts(graph: &StateGraph) -> PathCounts<'_> {
    match &graph.transitions {
        Transitions::Counted(counted) => PathCounts::DeadEnds(&counted.dead_ends),
        Transitions::Kept(_) if ids_are_topological(graph) => path_counts_by_id(graph),
        Transitions::Kept(_) => path_counts_by_kahn(graph),
    }
}

/// Whether every edge of `graph` leads to a state with a larger id.
fn ids_are_topological(graph: &StateGraph) -> bool {
    (0..graph.len() as StateId).all(|id| graph.successors_of(id).iter().all(|&s| s > id))
}

/// [`path_counts`] for a graph whose ids are a topological order: one
/// sweep in id order, each state's count final when it is reached.
fn path_counts_by_id(graph: &StateGraph) -> PathCounts<'static> {
    let mut paths = vec![0u128; graph.len()];
    paths[0] = 1;
    for id in 0..graph.len() {
        let here = paths[id];
        for &succ in graph.successors_of(id as StateId) {
            let s = succ as usize;
            paths[s] = paths[s].saturating_add(here);
        }
    }
    PathCounts::Every {
        paths,
        unbounded: Vec::new(),
    }
}

/// [`path_counts`] by Kahn's algorithm, for any graph.
fn path_counts_by_kahn(graph: &StateGraph) -> PathCounts<'static> {
    let n = graph.len();
    let mut in_degree = vec![0u32; n];
    for &succ in graph.edges() {
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
    PathCounts::Every {
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
/// final state. `is_final` and `toward` (from [`toward_final`]) are indexed by
/// state id.
pub(crate) fn traps(
    graph: &StateGraph,
    machine: &Machine<'_>,
    is_final: &[bool],
    toward: &[Option<StateId>],
) -> Vec<Trap> {
    let can_finish: Vec<bool> = is_final
        .iter()
        .zip(toward)
        .map(|(&done, next)| done || next.is_some())
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

/// For each state, the next state on a shortest path to a final state (`None`
/// for final states and for states that cannot reach one): a backward
/// breadth-first search from every final state.
pub(crate) fn toward_final(graph: &StateGraph, is_final: &[bool]) -> Vec<Option<StateId>> {
    let n = graph.len();
    let mut predecessor_start = vec![0u32; n + 1];
    for &succ in graph.edges() {
        predecessor_start[succ as usize + 1] += 1;
    }
    for i in 0..n {
        predecessor_start[i + 1] += predecessor_start[i];
    }
    let mut fill = predecessor_start.clone();
    let mut predecessors = vec![0 as StateId; graph.edges().len()];
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

    fn program(threads: &str) -> crate::ir::Program {
        let source = format!(r#"Litmus(name: "t", threads: {threads}, condition: "exists true")"#);
        parse_str(&source, "t.ron").unwrap().program
    }

    /// Explores `threads` (not straight-line code, so every transition is
    /// kept) under tso; whether its ids are a topological order, and its
    /// path counts both ways.
    fn counted(threads: &str) -> (bool, Vec<Count>, Vec<Count>) {
        let all = |counts: PathCounts| -> Vec<Count> {
            let PathCounts::Every { paths, .. } = &counts else {
                panic!("every state is counted");
            };
            (0..paths.len() as StateId)
                .map(|id| counts.get(id))
                .collect()
        };
        let program = program(threads);
        let model = Model::tso();
        let machine = Machine::new(&program, &model);
        assert!(!machine.graded());
        let (graph, _) = search(&machine, None, Limits::default(), None, &mut None);
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
            r#"[[Store("x", 1), Load("r0", "y")], [Store("y", 1), Load("r0", "x")],
                [Load("r0", "x"), If(cond: "r0 == 1", then: [Store("x", 2)])]]"#,
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

    /// The number of maximal paths from `state`, enumerated one by one.
    fn paths_from(machine: &Machine<'_>, state: &[crate::ir::Val]) -> u128 {
        let mut next = Vec::new();
        machine.successors(state, &mut Vec::new(), |_, _, _, n| next.push(n.to_vec()));
        if next.is_empty() {
            return 1;
        }
        next.iter().map(|n| paths_from(machine, n)).sum()
    }

    #[test]
    fn a_graded_search_counts_the_paths_to_its_dead_ends_layer_by_layer() {
        let program = program(
            r#"[[Store("x", 1), Load("r0", "y")], [Store("y", 1), Fence, Load("r0", "x")],
                [Store("x", 2)]]"#,
        );
        for model in [Model::sc(), Model::tso(), Model::pso()] {
            let machine = Machine::new(&program, &model);
            assert!(machine.graded());
            let (graph, _) = search(&machine, None, Limits::default(), None, &mut None);
            let PathCounts::DeadEnds(ends) = path_counts(&graph) else {
                panic!("{}: a graded search counts its dead ends", model.name);
            };
            let total: u128 = ends.iter().map(|&(_, n)| n).sum();
            let enumerated = paths_from(&machine, &machine.initial_state());
            assert_eq!(total, enumerated, "{}", model.name);
            assert!(ends.len() > 1 && total >= 60, "{}: {total}", model.name);
        }
    }
}

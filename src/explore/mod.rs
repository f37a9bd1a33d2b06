//! Exploring a program under a model: every reachable outcome, how many
//! executions reach each, one witness each, and whether the answer is complete.
//!
//! The search is exhaustive within [`Limits`]: hitting the state limit, or a
//! cancellation request, ends it with [`Completeness::Truncated`] or
//! [`Completeness::Interrupted`], never with a silently partial answer.
//!
//! # Example
//! ```
//! use hbsim::{explore::explore, model::Model, syntax::parse_str};
//!
//! let test = parse_str(r#"
//!     Litmus(
//!         name: "SB",
//!         threads: [
//!             [ Store("x", 1), Load("r0", "y") ],
//!             [ Store("y", 1), Load("r0", "x") ],
//!         ],
//!         condition: "exists (0:r0=0 /\\ 1:r0=0)",
//!     )"#, "sb.ron").unwrap();
//! let sc = explore(&test.program, &Model::sc());
//! let tso = explore(&test.program, &Model::tso());
//! // Observables are 0:r0, 1:r0, x, y: store buffering only shows under TSO.
//! assert!(!sc.outcomes.contains_final(&[0, 0, 1, 1]));
//! assert!(tso.outcomes.contains_final(&[0, 0, 1, 1]));
//! assert_eq!(tso.outcomes.len(), 4);
//! ```

mod analysis;
pub mod enumerate;
mod races;
mod search;
mod store;

pub use races::{RaceReport, Site};

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::graph::{self, GraphStats};
use crate::ir::{Program, ThreadId};
use crate::model::Model;
use crate::model::machine::Machine;
use crate::outcome::{Count, Outcome, OutcomeSet};
use crate::trace::Trace;

/// State graphs smaller than this are analysed on one thread.
const PARALLEL_ANALYSIS_MIN: usize = 1 << 14;

/// Bounds on one exploration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Limits {
    /// Maximum number of distinct states to visit. Defaults to
    /// [`Limits::DEFAULT_MAX_STATES`].
    pub max_states: usize,
    /// Maximum memory, in bytes, for the visited states and the state graph
    /// (estimated from their sizes). Defaults to [`Limits::DEFAULT_MAX_MEMORY`].
    pub max_memory: usize,
}

impl Limits {
    /// The default state limit: ten million states.
    pub const DEFAULT_MAX_STATES: usize = 10_000_000;
    /// The default memory limit: 4 GiB.
    pub const DEFAULT_MAX_MEMORY: usize = 4 << 30;

    /// The default limits with another state limit.
    pub fn with_max_states(max_states: usize) -> Self {
        Limits {
            max_states,
            ..Limits::default()
        }
    }

    /// These limits with another memory limit, in bytes.
    pub fn max_memory(self, max_memory: usize) -> Self {
        Limits { max_memory, ..self }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_states: Limits::DEFAULT_MAX_STATES,
            max_memory: Limits::DEFAULT_MAX_MEMORY,
        }
    }
}

/// Which limit stopped an exploration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Limit {
    /// The state limit, with its value.
    States(usize),
    /// The memory limit, with its value in bytes.
    Memory(usize),
    /// The graph engine's loop unrolling bound, with its value: some
    /// execution needed more loop iterations.
    Unroll(u32),
    /// The `go` model's look-ahead, with its value: in some state a thread
    /// had an instruction further past its pc that rule 3 would let run
    /// early (docs/models.md), so runs reordering it are missing.
    Window(u32),
}

/// Whether an exploration saw every reachable state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Completeness {
    /// Every reachable state was explored: the outcome set is exact.
    Exhaustive,
    /// A limit was reached: outcomes may be missing.
    Truncated(Limit),
    /// Cancelled (Ctrl-C): outcomes may be missing.
    Interrupted,
}

impl Completeness {
    /// Whether the outcome set is exact.
    pub fn is_exhaustive(self) -> bool {
        self == Completeness::Exhaustive
    }
}

/// A snapshot of a running exploration, for progress reporting.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Distinct states found so far.
    pub states: usize,
    /// Transitions taken so far.
    pub transitions: usize,
    /// States found but not yet expanded.
    pub pending: usize,
    /// The breadth-first layer being expanded: the number of steps from the
    /// initial state to its states.
    pub depth: usize,
    /// Time since the exploration started.
    pub elapsed: Duration,
}

/// Counters describing the work an exploration did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Distinct states visited.
    pub states: usize,
    /// Transitions (state, step, successor) taken.
    pub transitions: usize,
    /// Total executions, whatever outcome each ends in: paths from the
    /// initial state to a final or panicked state, or into a blocked state or a
    /// cycle no final state can be reached from. `None` when the exploration
    /// was cut short.
    pub executions: Option<Count>,
    /// How many of them have a data race.
    pub racy_executions: Option<Count>,
    /// Wall-clock time.
    pub elapsed: Duration,
    /// Estimated bytes of the visited states and the state graph (what
    /// [`Limits::max_memory`] bounds).
    pub memory: usize,
    /// The classes of interchangeable threads (same code, same initial
    /// registers) by which the state-space engine reduced its states: each
    /// stored state stands for every state that renames threads within
    /// their classes, and `states` and `transitions` count such classes.
    /// Empty when it reduced none ([`Explorer::symmetry`]).
    pub symmetry: Vec<Vec<ThreadId>>,
    /// Whether the state-space engine left out some state's enabled steps,
    /// taking only a persistent set of them ([`Explorer::partial_order`]):
    /// `states` and `transitions` then count the reduced graph, and
    /// executions are not counted (`executions` is `None`, as in every
    /// outcome). False where every persistent set held every enabled step
    /// (`ainc N`: each step conflicts with all the others).
    pub partial_order: bool,
    /// The graph engine's counters (`None` for the state-space engine, whose
    /// `states` and `transitions` are then machine states and steps; for the
    /// graph engine they are execution graphs visited and events added, and
    /// `executions` counts distinct consistent executions).
    pub graph: Option<GraphStats>,
}

impl Stats {
    /// Wall-clock time per distinct state, in nanoseconds.
    pub fn ns_per_state(&self) -> f64 {
        self.elapsed.as_secs_f64() * 1e9 / self.states.max(1) as f64
    }
}

/// Which engine explores a program.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum EngineChoice {
    /// The graph engine where it supports the program and model, unless the
    /// program has loops, read-modify-writes on one variable in several
    /// threads or many reads of one variable followed by writes to it
    /// ([`graph::prefers_states`]); otherwise the state-space engine.
    #[default]
    Auto,
    /// The state-space engine: every machine state (the reference semantics).
    States,
    /// The execution-graph engine ([`crate::graph`]), unrolling loops;
    /// the state-space engine where it does not support the program or model.
    Graph,
}

/// The engine that ran an exploration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Engine {
    /// The state-space engine.
    States,
    /// The execution-graph engine, with its loop unrolling bound.
    Graph {
        /// Loop iterations unrolled.
        unroll: u32,
    },
}

/// Which engine ran, and why the choice fell back to the state-space engine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EngineUsed {
    /// The engine asked for.
    pub requested: EngineChoice,
    /// The engine.
    pub engine: Engine,
    /// Why the graph engine was not used, when the choice allowed it.
    pub fallback: Option<String>,
}

/// The result of exploring a program under a model.
#[derive(Clone, Debug)]
pub struct Exploration {
    /// The model's name.
    pub model: String,
    /// Which engine explored it.
    pub engine: EngineUsed,
    /// Every outcome reached.
    pub outcomes: OutcomeSet,
    /// Every pair of instructions found racing, each with a witness.
    pub races: Vec<RaceReport>,
    /// Work done.
    pub stats: Stats,
    /// Whether the outcome set is exact.
    pub completeness: Completeness,
}

/// Configures and runs one exploration.
pub struct Explorer<'a> {
    program: &'a Program,
    model: &'a Model,
    limits: Limits,
    engine: EngineChoice,
    unroll: u32,
    witnesses: bool,
    symmetry: bool,
    partial_order: bool,
    cancel: Option<&'a AtomicBool>,
    progress: Option<&'a mut dyn FnMut(&Progress)>,
}

impl std::fmt::Debug for Explorer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Explorer")
            .field("program", &self.program.name)
            .field("model", &self.model.name)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl<'a> Explorer<'a> {
    /// An explorer with default limits, no cancellation and no progress reports.
    pub fn new(program: &'a Program, model: &'a Model) -> Self {
        Explorer {
            program,
            model,
            limits: Limits::default(),
            engine: EngineChoice::Auto,
            unroll: graph::DEFAULT_UNROLL,
            witnesses: true,
            symmetry: true,
            partial_order: true,
            cancel: None,
            progress: None,
        }
    }

    /// Sets the limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Chooses the engine.
    pub fn engine(mut self, engine: EngineChoice) -> Self {
        self.engine = engine;
        self
    }

    /// Sets how many iterations of each loop the graph engine unrolls
    /// (default [`graph::DEFAULT_UNROLL`], at most [`graph::MAX_UNROLL`]:
    /// larger values are taken as it, so a loop that never touches memory
    /// still ends).
    pub fn unroll(mut self, unroll: u32) -> Self {
        self.unroll = unroll.min(graph::MAX_UNROLL);
        self
    }

    /// Sets whether each outcome keeps a witness ([`crate::outcome::OutcomeInfo::witness`];
    /// default yes). Without them the graph engine builds no machine trace
    /// for an outcome, a fifth to a third of its time on tests with thousands
    /// of outcomes, and the state-space engine follows no path back to the
    /// initial state; races keep their witnesses either way.
    pub fn witnesses(mut self, keep: bool) -> Self {
        self.witnesses = keep;
        self
    }

    /// Sets whether the state-space engine stores one state per class of
    /// states that rename interchangeable threads (default yes; see
    /// [`Stats::symmetry`]). Outcomes, counts, races and witnesses are the
    /// same either way; only states and transitions differ. Reduced are
    /// straight-line programs under store-buffer models whose race
    /// detection keeps no clocks (no atomic access, or no variable that can
    /// race), with two or more threads of equal code and registers.
    pub fn symmetry(mut self, reduce: bool) -> Self {
        self.symmetry = reduce;
        self
    }

    /// Sets whether the state-space engine takes only a persistent set of
    /// each state's enabled steps (default yes; partial-order reduction,
    /// [`Stats::partial_order`]). Outcomes, their race-freedom, races and
    /// witnesses are the same either way; executions are counted only
    /// where no step was left out. Reduced are programs without loops or Go
    /// synchronisation under store-buffer models whose race detection keeps
    /// no clocks (no atomic access, or no variable that can race).
    pub fn partial_order(mut self, reduce: bool) -> Self {
        self.partial_order = reduce;
        self
    }

    /// Which engine [`Explorer::run`] will use, and why not the graph engine
    /// when the choice allowed it. Under the `go` model the graph engine
    /// explores the program as `sc` and hands it to the state-space engine
    /// if some execution has a data race, which only running tells.
    pub fn engine_used(&self) -> EngineUsed {
        let graph = EngineUsed {
            engine: Engine::Graph {
                unroll: self.unroll,
            },
            fallback: None,
            requested: self.engine,
        };
        let states = |why: String| EngineUsed {
            requested: self.engine,
            engine: Engine::States,
            fallback: Some(why),
        };
        match self.engine {
            EngineChoice::States => EngineUsed {
                requested: self.engine,
                engine: Engine::States,
                fallback: None,
            },
            choice => match graph::unsupported(self.program, self.model) {
                Some(why) => states(why),
                None => match graph::prefers_states(self.program) {
                    Some(why) if choice == EngineChoice::Auto => states(why),
                    _ => graph,
                },
            },
        }
    }

    /// Stops the exploration (as [`Completeness::Interrupted`]) once `flag` is set.
    pub fn cancel_on(mut self, flag: &'a AtomicBool) -> Self {
        self.cancel = Some(flag);
        self
    }

    /// Calls `report` periodically while exploring.
    pub fn on_progress(mut self, report: &'a mut dyn FnMut(&Progress)) -> Self {
        self.progress = Some(report);
        self
    }

    /// Runs the exploration.
    pub fn run(self) -> Exploration {
        let engine = self.engine_used();
        match engine.engine {
            Engine::Graph { unroll } => self.run_graph(unroll, engine),
            Engine::States => self.run_states(engine, Instant::now()),
        }
    }

    /// Runs the graph engine.
    fn run_graph(mut self, unroll: u32, engine: EngineUsed) -> Exploration {
        let started = Instant::now();
        let found = match graph::explore(
            self.program,
            self.model,
            self.limits,
            (unroll, self.witnesses),
            self.cancel,
            &mut self.progress,
        ) {
            Ok(found) => found,
            Err(why) => {
                let engine = EngineUsed {
                    engine: Engine::States,
                    fallback: Some(why.to_string()),
                    ..engine
                };
                return self.run_states(engine, started);
            }
        };
        let exhaustive = found.completeness.is_exhaustive();
        let racy = found
            .outcomes
            .iter()
            .filter_map(|(_, info)| info.racy_executions)
            .fold(Count::ZERO, |a, b| a + b);
        let mut outcomes = found.outcomes;
        if !exhaustive {
            outcomes.forget_counts();
        }
        Exploration {
            model: self.model.name.clone(),
            engine,
            outcomes,
            races: found.races,
            stats: Stats {
                states: found.stats.graphs,
                transitions: found.stats.events,
                executions: exhaustive.then_some(Count::Finite(found.stats.explored as u128)),
                racy_executions: exhaustive.then_some(racy),
                elapsed: started.elapsed(),
                memory: found.memory,
                symmetry: Vec::new(),
                partial_order: false,
                graph: Some(found.stats),
            },
            completeness: found.completeness,
        }
    }

    /// Runs the state-space engine; the reported time runs from `started`.
    fn run_states(mut self, engine: EngineUsed, started: Instant) -> Exploration {
        let machine = Machine::new(self.program, self.model).with_partial_order(self.partial_order);
        let symmetry = self.symmetry.then(|| machine.symmetry()).flatten();
        let (graph, completeness) = search::search(
            &machine,
            symmetry,
            self.limits,
            self.cancel,
            &mut self.progress,
        );
        // Only a whole state graph has counts and traps (deadlocks, leaks,
        // loops); cut at the go look-ahead, it is whole, but what a longer
        // look-ahead would add is not, so its counts are dropped at the end.
        let exhaustive = completeness.is_exhaustive();
        // A search that left out no step walked the whole graph.
        let reduced = graph.left_out;
        let completeness = match completeness {
            Completeness::Exhaustive if machine.window_cut() => {
                Completeness::Truncated(Limit::Window(crate::model::GO_LOOK_AHEAD as u32))
            }
            other => other,
        };
        // Paths through persistent sets are not the machine's executions.
        let counted = completeness.is_exhaustive() && !reduced;
        // Final states (and panicked ones) have no successors; only those
        // need decoding.
        let mut is_final = vec![false; graph.len()];
        let mut finals = Vec::new();
        let mut state = Vec::new();
        for id in 0..graph.len() as u32 {
            if !graph.is_dead_end(id) {
                continue;
            }
            graph.states.get_into(id, &mut state);
            let panicked = machine.panicked(&state);
            if !machine.is_final(&state) && panicked.is_none() {
                // Neither a graded machine nor a reduced one (whose traps are
                // never looked for) can block.
                debug_assert!(
                    !machine.graded() && !machine.reduces_partial_order(),
                    "invariant: a graded or reduced machine never blocks"
                );
                continue;
            }
            is_final[id as usize] = true;
            // Under symmetry the state stands for its class, whose outcomes
            // are listed once the paths are counted.
            let outcome = match panicked {
                Some(t) => Some(Outcome::Panic(t)),
                None if graph.symmetry.is_some() => None,
                None => Some(Outcome::Final(machine.observe(&state))),
            };
            finals.push((id, outcome, machine.is_racy(&state)));
        }
        // Two independent passes over the whole graph, side by side when it
        // is large enough to repay handing one to another thread.
        let counts = || (exhaustive && !reduced).then(|| analysis::path_counts(&graph));
        // A graph that keeps no transitions is a graded machine's, which
        // has no traps and whose race witnesses go on by the machine alone.
        let toward = || {
            graph
                .keeps_transitions()
                .then(|| analysis::toward_final(&graph, &is_final))
        };
        let (counts, toward) = if graph.len() < PARALLEL_ANALYSIS_MIN {
            (counts(), toward())
        } else {
            rayon::join(counts, toward)
        };
        let count_of = |id: u32| counts.as_ref().map(|c| c.get(id));
        let mut outcomes = OutcomeSet::new(self.program);
        let (mut executions, mut racy_executions) = (Count::ZERO, Count::ZERO);
        for (id, outcome, racy) in finals {
            let count = count_of(id);
            let total = count.unwrap_or(Count::ZERO);
            executions = executions + total;
            if racy {
                racy_executions = racy_executions + total;
            }
            let keep = self.witnesses;
            match (outcome, &graph.symmetry) {
                (Some(outcome), _) => outcomes.add(outcome, count, racy, || {
                    keep.then(|| graph.path_to(&machine, id))
                }),
                (None, Some(symmetry)) => {
                    // Every state of the class is final, the paths to the
                    // class shared equally among them.
                    let (layout, state) = (&machine.core.layout, graph.states.get(id));
                    let size = symmetry.class_size(layout, &state);
                    let share = count.map(|count| count.share(size));
                    let mut walk = None;
                    symmetry.class_of(layout, &state, |from| {
                        let outcome = Outcome::Final(machine.observe_renamed(&state, from));
                        outcomes.add(outcome, share, racy, || {
                            keep.then(|| {
                                let (trace, _, at) =
                                    walk.get_or_insert_with(|| graph.walk_to(&machine, id));
                                rename_onto(trace, at, from)
                            })
                        });
                    });
                }
                (None, None) => unreachable!("invariant: only a class has no outcome yet"),
            }
        }
        if let (Some(counts), Some(toward)) = (&counts, &toward) {
            for trap in analysis::traps(&graph, &machine, &is_final, toward) {
                let count = if trap.cyclic {
                    Count::Infinite
                } else {
                    counts.get(trap.entry)
                };
                let racy = machine.is_racy(&graph.states.get(trap.entry));
                executions = executions + count;
                if racy {
                    racy_executions = racy_executions + count;
                }
                let outcome = if trap.cyclic {
                    Outcome::NeverTerminates(trap.unfinished)
                } else {
                    Outcome::Blocked(trap.unfinished)
                };
                // Kept until the blocked threads are noted from them.
                outcomes.add(outcome, Some(count), racy, || {
                    Some(graph.path_to(&machine, trap.entry))
                });
            }
        }
        note_blocked_threads(&machine, &mut outcomes);
        if !counted {
            outcomes.forget_counts();
        }
        if !self.witnesses {
            outcomes.witnesses_mut().for_each(|w| *w = None);
        }
        let races = races::report(&machine, &graph, toward.as_deref());
        Exploration {
            model: self.model.name.clone(),
            engine,
            outcomes,
            races,
            stats: Stats {
                states: graph.len(),
                transitions: graph.transition_count(),
                executions: counted.then_some(executions),
                racy_executions: counted.then_some(racy_executions),
                elapsed: started.elapsed(),
                memory: graph.memory,
                symmetry: graph
                    .symmetry
                    .as_ref()
                    .map_or_else(Vec::new, |symmetry| symmetry.classes().collect()),
                partial_order: reduced,
                graph: None,
            },
            completeness,
        }
    }
}

/// `trace`, which reaches a state whose thread `at[j]` is thread `j` of a
/// canonical state `c`, renamed to reach the state whose thread `i` is
/// thread `from[i]` of `c`.
fn rename_onto(trace: &Trace, at: &[usize], from: &[usize]) -> Trace {
    let to = crate::model::symmetry::inverse(from);
    let mut rename = vec![0; at.len()];
    for (j, &t) in at.iter().enumerate() {
        rename[t] = to[j];
    }
    Trace {
        steps: trace
            .steps
            .iter()
            .map(|step| step.renamed(|t| ThreadId(rename[t.index()] as u16)))
            .collect(),
    }
}

/// For each blocked outcome, records where its witness leaves each blocked
/// thread: the state it ends in has no step left.
fn note_blocked_threads(machine: &Machine<'_>, outcomes: &mut OutcomeSet) {
    let stuck: Vec<(Outcome, Trace)> = outcomes
        .iter()
        .filter(|(o, _)| matches!(o, Outcome::Blocked(_)))
        .map(|(o, info)| {
            let witness = info.witness.clone();
            (
                o.clone(),
                witness.expect("invariant: blocked outcomes keep witnesses"),
            )
        })
        .collect();
    for (outcome, witness) in stuck {
        let mut state = machine.initial_state();
        for &step in &witness.steps {
            state = machine
                .apply(&state, step)
                .expect("invariant: witnesses replay")
                .1;
        }
        let blocked = machine
            .thread_ids()
            .filter(|&t| !machine.thread_done(&state, t))
            .map(|t| (t, machine.core.layout.pc(&state, t)))
            .collect();
        outcomes.set_blocked(&outcome, blocked);
    }
}

/// Explores `program` under `model` with default limits.
pub fn explore(program: &Program, model: &Model) -> Exploration {
    Explorer::new(program, model).run()
}

//! The theorems of the memory models, as properties of random programs
//! (hbsim::testing), plus properties of hbsim itself. Case counts are set for a
//! CI run of well under a minute; run deeper with e.g.
//! `PROPTEST_CASES=2000 cargo test --release --test properties`.
//!
//! A failing case prints as a RON litmus file: save it under litmus/ (with its
//! expectations, derived from the model definitions) to keep it as a regression.

#[path = "common/axiomatic.rs"]
mod axiomatic;
#[path = "common/drf.rs"]
mod drf;

use std::collections::BTreeSet;

use axiomatic::{Axioms, reference_outcomes};

use hbsim::explore::enumerate::executions;
use hbsim::explore::{Exploration, explore};
use hbsim::hb::{EventId, EventKind, Execution};
use hbsim::ir::{Access, Val};
use hbsim::model::Model;
use hbsim::report::{RunReport, text};
use hbsim::syntax::{parse_str, reformat};
use hbsim::testing::{GeneratedTest, Kinds, Shape, programs};
use petgraph::algo::is_cyclic_directed;
use petgraph::graph::DiGraph;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::FileFailurePersistence;

/// Cases per property unless `PROPTEST_CASES` says otherwise.
const CASES: u32 = 512;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(CASES),
        // Failing cases are saved beside this file and replayed first.
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

fn finals(exploration: &Exploration) -> BTreeSet<Vec<Val>> {
    exploration
        .outcomes
        .finals()
        .map(|(v, _)| v.to_vec())
        .collect()
}

/// An instruction: its thread and index.
type Site = (u16, usize);

/// Each racing pair of instructions, by variable.
fn race_pairs(exploration: &Exploration) -> BTreeSet<(u16, Site, Site)> {
    exploration
        .races
        .iter()
        .map(|r| {
            let (a, b) = (
                (r.first.thread.0, r.first.pc),
                (r.second.thread.0, r.second.pc),
            );
            (r.loc.0, a.min(b), a.max(b))
        })
        .collect()
}

proptest! {
    #![proptest_config(config())]

    /// outcomes(sc) ⊆ outcomes(tso) ⊆ outcomes(pso) ⊆ outcomes(go).
    #[test]
    fn models_are_ordered_by_strength(test in programs(Shape::default())) {
        let program = test.program();
        let sets: Vec<_> = Model::builtins().iter().map(|m| finals(&explore(&program, m))).collect();
        for pair in sets.windows(2) {
            prop_assert!(pair[0].is_subset(&pair[1]), "{test}");
        }
    }

    /// DRF-SC: a program no SC execution of which races has exactly its SC
    /// outcomes under every model (under go, unless a variable read plainly
    /// is written atomically by several threads: tests/drf_sc.rs).
    #[test]
    fn race_free_programs_are_sequentially_consistent(test in programs(Shape::default())) {
        let program = test.program();
        let sc = explore(&program, &Model::sc());
        if sc.races.is_empty() {
            for model in Model::builtins() {
                if model.name == "go" && drf::plain_read_of_atomic_writes(&program) {
                    continue;
                }
                prop_assert_eq!(finals(&explore(&program, &model)), finals(&sc), "{} {}", model.name, test);
            }
        }
    }

    /// A fence after every store restores SC under tso and pso.
    #[test]
    fn fences_after_stores_restore_sc(test in programs(Shape { kinds: Kinds { atomics: false, ..Kinds::ALL }, ..Shape::default() })) {
        let fenced = test.with_fences_after_stores();
        let program = fenced.program();
        let sc = finals(&explore(&program, &Model::sc()));
        prop_assert_eq!(&finals(&explore(&program, &Model::tso())), &sc, "{}", fenced);
        prop_assert_eq!(&finals(&explore(&program, &Model::pso())), &sc, "{}", fenced);
    }

    /// The brute-force reference (plain recursion over interleavings, no
    /// memoisation) reaches exactly the explorer's final outcomes.
    #[test]
    fn brute_force_agrees_with_the_explorer(test in programs(Shape { threads: 2..=2, ..Shape::default() })) {
        let program = test.program();
        for model in Model::builtins() {
            let traces = executions(&program, &model, 20_000, 200);
            prop_assume!(traces.len() < 20_000);
            let brute: BTreeSet<Vec<Val>> = traces
                .iter()
                .map(|t| t.replay(&program, &model).expect("enumerated traces replay").values)
                .collect();
            prop_assert_eq!(&brute, &finals(&explore(&program, &model)), "{} {}", model.name, test);
        }
    }

    /// Every tso execution satisfies x86-TSO's axioms (herd7's x86tso.cat) with
    /// co the order in which stores reach memory.
    #[test]
    fn tso_executions_satisfy_the_axioms(test in programs(Shape { threads: 2..=2, ..Shape::default() })) {
        let program = test.program();
        for trace in executions(&program, &Model::tso(), 500, 200) {
            let exec = Execution::record(&program, &Model::tso(), &trace).unwrap();
            prop_assert!(axioms_hold(&exec), "{test}\n{trace:?}");
        }
    }

    /// Brute-force enumeration of candidate executions (rf and co choices)
    /// filtered by each model's axioms (tests/common/axiomatic.rs) yields the
    /// operational explorer's outcome set.
    #[test]
    fn axiomatic_models_agree_with_the_explorer(test in programs(Shape::default())) {
        let program = test.program();
        for axioms in Axioms::ALL {
            let model = Model::builtin(axioms.name()).unwrap();
            let Ok(reference) = reference_outcomes(&program, axioms) else { continue };
            prop_assert_eq!(&reference, &finals(&explore(&program, &model)), "{} {}", model.name, test);
        }
    }

    /// Vector clocks and petgraph reachability give the same happens-before on
    /// every pair of events of every witness, and the explorer's race tracking
    /// agrees with the races of the recorded execution.
    #[test]
    fn clocks_and_graphs_agree(test in programs(Shape::default())) {
        let program = test.program();
        for model in Model::builtins() {
            for (_, info) in explore(&program, &model).outcomes.iter() {
                let exec = Execution::record(&program, &model, info.witness.as_ref().expect("witness kept")).unwrap();
                prop_assert_eq!(exec.races().is_empty(), info.race_free, "{} {}", model.name, test);
                let mut scratch = exec.graph.scratch();
                for a in &exec.events {
                    for b in &exec.events {
                        prop_assert_eq!(
                            exec.happens_before(a.id, b.id),
                            exec.graph.reaches(a.id, b.id, &mut scratch),
                            "{} {}", model.name, test
                        );
                    }
                }
            }
        }
    }

    /// A race found under sc is found under every model.
    #[test]
    fn sc_races_are_races_everywhere(test in programs(Shape::default())) {
        let program = test.program();
        let sc = race_pairs(&explore(&program, &Model::sc()));
        for model in Model::builtins() {
            let other = race_pairs(&explore(&program, &model));
            prop_assert!(sc.is_subset(&other), "{} {}", model.name, test);
        }
    }

    /// Printing a test to RON and reading it back gives the same program.
    #[test]
    fn the_format_round_trips(test in programs(Shape::default())) {
        let printed = reformat(test.ron(), "generated.ron").unwrap();
        let back = parse_str(&printed, "printed.ron").unwrap().program;
        prop_assert_eq!(back, test.program());
    }

    /// The same input gives the same report, byte for byte (timings aside),
    /// on one exploring thread or two.
    #[test]
    fn output_is_deterministic(test in programs(Shape::default())) {
        let program = test.program();
        let render = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let mut out = Vec::new();
            for model in Model::builtins() {
                let exploration = pool.install(|| explore(&program, &model));
                let run = RunReport::new(&program, "generated.ron", &model, exploration);
                text::render_run(&run, &mut out).unwrap();
            }
            String::from_utf8(out).unwrap()
                .lines()
                .filter(|l| !l.starts_with("Explored "))
                .collect::<Vec<_>>()
                .join("\n")
        };
        prop_assert_eq!(render(1), render(2));
    }
}

/// x86tso.cat over one recorded execution: sc-per-location
/// (acyclic po-loc ∪ rf ∪ co ∪ fr), atomicity of read-modify-writes, and
/// acyclic(ppo ∪ rfe ∪ co ∪ fr ∪ fence ∪ implied) with ppo = po minus
/// write-to-read pairs.
fn axioms_hold(exec: &Execution) -> bool {
    let n = exec.events.len();
    let memory = |e: EventId| exec.event(e).loc.is_some();
    let writes = |e: EventId| exec.event(e).writes();
    let reads = |e: EventId| exec.event(e).reads();
    // Read-modify-writes and atomic stores (x86 `XCHG`) are locked; an
    // atomic load is a plain `MOV` (docs/models.md).
    let locked = |e: EventId| {
        let ev = exec.event(e);
        ev.kind == EventKind::Rmw
            || (ev.kind == EventKind::Write && ev.access == Access::Atomic && ev.thread.is_some())
    };
    // co: initial writes, then writes in the order they reach memory.
    let mut co_order: Vec<EventId> = exec
        .events
        .iter()
        .filter(|e| e.thread.is_none())
        .map(|e| e.id)
        .collect();
    for step in &exec.steps {
        match (step.event, step.committed) {
            (Some(e), None) if writes(e) && !step.via_buffer => co_order.push(e),
            (None, Some(w)) => co_order.push(w),
            _ => {}
        }
    }
    let position = |e: EventId| co_order.iter().position(|&w| w == e);
    let co = |a: EventId, b: EventId| {
        exec.event(a).loc == exec.event(b).loc
            && writes(a)
            && writes(b)
            && a != b
            && matches!((position(a), position(b)), (Some(i), Some(j)) if i < j)
    };
    let rf = |w: EventId, r: EventId| exec.reads_from[r.index()] == Some(w);
    let fr = |r: EventId, w: EventId| {
        reads(r) && exec.reads_from[r.index()].is_some_and(|src| src != w && co(src, w))
    };
    let po = |a: EventId, b: EventId| {
        let (ea, eb) = (exec.event(a), exec.event(b));
        ea.thread.is_some() && ea.thread == eb.thread && ea.order < eb.order
    };
    let external = |a: EventId, b: EventId| exec.event(a).thread != exec.event(b).thread;
    let fence_between = |a: EventId, b: EventId| {
        exec.events
            .iter()
            .any(|f| f.kind == EventKind::Fence && po(a, f.id) && po(f.id, b))
    };
    let ids: Vec<EventId> = (0..n as u32).map(EventId).collect();
    let graph = |edge: &dyn Fn(EventId, EventId) -> bool| {
        let mut g = DiGraph::<(), ()>::new();
        let nodes: Vec<_> = ids.iter().map(|_| g.add_node(())).collect();
        for &a in &ids {
            for &b in &ids {
                if a != b && edge(a, b) {
                    g.add_edge(nodes[a.index()], nodes[b.index()], ());
                }
            }
        }
        is_cyclic_directed(&g)
    };
    let com = |a: EventId, b: EventId| rf(a, b) || co(a, b) || fr(a, b);
    let uniproc = |a: EventId, b: EventId| {
        (po(a, b) && memory(a) && exec.event(a).loc == exec.event(b).loc) || com(a, b)
    };
    // A pure write followed by a pure read: the pair x86-TSO does not preserve.
    let write_then_read = |a: EventId, b: EventId| writes(a) && !reads(a) && reads(b) && !writes(b);
    let ghb = |a: EventId, b: EventId| {
        let ppo = po(a, b) && memory(a) && memory(b) && !write_then_read(a, b);
        let implied = po(a, b) && memory(a) && memory(b) && (locked(a) || locked(b));
        let fence = memory(a) && memory(b) && fence_between(a, b);
        ppo || implied || fence || (rf(a, b) && external(a, b)) || co(a, b) || fr(a, b)
    };
    // Atomicity: no write of another thread between an RMW's read and write.
    let atomic = exec
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Rmw && e.writes())
        .all(|rmw| {
            let source = exec.reads_from[rmw.id.index()].expect("RMWs read");
            !ids.iter()
                .any(|&w| w != rmw.id && co(source, w) && co(w, rmw.id))
        });
    !graph(&uniproc) && !graph(&ghb) && atomic
}

/// Generated tests print as RON files that hbsim reads back.
#[test]
fn generated_tests_print_as_litmus_files() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..20 {
        let test: GeneratedTest = programs(Shape::default())
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let debug = format!("{test:?}");
        assert!(debug.contains("Litmus("), "{debug}");
        assert_eq!(
            parse_str(&test.to_string(), "t.ron").unwrap().program,
            test.program()
        );
    }
}

//! Partial-order reduction in the state-space engine (docs/models.md,
//! "Partial-order reduction"): on random programs, the search through
//! persistent sets reaches the same outcomes, race-freedom, racing pairs and
//! verdicts as the search taking every enabled step, under sc, tso, pso and
//! the bundled variants (bounded buffers, no store forwarding); every witness
//! it builds replays to what it claims; and its outcome sets equal the
//! independent axiomatic reference (tests/common/axiomatic.rs).

#[path = "common/axiomatic.rs"]
mod axiomatic;
#[path = "common/reduced.rs"]
mod reduced;

use std::path::Path;

use axiomatic::Axioms;
use hbsim::explore::{EngineChoice, Exploration, Explorer};
use hbsim::ir::Program;
use hbsim::model::{Model, load_model_file};
use hbsim::outcome::Outcome;
use hbsim::testing::{GeneratedTest, Kinds, Shape, programs};
use hbsim::verdict::evaluate_condition;
use proptest::prelude::*;
use reduced::{check_reference, check_witnesses, config, race_pairs, summary};

/// The state-space engine with partial-order reduction (and thread symmetry,
/// both defaults), or taking every enabled step without symmetry.
fn states(program: &Program, model: &Model, reduce: bool) -> Exploration {
    let exploration = Explorer::new(program, model)
        .engine(EngineChoice::States)
        .symmetry(reduce)
        .partial_order(reduce)
        .run();
    assert!(exploration.completeness.is_exhaustive());
    exploration
}

/// The built-in store-buffer models, each with the axioms of the reference
/// where it has them, then the bundled variants.
fn models() -> Vec<(Model, Option<Axioms>)> {
    let mut models: Vec<(Model, Option<Axioms>)> = [Axioms::Sc, Axioms::Tso, Axioms::Pso]
        .into_iter()
        .map(|axioms| {
            let model = Model::builtin(axioms.name()).expect("a built-in model");
            (model, Some(axioms))
        })
        .collect();
    for file in ["tso-bounded-1.ron", "pso-bounded-2.ron", "ibm370.ron"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models")
            .join(file);
        let model = load_model_file(&path).expect("bundled model file loads");
        models.push((model, None));
    }
    models
}

/// Each outcome and whether a race-free execution reaches it.
fn outcomes(exploration: &Exploration) -> Vec<(Outcome, bool)> {
    exploration
        .outcomes
        .iter()
        .map(|(outcome, info)| (outcome.clone(), info.race_free))
        .collect()
}

/// Runs `test` under every store-buffer model with and without the
/// reduction, and against the reference if it has at most
/// `reference_threads` threads. Where the reduction left no step out, the
/// counts must be the full search's too (tests/families.rs and the test
/// below check that it does leave steps out where it should).
fn reduced_and_full_agree(
    test: &GeneratedTest,
    reference_threads: usize,
) -> Result<(), TestCaseError> {
    let program = test.program();
    for (model, axioms) in models() {
        let (with, without) = (
            states(&program, &model, true),
            states(&program, &model, false),
        );
        let name = &model.name;
        prop_assert!(!without.stats.partial_order);
        prop_assert!(with.stats.states <= without.stats.states, "{}", name);
        if with.stats.partial_order {
            // Paths through persistent sets are not executions: none is counted.
            prop_assert_eq!(with.stats.executions, None);
            prop_assert!(with.outcomes.iter().all(|(_, i)| i.executions.is_none()));
        } else {
            prop_assert_eq!(summary(&with), summary(&without), "{}", name);
        }
        prop_assert_eq!(outcomes(&with), outcomes(&without), "{}", name);
        prop_assert_eq!(race_pairs(&with), race_pairs(&without), "{}", name);
        let verdict = |e: &Exploration| {
            let c = evaluate_condition(&program, e);
            (c.validated, c.observation)
        };
        prop_assert_eq!(verdict(&with), verdict(&without), "{}", name);
        check_witnesses(&program, &model, &with)?;
        if let Some(axioms) = axioms
            && program.threads.len() <= reference_threads
        {
            check_reference(&program, axioms, &with)?;
        }
    }
    Ok(())
}

/// Three or four threads of up to four instructions over two or three
/// variables: enough for steps of different threads to commute and to
/// conflict.
fn shape(kinds: Kinds) -> Shape {
    Shape {
        threads: 3..=4,
        instructions: 1..=4,
        variables: 3,
        kinds,
        ..Shape::default()
    }
}

/// Plain loads and stores, fences, stores of register values and stores
/// under `If`: the reduction applies to every one.
fn plain() -> Shape {
    shape(Kinds {
        fences: true,
        dependencies: true,
        ..Kinds::PLAIN
    })
}

/// Read-modify-writes and atomic accesses only: no variable can race, so
/// race detection keeps nothing and the reduction applies.
fn atomic() -> Shape {
    shape(Kinds {
        plain: false,
        rmw: true,
        atomics: true,
        ..Kinds::PLAIN
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_reduction_changes_no_outcome_race_or_verdict_on_plain_programs(test in programs(plain())) {
        reduced_and_full_agree(&test, 3)?;
    }

    #[test]
    fn the_reduction_changes_no_outcome_race_or_verdict_on_atomic_programs(test in programs(atomic())) {
        reduced_and_full_agree(&test, 2)?;
    }

    /// Programs with every kind of instruction (branches, Go
    /// synchronisation, atomics beside plain accesses): the reduction is
    /// used only where it applies, and changes nothing either way.
    #[test]
    fn the_reduction_changes_nothing_it_may_not_on_any_program(test in programs(shape(Kinds::ALL))) {
        reduced_and_full_agree(&test, 0)?;
    }
}

/// Where the reduction applies, and where not: code without loops on store
/// buffers whose race detection keeps no clocks, branches included; not with
/// a loop, not with an atomic access beside a plain one that can race, not
/// under go.
#[test]
fn the_reduction_applies_to_loop_free_programs_without_clocks() {
    let load = |src: &str| {
        hbsim::syntax::parse_str(src, "t.ron")
            .expect("test program loads")
            .program
    };
    let sb = load(
        r#"Litmus(name: "sb", threads: [[Store("x", 1), Load("r0", "y")], [Store("y", 1), Load("r0", "x")]], condition: "exists (0:r0=0 /\\ 1:r0=0)")"#,
    );
    let branch = load(
        r#"Litmus(name: "b", threads: [[Load("r0", "y"), If(cond: "r0 == 1", then: [Store("x", 1)])], [Store("y", 1), Load("r0", "x")]], condition: "exists (0:r0=0)")"#,
    );
    let spin = load(
        r#"Litmus(name: "s", threads: [[Loop(body: [Load("r0", "y")], until: "r0 == 1"), Load("r1", "x")], [Store("x", 1), Store("y", 1)]], condition: "exists (0:r1=0)")"#,
    );
    let mixed = load(
        r#"Litmus(name: "m", threads: [[Store("x", 1), AtomicStore("y", 1)], [AtomicLoad("r0", "y"), Load("r1", "x")]], condition: "exists (1:r0=1 /\\ 1:r1=0)")"#,
    );
    for model in [Model::sc(), Model::tso(), Model::pso()] {
        assert!(
            states(&sb, &model, true).stats.partial_order,
            "{}",
            model.name
        );
        assert!(states(&branch, &model, true).stats.partial_order);
        assert!(!states(&spin, &model, true).stats.partial_order);
        assert!(!states(&mixed, &model, true).stats.partial_order);
    }
    assert!(!states(&sb, &Model::go(), true).stats.partial_order);
}

/// Three fetch-and-adds on one variable all conflict: every persistent set
/// holds every enabled step, nothing is left out, and the executions are
/// counted as without the reduction: 3! orders of the increments.
#[test]
fn a_search_that_leaves_nothing_out_counts_executions() {
    let program = hbsim::syntax::parse_str(
        r#"Litmus(name: "ainc", threads: [[FetchAdd("r0", "x", 1)], [FetchAdd("r0", "x", 1)], [FetchAdd("r0", "x", 1)]], condition: "exists (x=3)")"#,
        "ainc.ron",
    )
    .expect("test program loads")
    .program;
    let exploration = states(&program, &Model::sc(), true);
    assert!(!exploration.stats.partial_order);
    assert_eq!(
        exploration.stats.executions,
        Some(hbsim::outcome::Count::Finite(6))
    );
}

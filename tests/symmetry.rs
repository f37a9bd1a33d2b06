//! Thread symmetry in the state-space engine (docs/models.md, "Thread
//! symmetry"): on random programs with copies of a thread, reducing states by
//! renaming interchangeable threads changes no outcome, count, racy flag or
//! race, every witness it builds replays to what it claims, and its outcome
//! sets equal the independent axiomatic reference (tests/common/axiomatic.rs).

#[path = "common/axiomatic.rs"]
mod axiomatic;
#[path = "common/reduced.rs"]
mod reduced;

use axiomatic::Axioms;
use hbsim::explore::{EngineChoice, Exploration, Explorer};
use hbsim::ir::{Program, ThreadId};
use hbsim::model::Model;
use hbsim::testing::{GeneratedTest, Kinds, Shape, programs};
use proptest::prelude::*;
use reduced::{check_reference, check_witnesses, config, race_pairs, summary};

/// The state-space engine taking every enabled step (so that executions
/// are counted), with or without symmetry.
fn states(program: &Program, model: &Model, symmetry: bool) -> Exploration {
    let exploration = Explorer::new(program, model)
        .engine(EngineChoice::States)
        .symmetry(symmetry)
        .partial_order(false)
        .run();
    assert!(exploration.completeness.is_exhaustive());
    exploration
}

/// Runs `test` under sc, tso and pso with and without symmetry, and against
/// the reference if it has at most `reference_threads` threads (the
/// reference enumerates every reads-from and coherence choice, which grows
/// fast with read-modify-writes); returns whether symmetry reduced any run.
fn symmetric_and_plain_agree(
    test: &GeneratedTest,
    reference_threads: usize,
) -> Result<bool, TestCaseError> {
    let program = test.program();
    let mut reduced = false;
    for axioms in [Axioms::Sc, Axioms::Tso, Axioms::Pso] {
        let model = Model::builtin(axioms.name()).expect("a built-in model");
        let (with, without) = (
            states(&program, &model, true),
            states(&program, &model, false),
        );
        prop_assert!(without.stats.symmetry.is_empty());
        reduced |= !with.stats.symmetry.is_empty();
        prop_assert!(with.stats.states <= without.stats.states);
        prop_assert_eq!(
            &with.stats.executions,
            &without.stats.executions,
            "{}",
            model.name
        );
        prop_assert_eq!(&with.stats.racy_executions, &without.stats.racy_executions);
        prop_assert_eq!(summary(&with), summary(&without), "{}", model.name);
        prop_assert_eq!(race_pairs(&with), race_pairs(&without), "{}", model.name);
        check_witnesses(&program, &model, &with)?;
        if program.threads.len() <= reference_threads {
            check_reference(&program, axioms, &with)?;
        }
    }
    Ok(reduced)
}

/// One or two threads of up to three instructions, before the copies.
fn small() -> Shape {
    Shape {
        threads: 1..=2,
        ..Shape::default()
    }
}

/// Threads of plain loads and stores, fences and stores of register values:
/// race detection keeps only the racy flag, so copies are reduced.
fn plain() -> Shape {
    Shape {
        kinds: Kinds {
            fences: true,
            dependencies: true,
            ..Kinds::PLAIN
        },
        ..small()
    }
}

/// Threads of read-modify-writes and atomic accesses only: no variable can
/// race, so race detection keeps nothing.
fn atomic() -> Shape {
    Shape {
        kinds: Kinds {
            plain: false,
            rmw: true,
            atomics: true,
            ..Kinds::PLAIN
        },
        ..small()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn symmetry_changes_nothing_but_states_on_plain_programs(
        test in programs(plain()),
        copies in 1..=2usize,
    ) {
        let test = test.with_copies_of_first_thread(copies);
        let reduced = symmetric_and_plain_agree(&test, 4)?;
        // Only a jump (an `If`) keeps such a program from being reduced.
        prop_assert!(reduced || test.ron().contains("If("), "{}", test);
    }

    #[test]
    fn symmetry_changes_nothing_but_states_on_atomic_programs(
        test in programs(atomic()),
        copies in 1..=2usize,
    ) {
        let test = test.with_copies_of_first_thread(copies);
        prop_assert!(symmetric_and_plain_agree(&test, 2)?, "{}", test);
    }

    /// Programs with every kind of instruction: symmetry is used only where
    /// it applies, and changes nothing either way.
    #[test]
    fn symmetry_changes_nothing_but_states_on_any_program(
        test in programs(small()),
        copies in 1..=2usize,
    ) {
        symmetric_and_plain_agree(&test.with_copies_of_first_thread(copies), 2)?;
    }
}

/// The reduction applies where it should: three copies of one straight-line
/// thread of plain accesses under each store-buffer model, and not under go.
#[test]
fn copies_of_a_plain_thread_are_interchangeable() {
    let program = hbsim::syntax::parse_file(std::path::Path::new("litmus/lost-update.ron"))
        .expect("the corpus file loads")
        .program;
    let all: Vec<ThreadId> = (0..3).map(ThreadId).collect();
    for name in ["sc", "tso", "pso"] {
        let model = Model::builtin(name).expect("a built-in model");
        let (with, without) = (
            states(&program, &model, true),
            states(&program, &model, false),
        );
        assert_eq!(with.stats.symmetry, vec![all.clone()], "{name}");
        // Interleavings of three threads of two steps (sc), or of three
        // (tso, pso: the commit after the store): 6!/2!^3 and 9!/3!^3.
        let interleavings = if name == "sc" { 90 } else { 1680 };
        assert_eq!(
            with.stats.executions,
            Some(hbsim::outcome::Count::Finite(interleavings))
        );
        assert!(
            with.stats.states * 3 < without.stats.states,
            "{name}: {} states against {}",
            with.stats.states,
            without.stats.states
        );
    }
    let go = states(&program, &Model::go(), true);
    assert!(go.stats.symmetry.is_empty());
}

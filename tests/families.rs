//! The test families of `hbsim gen` (src/families.rs): every member's stated
//! expectations hold under every model at small sizes (the expectations are
//! argued in `Family::describe`, not taken from hbsim's output), and explored
//! states stay within stated budgets, so a regression to enumerating
//! interleavings fails here. Not timed: speed is measured by `cargo bench` and
//! the tables in docs/performance.md.

use hbsim::explore::explore;
use hbsim::families::{Family, generate};
use hbsim::ir::Program;
use hbsim::model::Model;
use hbsim::report::RunReport;
use hbsim::verdict::Status;

fn program(family: Family, n: usize, k: Option<usize>) -> Program {
    generate(family, n, k)
        .unwrap_or_else(|e| panic!("{family} {n}: {e}"))
        .build()
        .unwrap_or_else(|e| panic!("{family} {n}: {e}"))
        .program
}

#[test]
fn every_family_meets_its_expectations_under_every_model() {
    let mut runs = 0;
    for family in Family::ALL {
        let sizes: &[(usize, Option<usize>)] = match family {
            Family::Writers | Family::WritersRead => {
                &[(1, Some(2)), (2, Some(1)), (2, Some(2)), (3, Some(2))]
            }
            Family::Sb | Family::SbMfence | Family::Iriw => &[(2, None), (3, None), (4, None)],
            Family::MpChain | Family::Ainc => &[(1, None), (2, None), (3, None), (4, None)],
        };
        for &(n, k) in sizes {
            let program = program(family, n, k);
            for model in Model::builtins() {
                let run = RunReport::new(&program, "generated", &model, explore(&program, &model));
                assert_eq!(
                    run.status(),
                    Some(Status::Held),
                    "{family} {n} {k:?} under {}",
                    model.name
                );
                runs += 1;
            }
        }
    }
    assert_eq!(runs, 4 * (3 * 3 + 4 * 2 + 4 * 2));
}

/// Distinct states explored, at most: measured on this version and rounded up
/// by about 10%. Interleavings are far more (sb 5 under tso: 5.4 × 10^9).
const BUDGETS: &[(Family, usize, Option<usize>, &str, usize)] = &[
    (Family::Sb, 5, None, "tso", 7_400),
    (Family::Sb, 5, None, "pso", 7_400),
    (Family::Sb, 5, None, "go", 3_500),
    (Family::SbMfence, 5, None, "tso", 6_300),
    (Family::Writers, 4, Some(2), "tso", 3_000),
    (Family::Writers, 3, Some(2), "go", 100),
    (Family::WritersRead, 3, Some(2), "pso", 5_400),
    (Family::Iriw, 3, None, "tso", 900),
    (Family::Iriw, 3, None, "go", 1_350),
    (Family::MpChain, 4, None, "pso", 2_200),
    (Family::MpChain, 4, None, "go", 900),
    (Family::Ainc, 5, None, "sc", 360),
    (Family::Ainc, 5, None, "go", 360),
];

#[test]
fn explored_states_stay_within_budget() {
    for &(family, n, k, model, budget) in BUDGETS {
        let program = program(family, n, k);
        let model = Model::builtin(model).expect("a built-in model");
        let exploration = explore(&program, &model);
        assert!(exploration.completeness.is_exhaustive());
        assert!(
            exploration.stats.states <= budget,
            "{family} {n} {k:?} under {}: {} states, budget {budget}",
            model.name,
            exploration.stats.states
        );
    }
}

#[test]
fn parallel_exploration_gives_the_same_report_as_one_thread() {
    // Large enough that each breadth-first layer is split among workers.
    let program = program(Family::Sb, 5, None);
    let render = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let model = Model::tso();
        let exploration = pool.install(|| explore(&program, &model));
        let run = RunReport::new(&program, "sb5.ron", &model, exploration);
        let mut out = Vec::new();
        hbsim::report::json::render_run(&run, &mut out).unwrap();
        let mut json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        json["stats"]["elapsed_ms"] = serde_json::Value::Null;
        json
    };
    let (one, two) = (render(1), render(2));
    assert!(
        one["stats"]["states"].as_u64().unwrap() > 4 * 64,
        "{}",
        one["stats"]
    );
    assert_eq!(one, two);
}

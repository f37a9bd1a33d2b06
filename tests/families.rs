//! The test families of `hbsim gen` (src/families.rs): every member's stated
//! expectations hold under every model at small sizes (the expectations are
//! argued in `Family::describe`, not taken from hbsim's output), and explored
//! states stay within stated budgets, so a regression to enumerating
//! interleavings fails here. Not timed: speed is measured by `cargo bench` and
//! the tables in docs/performance.md.

#[path = "common/report.rs"]
mod report;

use hbsim::explore::{EngineChoice, Explorer, explore};
use hbsim::families::{Family, generate};
use hbsim::ir::Program;
use hbsim::model::Model;
use hbsim::report::RunReport;
use hbsim::verdict::Status;

fn program(family: Family, numbers: &[usize]) -> Program {
    generate(family, numbers)
        .unwrap_or_else(|e| panic!("{family} {numbers:?}: {e}"))
        .build()
        .unwrap_or_else(|e| panic!("{family} {numbers:?}: {e}"))
        .program
}

/// The state-space engine's exploration, whose states these budgets bound and
/// whose breadth-first search runs in parallel.
fn states(program: &Program, model: &Model) -> hbsim::explore::Exploration {
    Explorer::new(program, model)
        .engine(EngineChoice::States)
        .run()
}

#[test]
fn every_family_meets_its_expectations_under_every_model() {
    let mut runs = 0;
    for family in Family::ALL {
        let sizes: &[&[usize]] = match family {
            Family::Writers | Family::WritersRead => &[&[1, 2], &[2, 1], &[2, 2], &[3, 2]],
            Family::Sb | Family::SbMfence | Family::Iriw => &[&[2], &[3], &[4]],
            Family::MpChain | Family::Ainc | Family::MutexCounter | Family::WaitGroup => {
                &[&[1], &[2], &[3], &[4]]
            }
            Family::ChanPipeline => &[&[1, 1, 0], &[2, 1, 0], &[2, 2, 0], &[2, 1, 1], &[3, 3, 2]],
        };
        for numbers in sizes {
            let program = program(family, numbers);
            for model in Model::builtins() {
                let run = RunReport::new(&program, "generated", &model, explore(&program, &model));
                assert_eq!(
                    run.status(),
                    Some(Status::Held),
                    "{family} {numbers:?} under {}",
                    model.name
                );
                runs += 1;
            }
        }
    }
    assert_eq!(runs, 4 * (3 * 3 + 4 * 2 + 4 * 4 + 5));
}

/// Distinct states the state-space engine explores, at most: measured on this
/// version and rounded up by about 10% (tests/engines.rs bounds the graph
/// engine's executions by the outcomes). Interleavings are far more (sb 5 under tso: 5.4 × 10^9).
const BUDGETS: &[(Family, &[usize], &str, usize)] = &[
    (Family::Sb, &[5], "tso", 7_400),
    (Family::Sb, &[5], "pso", 7_400),
    (Family::Sb, &[5], "go", 3_500),
    (Family::SbMfence, &[5], "tso", 6_300),
    (Family::Writers, &[4, 2], "tso", 3_000),
    (Family::Writers, &[3, 2], "go", 100),
    (Family::WritersRead, &[3, 2], "pso", 5_400),
    (Family::Iriw, &[3], "tso", 900),
    (Family::Iriw, &[3], "go", 1_350),
    (Family::MpChain, &[4], "pso", 2_200),
    (Family::MpChain, &[4], "go", 900),
    // One state per number of increments done: the five threads are
    // interchangeable (docs/models.md, "Thread symmetry"); 326 without.
    (Family::Ainc, &[5], "sc", 6),
    (Family::Ainc, &[5], "go", 360),
    (Family::MutexCounter, &[4], "tso", 360),
    (Family::WaitGroup, &[4], "tso", 870),
    (Family::ChanPipeline, &[4, 2, 1], "go", 680),
];

#[test]
fn explored_states_stay_within_budget() {
    for &(family, numbers, model, budget) in BUDGETS {
        let program = program(family, numbers);
        let model = Model::builtin(model).expect("a built-in model");
        let exploration = states(&program, &model);
        assert!(exploration.completeness.is_exhaustive());
        assert!(
            exploration.stats.states <= budget,
            "{family} {numbers:?} under {}: {} states, budget {budget}",
            model.name,
            exploration.stats.states
        );
    }
}

/// The graph engine on two workers: the same report, counters included,
/// as on one. `ainc 6` shares its set of grown graphs between the workers
/// (whichever reaches a graph first grows it), `mp-chain 7` does not.
#[test]
fn parallel_graph_search_gives_the_same_report_as_one_worker() {
    for (family, n, model) in [
        (Family::Ainc, 6, Model::sc()),
        (Family::MpChain, 7, Model::tso()),
    ] {
        let program = program(family, &[n]);
        let render = |threads: usize| {
            let exploration = report::on_threads(threads, || {
                Explorer::new(&program, &model)
                    .engine(EngineChoice::Graph)
                    .run()
            });
            report::untimed_json(&program, &model, exploration)
        };
        let (one, two) = (render(1), render(2));
        assert!(
            one["stats"]["graph"]["graphs"].as_u64().unwrap() > 2 * 32,
            "{family}: {}",
            one["stats"]
        );
        assert_eq!(one, two, "{family} {n}");
    }
}

#[test]
fn parallel_exploration_gives_the_same_report_as_one_thread() {
    // Large enough that each breadth-first layer is split among workers.
    let program = program(Family::Sb, &[5]);
    let render = |threads: usize| {
        let model = Model::tso();
        let exploration = report::on_threads(threads, || states(&program, &model));
        report::untimed_json(&program, &model, exploration)
    };
    let (one, two) = (render(1), render(2));
    assert!(
        one["stats"]["states"].as_u64().unwrap() > 4 * 64,
        "{}",
        one["stats"]
    );
    assert_eq!(one, two);
}

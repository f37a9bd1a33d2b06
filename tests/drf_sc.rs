//! The Go memory model's guarantee for race-free programs, checked on
//! hbsim's machines: "if p is data-race-free [...] then p executes in a
//! sequentially consistent manner" (<https://go.dev/ref/mem>, "Memory Model";
//! ../shared/go-memory-model.md). Data-race-free means no sequentially
//! consistent execution has a data race, which the state-space engine decides
//! under `sc`. For every such program of the corpus and of random programs
//! (every kind of instruction and Go synchronisation), the state-space engine
//! under `go` must give exactly the `sc` outcomes, each race-free, and no race.
//! The graph engine explores the `go` model of race-free programs as `sc`
//! (docs/models.md, "The go model in the graph engine") on the strength of
//! this.

#[path = "common/corpus.rs"]
mod corpus;

use std::collections::BTreeMap;

use hbsim::explore::{EngineChoice, Exploration, Explorer};
use hbsim::ir::Program;
use hbsim::model::Model;
use hbsim::outcome::Outcome;
use hbsim::syntax::parse_file;
use hbsim::testing::{Shape, programs};
use proptest::prelude::*;

fn states(program: &Program, model: &Model) -> Exploration {
    Explorer::new(program, model)
        .engine(EngineChoice::States)
        .run()
}

/// Each outcome with whether some race-free execution reaches it.
fn classes(e: &Exploration) -> BTreeMap<Outcome, bool> {
    e.outcomes
        .iter()
        .map(|(o, info)| (o.clone(), info.race_free))
        .collect()
}

/// `None` when `program` races under `sc` (the guarantee says nothing) or
/// when `go` gives its `sc` outcomes without races; otherwise the difference.
fn violation(program: &Program) -> Option<String> {
    let sc = states(program, &Model::sc());
    if !sc.races.is_empty() || !sc.completeness.is_exhaustive() {
        return None;
    }
    let go = states(program, &Model::go());
    let (s, g) = (classes(&sc), classes(&go));
    if s != g || !go.races.is_empty() {
        return Some(format!(
            "race-free under sc, but:\n sc {s:?}\n go {g:?}\n go races {:?}",
            go.races
        ));
    }
    None
}

#[test]
fn race_free_corpus_programs_are_sequentially_consistent_under_go() {
    let mut problems = Vec::new();
    let mut race_free = 0;
    for path in corpus::litmus_files() {
        let program = parse_file(&path).expect("corpus file loads").program;
        if states(&program, &Model::sc()).races.is_empty() {
            race_free += 1;
        }
        if let Some(why) = violation(&program) {
            problems.push(format!("{}: {why}", path.display()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    assert!(race_free >= 40, "only {race_free} race-free corpus files");
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(512),
        ..ProptestConfig::default()
    })]

    /// Random programs of every kind; most race, and those say nothing, so
    /// many cases are drawn.
    #[test]
    fn race_free_random_programs_are_sequentially_consistent_under_go(
        test in programs(Shape { threads: 2..=3, instructions: 1..=4, ..Shape::default() })
    ) {
        let program = test.program();
        let why = violation(&program);
        prop_assert!(why.is_none(), "{}\n{}", test, why.unwrap_or_default());
    }
}

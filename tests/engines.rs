//! The execution-graph engine (`--engine graph`) against the state-space
//! engine, the reference semantics: on every corpus file, every herd7 test of
//! ../shared/litmus-x86 and random programs, under `sc`, `tso` and `pso`, both
//! give the same outcomes, the same race-free class for each, the same racing
//! pairs of instructions and the same verdicts, and every witness the graph
//! engine reports replays on the machine to its outcome. Programs with loops
//! are unrolled: the graph engine's outcomes are then a subset, equal when it
//! needed no more iterations. On the families whose stores write distinct
//! values, it explores at most twice as many executions as there are outcomes.

#[path = "common/corpus.rs"]
mod corpus;

use std::collections::{BTreeMap, BTreeSet};

use corpus::{files_under, litmus_files, shared_x86_dir};

use hbsim::explore::{Engine, EngineChoice, Exploration, Explorer};
use hbsim::families::{Family, generate};
use hbsim::ir::Program;
use hbsim::model::Model;
use hbsim::outcome::Outcome;
use hbsim::report::RunReport;
use hbsim::syntax::{parse_file, parse_str};
use hbsim::testing::{Shape, programs};
use proptest::prelude::*;

/// The models the graph engine supports.
fn models() -> [Model; 3] {
    [Model::sc(), Model::tso(), Model::pso()]
}

fn run(program: &Program, model: &Model, engine: EngineChoice) -> Exploration {
    Explorer::new(program, model).engine(engine).run()
}

/// Each outcome with whether some race-free execution reaches it.
fn classes(e: &Exploration) -> BTreeMap<Outcome, bool> {
    e.outcomes
        .iter()
        .map(|(o, info)| (o.clone(), info.race_free))
        .collect()
}

/// An instruction: its thread and index.
type Site = (u16, usize);

/// Each racing pair of instructions, by variable.
fn race_pairs(e: &Exploration) -> BTreeSet<(u16, Site, Site)> {
    e.races
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

/// Why the two engines disagree on `program` under `model`, if they do.
fn disagreement(program: &Program, model: &Model) -> Option<String> {
    let graph = run(program, model, EngineChoice::Graph);
    if graph.engine.engine == Engine::States {
        return None;
    }
    let states = run(program, model, EngineChoice::States);
    for (outcome, info) in graph.outcomes.iter() {
        let Outcome::Final(values) = outcome else {
            return Some(format!("graph engine outcome {outcome:?} is not final"));
        };
        match info.witness.replay(program, model) {
            Ok(replay) if replay.finished && &replay.values == values => {}
            other => return Some(format!("witness of {values:?} replays to {other:?}")),
        }
    }
    for race in &graph.races {
        if let Err(e) = race.witness.replay(program, model) {
            return Some(format!("race witness does not replay: {e}"));
        }
    }
    let (g, s) = (classes(&graph), classes(&states));
    if !graph.completeness.is_exhaustive() {
        // Unrolled loops: a subset of the outcomes.
        return g
            .keys()
            .find(|o| !s.contains_key(*o))
            .map(|o| format!("unrolled graph engine found {o:?}, which the machine cannot reach"));
    }
    if g != s {
        return Some(format!(
            "outcomes (with race-free class):\n graph  {g:?}\n states {s:?}"
        ));
    }
    if race_pairs(&graph) != race_pairs(&states) {
        return Some(format!(
            "races: graph {:?}, states {:?}",
            race_pairs(&graph),
            race_pairs(&states)
        ));
    }
    let verdicts = |e: Exploration| {
        let report = RunReport::new(program, "test", model, e);
        (
            report.condition.validated,
            report.condition.observation,
            report.status(),
        )
    };
    let (vg, vs) = (verdicts(graph), verdicts(states));
    (vg != vs).then(|| format!("verdicts: graph {vg:?}, states {vs:?}"))
}

fn check_all(programs: impl IntoIterator<Item = (String, Program)>) -> usize {
    let mut problems = Vec::new();
    let mut compared = 0;
    for (name, program) in programs {
        for model in models() {
            compared += 1;
            if let Some(why) = disagreement(&program, &model) {
                problems.push(format!("{name} under {}: {why}", model.name));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    compared
}

#[test]
fn engines_agree_on_the_corpus() {
    let files = litmus_files();
    let compared = check_all(files.iter().map(|path| {
        let test = parse_file(path).expect("corpus file loads");
        (path.display().to_string(), test.program)
    }));
    assert!(compared >= 3 * 100, "compared only {compared} runs");
}

#[test]
fn engines_agree_on_the_shared_x86_corpus() {
    let Some(dir) = shared_x86_dir() else { return };
    let files = files_under(&dir, "litmus");
    assert!(files.len() >= 237, "found only {} tests", files.len());
    check_all(files.iter().map(|path| {
        let test = parse_file(path).expect("shared test loads");
        (path.display().to_string(), test.program)
    }));
}

/// The graph engine explores one execution per outcome where stores write
/// distinct values: coherence is not enumerated where nothing can observe
/// it. Without read-modify-writes no execution is reached twice; with them
/// (`ainc`), revisits reach some executions more than once (counted as
/// duplicates, not explored).
#[test]
fn explored_executions_track_outcomes_on_unique_value_families() {
    let cases: &[(Family, &[usize], Model, bool)] = &[
        (Family::Writers, &[5, 2], Model::tso(), false),
        (Family::Sb, &[6], Model::tso(), false),
        (Family::Sb, &[6], Model::sc(), false),
        (Family::SbMfence, &[5], Model::pso(), false),
        (Family::Iriw, &[3], Model::sc(), false),
        (Family::Iriw, &[3], Model::tso(), false),
        (Family::Ainc, &[5], Model::sc(), true),
    ];
    for (family, numbers, model, rmw) in cases {
        let program = generate(*family, numbers)
            .expect("family generates")
            .build()
            .expect("family builds")
            .program;
        let e = run(&program, model, EngineChoice::Graph);
        let stats = e.stats.graph.expect("the graph engine ran");
        let outcomes = e.outcomes.len();
        let what = format!("{family:?} {numbers:?} under {}: {stats:?}", model.name);
        assert_eq!(stats.explored, outcomes, "{what}");
        if !rmw {
            assert_eq!(stats.duplicates, 0, "{what}");
        }
    }
}

/// `auto` picks the graph engine for hardware tests without loops or
/// read-modify-writes on one variable in three threads, and says why it
/// does not otherwise; `--engine graph` runs them anyway.
#[test]
fn auto_falls_back_with_a_reason() {
    let load = |src: &str| parse_str(src, "t.ron").unwrap().program;
    let plain = load(
        r#"Litmus(name: "t", threads: [[Store("x", 1)], [Load("r0", "x")]], condition: "exists true")"#,
    );
    let looping = load(
        r#"Litmus(name: "t", threads: [[Store("x", 1)], [Loop(body: [Load("r0", "x")], until: "r0 == 1")]], condition: "exists true")"#,
    );
    let auto = |p: &Program, m: &Model| Explorer::new(p, m).engine_used();
    assert_eq!(
        auto(&plain, &Model::tso()).engine,
        Engine::Graph { unroll: 4 }
    );
    assert_eq!(auto(&plain, &Model::go()).engine, Engine::States);
    assert_eq!(
        auto(&plain, &Model::go()).fallback.as_deref(),
        Some("the go model")
    );
    assert_eq!(
        auto(&looping, &Model::sc()).fallback.as_deref(),
        Some("loops")
    );
    let counters = generate(Family::Ainc, &[3])
        .unwrap()
        .build()
        .unwrap()
        .program;
    assert_eq!(
        auto(&counters, &Model::sc()).fallback.as_deref(),
        Some("read-modify-writes on x in 3 threads")
    );
    let sc = Model::sc();
    let forced = Explorer::new(&looping, &sc).engine(EngineChoice::Graph);
    assert_eq!(forced.engine_used().engine, Engine::Graph { unroll: 4 });
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(512),
        ..ProptestConfig::default()
    })]

    /// Random programs (every kind of instruction the graph engine supports,
    /// and some it does not, which fall back).
    #[test]
    fn engines_agree_on_random_programs(test in programs(Shape { threads: 2..=4, instructions: 1..=4, ..Shape::default() })) {
        let program = test.program();
        for model in models() {
            let why = disagreement(&program, &model);
            prop_assert!(why.is_none(), "{} under {}: {}", test, model.name, why.unwrap_or_default());
        }
    }
}

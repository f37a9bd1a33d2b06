//! Library behaviours beyond the corpus: limits and cancellation, non-termination,
//! execution counts, model variants from model files, and robustness of the
//! parser against truncated and mutated input.

#[path = "common/corpus.rs"]
mod corpus;

use std::path::Path;
use std::sync::atomic::AtomicBool;

use hbsim::explore::{Completeness, EngineChoice, Explorer, Limit, Limits, explore};
use hbsim::ir::{Observation, ThreadId};
use hbsim::model::{Model, load_model_file};
use hbsim::outcome::{Count, Outcome};
use hbsim::report::RunReport;
use hbsim::syntax::{LoadError, parse_str};
use proptest::prelude::*;

/// SB with `n` threads (`hbsim gen sb n`).
fn sb(n: usize) -> hbsim::ir::Program {
    hbsim::families::generate(hbsim::families::Family::Sb, &[n])
        .expect("sb n is a family member")
        .build()
        .expect("generated SB builds")
        .program
}

/// The state-space engine taking every enabled step, whose states,
/// interleaving counts and memory these tests are about (tests/engines.rs
/// covers the graph engine, tests/partial_order.rs the reduced search).
fn states<'a>(program: &'a hbsim::ir::Program, model: &'a Model) -> Explorer<'a> {
    Explorer::new(program, model)
        .engine(EngineChoice::States)
        .partial_order(false)
}

fn load(src: &str) -> hbsim::ir::Program {
    parse_str(src, "test.ron")
        .expect("test program loads")
        .program
}

fn model_file(name: &str) -> Model {
    load_model_file(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models")
            .join(name),
    )
    .expect("bundled model file loads")
}

/// Final outcomes as value vectors, in the set's order.
fn finals(program: &hbsim::ir::Program, model: &Model) -> Vec<Vec<i64>> {
    explore(program, model)
        .outcomes
        .finals()
        .map(|(v, _)| v.to_vec())
        .collect()
}

const SB: &str = r#"Litmus(
    name: "SB",
    threads: [
        [ Store("x", 1), Load("r0", "y") ],
        [ Store("y", 1), Load("r0", "x") ],
    ],
    condition: "exists (0:r0=0 /\\ 1:r0=0)",
)"#;

#[test]
fn sc_execution_counts_are_interleaving_counts() {
    // Two threads of two instructions each interleave in C(4, 2) = 6 ways; of the
    // six, only "both stores first" orders (4 of them) give r0 = r1 = 1.
    let program = load(SB);
    let exploration = states(&program, &Model::sc()).run();
    let counts: Vec<_> = exploration
        .outcomes
        .finals()
        .map(|(v, info)| (v[..2].to_vec(), info.executions))
        .collect();
    assert_eq!(
        counts,
        vec![
            (vec![0, 1], Some(Count::Finite(1))),
            (vec![1, 0], Some(Count::Finite(1))),
            (vec![1, 1], Some(Count::Finite(4))),
        ]
    );
    assert_eq!(exploration.stats.executions, Some(Count::Finite(6)));
}

#[test]
fn state_limit_truncates_and_leaves_undecided_verdicts_inconclusive() {
    let program = load(SB);
    let exploration = Explorer::new(&program, &Model::tso())
        .limits(Limits::with_max_states(3))
        .run();
    assert_eq!(
        exploration.completeness,
        Completeness::Truncated(Limit::States(3))
    );
    assert!(exploration.stats.states <= 3);
    assert_eq!(exploration.stats.executions, None);
    let run = RunReport::new(&program, "sb.ron", &Model::tso(), exploration);
    // Three states are too few to reach any final state, so nothing is decided.
    assert_eq!(run.condition.validated, None);
    assert_eq!(run.condition.observation, None);
}

#[test]
fn a_truncated_exploration_counts_no_executions_on_either_engine() {
    // An outcome the writer's store comes too late for, in few steps: a
    // breadth-first search finds it long before the others.
    let program = parse_str(
        r#"Litmus(name: "late", threads: [
            [ Load("r0", "x"), If(cond: "r0 == 1", then: [ Store("z", 1), Store("z", 2) ]) ],
            [ Store("x", 1) ] ], condition: "exists (0:r0=1)")"#,
        "late.ron",
    )
    .expect("loads")
    .program;
    for (engine, limit) in [(EngineChoice::Graph, 3), (EngineChoice::States, 8)] {
        let exploration = Explorer::new(&program, &Model::tso())
            .engine(engine)
            .limits(Limits::with_max_states(limit))
            .run();
        assert!(
            matches!(exploration.completeness, Completeness::Truncated(_)),
            "{engine:?}"
        );
        assert!(
            !exploration.outcomes.is_empty(),
            "{engine:?}: something found"
        );
        assert_eq!(exploration.stats.executions, None, "{engine:?}");
        for (outcome, info) in exploration.outcomes.iter() {
            assert_eq!(
                (info.executions, info.racy_executions),
                (None, None),
                "{engine:?}: {outcome:?}"
            );
        }
    }
}

#[test]
fn a_set_cancel_flag_interrupts_the_exploration() {
    let program = load(SB);
    let cancel = AtomicBool::new(true);
    let exploration = Explorer::new(&program, &Model::tso())
        .cancel_on(&cancel)
        .run();
    assert_eq!(exploration.completeness, Completeness::Interrupted);
    assert!(exploration.outcomes.is_empty());
}

#[test]
fn progress_is_reported_for_long_explorations() {
    // Six threads of SB-style code reach well over the reporting interval.
    let program = sb(6);
    let mut reports = Vec::new();
    let mut record = |p: &hbsim::explore::Progress| reports.push(p.states);
    let exploration = states(&program, &Model::tso())
        .on_progress(&mut record)
        .run();
    assert!(
        exploration.stats.states > 4096,
        "{}",
        exploration.stats.states
    );
    assert!(reports.len() > 1, "{reports:?}");
    assert!(reports.windows(2).all(|w| w[0] < w[1]), "{reports:?}");
}

#[test]
fn a_spin_on_a_flag_nobody_sets_never_terminates() {
    let program = load(
        r#"Litmus(
            name: "spin-forever",
            threads: [ [ Loop(body: [ Load("r0", "flag") ], until: "r0 == 1") ] ],
            condition: "exists 0:r0=1",
        )"#,
    );
    for model in Model::builtins() {
        let exploration = explore(&program, &model);
        let outcomes: Vec<_> = exploration
            .outcomes
            .iter()
            .map(|(o, info)| (o.clone(), info.clone()))
            .collect();
        assert_eq!(outcomes.len(), 1, "{}", model.name);
        let (outcome, info) = &outcomes[0];
        assert_eq!(outcome, &Outcome::NeverTerminates(vec![ThreadId(0)]));
        assert_eq!(info.executions, Some(Count::Infinite));
        let replay = info
            .witness
            .as_ref()
            .expect("witness kept")
            .replay(&program, &model)
            .unwrap();
        assert!(!replay.finished);
        let run = RunReport::new(&program, "spin.ron", &model, exploration);
        // The only outcome is not a final state, so the value atom is false
        // on it, and every execution counts against the condition.
        assert_eq!(run.condition.observation, Some(Observation::Never));
        assert_eq!(run.condition.negative, Some(Count::Infinite));
        assert_eq!(
            run.exploration.outcomes.display(outcome).to_string(),
            "never terminates: P0"
        );
    }
}

#[test]
fn a_spin_that_can_end_terminates_with_unboundedly_many_executions() {
    // Message passing with a spinning reader: under SC and TSO the reader, once it
    // sees the flag, sees the data (stores reach memory in order); under PSO the
    // flag may overtake the data.
    let program = load(
        r#"Litmus(
            name: "MP+spin",
            threads: [
                [ Store("data", 1), Store("flag", 1) ],
                [ Loop(body: [ Load("r0", "flag") ], until: "r0 == 1"), Load("r1", "data") ],
            ],
            condition: "exists 1:r1=0",
        )"#,
    );
    for (model, r1_values) in [
        (Model::sc(), vec![1]),
        (Model::tso(), vec![1]),
        (Model::pso(), vec![0, 1]),
    ] {
        let exploration = explore(&program, &model);
        let r1: Vec<i64> = exploration.outcomes.finals().map(|(v, _)| v[1]).collect();
        assert_eq!(r1, r1_values, "{}", model.name);
        assert!(
            exploration
                .outcomes
                .iter()
                .all(|(o, info)| matches!(o, Outcome::Final(_))
                    && info.executions == Some(Count::Infinite)),
            "{}",
            model.name
        );
    }
}

/// n6 (Owens, Sarkar, Sewell, TPHOLs 2009): P0 reads its own buffered store to x,
/// then reads y = 0, while P1's stores y = 2; x = 2 and P0's x = 1 end with x = 1.
/// Allowed on x86 only thanks to store forwarding; forbidden on IBM 370, which has
/// no forwarding (Alglave 2010).
const N6: &str = r#"Litmus(
    name: "n6",
    threads: [
        [ Store("x", 1), Load("r0", "x"), Load("r1", "y") ],
        [ Store("y", 2), Store("x", 2) ],
    ],
    condition: "exists (0:r0=1 /\\ 0:r1=0 /\\ x=1)",
    expect: { "tso": Sometimes, "ibm370": Never },
)"#;

#[test]
fn store_forwarding_off_forbids_n6() {
    let program = load(N6);
    for model in [Model::tso(), model_file("ibm370.ron")] {
        let run = RunReport::new(&program, "n6.ron", &model, explore(&program, &model));
        assert_eq!(
            run.status(),
            Some(hbsim::verdict::Status::Held),
            "{}: {:?}",
            model.name,
            run.checks
        );
    }
}

#[test]
fn a_bounded_buffer_blocks_the_second_store() {
    // P0 buffers two stores before loading z; P1 fences between its store and
    // load. r0 = 0 and r1 = 0 needs both of P0's stores pending at once (see
    // docs/models.md), which a one-entry buffer forbids.
    let program = load(
        r#"Litmus(
            name: "SB+two-stores",
            threads: [
                [ Store("x", 1), Store("y", 1), Load("r0", "z") ],
                [ Store("z", 1), Fence, Load("r1", "x") ],
            ],
            condition: "exists (0:r0=0 /\\ 1:r1=0)",
        )"#,
    );
    let both_zero = |model: &Model| {
        finals(&program, model)
            .iter()
            .any(|v| v[0] == 0 && v[1] == 0)
    };
    assert!(both_zero(&Model::tso()));
    assert!(!both_zero(&model_file("tso-bounded-1.ron")));
    assert!(!both_zero(&Model::sc()));
}

#[test]
fn bundled_model_files_load_and_keep_their_settings() {
    let config = |name: &str| {
        model_file(name)
            .store_buffers_config()
            .expect("a store-buffer model")
    };
    let tso1 = config("tso-bounded-1.ron");
    assert_eq!(
        (tso1.buffer, tso1.bound),
        (hbsim::model::BufferShape::PerThread, Some(1))
    );
    let ibm = config("ibm370.ron");
    assert_eq!(ibm.forwarding, hbsim::model::Forwarding::Disabled);
    let pso2 = config("pso-bounded-2.ron");
    assert_eq!(
        (pso2.buffer, pso2.bound),
        (hbsim::model::BufferShape::PerThreadPerLocation, Some(2))
    );
}

/// Every error must name the file, line and column and render without panicking.
fn assert_well_formed(err: &LoadError) {
    let text = err.to_string();
    if let LoadError::Source(source) = err {
        assert!(
            text.starts_with(&format!(
                "{}:{}:{}: ",
                source.name, source.line, source.column
            )),
            "{text}"
        );
    }
    let mut rendered = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .render_report(&mut rendered, err)
        .expect("diagnostic renders");
    // The location in the message and the one miette prints over the excerpt agree.
    if let LoadError::Source(source) = err {
        let location = format!("[{}:{}:{}]", source.name, source.line, source.column);
        assert!(
            rendered.contains(&location),
            "{location} not in\n{rendered}"
        );
    }
}

fn corpus_sources() -> Vec<(String, String)> {
    corpus::litmus_files()
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable");
            (p.display().to_string(), text)
        })
        .collect()
}

#[test]
fn error_columns_count_bytes_like_the_rendered_excerpt() {
    let src = "Litmus(name: \"\u{e9}\u{e9}\u{e9}\", threads: [[Store(\"x\", 1)]], condition: \"exists y=1\")";
    let err = parse_str(src, "u.ron").unwrap_err();
    let at = src.find("y=1").unwrap();
    assert!(
        err.to_string().starts_with(&format!("u.ron:1:{}:", at + 1)),
        "{err}"
    );
    assert_well_formed(&err);
}

#[test]
fn memory_limit_truncates() {
    let program = sb(6);
    let exploration = states(&program, &Model::tso())
        .limits(Limits::default().max_memory(1 << 20))
        .run();
    assert_eq!(
        exploration.completeness,
        Completeness::Truncated(Limit::Memory(1 << 20))
    );
    // SB6 has 39,202 states; each costs at least 20 bytes of bookkeeping (its
    // end offset, parent and end of its transitions) and 13 of encoding (a
    // format byte, then 24 values or more, two a byte: a pc, a register, a
    // variable and a buffer length per thread), so fewer than
    // 1 MiB / 33 B = 31,775 fit.
    assert!(
        exploration.stats.states < 31_775,
        "{}",
        exploration.stats.states
    );
}

#[test]
fn every_truncation_of_every_corpus_file_is_handled() {
    for (name, text) in corpus_sources() {
        for (cut, _) in text.char_indices() {
            if let Err(e) = parse_str(&text[..cut], &name) {
                assert_well_formed(&e);
            }
        }
    }
}

/// A file cut off inside a string or after a key says it found the end of
/// the file (found by fuzzing: "expected end of string, found `\"Each`",
/// "unexpected end of RON, found `:`").
#[test]
fn a_file_cut_off_says_it_found_the_end_of_the_file() {
    for text in [
        r#"Litmus(name: "T", doc: "Each"#,
        r#"Litmus(name: "T", init: {"x":"#,
    ] {
        let err = parse_str(text, "cut.ron").expect_err("a cut file is an error");
        assert!(
            err.to_string().ends_with("found the end of the file"),
            "{text}: {err}"
        );
    }
}

/// herd7's `/\` or `\/` with one backslash is an unknown escape in a RON
/// string: the error points at the escape, not the start of the string, and
/// the help suggests the string as a raw string when that reads the same (it
/// did not for a string with another escape, which a raw string would keep
/// as two characters).
#[test]
fn a_single_backslash_points_at_the_escape_and_suggests_a_raw_string() {
    let test = |condition: &str| {
        format!(
            r#"Litmus(name: "T", threads: [[Store("x", 1)], [Load("r0", "x")]], condition: {condition})"#
        )
    };
    let source = test(r#""exists (x=1 \/ 1:r0=1)""#);
    let Err(LoadError::Source(err)) = parse_str(&source, "e.ron") else {
        panic!("an unknown escape is an error")
    };
    assert_eq!(&source[err.span()], "\\/");
    assert!(err.message.ends_with("found `\\/`"), "{}", err.message);
    let help = err.help.as_deref().expect("a help");
    let raw = &help[help.find("r\"").expect("a raw string")..];
    assert_eq!(raw, r#"r"exists (x=1 \/ 1:r0=1)""#);
    parse_str(&test(raw), "raw.ron").expect("the suggested raw string reads");

    let source = test(r#""exists (x=1 \\/ 1:r0=1 /\ x=1)""#);
    let Err(LoadError::Source(err)) = parse_str(&source, "e.ron") else {
        panic!("an unknown escape is an error")
    };
    assert_eq!(err.span().start, source.rfind('\\').unwrap());
    assert!(
        err.help
            .as_deref()
            .is_some_and(|h| h.ends_with(r#"r"...""#))
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn mutated_corpus_files_never_panic(
        file in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, "[ -~]{0,3}"), 1..4),
    ) {
        let sources = corpus_sources();
        let (name, text) = &sources[file.index(sources.len())];
        let mut text = text.clone();
        for (at, kind, insert) in edits {
            let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
            let i = boundaries[at.index(boundaries.len())];
            let next = boundaries.iter().copied().find(|&b| b > i).unwrap_or(i);
            match kind {
                0 => text.insert_str(i, &insert),
                1 => text.replace_range(i..next, ""),
                _ => text.replace_range(i..next, &insert),
            }
        }
        if let Err(e) = parse_str(&text, name) {
            assert_well_formed(&e);
        }
    }
}

#[test]
fn replaying_an_impossible_step_is_an_error_not_a_panic() {
    let program = load(SB);
    let trace = hbsim::trace::Trace {
        steps: vec![hbsim::trace::Step::Run(ThreadId(5))],
    };
    let err = trace.replay(&program, &Model::tso()).unwrap_err();
    assert_eq!(err.index, 0);
    let commit_nothing = hbsim::trace::Trace {
        steps: vec![hbsim::trace::Step::Commit(ThreadId(0), None)],
    };
    assert!(commit_nothing.replay(&program, &Model::tso()).is_err());
}

#[test]
fn long_register_only_runs_are_one_step() {
    // P0 counts to 5000 in registers, then stores; P1 stores. Under SC the only
    // interleavings are the two orders of the two stores.
    let program = load(
        r#"Litmus(
            name: "count",
            threads: [
                [ Loop(body: [ Let("r0", "r0 + 1") ], until: "r0 == 5000"), Store("x", "r0") ],
                [ Store("y", 1) ],
            ],
            condition: "exists x=5000",
        )"#,
    );
    let exploration = explore(&program, &Model::sc());
    assert_eq!(exploration.stats.executions, Some(Count::Finite(2)));
    assert_eq!(finals(&program, &Model::sc()), vec![vec![5000, 5000, 1]]);
}

#[test]
fn a_register_only_loop_that_never_exits_never_terminates() {
    let program = load(
        r#"Litmus(
            name: "local-spin",
            threads: [
                [ Loop(body: [ Let("r0", "1 - r0") ], until: "r0 == 2") ],
                [ Store("x", 1) ],
            ],
            condition: "exists x=1",
        )"#,
    );
    let exploration = explore(&program, &Model::tso());
    let outcomes: Vec<&Outcome> = exploration.outcomes.iter().map(|(o, _)| o).collect();
    assert_eq!(outcomes, vec![&Outcome::NeverTerminates(vec![ThreadId(0)])]);
}

#[test]
fn if_nests_23_deep() {
    let nested = |depth: usize| {
        let mut code = r#"Store("x", 1)"#.to_string();
        for _ in 0..depth {
            code = format!(r#"If(cond: "1", then: [ {code} ])"#);
        }
        format!(r#"Litmus(name: "deep", threads: [ [ {code} ] ], condition: "exists x=1")"#)
    };
    assert!(parse_str(&nested(23), "deep.ron").is_ok());
    let err = parse_str(&nested(24), "deep.ron").unwrap_err();
    assert!(err.to_string().contains("nested at most 23 deep"), "{err}");
}

#[test]
fn the_longest_allowed_expressions_parse_and_evaluate() {
    let parens = format!("{}r0{}", "(".repeat(255), ")".repeat(255));
    let sum = vec!["1"; 256].join("+");
    let nots = format!("{}x=0", "~".repeat(500));
    let src = format!(
        r#"Litmus(name: "long", threads: [ [ Let("r0", "{parens}"), Let("r1", "{sum}"), Store("x", "r1") ] ], condition: "exists ({nots} \\/ x=256)")"#
    );
    let program = parse_str(&src, "long.ron")
        .unwrap_or_else(|e| panic!("{e}"))
        .program;
    assert_eq!(finals(&program, &Model::sc()), vec![vec![0, 256, 256]]);
}

#[test]
fn stats_report_memory_within_the_limit_and_time_per_state() {
    let program = sb(4);
    let exploration = states(&program, &Model::tso()).run();
    let stats = exploration.stats;
    assert!(stats.memory > 0 && stats.memory <= Limits::DEFAULT_MAX_MEMORY);
    let expected = stats.elapsed.as_secs_f64() * 1e9 / stats.states as f64;
    assert!((stats.ns_per_state() - expected).abs() < 1e-6);
    // A memory limit below what the full search needs truncates it, so the
    // estimate is what the limit bounds.
    let limited = states(&program, &Model::tso())
        .limits(Limits::default().max_memory(stats.memory / 2))
        .run();
    assert_eq!(
        limited.completeness,
        Completeness::Truncated(Limit::Memory(stats.memory / 2))
    );
    assert!(limited.stats.memory <= stats.memory / 2);
}

/// Explorations without witnesses (what `hbsim run` asks for when it prints
/// none) find the same outcomes, counts, blocked threads and races, with
/// every outcome's witness `None`; races keep theirs. Files exercising both
/// engines, a racy test, blocked and panicking outcomes, and a spin loop.
#[test]
fn outcomes_without_witnesses_are_the_same_outcomes() {
    let files = [
        "litmus/sb.ron",
        "litmus/mp+spin.ron",
        "litmus/cas-lock.ron",
        "litmus/go/mutex-deadlock.ron",
        "litmus/go/mutex-unlock-unlocked.ron",
        "litmus/go/chan-leak.ron",
        "litmus/go/atomic-writes-plain-read.ron",
    ];
    for file in files {
        let program = hbsim::syntax::parse_file(Path::new(file))
            .expect("corpus file loads")
            .program;
        for model in Model::builtins() {
            for engine in [
                EngineChoice::Auto,
                EngineChoice::Graph,
                EngineChoice::States,
            ] {
                let run = |keep: bool| {
                    Explorer::new(&program, &model)
                        .engine(engine)
                        .witnesses(keep)
                        .run()
                };
                let (with, without) = (run(true), run(false));
                let context = format!("{file} under {} with {engine:?}", model.name);
                assert_eq!(with.engine, without.engine, "{context}");
                assert_eq!(with.completeness, without.completeness, "{context}");
                assert_eq!(with.races, without.races, "{context}");
                assert!(!with.outcomes.is_empty(), "{context}");
                let kept: Vec<_> = with.outcomes.iter().collect();
                let dropped: Vec<_> = without.outcomes.iter().collect();
                assert_eq!(kept.len(), dropped.len(), "{context}");
                for ((outcome, a), (other, b)) in kept.into_iter().zip(dropped) {
                    assert_eq!(outcome, other, "{context}");
                    assert!(a.witness.is_some(), "{context}");
                    assert_eq!(b.witness, None, "{context}");
                    assert_eq!(
                        (a.executions, a.racy_executions, a.race_free, &a.blocked),
                        (b.executions, b.racy_executions, b.race_free, &b.blocked),
                        "{context}: {outcome:?}"
                    );
                }
            }
        }
    }
}

/// A store-buffer machine's run satisfies its own model's axiom: no cycle
/// forbids it ([`hbsim::hb::cycle::forbidding_cycle`]), on every witness of
/// the corpus under sc, tso and pso; and SB's relaxed outcome has one under
/// sc, the classic po/fr cycle.
#[test]
fn a_models_own_executions_have_no_forbidding_cycle() {
    use hbsim::hb::Execution;
    use hbsim::hb::cycle::{Relation, forbidding_cycle};
    for path in corpus::litmus_files() {
        let program = hbsim::syntax::parse_file(&path).unwrap().program;
        for model in [Model::sc(), Model::tso(), Model::pso()] {
            let exploration = explore(&program, &model);
            for (_, info) in exploration.outcomes.iter() {
                let witness = info.witness.as_ref().expect("witness kept");
                let execution = Execution::record(&program, &model, witness).unwrap();
                assert_eq!(
                    forbidding_cycle(&execution, &model),
                    None,
                    "{} under {}",
                    path.display(),
                    model.name
                );
            }
        }
    }
    let relations = sc_cycle_of_condition("litmus/sb.ron", &Model::tso());
    assert_eq!(relations.len(), 4);
    assert_eq!(relations.iter().filter(|&&r| r == Relation::Fr).count(), 2);
    assert_eq!(relations.iter().filter(|&&r| r == Relation::Po).count(), 2);
}

/// An outcome sc cannot reach has, in every execution reaching it, a cycle
/// of sc's axiom, whichever coherence order is chosen: so every `go` witness
/// of an outcome only weaker models reach must show one (with the write a
/// variable ends with coherence-last: S+plain has none otherwise), across
/// the corpus; and LB+plain's shows the po/rf cycle.
#[test]
fn go_executions_of_outcomes_sc_cannot_reach_have_a_cycle_sc_forbids() {
    use hbsim::hb::Execution;
    use hbsim::hb::cycle::{Relation, forbidding_cycle};
    let mut shown = 0;
    for path in corpus::litmus_files() {
        let program = hbsim::syntax::parse_file(&path).unwrap().program;
        let sc = explore(&program, &Model::sc());
        let go = explore(&program, &Model::go());
        if !sc.completeness.is_exhaustive() || !go.completeness.is_exhaustive() {
            continue;
        }
        for (outcome, info) in go.outcomes.iter() {
            let Outcome::Final(values) = outcome else {
                continue;
            };
            if sc.outcomes.iter().any(|(o, _)| o == outcome) {
                continue;
            }
            let witness = info.witness.as_ref().expect("witness kept");
            let execution = Execution::record(&program, &Model::go(), witness).unwrap();
            assert!(
                forbidding_cycle(&execution, &Model::sc()).is_some(),
                "{}: {values:?}",
                path.display()
            );
            shown += 1;
        }
    }
    assert!(shown >= 20, "only {shown} go-only outcomes in the corpus");
    assert_eq!(
        sc_cycle_of_condition("litmus/go/lb-plain.ron", &Model::go()),
        [Relation::Po, Relation::Rf, Relation::Po, Relation::Rf]
    );
}

/// The relations of the cycle that forbids under sc the execution `model`
/// reaches first among those satisfying the condition of the test at `path`.
fn sc_cycle_of_condition(path: &str, model: &Model) -> Vec<hbsim::hb::cycle::Relation> {
    let program = hbsim::syntax::parse_file(Path::new(path)).unwrap().program;
    let exploration = explore(&program, model);
    let (_, relaxed) = exploration
        .outcomes
        .iter()
        .find(|(o, _)| hbsim::verdict::satisfies(&program, &exploration.outcomes, o))
        .expect("an outcome satisfying the condition");
    let witness = relaxed.witness.as_ref().expect("witness kept");
    let execution = hbsim::hb::Execution::record(&program, model, witness).unwrap();
    let cycle =
        hbsim::hb::cycle::forbidding_cycle(&execution, &Model::sc()).expect("sc forbids it");
    cycle.iter().map(|&(_, r)| r).collect()
}

//! Go synchronisation beyond the corpus's outcome sets: where blocked threads
//! are reported, panics stopping every thread, the condition atoms naming how
//! an execution ends, and happens-before edges of mutexes and wait groups in
//! recorded executions.

use hbsim::explore::{EngineChoice, Explorer, explore};
use hbsim::hb::Execution;
use hbsim::ir::ThreadId;
use hbsim::model::Model;
use hbsim::outcome::Outcome;
use hbsim::syntax::parse_str;

fn load(src: &str) -> hbsim::ir::Program {
    parse_str(src, "test.ron").expect("test parses").program
}

#[test]
fn a_leaked_goroutine_is_reported_blocked_at_its_lock() {
    let program = load(
        r#"Litmus(name: "leak", threads: {
            "main": [ Lock("m"), Go("worker") ],
            "worker": [ Lock("m"), Store("x", 1), Unlock("m") ],
        }, condition: "exists (x=1)")"#,
    );
    for model in Model::builtins() {
        let exploration = explore(&program, &model);
        let outcomes: Vec<_> = exploration.outcomes.iter().collect();
        assert_eq!(outcomes.len(), 1, "{}", model.name);
        let (outcome, info) = outcomes[0];
        assert_eq!(*outcome, Outcome::Blocked(vec![ThreadId(1)]));
        assert!(!outcome.is_deadlock(), "main finished: a leak");
        assert_eq!(
            exploration.outcomes.display(outcome).to_string(),
            "leak: worker"
        );
        // Instruction 0 of the goroutine is its start; 1 is the Lock.
        assert_eq!(info.blocked, vec![(ThreadId(1), 1)], "{}", model.name);
    }
}

#[test]
fn a_blocked_main_goroutine_is_a_deadlock() {
    let program = load(
        r#"Litmus(name: "deadlock", threads: {
            "main": [ Go("worker"), Lock("m"), Lock("m") ],
            "worker": [ Lock("m") ],
        }, condition: "exists true")"#,
    );
    let exploration = explore(&program, &Model::sc());
    let outcomes: Vec<&Outcome> = exploration.outcomes.iter().map(|(o, _)| o).collect();
    // Whichever Lock comes second and third blocks: main alone (worker got
    // the mutex first or finished) or main and worker.
    assert_eq!(
        outcomes,
        vec![
            &Outcome::Blocked(vec![ThreadId(0)]),
            &Outcome::Blocked(vec![ThreadId(0), ThreadId(1)]),
        ]
    );
    assert!(outcomes.iter().all(|o| o.is_deadlock()));
    assert_eq!(
        exploration.outcomes.display(outcomes[1]).to_string(),
        "deadlock: main worker"
    );
}

/// The atoms each outcome of `threads` (the body of a `threads: { ... }` map
/// with `main` and `worker`) satisfies under sc, among a fixed list; outcomes
/// in report order.
fn atoms_holding(threads: &str) -> Vec<(String, Vec<&'static str>)> {
    const ATOMS: [&str; 12] = [
        "true",
        "x=1",
        "~x=1",
        "deadlock",
        "leak",
        "panic",
        "never_terminates",
        "panic(main)",
        "panic(worker)",
        "blocked(main)",
        "blocked(1)",
        "~deadlock /\\ ~leak /\\ ~panic /\\ ~never_terminates",
    ];
    let program = load(&format!(
        r#"Litmus(name: "ends", threads: {{ {threads} }}, condition: "exists true")"#
    ));
    let props: Vec<_> = ATOMS
        .iter()
        .map(|atom| hbsim::syntax::parse_proposition(&program, atom, "atom").expect("atom parses"))
        .collect();
    let exploration = explore(&program, &Model::sc());
    let set = &exploration.outcomes;
    set.iter()
        .map(|(outcome, _)| {
            let holding = ATOMS
                .iter()
                .zip(&props)
                .filter(|(_, prop)| set.satisfies(outcome, prop))
                .map(|(atom, _)| *atom)
                .collect();
            (set.display(outcome).to_string(), holding)
        })
        .collect()
}

#[test]
fn ending_atoms_hold_exactly_on_outcomes_of_their_kind() {
    let not_ended = "~deadlock /\\ ~leak /\\ ~panic /\\ ~never_terminates";
    // main blocks at its first Lock (worker kept m) or, having stored x=1, at
    // its second with worker blocked too: deadlocks, no final state, so the
    // value atom is false and its negation true.
    assert_eq!(
        atoms_holding(
            r#""main": [ Go("worker"), Lock("m"), Store("x", 1), Lock("m") ], "worker": [ Lock("m") ]"#
        ),
        vec![
            (
                "deadlock: main".to_string(),
                vec!["true", "~x=1", "deadlock", "blocked(main)"]
            ),
            (
                "deadlock: main worker".to_string(),
                vec!["true", "~x=1", "deadlock", "blocked(main)", "blocked(1)"]
            ),
        ]
    );
    // main finishes with m held: the worker leaks.
    assert_eq!(
        atoms_holding(
            r#""main": [ Lock("m"), Go("worker"), Store("x", 1) ], "worker": [ Lock("m") ]"#
        ),
        vec![(
            "leak: worker".to_string(),
            vec!["true", "~x=1", "leak", "blocked(1)"]
        )]
    );
    // The worker unlocks an unlocked mutex, whether or not main stored x=1.
    assert_eq!(
        atoms_holding(r#""main": [ Go("worker"), Store("x", 1) ], "worker": [ Unlock("m") ]"#),
        vec![(
            "panic: worker".to_string(),
            vec!["true", "~x=1", "panic", "panic(worker)"]
        )]
    );
    // main spins on a flag nobody sets.
    assert_eq!(
        atoms_holding(
            r#""main": [ Store("x", 1), Loop(body: [ Load("r0", "flag") ], until: "r0 == 1") ], "worker": [ Store("y", 1) ]"#
        ),
        vec![(
            "never terminates: main".to_string(),
            vec!["true", "~x=1", "never_terminates"]
        )]
    );
    // Everything finishes: only value atoms can hold.
    assert_eq!(
        atoms_holding(r#""main": [ Store("x", 1) ], "worker": [ Store("y", 1) ]"#),
        vec![("x=1; y=1;".to_string(), vec!["true", "x=1", not_ended])]
    );
}

#[test]
fn a_spinning_thread_is_not_reported_blocked() {
    let program = load(
        r#"Litmus(name: "spin", threads: [
            [ Loop(body: [ AtomicLoad("r0", "flag") ], until: "r0 == 1") ],
        ], condition: "exists true")"#,
    );
    let exploration = explore(&program, &Model::sc());
    let (outcome, info) = exploration.outcomes.iter().next().expect("one outcome");
    assert_eq!(*outcome, Outcome::NeverTerminates(vec![ThreadId(0)]));
    assert!(info.blocked.is_empty());
}

#[test]
fn a_panic_stops_every_thread() {
    // P1 would store y=1 after P0's panic in some interleavings; the panic
    // ends the program, so no outcome has P1 running after it.
    let program = load(
        r#"Litmus(name: "panic", threads: [
            [ Unlock("m") ],
            [ Store("y", 1) ],
        ], condition: "exists true")"#,
    );
    for model in Model::builtins() {
        // The machine's interleavings are counted: the state-space engine.
        let exploration = Explorer::new(&program, &model)
            .engine(EngineChoice::States)
            .run();
        let outcomes: Vec<&Outcome> = exploration.outcomes.iter().map(|(o, _)| o).collect();
        assert_eq!(
            outcomes,
            vec![&Outcome::Panic(ThreadId(0))],
            "{}",
            model.name
        );
        let info = exploration.outcomes.iter().next().unwrap().1;
        // P0 panics first, or after P1's store; under tso and pso also after
        // P1's store entered its buffer but before it reached memory.
        let executions = if model.name == "tso" || model.name == "pso" {
            3
        } else {
            2
        };
        assert_eq!(
            info.executions,
            Some(hbsim::outcome::Count::Finite(executions)),
            "{}",
            model.name
        );
        let exec = Execution::record(
            &program,
            &model,
            info.witness.as_ref().expect("witness kept"),
        )
        .unwrap();
        assert!(exec.steps.last().unwrap().panicked.is_some());
    }
}

#[test]
fn unlock_is_synchronised_before_the_next_lock() {
    let program = load(
        r#"Litmus(name: "handoff", threads: [
            [ Lock("m"), Store("x", 1), Unlock("m") ],
            [ Lock("m"), Load("r0", "x"), Unlock("m") ],
        ], condition: "exists (1:r0=1)")"#,
    );
    for model in Model::builtins() {
        let exploration = explore(&program, &model);
        assert!(exploration.races.is_empty(), "{}", model.name);
        for (_, info) in exploration.outcomes.iter() {
            let exec = Execution::record(
                &program,
                &model,
                info.witness.as_ref().expect("witness kept"),
            )
            .unwrap();
            let store = exec
                .events
                .iter()
                .find(|e| e.pc == Some(1) && e.thread == Some(ThreadId(0)))
                .unwrap();
            let load = exec
                .events
                .iter()
                .find(|e| e.pc == Some(1) && e.thread == Some(ThreadId(1)))
                .unwrap();
            assert!(
                exec.happens_before(store.id, load.id) || exec.happens_before(load.id, store.id),
                "{}: the critical sections are ordered",
                model.name
            );
        }
    }
}

#[test]
fn channel_and_select_tests_print_back_as_the_same_program() {
    for name in [
        "select.ron",
        "select-default.ron",
        "chan-unbuffered.ron",
        "chan-nil.ron",
        "once.ron",
    ] {
        let path = format!("{}/litmus/go/{name}", env!("CARGO_MANIFEST_DIR"));
        let source = std::fs::read_to_string(&path).expect("corpus file");
        let printed = hbsim::syntax::reformat(&source, name).expect("reformats");
        let again = parse_str(&printed, name)
            .expect("printed file parses")
            .program;
        assert_eq!(
            again,
            parse_str(&source, name).unwrap().program,
            "{name}:\n{printed}"
        );
    }
}

#[test]
fn multi_word_tests_print_back_as_the_same_program() {
    let path = format!("{}/litmus/go/torn.ron", env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(&path).expect("corpus file");
    let printed = hbsim::syntax::reformat(&source, "torn.ron").expect("reformats");
    assert!(printed.contains("words: {"), "{printed}");
    let again = parse_str(&printed, "torn.ron")
        .expect("printed file parses")
        .program;
    assert_eq!(again, parse_str(&source, "torn.ron").unwrap().program);
}

#[test]
fn a_built_nil_channel_blocks_its_users_and_panics_when_closed() {
    let builder = hbsim::syntax::LitmusBuilder::new("nil")
        .nil_channel("c")
        .channel("d", 1)
        .thread(|t| t.send("d", 1).close("c"))
        .thread(|t| t.recv("r0", "c"))
        .condition("exists true");
    assert!(
        builder.to_ron().contains("\"c\": None"),
        "{}",
        builder.to_ron()
    );
    let test = builder.build().expect("builds");
    for model in Model::builtins() {
        let exploration = explore(&test.program, &model);
        let outcomes: Vec<&Outcome> = exploration.outcomes.iter().map(|(o, _)| o).collect();
        // P0 panics at its close whether or not P1 has started waiting;
        // P1's receive never completes.
        assert_eq!(
            outcomes,
            vec![&Outcome::Panic(ThreadId(0))],
            "{}",
            model.name
        );
    }
}

/// Outcomes named on the command line (`hbsim explain -o`) resolve names as
/// a test's condition does: a mutex is not a variable, and the help lists
/// only the variables.
#[test]
fn outcomes_given_for_a_program_name_only_its_variables() {
    let program = load(
        r#"Litmus(name: "t", threads: [[ Lock("m"), Store("x", 1), Unlock("m") ]], condition: "exists true")"#,
    );
    let error = hbsim::syntax::parse_outcome_line(&program, "m=0;", "-o")
        .expect_err("a mutex is no outcome");
    let text = format!("{error:?}");
    assert!(text.contains("which is a mutex"), "{text}");
    assert!(hbsim::syntax::parse_outcome_line(&program, "x=1;", "-o").is_ok());
    let undeclared =
        hbsim::syntax::parse_outcome_line(&program, "y=1;", "-o").expect_err("y is not declared");
    let text = format!("{undeclared:?}");
    assert!(text.contains("variables of the test: x"), "{text}");
}

/// A goroutine that ends with a `TryLock` (or a `select` with a default)
/// stops reading when the step that finishes it is not an access: the go
/// machine drops the writes only it could still observe then too (debug
/// builds check after every plain or register-only step that the state is
/// pruned; a build that left them found an adversarial comparison's extra
/// states and witness steps). P0's racy load of y sees the store or not, and
/// the uncontended `TryLock` may fail (docs/models.md, "Go synchronisation").
#[test]
fn a_goroutine_ending_in_a_trylock_leaves_its_state_pruned() {
    let program = load(
        r#"Litmus(name: "t", threads: [
            [ Load("r0", "y"), TryLock("ok", "m") ],
            [ Store("y", 5), Load("r0", "x") ],
        ], condition: "exists true")"#,
    );
    let exploration = Explorer::new(&program, &Model::go())
        .engine(EngineChoice::States)
        .run();
    // Observables: 0:r0, 0:ok, 1:r0, y, x.
    let finals: Vec<Vec<i64>> = exploration
        .outcomes
        .finals()
        .map(|(values, _)| values.to_vec())
        .collect();
    assert_eq!(
        finals,
        vec![
            vec![0, 0, 0, 5, 0],
            vec![0, 1, 0, 5, 0],
            vec![5, 0, 0, 5, 0],
            vec![5, 1, 0, 5, 0],
        ]
    );
    assert_eq!(exploration.outcomes.len(), 4);
}

/// `check_outcomes` takes the endings a test file's `outcomes` takes: a
/// goroutine that locks a mutex it holds blocks forever (sync.Mutex: "If the
/// lock is already in use, the calling goroutine blocks until the mutex is
/// available"), so main deadlocks, and a goroutine left blocked is a leak.
#[test]
fn expected_outcome_sets_in_the_library_name_deadlocks_and_leaks() {
    use hbsim::check::{CheckError, assert_outcomes, check_outcomes};
    let deadlock = load(
        r#"Litmus(name: "relock", threads: { "main": [ Store("x", 1), Lock("m"), Lock("m") ] },
            condition: "exists deadlock")"#,
    );
    assert_outcomes(&deadlock, &Model::go(), &["deadlock: main"]);
    let Err(CheckError::Mismatch(diff)) = check_outcomes(&deadlock, &Model::go(), &["x=1;"]) else {
        panic!("the final state x=1 is never reached");
    };
    assert_eq!(diff.missing, ["x=1;"]);
    assert_eq!(diff.forbidden.len(), 1);
    assert!(diff.forbidden[0].0.starts_with("deadlock: main"), "{diff}");
    let leak = load(
        r#"Litmus(name: "leak", threads: { "main": [ Go("w"), Store("x", 1) ], "w": [ Lock("m"), Lock("m") ] },
            condition: "exists leak")"#,
    );
    assert_outcomes(&leak, &Model::go(), &["leak: w"]);
    // A malformed ending is an error naming the line.
    let Err(CheckError::BadOutcome(e)) = check_outcomes(&leak, &Model::go(), &["leak: main"])
    else {
        panic!("main cannot leak");
    };
    assert!(
        e.to_string()
            .contains("expected goroutines other than main in a leak"),
        "{e}"
    );
    // An error names its line, and a multi-word variable named whole is told
    // apart from an undeclared one, as in a test file.
    let Err(CheckError::BadOutcome(e)) =
        check_outcomes(&leak, &Model::go(), &["leak: w", "leak: w"])
    else {
        panic!("a line given twice");
    };
    assert!(
        e.to_string()
            .starts_with("expected outcome:2:1: expected each outcome once"),
        "{e}"
    );
    let torn = load(
        r#"Litmus(name: "torn", words: { "iface": 2 }, threads: [ [ Store("iface", 1) ] ], condition: "exists true")"#,
    );
    let Err(CheckError::BadOutcome(e)) = check_outcomes(&torn, &Model::go(), &["iface=1;"]) else {
        panic!("iface has two words");
    };
    assert!(
        e.to_string().contains("expected one word of `iface`"),
        "{e}"
    );
}

//! Each happens-before rule of the Go memory model (<https://go.dev/ref/mem>,
//! "Synchronization"; ../shared/go-memory-model.md) pinned in both directions
//! on recorded executions: with the smallest program that shows the rule, the
//! edge is there; with the smallest program where the rule does not apply, it
//! is not.
//!
//! Every program marks the two ends with a plain `Store("a", 1)` and a plain
//! `Load("r", "a")` in different threads; its condition picks the outcomes in
//! which the synchronisation under test took place (and the load read the
//! store). In the witness of each such outcome, under every model, the store
//! must happen before the load (a rule) or must not (no rule).

use hbsim::explore::explore;
use hbsim::hb::{EventKind, Execution};
use hbsim::model::Model;
use hbsim::outcome::Outcome;
use hbsim::syntax::parse_str;
use hbsim::verdict::satisfies;

/// For each outcome of `threads` (the body of a `threads:` map) satisfying
/// `condition`, under each model: whether the store to `a` happens before
/// the load of `a` in its witness.
fn store_before_load(channels: &str, threads: &str, condition: &str) -> Vec<(String, bool)> {
    let source = format!(
        r#"Litmus(name: "rule", channels: {{ {channels} }}, threads: {{ {threads} }}, condition: "exists ({})")"#,
        condition.replace('\\', "\\\\")
    );
    let program = parse_str(&source, "rule.ron")
        .unwrap_or_else(|e| panic!("{source}: {e:?}"))
        .program;
    let a = program
        .locs
        .iter()
        .position(|l| l.name == "a")
        .expect("the program uses a");
    let mut found = Vec::new();
    for model in Model::builtins() {
        let exploration = explore(&program, &model);
        for (outcome, info) in exploration.outcomes.iter() {
            if !matches!(outcome, Outcome::Final(_))
                || !satisfies(&program, &exploration.outcomes, outcome)
            {
                continue;
            }
            let exec = Execution::record(
                &program,
                &model,
                info.witness.as_ref().expect("witness kept"),
            )
            .unwrap();
            let on_a = |kind| {
                exec.events
                    .iter()
                    .find(|e| {
                        e.kind == kind && e.thread.is_some() && e.loc.map(|l| l.index()) == Some(a)
                    })
                    .unwrap_or_else(|| panic!("{condition}: no {kind:?} of a"))
                    .id
            };
            let (store, load) = (on_a(EventKind::Write), on_a(EventKind::Read));
            found.push((model.name.clone(), exec.happens_before(store, load)));
        }
    }
    assert!(!found.is_empty(), "{condition}: no outcome satisfies it");
    found
}

fn assert_rule(channels: &str, threads: &str, condition: &str) {
    for (model, ordered) in store_before_load(channels, threads, condition) {
        assert!(
            ordered,
            "{model}: {threads}: the store should happen before the load"
        );
    }
}

fn assert_no_rule(channels: &str, threads: &str, condition: &str) {
    for (model, ordered) in store_before_load(channels, threads, condition) {
        assert!(
            !ordered,
            "{model}: {threads}: nothing should order the store before the load"
        );
    }
}

#[test]
fn the_go_statement_is_synchronised_before_the_goroutine_starts() {
    assert_rule(
        "",
        r#""main": [ Store("a", 1), Go("w") ], "w": [ Load("r", "a") ]"#,
        "w:r=1",
    );
}

#[test]
fn the_exit_of_a_goroutine_is_synchronised_before_nothing() {
    assert_no_rule(
        "",
        r#""main": [ Go("w"), Load("r", "a") ], "w": [ Store("a", 1) ]"#,
        "main:r=1",
    );
}

#[test]
fn a_send_is_synchronised_before_the_receive_completes() {
    for capacity in [0, 1] {
        assert_rule(
            &format!(r#""c": {capacity}"#),
            r#""p": [ Store("a", 1), Send("c", 1) ], "q": [ Recv("v", "c"), Load("r", "a") ]"#,
            "q:r=1",
        );
    }
}

#[test]
fn an_unbuffered_receive_is_synchronised_before_the_send_completes() {
    assert_rule(
        r#""c": 0"#,
        r#""p": [ Store("a", 1), Recv("v", "c") ], "q": [ Send("c", 1), Load("r", "a") ]"#,
        "q:r=1",
    );
}

#[test]
fn a_buffered_receive_is_not_synchronised_before_the_send_completes() {
    assert_no_rule(
        r#""c": 1"#,
        r#""p": [ Store("a", 1), Recv("v", "c") ], "q": [ Send("c", 1), Load("r", "a") ]"#,
        "q:r=1",
    );
}

#[test]
fn the_kth_receive_is_synchronised_before_the_k_plus_c_th_send_completes() {
    assert_rule(
        r#""c": 1"#,
        r#""p": [ Store("a", 1), Recv("v", "c") ], "q": [ Send("c", 1), Send("c", 2), Load("r", "a") ]"#,
        "q:r=1 /\\ p:v=1",
    );
}

#[test]
fn a_close_is_synchronised_before_a_receive_that_returns_because_of_it() {
    assert_rule(
        r#""c": 1"#,
        r#""p": [ Store("a", 1), Close("c") ], "q": [ RecvOk("v", "ok", "c"), Load("r", "a") ]"#,
        "q:ok=0 /\\ q:r=1",
    );
    // A receive of a value sent before the close is ordered after the send
    // only, not after what follows it.
    assert_no_rule(
        r#""c": 1"#,
        r#""p": [ Send("c", 1), Store("a", 1), Close("c") ], "q": [ RecvOk("v", "ok", "c"), Load("r", "a") ]"#,
        "q:ok=1 /\\ q:r=1",
    );
}

#[test]
fn a_select_send_case_on_an_unbuffered_channel_orders_both_ways() {
    assert_rule(
        r#""c": 0"#,
        r#""p": [ Store("a", 1), Select(cases: [ Send("c", 1, []) ]) ], "q": [ Recv("v", "c"), Load("r", "a") ]"#,
        "q:r=1",
    );
    assert_rule(
        r#""c": 0"#,
        r#""p": [ Store("a", 1), Recv("v", "c") ], "q": [ Select(cases: [ Send("c", 1, [ Load("r", "a") ]) ]) ]"#,
        "q:r=1",
    );
}

#[test]
fn unlock_is_synchronised_before_the_next_lock_and_a_failed_trylock_before_nothing() {
    assert_rule(
        "",
        r#""p": [ Lock("m"), Store("a", 1), Unlock("m") ], "q": [ Lock("m"), Load("r", "a"), Unlock("m") ]"#,
        "q:r=1",
    );
    assert_no_rule(
        "",
        r#""p": [ Lock("m"), Store("a", 1), Unlock("m") ], "q": [ TryLock("ok", "m"), Load("r", "a") ]"#,
        "q:ok=0 /\\ q:r=1",
    );
}

#[test]
fn rwmutex_writers_and_readers_are_ordered_and_readers_are_not() {
    assert_rule(
        "",
        r#""p": [ Lock("rw"), Store("a", 1), Unlock("rw") ], "q": [ RLock("rw"), Load("r", "a"), RUnlock("rw") ]"#,
        "q:r=1",
    );
    assert_rule(
        "",
        r#""p": [ RLock("rw"), Store("a", 1), RUnlock("rw") ], "q": [ Lock("rw"), Load("r", "a"), Unlock("rw") ]"#,
        "q:r=1",
    );
    assert_no_rule(
        "",
        r#""p": [ RLock("rw"), Store("a", 1), RUnlock("rw") ], "q": [ RLock("rw"), Load("r", "a"), RUnlock("rw") ]"#,
        "q:r=1",
    );
}

#[test]
fn done_is_synchronised_before_wait_returns_and_updates_order_nothing() {
    assert_rule(
        "",
        r#""main": [ Add("wg", 1), Go("w"), Wait("wg"), Load("r", "a") ], "w": [ Store("a", 1), Done("wg") ]"#,
        "main:r=1",
    );
    assert_no_rule(
        "",
        r#""main": [ Add("wg", 2), Go("w1"), Go("w2") ], "w1": [ Store("a", 1), Done("wg") ], "w2": [ Done("wg"), Load("r", "a") ]"#,
        "w2:r=1",
    );
}

#[test]
fn the_once_body_is_synchronised_before_every_once_do_returns() {
    assert_rule(
        "",
        r#""p": [ OnceDo("o", [ Store("a", 1) ]) ], "q": [ OnceDo("o", [ Store("b", 1) ]), Load("r", "a") ]"#,
        "q:r=1",
    );
}

#[test]
fn an_atomic_store_is_synchronised_before_the_atomic_load_that_reads_it() {
    assert_rule(
        "",
        r#""p": [ Store("a", 1), AtomicStore("f", 1) ], "q": [ AtomicLoad("g", "f"), Load("r", "a") ]"#,
        "q:g=1 /\\ q:r=1",
    );
    assert_no_rule(
        "",
        r#""p": [ Store("a", 1), Store("f", 1) ], "q": [ Load("g", "f"), Load("r", "a") ]"#,
        "q:g=1 /\\ q:r=1",
    );
}

/// Load buffering with `n` stores between the load and the store of thread
/// 0: the store to `y` may run before the load of `x` (rule 3: independent
/// plain accesses), at any distance in the Go memory model.
fn lb_with_stores_between(n: usize) -> hbsim::ir::Program {
    let stores: String = (1..=n)
        .map(|i| format!(r#"Store("z{i}", "r0"), "#))
        .collect();
    let source = format!(
        r#"Litmus(name: "LB", threads: [
            [ Load("r0", "x"), {stores}Store("y", 1) ],
            [ Load("r1", "y"), Store("x", "r1") ],
        ], condition: "exists (0:r0=1 /\\ 1:r1=1)")"#
    );
    parse_str(&source, "lb.ron").unwrap().program
}

#[test]
fn a_reordering_beyond_the_look_ahead_makes_the_go_result_truncated() {
    use hbsim::explore::{Completeness, Limit};
    use hbsim::model::GO_LOOK_AHEAD;
    let reaches_lb = |program: &hbsim::ir::Program| {
        let exploration = explore(program, &Model::go());
        let lb = exploration
            .outcomes
            .iter()
            .any(|(o, _)| satisfies(program, &exploration.outcomes, o));
        (lb, exploration.completeness)
    };
    // Within the window: the store runs first, and the answer is exact.
    let near = lb_with_stores_between(GO_LOOK_AHEAD - 1);
    assert_eq!(reaches_lb(&near), (true, Completeness::Exhaustive));
    // One further: that run is not explored, and the result says so.
    let far = lb_with_stores_between(GO_LOOK_AHEAD);
    let window = Limit::Window(GO_LOOK_AHEAD as u32);
    assert_eq!(reaches_lb(&far), (false, Completeness::Truncated(window)));
    // Executions a longer look-ahead would add are not counted either.
    let exploration = explore(&far, &Model::go());
    assert_eq!(exploration.stats.executions, None);
    assert!(
        exploration
            .outcomes
            .iter()
            .all(|(_, i)| i.executions.is_none())
    );
    // The state graph is whole, so its deadlocks and leaks are found (a
    // goroutine locking a mutex it holds blocks forever).
    let leaking = parse_str(
        r#"Litmus(name: "leak", threads: {
            "main": [ Go("p1"), Go("w"), Load("r0", "x"), Store("z1", 1), Store("z2", 1),
                      Store("z3", 1), Store("z4", 1), Store("y", 1) ],
            "p1": [ Load("r1", "y"), Store("x", "r1") ],
            "w": [ Lock("m"), Lock("m") ] }, condition: "exists (blocked(w))")"#,
        "leak.ron",
    )
    .unwrap()
    .program;
    let exploration = explore(&leaking, &Model::go());
    assert_eq!(exploration.completeness, Completeness::Truncated(window));
    let leak = hbsim::outcome::Outcome::Blocked(vec![hbsim::ir::ThreadId(2)]);
    assert!(
        exploration.outcomes.get(&leak).is_some(),
        "{}",
        exploration.outcomes
    );
    // The hardware models run in order: nothing is cut.
    for model in [Model::sc(), Model::tso(), Model::pso()] {
        let exploration = explore(&far, &model);
        assert_eq!(
            exploration.completeness,
            Completeness::Exhaustive,
            "{}",
            model.name
        );
    }
    // Loads run early observe nothing they could not observe later: a reader
    // of six variables is exact however far its last load could move.
    let reader = parse_str(
        r#"Litmus(name: "reader", threads: [
            [ Store("a", 1), Store("f", 1) ],
            [ Load("r0", "a"), Load("r1", "b"), Load("r2", "c"), Load("r3", "d"),
              Load("r4", "e"), Load("r5", "f") ],
        ], condition: "exists (1:r0=0 /\\ 1:r5=1)")"#,
        "reader.ron",
    )
    .unwrap()
    .program;
    let exploration = explore(&reader, &Model::go());
    assert_eq!(exploration.completeness, Completeness::Exhaustive);
}

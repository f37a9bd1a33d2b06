//! The `hbsim` binary: exit codes, golden text output, golden error messages for
//! bad input, JSON output, and the behaviour of a closed pipe.
//!
//! Golden files live next to their fixtures (`tests/fixtures/run/*.stdout`,
//! `tests/fixtures/bad/*.stderr`). Timings are masked. Run with `BLESS=1` to
//! rewrite them after an intended change, then review the diff.

#[path = "common/golden.rs"]
mod golden;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use golden::assert_golden;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn hbsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hbsim"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("hbsim runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("output is UTF-8")
}

/// Replaces the run-dependent time on `Explored ... in T ms` lines.
fn mask_times(output: &str) -> String {
    output
        .lines()
        .map(
            |line| match (line.starts_with("Explored "), line.rfind(" in ")) {
                (true, Some(at)) => format!("{} in <time> ms", &line[..at]),
                _ => line.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn fixtures(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("tests/fixtures").join(dir))
        .expect("fixture directory exists")
        .map(|e| e.expect("fixture entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron" || e == "litmus"))
        .collect();
    files.sort();
    files
}

#[test]
fn run_output_matches_goldens() {
    let cases: &[(&str, &[&str], i32)] = &[
        ("sb", &["run", "tests/fixtures/run/sb.ron"], 0),
        (
            "race-after-unbuffered-send",
            &[
                "run",
                "--model",
                "go",
                "tests/fixtures/run/race-after-unbuffered-send.ron",
            ],
            0,
        ),
        ("mp-wrong", &["run", "tests/fixtures/run/mp-wrong.ron"], 1),
        (
            "spin-forever",
            &["run", "tests/fixtures/run/spin-forever.ron"],
            1,
        ),
        ("blocked", &["run", "tests/fixtures/run/blocked.ron"], 0),
        (
            "n6-ibm370",
            &[
                "run",
                "--model",
                "tso,models/ibm370.ron",
                "tests/fixtures/run/n6-ibm370.ron",
            ],
            0,
        ),
    ];
    for (name, args, code) in cases {
        let output = hbsim(args);
        assert_eq!(
            output.status.code(),
            Some(*code),
            "{name}: {}",
            text(&output.stderr)
        );
        let golden = root().join(format!("tests/fixtures/run/{name}.stdout"));
        assert_golden(&golden, &mask_times(&text(&output.stdout)));
    }
}

#[test]
fn every_bad_input_is_reported_with_position_and_exit_code_2() {
    let files = fixtures("bad");
    assert!(files.len() >= 10);
    for file in files {
        let relative = file.strip_prefix(root()).expect("fixture under the root");
        let output = hbsim(&["run", relative.to_str().expect("UTF-8 path")]);
        assert_eq!(output.status.code(), Some(2), "{}", file.display());
        assert_eq!(text(&output.stdout), "0 passed, 0 failed, 1 error\n");
        let stderr = text(&output.stderr);
        let location = format!("{}:", relative.display());
        assert!(stderr.contains(&location), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        // What was expected and what was found, in every message.
        assert!(
            stderr.contains("expected") && stderr.contains("found"),
            "{stderr}"
        );
        assert_golden(&file.with_extension("stderr"), &stderr);
    }
}

/// Runs hbsim with `input` on its standard input.
fn hbsim_with_input(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hbsim"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hbsim starts");
    let mut stdin = child.stdin.take().expect("piped");
    std::io::Write::write_all(&mut stdin, input).expect("input written");
    drop(stdin);
    child.wait_with_output().expect("hbsim ends")
}

/// `-` reads a test from standard input (`hbsim gen sb 4 | hbsim run -`),
/// named `<stdin>` in messages and JSON, beside files; it may be given once.
#[test]
fn run_reads_a_test_from_standard_input() {
    let generated = hbsim(&["gen", "sb", "4"]);
    assert_eq!(generated.status.code(), Some(0));
    let output = hbsim_with_input(&["run", "--model", "sc", "-"], &generated.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.starts_with("Test sb-4 Allowed\n"), "{stdout}");
    assert!(stdout.ends_with("1 passed, 0 failed\n"), "{stdout}");

    let broken = std::fs::read_to_string(root().join("tests/fixtures/bad/unknown-thread.ron"))
        .expect("fixture");
    let output = hbsim_with_input(
        &["run", "--format", "json", "-", "tests/fixtures/run/sb.ron"],
        broken.as_bytes(),
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("<stdin>:8:36: expected a thread"),
        "{}",
        text(&output.stderr)
    );
    let first: serde_json::Value =
        serde_json::from_str(text(&output.stdout).lines().next().expect("a line")).expect("JSON");
    assert_eq!(first["type"], "error");
    assert_eq!(first["file"], "<stdin>");

    let output = hbsim_with_input(&["run", "-", "-"], b"");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("`-` (standard input) is given twice"),
        "{}",
        text(&output.stderr)
    );
}

/// An outcome a model forbids but a weaker model reaches is explained by the
/// cycle of the stronger model's axiom in that execution: SB's `po` and `fr`
/// under sc, LB's `po` and `rf` (reached only under go) under sc, 2+2W's
/// `po` and `co` under tso.
#[test]
fn explain_shows_the_cycle_that_forbids_an_outcome() {
    let output = hbsim(&["explain", "--model", "sc", "litmus/sb.ron"]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    let why = "Why not under sc: the execution reaching it under tso has a cycle sc forbids:\n  P1 [1] Load(\"r0\", \"x\"): R x=0\n    --fr--> P0 [0] Store(\"x\", 1): W x=1\n    --po--> P0 [1] Load(\"r0\", \"y\"): R y=0\n    --fr--> P1 [0] Store(\"y\", 1): W y=1\n    --po--> back to the first\n";
    assert!(stdout.contains(why), "{stdout}");

    // Only go reaches LB's relaxed outcome: the cycle rests on its execution.
    let output = hbsim(&["explain", "--model", "sc", "litmus/go/lb-plain.ron"]);
    let stdout = text(&output.stdout);
    let why = "Why not under sc: the execution reaching it under go has a cycle sc forbids:\n  P1 [0] Load(\"r0\", \"y\"): R y=1\n    --po--> P1 [1] Store(\"x\", 1): W x=1\n    --rf--> P0 [0] Load(\"r0\", \"x\"): R x=1\n    --po--> P0 [1] Store(\"y\", 1): W y=1\n    --rf--> back to the first\n";
    assert!(stdout.contains(why), "{stdout}");

    let output = hbsim(&["explain", "--model", "tso", "litmus/2+2w.ron"]);
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("under pso has a cycle tso forbids"),
        "{stdout}"
    );
    assert!(
        stdout.contains("--co-->") && stdout.contains("--po-->"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("--fr-->") && !stdout.contains("--rf-->"),
        "{stdout}"
    );
}

/// `explain` and `convert` read standard input for `-` too.
#[test]
fn explain_and_convert_read_standard_input() {
    let generated = hbsim(&["gen", "sb", "2"]);
    let output = hbsim_with_input(&["explain", "--model", "tso", "-"], &generated.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).starts_with("Test sb-2 under tso\n"),
        "{}",
        text(&output.stdout)
    );

    let herd = b"X86 SB\n{ x=0; y=0; }\n P0 | P1 ;\n MOV [x],$1 | MOV [y],$1 ;\n MOV EAX,[y] | MOV EAX,[x] ;\nexists (0:EAX=0 /\\ 1:EAX=0)\n";
    let output = hbsim_with_input(&["convert", "-"], herd);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains(r#"[ Store("x", 1), Load("EAX", "y") ]"#),
        "{}",
        text(&output.stdout)
    );
}

#[test]
fn a_bad_file_does_not_stop_the_others() {
    let output = hbsim(&[
        "run",
        "tests/fixtures/bad/unknown-thread.ron",
        "tests/fixtures/run/sb.ron",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("Test SB Allowed"));
    assert!(
        stdout.ends_with("2 passed, 0 failed, 1 error\n"),
        "{stdout}"
    );
}

#[test]
fn a_missing_file_does_not_stop_the_others() {
    let output = hbsim(&["run", "no/such/file.ron", "tests/fixtures/run/sb.ron"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("no/such/file.ron"));
    assert!(text(&output.stdout).ends_with("2 passed, 0 failed, 1 error\n"));
}

#[test]
fn an_unknown_expectation_model_is_an_error_even_with_explicit_models() {
    let output = hbsim(&[
        "run",
        "--model",
        "all",
        "tests/fixtures/bad/unknown-model.ron",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("found `tsoo`"));
}

#[test]
fn a_closed_stderr_does_not_crash() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hbsim"))
        .args(["run", "tests/fixtures/bad/unknown-thread.ron"])
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hbsim starts");
    drop(child.stderr.take());
    let output = child.wait_with_output().expect("hbsim ends");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_directory_without_litmus_files_is_a_usage_error() {
    let output = hbsim(&["run", "docs"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("no `.ron` or `.litmus` files under docs"));
}

#[test]
fn a_model_named_only_by_a_file_needs_the_file() {
    let output = hbsim(&["run", "tests/fixtures/run/n6-ibm370.ron"]);
    assert_eq!(output.status.code(), Some(2));
    assert_golden(
        &root().join("tests/fixtures/run/n6-ibm370.stderr"),
        &text(&output.stderr),
    );
}

/// `--engine states` reduces SB by partial orders, counting no executions;
/// `--no-partial-order` takes every step and counts the interleavings: SB
/// under tso has 80 (each thread's store, then its load and its commit in
/// either order, interleaved: 2 · 2 · C(6, 3)), 18 of them with both loads
/// before the other thread's commit (both read 0).
#[test]
fn no_partial_order_counts_every_interleaving() {
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "--engine", "states", "-m", "tso", "--format", "json"];
        args.extend_from_slice(extra);
        args.push("tests/fixtures/run/sb.ron");
        let output = hbsim(&args);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        let line = text(&output.stdout).lines().next().map(str::to_string);
        serde_json::from_str::<serde_json::Value>(&line.expect("a run line")).expect("JSON")
    };
    let (reduced, full) = (run(&[]), run(&["--no-partial-order"]));
    assert_eq!(reduced["stats"]["partial_order"], true);
    assert_eq!(reduced["stats"]["executions"], serde_json::Value::Null);
    assert_eq!(reduced["condition"]["positive"], serde_json::Value::Null);
    assert_eq!(full["stats"]["partial_order"], false);
    assert_eq!(full["stats"]["executions"], 80);
    assert_eq!(full["condition"]["positive"], 18);
    assert_eq!(reduced["outcomes"].as_array().map(Vec::len), Some(4));
    assert_eq!(
        reduced["outcomes"].as_array().map(Vec::len),
        full["outcomes"].as_array().map(Vec::len)
    );
    let closing = hbsim(&[
        "run",
        "--engine",
        "states",
        "-m",
        "tso",
        "tests/fixtures/run/sb.ron",
    ]);
    let stdout = text(&closing.stdout);
    assert!(
        stdout.contains("(partial-order reduced), 14 transitions, executions not counted"),
        "{stdout}"
    );
}

#[test]
fn json_lines_describe_each_run_and_the_summary() {
    let output = hbsim(&["run", "--format", "json", "tests/fixtures/run/sb.ron"]);
    assert_eq!(output.status.code(), Some(0));
    let lines: Vec<serde_json::Value> = text(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 3);
    let (sc, tso, summary) = (&lines[0], &lines[1], &lines[2]);
    assert_eq!(sc["type"], "run");
    assert_eq!(sc["model"], "sc");
    assert_eq!(sc["status"], "held");
    assert_eq!(sc["completeness"], "exhaustive");
    assert_eq!(
        sc["observables"],
        serde_json::json!(["0:r0", "1:r0", "x", "y"])
    );
    assert_eq!(sc["outcomes"].as_array().map(Vec::len), Some(3));
    assert_eq!(sc["condition"]["observation"], "Never");
    // One consistent execution per outcome (the graph engine explores
    // execution graphs, not interleavings).
    assert_eq!(sc["stats"]["executions"], 3);
    assert_eq!(sc["engine"]["engine"]["Graph"]["unroll"], 4);
    assert_eq!(tso["condition"]["observation"], "Sometimes");
    let satisfying: Vec<&serde_json::Value> = tso["outcomes"]
        .as_array()
        .expect("outcomes")
        .iter()
        .filter(|o| o["satisfies"] == true)
        .collect();
    assert_eq!(satisfying.len(), 1);
    assert_eq!(
        satisfying[0]["values"],
        serde_json::json!({"0:r0": 0, "1:r0": 0, "x": 1, "y": 1})
    );
    assert!(
        !satisfying[0]["witness"]
            .as_array()
            .expect("witness")
            .is_empty()
    );
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["passed"], 2);
    assert_eq!(summary["failed"], 0);
}

#[test]
fn json_reports_load_errors_as_objects() {
    let output = hbsim(&[
        "run",
        "--format",
        "json",
        "tests/fixtures/bad/unknown-thread.ron",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let first: serde_json::Value =
        serde_json::from_str(text(&output.stdout).lines().next().expect("a line")).expect("JSON");
    assert_eq!(first["type"], "error");
    assert!(
        first["message"]
            .as_str()
            .is_some_and(|m| m.contains("unknown-thread.ron:8:36")),
        "{first}"
    );
}

#[test]
fn state_limit_marks_the_run_truncated_and_fails_the_run() {
    let output = hbsim(&[
        "run",
        "--max-states",
        "3",
        "--model",
        "tso",
        "tests/fixtures/run/sb.ron",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("TRUNCATED at the limit of 3 states"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Expect tso Sometimes: inconclusive"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("0 passed, 0 failed, 1 inconclusive\n"),
        "{stdout}"
    );
}

#[test]
fn usage_errors_exit_with_2() {
    for args in [
        &["run", "--model", "tsoo", "tests/fixtures/run/sb.ron"][..],
        &["run"],
        &["frobnicate"],
        &["run", "--max-states", "0", "tests/fixtures/run/sb.ron"],
    ] {
        let output = hbsim(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(!text(&output.stderr).is_empty(), "{args:?}");
    }
    let output = hbsim(&["run", "--model", "tsoo", "tests/fixtures/run/sb.ron"]);
    assert!(text(&output.stderr).contains("unknown model `tsoo`"));
}

#[test]
fn a_malformed_model_file_is_reported_with_its_position() {
    let dir = std::env::temp_dir().join(format!("hbsim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let model = dir.join("broken.ron");
    std::fs::write(
        &model,
        "Model(\n    name: \"broken\",\n    buffer: Everywhere,\n)\n",
    )
    .expect("write model");
    let output = hbsim(&[
        "run",
        "--model",
        model.to_str().expect("UTF-8"),
        "tests/fixtures/run/sb.ron",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("broken.ron:3:13"), "{stderr}");
    assert!(stderr.contains("found `Everywhere`"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Model files (found by fuzzing): one starting with a byte order mark is
/// read like a litmus file, two different models may not share a name (the
/// second was silently dropped), and `explain`, which shows one model, says
/// so for `all`.
#[test]
fn model_files_with_a_byte_order_mark_load_and_two_models_may_not_share_a_name() {
    let dir = std::env::temp_dir().join(format!("hbsim-cli-models-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write model");
        path.to_str().expect("UTF-8").to_string()
    };
    let bom = write(
        "bom.ron",
        "\u{feff}Model(name: \"bom\", buffer: PerThread)\n",
    );
    let output = hbsim(&["run", "--model", &bom, "tests/fixtures/run/sb.ron"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("Model bom"));

    let first = write("first.ron", "Model(name: \"dup\", buffer: PerThread)\n");
    let second = write("second.ron", "Model(name: \"dup\", buffer: None)\n");
    let output = hbsim(&[
        "run",
        "--model",
        &first,
        "--model",
        &second,
        "tests/fixtures/run/sb.ron",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("two different models are named `dup`"),
        "{}",
        text(&output.stderr)
    );
    // The same model twice is one model.
    let output = hbsim(&[
        "run",
        "--model",
        &first,
        "--model",
        &first,
        "tests/fixtures/run/sb.ron",
    ]);
    assert_eq!(output.status.code(), Some(0));

    let output = hbsim(&["explain", "--model", "all", "tests/fixtures/run/sb.ron"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("shows an execution under one model"),
        "{}",
        text(&output.stderr)
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn models_lists_the_builtins() {
    let output = hbsim(&["models"]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = text(&output.stdout);
    for name in ["sc ", "tso ", "pso "] {
        assert!(
            stdout.lines().any(|l| l.starts_with(name)),
            "{name}: {stdout}"
        );
    }
}

#[test]
fn a_closed_pipe_ends_the_run_quietly() {
    // Enough output to fill the pipe: the same file many times.
    let mut args = vec!["run"];
    args.extend(std::iter::repeat_n("tests/fixtures/run/sb.ron", 400));
    let mut child = Command::new(env!("CARGO_BIN_EXE_hbsim"))
        .args(&args)
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hbsim starts");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("hbsim ends");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(text(&output.stderr), "");
}

/// Runs `hbsim COMMAND --engine states --no-partial-order --model tso
/// sb9.ron`, which takes many seconds (every interleaving's state: about
/// 7 million), and sends it Ctrl-C after half a second.
fn interrupt_sb9(command: &str) -> Output {
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("sb9.ron");
    let generate = hbsim(&["gen", "sb", "9"]);
    std::fs::write(&file, generate.stdout).expect("write test");
    let child = Command::new(env!("CARGO_BIN_EXE_hbsim"))
        .args([
            command,
            "--engine",
            "states",
            "--no-partial-order",
            "--model",
            "tso",
            file.to_str().expect("UTF-8"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hbsim starts");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    child.wait_with_output().expect("hbsim ends")
}

#[test]
fn ctrl_c_stops_cleanly_with_an_interrupted_result() {
    let output = interrupt_sb9("run");
    assert_eq!(output.status.code(), Some(130), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("INTERRUPTED"), "{stdout}");
    assert!(stdout.contains("Expect tso Sometimes:"), "{stdout}");
    // Whether the outcomes found before the interrupt already decide `Sometimes`
    // depends on timing; either way the run is reported, then the summary.
    let summary = stdout.lines().last().expect("a summary line");
    assert!(
        ["1 passed, 0 failed", "0 passed, 0 failed, 1 inconclusive"].contains(&summary),
        "{stdout}"
    );
}

/// explain stopped by Ctrl-C says so and exits with 130, as run does (it
/// exited with 1, or 0 when it explained an outcome found before).
#[test]
fn ctrl_c_stops_explain_with_exit_code_130() {
    let output = interrupt_sb9("explain");
    assert_eq!(output.status.code(), Some(130), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.starts_with("INTERRUPTED: outcomes may be missing\n"),
        "{stdout}"
    );
}

#[test]
fn explain_output_matches_goldens() {
    let cases: &[(&str, &[&str])] = &[
        (
            "sb.explain",
            &[
                "explain",
                "tests/fixtures/run/sb.ron",
                "--model",
                "tso",
                "--outcome",
                "1",
            ],
        ),
        (
            "lb-go.explain",
            &["explain", "tests/fixtures/run/lb.ron", "--model", "go"],
        ),
        (
            "mp-atomic-flag.explain",
            &[
                "explain",
                "tests/fixtures/run/mp-atomic-flag.ron",
                "--outcome",
                "reader:r0=1",
            ],
        ),
    ];
    for (name, args) in cases {
        let output = hbsim(args);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{name}: {}",
            text(&output.stderr)
        );
        let golden = root().join(format!("tests/fixtures/run/{name}.stdout"));
        assert_golden(&golden, &text(&output.stdout));
    }
}

#[test]
fn explain_says_where_an_unreachable_outcome_is_reachable() {
    let output = hbsim(&[
        "explain",
        "tests/fixtures/run/sb.ron",
        "--model",
        "sc",
        "--outcome",
        "0:r0=0 /\\ 1:r0=0",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stdout).starts_with(
            "No outcome with 0:r0=0 /\\ 1:r0=0 is reachable under sc.\nIt is reachable under: tso, pso, go.\nWhy not under sc: "
        ),
        "{}",
        text(&output.stdout)
    );
    // A number past the outcomes of a complete exploration names none: a
    // usage error, as are 0 and a number beyond 64 bits (that one was
    // "integer does not fit in 64 bits", read as a condition; found by
    // fuzzing).
    let output = hbsim(&["explain", "tests/fixtures/run/sb.ron", "--outcome", "9"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(text(&output.stdout), "");
    assert!(
        text(&output.stderr).contains(
            "expected an outcome number from 1 to 3, found 9: SB has 3 outcomes under sc"
        ),
        "{}",
        text(&output.stderr)
    );
    for number in ["0", "99999999999999999999999"] {
        let output = hbsim(&["explain", "tests/fixtures/run/sb.ron", "--outcome", number]);
        assert_eq!(output.status.code(), Some(2), "{number}");
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains("expected an outcome number from 1") && stderr.contains(number),
            "{stderr}"
        );
    }
    let output = hbsim(&[
        "explain",
        "tests/fixtures/run/sb.ron",
        "--outcome",
        "0:r9=1",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("--outcome:1:3"),
        "{}",
        text(&output.stderr)
    );
}

/// Without `--outcome`, a condition no outcome satisfies is said first,
/// with the models under which one does, before the outcome shown instead
/// (it showed "Outcome 1 of 3" as if that were the condition's).
#[test]
fn explain_says_when_no_outcome_satisfies_the_condition() {
    let output = hbsim(&["explain", "tests/fixtures/run/sb.ron", "--model", "sc"]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    assert!(
        stdout.starts_with(
            "No outcome satisfying the proposition of exists (0:r0=0 /\\ 1:r0=0) is reachable under sc.\n\
             It is reachable under: tso, pso, go.\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "    --po--> back to the first\n\
             Showing outcome 1 instead.\n\n\
             Test SB under sc\n\
             Outcome 1 of 3: 0:r0=0; 1:r0=1; x=1; y=1;\n"
        ),
        "{stdout}"
    );
}

/// An exploration stopped early is reported as `run` reports it (it
/// printed `Truncated(States(2))`), and an outcome it did not find is not
/// found, exit code 1; one it found is explained.
#[test]
fn explain_reports_a_truncated_exploration_as_run_does() {
    let explain = |max_states: &str, outcome: &[&str]| {
        let mut args = vec![
            "explain",
            "tests/fixtures/run/sb.ron",
            "--model",
            "tso",
            "--max-states",
            max_states,
        ];
        args.extend(outcome);
        hbsim(&args)
    };
    let output = explain("2", &[]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stdout),
        "TRUNCATED at the limit of 2 states (raise --max-states): outcomes may be missing\n\
         No outcome satisfying the proposition of exists (0:r0=0 /\\ 1:r0=0) was found under tso before the exploration stopped.\n\
         Under sc, pso, go the exploration stopped before finding it.\n"
    );
    let output = explain("2", &["--outcome", "1"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stdout),
        "TRUNCATED at the limit of 2 states (raise --max-states): outcomes may be missing\n\
         There is no outcome 1: the exploration of SB under tso found 0 outcomes before it stopped.\n"
    );
    let output = explain("8", &[]);
    assert_eq!(output.status.code(), Some(0));
    assert!(
        text(&output.stdout).starts_with(
            "TRUNCATED at the limit of 8 states (raise --max-states): outcomes may be missing\n\
             Test SB under tso\n\
             Outcome 1 of at least 3: 0:r0=0; 1:r0=0; x=1; y=1;  (satisfies the condition)\n"
        ),
        "{}",
        text(&output.stdout)
    );
}

#[test]
fn explain_writes_a_graph_that_graphviz_accepts() {
    let dir = std::env::temp_dir().join(format!("hbsim-dot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let dot_file = dir.join("mp.dot");
    let output = hbsim(&[
        "explain",
        "tests/fixtures/run/mp-atomic-flag.ron",
        "--outcome",
        "reader:r0=1",
        "--dot",
        dot_file.to_str().expect("UTF-8"),
    ]);
    assert_eq!(output.status.code(), Some(0));
    let graph = std::fs::read_to_string(&dot_file).expect("graph written");
    assert_golden(
        &root().join("tests/fixtures/run/mp-atomic-flag.dot"),
        &graph,
    );
    let tricky = dir.join("ranks.dot");
    let output = hbsim(&[
        "explain",
        "tests/fixtures/run/dot-ranks.ron",
        "--model",
        "go",
        "--outcome",
        "1",
        "--dot",
        tricky.to_str().expect("UTF-8"),
    ]);
    assert_eq!(output.status.code(), Some(0));
    for file in [&dot_file, &tricky] {
        match Command::new("dot").arg("-Tsvg").arg(file).output() {
            Ok(svg) => {
                assert!(svg.status.success(), "{}", text(&svg.stderr));
                assert!(text(&svg.stdout).contains("<svg"));
            }
            Err(_) => {
                eprintln!("skipped: graphviz `dot` is not installed, the graph was not rendered")
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn run_writes_one_graph_per_outcome() {
    let dir = std::env::temp_dir().join(format!("hbsim-graphs-{}", std::process::id()));
    let output = hbsim(&[
        "run",
        "--model",
        "tso",
        "--graphs",
        dir.to_str().expect("UTF-8"),
        "tests/fixtures/run/sb.ron",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("graphs written")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "SB.tso.0-r0=0_1-r0=0_x=1_y=1.dot",
            "SB.tso.0-r0=0_1-r0=1_x=1_y=1.dot",
            "SB.tso.0-r0=1_1-r0=0_x=1_y=1.dot",
            "SB.tso.0-r0=1_1-r0=1_x=1_y=1.dot",
        ]
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Graph files never overwrite each other and always fit a file system
/// (found by fuzzing): tests sharing a name get `-2` before `.dot`, and a
/// name longer than 200 bytes is cut and ends in a hash of the whole.
#[test]
fn graph_files_of_tests_sharing_a_name_or_with_long_names_are_all_written() {
    let dir = std::env::temp_dir().join(format!("hbsim-graph-names-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let long = dir.join("long.ron");
    std::fs::write(
        &long,
        format!(
            r#"Litmus(name: "{}", threads: [[Store("x", 1)]], condition: "exists (x=1)")"#,
            "L".repeat(300)
        ),
    )
    .expect("test written");
    let out = dir.join("graphs");
    let output = hbsim(&[
        "run",
        "--model",
        "sc",
        "--graphs",
        out.to_str().expect("UTF-8"),
        "tests/fixtures/run/sb.ron",
        "tests/fixtures/run/sb.ron",
        long.to_str().expect("UTF-8"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .expect("graphs written")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 3 + 3 + 1, "{names:?}");
    assert!(names.contains(&"SB.sc.0-r0=1_1-r0=1_x=1_y=1.dot".to_string()));
    assert!(names.contains(&"SB.sc.0-r0=1_1-r0=1_x=1_y=1-2.dot".to_string()));
    let cut = names
        .iter()
        .find(|n| n.starts_with("LLL"))
        .expect("long name");
    assert!(cut.len() <= 205 && cut.ends_with(".dot"), "{cut}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn deny_races_fails_racy_runs_only() {
    let output = hbsim(&[
        "run",
        "--deny-races",
        "--model",
        "tso",
        "tests/fixtures/run/sb.ron",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("Races denied by --deny-races: FAILED"),
        "{stdout}"
    );
    assert!(stdout.ends_with("0 passed, 1 failed\n"), "{stdout}");
    let output = hbsim(&[
        "run",
        "--deny-races",
        "tests/fixtures/run/mp-atomic-flag.ron",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    assert!(text(&output.stdout).contains("Expect tso no races: held"));
    // JSON says why a run whose expectations held failed.
    for (file, verdict) in [
        (
            "tests/fixtures/run/sb.ron",
            "\"deny_races\":\"failed\",\"status\":\"failed\"",
        ),
        (
            "tests/fixtures/run/mp-atomic-flag.ron",
            "\"deny_races\":\"held\",\"status\":\"held\"",
        ),
    ] {
        let json = hbsim(&[
            "run",
            "--deny-races",
            "--model",
            "tso",
            "--format",
            "json",
            file,
        ]);
        assert!(
            text(&json.stdout).contains(verdict),
            "{}",
            text(&json.stdout)
        );
    }
    let json = hbsim(&[
        "run",
        "--model",
        "tso",
        "--format",
        "json",
        "tests/fixtures/run/sb.ron",
    ]);
    assert!(text(&json.stdout).contains("\"deny_races\":null"));
}

#[test]
fn deny_races_is_inconclusive_when_the_exploration_stops_early() {
    let output = hbsim(&[
        "run",
        "--deny-races",
        "--max-states",
        "2",
        "--model",
        "sc",
        "tests/fixtures/run/mp-atomic-flag.ron",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("Races denied by --deny-races: inconclusive"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("0 passed, 0 failed, 1 inconclusive\n"),
        "{stdout}"
    );
}

/// A race whose witness has no end is in an execution that does not
/// terminate only when the exploration finished; when it stopped early, the
/// witness was simply not finished (a truncated run said every race was in
/// an execution that does not terminate). Straight-line code under a
/// store-buffer model is the exception: the machine alone finishes its
/// witnesses (docs/happens-before.md).
#[test]
fn a_race_in_a_truncated_run_is_in_an_execution_the_exploration_did_not_finish() {
    let run = |model| {
        let args = [
            "run",
            "--model",
            model,
            "--engine",
            "states",
            "--max-states",
            "10",
        ];
        text(&hbsim(&[&args[..], &["tests/fixtures/run/sb.ron"]].concat()).stdout)
    };
    let stdout = run("go");
    assert!(
        stdout.contains("race on y in an execution the exploration did not finish\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("does not terminate"), "{stdout}");
    let stdout = run("tso");
    assert!(
        stdout.contains("race on y in an execution ending 0:r0=0; 1:r0=1; x=1; y=1;\n"),
        "{stdout}"
    );

    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("spin-race.ron");
    std::fs::write(
        &file,
        r#"Litmus(name: "spin-race", threads: {
            "setter": [ Store("x", 1) ],
            "waiter": [ Store("x", 2), Loop(body: [ Load("r0", "flag") ], until: "r0 == 1") ],
        }, condition: "exists waiter:r0=1")"#,
    )
    .expect("test written");
    let output = hbsim(&["run", "--model", "sc", file.to_str().expect("UTF-8")]);
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("race on x in an execution that does not terminate\n"),
        "{stdout}"
    );
}

#[test]
fn gen_prints_a_family_member_that_runs_and_meets_its_expectations() {
    let output = hbsim(&["gen", "mp-chain", "2"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_golden(
        &root().join("tests/fixtures/run/gen-mp-chain-2.ron"),
        &text(&output.stdout),
    );
    let output = hbsim(&["run", "tests/fixtures/run/gen-mp-chain-2.ron"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    assert!(text(&output.stdout).ends_with("4 passed, 0 failed\n"));
}

#[test]
fn gen_refuses_numbers_outside_the_family_with_the_reason() {
    for (args, message) in [
        (
            &["gen", "writers", "3"][..],
            "hbsim gen: writers N K: K is missing\n",
        ),
        (
            &["gen", "sb", "1"][..],
            "hbsim gen: sb: N must be between 2 and 32, found 1\n",
        ),
        (
            &["gen", "ainc", "40"][..],
            "hbsim gen: ainc: N must be between 1 and 32, found 40\n",
        ),
    ] {
        let output = hbsim(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert_eq!(text(&output.stderr), message);
        assert!(output.stdout.is_empty());
    }
    let output = hbsim(&["gen", "ring", "3"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains(
            "[possible values: sb, sb-mfence, writers, writers-read, iriw, mp-chain, ainc, mutex-counter, chan-pipeline, waitgroup]"
        )
    );
}

#[test]
fn the_corpus_report_is_the_same_on_one_thread_or_two() {
    // `-j` is capped at the cores, so on one core both runs would be
    // single-threaded (the library tests with explicit worker counts still
    // compare there).
    if std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 {
        eprintln!("skipped: this machine has one core, so -j 2 runs one thread");
        return;
    }
    let one = hbsim(&["run", "-j", "1", "litmus/"]);
    let two = hbsim(&["run", "-j", "2", "litmus/"]);
    assert!(one.status.success() && two.status.success());
    let report = mask_times(&text(&one.stdout));
    assert!(report.lines().count() > 1000, "the whole corpus ran");
    assert_eq!(report, mask_times(&text(&two.stdout)));
}

/// A directory's symbolic links, to files and to directories, are followed.
#[cfg(unix)]
#[test]
fn directories_are_searched_through_symbolic_links() {
    let dir = std::env::temp_dir().join(format!("hbsim-links-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::os::unix::fs::symlink(root().join("litmus/mp.ron"), dir.join("mp.ron")).expect("link");
    std::os::unix::fs::symlink(root().join("litmus/go"), dir.join("go")).expect("link");
    // Passed over: a broken link not named like a test, a link looping back,
    // and a second way to one file.
    std::os::unix::fs::symlink(dir.join("missing"), dir.join("README")).expect("link");
    std::os::unix::fs::symlink(&dir, dir.join("loop")).expect("link");
    std::os::unix::fs::symlink(dir.join("mp.ron"), dir.join("same.ron")).expect("link");
    let output = hbsim(&["run", "--model", "sc", dir.to_str().expect("UTF-8")]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    std::fs::remove_dir_all(&dir).expect("clean up");
    let stdout = text(&output.stdout);
    let go_files = std::fs::read_dir(root().join("litmus/go"))
        .expect("corpus")
        .count();
    assert!(stdout.contains("Test MP "), "{stdout}");
    assert_eq!(
        stdout.matches("\nTest ").count() + 1,
        1 + go_files,
        "{stdout}"
    );
}

/// A file that cannot be read is named once with the reason, and the run
/// goes on to the summary.
#[test]
fn unreadable_file_is_reported_once() {
    let out = hbsim(&["run", "tests/fixtures/no-such-file.ron"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.matches("No such file or directory").count(),
        1,
        "{stderr}"
    );
    assert!(
        stderr.contains("cannot read tests/fixtures/no-such-file.ron"),
        "{stderr}"
    );
    assert!(text(&out.stdout).contains("1 error"));
}

/// Under `go`, `--engine graph` runs a race-free program on the graph engine
/// (as `sc`: docs/models.md, "The go model in the graph engine") and says
/// why it hands a racy one to the state-space engine.
#[test]
fn graph_engine_under_go_runs_race_free_programs_and_names_racy_ones() {
    let race_free = hbsim(&[
        "run",
        "-m",
        "go",
        "--engine",
        "graph",
        "litmus/go/mutex-counter.ron",
    ]);
    let out = text(&race_free.stdout);
    assert!(race_free.status.success(), "{out}");
    assert!(out.contains("with the graph engine"), "{out}");
    assert!(!out.contains("state-space engine"), "{out}");
    let racy = hbsim(&[
        "run",
        "-m",
        "go",
        "--engine",
        "graph",
        "litmus/go/sb-plain.ron",
    ]);
    let out = text(&racy.stdout);
    assert!(racy.status.success(), "{out}");
    assert!(
        out.contains(
            "Explored with the state-space engine: the graph engine does not support racy programs under the go model"
        ),
        "{out}"
    );
}

#[test]
fn a_count_past_the_largest_kept_says_at_least() {
    // Two threads of 70 stores: C(140, 70), about 9.4 × 10^40 interleavings,
    // more than 2^128 - 1 (3.4 × 10^38); 71 × 71 states.
    let stores = |var: &str| {
        (1..=70)
            .map(|v| format!("Store(\"{var}\", {v})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let source = format!(
        "Litmus(name: \"many\", threads: [[{}], [{}]], condition: \"exists (x=70)\")",
        stores("x"),
        stores("y")
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("many.ron");
    std::fs::write(&file, source).unwrap();
    let file = file.to_str().unwrap();
    // Every interleaving's step, so that they are counted.
    let every_step = |command| {
        hbsim(&[
            command,
            "-m",
            "sc",
            "--engine",
            "states",
            "--no-partial-order",
            file,
        ])
    };
    let out = every_step("run");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("x=70; y=70;  # at least 2^128 - 1 executions, race-free"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Positive: >=2^128-1 Negative: 0"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Explored 5041 states, 9940 transitions, at least 2^128 - 1 executions"),
        "{stdout}"
    );
    let out = every_step("explain");
    assert!(
        text(&out.stdout).contains("Execution (one of at least 2^128 - 1 executions reaching it)"),
        "{}",
        text(&out.stdout)
    );
}

/// `explain` takes one model: a misspelt one keeps run's hint, and neither
/// it nor a directory lists `all`, which explain refuses.
#[test]
fn explain_names_the_models_it_takes() {
    for (model, says) in [
        (
            "scc",
            "unknown model `scc`: expected sc, tso, pso, go or the path of a model file (there is no file `scc`)",
        ),
        (
            "models",
            "`models` is a directory: expected sc, tso, pso, go or the path",
        ),
        ("sc,tso", "`explain` shows an execution under one model"),
        ("all", "`explain` shows an execution under one model"),
    ] {
        let output = hbsim(&["explain", "tests/fixtures/run/sb.ron", "--model", model]);
        assert_eq!(output.status.code(), Some(2), "{model}");
        let stderr = text(&output.stderr).replace("\n  │ ", " ");
        assert!(stderr.contains(says), "{model}: {stderr}");
    }
}

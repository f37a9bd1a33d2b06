//! herd7 X86 `.litmus` input (docs/herd.md): every third-party test in
//! `../shared/litmus-x86` parses, converts to RON and back to the same program,
//! and runs under `sc` and `tso` within the default limits; tests with a
//! published x86-TSO verdict get it; `--format herd` and `hbsim convert` match
//! golden files; malformed herd files are reported (their goldens live with the
//! other bad inputs, checked by tests/cli.rs), and truncated or mutated ones
//! never panic.
//!
//! The shared corpus is read-only and not part of this repository. When
//! `../shared` (relative to the crate) is absent, the tests that need it print
//! why they are skipped and pass.

#[path = "common/corpus.rs"]
mod corpus;
#[path = "common/golden.rs"]
mod golden;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use golden::assert_golden;

use hbsim::explore::explore;
use hbsim::ir::Observation;
use hbsim::model::Model;
use hbsim::report::RunReport;
use hbsim::syntax::{convert_herd, parse_herd_str, parse_str};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.litmus` file under `dir`, recursively, sorted.
fn litmus_files(dir: &Path) -> Vec<PathBuf> {
    corpus::files_under(dir, "litmus")
}

/// Every shared test parses, converts to RON and back to the same program (and
/// the same `locations`), and runs to completion under `sc` and `tso` with the
/// default limits; the `.litmus` and its RON conversion reach the same
/// outcomes, and every `sc` outcome is a `tso` outcome. None is skipped: the
/// largest, generated/G13-9.IRIW+coes.litmus (9 threads), explores about
/// 275,000 states under tso, a quarter of a second in a release build.
#[test]
fn every_shared_test_parses_converts_and_runs_under_sc_and_tso() {
    let Some(dir) = corpus::shared_x86_dir() else {
        return;
    };
    let files = litmus_files(&dir);
    assert!(files.len() >= 237, "found only {} tests", files.len());
    let mut problems = Vec::new();
    for path in &files {
        let name = path.display().to_string();
        let source = std::fs::read_to_string(path).expect("test is readable");
        let direct = match parse_herd_str(&source, &name) {
            Ok(test) => test,
            Err(e) => {
                problems.push(format!("{name}: does not load: {e}"));
                continue;
            }
        };
        let ron = match convert_herd(&source, &name) {
            Ok(ron) => ron,
            Err(e) => {
                problems.push(format!("{name}: does not convert: {e}"));
                continue;
            }
        };
        let converted = match parse_str(&ron, &format!("{name}.ron")) {
            Ok(test) => test,
            Err(e) => {
                problems.push(format!(
                    "{name}: the RON conversion does not load: {e}\n{ron}"
                ));
                continue;
            }
        };
        if converted.program != direct.program || converted.locations != direct.locations {
            problems.push(format!(
                "{name}: the RON conversion is another program:\n{:?}\n{:?}",
                direct.program, converted.program
            ));
            continue;
        }
        let mut finals = Vec::new();
        for model in [Model::sc(), Model::tso()] {
            let exploration = explore(&direct.program, &model);
            let again = explore(&converted.program, &model);
            if !exploration.completeness.is_exhaustive() {
                problems.push(format!("{name} under {}: not exhaustive", model.name));
            }
            let outcomes: Vec<Vec<i64>> = exploration
                .outcomes
                .finals()
                .map(|(values, _)| values.to_vec())
                .collect();
            let outcomes_again: Vec<Vec<i64>> = again
                .outcomes
                .finals()
                .map(|(values, _)| values.to_vec())
                .collect();
            if outcomes != outcomes_again {
                problems.push(format!(
                    "{name} under {}: the RON conversion reaches other outcomes",
                    model.name
                ));
            }
            finals.push(outcomes);
        }
        if let Some(extra) = finals[0].iter().find(|o| !finals[1].contains(o)) {
            problems.push(format!("{name}: sc outcome {extra:?} is not a tso outcome"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A test with a published x86-TSO verdict: the observation of its condition's
/// proposition under `tso` and under `sc`, and why.
struct Verdict {
    path: &'static str,
    tso: Observation,
    sc: Observation,
    why: &'static str,
}

const fn v(path: &'static str, tso: Observation, sc: Observation, why: &'static str) -> Verdict {
    Verdict { path, tso, sc, why }
}

use Observation::{Always, Never, Sometimes};

/// Verdicts from the sources, never from hbsim's output:
///
/// - [TSO] x86-TSO: Sewell, Sarkar, Owens, Zappa Nardelli, Myreen, "x86-TSO: A
///   Rigorous and Usable Programmer's Model for x86 Multiprocessors", CACM 53(7),
///   2010 (the abstract machine, §3, and its litmus tests), and Owens, Sarkar,
///   Sewell, "A better x86 memory model: x86-TSO", TPHOLs 2009, which tabulates
///   the iwp*/amd*/n* tests. In short: each thread's stores wait in a FIFO
///   buffer, so a load may complete before an earlier store of its thread to
///   another location (and reads its own buffered store); memory is one, so all
///   threads see stores in the same order; MFENCE and locked instructions (XCHG)
///   empty the buffer.
/// - [IWP] Intel 64 Architecture Memory Ordering White Paper (2007), §2.1-2.8,
///   the same principles as Intel SDM vol. 3A §8.2.3 (examples 8-1 to 8-10).
/// - [CAT] herdtools7's x86 catalogue (catalogue/x86): the SB/MP/LB/R/S/2+2W
///   families; on x86-TSO, the only relaxed pair is a store followed by a load
///   of another location (PodWR, and reads from the own buffer, Rfi), and MFENCE
///   restores it (Alglave, Maranget, Tautschnig, "Herding cats", TOPLAS 36(2),
///   2014, §4 and the x86tso.cat model).
///
/// Under `sc` an outcome that needs a relaxation is `Never`.
const VERDICTS: &[Verdict] = &[
    // herdtools7 catalogue and documentation [CAT].
    v(
        "herdtools7/catalogue/demo/tests/mp-x86.litmus",
        Never,
        Never,
        "MP: stores stay in order, loads too",
    ),
    v(
        "herdtools7/catalogue/x86/tests/MP.litmus",
        Never,
        Never,
        "MP",
    ),
    v(
        "herdtools7/catalogue/x86/tests/MP+mfence+po.litmus",
        Never,
        Never,
        "MP, fenced writer",
    ),
    v(
        "herdtools7/catalogue/x86/tests/MP+po+mfence.litmus",
        Never,
        Never,
        "MP, fenced reader",
    ),
    v(
        "herdtools7/catalogue/x86/tests/MP+mfences.litmus",
        Never,
        Never,
        "MP, both fenced",
    ),
    v(
        "herdtools7/catalogue/x86/tests/SB.litmus",
        Sometimes,
        Never,
        "SB: PodWR relaxed",
    ),
    v(
        "herdtools7/catalogue/x86/tests/SB+mfence+po.litmus",
        Sometimes,
        Never,
        "SB, one side still PodWR",
    ),
    v(
        "herdtools7/catalogue/x86/tests/SB+mfences.litmus",
        Never,
        Never,
        "SB, both fenced",
    ),
    v(
        "herdtools7/catalogue/x86/tests/SB+rfi-pos.litmus",
        Sometimes,
        Never,
        "SB with reads of the own buffer",
    ),
    v(
        "herdtools7/catalogue/x86/tests/LB.litmus",
        Never,
        Never,
        "LB: a load is never passed by a later store",
    ),
    v(
        "herdtools7/catalogue/x86/tests/LB+mfence+po.litmus",
        Never,
        Never,
        "LB",
    ),
    v(
        "herdtools7/catalogue/x86/tests/LB+mfences.litmus",
        Never,
        Never,
        "LB",
    ),
    v(
        "herdtools7/catalogue/x86/tests/2+2W.litmus",
        Never,
        Never,
        "2+2W: stores in order, one memory",
    ),
    v(
        "herdtools7/catalogue/x86/tests/2+2W+mfence+po.litmus",
        Never,
        Never,
        "2+2W",
    ),
    v(
        "herdtools7/catalogue/x86/tests/2+2W+mfences.litmus",
        Never,
        Never,
        "2+2W",
    ),
    v(
        "herdtools7/catalogue/x86/tests/R.litmus",
        Sometimes,
        Never,
        "R: the reader's PodWR is relaxed",
    ),
    v(
        "herdtools7/catalogue/x86/tests/R+mfence+po.litmus",
        Sometimes,
        Never,
        "R, reader unfenced",
    ),
    v(
        "herdtools7/catalogue/x86/tests/R+mfence+rfi-po.litmus",
        Sometimes,
        Never,
        "R, reader reads its own buffer",
    ),
    v(
        "herdtools7/catalogue/x86/tests/R+po+mfence.litmus",
        Never,
        Never,
        "R, reader fenced",
    ),
    v(
        "herdtools7/catalogue/x86/tests/R+mfences.litmus",
        Never,
        Never,
        "R, both fenced",
    ),
    v(
        "herdtools7/catalogue/x86/tests/S.litmus",
        Never,
        Never,
        "S: no relaxed pair on x86",
    ),
    v(
        "herdtools7/catalogue/x86/tests/S+mfence+po.litmus",
        Never,
        Never,
        "S",
    ),
    v(
        "herdtools7/catalogue/x86/tests/S+po+mfence.litmus",
        Never,
        Never,
        "S",
    ),
    v(
        "herdtools7/catalogue/x86/tests/S+mfences.litmus",
        Never,
        Never,
        "S",
    ),
    v("herdtools7/doc/SB.litmus", Sometimes, Never, "SB"),
    v("herdtools7/doc/SB+SC.litmus", Sometimes, Never, "SB"),
    v(
        "herdtools7/doc/4.SB.litmus",
        Sometimes,
        Never,
        "SB with 4 threads",
    ),
    v(
        "herdtools7/doc/6.SB+Prefetch.litmus",
        Sometimes,
        Never,
        "SB with 6 threads",
    ),
    v("herdtools7/doc/podrw000.litmus", Sometimes, Never, "SB"),
    v(
        "herdtools7/doc/podrw001.litmus",
        Sometimes,
        Never,
        "SB with 3 threads",
    ),
    v(
        "herdtools7/doc/iriw.litmus",
        Never,
        Never,
        "IRIW: one memory, stores seen in one order",
    ),
    v(
        "herdtools7/doc/CoRWR.litmus",
        Never,
        Never,
        "coherence: a load cannot read a later store of its thread",
    ),
    v(
        "herdtools7/doc/tst-x86/X001.litmus",
        Sometimes,
        Never,
        "SB with a read of the own buffer",
    ),
    v(
        "herdtools7/doc/tst-x86/X002.litmus",
        Sometimes,
        Never,
        "as X001, the other side fenced",
    ),
    v(
        "herdtools7/doc/tst-x86/X003.litmus",
        Sometimes,
        Never,
        "R with a read of the own buffer",
    ),
    // Intel white paper / SDM examples [IWP], [TSO].
    v(
        "dat3m/litmus/X86/test.intel.1.litmus",
        Never,
        Never,
        "iwp2.1: loads and stores not reordered with their kind",
    ),
    v(
        "dat3m/litmus/X86/iwp2.2-amd2.litmus",
        Never,
        Never,
        "iwp2.2: stores not reordered with older loads",
    ),
    v(
        "dat3m/litmus/X86/iwp2.3.a-amd4.litmus",
        Sometimes,
        Never,
        "iwp2.3.a: loads may pass older stores",
    ),
    v(
        "dat3m/litmus/X86/intel.3.1.litmus",
        Sometimes,
        Never,
        "iwp2.3.a",
    ),
    v(
        "dat3m/litmus/X86/iwp2.3.a-amd4.mfence.litmus",
        Never,
        Never,
        "iwp2.3.a with MFENCE",
    ),
    v(
        "dat3m/litmus/X86/iwp2.3.b.litmus",
        Always,
        Always,
        "iwp2.3.b: a load sees the older store to the same location",
    ),
    v(
        "dat3m/litmus/X86/iwp2.3.b.half.litmus",
        Always,
        Always,
        "iwp2.3.b",
    ),
    v(
        "dat3m/litmus/X86/iwp2.4-amd9.litmus",
        Sometimes,
        Never,
        "iwp2.4: intra-processor forwarding is allowed",
    ),
    v(
        "dat3m/litmus/X86/intel.4.litmus",
        Sometimes,
        Never,
        "iwp2.4",
    ),
    v(
        "dat3m/litmus/X86/iwp2.5-amd8.litmus",
        Never,
        Never,
        "iwp2.5: stores are transitively visible",
    ),
    v("dat3m/litmus/X86/intel.5.litmus", Never, Never, "iwp2.5"),
    v(
        "dat3m/litmus/X86/iwp2.6.litmus",
        Never,
        Never,
        "iwp2.6: stores to one location are totally ordered",
    ),
    v(
        "dat3m/litmus/X86/iwp2.7-amd7.litmus",
        Never,
        Never,
        "iwp2.7: locked instructions are totally ordered",
    ),
    v(
        "dat3m/litmus/X86/iwp2.8.a.litmus",
        Never,
        Never,
        "iwp2.8: loads are not reordered with locks",
    ),
    v(
        "dat3m/litmus/X86/iwp2.8.b.litmus",
        Never,
        Never,
        "iwp2.8: stores are not reordered with locks",
    ),
    v("dat3m/litmus/X86/intel.iriw.litmus", Never, Never, "IRIW"),
    v(
        "dat3m/litmus/X86/intel.cc.litmus",
        Never,
        Never,
        "cache causality: x=1 is seen after x=2, hence after y=1",
    ),
    v(
        "dat3m/litmus/X86/intel.n7.litmus",
        Sometimes,
        Never,
        "n7: a thread reads its buffered store first",
    ),
    v(
        "dat3m/litmus/X86/intel.n8.litmus",
        Sometimes,
        Sometimes,
        "EAX=0 always; P1 may read x before the XCHG",
    ),
    v(
        "dat3m/litmus/X86/intel.paul-tso.litmus",
        Sometimes,
        Never,
        "n6: allowed by x86-TSO, so this ~exists fails",
    ),
    // x86-TSO paper tests [TSO].
    v(
        "dat3m/litmus/X86/amd3.litmus",
        Sometimes,
        Never,
        "amd3: both read the other's first store",
    ),
    v(
        "dat3m/litmus/X86/amd3bis.litmus",
        Sometimes,
        Never,
        "amd3 with more loads",
    ),
    v(
        "dat3m/litmus/X86/amd5.litmus",
        Never,
        Never,
        "SB with MFENCEs",
    ),
    v("dat3m/litmus/X86/amd6.litmus", Never, Never, "IRIW"),
    v(
        "dat3m/litmus/X86/amd10.litmus",
        Never,
        Never,
        "SB with MFENCEs",
    ),
    v(
        "dat3m/litmus/X86/n1.litmus",
        Sometimes,
        Never,
        "n1: read speculation is allowed",
    ),
    v(
        "dat3m/litmus/X86/n2.litmus",
        Never,
        Never,
        "n2: one memory order",
    ),
    v(
        "dat3m/litmus/X86/n3.litmus",
        Never,
        Never,
        "n3: a locked store and a store are seen in one order",
    ),
    v("dat3m/litmus/X86/n4.litmus", Never, Never, "n4: coherence"),
    v(
        "dat3m/litmus/X86/n4b.litmus",
        Never,
        Never,
        "n4b: coherence",
    ),
    v("dat3m/litmus/X86/n5.litmus", Never, Never, "n5: coherence"),
    v(
        "dat3m/litmus/X86/n7.litmus",
        Sometimes,
        Never,
        "n7: a thread reads its buffered store first",
    ),
    v(
        "dat3m/litmus/X86/n8.litmus",
        Sometimes,
        Never,
        "n8: the other thread's plain store may still be buffered",
    ),
    v("dat3m/litmus/X86/x86-e1.litmus", Never, Never, "2+2W"),
    v("dat3m/litmus/X86/x86-m1.litmus", Never, Never, "IRIW"),
    v(
        "dat3m/litmus/X86/x86-m4.litmus",
        Sometimes,
        Never,
        "RWC: the last writer's PodWR is relaxed",
    ),
    v(
        "dat3m/litmus/X86/x86-m4s.litmus",
        Never,
        Never,
        "RWC with MFENCE",
    ),
    v("dat3m/litmus/X86/rwc.2.litmus", Sometimes, Never, "RWC"),
    v(
        "dat3m/litmus/X86/rwc-fenced.litmus",
        Never,
        Never,
        "RWC with MFENCE",
    ),
    v("dat3m/litmus/X86/m11.litmus", Never, Never, "2+2W"),
    v("dat3m/litmus/X86/m12.litmus", Never, Never, "S"),
    v("dat3m/litmus/X86/m13.litmus", Sometimes, Never, "R"),
    v(
        "dat3m/litmus/X86/m13f.litmus",
        Never,
        Never,
        "R with MFENCE",
    ),
    v(
        "dat3m/litmus/X86/m14.litmus",
        Sometimes,
        Never,
        "P1's store to x waits in its buffer past its load",
    ),
    v(
        "dat3m/litmus/X86/m14f.litmus",
        Never,
        Never,
        "m14 with MFENCE",
    ),
    v("dat3m/litmus/X86/m14i.litmus", Sometimes, Never, "m14"),
    v(
        "dat3m/litmus/X86/m15.litmus",
        Never,
        Never,
        "one memory order",
    ),
    v(
        "dat3m/litmus/X86/m35.litmus",
        Never,
        Never,
        "MP and a variant",
    ),
    v(
        "dat3m/litmus/X86/m45.litmus",
        Never,
        Never,
        "write-to-read causality",
    ),
    v(
        "dat3m/litmus/X86/m45i.litmus",
        Sometimes,
        Never,
        "a thread reads its buffered store first",
    ),
    v("dat3m/litmus/X86/m45ii.litmus", Sometimes, Never, "as m45i"),
    v(
        "dat3m/litmus/X86/m45iif.litmus",
        Never,
        Never,
        "m45ii with MFENCE",
    ),
    v(
        "dat3m/litmus/X86/frmap.litmus",
        Sometimes,
        Sometimes,
        "allowed even by SC, as its comment says",
    ),
    v(
        "dat3m/litmus/X86/frmap2.litmus",
        Sometimes,
        Never,
        "n7-like",
    ),
    v(
        "dat3m/litmus/X86/pso.litmus",
        Never,
        Never,
        "IRIW-like: one memory order",
    ),
    v(
        "dat3m/litmus/X86/mfence.litmus",
        Never,
        Never,
        "stores in order, loads in order",
    ),
    v(
        "dat3m/litmus/X86/mfence2.litmus",
        Never,
        Never,
        "stores in order, loads in order",
    ),
    v(
        "dat3m/litmus/X86/nofence.litmus",
        Never,
        Never,
        "stores in order, loads in order",
    ),
];

#[test]
fn published_verdicts_hold_under_tso_and_sc() {
    let Some(dir) = corpus::shared_x86_dir() else {
        return;
    };
    let mut problems = Vec::new();
    for verdict in VERDICTS {
        let path = dir.join(verdict.path);
        let name = path.display().to_string();
        let source = std::fs::read_to_string(&path).expect("test is readable");
        let test = parse_herd_str(&source, &name).expect("test loads");
        for (model, expected) in [(Model::tso(), verdict.tso), (Model::sc(), verdict.sc)] {
            let run = RunReport::new(&test.program, &name, &model, explore(&test.program, &model));
            if run.condition.observation != Some(expected) {
                problems.push(format!(
                    "{} under {}: expected {expected} ({}), observed {:?}",
                    verdict.path, model.name, verdict.why, run.condition.observation
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The `forall` tests list the outcomes their authors expect of x86 (README of
/// the shared corpus); every outcome hbsim finds under `tso`, and hence under
/// `sc`, must be in the list.
#[test]
fn forall_outcome_lists_hold_under_tso_and_sc() {
    let Some(dir) = corpus::shared_x86_dir() else {
        return;
    };
    let mut problems = Vec::new();
    let mut checked = 0;
    for path in litmus_files(&dir) {
        let name = path.display().to_string();
        let source = std::fs::read_to_string(&path).expect("test is readable");
        let test = parse_herd_str(&source, &name).expect("test loads");
        if test.program.condition.quantifier != hbsim::ir::Quantifier::Forall {
            continue;
        }
        checked += 1;
        for model in [Model::tso(), Model::sc()] {
            let run = RunReport::new(&test.program, &name, &model, explore(&test.program, &model));
            if run.condition.validated != Some(true) {
                problems.push(format!("{name} under {}: the forall fails", model.name));
            }
        }
    }
    assert!(checked >= 70, "only {checked} forall tests");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
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

/// Replaces the run-dependent seconds of `Time NAME 0.00` lines.
fn mask_times(output: &str) -> String {
    output
        .lines()
        .map(|line| match (line.starts_with("Time "), line.rfind(' ')) {
            (true, Some(at)) => format!("{} <seconds>", &line[..at]),
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// The fixtures are small tests written for hbsim in herd7's syntax (not copies
/// of the shared corpus).
const FIXTURES: &[&str] = &["sb-locations", "mp-legacy", "rmw", "sb-lfence-sfence"];

#[test]
fn herd_format_matches_goldens() {
    for name in FIXTURES {
        let file = format!("tests/fixtures/herd/{name}.litmus");
        let output = hbsim(&["run", "--format", "herd", "--model", "sc,tso", &file]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{name}: {}",
            text(&output.stderr)
        );
        let golden = root().join(format!("tests/fixtures/herd/{name}.herd.stdout"));
        assert_golden(&golden, &mask_times(&text(&output.stdout)));
    }
}

/// A test whose condition and `locations` name no register or variable (a
/// Go test of `exists (deadlock)`) has one final state, of no values. It was
/// an empty line, which tools splitting herd7 logs on blank lines take for
/// the end of the test; it is the text report's `(no observables)` as a
/// comment, which herdtools7's log reader takes for the empty state.
#[test]
fn herd_format_prints_a_state_without_observables_as_a_comment() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("lock-order.ron");
    std::fs::write(
        &file,
        r#"Litmus(name: "lock-order", threads: {
            "main": [ Go("worker"), Lock("a"), Lock("b"), Unlock("b"), Unlock("a") ],
            "worker": [ Lock("b"), Lock("a"), Unlock("a"), Unlock("b") ],
        }, condition: "exists (deadlock)")"#,
    )
    .expect("test written");
    let output = hbsim(&[
        "run",
        "--format",
        "herd",
        "--model",
        "sc",
        file.to_str().expect("UTF-8"),
    ]);
    let stdout = text(&output.stdout);
    assert!(
        stdout.starts_with("Test lock-order Allowed\nStates 1\n# (no observables)\nOk\n"),
        "{stdout}"
    );
    // The only blank line ends the block.
    assert_eq!(stdout.find("\n\n"), Some(stdout.len() - 2), "{stdout}");
}

#[test]
fn convert_matches_goldens_and_converted_files_run_alike() {
    for name in FIXTURES {
        let file = format!("tests/fixtures/herd/{name}.litmus");
        let output = hbsim(&["convert", &file]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{name}: {}",
            text(&output.stderr)
        );
        let ron = text(&output.stdout);
        let golden = root().join(format!("tests/fixtures/herd/{name}.convert.stdout"));
        assert_golden(&golden, &ron);
        let direct = parse_herd_str(
            &std::fs::read_to_string(root().join(&file)).expect("fixture"),
            &file,
        )
        .expect("fixture loads");
        let converted = parse_str(&ron, "converted.ron").expect("conversion loads");
        assert_eq!(direct.program, converted.program, "{name}");
        assert_eq!(direct.locations, converted.locations, "{name}");
    }
}

#[test]
fn text_output_of_a_herd_test_and_directory_walks() {
    // A directory run picks up `.litmus` files beside `.ron` ones.
    let output = hbsim(&["run", "--model", "tso", "tests/fixtures/herd"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    for name in [
        "Test SB Allowed",
        "Test MP+mfence Forbidden",
        "Test RMW Required",
        "Test SB+lfence+sfence Allowed",
    ] {
        assert!(stdout.contains(name), "{stdout}");
    }
    assert!(
        stdout.ends_with("0 passed, 0 failed, 4 without expectations\n"),
        "{stdout}"
    );
}

#[test]
fn convert_refuses_ron_and_reports_errors_in_the_litmus_file() {
    let output = hbsim(&["convert", "tests/fixtures/run/sb.ron"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("is not a herd7 test"));
    let output = hbsim(&["convert", "tests/fixtures/bad/herd-unsupported.litmus"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("tests/fixtures/bad/herd-unsupported.litmus:6:17"),
        "{stderr}"
    );
    assert!(
        stderr.contains("expected a supported instruction, found `CMP"),
        "{stderr}"
    );
    assert_eq!(text(&output.stdout), "");
    let output = hbsim(&["convert", "no/such/file.litmus"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("no/such/file.litmus"));
}

/// The herd7 sources the robustness tests cut and mutate: the fixtures, good
/// and bad.
fn fixture_sources() -> Vec<(String, String)> {
    let mut sources = Vec::new();
    for dir in ["tests/fixtures/herd", "tests/fixtures/bad"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .expect("fixture directory")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "litmus"))
            .collect();
        files.sort();
        for path in files {
            let text = std::fs::read_to_string(&path).expect("fixture is readable");
            sources.push((path.display().to_string(), text));
        }
    }
    sources
}

/// An error names the file, line and column, and miette renders it there.
fn assert_well_formed(err: &hbsim::syntax::LoadError) {
    let text = err.to_string();
    if let hbsim::syntax::LoadError::Source(source) = err {
        let location = format!("{}:{}:{}", source.name, source.line, source.column);
        assert!(text.starts_with(&format!("{location}: ")), "{text}");
        let mut rendered = String::new();
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .render_report(&mut rendered, err)
            .expect("diagnostic renders");
        assert!(rendered.contains(&format!("[{location}]")), "{rendered}");
    }
}

#[test]
fn every_truncation_of_the_herd_fixtures_is_handled() {
    for (name, text) in fixture_sources() {
        for (cut, _) in text.char_indices() {
            if let Err(e) = parse_herd_str(&text[..cut], &name) {
                assert_well_formed(&e);
            }
            if let Err(e) = convert_herd(&text[..cut], &name) {
                assert_well_formed(&e);
            }
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

    #[test]
    fn mutated_herd_files_never_panic(
        file in proptest::prelude::any::<proptest::sample::Index>(),
        edits in proptest::collection::vec(
            (proptest::prelude::any::<proptest::sample::Index>(), 0u8..3, "[ -~\n\u{e9}]{0,3}"),
            1..4,
        ),
    ) {
        let sources = fixture_sources();
        let (name, text) = &sources[file.index(sources.len())];
        let mut text = text.clone();
        for (at, kind, insert) in edits {
            let boundaries: Vec<usize> =
                text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
            let i = boundaries[at.index(boundaries.len())];
            let next = boundaries.iter().copied().find(|&b| b > i).unwrap_or(i);
            match kind {
                0 => text.insert_str(i, &insert),
                1 => text.replace_range(i..next, ""),
                _ => text.replace_range(i..next, &insert),
            }
        }
        match convert_herd(&text, name) {
            Ok(ron) => {
                // Whatever converts reads back as the same program.
                let direct = parse_herd_str(&text, name).expect("converted, so it loads");
                let converted = parse_str(&ron, "converted.ron").expect("conversion loads");
                proptest::prop_assert_eq!(direct.program, converted.program);
            }
            Err(e) => assert_well_formed(&e),
        }
    }
}

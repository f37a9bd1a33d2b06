//! The bundled corpus: every file in litmus/ is run under every model its
//! expectations name, and the observed outcome sets and observations are compared
//! with the file's. All mismatches are gathered before failing, with "forbidden
//! outcome observed" and "allowed outcome missing" reported separately.

#[path = "common/corpus.rs"]
mod corpus;

use corpus::litmus_files;
use hbsim::explore::explore;
use hbsim::model::Model;
use hbsim::outcome::Outcome;
use hbsim::report::RunReport;
use hbsim::syntax::parse_file;
use hbsim::verdict::Status;

#[test]
fn every_corpus_expectation_holds() {
    let files = litmus_files();
    assert!(!files.is_empty(), "litmus/ holds no tests");
    let mut failures = Vec::new();
    let mut checked = 0;
    for path in &files {
        let test = match parse_file(path) {
            Ok(test) => test,
            Err(e) => {
                failures.push(format!("{}: does not load: {e}", path.display()));
                continue;
            }
        };
        for expectation in &test.program.expectations {
            let Some(model) = Model::builtin(&expectation.model) else {
                failures.push(format!(
                    "{}: expectation for unknown model {}",
                    path.display(),
                    expectation.model
                ));
                continue;
            };
            let exploration = explore(&test.program, &model);
            let run = RunReport::new(&test.program, &test.file_name, &model, exploration);
            checked += 1;
            for check in &run.checks {
                if let Some(o) = &check.observation
                    && o.status != Status::Held
                {
                    failures.push(format!(
                        "{} under {}: expected observation {}, observed {:?}",
                        path.display(),
                        model.name,
                        o.expected,
                        o.observed
                    ));
                }
                if let Some(o) = &check.outcomes {
                    for values in &o.forbidden {
                        failures.push(format!(
                            "{} under {}: forbidden outcome observed: {}",
                            path.display(),
                            model.name,
                            o.render(values)
                        ));
                    }
                    for values in &o.missing {
                        failures.push(format!(
                            "{} under {}: allowed outcome missing: {}",
                            path.display(),
                            model.name,
                            o.render(values)
                        ));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} runs disagree with their files:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_covers_every_builtin_model_and_cites_sources() {
    let files = litmus_files();
    let mut problems = Vec::new();
    for path in &files {
        let source = std::fs::read_to_string(path).expect("corpus file is readable");
        let leading_comment: String = source
            .lines()
            .take_while(|l| l.trim_start().starts_with("//") || l.trim().is_empty())
            .collect();
        if !leading_comment.contains("Source") {
            problems.push(format!(
                "{}: the leading comment does not name a Source",
                path.display()
            ));
        }
        let test = parse_file(path).expect("corpus file loads");
        for model in ["sc", "tso", "pso"] {
            let stated = test.program.expectations.iter().find(|e| e.model == model);
            if !stated.is_some_and(|e| e.observation.is_some() && e.outcomes.is_some()) {
                problems.push(format!(
                    "{}: no observation and outcome set for {model}",
                    path.display()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_witness_replays_to_its_outcome() {
    let mut problems = Vec::new();
    for path in litmus_files() {
        let test = parse_file(&path).expect("corpus file loads");
        for model in Model::builtins() {
            let exploration = explore(&test.program, &model);
            for (outcome, info) in exploration.outcomes.iter() {
                let replay = match info
                    .witness
                    .as_ref()
                    .expect("witness kept")
                    .replay(&test.program, &model)
                {
                    Ok(replay) => replay,
                    Err(e) => {
                        problems.push(format!("{} under {}: {e}", path.display(), model.name));
                        continue;
                    }
                };
                let consistent = match outcome {
                    Outcome::Final(values) => replay.finished && replay.values == *values,
                    Outcome::Blocked(_) | Outcome::NeverTerminates(_) | Outcome::Panic(_) => {
                        !replay.finished
                    }
                };
                if !consistent {
                    problems.push(format!(
                        "{} under {}: the witness of {} replays to {:?}",
                        path.display(),
                        model.name,
                        exploration.outcomes.display(outcome),
                        replay
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

//! `hbsim run`: explore every test under its models and report.

use std::collections::{BTreeMap, HashSet};
use std::hash::Hasher;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use indicatif::MultiProgress;
use rayon::prelude::*;

use hbsim::explore::Completeness;
use hbsim::hb::Execution;
use hbsim::model::Model;
use hbsim::report::{RunReport, Summary, dot, herd, json, text};
use hbsim::syntax::LitmusTest;

use super::{explore, interrupt_flag, report_error, write_file};
use crate::cli::{Format, Input, ModelChoice, RunConfig};

/// One file's results: its test and a report per model, in order (ending at
/// an interrupted one), or why it could not be loaded.
type FileResult = Result<(LitmusTest, Vec<RunReport>), miette::Report>;

/// Runs the command; the exit code follows the summary.
///
/// Files are checked in parallel (each exploration is parallel too), and
/// their reports printed in the order of the files as each becomes ready, so
/// the output is the same as one file at a time.
pub fn run(config: &RunConfig) -> io::Result<ExitCode> {
    let interrupted = interrupt_flag();
    let bars = MultiProgress::new();
    let (sender, receiver) = mpsc::channel();
    let summary = std::thread::scope(|scope| {
        scope.spawn(|| {
            config
                .files
                .par_iter()
                .enumerate()
                .for_each_with(sender, |sender, (i, input)| {
                    let result = check_file(input, config, &interrupted, &bars);
                    // The printer is gone only when output failed: stop.
                    if sender.send((i, result)).is_err() {
                        interrupted.store(true, Ordering::SeqCst);
                    }
                });
        });
        let printed = print_in_order(config, &receiver, &bars);
        if printed.is_err() {
            // Stop the remaining explorations quickly.
            interrupted.store(true, Ordering::SeqCst);
        }
        drop(receiver);
        printed
    })?;
    Ok(if interrupted.load(Ordering::SeqCst) {
        ExitCode::from(130)
    } else if summary.errors > 0 {
        ExitCode::from(2)
    } else if summary.failed > 0 || summary.inconclusive > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Loads one test and explores it under each of its models, stopping after
/// an interrupted exploration.
fn check_file(
    input: &Input,
    config: &RunConfig,
    interrupted: &AtomicBool,
    bars: &MultiProgress,
) -> FileResult {
    let (test, models) = load(input, &config.models)?;
    let mut reports = Vec::with_capacity(models.len());
    for model in &models {
        let exploration = explore(&test.program, model, config.settings, interrupted, bars);
        let stopped = exploration.completeness == Completeness::Interrupted;
        reports.push(
            RunReport::new(&test.program, &test.file_name, model, exploration)
                .deny_races(config.deny_races),
        );
        if stopped {
            break;
        }
    }
    Ok((test, reports))
}

/// Prints each file's results in file order as they arrive, then the
/// summary; stops after an interrupted exploration. Output is written with
/// the progress lines of running explorations (`bars`) lifted off the
/// terminal, so neither overwrites the other.
fn print_in_order(
    config: &RunConfig,
    results: &mpsc::Receiver<(usize, FileResult)>,
    bars: &MultiProgress,
) -> io::Result<Summary> {
    let mut printer = Printer {
        config,
        out: BufWriter::new(io::stdout().lock()),
        summary: Summary::default(),
        first_block: true,
        graph_files: HashSet::new(),
    };
    let mut waiting = BTreeMap::new();
    'files: for (next, input) in config.files.iter().enumerate() {
        let result = loop {
            if let Some(result) = waiting.remove(&next) {
                break result;
            }
            match results.recv() {
                Ok((i, result)) => {
                    waiting.insert(i, result);
                }
                Err(_) => break 'files,
            }
        };
        if bars.suspend(|| printer.file(input, result))? {
            break;
        }
    }
    bars.suspend(|| printer.summary())?;
    Ok(printer.summary)
}

/// Writes reports to stdout as `hbsim run` prints them, and keeps the summary.
struct Printer<'c, W: Write> {
    config: &'c RunConfig,
    out: W,
    summary: Summary,
    first_block: bool,
    /// The graph files written so far, so no two runs share one.
    graph_files: HashSet<String>,
}

impl<W: Write> Printer<'_, W> {
    /// Prints one file's reports, or its error; true after an interrupted
    /// exploration, where printing stops.
    fn file(&mut self, input: &Input, result: FileResult) -> io::Result<bool> {
        let config = self.config;
        let (test, reports) = match result {
            Ok(checked) => checked,
            Err(diagnostic) => {
                self.summary.errors += 1;
                self.out.flush()?;
                report_error(&format!("{diagnostic:?}"));
                if config.format == Format::Json {
                    let message = format!("{}", diagnostic);
                    json::render_error(&input.name(), &message, &mut self.out)?;
                }
                return Ok(false);
            }
        };
        for report in &reports {
            if let Some(dir) = &config.graphs {
                write_graphs(dir, &test, report, &mut self.graph_files)?;
            }
            self.summary.record(report);
            match config.format {
                Format::Text => {
                    if !self.first_block {
                        writeln!(self.out)?;
                    }
                    text::render_run(report, &mut self.out)?;
                }
                Format::Json => json::render_run(report, &mut self.out)?,
                Format::Herd => herd::render_run(report, &test.locations, &mut self.out)?,
            }
            self.first_block = false;
            self.out.flush()?;
            if report.exploration.completeness == Completeness::Interrupted {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Prints the summary (herd7's format has none; the exit code still
    /// reflects it).
    fn summary(&mut self) -> io::Result<()> {
        match self.config.format {
            Format::Text => {
                if !self.first_block {
                    writeln!(self.out)?;
                }
                text::render_summary(&self.summary, &mut self.out)?;
            }
            Format::Json => json::render_summary(&self.summary, &mut self.out)?,
            Format::Herd => {}
        }
        self.out.flush()
    }
}

/// Writes one DOT file per outcome of `report` into `dir`:
/// `TEST.MODEL.OUTCOME.dot`, each part made safe for a file name
/// ([`file_name_part`]); a name too long for file systems is cut and ends in
/// a hash of the whole, and a name already written in this run (tests that
/// share a name) gets `-2`, `-3`, ... before `.dot`. `used` holds the names
/// written so far.
fn write_graphs(
    dir: &Path,
    test: &LitmusTest,
    report: &RunReport,
    used: &mut HashSet<String>,
) -> io::Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot create {}: {e}", dir.display())))?;
    let set = &report.exploration.outcomes;
    for (outcome, info) in set.iter() {
        let witness = (info.witness.as_ref()).expect("invariant: `--graphs` keeps witnesses");
        let execution = Execution::record(&test.program, &report.model, witness)
            .expect("invariant: witnesses replay");
        let shown = set.display(outcome).to_string();
        let stem = short_file_stem(&format!(
            "{}.{}.{}",
            file_name_part(&test.program.name),
            file_name_part(&report.model.name),
            file_name_part(&shown)
        ));
        let name = (1..)
            .map(|n| match n {
                1 => format!("{stem}.dot"),
                n => format!("{stem}-{n}.dot"),
            })
            .find(|name| !used.contains(name))
            .expect("invariant: some suffix is free");
        let title = format!("{} under {}: {shown}", test.program.name, report.model.name);
        write_file(&dir.join(&name), |file| {
            dot::render(&test.program, &execution, &title, file)
        })?;
        used.insert(name);
    }
    Ok(())
}

/// The longest file stem written: with room for a suffix and `.dot`, under
/// the 255 bytes most file systems allow.
const FILE_STEM_MAX: usize = 200;

/// `stem` if it is short enough, else its first bytes and a hash of the whole
/// (so two long names that share a beginning stay apart).
fn short_file_stem(stem: &str) -> String {
    if stem.len() <= FILE_STEM_MAX {
        return stem.to_string();
    }
    let mut cut = FILE_STEM_MAX - 17;
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut hasher = rustc_hash::FxHasher::default();
    hasher.write(stem.as_bytes());
    format!("{}-{:016x}", &stem[..cut], hasher.finish())
}

/// Text made safe for a file name: `0:r0=1; x=1;` becomes `0-r0=1_x=1`.
fn file_name_part(text: &str) -> String {
    let mapped: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            ':' => '-',
            c if c.is_ascii_alphanumeric() || "=+.-_".contains(c) => c,
            _ => '_',
        })
        .collect();
    mapped.trim_end_matches('_').to_string()
}

/// The error for expectation `i` of `test`, whose model is neither built in
/// nor given with `--model`.
pub(super) fn unknown_model(test: &LitmusTest, i: usize) -> miette::Report {
    let model = &test.program.expectations[i].model;
    let err = test
        .expectation_error(
            i,
            format!(
                "expected a model: sc, tso, pso, go or one given with --model, found `{model}`"
            ),
        )
        .with_help(format!(
            "to check expectations for a model file, pass it: --model path/to/{model}.ron"
        ));
    miette::Report::new(*err)
}

/// Loads a test and decides which models it runs under. Every model its
/// expectations name must be a built-in or one given with `--model`.
fn load(input: &Input, choice: &ModelChoice) -> Result<(LitmusTest, Vec<Model>), miette::Report> {
    let test = input.load().map_err(miette::Report::new)?;
    let given: &[Model] = match choice {
        ModelChoice::Fixed(models) => models,
        ModelChoice::FromExpectations => &[],
    };
    let mut named = Vec::new();
    for (i, expectation) in test.program.expectations.iter().enumerate() {
        let model = Model::builtin(&expectation.model)
            .or_else(|| given.iter().find(|m| m.name == expectation.model).cloned());
        match model {
            Some(model) => named.push(model),
            None => return Err(unknown_model(&test, i)),
        }
    }
    let models = match choice {
        ModelChoice::Fixed(models) => models.clone(),
        ModelChoice::FromExpectations if named.is_empty() => Model::builtins(),
        ModelChoice::FromExpectations => named,
    };
    Ok((test, models))
}

//! The `hbsim` command: parses arguments, runs explorations, renders reports.
//!
//! Exit codes: 0 every expectation held; 1 an expectation failed or could not be
//! decided; 2 usage, I/O or parse error; 130 interrupted by Ctrl-C. A closed
//! stdout (`hbsim run ... | head`) ends the program quietly with 0.

mod cli;
mod progress;

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser;
use hbsim::explore::{Completeness, Explorer};
use hbsim::model::Model;
use hbsim::report::{RunReport, Summary, json, text};
use hbsim::syntax::{self, LitmusTest};

use cli::{Cli, Command, Format, ModelChoice, RunConfig};

fn main() -> ExitCode {
    let cli = Cli::parse();
    install_error_hook();
    let result = match cli.command {
        Command::Models => list_models(),
        Command::Run(args) => match args.into_config() {
            Ok(config) => run(&config),
            Err(e) => {
                report_error(&format!("{:?}", miette::Report::new(e)));
                return ExitCode::from(2);
            }
        },
    };
    match result {
        Ok(code) => code,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            report_error(&format!("hbsim: {e}"));
            ExitCode::from(2)
        }
    }
}

/// Writes an error to stderr; a closed stderr is ignored (there is nowhere left
/// to report to, and the exit code still says it).
fn report_error(text: &str) {
    let _ = writeln!(io::stderr(), "{text}");
}

/// Diagnostics without colour when NO_COLOR is set or stderr is not a terminal,
/// and at a fixed width off a terminal, so they are stable in logs and tests.
fn install_error_hook() {
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .terminal_links(false)
                .width(100)
                .build(),
        )
    }));
}

fn list_models() -> io::Result<ExitCode> {
    let mut out = io::stdout().lock();
    for model in Model::builtins() {
        writeln!(out, "{:<5} {}", model.name, model.description)?;
    }
    writeln!(
        out,
        "\nA model file (`--model path/to/model.ron`) describes another store-buffer machine; see docs/models.md."
    )?;
    Ok(ExitCode::SUCCESS)
}

fn run(config: &RunConfig) -> io::Result<ExitCode> {
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let flag = Arc::clone(&interrupted);
        let _ = ctrlc::set_handler(move || {
            if flag.swap(true, Ordering::SeqCst) {
                // A second Ctrl-C: stop at once.
                std::process::exit(130);
            }
        });
    }
    let mut out = BufWriter::new(io::stdout().lock());
    let mut summary = Summary::default();
    let mut first_block = true;
    'files: for path in &config.files {
        let (test, models) = match load(path, &config.models) {
            Ok(loaded) => loaded,
            Err(diagnostic) => {
                summary.errors += 1;
                out.flush()?;
                report_error(&format!("{diagnostic:?}"));
                if config.format == Format::Json {
                    let message = format!("{}", diagnostic);
                    json::render_error(&path.display().to_string(), &message, &mut out)?;
                }
                continue;
            }
        };
        for model in &models {
            let mut bar = progress::Bar::new(&test.program.name, &model.name);
            let mut report_progress = |p: &hbsim::explore::Progress| bar.update(p);
            let exploration = Explorer::new(&test.program, model)
                .limits(config.limits)
                .cancel_on(&interrupted)
                .on_progress(&mut report_progress)
                .run();
            bar.finish();
            let stopped = exploration.completeness == Completeness::Interrupted;
            let report = RunReport::new(&test.program, &test.file_name, model, exploration);
            summary.record(&report);
            match config.format {
                Format::Text => {
                    if !first_block {
                        writeln!(out)?;
                    }
                    text::render_run(&report, &mut out)?;
                }
                Format::Json => json::render_run(&report, &mut out)?,
            }
            first_block = false;
            out.flush()?;
            if stopped {
                break 'files;
            }
        }
    }
    match config.format {
        Format::Text => {
            if !first_block {
                writeln!(out)?;
            }
            text::render_summary(&summary, &mut out)?;
        }
        Format::Json => json::render_summary(&summary, &mut out)?,
    }
    out.flush()?;
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

/// Loads a test and decides which models it runs under. Every model its
/// expectations name must be a built-in or one given with `--model`.
fn load(
    path: &std::path::Path,
    choice: &ModelChoice,
) -> Result<(LitmusTest, Vec<Model>), miette::Report> {
    let test = syntax::parse_file(path).map_err(miette::Report::new)?;
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
            None => {
                let err = test
                    .expectation_error(
                        i,
                        format!(
                            "expected a model: sc, tso, pso or one given with --model, found `{}`",
                            expectation.model
                        ),
                    )
                    .with_help(format!(
                        "to check expectations for a model file, pass it: --model path/to/{}.ron",
                        expectation.model
                    ));
                return Err(miette::Report::new(*err));
            }
        }
    }
    let models = match choice {
        ModelChoice::Fixed(models) => models.clone(),
        ModelChoice::FromExpectations if named.is_empty() => Model::builtins(),
        ModelChoice::FromExpectations => named,
    };
    Ok((test, models))
}

//! The commands of the `hbsim` binary, and what they share: error output,
//! Ctrl-C handling, progress display.

pub mod convert;
pub mod explain;
pub mod generate;
pub mod progress;
pub mod run;

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use hbsim::explore::{Exploration, Explorer};

use crate::cli::Settings;
use hbsim::ir::Program;
use hbsim::model::Model;

/// Writes an error to stderr; a closed stderr is ignored (there is nowhere left
/// to report to, and the exit code still says it).
pub fn report_error(text: &str) {
    let _ = writeln!(io::stderr(), "{text}");
}

/// Creates a file for writing, naming it in the error if that fails.
pub fn create_file(path: &std::path::Path) -> io::Result<std::fs::File> {
    std::fs::File::create(path)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display())))
}

/// A flag set by Ctrl-C; a second Ctrl-C exits at once with 130.
pub fn interrupt_flag() -> Arc<AtomicBool> {
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&interrupted);
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
    interrupted
}

/// Explores with a progress spinner (a line of `bars`) and Ctrl-C.
pub fn explore(
    program: &Program,
    model: &Model,
    settings: Settings,
    interrupted: &AtomicBool,
    bars: &indicatif::MultiProgress,
) -> Exploration {
    let mut bar = progress::Bar::new(bars, &program.name, &model.name);
    let mut report_progress = |p: &hbsim::explore::Progress| bar.update(p);
    let exploration = Explorer::new(program, model)
        .limits(settings.limits)
        .engine(settings.engine)
        .unroll(settings.unroll)
        .cancel_on(interrupted)
        .on_progress(&mut report_progress)
        .run();
    bar.finish();
    exploration
}

/// `hbsim models`.
pub fn list_models() -> io::Result<ExitCode> {
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

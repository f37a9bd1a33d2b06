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

/// Writes a file whole or not at all: `write` fills a temporary file beside
/// `path`, which then takes its name; on any error the temporary file goes
/// and the error names `path` (a full disk or a file size limit leaves no
/// half-written file behind).
pub fn write_file(
    path: &std::path::Path,
    write: impl FnOnce(&mut io::BufWriter<&mut std::fs::File>) -> io::Result<()>,
) -> io::Result<()> {
    let named =
        |e: io::Error| io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()));
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => std::path::Path::new("."),
    };
    let mut temporary = tempfile::NamedTempFile::new_in(dir).map_err(named)?;
    {
        let mut out = io::BufWriter::new(temporary.as_file_mut());
        write(&mut out).map_err(named)?;
        io::Write::flush(&mut out).map_err(named)?;
    }
    temporary.persist(path).map_err(|e| named(e.error))?;
    Ok(())
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
        .witnesses(settings.witnesses)
        .symmetry(settings.symmetry)
        .partial_order(settings.partial_order)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A write that fails half-way leaves neither the file nor the
    /// temporary one behind, and its error names the file.
    #[test]
    fn a_failed_write_leaves_no_file() {
        let dir = std::env::temp_dir().join(format!("hbsim-write-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        let path = dir.join("out.dot");
        let failed = write_file(&path, |out| {
            io::Write::write_all(out, b"digraph {")?;
            Err(io::Error::other("disk full"))
        });
        let message = failed.expect_err("the write fails").to_string();
        assert!(
            message.contains("out.dot") && message.contains("disk full"),
            "{message}"
        );
        assert_eq!(std::fs::read_dir(&dir).expect("listed").count(), 0);
        write_file(&path, |out| io::Write::write_all(out, b"digraph {}")).expect("written");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "digraph {}");
        std::fs::remove_dir_all(&dir).ok();
    }
}

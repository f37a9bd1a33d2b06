//! The `hbsim` command: parses arguments, runs explorations, renders reports.
//!
//! Exit codes: 0 every expectation held; 1 an expectation failed or could not be
//! decided; 2 usage, I/O or parse error; 130 interrupted by Ctrl-C. A closed
//! stdout (`hbsim run ... | head`) ends the program quietly with 0.

mod cli;
mod cmd;

use std::io;
use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

/// Explorations allocate and free many small graphs and states; mimalloc
/// does that faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    install_error_hook();
    let result = match cli.command {
        Command::Models => cmd::list_models(),
        Command::Run(args) => match args.into_config() {
            Ok(config) => cmd::run::run(&config),
            Err(e) => {
                cmd::report_error(&format!("{:?}", miette::Report::new(e)));
                return ExitCode::from(2);
            }
        },
        Command::Explain(args) => cmd::explain::explain(&args),
        Command::Convert(args) => cmd::convert::convert(&args),
        Command::Gen(args) => cmd::generate::generate(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            cmd::report_error(&format!("hbsim: {e}"));
            ExitCode::from(2)
        }
    }
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

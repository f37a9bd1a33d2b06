//! `hbsim convert`: a herd7 `.litmus` test as a RON litmus file, on stdout.

use std::io::{self, Write};
use std::process::ExitCode;

use hbsim::syntax::{self, SourceFormat};

use super::report_error;
use crate::cli::{ConvertArgs, Input};

/// Runs the command: 0 on success, 2 if the file cannot be read or converted.
pub fn convert(args: &ConvertArgs) -> io::Result<ExitCode> {
    let input = Input::from_arg(&args.file);
    let name = input.name();
    let source = match input.read() {
        Ok(source) => source,
        Err(e) => {
            report_error(&format!("hbsim: cannot read {name}: {e}"));
            return Ok(ExitCode::from(2));
        }
    };
    if SourceFormat::detect(&source) == SourceFormat::Ron {
        report_error(&format!(
            "hbsim: {name} is not a herd7 test (its first line is not `X86 NAME`); RON files need no conversion"
        ));
        return Ok(ExitCode::from(2));
    }
    match syntax::convert_herd(&source, &name) {
        Ok(ron) => {
            let mut out = io::stdout().lock();
            out.write_all(ron.as_bytes())?;
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            report_error(&format!("{:?}", miette::Report::new(e)));
            Ok(ExitCode::from(2))
        }
    }
}

//! `hbsim gen`: a test of a parameterised family, as a RON litmus file on stdout.

use std::io::{self, Write};
use std::process::ExitCode;

use hbsim::families;

use super::report_error;
use crate::cli::GenArgs;

/// Runs the command: 0 on success, 2 if the numbers do not fit the family.
pub fn generate(args: &GenArgs) -> io::Result<ExitCode> {
    match families::generate(args.family, &args.numbers) {
        Ok(test) => {
            let mut out = io::stdout().lock();
            out.write_all(test.to_ron().as_bytes())?;
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            report_error(&format!("hbsim gen: {e}"));
            Ok(ExitCode::from(2))
        }
    }
}

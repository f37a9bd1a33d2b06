//! Checking outcome sets from tests, with failures that read well in any test
//! harness: expected-but-missing outcomes and observed-but-forbidden outcomes
//! are listed separately, and each forbidden outcome comes with an execution
//! that reaches it.
//!
//! # Example
//! ```
//! use hbsim::{check::assert_outcomes, model::Model, syntax::LitmusBuilder};
//!
//! let sb = LitmusBuilder::new("SB")
//!     .thread(|t| t.store("x", 1).load("r0", "y"))
//!     .thread(|t| t.store("y", 1).load("r0", "x"))
//!     .build()
//!     .unwrap();
//! // Under SC at least one load sees the other thread's store.
//! assert_outcomes(&sb.program, &Model::sc(), &["0:r0=0; 1:r0=1;", "0:r0=1; 1:r0=0;", "0:r0=1; 1:r0=1;"]);
//! ```

use std::fmt;

use crate::explore::{Exploration, explore};
use crate::hb::Execution;
use crate::ir::{Expectation, Program};
use crate::model::Model;
use crate::outcome::Outcome;
use crate::report::explain::step_table;
use crate::syntax::{SourceError, parse_expected_outcomes};
use crate::verdict::{self, Status};

/// Why an outcome check failed.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// An expected outcome line is malformed, names something the program
    /// lacks, or names other registers and variables than the first.
    #[error(transparent)]
    BadOutcome(Box<SourceError>),
    /// The exploration stopped before it could decide.
    #[error(
        "the exploration of {test} under {model} stopped early ({reason}); the check is inconclusive"
    )]
    Incomplete {
        /// The test.
        test: String,
        /// The model.
        model: String,
        /// Which limit stopped it.
        reason: String,
    },
    /// The outcome sets differ.
    #[error(transparent)]
    Mismatch(#[from] Box<OutcomeMismatch>),
}

/// The difference between expected and observed outcome sets.
#[derive(Debug, thiserror::Error)]
pub struct OutcomeMismatch {
    /// The test.
    pub test: String,
    /// The model.
    pub model: String,
    /// Expected outcomes no execution reached.
    pub missing: Vec<String>,
    /// Reached outcomes not expected, each with an execution reaching it.
    pub forbidden: Vec<(String, String)>,
}

impl fmt::Display for OutcomeMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} under {}: the outcome set differs from the expected one",
            self.test, self.model
        )?;
        for line in &self.missing {
            writeln!(f, "  allowed outcome missing: {line}")?;
        }
        for (line, witness) in &self.forbidden {
            writeln!(f, "  forbidden outcome observed: {line}, for example by:")?;
            for row in witness.lines() {
                writeln!(f, "    {row}")?;
            }
        }
        Ok(())
    }
}

/// Explores `program` under `model` and compares its outcomes with
/// `expected`, written as a test file's `outcomes` (docs/format.md): final
/// states such as `"0:r0=1; x=2;"`, compared on the registers and variables
/// the lines name, and endings such as `"deadlock: main"`, `"leak: P1"`,
/// `"never terminates: P1"` or `"panic: P1"`. Returns the exploration when
/// they match.
///
/// # Errors
/// [`CheckError`], with the missing and forbidden outcomes for a mismatch.
pub fn check_outcomes(
    program: &Program,
    model: &Model,
    expected: &[&str],
) -> Result<Exploration, CheckError> {
    let outcomes = parse_expected_outcomes(program, expected, "expected outcome")
        .map_err(CheckError::BadOutcome)?;
    let expectation = Expectation {
        model: model.name.clone(),
        observation: None,
        outcomes: Some(outcomes),
        races: None,
    };
    let exploration = explore(program, model);
    let condition = verdict::evaluate_condition(program, &exploration);
    let check = verdict::check_expectation(&expectation, &condition, &exploration);
    let outcomes_check = check
        .outcomes
        .expect("invariant: an outcome set was expected");
    match outcomes_check.status {
        Status::Held => Ok(exploration),
        Status::Inconclusive => Err(CheckError::Incomplete {
            test: program.name.clone(),
            model: model.name.clone(),
            reason: format!("{:?}", exploration.completeness),
        }),
        Status::Failed => {
            let columns = &expectation
                .outcomes
                .as_ref()
                .expect("set above")
                .observables;
            let forbidden = outcomes_check
                .forbidden
                .iter()
                .map(|o| {
                    let witness = witness_of(program, model, &exploration, columns, o);
                    (outcomes_check.render(o), witness)
                })
                .collect();
            Err(Box::new(OutcomeMismatch {
                test: program.name.clone(),
                model: model.name.clone(),
                missing: outcomes_check
                    .missing
                    .iter()
                    .map(|o| outcomes_check.render(o))
                    .collect(),
                forbidden,
            })
            .into())
        }
    }
}

/// Like [`check_outcomes`], but panics with the readable difference.
///
/// # Panics
/// When the check fails for any reason.
#[track_caller]
pub fn assert_outcomes(program: &Program, model: &Model, expected: &[&str]) {
    if let Err(e) = check_outcomes(program, model, expected) {
        panic!("{e}");
    }
}

/// An execution table for some final outcome whose projection is `projected`.
fn witness_of(
    program: &Program,
    model: &Model,
    exploration: &Exploration,
    columns: &[crate::ir::Observable],
    projected: &Outcome,
) -> String {
    let set = &exploration.outcomes;
    let found = set.iter().find(|(outcome, _)| match (outcome, projected) {
        (Outcome::Final(values), Outcome::Final(want)) => columns
            .iter()
            .map(|&o| set.value_of(values, o))
            .eq(want.iter().copied()),
        (a, b) => *a == b,
    });
    match found {
        Some((outcome, info)) => {
            let witness = (info.witness.as_ref()).expect("invariant: `explore` keeps witnesses");
            let execution =
                Execution::record(program, model, witness).expect("invariant: witnesses replay");
            format!(
                "{}\n{}",
                set.display(outcome),
                step_table(program, model, &execution)
            )
        }
        None => "(no witness)".to_string(),
    }
}

//! Reports: the results of a run as plain data, and renderers that write them.
//!
//! A [`RunReport`] holds everything about one test under one model; a [`Summary`]
//! tallies many. Renderers ([`text`], [`json`]) only format these; they compute
//! nothing, and the library never writes to stdout or stderr itself.

pub mod describe;
pub mod dot;
pub mod explain;
pub mod json;
pub mod text;

use crate::explore::Exploration;
use crate::ir::{Program, Quantifier};
use crate::model::Model;
use crate::verdict::{self, ConditionResult, ExpectationCheck, Status};

/// One test explored under one model, with its verdicts.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// The test's name.
    pub test: String,
    /// The file it came from, as given.
    pub file: String,
    /// The test's prose, if any.
    pub doc: Option<String>,
    /// The model explored.
    pub model: Model,
    /// The condition as written.
    pub condition_text: String,
    /// The condition's quantifier.
    pub quantifier: Quantifier,
    /// What the exploration found.
    pub exploration: Exploration,
    /// For each final outcome, in [`crate::outcome::OutcomeSet::finals`] order,
    /// whether it satisfies the condition's proposition.
    pub satisfies: Vec<bool>,
    /// The condition evaluated over the outcomes.
    pub condition: ConditionResult,
    /// The file's expectations for this model, checked.
    pub checks: Vec<ExpectationCheck>,
}

impl RunReport {
    /// Evaluates the condition and the expectations for `model` over an exploration.
    pub fn new(program: &Program, file: &str, model: &Model, exploration: Exploration) -> Self {
        let condition = verdict::evaluate_condition(program, &exploration);
        let satisfies = exploration
            .outcomes
            .finals()
            .map(|(values, _)| verdict::satisfies(program, &exploration.outcomes, values))
            .collect();
        let checks = program
            .expectations
            .iter()
            .filter(|e| e.model == model.name)
            .map(|e| verdict::check_expectation(e, &condition, &exploration))
            .collect();
        RunReport {
            test: program.name.clone(),
            file: file.to_string(),
            doc: program.doc.clone(),
            model: model.clone(),
            condition_text: program.condition.text.clone(),
            quantifier: program.condition.quantifier,
            exploration,
            satisfies,
            condition,
            checks,
        }
    }

    /// The combined status of this run's expectations, or `None` if the file
    /// states none for this model.
    pub fn status(&self) -> Option<Status> {
        (!self.checks.is_empty()).then(|| verdict::combine(self.checks.iter().map(|c| c.status())))
    }
}

/// Tallies over a whole `hbsim run`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Runs whose expectations all held.
    pub passed: usize,
    /// Runs with a failed expectation.
    pub failed: usize,
    /// Runs cut short before their expectations were decided.
    pub inconclusive: usize,
    /// Runs for a model the file states no expectation for.
    pub unchecked: usize,
    /// Files that could not be loaded or run.
    pub errors: usize,
}

impl Summary {
    /// Counts one run.
    pub fn record(&mut self, run: &RunReport) {
        match run.status() {
            Some(Status::Held) => self.passed += 1,
            Some(Status::Failed) => self.failed += 1,
            Some(Status::Inconclusive) => self.inconclusive += 1,
            None => self.unchecked += 1,
        }
    }
}

/// herd7's word for what the condition asks: `Allowed` (exists), `Forbidden`
/// (~exists) or `Required` (forall).
pub fn condition_kind(q: Quantifier) -> &'static str {
    match q {
        Quantifier::Exists => "Allowed",
        Quantifier::NotExists => "Forbidden",
        Quantifier::Forall => "Required",
    }
}

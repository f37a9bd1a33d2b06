//! Reports: the results of a run as plain data, and renderers that write them.
//!
//! A [`RunReport`] holds everything about one test under one model; a [`Summary`]
//! tallies many. Renderers ([`text`], [`json`], [`herd`]) only format these (the
//! herd7 renderer also projects outcomes onto the observables herd7 shows); they
//! decide nothing, and the library never writes to stdout or stderr itself.

pub mod describe;
pub mod dot;
pub mod explain;
pub mod herd;
pub mod json;
pub mod text;

use crate::explore::Exploration;
use crate::ir::{Program, Quantifier};
use crate::model::Model;
use crate::verdict::{self, ConditionResult, ExpectationCheck, Status};

/// One test explored under one model, with its verdicts.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// The file the test came from, as given.
    pub file: String,
    /// The test.
    pub program: Program,
    /// The model explored.
    pub model: Model,
    /// What the exploration found.
    pub exploration: Exploration,
    /// For each outcome, in [`crate::outcome::OutcomeSet::iter`] order, whether
    /// it satisfies the condition's proposition.
    pub satisfies: Vec<bool>,
    /// The condition evaluated over the outcomes.
    pub condition: ConditionResult,
    /// The file's expectations for this model, checked.
    pub checks: Vec<ExpectationCheck>,
    /// Whether any data race fails the run (`--deny-races`).
    pub deny_races: bool,
}

impl RunReport {
    /// Evaluates the condition and the expectations for `model` over an exploration.
    pub fn new(program: &Program, file: &str, model: &Model, exploration: Exploration) -> Self {
        let condition = verdict::evaluate_condition(program, &exploration);
        let satisfies = exploration
            .outcomes
            .iter()
            .map(|(outcome, _)| verdict::satisfies(program, &exploration.outcomes, outcome))
            .collect();
        let checks = program
            .expectations
            .iter()
            .filter(|e| e.model == model.name)
            .map(|e| verdict::check_expectation(e, &condition, &exploration))
            .collect();
        RunReport {
            file: file.to_string(),
            program: program.clone(),
            model: model.clone(),
            exploration,
            satisfies,
            condition,
            checks,
            deny_races: false,
        }
    }

    /// Makes any data race a failure of the run.
    pub fn deny_races(mut self, deny: bool) -> Self {
        self.deny_races = deny;
        self
    }

    /// Whether the run fails because it races and races are denied.
    pub fn races_denied(&self) -> bool {
        self.deny_races && !self.exploration.races.is_empty()
    }

    /// What `--deny-races` makes of the run: failed when it races, held when
    /// a complete exploration found no race, inconclusive when one cut short
    /// found none; `None` without the flag.
    pub fn deny_races_status(&self) -> Option<Status> {
        self.deny_races.then(|| {
            if self.races_denied() {
                Status::Failed
            } else if self.exploration.completeness.is_exhaustive() {
                Status::Held
            } else {
                Status::Inconclusive
            }
        })
    }

    /// The combined status of this run's expectations (and of `--deny-races`),
    /// or `None` if nothing was checked.
    pub fn status(&self) -> Option<Status> {
        let denied = self.deny_races_status();
        if self.checks.is_empty() && denied.is_none() {
            return None;
        }
        Some(verdict::combine(
            self.checks.iter().map(|c| c.status()).chain(denied),
        ))
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

/// Writes herd7's verdict lines for a run: `Ok`/`No`, `Witnesses`,
/// `Positive: p Negative: n` (swapped for `~exists`, as herd7 does),
/// `Condition ...` with the condition as `condition` spells it, and
/// `Observation NAME OBS p n`. Shared by the text and herd7 reports.
pub(crate) fn render_verdict(
    run: &RunReport,
    condition: &str,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    let c = &run.condition;
    let program = &run.program;
    writeln!(
        out,
        "{}",
        match c.validated {
            Some(true) => "Ok",
            Some(false) => "No",
            None => "Inconclusive",
        }
    )?;
    writeln!(out, "Witnesses")?;
    // One whitespace-free token per count, as herd7's lines have.
    let count = |n: Option<crate::outcome::Count>| match n {
        None => "?".to_string(),
        Some(crate::outcome::Count::SATURATED) => ">=2^128-1".to_string(),
        Some(n) => n.to_string(),
    };
    let (positive, negative) = (count(c.positive), count(c.negative));
    let (witness_pos, witness_neg) = match program.condition.quantifier {
        Quantifier::NotExists => (&negative, &positive),
        Quantifier::Exists | Quantifier::Forall => (&positive, &negative),
    };
    writeln!(out, "Positive: {witness_pos} Negative: {witness_neg}")?;
    writeln!(out, "Condition {condition}")?;
    let observation = c
        .observation
        .map_or_else(|| "Inconclusive".to_string(), |o| o.to_string());
    writeln!(
        out,
        "Observation {} {observation} {positive} {negative}",
        program.name
    )
}

/// Each blocked thread and where: `worker at [0] Lock("m")`.
pub(crate) fn blocked_at(
    program: &crate::ir::Program,
    blocked: &[(crate::ir::ThreadId, usize)],
) -> Vec<String> {
    blocked
        .iter()
        .map(|&(t, pc)| {
            let source = program.threads[t.index()]
                .source
                .get(pc)
                .map_or("?", String::as_str);
            format!("{} at [{pc}] {source}", program.thread_name(t))
        })
        .collect()
}

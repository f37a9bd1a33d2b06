//! Verdicts: the condition evaluated over an outcome set (herd7's `Ok`/`No`,
//! `Positive`/`Negative` and `Observation`), and each expectation of the file
//! checked against what was observed.
//!
//! The condition ranges over every outcome, final or not: on an outcome that is
//! not a final state (a deadlock, a leak, non-termination, a panic) a value atom
//! is false, and the atoms naming how an execution ends (`deadlock`, `panic(T)`,
//! ...) are true on outcomes of their kind only (docs/format.md, "Conditions").
//!
//! After a truncated or interrupted exploration, a verdict is given only when the
//! outcomes already found decide it (a satisfying outcome proves `exists`; one of
//! each proves `Sometimes`); everything else is [`Status::Inconclusive`].

use serde::Serialize;

use crate::explore::Exploration;
use crate::ir::{Expectation, Observation, Program, Quantifier};
use std::collections::BTreeSet;

use crate::outcome::{Count, Outcome, OutcomeSet, write_ending};

/// The condition evaluated over an exploration's outcomes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConditionResult {
    /// Whether the test's condition (quantifier included) holds: herd7's `Ok`
    /// (`Some(true)`) or `No` (`Some(false)`); `None` if undecided.
    pub validated: Option<bool>,
    /// How often the proposition held; `None` if undecided.
    pub observation: Option<Observation>,
    /// Executions whose outcome satisfies the proposition.
    pub positive: Option<Count>,
    /// Executions whose outcome does not.
    pub negative: Option<Count>,
    /// Distinct outcomes satisfying the proposition.
    pub positive_outcomes: usize,
    /// Distinct outcomes not satisfying it.
    pub negative_outcomes: usize,
}

/// Evaluates the program's condition over an exploration.
pub fn evaluate_condition(program: &Program, exploration: &Exploration) -> ConditionResult {
    let set = &exploration.outcomes;
    let complete = exploration.completeness.is_exhaustive();
    // Counts are unknown when the search was cut short or reduced.
    let counted = complete && set.iter().all(|(_, info)| info.executions.is_some());
    let (mut positive, mut negative) = (Count::ZERO, Count::ZERO);
    let (mut positive_outcomes, mut negative_outcomes) = (0, 0);
    for (outcome, info) in set.iter() {
        let count = info.executions.unwrap_or(Count::ZERO);
        if satisfies(program, set, outcome) {
            positive = positive + count;
            positive_outcomes += 1;
        } else {
            negative = negative + count;
            negative_outcomes += 1;
        }
    }
    let observation = match (positive_outcomes > 0, negative_outcomes > 0) {
        (true, true) => Some(Observation::Sometimes),
        _ if !complete => None,
        (true, false) => Some(Observation::Always),
        (false, _) => Some(Observation::Never),
    };
    let validated = match program.condition.quantifier {
        Quantifier::Exists if positive_outcomes > 0 => Some(true),
        Quantifier::NotExists if positive_outcomes > 0 => Some(false),
        Quantifier::Forall if negative_outcomes > 0 => Some(false),
        _ if !complete => None,
        Quantifier::Exists => Some(false),
        Quantifier::NotExists | Quantifier::Forall => Some(true),
    };
    ConditionResult {
        validated,
        observation,
        positive: counted.then_some(positive),
        negative: counted.then_some(negative),
        positive_outcomes,
        negative_outcomes,
    }
}

/// Whether an outcome of `set` satisfies the condition's proposition.
pub fn satisfies(program: &Program, set: &OutcomeSet, outcome: &Outcome) -> bool {
    set.satisfies(outcome, &program.condition.prop)
}

/// Whether an expectation held.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Status {
    /// It held.
    Held,
    /// It did not.
    Failed,
    /// The exploration was cut short before deciding it.
    Inconclusive,
}

/// An expectation checked against one exploration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExpectationCheck {
    /// The model the expectation is for.
    pub model: String,
    /// The expected observation, when the file states one.
    pub observation: Option<ObservationCheck>,
    /// The expected outcome set, when the file states one.
    pub outcomes: Option<OutcomesCheck>,
    /// Whether races were expected, when the file says.
    pub races: Option<RacesCheck>,
}

/// An expectation about data races against what the exploration found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RacesCheck {
    /// Whether the file expects some execution to race.
    pub expected: bool,
    /// Whether one does; `None` if none was found before the exploration stopped.
    pub observed: Option<bool>,
    /// The verdict.
    pub status: Status,
}

impl ExpectationCheck {
    /// The combined status: failed if any part failed, else inconclusive if any
    /// part is, else held.
    pub fn status(&self) -> Status {
        let parts = self
            .observation
            .iter()
            .map(|o| o.status)
            .chain(self.outcomes.iter().map(|o| o.status))
            .chain(self.races.iter().map(|r| r.status));
        combine(parts)
    }
}

/// Combines statuses: any failure fails, then any inconclusive part, else held.
pub fn combine(statuses: impl IntoIterator<Item = Status>) -> Status {
    statuses
        .into_iter()
        .fold(Status::Held, |acc, s| match (acc, s) {
            (Status::Failed, _) | (_, Status::Failed) => Status::Failed,
            (Status::Inconclusive, _) | (_, Status::Inconclusive) => Status::Inconclusive,
            _ => Status::Held,
        })
}

/// An expected observation against the observed one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ObservationCheck {
    /// As written in the file.
    pub expected: Observation,
    /// As observed; `None` if undecided.
    pub observed: Option<Observation>,
    /// The verdict.
    pub status: Status,
}

/// An expected outcome set against the observed one, final outcomes projected
/// onto the observables the file names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OutcomesCheck {
    /// Names of the compared observables, in the file's order.
    pub columns: Vec<String>,
    /// Names of the program's threads, for rendering non-terminating outcomes.
    pub thread_names: Vec<String>,
    /// Expected outcomes that no execution reached ("allowed outcome missing");
    /// final ones over `columns`. Empty when the exploration was cut short,
    /// since a missing outcome is then not established.
    pub missing: Vec<Outcome>,
    /// Reached outcomes the file does not list ("forbidden outcome observed").
    pub forbidden: Vec<Outcome>,
    /// The verdict.
    pub status: Status,
}

impl OutcomesCheck {
    /// An outcome in herd7's style over [`OutcomesCheck::columns`]: `0:r0=1; x=1;`,
    /// `deadlock: main`, `leak: worker`, `never terminates: P1` or `panic: P0`.
    pub fn render(&self, outcome: &Outcome) -> String {
        match outcome {
            Outcome::Final(values) => self
                .columns
                .iter()
                .zip(values)
                .map(|(name, v)| format!("{name}={v};"))
                .collect::<Vec<_>>()
                .join(" "),
            other => {
                let mut text = String::new();
                write_ending(&mut text, other, &|t| self.thread_names[t.index()].clone())
                    .expect("invariant: writing to a String succeeds");
                text
            }
        }
    }
}

/// Checks one expectation against an exploration of the same program.
pub fn check_expectation(
    expectation: &Expectation,
    condition: &ConditionResult,
    exploration: &Exploration,
) -> ExpectationCheck {
    let complete = exploration.completeness.is_exhaustive();
    let observation = expectation.observation.map(|expected| {
        let status = match condition.observation {
            Some(observed) if observed == expected => Status::Held,
            Some(_) => Status::Failed,
            // Undecided so far: a positive outcome already rules out Never, a
            // negative one rules out Always.
            None if (expected == Observation::Never && condition.positive_outcomes > 0)
                || (expected == Observation::Always && condition.negative_outcomes > 0) =>
            {
                Status::Failed
            }
            None => Status::Inconclusive,
        };
        ObservationCheck {
            expected,
            observed: condition.observation,
            status,
        }
    });
    let outcomes = expectation.outcomes.as_ref().map(|expected| {
        let set = &exploration.outcomes;
        let observed: BTreeSet<Outcome> = set
            .iter()
            .map(|(outcome, _)| match outcome {
                Outcome::Final(values) => Outcome::Final(
                    expected
                        .observables
                        .iter()
                        .map(|&o| set.value_of(values, o))
                        .collect(),
                ),
                other => other.clone(),
            })
            .collect();
        let wanted: BTreeSet<Outcome> = expected
            .outcomes
            .iter()
            .cloned()
            .map(Outcome::Final)
            .chain(expected.blocked.iter().cloned().map(Outcome::Blocked))
            .chain(
                expected
                    .never_terminates
                    .iter()
                    .cloned()
                    .map(Outcome::NeverTerminates),
            )
            .chain(expected.panics.iter().copied().map(Outcome::Panic))
            .collect();
        let forbidden: Vec<Outcome> = observed.difference(&wanted).cloned().collect();
        let missing: Vec<Outcome> = if complete {
            wanted.difference(&observed).cloned().collect()
        } else {
            Vec::new()
        };
        let status = if !forbidden.is_empty() {
            Status::Failed
        } else if !complete {
            Status::Inconclusive
        } else if !missing.is_empty() {
            Status::Failed
        } else {
            Status::Held
        };
        OutcomesCheck {
            columns: expected
                .observables
                .iter()
                .map(|&o| set.name(o).to_string())
                .collect(),
            thread_names: set.thread_names().to_vec(),
            missing,
            forbidden,
            status,
        }
    });
    let races = expectation.races.map(|expected| {
        let found = !exploration.races.is_empty();
        let observed = (found || complete).then_some(found);
        let status = match observed {
            Some(o) if o == expected => Status::Held,
            Some(_) => Status::Failed,
            None => Status::Inconclusive,
        };
        RacesCheck {
            expected,
            observed,
            status,
        }
    });
    ExpectationCheck {
        model: expectation.model.clone(),
        observation,
        outcomes,
        races,
    }
}

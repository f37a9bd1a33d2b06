//! Verdicts: the condition evaluated over an outcome set (herd7's `Ok`/`No`,
//! `Positive`/`Negative` and `Observation`), and each expectation of the file
//! checked against what was observed.
//!
//! Only terminating outcomes are final states, so only they are tested against the
//! condition; non-terminating outcomes are reported beside them.
//!
//! After a truncated or interrupted exploration, a verdict is given only when the
//! outcomes already found decide it (a satisfying outcome proves `exists`; one of
//! each proves `Sometimes`); everything else is [`Status::Inconclusive`].

use serde::Serialize;

use crate::explore::Exploration;
use crate::ir::{Expectation, Observation, Program, Quantifier, Val};
use crate::outcome::{Count, OutcomeSet};

/// The condition evaluated over an exploration's final outcomes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConditionResult {
    /// Whether the test's condition (quantifier included) holds: herd7's `Ok`
    /// (`Some(true)`) or `No` (`Some(false)`); `None` if undecided.
    pub validated: Option<bool>,
    /// How often the proposition held; `None` if undecided.
    pub observation: Option<Observation>,
    /// Executions whose final state satisfies the proposition.
    pub positive: Option<Count>,
    /// Executions whose final state does not.
    pub negative: Option<Count>,
    /// Distinct final outcomes satisfying the proposition.
    pub positive_outcomes: usize,
    /// Distinct final outcomes not satisfying it.
    pub negative_outcomes: usize,
}

/// Evaluates the program's condition over an exploration.
pub fn evaluate_condition(program: &Program, exploration: &Exploration) -> ConditionResult {
    let set = &exploration.outcomes;
    let complete = exploration.completeness.is_exhaustive();
    let (mut positive, mut negative) = (Count::ZERO, Count::ZERO);
    let (mut positive_outcomes, mut negative_outcomes) = (0, 0);
    for (values, info) in set.finals() {
        let count = info.executions.unwrap_or(Count::ZERO);
        if satisfies(program, set, values) {
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
        positive: complete.then_some(positive),
        negative: complete.then_some(negative),
        positive_outcomes,
        negative_outcomes,
    }
}

/// Whether a final outcome satisfies the condition's proposition.
pub fn satisfies(program: &Program, set: &OutcomeSet, values: &[Val]) -> bool {
    program
        .condition
        .prop
        .eval(&|observable| set.value_of(values, observable))
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
}

impl ExpectationCheck {
    /// The combined status: failed if any part failed, else inconclusive if any
    /// part is, else held.
    pub fn status(&self) -> Status {
        let parts = self
            .observation
            .iter()
            .map(|o| o.status)
            .chain(self.outcomes.iter().map(|o| o.status));
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

/// An expected outcome set against the observed one, projected onto the
/// observables the file names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OutcomesCheck {
    /// Names of the compared observables, in the file's order.
    pub columns: Vec<String>,
    /// Expected outcomes that no execution reached ("allowed outcome missing").
    pub missing: Vec<Vec<Val>>,
    /// Reached outcomes the file does not list ("forbidden outcome observed").
    pub forbidden: Vec<Vec<Val>>,
    /// The verdict.
    pub status: Status,
}

impl OutcomesCheck {
    /// An outcome over [`OutcomesCheck::columns`] in herd7's style: `0:r0=1; x=1;`.
    pub fn render(&self, values: &[Val]) -> String {
        self.columns
            .iter()
            .zip(values)
            .map(|(name, v)| format!("{name}={v};"))
            .collect::<Vec<_>>()
            .join(" ")
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
        let mut observed: Vec<Vec<Val>> = set
            .finals()
            .map(|(values, _)| {
                expected
                    .observables
                    .iter()
                    .map(|&o| set.value_of(values, o))
                    .collect()
            })
            .collect();
        observed.sort();
        observed.dedup();
        let mut wanted = expected.outcomes.clone();
        wanted.sort();
        wanted.dedup();
        let missing: Vec<Vec<Val>> = wanted
            .iter()
            .filter(|w| observed.binary_search(w).is_err())
            .cloned()
            .collect();
        let forbidden: Vec<Vec<Val>> = observed
            .iter()
            .filter(|o| wanted.binary_search(o).is_err())
            .cloned()
            .collect();
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
            missing,
            forbidden,
            status,
        }
    });
    ExpectationCheck {
        model: expectation.model.clone(),
        observation,
        outcomes,
    }
}

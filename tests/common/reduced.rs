//! Checks shared by the tests of the state-space engine's reductions
//! (thread symmetry, partial-order reduction): what a reduced search must
//! keep of the full one, and witnesses that replay to what they claim.

use std::collections::BTreeSet;

use hbsim::explore::Exploration;
use hbsim::hb::Execution;
use hbsim::ir::{Program, Val};
use hbsim::model::Model;
use hbsim::outcome::Outcome;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

use crate::axiomatic::{Axioms, reference_outcomes};

/// 64 cases unless `PROPTEST_CASES` says otherwise; failures persist beside
/// the test file.
pub fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(64),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

/// Each outcome with its counts and whether a race-free execution reaches it.
pub type Summary = Vec<(Outcome, String, String, bool)>;

/// The outcomes of `exploration`, with their counts and race-freedom.
pub fn summary(exploration: &Exploration) -> Summary {
    exploration
        .outcomes
        .iter()
        .map(|(outcome, info)| {
            (
                outcome.clone(),
                format!("{:?}", info.executions),
                format!("{:?}", info.racy_executions),
                info.race_free,
            )
        })
        .collect()
}

/// Each racing pair of instructions, by variable, as (thread, pc) pairs.
pub type Pairs = BTreeSet<(u16, (u16, usize), (u16, usize))>;

/// The racing pairs of `exploration`.
pub fn race_pairs(exploration: &Exploration) -> Pairs {
    exploration
        .races
        .iter()
        .map(|r| {
            let a = (r.first.thread.0, r.first.pc);
            let b = (r.second.thread.0, r.second.pc);
            (r.loc.0, a.min(b), a.max(b))
        })
        .collect()
}

/// Every witness replays: an outcome's to its final values, with a race
/// exactly when the outcome has no race-free execution; a race's to a state
/// where its two instructions race, ending in its outcome.
pub fn check_witnesses(
    program: &Program,
    model: &Model,
    exploration: &Exploration,
) -> Result<(), TestCaseError> {
    for (outcome, info) in exploration.outcomes.iter() {
        let witness = info.witness.as_ref().expect("outcomes keep witnesses");
        let replay = witness.replay(program, model).expect("witnesses replay");
        if let Outcome::Final(values) = outcome {
            prop_assert_eq!(&replay.values, values);
        }
        let execution = Execution::record(program, model, witness).expect("witnesses record");
        prop_assert_eq!(execution.races().is_empty(), info.race_free);
    }
    for race in &exploration.races {
        let execution =
            Execution::record(program, model, &race.witness).expect("race witnesses record");
        let site = |id: hbsim::hb::EventId| {
            let event = &execution.events[id.0 as usize];
            (event.thread, event.pc)
        };
        let found = execution.races().iter().any(|r| {
            let pair = [site(r.first), site(r.second)];
            let wanted = [
                (Some(race.first.thread), Some(race.first.pc)),
                (Some(race.second.thread), Some(race.second.pc)),
            ];
            r.loc == race.loc && (pair == wanted || pair == [wanted[1], wanted[0]])
        });
        prop_assert!(found, "the witness of {:?} has that race", race);
        if let Some(Outcome::Final(values)) = &race.outcome {
            let replay = race
                .witness
                .replay(program, model)
                .expect("race witnesses replay");
            prop_assert_eq!(&replay.values, values);
        }
    }
    Ok(())
}

/// The final outcomes of `exploration` equal the axiomatic reference's under
/// `axioms`, where the reference can enumerate the program's candidates.
pub fn check_reference(
    program: &Program,
    axioms: Axioms,
    exploration: &Exploration,
) -> Result<(), TestCaseError> {
    if let Ok(reference) = reference_outcomes(program, axioms) {
        let finals: BTreeSet<Vec<Val>> = exploration
            .outcomes
            .finals()
            .map(|(values, _)| values.to_vec())
            .collect();
        prop_assert_eq!(finals, reference, "{}", axioms.name());
    }
    Ok(())
}

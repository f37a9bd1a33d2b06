//! Witnesses: replayable lists of machine steps.
//!
//! A [`Trace`] is plain data. Replaying it from the initial state with
//! [`Trace::replay`] re-executes exactly the execution the explorer found, buffer
//! commits included, so a witness can be checked, rendered or saved.

use serde::Serialize;

use crate::ir::{Loc, Program, ThreadId, Val};
use crate::model::Model;
use crate::model::machine::Machine;

/// One step of a machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Step {
    /// The thread executes its next shared-memory instruction (and any
    /// register-only instructions that follow it). Store-buffer models.
    Run(ThreadId),
    /// The oldest entry of one of the thread's store buffers reaches memory:
    /// its only buffer (`None`) or its buffer for the variable.
    Commit(ThreadId, Option<Loc>),
    /// The thread executes instruction `pc` and takes the `choice`-th way it
    /// can go: under the `go` model its next instruction or a later
    /// independent one, a load reading the `choice`-th write of the
    /// variable's history; under every model, a `Select` case (or its
    /// default) or a `TryLock` success (0) or failure (1).
    Exec {
        /// The thread.
        thread: ThreadId,
        /// The instruction executed.
        pc: u32,
        /// Which write a load reads, or which way a choice goes (0 otherwise).
        choice: u16,
    },
    /// Once every thread has finished, the final observer reads variable `loc`
    /// and gets the `choice`-th write of its history: a variable whose last
    /// writes race may end with any of them. The `go` model.
    Observe {
        /// The variable.
        loc: Loc,
        /// Which write of the variable's history it ends with.
        choice: u16,
    },
}

impl Step {
    /// The thread taking the step (`None` for the final observer).
    pub fn thread(self) -> Option<ThreadId> {
        match self {
            Step::Run(t) | Step::Commit(t, _) | Step::Exec { thread: t, .. } => Some(t),
            Step::Observe { .. } => None,
        }
    }

    /// The step with its thread `t` replaced by `rename(t)`.
    pub(crate) fn renamed(self, rename: impl Fn(ThreadId) -> ThreadId) -> Step {
        match self {
            Step::Run(t) => Step::Run(rename(t)),
            Step::Commit(t, loc) => Step::Commit(rename(t), loc),
            Step::Exec { thread, pc, choice } => Step::Exec {
                thread: rename(thread),
                pc,
                choice,
            },
            Step::Observe { .. } => self,
        }
    }
}

/// A replayable execution prefix: the steps from the initial state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Trace {
    /// Steps in order.
    pub steps: Vec<Step>,
}

/// What replaying a trace produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replay {
    /// Whether every thread finished and every buffer drained.
    pub finished: bool,
    /// The thread that panicked, which stopped the program, if one did.
    pub panicked: Option<ThreadId>,
    /// The value of every observable of [`Program::observables`] at the end.
    pub values: Vec<Val>,
}

/// Why a trace could not be replayed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("step {index} ({step:?}) is not enabled in the state the trace reaches")]
pub struct ReplayError {
    /// Index of the first step that could not be taken.
    pub index: usize,
    /// That step.
    pub step: Step,
}

impl Trace {
    /// Re-executes the trace under `model` from the initial state.
    ///
    /// # Errors
    /// [`ReplayError`] naming the first step that is not enabled.
    pub fn replay(&self, program: &Program, model: &Model) -> Result<Replay, ReplayError> {
        let machine = Machine::new(program, model);
        let mut state = machine.initial_state();
        for (index, &step) in self.steps.iter().enumerate() {
            state = machine
                .apply(&state, step)
                .ok_or(ReplayError { index, step })?
                .1;
        }
        Ok(Replay {
            finished: machine.is_final(&state),
            panicked: machine.panicked(&state),
            values: machine.observe(&state),
        })
    }
}

//! Outcomes: what an execution ends in, and the set of them a test can reach.
//!
//! An execution either **terminates** (every thread finished, every buffer
//! drained), and its outcome is the final value of every observable, or it
//! **never terminates**: it reaches a state from which no final state can be
//! reached (a spin loop whose flag never changes), and its outcome names the
//! threads that can never finish. Both kinds are outcomes with witnesses.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::ir::{Observable, Program, ThreadId, Val};
use crate::trace::Trace;

/// How an execution ends.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Outcome {
    /// Every thread finished: one value per observable of the [`OutcomeSet`].
    Final(Vec<Val>),
    /// These threads can never finish, whatever happens next: they loop
    /// forever or are blocked forever (a deadlock, a leaked goroutine).
    NeverTerminates(Vec<ThreadId>),
    /// This thread panicked (unlocked an unlocked mutex, took a wait group's
    /// counter below zero), which stops the program.
    Panic(ThreadId),
}

/// A number of executions, which loops can make unbounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Count {
    /// Exactly this many (saturating at `u128::MAX`).
    Finite(u128),
    /// Unboundedly many: some path to the outcome passes through a cycle.
    Infinite,
}

impl Count {
    /// Zero executions.
    pub const ZERO: Count = Count::Finite(0);
}

impl std::ops::Add for Count {
    type Output = Count;

    /// Sum of two counts, saturating; infinite if either is.
    fn add(self, other: Count) -> Count {
        match (self, other) {
            (Count::Finite(a), Count::Finite(b)) => Count::Finite(a.saturating_add(b)),
            _ => Count::Infinite,
        }
    }
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Count::Finite(n) => write!(f, "{n}"),
            Count::Infinite => f.write_str("inf"),
        }
    }
}

/// What is known about one reachable outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OutcomeInfo {
    /// Number of distinct executions (interleavings of machine steps) that reach
    /// the outcome; `None` when the exploration was cut short.
    pub executions: Option<Count>,
    /// How many of those executions have a data race.
    pub racy_executions: Option<Count>,
    /// Whether some execution reaching the outcome is free of data races; a
    /// racy outcome is one that only racy executions reach.
    pub race_free: bool,
    /// One execution reaching it, replayable with [`Trace::replay`]; a race-free
    /// one when the outcome is race-free.
    pub witness: Trace,
    /// For a [`Outcome::NeverTerminates`] outcome whose witness ends with its
    /// threads blocked forever (a deadlock, a leaked goroutine): each such
    /// thread and the instruction it is blocked at. Empty otherwise (and for
    /// threads that loop forever).
    pub blocked: Vec<(ThreadId, usize)>,
}

/// The reachable outcomes of a test under a model, in a deterministic order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutcomeSet {
    observables: Vec<Observable>,
    names: Vec<String>,
    thread_names: Vec<String>,
    entries: BTreeMap<Outcome, OutcomeInfo>,
}

impl OutcomeSet {
    /// An empty set over the program's observables.
    pub fn new(program: &Program) -> Self {
        let observables = program.observables();
        let names = observables
            .iter()
            .map(|&o| program.observable_name(o))
            .collect();
        let thread_names = (0..program.threads.len())
            .map(|t| program.thread_name(ThreadId(t as u16)))
            .collect();
        OutcomeSet {
            observables,
            names,
            thread_names,
            entries: BTreeMap::new(),
        }
    }

    /// Records where the witness of `outcome` leaves its threads blocked.
    pub(crate) fn set_blocked(&mut self, outcome: &Outcome, blocked: Vec<(ThreadId, usize)>) {
        if let Some(info) = self.entries.get_mut(outcome) {
            info.blocked = blocked;
        }
    }

    /// Adds one execution class reaching `outcome`: `executions` executions,
    /// racy or not, with `witness` as an example. Counts add up; the first
    /// race-free witness (else the first witness) is kept.
    pub(crate) fn add(
        &mut self,
        outcome: Outcome,
        executions: Option<Count>,
        racy: bool,
        witness: impl FnOnce() -> Trace,
    ) {
        let racy_executions = executions.map(|c| if racy { c } else { Count::ZERO });
        match self.entries.get_mut(&outcome) {
            Some(info) => {
                info.executions = info.executions.zip(executions).map(|(a, b)| a + b);
                info.racy_executions = info
                    .racy_executions
                    .zip(racy_executions)
                    .map(|(a, b)| a + b);
                if !racy && !info.race_free {
                    info.race_free = true;
                    info.witness = witness();
                }
            }
            None => {
                self.entries.insert(
                    outcome,
                    OutcomeInfo {
                        executions,
                        racy_executions,
                        race_free: !racy,
                        witness: witness(),
                        blocked: Vec::new(),
                    },
                );
            }
        }
    }

    /// The information recorded for an outcome.
    pub fn get(&self, outcome: &Outcome) -> Option<&OutcomeInfo> {
        self.entries.get(outcome)
    }

    /// The observables each final outcome records, in order.
    pub fn observables(&self) -> &[Observable] {
        &self.observables
    }

    /// Every outcome with its information, final outcomes first, each kind in
    /// ascending order.
    pub fn iter(&self) -> impl Iterator<Item = (&Outcome, &OutcomeInfo)> {
        self.entries.iter()
    }

    /// Final outcomes only, with their values.
    pub fn finals(&self) -> impl Iterator<Item = (&[Val], &OutcomeInfo)> {
        self.entries.iter().filter_map(|(o, info)| match o {
            Outcome::Final(values) => Some((values.as_slice(), info)),
            Outcome::NeverTerminates(_) | Outcome::Panic(_) => None,
        })
    }

    /// Number of distinct outcomes of both kinds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no outcome was reached.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether the final outcome with these values is in the set.
    pub fn contains_final(&self, values: &[Val]) -> bool {
        self.entries.contains_key(&Outcome::Final(values.to_vec()))
    }

    /// The value of `observable` in final outcome `values`.
    pub fn value_of(&self, values: &[Val], observable: Observable) -> Val {
        let i = self
            .observables
            .iter()
            .position(|&o| o == observable)
            .expect("invariant: every observable of the program is recorded");
        values[i]
    }

    /// Renders an outcome in herd7's style: `0:r0=1; 1:r0=0; x=1;`, or
    /// `never terminates: P1` for a non-terminating one.
    pub fn display<'a>(&'a self, outcome: &'a Outcome) -> impl fmt::Display + 'a {
        DisplayOutcome { set: self, outcome }
    }

    /// Whether every outcome of `self` is an outcome of `other` (witnesses and
    /// counts are not compared). Both sets must belong to the same program.
    pub fn is_subset(&self, other: &OutcomeSet) -> bool {
        self.entries.keys().all(|o| other.entries.contains_key(o))
    }

    /// The outcomes of `self` that `other` lacks, in order.
    pub fn difference<'a>(&'a self, other: &'a OutcomeSet) -> impl Iterator<Item = &'a Outcome> {
        self.entries
            .keys()
            .filter(|o| !other.entries.contains_key(o))
    }

    /// Whether both sets hold the same outcomes (witnesses and counts aside).
    pub fn same_outcomes(&self, other: &OutcomeSet) -> bool {
        self.entries.len() == other.entries.len() && self.is_subset(other)
    }

    /// The name of an observable (`0:r0`, `x`).
    pub fn name(&self, observable: Observable) -> &str {
        let i = self
            .observables
            .iter()
            .position(|&o| o == observable)
            .expect("invariant: every observable of the program is recorded");
        &self.names[i]
    }

    /// The name of a thread for reports.
    pub fn thread_name(&self, t: ThreadId) -> &str {
        &self.thread_names[t.index()]
    }

    /// Every thread's name for reports, by index.
    pub fn thread_names(&self) -> &[String] {
        &self.thread_names
    }
}

struct DisplayOutcome<'a> {
    set: &'a OutcomeSet,
    outcome: &'a Outcome,
}

impl fmt::Display for DisplayOutcome<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.outcome {
            Outcome::Final(values) => {
                for (i, (name, v)) in self.set.names.iter().zip(values).enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{name}={v};")?;
                }
                Ok(())
            }
            Outcome::NeverTerminates(threads) => {
                f.write_str("never terminates:")?;
                for t in threads {
                    write!(f, " {}", self.set.thread_name(*t))?;
                }
                Ok(())
            }
            Outcome::Panic(t) => write!(f, "panic: {}", self.set.thread_name(*t)),
        }
    }
}

impl fmt::Display for OutcomeSet {
    /// One outcome per line, in the set's order, as `hbsim run` prints them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for outcome in self.entries.keys() {
            writeln!(f, "{}", self.display(outcome))?;
        }
        Ok(())
    }
}

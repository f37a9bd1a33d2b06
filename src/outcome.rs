//! Outcomes: what an execution ends in, and the set of them a test can reach.
//!
//! An execution either **terminates** (every thread finished, every buffer
//! drained), and its outcome is the final value of every observable, or it does
//! not, in one of three ways, each an outcome of its own with its threads:
//!
//! - it **blocks**: it reaches a state with no step left, every unfinished
//!   thread blocked forever. With the main goroutine (thread 0) among them this
//!   is a *deadlock* (Go's "all goroutines are asleep"), else a *leak* (main
//!   finished, goroutines blocked forever);
//! - it **never terminates**: it can only run forever without finishing (a
//!   spin loop whose flag never changes);
//! - it **panics**, which stops the program.
//!
//! Every outcome comes with a witness.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fmt;

use serde::Serialize;

use crate::ir::{Ending, Observable, Program, Prop, ThreadId, Val};
use crate::trace::Trace;

/// How an execution ends.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Outcome {
    /// Every thread finished: one value per observable of the [`OutcomeSet`].
    Final(Vec<Val>),
    /// No step is left and these threads have not finished: each is blocked
    /// forever. A deadlock when the main goroutine (thread 0) is among them,
    /// else a leak ([`Outcome::is_deadlock`]).
    Blocked(Vec<ThreadId>),
    /// These threads can never finish, whatever happens next, and some thread
    /// runs forever (a spin loop); others may be blocked forever.
    NeverTerminates(Vec<ThreadId>),
    /// This thread panicked (unlocked an unlocked mutex, took a wait group's
    /// counter below zero), which stops the program.
    Panic(ThreadId),
}

impl Outcome {
    /// Whether this is a [`Outcome::Blocked`] outcome with the main goroutine
    /// (thread 0) blocked: a deadlock, as opposed to a leak.
    pub fn is_deadlock(&self) -> bool {
        matches!(self, Outcome::Blocked(threads) if threads.contains(&ThreadId(0)))
    }

    /// The outcome's kind as JSON names it: `final`, `deadlock`, `leak`,
    /// `never_terminates` or `panic`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Outcome::Final(_) => "final",
            Outcome::Blocked(_) if self.is_deadlock() => "deadlock",
            Outcome::Blocked(_) => "leak",
            Outcome::NeverTerminates(_) => "never_terminates",
            Outcome::Panic(_) => "panic",
        }
    }
}

/// Writes an outcome that is not a final state as expected outcome lines spell
/// it: `deadlock: main worker`, `leak: worker`, `never terminates: P1` or
/// `panic: P0`, with each thread's name from `name`.
pub(crate) fn write_ending(
    f: &mut impl fmt::Write,
    outcome: &Outcome,
    name: &dyn Fn(ThreadId) -> String,
) -> fmt::Result {
    let (word, threads) = match outcome {
        Outcome::Final(_) => unreachable!("invariant: only called on non-final outcomes"),
        Outcome::Blocked(threads) if outcome.is_deadlock() => ("deadlock:", threads.as_slice()),
        Outcome::Blocked(threads) => ("leak:", threads.as_slice()),
        Outcome::NeverTerminates(threads) => ("never terminates:", threads.as_slice()),
        Outcome::Panic(t) => ("panic:", std::slice::from_ref(t)),
    };
    f.write_str(word)?;
    for &t in threads {
        write!(f, " {}", name(t))?;
    }
    Ok(())
}

/// A number of executions, which loops can make unbounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Count {
    /// Exactly this many; counts saturate, so [`Count::SATURATED`] stands
    /// for at least that many.
    Finite(u128),
    /// Unboundedly many: some path to the outcome passes through a cycle.
    Infinite,
}

impl Count {
    /// Zero executions.
    pub const ZERO: Count = Count::Finite(0);

    /// The largest count, 2^128 - 1: at least that many (path counts of long
    /// programs exceed it, and sums saturate there).
    pub const SATURATED: Count = Count::Finite(u128::MAX);

    /// One of `n` equal shares of this count (`n > 0`); a saturated or
    /// infinite count stays what it is, its shares unknown.
    pub(crate) fn share(self, n: u128) -> Count {
        match self {
            Count::Finite(total) if self != Count::SATURATED => Count::Finite(total / n),
            other => other,
        }
    }
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
            Count::Finite(u128::MAX) => f.write_str("at least 2^128 - 1"),
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
    /// one when the outcome is race-free. `None` when the exploration was asked
    /// to keep no witnesses ([`crate::explore::Explorer::witnesses`]).
    pub witness: Option<Trace>,
    /// For a [`Outcome::Blocked`] outcome: each blocked thread and the
    /// instruction the witness leaves it blocked at. Empty for other outcomes.
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

    /// Forgets how many executions reach each outcome: an exploration cut
    /// short has counted only some of them.
    pub(crate) fn forget_counts(&mut self) {
        for info in self.entries.values_mut() {
            info.executions = None;
            info.racy_executions = None;
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
        witness: impl FnOnce() -> Option<Trace>,
    ) {
        let racy_executions = executions.map(|c| if racy { c } else { Count::ZERO });
        // One search of the tree (an outcome set can hold tens of thousands).
        match self.entries.entry(outcome) {
            Entry::Occupied(mut entry) => {
                let info = entry.get_mut();
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
            Entry::Vacant(entry) => {
                entry.insert(OutcomeInfo {
                    executions,
                    racy_executions,
                    race_free: !racy,
                    witness: witness(),
                    blocked: Vec::new(),
                });
            }
        }
    }

    /// Every outcome's witness, to replace by a trace of another machine
    /// performing the same execution ([`crate::graph`] under `go`), or to drop.
    pub(crate) fn witnesses_mut(&mut self) -> impl Iterator<Item = &mut Option<Trace>> {
        self.entries.values_mut().map(|info| &mut info.witness)
    }

    /// The information recorded for an outcome.
    pub fn get(&self, outcome: &Outcome) -> Option<&OutcomeInfo> {
        self.entries.get(outcome)
    }

    /// The observables each final outcome records, in order.
    pub fn observables(&self) -> &[Observable] {
        &self.observables
    }

    /// Every outcome with its information: final outcomes, then blocked ones
    /// (deadlocks and leaks), never-terminating ones and panics, each kind in
    /// ascending order.
    pub fn iter(&self) -> impl Iterator<Item = (&Outcome, &OutcomeInfo)> {
        self.entries.iter()
    }

    /// Final outcomes only, with their values.
    pub fn finals(&self) -> impl Iterator<Item = (&[Val], &OutcomeInfo)> {
        self.entries.iter().filter_map(|(o, info)| match o {
            Outcome::Final(values) => Some((values.as_slice(), info)),
            Outcome::Blocked(_) | Outcome::NeverTerminates(_) | Outcome::Panic(_) => None,
        })
    }

    /// Number of distinct outcomes of every kind.
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

    /// Whether `outcome` satisfies `prop`. A value atom holds only on a final
    /// outcome with that value (an outcome that is not a final state has no
    /// final values); an [`Ending`] atom only on an outcome of its kind.
    pub fn satisfies(&self, outcome: &Outcome, prop: &Prop) -> bool {
        match prop {
            Prop::True => true,
            Prop::False => false,
            Prop::Eq(o, v) => match outcome {
                Outcome::Final(values) => self.value_of(values, *o) == *v,
                _ => false,
            },
            Prop::Ends(ending) => match (ending, outcome) {
                (Ending::Deadlock, Outcome::Blocked(_)) => outcome.is_deadlock(),
                (Ending::Leak, Outcome::Blocked(_)) => !outcome.is_deadlock(),
                (Ending::Blocked(t), Outcome::Blocked(threads)) => threads.contains(t),
                (Ending::NeverTerminates, Outcome::NeverTerminates(_))
                | (Ending::Panic, Outcome::Panic(_)) => true,
                (Ending::PanicOf(t), Outcome::Panic(u)) => t == u,
                _ => false,
            },
            Prop::Not(p) => !self.satisfies(outcome, p),
            Prop::And(a, b) => self.satisfies(outcome, a) && self.satisfies(outcome, b),
            Prop::Or(a, b) => self.satisfies(outcome, a) || self.satisfies(outcome, b),
        }
    }

    /// Renders an outcome in herd7's style: `0:r0=1; 1:r0=0; x=1;`, or
    /// `deadlock: main`, `leak: worker`, `never terminates: P1`, `panic: P0`
    /// for one that is not a final state.
    pub fn display<'a>(&'a self, outcome: &'a Outcome) -> impl fmt::Display + 'a {
        DisplayOutcome { set: self, outcome }
    }

    /// Appends `outcome` to `line` as [`OutcomeSet::display`] shows it. A
    /// final state is put together piece by piece, integers by `itoa`:
    /// `hbsim run` prints one line per outcome, and going through the
    /// formatter for every name and value was a sixth of a run with tens of
    /// thousands of outcomes.
    pub fn push_outcome(&self, outcome: &Outcome, line: &mut String) {
        let Outcome::Final(values) = outcome else {
            write_ending(line, outcome, &|t| self.thread_name(t).to_string())
                .expect("writing to a String");
            return;
        };
        if values.is_empty() {
            // A program without registers or variables (only Go objects):
            // its one final state is still a line of its own.
            line.push_str("(no observables)");
            return;
        }
        let mut digits = itoa::Buffer::new();
        for (i, (name, &v)) in self.names.iter().zip(values).enumerate() {
            if i > 0 {
                line.push(' ');
            }
            line.push_str(name);
            line.push('=');
            line.push_str(digits.format(v));
            line.push(';');
        }
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

    /// Each observable's name, in the order of [`OutcomeSet::observables`].
    pub fn names(&self) -> &[String] {
        &self.names
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
            Outcome::Final(_) => {
                let mut line = String::new();
                self.set.push_outcome(self.outcome, &mut line);
                f.write_str(&line)
            }
            other => write_ending(f, other, &|t| self.set.thread_name(t).to_string()),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A program without registers or variables still shows its final state
    /// (it printed as an empty line; found by fuzzing).
    #[test]
    fn a_final_state_without_observables_is_shown() {
        let program = crate::syntax::parse_str(
            r#"Litmus(name: "t", threads: [[Add("wg", 1)]], condition: "exists true")"#,
            "t.ron",
        )
        .unwrap()
        .program;
        let set = OutcomeSet::new(&program);
        let mut line = String::new();
        set.push_outcome(&Outcome::Final(Vec::new()), &mut line);
        assert_eq!(line, "(no observables)");
        assert_eq!(
            set.display(&Outcome::Final(Vec::new())).to_string(),
            "(no observables)"
        );
    }
}

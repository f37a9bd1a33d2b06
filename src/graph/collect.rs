//! What the search reports for each consistent execution, gathered so that
//! the result does not depend on the order executions are found in, nor on
//! how many threads found them: per outcome, how many race-free and racy
//! executions reach it and the witness of the one with the smallest key (a
//! race-free one when there is one); per racing pair of instructions, the
//! execution with the smallest key.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::explore::{RaceReport, Site};
use crate::ir::{Loc, Observable, Program, ThreadId, Val};
use crate::outcome::{Count, Outcome, OutcomeSet};

use super::axioms::{Axioms, Consistency};
use super::execution::{Event, Execution, OBSERVER, Pos};
use super::witness::{self, Witness};

/// A racing pair of instructions: the variable, then the two sites in order.
type RaceKey = (u16, Site, Site);

/// An execution chosen as a witness (of an outcome, of races): its key, its
/// machine run and its final values, shared by everything it witnesses.
#[derive(Debug)]
struct Chosen {
    key: Vec<u64>,
    witness: Witness,
    values: Vec<Val>,
}

/// The executions reaching one final outcome.
#[derive(Debug, Default)]
struct Class {
    race_free: u128,
    racy: u128,
    /// Whether the chosen witness races, and the chosen execution.
    best: Option<(bool, Arc<Chosen>)>,
}

/// A race's chosen execution, and the positions and instructions of its two
/// racing events.
type RaceWitness = (Arc<Chosen>, [(Pos, Site); 2]);

/// Outcomes and races of the executions recorded so far.
#[derive(Debug)]
pub(crate) struct Collector<'p> {
    program: &'p Program,
    axioms: Axioms,
    observables: Vec<Observable>,
    outcomes: FxHashMap<Vec<Val>, Class>,
    races: FxHashMap<RaceKey, RaceWitness>,
}

impl<'p> Collector<'p> {
    /// Nothing recorded yet.
    pub fn new(program: &'p Program, axioms: Axioms) -> Collector<'p> {
        Collector {
            program,
            axioms,
            observables: program.observables(),
            outcomes: FxHashMap::default(),
            races: FxHashMap::default(),
        }
    }

    /// Records a consistent complete execution, `key` its
    /// [`Execution::execution_key`], `solved` its decided coherence. Its
    /// witness is built only if it is chosen for something, and once.
    pub fn record(&mut self, execution: &Execution, key: &[u64], solved: &Consistency) {
        let values = final_values(self.program, &self.observables, execution);
        let pairs = witness::races(execution);
        let racy = !pairs.is_empty();
        let mut chosen: Option<Arc<Chosen>> = None;
        let mut choose = || {
            chosen
                .get_or_insert_with(|| {
                    Arc::new(Chosen {
                        key: key.to_vec(),
                        witness: witness::witness(self.axioms, execution, solved),
                        values: values.clone(),
                    })
                })
                .clone()
        };
        let class = self.outcomes.entry(values.clone()).or_default();
        if racy {
            class.racy += 1;
        } else {
            class.race_free += 1;
        }
        if class
            .best
            .as_ref()
            .is_none_or(|(r, c)| (racy, key) < (*r, c.key.as_slice()))
        {
            class.best = Some((racy, choose()));
        }
        for (p, q) in pairs {
            let (a, b) = (&execution.events[p as usize], &execution.events[q as usize]);
            let race = (a.loc, site(a).min(site(b)), site(a).max(site(b)));
            if self
                .races
                .get(&race)
                .is_some_and(|(c, _)| c.key.as_slice() <= key)
            {
                continue;
            }
            self.races
                .insert(race, (choose(), [(p, site(a)), (q, site(b))]));
        }
    }

    /// Adds what `other` recorded.
    pub fn merge(&mut self, other: Collector<'p>) {
        for (values, theirs) in other.outcomes {
            let ours = self.outcomes.entry(values).or_default();
            ours.race_free += theirs.race_free;
            ours.racy += theirs.racy;
            let better = match (&ours.best, &theirs.best) {
                (None, _) => true,
                (Some((r, c)), Some((tr, tc))) => (tr, &tc.key) < (r, &c.key),
                (Some(_), None) => false,
            };
            if better {
                ours.best = theirs.best;
            }
        }
        for (race, theirs) in other.races {
            if self
                .races
                .get(&race)
                .is_none_or(|(c, _)| theirs.0.key < c.key)
            {
                self.races.insert(race, theirs);
            }
        }
    }

    /// The outcome set, and the races in report order.
    pub fn finish(self) -> (OutcomeSet, Vec<RaceReport>) {
        let mut set = OutcomeSet::new(self.program);
        for (values, class) in self.outcomes {
            let (_, chosen) = class
                .best
                .expect("invariant: a recorded outcome has a witness");
            let outcome = Outcome::Final(values);
            // Race-free executions first, so a race-free witness is kept.
            for (count, racy) in [(class.race_free, false), (class.racy, true)] {
                if count > 0 {
                    set.add(outcome.clone(), Some(Count::Finite(count)), racy, || {
                        chosen.witness.trace.clone()
                    });
                }
            }
        }
        let mut races: Vec<RaceReport> = self
            .races
            .into_iter()
            .map(|((loc, _, _), (chosen, [(p, a), (q, b)]))| {
                let run = &chosen.witness;
                let (first, second) = if run.step_of[p as usize] < run.step_of[q as usize] {
                    (a, b)
                } else {
                    (b, a)
                };
                RaceReport {
                    loc: Loc(loc),
                    first,
                    second,
                    witness: run.trace.clone(),
                    outcome: Some(Outcome::Final(chosen.values.clone())),
                }
            })
            .collect();
        races.sort_by_key(|r| (r.loc, r.first, r.second));
        (set, races)
    }
}

/// An event's instruction.
fn site(e: &Event) -> Site {
    Site {
        thread: ThreadId(e.thread),
        pc: e.pc as usize,
    }
}

/// The value of every observable at the end of a complete execution: the
/// threads' registers, and each variable's final value: what the observer
/// read, or else its last write (all by one thread), or else its initial value.
fn final_values(program: &Program, observables: &[Observable], execution: &Execution) -> Vec<Val> {
    observables
        .iter()
        .map(|&o| match o {
            Observable::Reg(t, r) => execution.threads[t.index()].regs[r.index()],
            Observable::Loc(l) => execution
                .events
                .iter()
                .find(|e| e.thread == OBSERVER && e.loc == l.0)
                .map(|e| e.read)
                .or_else(|| {
                    execution
                        .events
                        .iter()
                        .rev()
                        .find(|e| e.loc == l.0 && e.writes())
                        .and_then(|e| e.written)
                })
                .unwrap_or(program.locs[l.index()].init),
        })
        .collect()
}

//! What the search reports for each consistent execution, gathered so that
//! the result does not depend on the order executions are found in, nor on
//! how many threads found them: per outcome, how many race-free and racy
//! executions reach it and the witness of the one with the smallest key
//! ([`Execution::execution_key`]; a race-free one when there is one); per
//! racing pair of instructions, the execution with the smallest key.
//!
//! An execution whose threads all finish ends in its final values; one with
//! `Lock`s that found their mutex locked ends blocked there (a deadlock, or a
//! leak when the main thread finished). One with a panicking `Unlock` ends
//! at a panic: at each panic that no other one must precede, the program
//! stops. Its outcome's run is the shortest one reaching the panic (what
//! must come before it), so the outcome is race-free when some run reaching
//! it is; its races are those of the longest (everything that need not come
//! after a panic), so every race a run before the panic can have is named.

use std::cell::OnceCell;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use crate::explore::{RaceReport, Site};
use crate::ir::{Instr, Loc, Observable, Program, ThreadId, Val};
use crate::outcome::{Count, Outcome, OutcomeSet};

use super::axioms::{Axioms, Consistency};
use super::execution::{Event, Execution, OBSERVER, Pos};
use super::witness::{self, Witness};

/// A racing pair of instructions: the variable, then the two sites in order.
type RaceKey = (u16, Site, Site);

/// A thread event by thread and index, the same in every execution.
type EventId = (u16, u32);

/// An execution chosen as a witness (of an outcome, of races): its key, its
/// machine run (unless outcomes keep no witnesses and it is only an
/// outcome's) and how it ends, shared by everything it witnesses.
#[derive(Debug)]
struct Chosen {
    key: Vec<u64>,
    witness: Option<Witness>,
    outcome: Outcome,
    /// For a blocked outcome, each blocked thread and its blocked `Lock`.
    blocked: Vec<(ThreadId, usize)>,
}

/// The executions reaching one outcome.
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
    /// Whether outcomes keep witnesses (races always do).
    witnesses: bool,
    /// For a program every complete execution of which runs the same
    /// accesses, none synchronising ([`same_races_everywhere`]): the races of
    /// the first execution recorded, by thread and index of their events,
    /// which are every execution's.
    same_races: Option<OnceCell<Vec<[EventId; 2]>>>,
    outcomes: FxHashMap<Outcome, Class>,
    races: FxHashMap<RaceKey, RaceWitness>,
}

impl<'p> Collector<'p> {
    /// Nothing recorded yet; outcomes will keep witnesses if `witnesses`.
    pub fn new(program: &'p Program, axioms: Axioms, witnesses: bool) -> Collector<'p> {
        Collector {
            program,
            axioms,
            witnesses,
            same_races: same_races_everywhere(program).then(OnceCell::new),
            observables: program.observables(),
            outcomes: FxHashMap::default(),
            races: FxHashMap::default(),
        }
    }

    /// Records a consistent complete execution, `key` its
    /// [`Execution::execution_key`], `solved` its decided coherence. A
    /// witness is built only if it is chosen for something, and once.
    pub fn record(&mut self, execution: &Execution, key: &[u64], solved: &Consistency) {
        let (axioms, traced) = (self.axioms, self.witnesses);
        let events = &execution.events;
        let chosen = |run: Option<&[bool]>, last: Option<Pos>, outcome: &Outcome| {
            let witness = run.map(|run| witness::witness(axioms, execution, solved, run, last));
            chosen_run(execution, key, witness, outcome)
        };
        let mut panics: SmallVec<[usize; 2]> =
            (0..events.len()).filter(|&p| events[p].panics()).collect();
        if panics.is_empty() {
            let (racy, offered) = self.races_to_offer(execution, key);
            let outcome = self.end(execution);
            let best = OnceCell::new();
            let mut choose = || {
                best.get_or_init(|| {
                    let ran: Vec<bool> = events.iter().map(|e| e.runs()).collect();
                    chosen(Some(&ran), None, &outcome)
                })
                .clone()
            };
            let bare = OnceCell::new();
            let mut choose_bare = || bare.get_or_init(|| chosen(None, None, &outcome)).clone();
            Self::count(
                &mut self.outcomes,
                &outcome,
                racy,
                key,
                if traced {
                    &mut choose
                } else {
                    &mut choose_bare
                },
            );
            let mut smaller = SmallerKey::new(key);
            for &pair in &offered {
                Self::offer_race(&mut self.races, execution, pair, &mut smaller, &mut choose);
            }
            return;
        }
        let pairs = witness::races(execution, |p| events[p].runs());
        // Each panic can come first: the run to it needs only its po ∪ rf
        // prefix, which holds no other panic. A race is reached before it
        // when the racing events and their prefixes can all come before it:
        // none of them is ordered after it.
        panics.sort_unstable_by_key(|&p| (events[p].thread, events[p].index));
        let order = solved.schedule();
        for p in panics {
            let outcome = Outcome::Panic(ThreadId(events[p].thread));
            let last = Some(p as Pos);
            let prefix = execution.prefix(p as Pos);
            let racy = !witness::races(execution, |e| prefix[e]).is_empty();
            let mut run = prefix.clone();
            run[p] = false;
            let best = OnceCell::new();
            let mut choose = || {
                best.get_or_init(|| chosen(traced.then_some(&run), last, &outcome))
                    .clone()
            };
            Self::count(&mut self.outcomes, &outcome, racy, key, &mut choose);
            for &(a, b) in &pairs {
                let mut run = prefix.clone();
                for q in [a, b] {
                    for (inside, x) in run.iter_mut().zip(execution.prefix(q)) {
                        *inside |= x;
                    }
                }
                if (0..events.len()).any(|e| run[e] && order.get(p, e)) {
                    continue;
                }
                run[p] = false;
                let mut choose = || chosen(Some(&run), last, &outcome);
                let mut smaller = SmallerKey::new(key);
                Self::offer_race(
                    &mut self.races,
                    execution,
                    (a, b),
                    &mut smaller,
                    &mut choose,
                );
            }
        }
    }

    /// Whether a complete execution without a panic races, and the racing
    /// pairs of its events ([`witness::races`]) that may need it as their
    /// witness. Where every execution has the same races, they are looked up
    /// by thread and index, and only an execution with a smaller key than
    /// their witness (the same for all) offers them.
    fn races_to_offer(&self, execution: &Execution, key: &[u64]) -> (bool, witness::Races) {
        let events = &execution.events;
        let races = || witness::races(execution, |p| events[p].runs());
        let Some(same) = &self.same_races else {
            let pairs = races();
            return (!pairs.is_empty(), pairs);
        };
        let id = |p: Pos| (events[p as usize].thread, events[p as usize].index);
        let pairs = same.get_or_init(|| races().iter().map(|&(p, q)| [id(p), id(q)]).collect());
        let witnessed = (self.races.values().next()).is_some_and(|(c, _)| c.key.as_slice() < key);
        if pairs.is_empty() || witnessed {
            return (!pairs.is_empty(), witness::Races::new());
        }
        let order = execution.program_order();
        let at = |(thread, index)| order.position(thread, index);
        let found: witness::Races = pairs.iter().map(|&[a, b]| (at(a), at(b))).collect();
        debug_assert!(
            {
                let sorted = |mut r: witness::Races| {
                    r.iter_mut()
                        .for_each(|(p, q)| (*p, *q) = ((*p).min(*q), (*p).max(*q)));
                    r.sort_unstable();
                    r
                };
                sorted(found.clone()) == sorted(races())
            },
            "invariant: every execution has the races of the first"
        );
        (true, found)
    }

    /// How a complete execution without a panic ends: blocked, when `Lock`s
    /// found their mutex locked, else in its final values.
    fn end(&self, execution: &Execution) -> Outcome {
        let blocked = blocked_at(execution);
        if blocked.is_empty() {
            return Outcome::Final(final_values(self.program, &self.observables, execution));
        }
        Outcome::Blocked(blocked.into_iter().map(|(t, _)| t).collect())
    }

    /// Counts one execution reaching `outcome`, keeping its witness if it is
    /// the best so far (race-free first, then by key).
    fn count(
        outcomes: &mut FxHashMap<Outcome, Class>,
        outcome: &Outcome,
        racy: bool,
        key: &[u64],
        choose: &mut dyn FnMut() -> Arc<Chosen>,
    ) {
        let class = outcomes.entry(outcome.clone()).or_default();
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
    }

    /// Keeps a run of the execution with `key` as the witness of the race
    /// between events `p` and `q` if it is the first one or has a smaller key.
    fn offer_race(
        races: &mut FxHashMap<RaceKey, RaceWitness>,
        execution: &Execution,
        (p, q): (Pos, Pos),
        key: &mut SmallerKey<'_>,
        choose: &mut dyn FnMut() -> Arc<Chosen>,
    ) {
        let (a, b) = (&execution.events[p as usize], &execution.events[q as usize]);
        let race = (a.loc, site(a).min(site(b)), site(a).max(site(b)));
        if races.get(&race).is_some_and(|(c, _)| !key.than(c)) {
            return;
        }
        races.insert(race, (choose(), [(p, site(a)), (q, site(b))]));
    }

    /// Adds what `other` recorded.
    pub fn merge(&mut self, other: Collector<'p>) {
        for (outcome, theirs) in other.outcomes {
            let ours = self.outcomes.entry(outcome).or_default();
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

    /// Whether some execution recorded so far races.
    pub fn has_races(&self) -> bool {
        !self.races.is_empty()
    }

    /// The outcome set, and the races in report order.
    pub fn finish(self) -> (OutcomeSet, Vec<RaceReport>) {
        let mut set = OutcomeSet::new(self.program);
        for (outcome, class) in self.outcomes {
            let (_, chosen) = class
                .best
                .expect("invariant: a recorded outcome has a witness");
            // Race-free executions first, so a race-free witness is kept.
            for (count, racy) in [(class.race_free, false), (class.racy, true)] {
                if count > 0 {
                    set.add(outcome.clone(), Some(Count::Finite(count)), racy, || {
                        chosen.witness.as_ref().map(|w| w.trace.clone())
                    });
                }
            }
            if !chosen.blocked.is_empty() {
                set.set_blocked(&outcome, chosen.blocked.clone());
            }
        }
        let mut races: Vec<RaceReport> = self
            .races
            .into_iter()
            .map(|((loc, _, _), (chosen, [(p, a), (q, b)]))| {
                let run = (chosen.witness.as_ref())
                    .expect("invariant: a race's chosen execution has its run");
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
                    outcome: Some(chosen.outcome.clone()),
                }
            })
            .collect();
        races.sort_by_key(|r| (r.loc, r.first, r.second));
        (set, races)
    }
}

/// Whether an execution's key is smaller than those of chosen executions,
/// remembering the last one compared: the races of an execution mostly
/// share their current witness, whose key is then compared once. (The
/// remembered execution is held, so no other can take its address.)
struct SmallerKey<'k> {
    key: &'k [u64],
    last: Option<(Arc<Chosen>, bool)>,
}

impl<'k> SmallerKey<'k> {
    fn new(key: &'k [u64]) -> SmallerKey<'k> {
        SmallerKey { key, last: None }
    }

    /// Whether the key is smaller than `chosen`'s.
    fn than(&mut self, chosen: &Arc<Chosen>) -> bool {
        match &self.last {
            Some((last, smaller)) if Arc::ptr_eq(last, chosen) => *smaller,
            _ => {
                let smaller = self.key < chosen.key.as_slice();
                self.last = Some((Arc::clone(chosen), smaller));
                smaller
            }
        }
    }
}

/// The execution with `key`, chosen as a witness of `outcome`, with its
/// machine run if built.
fn chosen_run(
    execution: &Execution,
    key: &[u64],
    witness: Option<Witness>,
    outcome: &Outcome,
) -> Arc<Chosen> {
    Arc::new(Chosen {
        key: key.to_vec(),
        witness,
        outcome: outcome.clone(),
        blocked: match outcome {
            Outcome::Blocked(_) => blocked_at(execution),
            _ => Vec::new(),
        },
    })
}

/// Whether every complete execution of `program` runs the same accesses and
/// none synchronises, so all have the same races: no branch or loop, and only
/// plain loads and stores, fences and register instructions.
fn same_races_everywhere(program: &Program) -> bool {
    (program.threads.iter().flat_map(|t| &t.code))
        .all(|instr| instr.is_plain_access() || matches!(instr, Instr::Fence | Instr::Let { .. }))
}

/// Each thread blocked at a `Lock` in `execution`, with the `Lock`'s
/// instruction, by thread.
fn blocked_at(execution: &Execution) -> Vec<(ThreadId, usize)> {
    let mut blocked: Vec<(ThreadId, usize)> = execution
        .events
        .iter()
        .filter(|e| e.blocked())
        .map(|e| (ThreadId(e.thread), e.pc as usize))
        .collect();
    blocked.sort_unstable();
    blocked
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
    // One pass in position order: the observer's reads come after every
    // thread event, so each variable ends with what the observer read, or
    // else with its last write.
    let mut last: SmallVec<[Option<Val>; 16]> = SmallVec::from_elem(None, program.locs.len());
    for e in &execution.events {
        let value = if e.thread == OBSERVER {
            Some(e.read)
        } else {
            e.written
        };
        if value.is_some() {
            last[usize::from(e.loc)] = value;
        }
    }
    observables
        .iter()
        .map(|&o| match o {
            Observable::Reg(t, r) => execution.threads[t.index()].regs[r.index()],
            Observable::Loc(l) => last[l.index()].unwrap_or(program.locs[l.index()].init),
        })
        .collect()
}

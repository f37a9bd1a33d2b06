//! From a consistent execution graph to what reports show: a machine trace
//! that performs it (the witness every outcome and race carries), and its
//! data races.
//!
//! The trace follows a linear extension of the model's global order
//! ([`Consistency::schedule`]): each load, fence, read-modify-write and atomic
//! access runs at its place in it, each plain store reaches memory (commits)
//! at its place, and a thread runs the plain stores before a load as late as
//! that load needs them, so they wait in its buffer. This is the usual proof
//! that axiomatic and operational x86-TSO coincide (Owens, Sarkar, Sewell,
//! TPHOLs 2009); tests replay every witness on the machine.

use smallvec::SmallVec;

use crate::ir::{Loc, ThreadId};
use crate::trace::{Step, Trace};

use super::axioms::{Axioms, Consistency};
use super::bits::{BitMatrices, BitMatrix};
use super::execution::{Event, Execution, Kind, OBSERVER, Pos, ProgramOrder};

/// A witness: the trace, and for each event the index of the step that
/// ran it (`usize::MAX` for the observer's reads and events it does not run).
#[derive(Clone, Debug)]
pub(crate) struct Witness {
    /// The machine steps.
    pub trace: Trace,
    /// The step running each event, by position.
    pub step_of: Vec<usize>,
}

/// The machine trace performing the thread events of `execution` that
/// `chosen` marks, in an order `check` allows, then `last` (an event after
/// which the program stops: a panic). The chosen events must be closed
/// under program order and reads-from, and `check` must order none of them
/// after `last`: restricted to them, the order is still one the machine can
/// follow (a write between a read and the write it reads would be so in the
/// whole execution too).
pub(crate) fn witness(
    axioms: Axioms,
    execution: &Execution,
    check: &Consistency,
    chosen: &[bool],
    last: Option<Pos>,
) -> Witness {
    let events = &execution.events;
    let threads = execution.threads.len();
    let ProgramOrder { start, po } = execution.program_order();
    let mut order = linear_extension(check.schedule(), &po, chosen);
    order.extend(last.map(|p| p as usize));
    let mut ran = vec![0usize; threads];
    let mut steps = Vec::with_capacity(2 * po.len());
    let mut step_of = vec![usize::MAX; events.len()];
    for p in order {
        let e = &events[p];
        let t = usize::from(e.thread);
        while ran[t] <= e.index as usize {
            let q = po[start[t] + ran[t]] as usize;
            step_of[q] = steps.len();
            steps.push(step(&events[q]));
            ran[t] += 1;
        }
        if e.kind == Kind::Store && !e.atomic && axioms != Axioms::Sc {
            let buffer = (axioms == Axioms::Pso).then_some(Loc(e.loc));
            steps.push(Step::Commit(ThreadId(e.thread), buffer));
        }
    }
    Witness {
        trace: Trace { steps },
        step_of,
    }
}

/// The machine step running event `e`: its thread's next instruction, or,
/// for a `TryLock`, the way it goes (success 0, failure 1).
fn step(e: &Event) -> Step {
    let thread = ThreadId(e.thread);
    let choice = match e.kind {
        Kind::TryLock => 0,
        Kind::TryLockFailed => 1,
        _ => return Step::Run(thread),
    };
    Step::Exec {
        thread,
        pc: e.pc,
        choice,
    }
}

/// The chosen thread events in an order extending `order` (transitively
/// closed), by program position (thread, then index) among those free to
/// go, so the witness does not depend on the order the events were added in
/// (Kahn's algorithm). `po` lists the thread events by program position;
/// `chosen` marks events by position.
fn linear_extension(order: BitMatrix<'_>, po: &[Pos], chosen: &[bool]) -> Vec<usize> {
    let n = chosen.len();
    // The chosen events by program position, and each one's rank there: the
    // events free to go are a bit set of ranks, the first bit the next.
    let by_position: Vec<usize> = po
        .iter()
        .map(|&p| p as usize)
        .filter(|&p| chosen[p])
        .collect();
    let mut rank = vec![usize::MAX; n];
    for (r, &p) in by_position.iter().enumerate() {
        rank[p] = r;
    }
    let included = |p: usize| rank[p] != usize::MAX;
    // Unplaced predecessors of each chosen event.
    let mut waiting = vec![0u32; n];
    for &q in &by_position {
        for s in order.ones(q) {
            waiting[s] += 1;
        }
    }
    let mut free: SmallVec<[u64; 2]> = SmallVec::from_elem(0, by_position.len().div_ceil(64));
    let mark = |free: &mut SmallVec<[u64; 2]>, r: usize| free[r / 64] |= 1 << (r % 64);
    for (r, &p) in by_position.iter().enumerate() {
        if waiting[p] == 0 {
            mark(&mut free, r);
        }
    }
    let mut out = Vec::with_capacity(by_position.len());
    while let Some(k) = free.iter().position(|&word| word != 0) {
        let r = k * 64 + free[k].trailing_zeros() as usize;
        free[k] &= free[k] - 1;
        let p = by_position[r];
        out.push(p);
        for s in order.ones(p) {
            if included(s) {
                waiting[s] -= 1;
                if waiting[s] == 0 {
                    mark(&mut free, rank[s]);
                }
            }
        }
    }
    debug_assert_eq!(
        out.len(),
        by_position.len(),
        "invariant: the order is acyclic and the chosen events closed under it"
    );
    out
}

/// Racing pairs of events, by position: few, kept inline.
pub(crate) type Races = SmallVec<[(Pos, Pos); 16]>;

/// Every pair of events that race: accesses of one variable by different
/// threads, at least one a write and at least one plain, that happens-before
/// (program order and atomic writes synchronised before the atomic reads
/// reading them; docs/happens-before.md) does not order.
pub(crate) fn races(execution: &Execution, ran: impl Fn(usize) -> bool) -> Races {
    let events = &execution.events;
    let before = happens_before(execution, &ran);
    let hb = |a: usize, b: usize| before.as_ref().is_some_and(|m| m.matrix(0).get(b, a));
    // The accesses, by position; only accesses of one variable can race
    // (comparing every pair of a few dozen costs less than sorting them).
    let accesses: SmallVec<[(u16, usize); 32]> = events
        .iter()
        .enumerate()
        .filter(|&(p, e)| e.thread != OBSERVER && ran(p) && e.accesses())
        .map(|(p, e)| (e.loc, p))
        .collect();
    let mut pairs = Races::new();
    for (i, &(loc, p)) in accesses.iter().enumerate() {
        let a = &events[p];
        for &(_, q) in accesses[i + 1..].iter().filter(|(l, _)| *l == loc) {
            let b = &events[q];
            if b.thread == a.thread
                || !(a.writes() || b.writes())
                || (a.atomic && b.atomic)
                || hb(p, q)
                || hb(q, p)
            {
                continue;
            }
            pairs.push((p as Pos, q as Pos));
        }
    }
    pairs
}

/// Row p: the events that happen before event p, among those `ran` marks;
/// `None` when no event synchronises (an atomic read of an atomic write, a
/// `Wait`), so happens-before is program order, which orders no two events
/// of different threads.
fn happens_before(execution: &Execution, ran: impl Fn(usize) -> bool) -> Option<BitMatrices> {
    let events = &execution.events;
    let synchronises = |(p, e): (usize, &Event)| {
        e.thread != OBSERVER
            && ran(p)
            && (e.kind == Kind::Wait
                || (e.acquires() && e.rf.is_some_and(|w| events[w as usize].atomic)))
    };
    if !events.iter().enumerate().any(synchronises) {
        return None;
    }
    // Each event comes after its program-order predecessor and the write it
    // reads (the invariant of `Execution`), so one pass in that order closes
    // the relation.
    let mut relation = BitMatrices::new(1, events.len());
    let mut before = relation.matrix_mut(0);
    let mut last: Vec<Option<usize>> = vec![None; execution.threads.len()];
    for (p, e) in events.iter().enumerate() {
        if e.thread == OBSERVER || !ran(p) {
            continue;
        }
        if let Some(q) = last[usize::from(e.thread)].replace(p) {
            before.inherit(p, q);
        }
        if let Some(w) = e.rf
            && e.acquires()
            && events[w as usize].atomic
        {
            before.inherit(p, w as usize);
        }
        // A `Wait` acquires the counter's merged clock: every decrement
        // up to the write it reads (the `Add`s form one chain).
        if e.kind == Kind::Wait {
            let mut source = e.rf;
            while let Some(w) = source.map(|w| w as usize)
                && events[w].kind == Kind::Add
            {
                if events[w].written < Some(events[w].read) {
                    before.inherit(p, w);
                }
                source = events[w].rf;
            }
        }
    }
    Some(relation)
}

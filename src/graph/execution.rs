//! Execution graphs as the engine builds them: events in the order they were
//! added, each read pointing at the write it reads from.
//!
//! Invariants of an [`Execution`]:
//! - `events` lists every event after its program-order predecessor and
//!   after the write it reads from (so every prefix of the list is closed
//!   under po ∪ rf);
//! - each thread's events are a program-order prefix of one run of its code,
//!   and `threads` holds its state after the last of them;
//! - observer reads (one per variable, reading its final value) come after
//!   every thread event and are only added once every thread has finished.

use smallvec::SmallVec;

use crate::ir::{Access, Instr, Loc, Program, SyncOp, Thread, Val};
use crate::model::store_buffer::rmw_result;
use crate::varint;

use super::thread::{Stop, ThreadState};

/// The thread number of the final observer's reads.
pub(crate) const OBSERVER: u16 = u16::MAX;

/// Position of an event in [`Execution::events`].
pub(crate) type Pos = u32;

/// What an event does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// A load.
    Load,
    /// A store.
    Store,
    /// An atomic read-modify-write (one event that reads and, unless a CAS
    /// fails, writes).
    Rmw,
    /// `m.Lock()`: an atomic read of the mutex word that, reading 0
    /// (unlocked), writes 1; reading 1 it writes nothing and leaves its thread
    /// blocked at it, until a revisit gives it an `Unlock`'s 0.
    Lock,
    /// `ok := m.TryLock()` succeeding: an atomic read of the mutex word's 0
    /// that writes 1 (and sets `ok` to 1). Reading a 1 it writes nothing and
    /// is *pending*: its thread waits there for a revisit by an `Unlock`,
    /// and a graph that still has it when complete is dropped, since the
    /// machine's `TryLock` then fails without reading ([`Kind::TryLockFailed`],
    /// explored beside it). It is the stepping stone that lets a `TryLock`
    /// succeed after an `Unlock` added later.
    TryLock,
    /// A failed `ok := m.TryLock()` (possible at any time): it accesses
    /// nothing and sets `ok` to 0; as the machine drains the store buffers
    /// for it, it orders like a fence.
    TryLockFailed,
    /// `m.Unlock()`: an atomic read of the mutex word that, reading 1, writes
    /// 0; reading 0 (unlocked) it writes nothing and panics, which stops its
    /// thread and, at that point, the program.
    Unlock,
    /// `wg.Add(delta)` (and `wg.Done()`): an atomic read-modify-write of the
    /// counter that acquires nothing; taking it below 0 writes nothing and
    /// panics.
    Add,
    /// `wg.Wait()`: an atomic read of the counter; reading 0 it returns,
    /// having acquired every decrement before, else its thread is blocked.
    Wait,
    /// `o.Do(body)` entering: an atomic read of the once word. Reading 0 it
    /// writes 1 and runs the body (a read-modify-write); reading 2 (the
    /// body has finished: its end, an atomic store of 2, happens before)
    /// it skips the body; reading 1 it is blocked while the body runs.
    OnceEnter,
    /// A goroutine's start: an atomic read of its start word, which a `Go`
    /// (an atomic store of 1) sets. Reading the initial 0 the goroutine has
    /// not started and waits there; it never exists if no `Go` for it runs
    /// (a complete graph in which a `Go` for it ran but it waits is dropped:
    /// the machine would start it).
    Start,
    /// A fence.
    Fence,
    /// The final observer reading a variable's last value.
    Observe,
}

/// One event of an execution.
#[derive(Clone, Debug)]
pub(crate) struct Event {
    /// The thread, or [`OBSERVER`].
    pub thread: u16,
    /// Its index in its thread's program order (for the observer, the variable).
    pub index: u32,
    /// The instruction executed (0 for the observer).
    pub pc: u32,
    /// What it does.
    pub kind: Kind,
    /// The variable accessed (0 for fences).
    pub loc: u16,
    /// Whether it is a synchronising access: an atomic load or store, or a
    /// read-modify-write. These synchronise in happens-before; the stores and
    /// read-modify-writes also drain the store buffers, so they are ordered
    /// with every access of their thread (an atomic load is ordered as a
    /// plain one: [`super::axioms`]).
    pub atomic: bool,
    /// The value read (reads and read-modify-writes).
    pub read: Val,
    /// The value written, if it writes.
    pub written: Option<Val>,
    /// The write read from; `None` for the initial value (and for events
    /// that do not read).
    pub rf: Option<Pos>,
    /// Whether its thread stops at it, and why: a `Lock` or `Wait` that
    /// blocks, an `Unlock` or `Add` that panics, a pending `TryLock`, the
    /// start of a goroutine not started.
    pub stop: Option<Stop>,
}

impl Event {
    /// Whether the event reads a variable.
    pub fn reads(&self) -> bool {
        matches!(
            self.kind,
            Kind::Load
                | Kind::Rmw
                | Kind::Lock
                | Kind::TryLock
                | Kind::Unlock
                | Kind::Add
                | Kind::Wait
                | Kind::OnceEnter
                | Kind::Start
                | Kind::Observe
        )
    }

    /// Whether the event is an atomic read-modify-write: when it writes, no
    /// write comes between the one it reads and itself in coherence.
    pub fn read_modify_write(&self) -> bool {
        matches!(
            self.kind,
            Kind::Rmw | Kind::Lock | Kind::TryLock | Kind::Unlock | Kind::Add | Kind::OnceEnter
        )
    }

    /// Whether the event needs the write it reads to stay coherence-latest
    /// up to itself: a read-modify-write that writes, a blocked `Lock` or
    /// `Wait` (blocked forever only while no write follows the one it reads)
    /// and a pending `TryLock`. Two such events cannot read one write when
    /// either of them writes.
    pub fn claims_its_source(&self) -> bool {
        self.read_modify_write() && self.writes() || self.blocked() || self.pending()
    }

    /// Whether a write read by this event happens before it: an atomic read
    /// acquires; `Unlock` only checks the word and releases (as the machine's
    /// plain atomic write of 0), and a wait group's `Add` acquires nothing.
    /// `Wait` acquires the decrements before it, not the write it reads (an
    /// `Add(wg, 0)` releases nothing; see [`crate::graph::witness::races`]).
    pub fn acquires(&self) -> bool {
        self.reads() && self.atomic && !matches!(self.kind, Kind::Unlock | Kind::Add | Kind::Wait)
    }

    /// Whether the event is a `Lock` that found the mutex locked or a `Wait`
    /// that found the counter above 0: its thread is blocked at it.
    pub fn blocked(&self) -> bool {
        self.stop == Some(Stop::Blocked)
    }

    /// Whether the event is a goroutine's start that found no `Go` yet.
    pub fn unstarted(&self) -> bool {
        self.stop == Some(Stop::Unstarted)
    }

    /// Whether the machine runs the event in a run to the graph's end: not
    /// a blocked `Lock` or a goroutine that never starts.
    pub fn runs(&self) -> bool {
        !self.blocked() && !self.unstarted()
    }

    /// Whether the event is a `TryLock` that read a 1, waiting for a revisit.
    pub fn pending(&self) -> bool {
        self.stop == Some(Stop::Pending)
    }

    /// Whether the event is an `Unlock` of an unlocked mutex or an `Add`
    /// taking a wait group's counter below 0: its thread panicked there.
    pub fn panics(&self) -> bool {
        self.stop == Some(Stop::Panicked)
    }

    /// Whether the event writes a variable.
    pub fn writes(&self) -> bool {
        self.written.is_some()
    }

    /// Whether the event accesses a variable (everything but a fence and a
    /// failed `TryLock`).
    pub fn accesses(&self) -> bool {
        !matches!(self.kind, Kind::Fence | Kind::TryLockFailed)
    }
}

/// A partial or complete execution graph.
#[derive(Debug)]
pub(crate) struct Execution {
    /// Events in the order they were added.
    pub events: Vec<Event>,
    /// Each thread's state after its last event.
    pub threads: Vec<ThreadState>,
}

impl Clone for Execution {
    /// A copy with room for the event the search adds to it next.
    fn clone(&self) -> Execution {
        let mut events = Vec::with_capacity(self.events.len() + 1);
        events.extend_from_slice(&self.events);
        Execution {
            events,
            threads: self.threads.clone(),
        }
    }
}

/// The thread events of an execution by program position: thread `t`'s event
/// of index `i` is at `po[start[t] + i]` (indices are dense from 0).
pub(crate) struct ProgramOrder {
    pub start: Vec<usize>,
    pub po: Vec<Pos>,
}

impl ProgramOrder {
    /// The position of thread `thread`'s event of index `index`.
    pub fn position(&self, thread: u16, index: u32) -> Pos {
        self.po[self.start[usize::from(thread)] + index as usize]
    }
}

impl Execution {
    /// Its thread events by program position.
    pub fn program_order(&self) -> ProgramOrder {
        let threads = self.threads.len();
        let mut start = vec![0usize; threads + 1];
        for e in self.events.iter().filter(|e| e.thread != OBSERVER) {
            start[usize::from(e.thread) + 1] += 1;
        }
        for t in 0..threads {
            start[t + 1] += start[t];
        }
        let mut po = vec![0 as Pos; start[threads]];
        for (p, e) in self.events.iter().enumerate() {
            if e.thread != OBSERVER {
                po[start[usize::from(e.thread)] + e.index as usize] = p as Pos;
            }
        }
        ProgramOrder { start, po }
    }

    /// The empty execution: every thread at its first shared access.
    pub fn new(program: &Program, unroll: u32) -> Execution {
        Execution {
            events: Vec::new(),
            threads: program
                .threads
                .iter()
                .map(|t| ThreadState::initial(t, unroll))
                .collect(),
        }
    }

    /// Positions of the events that write `loc`, in the order added.
    pub fn writes_to(&self, loc: u16) -> impl Iterator<Item = Pos> + '_ {
        self.events
            .iter()
            .enumerate()
            .filter(move |(_, e)| e.loc == loc && e.writes())
            .map(|(p, _)| p as Pos)
    }

    /// The value a read of `loc` gets from `source` (`None`: the initial value).
    pub fn value_of(&self, program: &Program, loc: u16, source: Option<Pos>) -> Val {
        match source {
            Some(w) => self.events[w as usize]
                .written
                .expect("invariant: reads read from writes"),
            None => program.locs[usize::from(loc)].init,
        }
    }

    /// Adds thread `t`'s next event, executing its shared access at `pc`: a
    /// load or read-modify-write reading from `source`, or a store or fence
    /// (which ignore `source`). The thread's state moves past it.
    pub fn push_access(
        &mut self,
        program: &Program,
        unroll: u32,
        t: usize,
        pc: usize,
        source: Option<Pos>,
    ) {
        let thread = &program.threads[t];
        let loc = read_loc(&thread.code[pc]).map(|l| l.0);
        let read = loc.map(|l| self.value_of(program, l, source));
        let mut event = perform(thread, &mut self.threads[t], pc, read, unroll);
        event.thread = t as u16;
        event.rf = source.filter(|_| event.reads());
        self.events.push(event);
    }

    /// Calls `f` on this execution with thread `t`'s next event, its shared
    /// access at `pc` reading from `source`, added as by
    /// [`Self::push_access`], and removes it again.
    pub fn with_access<R>(
        &mut self,
        program: &Program,
        unroll: u32,
        t: usize,
        pc: usize,
        source: Option<Pos>,
        f: impl FnOnce(&Execution) -> R,
    ) -> R {
        let state = self.threads[t].clone();
        self.push_access(program, unroll, t, pc, source);
        let result = f(self);
        self.events.pop();
        self.threads[t] = state;
        result
    }

    /// Adds thread `t`'s failed `TryLock` at `pc`.
    pub fn push_failed_try_lock(&mut self, program: &Program, unroll: u32, t: usize, pc: usize) {
        let mut event = perform(&program.threads[t], &mut self.threads[t], pc, None, unroll);
        event.thread = t as u16;
        self.events.push(event);
    }

    /// Adds the final observer's read of `loc` from `source`.
    pub fn push_observer(&mut self, program: &Program, loc: u16, source: Option<Pos>) {
        let read = self.value_of(program, loc, source);
        self.events.push(Event {
            thread: OBSERVER,
            index: u32::from(loc),
            pc: 0,
            kind: Kind::Observe,
            loc,
            atomic: false,
            read,
            written: None,
            rf: source,
            stop: None,
        });
    }

    /// Which events are in the po ∪ rf prefix of the event at `pos` (itself
    /// included), by position.
    pub fn prefix(&self, pos: Pos) -> Vec<bool> {
        let mut needed: Vec<Option<u32>> = vec![None; self.threads.len()];
        let mut inside = vec![false; self.events.len()];
        let top = &self.events[pos as usize];
        needed[usize::from(top.thread)] = Some(top.index);
        for p in (0..=pos as usize).rev() {
            let e = &self.events[p];
            if e.thread == OBSERVER || needed[usize::from(e.thread)].is_none_or(|n| e.index > n) {
                continue;
            }
            inside[p] = true;
            if let Some(w) = e.rf {
                let w = &self.events[w as usize];
                let need = &mut needed[usize::from(w.thread)];
                *need = Some(need.map_or(w.index, |n| n.max(w.index)));
            }
        }
        inside
    }

    /// The backward revisit of the read at `read` by the write at `write`
    /// (added after it), with `map` the [`Self::revisit_positions`] of its
    /// po ∪ rf prefix: the read now reads from the write; every event added
    /// after the read that is not in the write's prefix is dropped (among
    /// them everything after the read in its thread), and the read moves to
    /// the end, after the write.
    pub fn revisit(
        &self,
        program: &Program,
        unroll: u32,
        (read, write): (Pos, Pos),
        map: &[Option<Pos>],
    ) -> Execution {
        // A thread that keeps every event keeps its state; one that loses
        // some (the read's, at least) replays the events it keeps.
        let mut replayed: SmallVec<[bool; 16]> = SmallVec::from_elem(false, self.threads.len());
        for (e, _) in self.events.iter().zip(map).filter(|(_, m)| m.is_none()) {
            replayed[usize::from(e.thread)] = true;
        }
        let mut next = Execution {
            events: Vec::with_capacity(self.events.len()),
            threads: program
                .threads
                .iter()
                .zip(&self.threads)
                .zip(&replayed)
                .map(|((code, state), &replay)| {
                    if replay {
                        ThreadState::initial(code, unroll)
                    } else {
                        state.clone()
                    }
                })
                .collect(),
        };
        for (old, _) in self.events.iter().zip(map).filter(|(_, m)| m.is_some()) {
            let t = usize::from(old.thread);
            let mut e = if replayed[t] {
                let read = old.reads().then_some(old.read);
                let mut e = perform(
                    &program.threads[t],
                    &mut next.threads[t],
                    old.pc as usize,
                    read,
                    unroll,
                );
                e.thread = old.thread;
                e
            } else {
                old.clone()
            };
            e.rf = old
                .rf
                .map(|w| map[w as usize].expect("invariant: sources come first"));
            next.events.push(e);
        }
        let old = &self.events[read as usize];
        let source = map[write as usize].expect("invariant: the write is kept");
        next.push_access(
            program,
            unroll,
            usize::from(old.thread),
            old.pc as usize,
            Some(source),
        );
        next
    }

    /// The [`Self::order_key`] of [`Self::revisit`]`(.., (read, write), map)`,
    /// without building it: the search drops most revisits as already made.
    pub fn revisit_key(&self, (read, write): (Pos, Pos), map: &[Option<Pos>]) -> Box<[u8]> {
        let mut key = Vec::with_capacity(2 * self.events.len() + 4);
        for (e, _) in self.events.iter().zip(map).filter(|(_, m)| m.is_some()) {
            push_order_key(&mut key, e.thread, source_key(e, |w| map[w as usize]));
        }
        let source = map[write as usize].expect("invariant: the write is kept");
        push_order_key(&mut key, self.events[read as usize].thread, source + 2);
        key.into_boxed_slice()
    }

    /// Where each event of `self` goes in the revisit of the read at `read`
    /// by a write whose po ∪ rf prefix is `prefix` ([`Self::prefix`]); `None`
    /// if dropped.
    pub fn revisit_positions(&self, read: Pos, prefix: &[bool]) -> Vec<Option<Pos>> {
        let mut next = 0;
        (0..self.events.len())
            .map(|p| {
                let kept = p < read as usize || (p != read as usize && prefix[p]);
                kept.then(|| {
                    next += 1;
                    next - 1
                })
            })
            .collect()
    }

    /// Bytes the graph holds on the heap (about: registers are counted
    /// inline).
    pub fn bytes(&self) -> usize {
        self.events.capacity() * size_of::<Event>()
            + self.threads.capacity() * size_of::<ThreadState>()
    }

    /// A key equal for two executions exactly when they have the same events
    /// in the same order with the same reads-from: the exploration from
    /// an execution depends on nothing else. (Events of a thread are told
    /// apart by what they read: nothing, the initial value or a write, which
    /// separates a `TryLock` that failed from one that read.) Each event's
    /// thread and source are [`varint`]-encoded, back to back.
    pub fn order_key(&self) -> Box<[u8]> {
        let mut key = Vec::with_capacity(2 * self.events.len() + 4);
        for e in &self.events {
            push_order_key(&mut key, e.thread, source_key(e, Some));
        }
        key.into_boxed_slice()
    }

    /// A key equal for two complete executions exactly when they are the same
    /// execution (the same events with the same reads-from), whatever order
    /// their events were added in: each read (by thread, then index) with its
    /// source, the initial value (0) before every write (1 more than its
    /// thread and index). Witnesses go to the smallest key, and the search
    /// tries the initial value first, so it mostly finds an outcome's
    /// smallest key first and builds its witness once (`mp-chain 10`, 21
    /// outcomes of 2,047 executions, built 2,047 witnesses when the initial
    /// value came last).
    pub fn execution_key(&self) -> Vec<u64> {
        let id = |e: &Event| (u64::from(e.thread) << 32) | u64::from(e.index);
        let mut pairs: SmallVec<[[u64; 2]; 32]> = self
            .events
            .iter()
            .filter(|e| e.reads())
            .map(|e| [id(e), e.rf.map_or(0, |w| id(&self.events[w as usize]) + 1)])
            .collect();
        pairs.sort_unstable();
        pairs.as_flattened().to_vec()
    }
}

/// Appends an event's part of an [`Execution::order_key`]: its thread and
/// [`source_key`], [`varint`]-encoded (a byte each, nearly always).
fn push_order_key(key: &mut Vec<u8>, thread: u16, source: u32) {
    varint::push(key, u64::from(thread));
    varint::push(key, u64::from(source));
}

/// What [`Execution::order_key`] says of the source of `e`: 0 if it does
/// not read, 1 for the initial value, else 2 more than the position `moved`
/// gives its source.
fn source_key(e: &Event, moved: impl Fn(Pos) -> Option<Pos>) -> u32 {
    match e.rf {
        _ if !e.reads() => 0,
        None => 1,
        Some(w) => moved(w).expect("invariant: sources are kept") + 2,
    }
}

/// The variable (or mutex word) instruction `instr` reads, if the graph
/// engine runs it as a read.
pub(crate) fn read_loc(instr: &Instr) -> Option<Loc> {
    match instr {
        Instr::Load { loc, .. } | Instr::Rmw { loc, .. } => Some(*loc),
        Instr::Sync { op, obj } if reads_object(op) => Some(*obj),
        _ => None,
    }
}

/// Whether the graph engine runs Go synchronisation operation `op` as a
/// read (or read-modify-write) of its object's word.
fn reads_object(op: &SyncOp) -> bool {
    matches!(
        op,
        SyncOp::Lock
            | SyncOp::TryLock(_)
            | SyncOp::Unlock
            | SyncOp::Add(_)
            | SyncOp::Wait
            | SyncOp::OnceEnter(_)
            | SyncOp::Start
    )
}

/// What Go synchronisation operation `op` belongs to, if the graph engine
/// does not run it. It runs mutex `Lock`, `TryLock` and `Unlock`, wait
/// group `Add` (and `Done`) and `Wait`, `Once`, and `go` statements with the
/// start of their goroutines.
pub(crate) fn unsupported_sync(op: &SyncOp) -> Option<&'static str> {
    // Listed one by one so that a new operation needs a decision here.
    match op {
        SyncOp::Lock
        | SyncOp::TryLock(_)
        | SyncOp::Unlock
        | SyncOp::Add(_)
        | SyncOp::Wait
        | SyncOp::OnceEnter(_)
        | SyncOp::OnceDone
        | SyncOp::Go
        | SyncOp::Start => None,
        SyncOp::RLock { .. }
        | SyncOp::TryRLock { .. }
        | SyncOp::RUnlock { .. }
        | SyncOp::WLock
        | SyncOp::WLockReaders { .. }
        | SyncOp::TryWLock { .. }
        | SyncOp::WUnlock => Some("RWMutex"),
        SyncOp::StoreWords { .. } | SyncOp::LoadWords { .. } => {
            Some("atomic values of several words")
        }
        SyncOp::Send { .. }
        | SyncOp::SendWait { .. }
        | SyncOp::Recv { .. }
        | SyncOp::Close { .. }
        | SyncOp::Select { .. } => Some("channels"),
    }
}

/// Performs thread `thread`'s shared access at `pc` in `state`, which moves
/// past it, reading `read` if it reads. The event's `thread` and `rf` are
/// left for the caller.
fn perform(
    thread: &Thread,
    state: &mut ThreadState,
    pc: usize,
    read: Option<Val>,
    unroll: u32,
) -> Event {
    let index = state.events;
    let value = || read.expect("invariant: a read is given its value");
    let mut stop = None;
    let (kind, loc, atomic, read, written) = match &thread.code[pc] {
        Instr::Load { dst, loc, access } => {
            let v = value();
            state.regs[dst.index()] = v;
            (Kind::Load, *loc, *access == Access::Atomic, v, None)
        }
        Instr::Store { loc, value, access } => {
            let v = value.eval(&state.regs);
            (Kind::Store, *loc, *access == Access::Atomic, 0, Some(v))
        }
        Instr::Fence => (Kind::Fence, Loc(0), false, 0, None),
        Instr::Rmw { dst, loc, op } => {
            let old = value();
            let new = rmw_result(op, old, &state.regs);
            state.regs[dst.index()] = old;
            (Kind::Rmw, *loc, true, old, new)
        }
        Instr::Sync {
            op: SyncOp::TryLock(ok),
            obj,
        } => match read {
            Some(0) => {
                state.regs[ok.index()] = 1;
                (Kind::TryLock, *obj, true, 0, Some(1))
            }
            Some(old) => {
                stop = Some(Stop::Pending);
                (Kind::TryLock, *obj, true, old, None)
            }
            None => {
                state.regs[ok.index()] = 0;
                (Kind::TryLockFailed, *obj, false, 0, None)
            }
        },
        Instr::Sync {
            op: SyncOp::Go,
            obj,
        } => (Kind::Store, *obj, true, 0, Some(1)),
        Instr::Sync {
            op: SyncOp::OnceDone,
            obj,
        } => (Kind::Store, *obj, true, 0, Some(2)),
        Instr::Sync {
            op: SyncOp::OnceEnter(claimed),
            obj,
        } => {
            let old = value();
            let written = match old {
                0 => Some(1),
                2 => None,
                _ => {
                    stop = Some(Stop::Blocked);
                    None
                }
            };
            state.regs[claimed.index()] = Val::from(old == 0);
            (Kind::OnceEnter, *obj, true, old, written)
        }
        Instr::Sync {
            op: SyncOp::Start,
            obj,
        } => {
            let started = value();
            if started == 0 {
                stop = Some(Stop::Unstarted);
            }
            (Kind::Start, *obj, true, started, None)
        }
        Instr::Sync { op, obj } => {
            let old = value();
            let (kind, new) = match op {
                SyncOp::Lock if old == 0 => (Kind::Lock, Some(1)),
                SyncOp::Lock => {
                    stop = Some(Stop::Blocked);
                    (Kind::Lock, None)
                }
                SyncOp::Unlock if old == 1 => (Kind::Unlock, Some(0)),
                SyncOp::Unlock => {
                    stop = Some(Stop::Panicked);
                    (Kind::Unlock, None)
                }
                SyncOp::Add(delta) => match old.checked_add(delta.eval(&state.regs)) {
                    Some(new) if new >= 0 => (Kind::Add, Some(new)),
                    _ => {
                        stop = Some(Stop::Panicked);
                        (Kind::Add, None)
                    }
                },
                SyncOp::Wait => {
                    if old != 0 {
                        stop = Some(Stop::Blocked);
                    }
                    (Kind::Wait, None)
                }
                other => unreachable!(
                    "invariant: the graph engine only runs supported Go synchronisation, not {other:?}"
                ),
            };
            (kind, *obj, true, old, new)
        }
        other => unreachable!(
            "invariant: the graph engine only runs supported instructions, not {other:?}"
        ),
    };
    match stop {
        Some(stop) => state.stop_at(stop),
        None => state.advance(thread, unroll),
    }
    Event {
        thread: 0,
        index,
        pc: pc as u32,
        kind,
        loc: loc.0,
        atomic,
        read,
        written,
        rf: None,
        stop,
    }
}

//! Go's synchronisation objects as atomic accesses of one word each
//! ([`crate::ir::SyncOp`]): what an operation does given the value an atomic
//! read of its object's word returns. The engines carry the action out as the
//! atomic access it is (draining store buffers first, publishing and acquiring
//! clocks), so the Go memory model's rules for these objects follow from the
//! rule for atomics: an atomic read of an atomic write is synchronised before
//! it.
//!
//! - **Mutex** (0 unlocked, 1 locked). `Lock` blocks while the word is 1, then
//!   swaps in 1: it reads the value written by the previous `Unlock`, so call n
//!   of `Unlock` is synchronised before the return of call n+1 of `Lock`, and
//!   by transitivity before every later one. `Unlock` writes 0; on an unlocked
//!   mutex it panics.
//! - **WaitGroup** (its counter). `Add(d)` (and `Done`, `Add(-1)`) updates the
//!   counter and panics if it goes negative, but synchronises with nothing it
//!   reads: the Go memory model orders no `Add` or `Done` after another. A
//!   decrement *merges* its thread's clock into the counter's (as Go's race
//!   detector does with `ReleaseMerge`), and `Wait`, which blocks until the
//!   counter is 0, acquires that merged clock: every `Done` is synchronised
//!   before the return of the `Wait` it unblocks, and nothing more.
//! - **Once** (0 not run, 1 running, 2 done). `OnceDo` enters with `OnceEnter`:
//!   the first call swaps 0 for 1 and runs the body, which ends with
//!   `OnceDone` writing 2; a call while the body runs blocks; a later call
//!   reads the 2, so the completion of the body is synchronised before the
//!   return of every `OnceDo` (sync.Once documentation).
//! - **RWMutex** (a writer word and a reader count), as Go's race detector
//!   models it. `RLock` blocks while a writer holds or waits for the lock,
//!   then reads the writer word, so the last `Unlock` is synchronised before
//!   it; it counts itself without synchronising. `RUnlock` merges its clock
//!   into the count's. `Lock` is two steps: it claims the writer word (a
//!   read-modify-write, so the last `Unlock` is synchronised before it, and
//!   new readers now block), then waits for the count to reach 0 and reads
//!   it, so every `RUnlock` is synchronised before it returns. Readers are
//!   never ordered with each other. `TryLock` either claims the writer word
//!   when no writer and no reader holds it, then takes `Lock`'s second step
//!   (which cannot wait), or fails at any time without synchronising.
//! - **Channels** (docs/models.md, "Channels"): a closed flag, buffer slots
//!   and internal counters. A send into a buffered channel is a
//!   read-modify-write of its slot, which reads the value the receive that
//!   emptied the slot C sends earlier left (so the k-th receive is synchronised
//!   before the completion of the (k+C)-th send) and writes the value; a
//!   receive is a read-modify-write of the slot that reads the send's value
//!   (the send is synchronised before the receive completes) and clears it.
//!   On an unbuffered channel a send offers its value (a write), a receive
//!   takes it (a read-modify-write) and the send completes by reading what the
//!   receive wrote (the receive is synchronised before the send completes). A
//!   receive from a closed, drained channel reads the closed flag `close`
//!   wrote. The counters are the runtime's bookkeeping: read and written
//!   without synchronising. Sending on or closing a closed channel panics.
//!   A nil channel is never ready: sends and receives on it block forever,
//!   and closing it panics. A `select` send case on an unbuffered channel
//!   offers its value to one partner at a receive, which must take it next
//!   (see [`select`]); the hand-off then goes as for a plain send.
//! - **Goroutine start** (0 not started, 1 started). `Go` writes 1; the
//!   goroutine's first step, `Start`, blocks until it reads that 1, so the `go`
//!   statement is synchronised before the goroutine starts. A goroutine's exit
//!   writes nothing: it synchronises with nothing.

use smallvec::SmallVec;

use super::machine::{Core, Effect, Sink, Source};
use crate::ir::{Access, Channel, Instr, Loc, Program, Reg, SyncOp, ThreadId, Val};

/// What a synchronisation step of thread `t` sees in state `s`: the value of
/// every object word, its own registers, and where the other threads are (an
/// unbuffered rendezvous in a `select` needs a partner).
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'c, 'p> {
    pub core: &'c Core<'p>,
    pub s: &'c [Val],
    pub t: ThreadId,
}

impl Ctx<'_, '_> {
    fn program(&self) -> &Program {
        self.core.program
    }

    fn value(&self, l: Loc) -> Val {
        self.core.layout.mem(self.s, l)
    }

    fn regs(&self) -> &[Val] {
        self.core.layout.regs(self.s, self.t)
    }

    /// The unbuffered channel whose value on offer thread `u` must take: a
    /// `select` sent it to `u` as its partner.
    fn committed(&self, u: ThreadId) -> Option<usize> {
        let channels = &self.program().channels;
        (0..channels.len()).find(|&c| {
            unbuffered(self.program(), c) && self.value(channels[c].partner) == partner_word(u)
        })
    }

    /// Whether thread `u` (not this one, not committed elsewhere) is at a
    /// receive from channel `chan`: `Some(true)` if it waits there (a plain
    /// receive, or a `select` without `default` none of whose cases can
    /// proceed by itself), `Some(false)` if it would not wait.
    fn receiver(&self, u: ThreadId, chan: usize) -> Option<bool> {
        if u == self.t || self.committed(u).is_some() {
            return None;
        }
        let pc = self.core.layout.pc(self.s, u);
        let Instr::Sync { op, obj } = self.core.instr(u, pc)? else {
            return None;
        };
        match op {
            op if receives(op, chan) => Some(true),
            SyncOp::Select { cases, default } if cases.iter().any(|(op, _)| receives(op, chan)) => {
                Some(waits(&Ctx { t: u, ..*self }, cases, *default, *obj))
            }
            _ => None,
        }
    }
}

/// The value of a channel's partner word naming thread `u`.
fn partner_word(u: ThreadId) -> Val {
    Val::from(u.0) + 1
}

/// Whether `op` receives from channel `chan`.
fn receives(op: &SyncOp, chan: usize) -> bool {
    matches!(op, SyncOp::Recv { chan: c, .. } if *c == chan)
}

/// The access a synchronisation step makes, the one happens-before sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SyncAction {
    /// An atomic read, writing nothing.
    Read,
    /// An atomic write of this value, reading nothing.
    Write(Val),
    /// An atomic read-modify-write writing this value.
    Rmw(Val),
    /// A wait-group update to this value: it acquires nothing, and releases
    /// (merging its clock into the counter's) exactly when `release`.
    Update { new: Val, release: bool },
}

/// Bookkeeping words a step sets, with their values.
pub(crate) type Internal = SmallVec<[(Loc, Val); 2]>;

/// What a synchronisation step does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// It cannot proceed now (the step is not enabled).
    Blocked,
    /// It panics: the program stops.
    Panic,
    /// It acts.
    Act(Act),
}

/// A synchronisation step that acts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Act {
    /// The word it accesses, as happens-before sees it.
    pub word: Loc,
    /// The value that word held.
    pub old: Val,
    /// The access.
    pub action: SyncAction,
    /// Bookkeeping words it sets without synchronising.
    pub internal: Internal,
    /// Registers it sets.
    pub regs: SmallVec<[(Reg, Val); 2]>,
}

impl Act {
    /// The effect of the step at instruction `pc`, its read coming `from` and
    /// its write going `to` as the engine says.
    pub fn effect(&self, pc: usize, from: Source, to: Sink) -> Effect {
        let (loc, old) = (self.word, self.old);
        match self.action {
            SyncAction::Read => Effect::Read {
                pc,
                loc,
                value: old,
                access: Access::Atomic,
                from,
            },
            SyncAction::Write(value) => Effect::Write {
                pc,
                loc,
                value,
                access: Access::Atomic,
                to,
            },
            SyncAction::Rmw(new) => Effect::Rmw {
                pc,
                loc,
                old,
                new: Some(new),
                from,
            },
            SyncAction::Update { new, release } => Effect::Counter {
                pc,
                loc,
                old,
                new,
                release,
                from,
            },
        }
    }

    /// The value the step writes to its word, if any.
    pub fn written(&self) -> Option<Val> {
        match self.action {
            SyncAction::Read => None,
            SyncAction::Write(v) | SyncAction::Rmw(v) | SyncAction::Update { new: v, .. } => {
                Some(v)
            }
        }
    }

    fn on(word: Loc, old: Val, action: SyncAction) -> Step {
        Step::Act(Act {
            word,
            old,
            action,
            internal: SmallVec::new(),
            regs: SmallVec::new(),
        })
    }
}

/// The step `op` on object word `obj` takes in context `cx`.
pub(crate) fn step(cx: &Ctx<'_, '_>, op: &SyncOp, obj: Loc) -> Step {
    let (program, regs) = (cx.program(), cx.regs());
    let value = |l: Loc| cx.value(l);
    let old = value(obj);
    match op {
        SyncOp::Lock if old == 0 => Act::on(obj, old, SyncAction::Rmw(1)),
        SyncOp::Unlock if old == 1 => Act::on(obj, old, SyncAction::Write(0)),
        SyncOp::Unlock => Step::Panic,
        SyncOp::Add(delta) => match old.checked_add(delta.eval(regs)) {
            Some(new) if new >= 0 => Act::on(
                obj,
                old,
                SyncAction::Update {
                    new,
                    release: new < old,
                },
            ),
            _ => Step::Panic,
        },
        SyncOp::Wait if old == 0 => Act::on(obj, old, SyncAction::Read),
        SyncOp::Go => Act::on(obj, old, SyncAction::Write(1)),
        SyncOp::StoreWords { value: v, rest } => {
            let v = v.eval(regs);
            let mut step = Act::on(obj, old, SyncAction::Write(v));
            if let Step::Act(act) = &mut step {
                act.internal.extend(rest.iter().map(|&word| (word, v)));
            }
            step
        }
        SyncOp::LoadWords { dst } => with_reg(Act::on(obj, old, SyncAction::Read), *dst, old),
        SyncOp::RLock { readers } if old == 0 => {
            let mut step = Act::on(obj, old, SyncAction::Read);
            if let Step::Act(act) = &mut step {
                act.internal.push((*readers, value(*readers) + 1));
            }
            step
        }
        SyncOp::RUnlock { readers } => match value(*readers) {
            0 => Step::Panic,
            n => Act::on(
                *readers,
                n,
                SyncAction::Update {
                    new: n - 1,
                    release: true,
                },
            ),
        },
        SyncOp::WLock if old == 0 => Act::on(obj, old, SyncAction::Rmw(WRITER_WAITING)),
        SyncOp::WLockReaders { readers } if value(*readers) == 0 => {
            let mut step = Act::on(*readers, 0, SyncAction::Read);
            if let Step::Act(act) = &mut step {
                act.internal.push((obj, WRITER_HOLDS));
            }
            step
        }
        SyncOp::WUnlock if old == WRITER_HOLDS => Act::on(obj, old, SyncAction::Write(0)),
        SyncOp::WUnlock => Step::Panic,
        SyncOp::RLock { .. } | SyncOp::WLock | SyncOp::WLockReaders { .. } => Step::Blocked,
        SyncOp::Start if old == 1 => Act::on(obj, old, SyncAction::Read),
        SyncOp::OnceEnter(dst) if old == 0 => {
            with_reg(Act::on(obj, old, SyncAction::Rmw(1)), *dst, 1)
        }
        SyncOp::OnceEnter(dst) if old == 2 => {
            with_reg(Act::on(obj, old, SyncAction::Read), *dst, 0)
        }
        SyncOp::OnceDone => Act::on(obj, old, SyncAction::Write(2)),
        SyncOp::Lock | SyncOp::Wait | SyncOp::Start | SyncOp::OnceEnter(_) => Step::Blocked,
        SyncOp::Send { chan, value: v } => send(&program.channels[*chan], &value, v.eval(regs)),
        SyncOp::SendWait { chan } => send_wait(&program.channels[*chan], &value),
        SyncOp::Recv { chan, dst, ok } => recv(&program.channels[*chan], &value, cx.t, *dst, *ok),
        // Several steps, one per way they can go: see `choose`.
        SyncOp::Select { .. }
        | SyncOp::TryLock(_)
        | SyncOp::TryRLock { .. }
        | SyncOp::TryWLock { .. } => Step::Blocked,
        SyncOp::Close { chan } => {
            let ch = &program.channels[*chan];
            if ch.nil || value(ch.closed) != 0 {
                Step::Panic
            } else {
                Act::on(ch.closed, 0, SyncAction::Write(1))
            }
        }
    }
}

/// One way a step with choices (a `select`, a `TryLock`) can go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Choice {
    /// A synchronisation step, then a jump to `target`.
    Act(Step, usize),
    /// No access: set registers and jump to `target` (a `select`'s default, a
    /// failed `TryLock`).
    Jump(SmallVec<[(Reg, Val); 2]>, usize),
}

/// How many ways `op` can be written to go, if it has choices: a `select` one
/// per case and its default, then, when it has a send case on an unbuffered
/// channel, one per case and partner thread (case `i` with thread `u` is
/// choice `cases + default + i * threads + u`); a `TryLock` two (success,
/// failure).
pub(crate) fn choices(program: &Program, op: &SyncOp) -> Option<usize> {
    match op {
        SyncOp::Select { cases, default } => {
            let plain = cases.len() + usize::from(default.is_some());
            let rendezvous = cases
                .iter()
                .any(|(op, _)| unbuffered_send(program, op).is_some());
            Some(plain + usize::from(rendezvous) * cases.len() * program.threads.len())
        }
        SyncOp::TryLock(_) | SyncOp::TryRLock { .. } | SyncOp::TryWLock { .. } => Some(2),
        _ => None,
    }
}

/// Way `choice` of `op` (an operation with [`choices`]) at instruction `pc`
/// on object word `obj`, in context `cx`, if it is enabled.
pub(crate) fn choose(
    cx: &Ctx<'_, '_>,
    (op, obj, pc): (&SyncOp, Loc, usize),
    choice: usize,
) -> Option<Choice> {
    let value = |l: Loc| cx.value(l);
    match op {
        SyncOp::TryLock(dst) => match choice {
            0 if value(obj) == 0 => Some(Choice::Act(
                with_reg(Act::on(obj, 0, SyncAction::Rmw(1)), *dst, 1),
                pc + 1,
            )),
            1 => Some(Choice::Jump([(*dst, 0)].into_iter().collect(), pc + 1)),
            _ => None,
        },
        SyncOp::TryRLock { ok, readers } => match choice {
            0 => match step(cx, &SyncOp::RLock { readers: *readers }, obj) {
                Step::Blocked => None,
                ready => Some(Choice::Act(with_reg(ready, *ok, 1), pc + 1)),
            },
            1 => Some(Choice::Jump([(*ok, 0)].into_iter().collect(), pc + 1)),
            _ => None,
        },
        SyncOp::TryWLock { ok, readers } => match choice {
            // Success claims the writer word; the reader wait follows at
            // `pc + 1` and returns at once (new readers block on the claim).
            0 if value(obj) == 0 && value(*readers) == 0 => Some(Choice::Act(
                with_reg(Act::on(obj, 0, SyncAction::Rmw(WRITER_WAITING)), *ok, 1),
                pc + 1,
            )),
            1 => Some(Choice::Jump([(*ok, 0)].into_iter().collect(), pc + 2)),
            _ => None,
        },
        SyncOp::Select { cases, default } => select(cx, cases, *default, obj, choice),
        _ => None,
    }
}

/// Way `choice` of a `select` (see [`choices`]). Cases name their channels;
/// the object word is unused.
///
/// A send case on an unbuffered channel is a rendezvous with a partner thread
/// at a receive from the channel, possible when at least one of the two
/// waits (see [`waits`]): the case offers the value to that partner, which
/// must take it next (its partner word is set, so it is *committed*), and
/// waits for it to be taken. A committed thread's `select` can only take the
/// offer. A goroutine's arrival at a receive or a `select` is not an event
/// anyone can observe (it may always be late), so a `default` runs whenever
/// no case can proceed by itself, whoever sits at the other end.
fn select(
    cx: &Ctx<'_, '_>,
    cases: &[(SyncOp, usize)],
    default: Option<usize>,
    obj: Loc,
    choice: usize,
) -> Option<Choice> {
    let program = cx.program();
    let plain = cases.len() + usize::from(default.is_some());
    let committed = cx.committed(cx.t);
    if choice >= plain {
        let threads = program.threads.len();
        let (case, partner) = ((choice - plain) / threads, (choice - plain) % threads);
        let (op, target) = cases.get(case)?;
        let (chan, v) = unbuffered_send(program, op)?;
        let partner = ThreadId(partner as u16);
        let ch = &program.channels[chan];
        let partner_waits = cx.receiver(partner, chan)?;
        if committed.is_some()
            || !(partner_waits || waits(cx, cases, default, obj))
            || cx.value(ch.closed) != 0
            || cx.value(ch.count) != FREE
        {
            return None;
        }
        let offer = Act {
            word: ch.slots[0],
            old: cx.value(ch.slots[0]),
            action: SyncAction::Write(v.eval(cx.regs())),
            internal: [(ch.count, OFFERED), (ch.partner, partner_word(partner))]
                .into_iter()
                .collect(),
            regs: SmallVec::new(),
        };
        return Some(Choice::Act(Step::Act(offer), *target));
    }
    if let Some((op, target)) = cases.get(choice) {
        if committed.is_some_and(|chan| !receives(op, chan)) {
            return None;
        }
        if unbuffered_send(program, op).is_some() {
            // Without a partner, only a send on a closed channel goes: it panics.
            return ready(cx, op, obj).then_some(Choice::Act(Step::Panic, *target));
        }
        return match step(cx, op, obj) {
            Step::Blocked => None,
            ready => Some(Choice::Act(ready, *target)),
        };
    }
    let none_ready = committed.is_none() && cases.iter().all(|(op, _)| !ready(cx, op, obj));
    default
        .filter(|_| choice == cases.len() && none_ready)
        .map(|target| Choice::Jump(SmallVec::new(), target))
}

/// Whether a `select` of `cx`'s thread waits: it has no `default` and none
/// of its cases can proceed by itself. Only then can it be enqueued on a
/// channel, as Go's runtime does, for a partner to find; a `select` with a
/// ready case takes it instead, and one with a `default` never waits.
fn waits(cx: &Ctx<'_, '_>, cases: &[(SyncOp, usize)], default: Option<usize>, obj: Loc) -> bool {
    default.is_none() && cases.iter().all(|(op, _)| !ready(cx, op, obj))
}

/// Whether a `select` case can proceed by itself, without a partner to meet:
/// a send on an unbuffered channel only when the channel is closed (it
/// panics), any other case when its step is enabled.
fn ready(cx: &Ctx<'_, '_>, op: &SyncOp, obj: Loc) -> bool {
    match unbuffered_send(cx.program(), op) {
        Some((chan, _)) => cx.value(cx.program().channels[chan].closed) != 0,
        None => step(cx, op, obj) != Step::Blocked,
    }
}

/// Whether channel `chan` is unbuffered (and not nil).
fn unbuffered(program: &Program, chan: usize) -> bool {
    let ch = &program.channels[chan];
    ch.capacity == 0 && !ch.nil
}

/// The channel and value of a send on an unbuffered channel.
fn unbuffered_send<'o>(program: &Program, op: &'o SyncOp) -> Option<(usize, &'o crate::ir::Expr)> {
    match op {
        SyncOp::Send { chan, value } if unbuffered(program, *chan) => Some((*chan, value)),
        _ => None,
    }
}

fn with_reg(mut step: Step, reg: Reg, v: Val) -> Step {
    if let Step::Act(act) = &mut step {
        act.regs.push((reg, v));
    }
    step
}

/// RWMutex writer-word states (0 is free).
const WRITER_HOLDS: Val = 1;
const WRITER_WAITING: Val = 2;

/// Unbuffered hand-off states, in [`Channel::count`].
const FREE: Val = 0;
const OFFERED: Val = 1;
const TAKEN: Val = 2;

fn send(ch: &Channel, value: &impl Fn(Loc) -> Val, v: Val) -> Step {
    if ch.nil {
        return Step::Blocked;
    }
    if value(ch.closed) != 0 {
        return Step::Panic;
    }
    let count = value(ch.count);
    if ch.capacity == 0 {
        if count != FREE {
            return Step::Blocked;
        }
        let mut step = Act::on(ch.slots[0], value(ch.slots[0]), SyncAction::Write(v));
        if let Step::Act(act) = &mut step {
            act.internal.push((ch.count, OFFERED));
        }
        return step;
    }
    if count as usize >= ch.capacity {
        return Step::Blocked;
    }
    let slot = ch.slots[(value(ch.head) as usize + count as usize) % ch.capacity];
    let mut step = Act::on(slot, value(slot), SyncAction::Rmw(v));
    if let Step::Act(act) = &mut step {
        act.internal.push((ch.count, count + 1));
    }
    step
}

fn send_wait(ch: &Channel, value: &impl Fn(Loc) -> Val) -> Step {
    match value(ch.count) {
        TAKEN => {
            let mut step = Act::on(ch.slots[0], value(ch.slots[0]), SyncAction::Read);
            if let Step::Act(act) = &mut step {
                act.internal.push((ch.count, FREE));
            }
            step
        }
        // Closed while the value was on offer to no one in particular: the
        // blocked sender panics. An offer a partner must take is as good as
        // taken (the rendezvous happened before the close).
        OFFERED if value(ch.closed) != 0 && value(ch.partner) == 0 => Step::Panic,
        _ => Step::Blocked,
    }
}

fn recv(
    ch: &Channel,
    value: &impl Fn(Loc) -> Val,
    me: ThreadId,
    dst: Option<Reg>,
    ok: Option<Reg>,
) -> Step {
    if ch.nil {
        return Step::Blocked;
    }
    let count = value(ch.count);
    let closed = value(ch.closed) != 0;
    let (word, received, internal): (Loc, Option<Val>, Internal) = if ch.capacity == 0 {
        let partner = value(ch.partner);
        let take = || {
            let internal = [(ch.count, TAKEN), (ch.partner, 0)].into_iter().collect();
            (ch.slots[0], Some(value(ch.slots[0])), internal)
        };
        match count {
            OFFERED if partner == partner_word(me) => take(),
            _ if closed => (ch.closed, None, SmallVec::new()),
            OFFERED if partner == 0 => take(),
            _ => return Step::Blocked,
        }
    } else if count > 0 {
        let head = value(ch.head) as usize;
        let next = ((head + 1) % ch.capacity) as Val;
        let internal = [(ch.head, next), (ch.count, count - 1)]
            .into_iter()
            .collect();
        (ch.slots[head], Some(value(ch.slots[head])), internal)
    } else if closed {
        (ch.closed, None, SmallVec::new())
    } else {
        return Step::Blocked;
    };
    let action = match received {
        Some(_) => SyncAction::Rmw(0),
        None => SyncAction::Read,
    };
    let mut regs = SmallVec::new();
    if let Some(dst) = dst {
        regs.push((dst, received.unwrap_or(0)));
    }
    if let Some(ok) = ok {
        regs.push((ok, Val::from(received.is_some())));
    }
    Step::Act(Act {
        word,
        old: value(word),
        action,
        internal,
        regs,
    })
}

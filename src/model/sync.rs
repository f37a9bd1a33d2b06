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
//! - **Goroutine start** (0 not started, 1 started). `Go` writes 1; the
//!   goroutine's first step, `Start`, blocks until it reads that 1, so the `go`
//!   statement is synchronised before the goroutine starts. A goroutine's exit
//!   writes nothing: it synchronises with nothing.

use crate::ir::{Reg, SyncOp, Val};

/// What a synchronisation operation does, given its object's current value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SyncAction {
    /// It cannot proceed now (the step is not enabled).
    Blocked,
    /// It panics: the program stops.
    Panic,
    /// An atomic read of the value, writing nothing.
    Read,
    /// An atomic write of this value, reading nothing.
    Write(Val),
    /// An atomic read-modify-write writing this value.
    Rmw(Val),
    /// A wait-group update to this value: it acquires nothing, and releases
    /// (merging its clock into the counter's) exactly when `release`.
    Update { new: Val, release: bool },
}

/// The action of `op` when its object holds `old`; `regs` are the thread's
/// registers, for `Add`'s operand.
pub(crate) fn action(op: &SyncOp, old: Val, regs: &[Val]) -> SyncAction {
    match op {
        SyncOp::Lock if old == 0 => SyncAction::Rmw(1),
        SyncOp::Unlock if old == 1 => SyncAction::Write(0),
        SyncOp::Unlock => SyncAction::Panic,
        SyncOp::Add(delta) => match old.checked_add(delta.eval(regs)) {
            Some(new) if new >= 0 => SyncAction::Update {
                new,
                release: new < old,
            },
            _ => SyncAction::Panic,
        },
        SyncOp::Wait if old == 0 => SyncAction::Read,
        SyncOp::Go => SyncAction::Write(1),
        SyncOp::Start if old == 1 => SyncAction::Read,
        SyncOp::OnceEnter(_) if old == 0 => SyncAction::Rmw(1),
        SyncOp::OnceEnter(_) if old == 2 => SyncAction::Read,
        SyncOp::OnceDone => SyncAction::Write(2),
        SyncOp::Lock | SyncOp::Wait | SyncOp::Start | SyncOp::OnceEnter(_) => SyncAction::Blocked,
    }
}

/// The register an operation sets, and its value, once it acts: `OnceEnter`
/// tells whether this call runs the body.
pub(crate) fn result(op: &SyncOp, action: SyncAction) -> Option<(Reg, Val)> {
    match (op, action) {
        (SyncOp::OnceEnter(dst), SyncAction::Rmw(_)) => Some((*dst, 1)),
        (SyncOp::OnceEnter(dst), SyncAction::Read) => Some((*dst, 0)),
        _ => None,
    }
}

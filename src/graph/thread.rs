//! One thread's code run on its own between shared accesses.
//!
//! The graph engine decides what every read returns; given those values a
//! thread is deterministic, so its registers and position after each of its
//! events are a function of the values its reads returned. Register-only
//! instructions (`Let`, jumps) run eagerly up to the next shared access, as in
//! the state-space machine. Loops are unrolled: a loop is a backward jump, and
//! a thread that jumps back to the start of one loop more often than the
//! unrolling bound in a row (since it last entered that loop afresh: an
//! enclosing loop's backward jump starts its count again) is *cut*. A cut
//! thread waits, in case a revisit changes what it read; an execution in
//! which it stays cut is abandoned and counted (docs/models.md, "The
//! execution-graph engine"). A thread also stops at a `Lock` that finds its
//! mutex locked (blocked, until a revisit gives the `Lock` an `Unlock`'s 0)
//! and at an `Unlock` of an unlocked mutex (panicked).

use smallvec::SmallVec;

use crate::ir::{Instr, Thread, Val};

/// A thread's position and registers between two of its events.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct ThreadState {
    /// The next instruction: a shared access, or the end of the code.
    pub pc: u32,
    /// The registers.
    pub regs: SmallVec<[Val; 4]>,
    /// For each backward jump taken since its loop was last entered afresh,
    /// its instruction and the iterations it started again.
    pub back_jumps: SmallVec<[(u32, u32); 2]>,
    /// Why the thread stopped before the end of its code, if it did.
    pub stop: Option<Stop>,
    /// Events performed so far (the index of the next one in program order).
    pub events: u32,
}

/// Copies the small vectors as slices (one copy), where the derived clone
/// would push their elements one by one: the search clones every thread of
/// a graph for each branch it takes.
impl Clone for ThreadState {
    fn clone(&self) -> ThreadState {
        ThreadState {
            pc: self.pc,
            regs: SmallVec::from_slice(&self.regs),
            back_jumps: SmallVec::from_slice(&self.back_jumps),
            stop: self.stop,
            events: self.events,
        }
    }
}

/// Why a thread stopped before the end of its code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Stop {
    /// Some loop started again more often than the unrolling bound allows.
    Cut,
    /// Its last event is a `Lock` that found the mutex locked.
    Blocked,
    /// Its last event is an `Unlock` of an unlocked mutex.
    Panicked,
    /// Its last event is a `TryLock` that read a 1, waiting for a revisit.
    Pending,
    /// It is a goroutine whose start found no `Go` yet.
    Unstarted,
}

/// What a thread does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// Its next instruction, at this index, is a shared access.
    Ready(usize),
    /// It has run to the end of its code.
    Done,
    /// It took more backward jumps than the unrolling bound allows.
    Cut,
    /// It stopped at its last event (blocked, panicked, pending or not
    /// started: [`Stop`]); a revisit of that event may let it go on.
    Stopped,
}

impl ThreadState {
    /// The state before the thread's first shared access.
    pub fn initial(thread: &Thread, unroll: u32) -> ThreadState {
        let mut state = ThreadState {
            pc: 0,
            regs: thread.regs.iter().map(|r| r.init).collect(),
            back_jumps: SmallVec::new(),
            stop: None,
            events: 0,
        };
        state.settle(thread, unroll);
        state
    }

    /// Moves past the shared access at `pc`, then runs the register-only
    /// instructions after it.
    pub fn advance(&mut self, thread: &Thread, unroll: u32) {
        self.pc += 1;
        self.events += 1;
        self.settle(thread, unroll);
    }

    /// Stops at the access at `pc`, which was performed (an event) but does
    /// not let the thread go on.
    pub fn stop_at(&mut self, stop: Stop) {
        self.events += 1;
        self.stop = Some(stop);
    }

    /// Runs register-only instructions until a shared access, the end of the
    /// code, or one iteration of a loop more than `unroll`.
    fn settle(&mut self, thread: &Thread, unroll: u32) {
        while self.stop.is_none() {
            let pc = self.pc as usize;
            match thread.code.get(pc) {
                Some(Instr::Let { dst, value }) => {
                    self.regs[dst.index()] = value.eval(&self.regs);
                    self.pc += 1;
                }
                Some(Instr::Goto { cond, target }) => {
                    if cond.eval(&self.regs) == 0 {
                        self.pc += 1;
                    } else {
                        if *target <= pc {
                            self.jump_back(pc, *target, unroll);
                        }
                        self.pc = *target as u32;
                    }
                }
                _ => return,
            }
        }
    }

    /// Counts the backward jump at `pc` to `target`: one more iteration of
    /// its loop, and a fresh start for the loops inside it.
    fn jump_back(&mut self, pc: usize, target: usize, unroll: u32) {
        let (pc, target) = (pc as u32, target as u32);
        self.back_jumps
            .retain(|&mut (at, _)| at == pc || !(target..pc).contains(&at));
        let iterations = match self.back_jumps.iter_mut().find(|(at, _)| *at == pc) {
            Some((_, n)) => {
                *n = n.saturating_add(1);
                *n
            }
            None => {
                self.back_jumps.push((pc, 1));
                1
            }
        };
        if iterations > unroll {
            self.stop = Some(Stop::Cut);
        }
    }

    /// What the thread does next.
    pub fn status(&self, thread: &Thread) -> Status {
        match self.stop {
            Some(Stop::Cut) => return Status::Cut,
            Some(_) => return Status::Stopped,
            None => {}
        }
        if self.pc as usize >= thread.code.len() {
            Status::Done
        } else {
            Status::Ready(self.pc as usize)
        }
    }
}

//! One thread's code run on its own between shared accesses.
//!
//! The graph engine decides what every read returns; given those values a
//! thread is deterministic, so its registers and position after each of its
//! events are a function of the values its reads returned. Register-only
//! instructions (`Let`, jumps) run eagerly up to the next shared access, as in
//! the state-space machine. Loops are unrolled: a thread that takes more than
//! the unrolling bound of backward jumps is *cut*, and the execution it belongs
//! to is abandoned and counted (docs/models.md, "The execution-graph engine").

use smallvec::SmallVec;

use crate::ir::{Instr, Thread, Val};

/// A thread's position and registers between two of its events.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ThreadState {
    /// The next instruction: a shared access, or the end of the code.
    pub pc: u32,
    /// The registers.
    pub regs: SmallVec<[Val; 4]>,
    /// Backward jumps taken so far: loop iterations started again.
    pub back_jumps: u32,
    /// Events performed so far (the index of the next one in program order).
    pub events: u32,
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
}

impl ThreadState {
    /// The state before the thread's first shared access.
    pub fn initial(thread: &Thread, unroll: u32) -> ThreadState {
        let mut state = ThreadState {
            pc: 0,
            regs: thread.regs.iter().map(|r| r.init).collect(),
            back_jumps: 0,
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

    /// Runs register-only instructions until a shared access, the end of the
    /// code, or one backward jump more than `unroll`.
    fn settle(&mut self, thread: &Thread, unroll: u32) {
        while self.back_jumps <= unroll {
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
                            self.back_jumps += 1;
                        }
                        self.pc = *target as u32;
                    }
                }
                _ => return,
            }
        }
    }

    /// What the thread does next.
    pub fn status(&self, thread: &Thread, unroll: u32) -> Status {
        if self.back_jumps > unroll {
            Status::Cut
        } else if self.pc as usize >= thread.code.len() {
            Status::Done
        } else {
            Status::Ready(self.pc as usize)
        }
    }
}

//! The store-buffer machine's transition function: which steps a state enables
//! and the state each leads to. The rules are those of the module doc of
//! [`crate::model`]; this file is their only implementation, shared by every model.

use crate::ir::{Access, Instr, Loc, Observable, Program, RmwOp, ThreadId, Val};
use crate::model::races::{RaceHit, RaceWords};
use crate::model::state::Layout;
use crate::model::{BufferShape, Forwarding, Model};
use crate::trace::Step;

/// How many register-only instructions a thread runs eagerly after a step before
/// yielding; bounds the work of a register-only loop that never exits. Only a
/// longer register-only run is split over several steps (which changes
/// execution counts, never outcomes).
const LOCAL_RUN_LIMIT: usize = 100_000;

/// After this many register-only instructions in one run, the run also watches
/// for a repeated (pc, registers) pair: a register-only loop that can never
/// exit, which then stops at once instead of running to [`LOCAL_RUN_LIMIT`].
const LOCAL_CYCLE_CHECK_AFTER: usize = 1000;

/// What a step did to shared memory: the machine's account of each step, from
/// which event recorders and race detectors build their own views without
/// re-deriving the buffer semantics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Effect {
    /// A thread executed a load: `value` came from memory or from its own buffer.
    Read {
        pc: usize,
        loc: Loc,
        value: Val,
        access: Access,
        from: Source,
    },
    /// A thread executed a store: `value` went to memory or into a buffer.
    Write {
        pc: usize,
        loc: Loc,
        value: Val,
        access: Access,
        to: Sink,
    },
    /// A thread executed an atomic read-modify-write on memory; `new` is `None`
    /// for a failed compare-and-swap.
    Rmw {
        pc: usize,
        loc: Loc,
        old: Val,
        new: Option<Val>,
    },
    /// A thread executed a fence.
    Fence { pc: usize },
    /// A thread ran register-only instructions (a step only when a long
    /// register-only run was split).
    Local,
    /// The oldest entry of `buffer` reached memory.
    Commit { buffer: usize, loc: Loc, value: Val },
}

impl Effect {
    /// The instruction a thread step executed, if it touched shared memory.
    pub fn pc(&self) -> Option<usize> {
        match *self {
            Effect::Read { pc, .. }
            | Effect::Write { pc, .. }
            | Effect::Rmw { pc, .. }
            | Effect::Fence { pc } => Some(pc),
            Effect::Local | Effect::Commit { .. } => None,
        }
    }
}

/// Where a load's value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// Shared memory.
    Memory,
    /// Entry `index` (0 is the oldest) of the thread's buffer `buffer`.
    Buffer { buffer: usize, index: usize },
}

/// Where a store's value went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sink {
    /// Shared memory, at once.
    Memory,
    /// The newest entry of buffer `buffer`.
    Buffer { buffer: usize },
}

/// A program under a model, ready to step.
#[derive(Debug)]
pub(crate) struct Machine<'p> {
    program: &'p Program,
    model: &'p Model,
    layout: Layout,
    races: RaceWords,
    observables: Vec<Observable>,
}

impl<'p> Machine<'p> {
    pub fn new(program: &'p Program, model: &'p Model) -> Self {
        let races = RaceWords::new(program);
        Machine {
            program,
            model,
            layout: Layout::new(program, model.buffer, races.len()),
            races,
            observables: program.observables(),
        }
    }

    /// The state layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Thread `t`'s pending stores in state `s`, oldest first per buffer.
    pub fn pending_stores(&self, s: &[Val], t: ThreadId) -> Vec<(Loc, Val)> {
        self.layout
            .thread_buffers(t)
            .flat_map(|b| self.layout.buffer_entries(s, b))
            .collect()
    }

    /// Every thread's id, in order.
    pub fn thread_ids(&self) -> impl Iterator<Item = ThreadId> + use<> {
        (0..self.program.threads.len() as u16).map(ThreadId)
    }

    /// The initial state, with each thread's leading register-only code already run.
    pub fn initial_state(&self) -> Vec<Val> {
        let mut s = self.layout.initial(self.program);
        self.races.initialise(self.race_words(&mut s));
        for t in self.thread_ids() {
            self.run_local(&mut s, t);
        }
        s
    }

    /// Whether every thread has finished and every buffer is empty.
    pub fn is_final(&self, s: &[Val]) -> bool {
        self.thread_ids()
            .all(|t| self.layout.pc(s, t) == self.program.threads[t.index()].code.len())
            && self.layout.all_buffers_empty(s)
    }

    /// Whether the execution that reached `s` has had a data race.
    pub fn is_racy(&self, s: &[Val]) -> bool {
        let start = self.layout.race_start();
        self.races.racy(&s[start..start + self.races.len()])
    }

    fn race_words<'s>(&self, s: &'s mut [Val]) -> &'s mut [Val] {
        let start = self.layout.race_start();
        &mut s[start..start + self.races.len()]
    }

    /// Whether thread `t` has finished its code (its buffers may still hold stores).
    pub fn thread_done(&self, s: &[Val], t: ThreadId) -> bool {
        self.layout.pc(s, t) == self.program.threads[t.index()].code.len()
    }

    /// Current values of the program's observables, in [`Program::observables`] order.
    pub fn observe(&self, s: &[Val]) -> Vec<Val> {
        self.observables
            .iter()
            .map(|o| match *o {
                Observable::Reg(t, r) => self.layout.regs(s, t)[r.index()],
                Observable::Loc(l) => self.layout.mem(s, l),
            })
            .collect()
    }

    /// Calls `visit` with every enabled step, its effect, the race it causes (if
    /// any) and its successor state, in a fixed order: for each thread, its run
    /// step, then its commits.
    pub fn successors(
        &self,
        s: &[Val],
        scratch: &mut Vec<Val>,
        mut visit: impl FnMut(Step, Effect, Option<RaceHit>, &[Val]),
    ) {
        for t in self.thread_ids() {
            if let Some((effect, race)) = self.step(s, Step::Run(t), scratch) {
                visit(Step::Run(t), effect, race, scratch);
            }
            for b in self.layout.thread_buffers(t) {
                let loc = match self.model.buffer {
                    BufferShape::PerThreadPerLocation => {
                        Some(Loc((b % self.program.locs.len()) as u16))
                    }
                    _ => None,
                };
                let step = Step::Commit(t, loc);
                if let Some((effect, race)) = self.step(s, step, scratch) {
                    visit(step, effect, race, scratch);
                }
            }
        }
    }

    /// The effect of `step` and the state after it, if it is enabled.
    pub fn apply(&self, s: &[Val], step: Step) -> Option<(Effect, Vec<Val>)> {
        let mut next = Vec::new();
        self.step(s, step, &mut next)
            .map(|(effect, _)| (effect, next))
    }

    /// Takes `step` from `s` into `out`, updating the race-detection words;
    /// `None` if the step is not enabled.
    fn step(&self, s: &[Val], step: Step, out: &mut Vec<Val>) -> Option<(Effect, Option<RaceHit>)> {
        let (Step::Run(t) | Step::Commit(t, _)) = step;
        if t.index() >= self.program.threads.len() {
            return None;
        }
        match step {
            Step::Run(t) => {
                let effect = self.run(s, t, out)?;
                let race = self.races.run(self.race_words(out), t, &effect);
                Some((effect, race))
            }
            Step::Commit(t, loc) => {
                let b = match loc {
                    Some(l)
                        if self.model.buffer == BufferShape::PerThreadPerLocation
                            && l.index() < self.program.locs.len() =>
                    {
                        self.layout.buffer_for(t, l)
                    }
                    None if self.model.buffer == BufferShape::PerThread => t.index(),
                    _ => return None,
                };
                let effect = self.commit(s, b, out)?;
                if let Effect::Commit { loc, .. } = effect {
                    self.races.commit(self.race_words(out), loc);
                }
                Some((effect, None))
            }
        }
    }

    /// Executes thread `t`'s next instruction into `out`; `None` if it is
    /// blocked or finished.
    fn run(&self, s: &[Val], t: ThreadId, out: &mut Vec<Val>) -> Option<Effect> {
        let layout = &self.layout;
        let code = &self.program.threads[t.index()].code;
        let pc = layout.pc(s, t);
        let instr = code.get(pc)?;
        let drained = || layout.buffers_empty(s, t);
        let effect = match instr {
            Instr::Load { dst, loc, access } => {
                let (value, from) = match (access, layout.newest_buffered(s, t, *loc)) {
                    (Access::Atomic, _) if !drained() => return None,
                    (Access::Plain, Some((v, buffer, index))) => match self.model.forwarding {
                        Forwarding::Enabled => (v, Source::Buffer { buffer, index }),
                        Forwarding::Disabled => return None,
                    },
                    _ => (layout.mem(s, *loc), Source::Memory),
                };
                copy_into(out, s);
                layout.regs_mut(out, t)[dst.index()] = value;
                Effect::Read {
                    pc,
                    loc: *loc,
                    value,
                    access: *access,
                    from,
                }
            }
            Instr::Store { loc, value, access } => {
                let value = value.eval(layout.regs(s, t));
                let to = if *access == Access::Atomic || self.model.buffer == BufferShape::None {
                    if !drained() {
                        return None;
                    }
                    Sink::Memory
                } else {
                    let buffer = layout.buffer_for(t, *loc);
                    if let Some(bound) = self.model.bound
                        && layout.buffer_len(s, buffer) >= bound as usize
                    {
                        return None;
                    }
                    Sink::Buffer { buffer }
                };
                copy_into(out, s);
                match to {
                    Sink::Memory => layout.set_mem(out, *loc, value),
                    Sink::Buffer { buffer } => layout.push(out, buffer, *loc, value),
                }
                Effect::Write {
                    pc,
                    loc: *loc,
                    value,
                    access: *access,
                    to,
                }
            }
            Instr::Fence => {
                if !drained() {
                    return None;
                }
                copy_into(out, s);
                Effect::Fence { pc }
            }
            Instr::Rmw { dst, loc, op } => {
                if !drained() {
                    return None;
                }
                let regs = layout.regs(s, t);
                let old = layout.mem(s, *loc);
                let new = match op {
                    RmwOp::Xchg(v) => Some(v.eval(regs)),
                    RmwOp::FetchAdd(v) => Some(old.wrapping_add(v.eval(regs))),
                    RmwOp::Cas { expected, new } => {
                        (old == expected.eval(regs)).then(|| new.eval(regs))
                    }
                };
                copy_into(out, s);
                if let Some(new) = new {
                    layout.set_mem(out, *loc, new);
                }
                layout.regs_mut(out, t)[dst.index()] = old;
                Effect::Rmw {
                    pc,
                    loc: *loc,
                    old,
                    new,
                }
            }
            Instr::Let { .. } | Instr::Goto { .. } => {
                copy_into(out, s);
                self.step_local(out, t);
                self.run_local(out, t);
                return Some(Effect::Local);
            }
        };
        layout.set_pc(out, t, pc + 1);
        self.run_local(out, t);
        Some(effect)
    }

    /// Moves the oldest entry of buffer `b` to memory, into `out`; `None` if the
    /// buffer is empty.
    fn commit(&self, s: &[Val], b: usize, out: &mut Vec<Val>) -> Option<Effect> {
        if self.layout.buffer_len(s, b) == 0 {
            return None;
        }
        copy_into(out, s);
        let (loc, value) = self.layout.pop_oldest(out, b);
        self.layout.set_mem(out, loc, value);
        Some(Effect::Commit {
            buffer: b,
            loc,
            value,
        })
    }

    /// Runs thread `t`'s register-only instructions until a shared one, the end of
    /// its code, or [`LOCAL_RUN_LIMIT`].
    fn run_local(&self, s: &mut [Val], t: ThreadId) {
        let mut seen = rustc_hash::FxHashSet::default();
        for steps in 0..LOCAL_RUN_LIMIT {
            if !self.step_local(s, t) {
                return;
            }
            if steps >= LOCAL_CYCLE_CHECK_AFTER {
                let key = (self.layout.pc(s, t), self.layout.regs(s, t).to_vec());
                if !seen.insert(key) {
                    return;
                }
            }
        }
    }

    /// Executes one register-only instruction of `t` in place; false if the next
    /// instruction is shared (or the thread is done).
    fn step_local(&self, s: &mut [Val], t: ThreadId) -> bool {
        let layout = &self.layout;
        let pc = layout.pc(s, t);
        let next = match self.program.threads[t.index()].code.get(pc) {
            Some(Instr::Let { dst, value }) => {
                let v = value.eval(layout.regs(s, t));
                layout.regs_mut(s, t)[dst.index()] = v;
                pc + 1
            }
            Some(Instr::Goto { cond, target }) => {
                if cond.eval(layout.regs(s, t)) != 0 {
                    *target
                } else {
                    pc + 1
                }
            }
            _ => return false,
        };
        layout.set_pc(s, t, next);
        true
    }
}

fn copy_into(out: &mut Vec<Val>, s: &[Val]) {
    out.clear();
    out.extend_from_slice(s);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Loc, Val};
    use crate::syntax::parse_str;

    fn program() -> Program {
        parse_str(
            r#"Litmus(name: "fwd", threads: [[Store("x", 1), Load("r0", "x")]], condition: "exists 0:r0=1")"#,
            "fwd.ron",
        )
        .unwrap()
        .program
    }

    fn steps(machine: &Machine<'_>, s: &[Val]) -> Vec<Step> {
        let mut found = Vec::new();
        machine.successors(s, &mut Vec::new(), |step, _, _, _| found.push(step));
        found
    }

    #[test]
    fn a_load_reads_its_own_buffered_store_before_memory_does() {
        let (program, model) = (program(), Model::tso());
        let machine = Machine::new(&program, &model);
        let buffered = machine
            .apply(&machine.initial_state(), Step::Run(ThreadId(0)))
            .unwrap()
            .1;
        assert_eq!(machine.layout.mem(&buffered, Loc(0)), 0);
        assert_eq!(
            steps(&machine, &buffered),
            vec![Step::Run(ThreadId(0)), Step::Commit(ThreadId(0), None)]
        );
        let loaded = machine.apply(&buffered, Step::Run(ThreadId(0))).unwrap().1;
        // r0 (forwarded) = 1 while memory still holds 0.
        assert_eq!(machine.observe(&loaded), vec![1, 0]);
        assert!(!machine.is_final(&loaded));
    }

    #[test]
    fn without_forwarding_the_load_waits_for_the_commit() {
        let program = program();
        let model = Model {
            forwarding: Forwarding::Disabled,
            ..Model::tso()
        };
        let machine = Machine::new(&program, &model);
        let buffered = machine
            .apply(&machine.initial_state(), Step::Run(ThreadId(0)))
            .unwrap()
            .1;
        assert_eq!(
            steps(&machine, &buffered),
            vec![Step::Commit(ThreadId(0), None)]
        );
        let committed = machine
            .apply(&buffered, Step::Commit(ThreadId(0), None))
            .unwrap()
            .1;
        let loaded = machine.apply(&committed, Step::Run(ThreadId(0))).unwrap().1;
        assert_eq!(machine.observe(&loaded), vec![1, 1]);
        assert!(machine.is_final(&loaded));
    }

    #[test]
    fn fences_and_rmws_wait_for_an_empty_buffer() {
        let program = parse_str(
            r#"Litmus(name: "f", threads: [[Store("x", 1), Fence, Xchg("r0", "y", 1)]], condition: "exists y=1")"#,
            "f.ron",
        )
        .unwrap()
        .program;
        for model in [Model::tso(), Model::pso()] {
            let machine = Machine::new(&program, &model);
            let buffered = machine
                .apply(&machine.initial_state(), Step::Run(ThreadId(0)))
                .unwrap()
                .1;
            let commit_x = match model.buffer {
                BufferShape::PerThreadPerLocation => Step::Commit(ThreadId(0), Some(Loc(0))),
                _ => Step::Commit(ThreadId(0), None),
            };
            assert_eq!(steps(&machine, &buffered), vec![commit_x], "{}", model.name);
        }
    }
}

//! The store-buffer engine: `sc`, `tso`, `pso` and model files. Its rules are
//! the module doc of [`crate::model`]; this file is their only implementation.
//!
//! Buffers are segments of the state. With one buffer per thread (buffer `t`)
//! an entry is `(variable, value)`; with one per thread and variable (buffer
//! `t * L + l`) an entry is just the value.

use std::ops::Range;

use super::machine::{Core, Effect, Sink, Source, copy_into};
use super::sync;
use super::{BufferShape, Forwarding, StoreBufferConfig};
use crate::ir::{Access, Instr, Loc, Program, RmwOp, SyncOp, ThreadId, Val};
use crate::trace::Step;

/// A configured store-buffer machine.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StoreBuffers {
    config: StoreBufferConfig,
    threads: usize,
    locs: usize,
}

impl StoreBuffers {
    pub fn new(config: StoreBufferConfig, program: &Program) -> Self {
        StoreBuffers {
            config,
            threads: program.threads.len(),
            locs: program.locs.len(),
        }
    }

    /// The machine's settings.
    pub fn config(&self) -> StoreBufferConfig {
        self.config
    }

    /// Whether a store with `access` writes memory at once (after the
    /// thread's buffers drain) instead of entering a buffer: an atomic
    /// store, or any store without buffers.
    pub fn goes_to_memory(&self, access: Access) -> bool {
        access == Access::Atomic || self.config.buffer == BufferShape::None
    }

    /// Number of buffers and values per entry.
    pub fn segments(&self) -> (usize, usize) {
        match self.config.buffer {
            BufferShape::None => (0, 2),
            BufferShape::PerThread => (self.threads, 2),
            BufferShape::PerThreadPerLocation => (self.threads * self.locs, 1),
        }
    }

    /// The buffers of thread `t`.
    pub fn thread_buffers(&self, t: ThreadId) -> Range<usize> {
        match self.config.buffer {
            BufferShape::None => 0..0,
            BufferShape::PerThread => t.index()..t.index() + 1,
            BufferShape::PerThreadPerLocation => t.index() * self.locs..(t.index() + 1) * self.locs,
        }
    }

    /// The buffer a store by `t` to `l` enters.
    pub fn buffer_for(&self, t: ThreadId, l: Loc) -> usize {
        match self.config.buffer {
            BufferShape::None => unreachable!("invariant: no buffers without a buffer shape"),
            BufferShape::PerThread => t.index(),
            BufferShape::PerThreadPerLocation => t.index() * self.locs + l.index(),
        }
    }

    /// The entries of buffer `b`, oldest first.
    fn entries(&self, core: &Core<'_>, s: &[Val], b: usize) -> Vec<(Loc, Val)> {
        let raw = core.layout.segment(s, b);
        match self.config.buffer {
            BufferShape::PerThreadPerLocation => {
                let l = Loc((b % self.locs) as u16);
                raw.iter().map(|&v| (l, v)).collect()
            }
            _ => raw
                .chunks_exact(2)
                .map(|e| (Loc(e[0] as u16), e[1]))
                .collect(),
        }
    }

    /// Thread `t`'s pending stores, oldest first per buffer.
    pub fn pending(&self, core: &Core<'_>, s: &[Val], t: ThreadId) -> Vec<(Loc, Val)> {
        self.thread_buffers(t)
            .flat_map(|b| self.entries(core, s, b))
            .collect()
    }

    /// The newest value thread `t` has buffered for `l`, with its buffer and
    /// position (0 is the oldest).
    fn newest(
        &self,
        core: &Core<'_>,
        s: &[Val],
        t: ThreadId,
        l: Loc,
    ) -> Option<(Val, usize, usize)> {
        match self.config.buffer {
            BufferShape::None => None,
            BufferShape::PerThread => {
                let b = t.index();
                core.layout
                    .segment(s, b)
                    .chunks_exact(2)
                    .enumerate()
                    .rev()
                    .find(|(_, entry)| entry[0] == Val::from(l.0))
                    .map(|(i, entry)| (entry[1], b, i))
            }
            BufferShape::PerThreadPerLocation => {
                let b = self.buffer_for(t, l);
                let entries = core.layout.segment(s, b);
                entries.last().map(|&v| (v, b, entries.len() - 1))
            }
        }
    }

    fn drained(&self, core: &Core<'_>, s: &[Val], t: ThreadId) -> bool {
        core.layout.segments_empty(s, self.thread_buffers(t))
    }

    /// The steps thread `t` may take: its next instruction, then a commit of
    /// each of its non-empty buffers.
    pub fn candidates(
        &self,
        core: &Core<'_>,
        s: &[Val],
        t: ThreadId,
        out: &mut smallvec::SmallVec<[Step; 8]>,
    ) {
        let pc = core.layout.pc(s, t);
        match core.instr(t, pc).and_then(|instr| match instr {
            Instr::Sync { op, .. } => sync::choices(core.program, op),
            _ => None,
        }) {
            Some(n) => out.extend((0..n).map(|choice| Step::Exec {
                thread: t,
                pc: pc as u32,
                choice: choice as u16,
            })),
            None => out.push(Step::Run(t)),
        }
        for b in self.thread_buffers(t) {
            if core.layout.segment_len(s, b) > 0 {
                let loc = match self.config.buffer {
                    BufferShape::PerThreadPerLocation => Some(Loc((b % self.locs) as u16)),
                    _ => None,
                };
                out.push(Step::Commit(t, loc));
            }
        }
    }

    /// Takes `step` from `s` into `out`; `None` if it is not enabled.
    pub fn step(
        &self,
        core: &Core<'_>,
        s: &[Val],
        step: Step,
        out: &mut Vec<Val>,
    ) -> Option<Effect> {
        match step {
            Step::Run(t) => self.run(core, s, t, out),
            Step::Commit(t, loc) => {
                let b = match (self.config.buffer, loc) {
                    (BufferShape::PerThreadPerLocation, Some(l)) if l.index() < self.locs => {
                        self.buffer_for(t, l)
                    }
                    (BufferShape::PerThread, None) => t.index(),
                    _ => return None,
                };
                self.commit(core, s, b, out)
            }
            Step::Exec {
                thread: t,
                pc,
                choice,
            } => self.choose(core, s, t, pc as usize, usize::from(choice), out),
            Step::Observe { .. } => None,
        }
    }

    /// Way `choice` of the step with choices (a `select`, a `TryLock`) thread
    /// `t` is at (instruction `pc`).
    fn choose(
        &self,
        core: &Core<'_>,
        s: &[Val],
        t: ThreadId,
        pc: usize,
        choice: usize,
        out: &mut Vec<Val>,
    ) -> Option<Effect> {
        let layout = &core.layout;
        let Some(Instr::Sync { op, obj }) = core.instr(t, pc).filter(|_| layout.pc(s, t) == pc)
        else {
            return None;
        };
        if !self.drained(core, s, t) {
            return None;
        }
        let cx = sync::Ctx { core, s, t };
        match sync::choose(&cx, (op, *obj, pc), choice)? {
            sync::Choice::Act(step, next) => self.sync_step(core, s, t, pc, step, next, out),
            sync::Choice::Jump(regs, target) => {
                copy_into(out, s);
                Some(core.jump(out, t, &regs, target))
            }
        }
    }

    /// Carries out a synchronisation step of thread `t` at instruction `pc`,
    /// then continues at `next`.
    #[allow(clippy::too_many_arguments)]
    fn sync_step(
        &self,
        core: &Core<'_>,
        s: &[Val],
        t: ThreadId,
        pc: usize,
        step: sync::Step,
        next: usize,
        out: &mut Vec<Val>,
    ) -> Option<Effect> {
        let layout = &core.layout;
        let act = match step {
            sync::Step::Blocked => return None,
            sync::Step::Panic => {
                copy_into(out, s);
                return Some(core.panic(out, t, pc));
            }
            sync::Step::Act(act) => act,
        };
        copy_into(out, s);
        for &(reg, v) in &act.regs {
            layout.regs_mut(out, t)[reg.index()] = v;
        }
        for &(word, v) in &act.internal {
            layout.set_mem(out, word, v);
        }
        if let Some(v) = act.written() {
            layout.set_mem(out, act.word, v);
        }
        layout.set_pc(out, t, next);
        core.run_local(out, t);
        Some(act.effect(pc, Source::Memory, Sink::Memory))
    }

    /// Executes thread `t`'s next instruction into `out`; `None` if it is
    /// blocked or finished.
    fn run(&self, core: &Core<'_>, s: &[Val], t: ThreadId, out: &mut Vec<Val>) -> Option<Effect> {
        let layout = &core.layout;
        let pc = layout.pc(s, t);
        let instr = core.instr(t, pc)?;
        let drained = || self.drained(core, s, t);
        let effect = match instr {
            Instr::Load { dst, loc, access } => {
                // An atomic load is an ordinary load here: compilers emit a
                // plain `MOV` for it on x86 and rely on atomic stores draining
                // the buffer (docs/models.md).
                let (value, from) = match self.newest(core, s, t, *loc) {
                    Some((v, buffer, index)) => match self.config.forwarding {
                        Forwarding::Enabled => (v, Source::Buffer { buffer, index }),
                        Forwarding::Disabled => return None,
                    },
                    None => (layout.mem(s, *loc), Source::Memory),
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
                let to = if self.goes_to_memory(*access) {
                    if !drained() {
                        return None;
                    }
                    Sink::Memory
                } else {
                    let buffer = self.buffer_for(t, *loc);
                    if let Some(bound) = self.config.bound
                        && layout.segment_len(s, buffer) >= bound as usize
                    {
                        return None;
                    }
                    Sink::Buffer { buffer }
                };
                copy_into(out, s);
                match to {
                    Sink::Buffer { buffer } => match self.config.buffer {
                        BufferShape::PerThreadPerLocation => layout.push(out, buffer, &[value]),
                        _ => layout.push(out, buffer, &[Val::from(loc.0), value]),
                    },
                    _ => layout.set_mem(out, *loc, value),
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
                let new = rmw_result(op, old, regs);
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
                    from: Source::Memory,
                }
            }
            Instr::Sync { op, .. } if sync::choices(core.program, op).is_some() => return None,
            Instr::Sync { op, obj } => {
                // Every synchronisation operation is a locked instruction but
                // a multi-word atomic load, which, as `AtomicLoad`, is a `MOV`.
                if !matches!(op, SyncOp::LoadWords { .. }) && !drained() {
                    return None;
                }
                let step = sync::step(&sync::Ctx { core, s, t }, op, *obj);
                return self.sync_step(core, s, t, pc, step, pc + 1, out);
            }
            Instr::Let { .. } | Instr::Goto { .. } => {
                copy_into(out, s);
                core.step_local(out, t);
                core.run_local(out, t);
                return Some(Effect::Local);
            }
        };
        layout.set_pc(out, t, pc + 1);
        core.run_local(out, t);
        Some(effect)
    }

    /// Moves the oldest entry of buffer `b` to memory, into `out`; `None` if the
    /// buffer is empty.
    fn commit(&self, core: &Core<'_>, s: &[Val], b: usize, out: &mut Vec<Val>) -> Option<Effect> {
        if core.layout.segment_len(s, b) == 0 {
            return None;
        }
        copy_into(out, s);
        let entry = core.layout.segment(out, b);
        let (loc, value) = match self.config.buffer {
            BufferShape::PerThreadPerLocation => (Loc((b % self.locs) as u16), entry[0]),
            _ => (Loc(entry[0] as u16), entry[1]),
        };
        core.layout.discard(out, b, 0);
        core.layout.set_mem(out, loc, value);
        Some(Effect::Commit {
            buffer: b,
            loc,
            value,
        })
    }
}

/// The value a read-modify-write writes after reading `old`; `None` for a
/// failed compare-and-swap.
pub(crate) fn rmw_result(op: &RmwOp, old: Val, regs: &[Val]) -> Option<Val> {
    match op {
        RmwOp::Xchg(v) => Some(v.eval(regs)),
        RmwOp::FetchAdd(v) => Some(old.wrapping_add(v.eval(regs))),
        RmwOp::Cas { expected, new } => (old == expected.eval(regs)).then(|| new.eval(regs)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;
    use crate::model::machine::Machine;
    use crate::syntax::parse_str;

    fn program() -> Program {
        parse_str(
            r#"Litmus(name: "t", init: {"y": 7}, threads: [[Store("x", 1), Load("r0", "y")], [Load("a", "x"), Load("b", "y")]], condition: "exists x=0")"#,
            "t.ron",
        )
        .unwrap()
        .program
    }

    #[test]
    fn per_thread_buffer_is_fifo_with_newest_forwarding() {
        let p = program();
        let model = Model::tso();
        let machine = Machine::new(&p, &model);
        let core = &machine.core;
        let buffers = StoreBuffers::new(config(&model), &p);
        let mut s = machine.initial_state();
        let (t0, t1) = (ThreadId(0), ThreadId(1));
        let (y, x) = (Loc(0), Loc(1));
        core.layout.push(&mut s, 0, &[Val::from(x.0), 1]);
        core.layout.push(&mut s, 0, &[Val::from(y.0), 2]);
        core.layout.push(&mut s, 0, &[Val::from(x.0), 3]);
        assert_eq!(buffers.newest(core, &s, t0, x), Some((3, 0, 2)));
        assert_eq!(buffers.newest(core, &s, t1, x), None);
        assert_eq!(buffers.pending(core, &s, t0), vec![(x, 1), (y, 2), (x, 3)]);
        assert!(!buffers.drained(core, &s, t0) && buffers.drained(core, &s, t1));
    }

    #[test]
    fn per_location_buffers_are_independent() {
        let p = program();
        let model = Model::pso();
        let machine = Machine::new(&p, &model);
        let core = &machine.core;
        let buffers = StoreBuffers::new(config(&model), &p);
        let mut s = machine.initial_state();
        let t0 = ThreadId(0);
        let (y, x) = (Loc(0), Loc(1));
        assert_eq!(buffers.segments(), (4, 1));
        core.layout.push(&mut s, buffers.buffer_for(t0, x), &[1]);
        core.layout.push(&mut s, buffers.buffer_for(t0, y), &[2]);
        core.layout.push(&mut s, buffers.buffer_for(t0, x), &[3]);
        assert_eq!(buffers.newest(core, &s, t0, x), Some((3, 1, 1)));
        // y's store can leave before the older stores to x.
        let mut out = Vec::new();
        let effect = buffers
            .commit(core, &s, buffers.buffer_for(t0, y), &mut out)
            .unwrap();
        assert_eq!(
            effect,
            Effect::Commit {
                buffer: 0,
                loc: y,
                value: 2
            }
        );
        assert_eq!(buffers.pending(core, &out, t0), vec![(x, 1), (x, 3)]);
    }

    /// The store-buffer configuration of a built-in model.
    fn config(model: &Model) -> StoreBufferConfig {
        match model.kind {
            crate::model::ModelKind::StoreBuffers(config) => config,
            crate::model::ModelKind::Go => unreachable!("store-buffer models only"),
        }
    }
}

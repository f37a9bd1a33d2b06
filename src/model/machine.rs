//! A program under a model, ready to step: which steps a state enables, the
//! state each leads to, and what each did ([`Effect`]).
//!
//! What every model shares lives here: the state layout, register-only
//! instructions, outcomes, race detection. How memory behaves is the model's
//! engine: store buffers ([`super::store_buffer`], the rules of the module doc
//! of [`crate::model`]) or the Go memory model ([`super::go`]).

use crate::ir::{Access, Instr, Loc, Observable, Program, Reg, SyncOp, ThreadId, Val};
use crate::model::go::{Enabled, GoMemory};
use crate::model::partial_order::{PartialOrder, Processes};
use crate::model::races::{RaceHit, RaceWords};
use crate::model::state::Layout;
use crate::model::store_buffer::StoreBuffers;
use crate::model::symmetry::Symmetry;
use crate::model::{Model, ModelKind};
use smallvec::SmallVec;

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
        from: Source,
    },
    /// A thread executed a fence.
    Fence { pc: usize },
    /// A thread ran register-only instructions (a step only when a long
    /// register-only run was split).
    Local,
    /// The oldest entry of `buffer` reached memory.
    Commit { buffer: usize, loc: Loc, value: Val },
    /// A thread updated a wait-group counter from `old` to `new`, acquiring
    /// nothing; a decrement (`release`) merges its clock into the counter's.
    Counter {
        pc: usize,
        loc: Loc,
        old: Val,
        new: Val,
        release: bool,
        from: Source,
    },
    /// A thread's synchronisation operation panicked (an unlock of an unlocked
    /// mutex, a negative wait-group counter): the program stops.
    Panic { pc: usize },
    /// The final observer read `value` from `loc` (the `go` model).
    Observe { loc: Loc, value: Val },
}

impl Effect {
    /// The instruction a thread step executed, if it touched shared memory.
    pub fn pc(&self) -> Option<usize> {
        match *self {
            Effect::Read { pc, .. }
            | Effect::Write { pc, .. }
            | Effect::Rmw { pc, .. }
            | Effect::Fence { pc }
            | Effect::Counter { pc, .. }
            | Effect::Panic { pc } => Some(pc),
            Effect::Local | Effect::Commit { .. } | Effect::Observe { .. } => None,
        }
    }
}

/// Where a load's value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// Shared memory: the newest write to the variable.
    Memory,
    /// Entry `index` (0 is the oldest) of the thread's buffer `buffer`.
    Buffer { buffer: usize, index: usize },
    /// A write of the variable's history the read chose among those it may
    /// observe (the `go` model): one with the read value, written by `writer`
    /// (`None`: the initial value), atomic or not. Writes alike in all three
    /// are interchangeable for happens-before.
    History {
        writer: Option<ThreadId>,
        atomic: bool,
    },
}

/// Where a store's value went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sink {
    /// Shared memory, at once.
    Memory,
    /// The variable's history, where older writes stay observable (the `go`
    /// model).
    History,
    /// The newest entry of buffer `buffer`.
    Buffer { buffer: usize },
}

/// A program under a model, ready to step.
#[derive(Debug)]
pub(crate) struct Machine<'p> {
    pub(crate) core: Core<'p>,
    races: RaceWords,
    engine: Engine,
    observables: Vec<Observable>,
    /// When set, [`Machine::successors`] lists only a persistent set of the
    /// enabled steps ([`Machine::with_partial_order`]).
    partial_order: Option<PartialOrder>,
}

/// What the engines share: the program and the state layout.
#[derive(Debug)]
pub(crate) struct Core<'p> {
    pub program: &'p Program,
    pub layout: Layout,
}

/// How memory behaves.
#[derive(Debug)]
enum Engine {
    StoreBuffers(StoreBuffers),
    Go(GoMemory),
}

impl<'p> Machine<'p> {
    pub fn new(program: &'p Program, model: &'p Model) -> Self {
        let in_order = matches!(model.kind, ModelKind::StoreBuffers(_));
        let races = RaceWords::new(program, in_order);
        let (engine, fixed, segments, width) = match &model.kind {
            ModelKind::StoreBuffers(config) => {
                let buffers = StoreBuffers::new(*config, program);
                let (segments, width) = buffers.segments();
                (Engine::StoreBuffers(buffers), 0, segments, width)
            }
            ModelKind::Go => {
                let go = GoMemory::new(program, races.len());
                let (fixed, segments, width) = go.words();
                (Engine::Go(go), fixed, segments, width)
            }
        };
        Machine {
            core: Core {
                program,
                layout: Layout::new(program, races.len() + fixed, segments, width),
            },
            races,
            engine,
            observables: program.observables(),
            partial_order: None,
        }
    }

    /// This machine, listing in [`Machine::successors`] only a persistent
    /// set of each state's enabled steps ([`PartialOrder`]) when `reduce`
    /// and the machine allows it: store buffers running code without loops
    /// (forward jumps only) or Go synchronisation, whose race detection
    /// keeps no clocks. Searching it reaches every final state (race words
    /// included) and every racing pair of instructions of the full search,
    /// by fewer paths.
    pub fn with_partial_order(mut self, reduce: bool) -> Self {
        self.partial_order = match &self.engine {
            Engine::StoreBuffers(buffers) if reduce && !self.races.keeps_clocks() => {
                PartialOrder::new(self.core.program, *buffers)
            }
            _ => None,
        };
        self
    }

    /// Whether [`Machine::successors`] lists only persistent sets of steps.
    pub fn reduces_partial_order(&self) -> bool {
        self.partial_order.is_some()
    }

    /// Whether every path from the initial state to a state takes the same
    /// number of steps, so a breadth-first search finds each state in one
    /// layer only. True for a store-buffer machine running straight-line
    /// code (loads, stores, fences, read-modify-writes and register
    /// arithmetic): a thread's pc then tells how many `Run` steps it took,
    /// its pc and buffers how many `Commit`s. Jumps, Go synchronisation and
    /// the `go` model's early and chosen executions can reach one state by
    /// paths of different lengths. Such a machine never blocks either (a
    /// fence or read-modify-write waits only for its thread's buffers, which
    /// can always commit), so every path ends in a final state, and all of
    /// them after the same number of steps: every instruction run, every
    /// store committed.
    pub fn graded(&self) -> bool {
        matches!(self.engine, Engine::StoreBuffers(_))
            && self.core.program.threads.iter().all(|thread| {
                thread.code.iter().all(|instr| {
                    matches!(
                        instr,
                        Instr::Load { .. }
                            | Instr::Store { .. }
                            | Instr::Fence
                            | Instr::Rmw { .. }
                            | Instr::Let { .. }
                    )
                })
            })
    }

    /// The classes of interchangeable threads, if the machine's states can
    /// be reduced by them ([`Symmetry`]): a graded machine (straight-line
    /// code on store buffers) whose race detection keeps at most the racy
    /// flag, so that no word of its state names a thread besides the
    /// threads' own pcs, registers and buffers.
    pub fn symmetry(&self) -> Option<Symmetry> {
        let Engine::StoreBuffers(buffers) = &self.engine else {
            return None;
        };
        if !self.graded() || self.races.len() > 1 {
            return None;
        }
        let per_thread = buffers.thread_buffers(ThreadId(0)).len();
        Symmetry::new(self.core.program, per_thread)
    }

    /// Whether the `go` model's look-ahead window kept some explored state
    /// from a run rule 3 allows ([`GoMemory::window_cut`]).
    pub fn window_cut(&self) -> bool {
        match &self.engine {
            Engine::StoreBuffers(_) => false,
            Engine::Go(go) => go.window_cut(),
        }
    }

    /// Number of store buffers (0 for models without them).
    pub fn buffer_count(&self) -> usize {
        match &self.engine {
            Engine::StoreBuffers(_) => self.core.layout.segment_count(),
            Engine::Go(_) => 0,
        }
    }

    /// Thread `t`'s pending stores in state `s`, oldest first per buffer.
    pub fn pending_stores(&self, s: &[Val], t: ThreadId) -> Vec<(Loc, Val)> {
        match &self.engine {
            Engine::StoreBuffers(buffers) => buffers.pending(&self.core, s, t),
            Engine::Go(_) => Vec::new(),
        }
    }

    /// Every thread's id, in order.
    pub fn thread_ids(&self) -> impl Iterator<Item = ThreadId> + use<> {
        (0..self.core.program.threads.len() as u16).map(ThreadId)
    }

    /// The initial state, with each thread's leading register-only code already run.
    pub fn initial_state(&self) -> Vec<Val> {
        let mut s = self.core.layout.initial(self.core.program);
        self.races.initialise(self.race_words(&mut s));
        if let Engine::Go(go) = &self.engine {
            go.initialise(&self.core, &mut s);
        }
        for t in self.thread_ids() {
            self.core.run_local(&mut s, t);
        }
        s
    }

    /// Whether every thread has finished and no store is pending.
    pub fn is_final(&self, s: &[Val]) -> bool {
        self.thread_ids().all(|t| self.thread_done(s, t))
            && match &self.engine {
                Engine::StoreBuffers(_) => self.core.layout.all_segments_empty(s),
                Engine::Go(go) => go.settled(&self.core, s),
            }
    }

    /// The thread that panicked, if one did: the program has stopped.
    pub fn panicked(&self, s: &[Val]) -> Option<ThreadId> {
        self.thread_ids()
            .find(|&t| self.core.layout.pc(s, t) > self.core.program.threads[t.index()].code.len())
    }

    /// Whether the execution that reached `s` has had a data race.
    pub fn is_racy(&self, s: &[Val]) -> bool {
        let start = self.core.layout.fixed().start;
        self.races.racy(&s[start..start + self.races.len()])
    }

    fn race_words<'s>(&self, s: &'s mut [Val]) -> &'s mut [Val] {
        self.race_view(s).1
    }

    /// The threads' pcs and the race-detection words of `s`.
    fn race_view<'s>(&self, s: &'s mut [Val]) -> (&'s [Val], &'s mut [Val]) {
        let start = self.core.layout.fixed().start;
        let (head, tail) = s.split_at_mut(start);
        (
            &head[..self.core.program.threads.len()],
            &mut tail[..self.races.len()],
        )
    }

    /// Whether thread `t` has finished its code (its buffers may still hold stores).
    pub fn thread_done(&self, s: &[Val], t: ThreadId) -> bool {
        self.core.finished(s, t)
    }

    /// Current values of the program's observables, in [`Program::observables`] order.
    pub fn observe(&self, s: &[Val]) -> Vec<Val> {
        self.observe_renamed(s, &[])
    }

    /// The observables of `s` with its threads renamed (thread `i` of the
    /// renamed state is thread `from[i]` of `s`; threads past `from`'s end
    /// keep their names), without building the renamed state.
    pub fn observe_renamed(&self, s: &[Val], from: &[usize]) -> Vec<Val> {
        let layout = &self.core.layout;
        let name = |t: ThreadId| from.get(t.index()).map_or(t, |&u| ThreadId(u as u16));
        self.observables
            .iter()
            .map(|o| match *o {
                Observable::Reg(t, r) => layout.regs(s, name(t))[r.index()],
                Observable::Loc(l) => layout.mem(s, l),
            })
            .collect()
    }

    /// Calls `visit` with every enabled step, its effect, the race it causes (if
    /// any) and its successor state, in a fixed order: thread by thread, the
    /// steps the engine lists for it, then the final observer's. Under
    /// partial-order reduction only the steps of a persistent set are
    /// visited; returns whether some enabled step was left out.
    pub fn successors(
        &self,
        s: &[Val],
        scratch: &mut Vec<Val>,
        mut visit: impl FnMut(Step, Effect, Option<RaceHit>, &[Val]),
    ) -> bool {
        if self.panicked(s).is_some() {
            return false;
        }
        let mut left_out = false;
        let persistent = self.partial_order.as_ref().map(|reduction| {
            let (persistent, enabled) = reduction.persistent(&self.core, s);
            debug_assert_eq!(
                enabled,
                self.enabled_processes(s, reduction),
                "invariant: the reduction knows which steps are enabled"
            );
            left_out = persistent != enabled;
            (reduction, persistent)
        });
        let mut candidates: SmallVec<[Step; 8]> = SmallVec::new();
        for t in self.thread_ids() {
            candidates.clear();
            match &self.engine {
                Engine::StoreBuffers(buffers) => {
                    buffers.candidates(&self.core, s, t, &mut candidates)
                }
                Engine::Go(go) => go.candidates(&self.core, s, t, &mut candidates),
            }
            if let Some((reduction, persistent)) = persistent {
                candidates.retain(|step| persistent & 1 << reduction.process_of(*step) != 0);
            }
            self.visit_all(s, &candidates, scratch, &mut visit);
        }
        if let Engine::Go(go) = &self.engine {
            candidates.clear();
            go.observations(&self.core, s, &mut candidates);
            self.visit_all(s, &candidates, scratch, &mut visit);
        }
        left_out
    }

    /// The processes of `reduction` whose next step is enabled at `s`, found
    /// by trying every step (what the reduction's own account is checked
    /// against).
    fn enabled_processes(&self, s: &[Val], reduction: &PartialOrder) -> Processes {
        let mut candidates: SmallVec<[Step; 8]> = SmallVec::new();
        let Engine::StoreBuffers(buffers) = &self.engine else {
            return 0;
        };
        for t in self.thread_ids() {
            buffers.candidates(&self.core, s, t, &mut candidates);
        }
        let mut scratch = Vec::new();
        (candidates.iter())
            .filter(|&&step| self.apply_into(s, step, &mut scratch).is_some())
            .fold(0, |set, &step| set | 1 << reduction.process_of(step))
    }

    /// The `nth` step [`Machine::successors`] lists for `s`.
    pub fn nth_step(&self, s: &[Val], nth: usize) -> Step {
        let mut steps = 0;
        let mut found = None;
        self.successors(s, &mut Vec::new(), |step, _, _, _| {
            if steps == nth {
                found = Some(step);
            }
            steps += 1;
        });
        found.expect("invariant: the state lists that many steps")
    }

    fn visit_all(
        &self,
        s: &[Val],
        steps: &[Step],
        scratch: &mut Vec<Val>,
        visit: &mut impl FnMut(Step, Effect, Option<RaceHit>, &[Val]),
    ) {
        for &step in steps {
            if let Some((effect, race)) = self.step(s, step, Enabled::Known, scratch) {
                visit(step, effect, race, scratch);
            }
        }
    }

    /// The effect of `step` and the state after it, if it is enabled.
    pub fn apply(&self, s: &[Val], step: Step) -> Option<(Effect, Vec<Val>)> {
        let mut next = Vec::new();
        self.apply_into(s, step, &mut next)
            .map(|effect| (effect, next))
    }

    /// [`Machine::apply`] into `out` (replacing its contents).
    pub fn apply_into(&self, s: &[Val], step: Step, out: &mut Vec<Val>) -> Option<Effect> {
        self.step(s, step, Enabled::Check, out)
            .map(|(effect, _)| effect)
    }

    /// Takes `step` from `s` into `out`, updating the race-detection words;
    /// `None` if the step is not enabled (`enabled` says whether that is
    /// known: the step was listed for `s`).
    fn step(
        &self,
        s: &[Val],
        step: Step,
        enabled: Enabled,
        out: &mut Vec<Val>,
    ) -> Option<(Effect, Option<RaceHit>)> {
        if step
            .thread()
            .is_some_and(|t| t.index() >= self.core.program.threads.len())
        {
            return None;
        }
        let effect = match &self.engine {
            Engine::StoreBuffers(buffers) => buffers.step(&self.core, s, step, out)?,
            Engine::Go(go) => go.step(&self.core, s, step, enabled, out)?,
        };
        let race = match (effect, step.thread()) {
            (Effect::Commit { loc, .. }, _) => {
                self.races.commit(self.race_words(out), loc);
                None
            }
            (_, Some(t)) => {
                let (pcs, words) = self.race_view(out);
                self.races.run(pcs, words, t, &effect)
            }
            (_, None) => None,
        };
        Some((effect, race))
    }
}

impl Core<'_> {
    /// Whether thread `t` has run to the end of its code, or is a goroutine
    /// that no `Go` has started. The latter counts as finished wherever
    /// finishing is asked about (every other thread finished, or all stuck):
    /// no `Go` can start it any more, so it never exists.
    pub fn finished(&self, s: &[Val], t: ThreadId) -> bool {
        let pc = self.layout.pc(s, t);
        pc == self.program.threads[t.index()].code.len()
            || (pc == 0
                && matches!(
                    self.instr(t, 0),
                    Some(Instr::Sync { op: SyncOp::Start, obj }) if self.layout.mem(s, *obj) == 0
                ))
    }

    /// Sets thread `t`'s registers `regs` in `s` and moves it to instruction
    /// `target`, running the register-only code there: a step that accesses
    /// nothing (a `select`'s default, a failed `TryLock`).
    pub fn jump(&self, s: &mut [Val], t: ThreadId, regs: &[(Reg, Val)], target: usize) -> Effect {
        for &(reg, v) in regs {
            self.layout.regs_mut(s, t)[reg.index()] = v;
        }
        self.layout.set_pc(s, t, target);
        self.run_local(s, t);
        Effect::Local
    }

    /// Stops thread `t`, whose instruction `pc` panicked, in `s`: its pc moves
    /// past the end of its code, where [`Machine::panicked`] finds it.
    pub fn panic(&self, s: &mut [Val], t: ThreadId, pc: usize) -> Effect {
        let end = self.program.threads[t.index()].code.len();
        self.layout.set_pc(s, t, end + 1);
        Effect::Panic { pc }
    }

    /// Runs thread `t`'s register-only instructions until a shared one, the end of
    /// its code, or [`LOCAL_RUN_LIMIT`]. A run that comes back to a (pc,
    /// registers) pair it had stops there: Brent's cycle detection, comparing
    /// with one saved pair replaced at doubling distances, so a long run
    /// costs no memory and little time per instruction.
    pub fn run_local(&self, s: &mut [Val], t: ThreadId) {
        let mut saved: (usize, SmallVec<[Val; 8]>) = (usize::MAX, SmallVec::new());
        let (mut distance, mut since) = (1usize, 0usize);
        for steps in 0..LOCAL_RUN_LIMIT {
            if !self.step_local(s, t) {
                return;
            }
            if steps < LOCAL_CYCLE_CHECK_AFTER {
                continue;
            }
            let (pc, regs) = (self.layout.pc(s, t), self.layout.regs(s, t));
            if saved.0 == pc && saved.1.as_slice() == regs {
                return;
            }
            since += 1;
            if since == distance {
                saved = (pc, SmallVec::from_slice(regs));
                distance *= 2;
                since = 0;
            }
        }
    }

    /// Executes one register-only instruction of `t` in place; false if the next
    /// instruction is shared (or the thread is done).
    pub fn step_local(&self, s: &mut [Val], t: ThreadId) -> bool {
        match self.local_effect(s, t) {
            Some(next) => {
                self.layout.set_pc(s, t, next);
                true
            }
            None => false,
        }
    }

    /// Applies the register-only instruction at `t`'s pc to its registers
    /// (a `Let` sets one, a `Goto` none) and returns the pc it leads to,
    /// leaving the pc where it is; `None` if the instruction is shared (or
    /// the thread is done).
    pub fn local_effect(&self, s: &mut [Val], t: ThreadId) -> Option<usize> {
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
            _ => return None,
        };
        Some(next)
    }

    /// The instruction at `pc` of thread `t`, if any.
    pub fn instr(&self, t: ThreadId, pc: usize) -> Option<&Instr> {
        self.program.threads[t.index()].code.get(pc)
    }
}

/// `out = s`.
pub(crate) fn copy_into(out: &mut Vec<Val>, s: &[Val]) {
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
        assert_eq!(machine.core.layout.mem(&buffered, Loc(0)), 0);
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
            kind: ModelKind::StoreBuffers(crate::model::StoreBufferConfig {
                forwarding: crate::model::Forwarding::Disabled,
                ..Model::tso().store_buffers_config().unwrap()
            }),
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
            let commit_x = match model.store_buffers_config().unwrap().buffer {
                crate::model::BufferShape::PerThreadPerLocation => {
                    Step::Commit(ThreadId(0), Some(Loc(0)))
                }
                _ => Step::Commit(ThreadId(0), None),
            };
            assert_eq!(steps(&machine, &buffered), vec![commit_x], "{}", model.name);
        }
    }

    /// The number of states, by breadth-first search; `None` if some state
    /// is reached by paths of different lengths. Checks that every state
    /// without a step is final.
    fn unique_depths(machine: &Machine<'_>) -> Option<usize> {
        let mut depth = std::collections::HashMap::new();
        let mut layer = vec![machine.initial_state()];
        depth.insert(layer[0].clone(), 0);
        let mut d = 0;
        while !layer.is_empty() {
            let mut next = Vec::new();
            for s in &layer {
                let mut found = Vec::new();
                machine.successors(s, &mut Vec::new(), |_, _, _, n| found.push(n.to_vec()));
                assert!(!found.is_empty() || machine.is_final(s), "stuck in {s:?}");
                for n in found {
                    match depth.get(&n) {
                        Some(&e) if e != d + 1 => return None,
                        Some(_) => {}
                        None => {
                            depth.insert(n.clone(), d + 1);
                            next.push(n);
                        }
                    }
                }
            }
            layer = next;
            d += 1;
        }
        Some(depth.len())
    }

    #[test]
    fn straight_line_code_under_store_buffers_is_graded() {
        let program = parse_str(
            r#"Litmus(name: "g", threads: [
                [Store("x", 1), Load("r0", "x"), Fence, Load("r1", "y")],
                [Store("y", 1), FetchAdd("r0", "x", 1), Let("r1", "r0 + 1"), Store("x", "r1")],
              ], condition: "exists 0:r0=1")"#,
            "g.ron",
        )
        .unwrap()
        .program;
        for model in [Model::sc(), Model::tso(), Model::pso()] {
            let machine = Machine::new(&program, &model);
            assert!(machine.graded(), "{}", model.name);
            let states = unique_depths(&machine);
            assert!(states.is_some_and(|n| n > 10), "{}: {states:?}", model.name);
        }
        let model = Model::go();
        assert!(!Machine::new(&program, &model).graded());
    }

    #[test]
    fn a_jump_makes_a_machine_ungraded() {
        // Thread 0 reaches its last load with r0 = 0 by one step, reading
        // x = 0 and jumping over the `then` block, or by two, reading x = 1
        // and loading y in the block.
        let program = parse_str(
            r#"Litmus(name: "j", threads: [
                [Load("r0", "x"), If(cond: "r0 == 1", then: [Load("r0", "y")]), Load("r1", "x")],
                [Store("x", 1)],
              ], condition: "exists 0:r0=1")"#,
            "j.ron",
        )
        .unwrap()
        .program;
        let model = Model::sc();
        let machine = Machine::new(&program, &model);
        assert!(!machine.graded());
        assert_eq!(
            unique_depths(&machine),
            None,
            "the jump does shorten a path"
        );
    }
}

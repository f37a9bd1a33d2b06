//! The `go` model: the Go memory model (<https://go.dev/ref/mem>, version of
//! June 6, 2022), including its rule for programs with data races. The rules,
//! in plain words (docs/models.md has them for users):
//!
//! 1. **Synchronising operations are sequentially consistent.** Atomic loads,
//!    stores and read-modify-writes act in one interleaving, each read seeing
//!    the last atomic write to its variable (or the initial value), or a plain
//!    write that races with it and happens before no atomic write to the
//!    variable (rule 2 lets it return that one); an atomic read of an atomic
//!    write is synchronised before it.
//! 2. **A plain read may observe any write its may-observe set allows** among
//!    the writes executed so far: a write `w` to `x` unless another write `w'`
//!    to `x` has `w hb w'` and `w' hb r` (an executed write never happens after
//!    the read). So a racy read can return an older value than the newest one.
//! 3. **Independent plain accesses may execute out of program order** within a
//!    goroutine: an instruction can run before earlier ones of its thread when
//!    none of those is a synchronising operation or a branch it does not
//!    post-dominate, none writes a register it reads or reads or writes a
//!    register it writes, and none accesses its variable. A branch is passed
//!    only by an access every path from it reaches: its jump and every jump
//!    between them go forward, no further than the access ([`may_pass`]).
//!    hbsim looks up to [`WINDOW`] instructions ahead (by index, counting the
//!    arms of every `If` in between).
//! 4. **No values out of thin air**: every value read was written by an executed
//!    write (or is a variable's initial value).
//!
//! The final values are what a read that happens after every goroutine has
//! finished may observe: for each variable, any write not overwritten in
//! happens-before, where an atomic write is also overwritten by every later
//! atomic write (atomics act in one order). When a variable ends with more than
//! one such write, [`Step::Observe`] steps choose among them, one variable at a
//! time, after every thread has finished.
//!
//! State: the thread clocks of [`super::clocks`] (only when the program has
//! atomics; otherwise nothing synchronises and happens-before between threads
//! is empty), for each thread a bit mask of the instructions ahead of its pc it
//! has already executed, and for each variable the **history** of its writes
//! that some thread could still observe: entries `(value, writer + 1, atomic,
//! clock of the writer at the write)`, oldest first, writer 0 meaning the
//! initial write. A write stays in the history while a thread that reads the
//! variable and has not finished could observe it, or while the final
//! observer could; the newest write and the last atomic write always stay.

use std::sync::atomic::{AtomicBool, Ordering};

use super::clocks::{Density, ThreadClocks, renumber};
use super::machine::{Core, Effect, Sink, Source, copy_into};
use super::store_buffer::rmw_result;

use smallvec::SmallVec;

use super::sync::{self, SyncAction};
use crate::ir::{Access, Expr, Instr, Loc, Program, Reg, SyncOp, ThreadId, Val};
use crate::trace::Step;

/// How many instructions past its pc a thread may execute early.
pub(crate) const WINDOW: usize = 4;

// Which of the WINDOW instructions before it an access may pass is a byte.
const _: () = assert!(WINDOW <= 8);

/// Offsets of the fields of a history entry.
const VALUE: usize = 0;
const WRITER: usize = 1;
const ATOMIC: usize = 2;
const CLOCK: usize = 3;

/// The `WRITER` word of an entry thread `t` wrote (0 is the initial value).
fn writer_word(t: ThreadId) -> Val {
    Val::from(t.0) + 1
}

/// Whether a step is known to be enabled in the state it is taken from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Enabled {
    /// The machine listed it for that state: only the effect is worked out.
    Known,
    /// It comes from elsewhere (a trace being replayed): checked first.
    Check,
}

/// The Go memory model for one program.
#[derive(Debug)]
pub(crate) struct GoMemory {
    threads: usize,
    locs: usize,
    /// Whether the program has atomic accesses (so clocks are stored).
    synchronising: bool,
    /// Offset of the done masks within the fixed words.
    masks: usize,
    /// The thread clocks, within the fixed words.
    clocks: ThreadClocks,
    /// Values per history entry.
    width: usize,
    /// For each variable, the threads that read it (loads and read-modify-writes)
    /// and how (plain or atomic).
    readers: Vec<Vec<(ThreadId, Access)>>,
    /// For each thread, the variables it reads.
    reads: Vec<Vec<Loc>>,
    /// For each thread and instruction `j`, bit `k - 1` set when `j` is a
    /// plain access that may run before instruction `j - k` ([`may_pass`]).
    passes: Vec<Vec<u8>>,
    /// For each thread and instruction `j`, whether `j` is a plain access
    /// that may run before instruction `i`, by `i` (`i < j`).
    passes_any: Vec<Vec<Vec<bool>>>,
    /// Whether some explored state had a store more than [`WINDOW`] past its
    /// thread's pc that rule 3 would let run ([`GoMemory::cuts_window`]): the
    /// outcomes of a longer look-ahead may be missing.
    window_cut: AtomicBool,
}

impl GoMemory {
    /// The model for `program`, its words starting `base` words into the fixed words.
    pub fn new(program: &Program, base: usize) -> Self {
        let threads = program.threads.len();
        let locs = program.locs.len();
        let passes_any: Vec<Vec<Vec<bool>>> = program
            .threads
            .iter()
            .map(|thread| {
                let code = &thread.code;
                (0..code.len())
                    .map(|j| (0..j).map(|i| may_pass(code, i, j)).collect())
                    .collect()
            })
            .collect();
        let mut readers = vec![Vec::new(); locs];
        let mut synchronising = false;
        for (t, thread) in program.threads.iter().enumerate() {
            for instr in &thread.code {
                let read = match instr {
                    Instr::Load { loc, access, .. } => Some((loc, *access)),
                    Instr::Sync {
                        op: SyncOp::Select { .. },
                        ..
                    } => None,
                    Instr::Rmw { loc, .. } | Instr::Sync { obj: loc, .. } => {
                        Some((loc, Access::Atomic))
                    }
                    _ => None,
                };
                if let Some((loc, access)) = read {
                    let reader = (ThreadId(t as u16), access);
                    if !readers[loc.index()].contains(&reader) {
                        readers[loc.index()].push(reader);
                    }
                }
                if let Instr::Load {
                    access: Access::Atomic,
                    ..
                }
                | Instr::Store {
                    access: Access::Atomic,
                    ..
                }
                | Instr::Rmw { .. }
                | Instr::Sync { .. } = instr
                {
                    synchronising = true;
                }
            }
        }
        GoMemory {
            threads,
            locs,
            synchronising,
            masks: base,
            clocks: ThreadClocks {
                start: base + threads,
                threads,
            },
            width: CLOCK + if synchronising { threads } else { 0 },
            passes: passes_any
                .iter()
                .map(|thread| {
                    (thread.iter().enumerate())
                        .map(|(j, before)| {
                            (1..=WINDOW.min(j))
                                .filter(|&k| before[j - k])
                                .fold(0, |bits, k| bits | 1 << (k - 1))
                        })
                        .collect()
                })
                .collect(),
            passes_any,
            window_cut: AtomicBool::new(false),
            reads: (0..threads)
                .map(|t| {
                    (0..locs)
                        .filter(|&l| readers[l].iter().any(|&(u, _)| u.index() == t))
                        .map(|l| Loc(l as u16))
                        .collect()
                })
                .collect(),
            readers,
        }
    }

    /// Fixed words, segments and entry width this model needs.
    pub fn words(&self) -> (usize, usize, usize) {
        let clocks = if self.synchronising {
            self.clocks.len()
        } else {
            0
        };
        (self.threads + clocks, self.locs, self.width)
    }

    /// Puts each variable's initial write in its history and starts the clocks.
    pub fn initialise(&self, core: &Core<'_>, s: &mut Vec<Val>) {
        for (l, location) in core.program.locs.iter().enumerate() {
            let mut entry = vec![0; self.width];
            entry[VALUE] = location.init;
            core.layout.push(s, l, &entry);
        }
        if self.synchronising {
            let fixed = core.layout.fixed();
            self.clocks.initialise(&mut s[fixed]);
        }
    }

    /// The steps thread `t` may take: its next instruction, and each
    /// independent plain access up to [`WINDOW`] instructions ahead; a read
    /// once per write it may return.
    pub fn candidates(
        &self,
        core: &Core<'_>,
        s: &[Val],
        t: ThreadId,
        out: &mut smallvec::SmallVec<[Step; 8]>,
    ) {
        let pc = core.layout.pc(s, t);
        if core.instr(t, pc).is_none() {
            return;
        }
        if !self.window_cut.load(Ordering::Relaxed) && self.cuts_window(core, s, t) {
            self.window_cut.store(true, Ordering::Relaxed);
        }
        for j in std::iter::once(pc)
            .chain((pc + 1..=pc + WINDOW).filter(|&j| self.may_run_early(core, s, t, j)))
        {
            match core.instr(t, j) {
                Some(Instr::Load { loc, access, .. }) => {
                    for choice in self.readable(core, s, t, *loc, *access) {
                        out.push(exec(t, j, choice));
                    }
                }
                Some(Instr::Rmw { loc, .. }) => {
                    for choice in self.readable(core, s, t, *loc, Access::Atomic) {
                        out.push(exec(t, j, choice));
                    }
                }
                Some(Instr::Sync { op, .. }) if sync::choices(core.program, op).is_some() => {
                    for choice in 0..sync::choices(core.program, op).unwrap_or(0) {
                        out.push(exec(t, j, choice));
                    }
                }
                Some(_) => out.push(exec(t, j, 0)),
                None => {}
            }
        }
    }

    /// Takes an `Exec` step from `s` into `out`; `None` if it is not enabled.
    /// With `enabled` [`Enabled::Known`] (the step is one of
    /// [`GoMemory::candidates`] or [`GoMemory::observations`] for `s`), which
    /// writes a read may return and which instructions may run early are not
    /// worked out again.
    pub fn step(
        &self,
        core: &Core<'_>,
        s: &[Val],
        step: Step,
        enabled: Enabled,
        out: &mut Vec<Val>,
    ) -> Option<Effect> {
        let check = enabled == Enabled::Check;
        let (t, j, choice) = match step {
            Step::Exec { thread, pc, choice } => (thread, pc, choice),
            Step::Observe { loc, choice } => {
                return self.observe(core, s, loc, choice, check, out);
            }
            Step::Run(_) | Step::Commit(..) => return None,
        };
        let (j, choice) = (j as usize, choice as usize);
        let layout = &core.layout;
        let pc = layout.pc(s, t);
        let in_order = j == pc;
        let early = || in_order || self.may_run_early(core, s, t, j);
        debug_assert!(check || early(), "invariant: a listed step may run");
        if check && !early() {
            return None;
        }
        let readable = |loc: Loc, access: Access| {
            let may = || self.readable(core, s, t, loc, access).any(|i| i == choice);
            debug_assert!(
                check || may(),
                "invariant: a listed read may return its write"
            );
            !check || may()
        };
        let instr = core.instr(t, j)?;
        copy_into(out, s);
        let effect = match instr {
            Instr::Load { dst, loc, access } => {
                if (*access == Access::Atomic && !in_order) || !readable(*loc, *access) {
                    return None;
                }
                let (entry, from) = self.entry(core, s, *loc, choice);
                let value = entry[VALUE];
                if *access == Access::Atomic {
                    self.acquire(core, out, t, entry);
                }
                layout.regs_mut(out, t)[dst.index()] = value;
                Effect::Read {
                    pc: j,
                    loc: *loc,
                    value,
                    access: *access,
                    from,
                }
            }
            Instr::Store { loc, value, access } => {
                if choice != 0 || (*access == Access::Atomic && !in_order) {
                    return None;
                }
                let value = value.eval(layout.regs(s, t));
                self.write(core, out, t, *loc, value, *access == Access::Atomic);
                Effect::Write {
                    pc: j,
                    loc: *loc,
                    value,
                    access: *access,
                    to: Sink::History,
                }
            }
            Instr::Rmw { dst, loc, op } => {
                if !in_order || !readable(*loc, Access::Atomic) {
                    return None;
                }
                let (entry, from) = self.entry(core, s, *loc, choice);
                let old = entry[VALUE];
                self.acquire(core, out, t, entry);
                let new = rmw_result(op, old, layout.regs(s, t));
                if let Some(new) = new {
                    self.write(core, out, t, *loc, new, true);
                }
                layout.regs_mut(out, t)[dst.index()] = old;
                Effect::Rmw {
                    pc: j,
                    loc: *loc,
                    old,
                    new,
                    from,
                }
            }
            Instr::Fence => {
                if !in_order || choice != 0 {
                    return None;
                }
                Effect::Fence { pc: j }
            }
            Instr::Sync { op, obj } if sync::choices(core.program, op).is_some() => {
                if !in_order {
                    return None;
                }
                let cx = sync::Ctx { core, s, t };
                match sync::choose(&cx, (op, *obj, j), choice)? {
                    sync::Choice::Act(step, next) => {
                        let effect = self.sync_step(core, s, out, t, j, step)?;
                        // A panicked state is terminal: nothing to tidy.
                        if !matches!(effect, Effect::Panic { .. }) {
                            layout.set_pc(out, t, next);
                            core.run_local(out, t);
                            self.tidy(core, out, t, effect);
                        }
                        return Some(effect);
                    }
                    sync::Choice::Jump(regs, target) => {
                        let effect = core.jump(out, t, &regs, target);
                        self.tidy(core, out, t, effect);
                        return Some(effect);
                    }
                }
            }
            Instr::Sync { op, obj } => {
                if !in_order || choice != 0 {
                    return None;
                }
                let step = sync::step(&sync::Ctx { core, s, t }, op, *obj);
                let effect = self.sync_step(core, s, out, t, j, step)?;
                if matches!(effect, Effect::Panic { .. }) {
                    return Some(effect);
                }
                effect
            }
            Instr::Let { .. } | Instr::Goto { .. } => {
                if !in_order || choice != 0 {
                    return None;
                }
                debug_assert_eq!(
                    self.mask(core, s, t),
                    0,
                    "invariant: `advance` runs the local steps of a thread with instructions run early"
                );
                core.step_local(out, t);
                core.run_local(out, t);
                self.tidy(core, out, t, Effect::Local);
                return Some(Effect::Local);
            }
        };
        if in_order {
            self.advance(core, out, t);
        } else {
            let fixed = layout.fixed();
            out[fixed.start + self.masks + t.index()] |= 1 << (j - pc - 1);
        }
        self.tidy(core, out, t, effect);
        Some(effect)
    }

    /// The final observer's steps: once every thread has finished, one
    /// [`Step::Observe`] per write the first unsettled variable may end with.
    pub fn observations(
        &self,
        core: &Core<'_>,
        s: &[Val],
        out: &mut smallvec::SmallVec<[Step; 8]>,
    ) {
        if !self.all_finished(core, s) {
            return;
        }
        if let Some(l) = (0..self.locs).find(|&l| core.layout.segment_len(s, l) > 1) {
            let loc = Loc(l as u16);
            out.extend(self.final_candidates(core, s, loc).map(|i| Step::Observe {
                loc,
                choice: i as u16,
            }));
        }
    }

    /// Whether every variable has settled on its final write: each history
    /// holds one entry (after every thread finished, the history holds exactly
    /// the writes the final observer may read).
    pub fn settled(&self, core: &Core<'_>, s: &[Val]) -> bool {
        (0..self.locs).all(|l| core.layout.segment_len(s, l) == 1)
    }

    /// Takes an `Observe` step: the variable keeps only the chosen write;
    /// `check`: whether to check that it may.
    fn observe(
        &self,
        core: &Core<'_>,
        s: &[Val],
        loc: Loc,
        choice: u16,
        check: bool,
        out: &mut Vec<Val>,
    ) -> Option<Effect> {
        let choice = usize::from(choice);
        let n = core.layout.segment_len(s, loc.index());
        let may = || {
            self.all_finished(core, s)
                && n >= 2
                && self.final_candidates(core, s, loc).any(|i| i == choice)
        };
        debug_assert!(
            check || may(),
            "invariant: a listed observation may be made"
        );
        if check && !may() {
            return None;
        }
        copy_into(out, s);
        for i in (0..n).rev().filter(|&i| i != choice) {
            core.layout.discard(out, loc.index(), i);
        }
        let value = core.layout.segment(out, loc.index())[VALUE];
        core.layout.set_mem(out, loc, value);
        self.renumber(core, out);
        Some(Effect::Observe { loc, value })
    }

    fn all_finished(&self, core: &Core<'_>, s: &[Val]) -> bool {
        (0..self.threads).all(|t| core.finished(s, ThreadId(t as u16)))
    }

    /// The history entries of `loc` a read after every thread may observe: those
    /// no other entry overwrites in happens-before, and for an atomic write, no
    /// later atomic write either.
    fn final_candidates<'a>(
        &'a self,
        core: &'a Core<'_>,
        s: &'a [Val],
        loc: Loc,
    ) -> impl Iterator<Item = usize> + 'a {
        self.not_overwritten(
            core,
            s,
            loc,
            move |(a, ia), (b, ib)| {
                self.write_hb(a, ia, b, ib) || (ib > ia && a[ATOMIC] != 0 && b[ATOMIC] != 0)
            },
            |_| true,
        )
    }

    /// The history entries of `loc` that no other entry overwrites, as
    /// `overwrites((entry, index), (other, other_index))` says.
    ///
    /// Without synchronising operations the pairs need no clocks:
    /// happens-before is then program order, so the initial value is
    /// overwritten by any write that `hides` (by its writer, thread + 1)
    /// older writes, and a write by a newer write of its own thread when that
    /// thread `hides` (a cheaper test with the same answer, checked against
    /// `overwrites` in debug builds).
    fn not_overwritten<'a>(
        &'a self,
        core: &'a Core<'_>,
        s: &'a [Val],
        loc: Loc,
        overwrites: impl Fn((&[Val], usize), (&[Val], usize)) -> bool + 'a,
        hides: impl Fn(Val) -> bool + 'a,
    ) -> impl Iterator<Item = usize> + 'a {
        let history = core.layout.segment(s, loc.index());
        let n = history.len() / self.width;
        let entry = move |i: usize| &history[i * self.width..(i + 1) * self.width];
        let writer = move |i: usize| history[i * self.width + WRITER];
        let pairwise =
            move |i: usize| (0..n).any(|k| k != i && overwrites((entry(i), i), (entry(k), k)));
        (0..n).filter(move |&i| {
            if self.synchronising {
                return !pairwise(i);
            }
            let overwritten = match writer(i) {
                0 => (0..n).any(|k| k != i && hides(writer(k))),
                w => hides(w) && (i + 1..n).any(|k| writer(k) == w),
            };
            debug_assert_eq!(
                overwritten,
                pairwise(i),
                "invariant: without synchronisation, program order decides overwriting"
            );
            !overwritten
        })
    }

    fn mask(&self, core: &Core<'_>, s: &[Val], t: ThreadId) -> Val {
        s[core.layout.fixed().start + self.masks + t.index()]
    }

    /// Whether the window keeps thread `t` from running early a store that
    /// rule 3 would let run now: one more than [`WINDOW`] past the pc that
    /// may pass every instruction from the pc on that has not run. Only a
    /// store matters: a load run earlier can observe no write it could not
    /// observe later (it passes nothing that synchronises or touches its
    /// variable), so it adds no outcome; but a load past the window that
    /// could run counts as run, since a store after it may then pass it.
    fn cuts_window(&self, core: &Core<'_>, s: &[Val], t: ThreadId) -> bool {
        let pc = core.layout.pc(s, t);
        let passes = &self.passes_any[t.index()];
        if passes.len() <= pc + WINDOW + 1 {
            return false;
        }
        let mask = self.mask(core, s, t);
        let mut ran: SmallVec<[bool; 16]> = (pc..passes.len())
            .map(|i| i > pc && i <= pc + WINDOW && mask & (1 << (i - pc - 1)) != 0)
            .collect();
        for j in pc + WINDOW + 1..passes.len() {
            if !(pc..j).all(|i| ran[i - pc] || passes[j][i]) {
                continue;
            }
            match core.instr(t, j) {
                Some(Instr::Store { .. }) => return true,
                _ => ran[j - pc] = true,
            }
        }
        false
    }

    /// Whether the outcomes may miss runs that look further ahead than
    /// [`WINDOW`] instructions (some explored state had such a run to take).
    pub fn window_cut(&self) -> bool {
        self.window_cut.load(Ordering::Relaxed)
    }

    /// Whether instruction `j` (after the pc) of thread `t` may run now: it is a
    /// plain access not yet run, and every instruction between the pc and it
    /// that has not run is a register-only `Let` or a plain access independent
    /// of it.
    fn may_run_early(&self, core: &Core<'_>, s: &[Val], t: ThreadId, j: usize) -> bool {
        let pc = core.layout.pc(s, t);
        if j <= pc || j > pc + WINDOW {
            return false;
        }
        let mask = self.mask(core, s, t);
        if mask & (1 << (j - pc - 1)) != 0 {
            return false;
        }
        let passes = self.passes[t.index()].get(j).copied().unwrap_or(0);
        (pc..j).all(|i| {
            let done = i > pc && mask & (1 << (i - pc - 1)) != 0;
            done || passes & (1 << (j - i - 1)) != 0
        })
    }

    /// The history entries of `loc` a read by thread `u` with `access` may
    /// return, by index: every entry it may observe (rule 2), and for an atomic
    /// read (or read-modify-write) only those the order of atomics allows: the
    /// last atomic write, and plain writes that happen before no atomic write
    /// to the variable (a plain write racing with every atomic write may still
    /// be observed; one that happens before an atomic write is older than it,
    /// which keeps race-free programs sequentially consistent). The initial
    /// value counts as a plain write that happens before every other write.
    fn readable<'a>(
        &'a self,
        core: &'a Core<'_>,
        s: &'a [Val],
        u: ThreadId,
        loc: Loc,
        access: Access,
    ) -> impl Iterator<Item = usize> + 'a {
        let history = core.layout.segment(s, loc.index());
        let entry = move |i: usize| &history[i * self.width..(i + 1) * self.width];
        let atomic = (0..history.len() / self.width).filter(move |&k| entry(k)[ATOMIC] != 0);
        let last_atomic = atomic.clone().next_back();
        self.observable(core, s, u, loc)
            .filter(move |&i| match access {
                Access::Plain => true,
                Access::Atomic if entry(i)[ATOMIC] != 0 => last_atomic == Some(i),
                Access::Atomic => !atomic
                    .clone()
                    .any(|k| self.write_hb(entry(i), i, entry(k), k)),
            })
    }

    /// History entry `index` of `loc`, and the source a read of it reports.
    fn entry<'s>(
        &self,
        core: &Core<'_>,
        s: &'s [Val],
        loc: Loc,
        index: usize,
    ) -> (&'s [Val], Source) {
        let history = core.layout.segment(s, loc.index());
        let entry = &history[index * self.width..(index + 1) * self.width];
        let writer = (entry[WRITER] != 0).then(|| ThreadId((entry[WRITER] - 1) as u16));
        let atomic = entry[ATOMIC] != 0;
        (entry, Source::History { writer, atomic })
    }

    /// The history entries of `loc` that thread `u` may observe, by index.
    fn observable<'a>(
        &'a self,
        core: &'a Core<'_>,
        s: &'a [Val],
        u: ThreadId,
        loc: Loc,
    ) -> impl Iterator<Item = usize> + 'a {
        self.not_overwritten(
            core,
            s,
            loc,
            move |(a, ia), (b, ib)| self.write_hb(a, ia, b, ib) && self.hb_point(core, s, b, u),
            move |writer| writer == writer_word(u),
        )
    }

    /// Whether history entry `a` (at index `ia`) happens before entry `b` (at `ib`).
    fn write_hb(&self, a: &[Val], ia: usize, b: &[Val], ib: usize) -> bool {
        match (a[WRITER], b[WRITER]) {
            (0, _) => true,
            (_, 0) => false,
            (wa, wb) if wa == wb => ia < ib,
            (wa, _) => {
                let t = (wa - 1) as usize;
                self.synchronising && a[CLOCK + t] <= b[CLOCK + t]
            }
        }
    }

    /// Whether history entry `w` happens before the current point of thread `u`.
    fn hb_point(&self, core: &Core<'_>, s: &[Val], w: &[Val], u: ThreadId) -> bool {
        match w[WRITER] {
            0 => true,
            writer if writer == writer_word(u) => true,
            writer => {
                let t = (writer - 1) as usize;
                let fixed = core.layout.fixed().start;
                self.synchronising && w[CLOCK + t] <= s[fixed + self.clocks.at(u.index(), t)]
            }
        }
    }

    /// Appends a write to `loc`'s history and makes it the newest value.
    fn write(
        &self,
        core: &Core<'_>,
        out: &mut Vec<Val>,
        t: ThreadId,
        loc: Loc,
        value: Val,
        atomic: bool,
    ) {
        let mut entry = vec![0; self.width];
        entry[VALUE] = value;
        entry[WRITER] = writer_word(t);
        entry[ATOMIC] = Val::from(atomic);
        let fixed = core.layout.fixed().start;
        if self.synchronising {
            for u in 0..self.threads {
                entry[CLOCK + u] = out[fixed + self.clocks.at(t.index(), u)];
            }
            if atomic {
                out[fixed + self.clocks.at(t.index(), t.index())] += 1;
            }
        }
        // An identical older entry (same writer, value and clock: no release in
        // between) can be observed exactly when the new one can, so it is
        // dropped; a loop repeating a write then revisits states.
        let same = core
            .layout
            .segment(out, loc.index())
            .chunks_exact(self.width)
            .position(|older| older == entry.as_slice());
        if let Some(i) = same {
            core.layout.discard(out, loc.index(), i);
        }
        core.layout.push(out, loc.index(), &entry);
        core.layout.set_mem(out, loc, value);
    }

    /// Carries a synchronisation step of thread `t` at instruction `j` out
    /// from `s` into `out` (already a copy of `s`); the caller moves the pc.
    fn sync_step(
        &self,
        core: &Core<'_>,
        s: &[Val],
        out: &mut Vec<Val>,
        t: ThreadId,
        j: usize,
        step: sync::Step,
    ) -> Option<Effect> {
        let layout = &core.layout;
        let act = match step {
            sync::Step::Blocked => return None,
            sync::Step::Panic => return Some(core.panic(out, t, j)),
            sync::Step::Act(act) => act,
        };
        for &(reg, v) in &act.regs {
            layout.regs_mut(out, t)[reg.index()] = v;
        }
        for &(word, v) in &act.internal {
            self.set_internal(core, out, word, v);
        }
        // Every write to a synchronisation word is atomic, so an atomic read
        // of it returns the newest write.
        let newest = layout.segment_len(s, act.word.index()) - 1;
        let (entry, from) = self.entry(core, s, act.word, newest);
        match act.action {
            SyncAction::Read => self.acquire(core, out, t, entry),
            SyncAction::Write(v) => self.write(core, out, t, act.word, v, true),
            SyncAction::Rmw(v) => {
                self.acquire(core, out, t, entry);
                self.write(core, out, t, act.word, v, true);
            }
            SyncAction::Update { new, release } => {
                self.update_counter(core, out, t, act.word, new, release)
            }
        }
        Some(act.effect(j, from, Sink::History))
    }

    /// Sets a bookkeeping word (a channel's counters) without synchronising:
    /// its newest entry takes the value.
    fn set_internal(&self, core: &Core<'_>, out: &mut [Val], loc: Loc, value: Val) {
        let range = core.layout.segment_range(out, loc.index());
        out[range.end - self.width + VALUE] = value;
        core.layout.set_mem(out, loc, value);
    }

    /// A wait-group update: a new newest entry whose clock carries the
    /// previous entry's (the merged clock of the decrements so far), joined
    /// with the thread's own clock for a decrement, which then counts as a
    /// release.
    fn update_counter(
        &self,
        core: &Core<'_>,
        out: &mut Vec<Val>,
        t: ThreadId,
        loc: Loc,
        value: Val,
        release: bool,
    ) {
        let history = core.layout.segment(out, loc.index());
        let mut entry = history[history.len() - self.width..].to_vec();
        entry[VALUE] = value;
        entry[WRITER] = writer_word(t);
        entry[ATOMIC] = 1;
        if self.synchronising && release {
            let fixed = core.layout.fixed().start;
            for u in 0..self.threads {
                let mine = out[fixed + self.clocks.at(t.index(), u)];
                entry[CLOCK + u] = entry[CLOCK + u].max(mine);
            }
            out[fixed + self.clocks.at(t.index(), t.index())] += 1;
        }
        core.layout.push(out, loc.index(), &entry);
        core.layout.set_mem(out, loc, value);
    }

    /// An atomic read of `entry`: synchronises with it if it is an atomic write.
    fn acquire(&self, core: &Core<'_>, out: &mut [Val], t: ThreadId, entry: &[Val]) {
        if self.synchronising && entry[ATOMIC] != 0 {
            let fixed = core.layout.fixed().start;
            for u in 0..self.threads {
                let mine = fixed + self.clocks.at(t.index(), u);
                out[mine] = out[mine].max(entry[CLOCK + u]);
            }
        }
    }

    /// Moves thread `t`'s pc past the instruction it just ran in order, past the
    /// instructions it already ran early, and through register-only code.
    fn advance(&self, core: &Core<'_>, s: &mut [Val], t: ThreadId) {
        let mut done = self.shift(core, s, t);
        loop {
            if done {
                done = self.shift(core, s, t);
                continue;
            }
            if self.mask(core, s, t) == 0 {
                core.run_local(s, t);
                return;
            }
            // Instructions ahead ran early, so the code up to them holds
            // register-only `Let`s, memory accesses and forward jumps no
            // further than them ([`may_pass`]).
            let Some(next) = core.local_effect(s, t) else {
                return;
            };
            done = self.jump(core, s, t, next);
        }
    }

    /// Moves thread `t`'s pc one instruction on; returns whether that
    /// instruction already ran early.
    fn shift(&self, core: &Core<'_>, s: &mut [Val], t: ThreadId) -> bool {
        let next = core.layout.pc(s, t) + 1;
        self.jump(core, s, t, next)
    }

    /// Moves thread `t`'s pc forward to `next`, at most [`WINDOW`] on, with
    /// instructions ahead run early; returns whether the instruction at
    /// `next` already ran early. The instructions jumped over never ran
    /// early: an access passes a jump only if the jump lands no further
    /// than it.
    fn jump(&self, core: &Core<'_>, s: &mut [Val], t: ThreadId, next: usize) -> bool {
        let at = core.layout.fixed().start + self.masks + t.index();
        let distance = next - core.layout.pc(s, t);
        debug_assert!(
            (1..=WINDOW).contains(&distance),
            "invariant: a jump with instructions run early lands within the window"
        );
        debug_assert_eq!(
            s[at] & ((1 << (distance - 1)) - 1),
            0,
            "invariant: no instruction jumped over ran early"
        );
        let done = s[at] >> (distance - 1) & 1 != 0;
        s[at] >>= distance;
        core.layout.set_pc(s, t, next);
        done
    }

    /// Restores, after thread `t`'s step with `effect`, the invariant every
    /// state keeps: histories pruned and clocks renumbered. What a write may
    /// still be observed by depends on its variable's history, the threads'
    /// clocks and which threads have finished. A plain access or a
    /// register-only step changes no clock: a plain load or a register-only
    /// step changes nothing else, a plain store its variable's history
    /// (every state is pruned, so the other variables stay so), and a thread
    /// that finishes stops reading the variables it reads.
    fn tidy(&self, core: &Core<'_>, out: &mut Vec<Val>, t: ThreadId, effect: Effect) {
        // Whether writes were dropped: only then may a clock value have gone
        // (a plain write's entry copies values its thread's clock holds).
        let mut dropped = match effect {
            Effect::Read {
                access: Access::Plain,
                ..
            }
            | Effect::Local => false,
            Effect::Write {
                access: Access::Plain,
                loc,
                ..
            } if !self.synchronising => self.prune_after_plain_write(core, out, loc, t),
            Effect::Write {
                access: Access::Plain,
                loc,
                ..
            } => self.prune_loc(core, out, loc),
            _ => {
                self.prune(core, out);
                self.renumber(core, out);
                return;
            }
        };
        if core.instr(t, core.layout.pc(out, t)).is_none() {
            for &loc in &self.reads[t.index()] {
                dropped |= self.prune_loc(core, out, loc);
            }
        }
        debug_assert!(
            {
                let mut again = out.clone();
                self.prune(core, &mut again);
                again == *out
            },
            "invariant: a state after a plain or register-only step is pruned"
        );
        if dropped {
            self.renumber(core, out);
        }
        debug_assert!(
            {
                let mut again = out.clone();
                self.renumber(core, &mut again);
                again == *out
            },
            "invariant: clocks stay dense unless writes were dropped"
        );
    }

    /// Drops the writes no thread and not the final observer can observe any
    /// more, keeping each variable's newest write.
    fn prune(&self, core: &Core<'_>, s: &mut Vec<Val>) {
        for l in 0..self.locs {
            self.prune_loc(core, s, Loc(l as u16));
        }
    }

    /// [`GoMemory::prune_loc`] after thread `t` appended a plain write to
    /// `loc`'s history, which was pruned, in a program without synchronising
    /// operations: happens-before is then program order, so the new write
    /// hides only `t`'s previous write and the initial value, and only from
    /// `t` and the final observer. Each stays if another running reader may
    /// read it: any other reader sees `t`'s writes; the initial value is
    /// hidden from a reader that wrote the variable itself. (Debug builds
    /// check the result against `prune_loc` while `t` runs on.) Whether it
    /// dropped any.
    fn prune_after_plain_write(
        &self,
        core: &Core<'_>,
        s: &mut Vec<Val>,
        loc: Loc,
        t: ThreadId,
    ) -> bool {
        #[cfg(debug_assertions)]
        let expected = {
            let mut expected = s.clone();
            self.prune_loc(core, &mut expected, loc);
            expected
        };
        let l = loc.index();
        let history = core.layout.segment(s, l);
        let writer = |i: usize| history[i * self.width + WRITER];
        let n = history.len() / self.width;
        let mut others = self.readers[l]
            .iter()
            .map(|&(u, _)| u)
            .filter(|&u| u != t && core.instr(u, core.layout.pc(s, u)).is_some());
        let previous = (0..n - 1).rev().find(|&i| writer(i) == writer_word(t));
        let drop_previous = previous.filter(|_| others.clone().next().is_none());
        let drop_initial =
            n > 1 && writer(0) == 0 && others.all(|u| (1..n).any(|k| writer(k) == writer_word(u)));
        if let Some(i) = drop_previous {
            core.layout.discard(s, l, i);
        }
        if drop_initial {
            core.layout.discard(s, l, 0);
        }
        // A writer that finished with this write also stopped reading `loc`,
        // which can hide more (another thread's overwritten write only it
        // could still read): `tidy` prunes the variables a finished thread
        // reads next.
        #[cfg(debug_assertions)]
        if core.instr(t, core.layout.pc(s, t)).is_some() {
            debug_assert_eq!(
                *s, expected,
                "invariant: a plain write hides only its thread's previous write and the initial value"
            );
        }
        drop_previous.is_some() || drop_initial
    }

    /// [`GoMemory::prune`] for one variable; whether it dropped any write.
    fn prune_loc(&self, core: &Core<'_>, s: &mut Vec<Val>, loc: Loc) -> bool {
        let l = loc.index();
        let n = core.layout.segment_len(s, l);
        if n == 1 {
            return false; // the newest write always stays
        }
        let readers: SmallVec<[(ThreadId, Access); 8]> = self.readers[l]
            .iter()
            .copied()
            .filter(|&(u, _)| core.instr(u, core.layout.pc(s, u)).is_some())
            .collect();
        let mut keep: SmallVec<[bool; 32]> = smallvec::smallvec![false; n];
        keep[n - 1] = true;
        // The last atomic write stays: it bounds what atomic reads and the
        // final observer may return, even once nothing can read it.
        let history = core.layout.segment(s, l);
        if let Some(last) = history
            .chunks_exact(self.width)
            .rposition(|e| e[ATOMIC] != 0)
        {
            keep[last] = true;
        }
        for i in self.final_candidates(core, s, loc) {
            keep[i] = true;
        }
        // Readers until every write is kept (often the first: a variable
        // written once keeps its initial value while one reader may see it).
        for &(u, access) in &readers {
            if keep.iter().all(|&k| k) {
                return false;
            }
            for i in self.readable(core, s, u, loc, access) {
                keep[i] = true;
            }
        }
        let mut dropped = false;
        for i in (0..n).rev().filter(|&i| !keep[i]) {
            core.layout.discard(s, l, i);
            dropped = true;
        }
        dropped
    }

    /// Renumbers each clock component densely (see [`super::clocks`]).
    fn renumber(&self, core: &Core<'_>, s: &mut [Val]) {
        if !self.synchronising {
            return;
        }
        let fixed = core.layout.fixed().start;
        // Every history's entries, back to back: each entry's clock of
        // thread `t` is `CLOCK + t` into it.
        let entries = core.layout.entries(s);
        // Nearly always every component is dense already: one pass over the
        // clocks and the entries, row by row, tells.
        let mut density: SmallVec<[Density; 16]> =
            smallvec::smallvec![Density::default(); self.threads];
        let rows = (0..self.threads)
            .map(|u| self.clocks.at(u, 0) + fixed)
            .chain(entries.clone().step_by(self.width).map(|e| e + CLOCK));
        for row in rows {
            for (d, &v) in density.iter_mut().zip(&s[row..row + self.threads]) {
                d.note(v);
            }
        }
        for t in (0..self.threads).filter(|&t| !density[t].is_dense()) {
            let clocks = (0..self.threads).map(|u| fixed + self.clocks.at(u, t));
            let history = entries.clone().step_by(self.width).map(|e| e + CLOCK + t);
            renumber(s, clocks.chain(history));
        }
    }
}

fn exec(thread: ThreadId, pc: usize, choice: usize) -> Step {
    Step::Exec {
        thread,
        pc: pc as u32,
        choice: choice as u16,
    }
}

/// Whether instruction `j` of `code` may run before instruction `i` (`i <
/// j`), as far as those two go (rule 3): `j` is a plain access, and `i` is a
/// forward jump landing no further than `j` whose condition reads no register
/// `j` writes (`j` post-dominates it when every jump between them is such a
/// jump, which each of them checks), or an instruction [`independent`] of it.
fn may_pass(code: &[Instr], i: usize, j: usize) -> bool {
    let later = &code[j];
    if !later.is_plain_access() {
        return false;
    }
    match &code[i] {
        Instr::Goto { cond, target } => {
            let written = registers(later).map_or_else(Vec::new, |r| r.writes);
            (i + 1..=j).contains(target)
                && !expr_registers(cond).iter().any(|r| written.contains(r))
        }
        earlier => independent(earlier, later),
    }
}

/// Whether plain access `later` may run before `earlier` (an instruction
/// between the pc and it): `earlier` is a `Let` or a plain access, they share
/// no register one of them writes, and they do not access the same variable.
fn independent(earlier: &Instr, later: &Instr) -> bool {
    let (Some(e), Some(l)) = (registers(earlier), registers(later)) else {
        return false;
    };
    let overlap = |a: &[Reg], b: &[Reg]| a.iter().any(|r| b.contains(r));
    let same_loc = matches!((location(earlier), location(later)), (Some(a), Some(b)) if a == b);
    !overlap(&l.reads, &e.writes)
        && !overlap(&l.writes, &e.reads)
        && !overlap(&l.writes, &e.writes)
        && !same_loc
}

/// Registers an instruction reads and writes; `None` for instructions nothing
/// may move across as [`independent`] judges (branches, which [`may_pass`]
/// judges, and synchronising operations).
struct Registers {
    reads: Vec<Reg>,
    writes: Vec<Reg>,
}

fn registers(instr: &Instr) -> Option<Registers> {
    match instr {
        Instr::Load {
            dst,
            access: Access::Plain,
            ..
        } => Some(Registers {
            reads: Vec::new(),
            writes: vec![*dst],
        }),
        Instr::Store {
            value,
            access: Access::Plain,
            ..
        } => Some(Registers {
            reads: expr_registers(value),
            writes: Vec::new(),
        }),
        Instr::Let { dst, value } => Some(Registers {
            reads: expr_registers(value),
            writes: vec![*dst],
        }),
        _ => None,
    }
}

fn location(instr: &Instr) -> Option<Loc> {
    match instr {
        Instr::Load { loc, .. } | Instr::Store { loc, .. } | Instr::Rmw { loc, .. } => Some(*loc),
        _ => None,
    }
}

fn expr_registers(e: &Expr) -> Vec<Reg> {
    match e {
        Expr::Const(_) => Vec::new(),
        Expr::Reg(r) => vec![*r],
        Expr::Unary(_, a) => expr_registers(a),
        Expr::Binary(_, a, b) => {
            let mut regs = expr_registers(a);
            regs.extend(expr_registers(b));
            regs
        }
    }
}

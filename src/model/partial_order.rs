//! Partial-order reduction for the store-buffer machines: at each state the
//! search takes only a *persistent set* of the enabled steps, a subset that
//! no sequence of the other steps can interfere with, instead of all of them.
//!
//! A selective search that expands a persistent set at every state reaches
//! every *deadlock* (a state without enabled steps) of the full state space
//! (Godefroid, "Partial-Order Methods for the Verification of Concurrent
//! Systems", LNCS 1032, 1996, theorem 4.3; Valmari's stubborn sets, 1991).
//! The reduction applies where a deadlock is exactly a final state and the
//! final state holds all there is to report
//! ([`super::machine::Machine::with_partial_order`]): a store-buffer machine
//! running code without loops or Go synchronisation (never blocking and
//! never cycling, so its only deadlocks are final states, memory and
//! registers included) whose race detection keeps no clocks. Then an access
//! races with every conflicting access of another thread that ran before
//! it, in whichever order they ran, and the race words only record which
//! accesses ran (the pcs, or a word per access set once it runs): the words
//! of a final state, its racy flag among them, are the same whichever
//! order its accesses ran in, and every path to it ran the same accesses,
//! so meets the same racing pairs. Outcomes, their race-freedom, races and
//! witnesses are therefore those of the full search; execution counts
//! (paths) are not.
//!
//! **Processes.** Each thread's instructions, in program order, and each store
//! buffer's commits, oldest first. A step's *footprint* is the variables it
//! reads from and writes to memory: a load reads its variable (from memory,
//! or from its own buffer: counted as memory, conservatively); a
//! read-modify-write reads and writes it; a store writes it when it goes
//! straight to memory (an atomic store, or any store without buffers) and
//! touches no memory when it enters a buffer; a fence touches none; a commit
//! writes its entry's variable.
//!
//! **Independence.** Steps of two processes are *dependent* when their
//! footprints share a variable that one of them writes, unless the
//! processes are a thread and one of its own buffers: a thread's load and
//! its buffer's commit commute (the load reads the newest buffered value
//! either way), its buffered store and the commit commute (one appends, the
//! other takes the oldest), and its fence, read-modify-write or atomic
//! store is enabled only when its buffers are empty, so never beside a
//! commit of them. No step of another thread disables a step; a commit can
//! only enable its thread's step (a fence, a read-modify-write or an atomic
//! store waiting for the buffers to empty, a store into a full bounded
//! buffer, a load waiting without forwarding).
//!
//! **Persistent sets** (Godefroid's conflicting-transitions construction,
//! by processes): start from one process with an enabled step; for each
//! process in the set, if its next step is enabled add every other process
//! with a step, now or later, dependent on it; if it is disabled add a
//! process that must move before it can be enabled (its nonempty buffer for
//! a thread, its thread for an empty buffer). The enabled next steps of the
//! set are persistent. Of the sets grown from each enabled process the
//! smallest is taken (the first among equals), so the choice depends on the
//! state alone.

use smallvec::SmallVec;

use super::machine::Core;
use super::store_buffer::StoreBuffers;
use super::{BufferShape, Forwarding};
use crate::ir::{Instr, Loc, Program, ThreadId, Val};
use crate::trace::Step;

/// A set of variables, one bit each.
type Vars = u64;

/// A set of processes, one bit each: threads `0..T`, then the buffers some
/// store enters.
pub(crate) type Processes = u128;

/// The most variables and processes a reduced program may have.
const MAX_VARS: usize = Vars::BITS as usize;
const MAX_PROCESSES: usize = Processes::BITS as usize;

/// What a thread's instructions from a pc to the end do to memory.
#[derive(Clone, Copy, Debug, Default)]
struct Future {
    /// Variables read from memory (loads, read-modify-writes).
    reads: Vars,
    /// Variables written to memory directly (read-modify-writes, unbuffered
    /// stores).
    writes: Vars,
    /// Variables of the stores that enter a buffer.
    buffered: Vars,
}

/// A process's next step at one state, and what it and its later steps do.
#[derive(Clone, Copy, Debug, Default)]
struct Process {
    /// Whether its next step is enabled.
    enabled: bool,
    /// The next step's footprint: variables read, variables written.
    now: (Vars, Vars),
    /// The footprint of the next step and every later one: read, written.
    later: (Vars, Vars),
    /// The thread it belongs to.
    thread: usize,
    /// For a disabled process: one that must move before it can.
    waits_for: Option<usize>,
}

/// The persistent-set construction for one program on one store-buffer
/// machine.
#[derive(Clone, Debug)]
pub(crate) struct PartialOrder {
    machine: StoreBuffers,
    threads: usize,
    locs: usize,
    /// For each thread, [`Future`] from each pc (the code length included).
    futures: Vec<Vec<Future>>,
    /// The buffers some store enters, by segment, in increasing order: process
    /// `threads + i` is buffer `buffers[i]`. The others stay empty.
    buffers: Vec<usize>,
    /// For each segment, its process, if it is among `buffers`.
    process_of_buffer: Vec<Option<usize>>,
}

impl PartialOrder {
    /// The construction for `program` on the store-buffer `machine`; `None`
    /// when the program has a backward jump (a
    /// loop) or Go synchronisation, or too many variables or processes for
    /// the sets' bit masks.
    pub fn new(program: &Program, machine: StoreBuffers) -> Option<Self> {
        let (threads, locs) = (program.threads.len(), program.locs.len());
        let segments = machine.segments().0;
        if locs > MAX_VARS {
            return None;
        }
        let bit = |l: &Loc| 1 << l.index();
        let futures = program
            .threads
            .iter()
            .map(|thread| {
                let mut from = vec![Future::default(); thread.code.len() + 1];
                for (pc, instr) in thread.code.iter().enumerate().rev() {
                    let mut f = from[pc + 1];
                    match instr {
                        Instr::Load { loc, .. } => f.reads |= bit(loc),
                        Instr::Rmw { loc, .. } => {
                            f.reads |= bit(loc);
                            f.writes |= bit(loc);
                        }
                        Instr::Store { loc, access, .. } => {
                            if machine.goes_to_memory(*access) {
                                f.writes |= bit(loc);
                            } else {
                                f.buffered |= bit(loc);
                            }
                        }
                        Instr::Fence | Instr::Let { .. } => {}
                        // A forward jump only skips instructions, whose
                        // footprints stay in the future (an overestimate).
                        Instr::Goto { target, .. } if *target > pc => {}
                        Instr::Goto { .. } | Instr::Sync { .. } => return None,
                    }
                    from[pc] = f;
                }
                Some(from)
            })
            .collect::<Option<Vec<Vec<Future>>>>()?;
        let mut order = PartialOrder {
            machine,
            threads,
            locs,
            futures,
            buffers: Vec::new(),
            process_of_buffer: vec![None; segments],
        };
        order.buffers = (0..segments)
            .filter(|&b| {
                let (t, vars) = order.buffer_owner(b);
                order.futures[t][0].buffered & vars != 0
            })
            .collect();
        if threads + order.buffers.len() > MAX_PROCESSES {
            return None;
        }
        for (i, &b) in order.buffers.iter().enumerate() {
            order.process_of_buffer[b] = Some(threads + i);
        }
        Some(order)
    }

    /// The thread owning buffer `b`, and the variables whose stores enter it.
    fn buffer_owner(&self, b: usize) -> (usize, Vars) {
        match self.machine.config().buffer {
            BufferShape::PerThreadPerLocation => (b / self.locs, 1 << (b % self.locs)),
            _ => (b, Vars::MAX),
        }
    }

    /// The process of buffer `b`, which some store enters.
    fn buffer_process(&self, b: usize) -> usize {
        self.process_of_buffer[b].expect("invariant: a buffer with entries has a process")
    }

    /// The process taking `step`: its thread, or its buffer.
    pub fn process_of(&self, step: Step) -> usize {
        match step {
            Step::Commit(t, None) => self.buffer_process(t.index()),
            Step::Commit(t, Some(l)) => self.buffer_process(self.machine.buffer_for(t, l)),
            Step::Run(t) | Step::Exec { thread: t, .. } => t.index(),
            Step::Observe { .. } => unreachable!("invariant: no observer on store buffers"),
        }
    }

    /// The processes whose next steps, where enabled, form a persistent set
    /// of state `s`'s enabled steps (empty when no step is enabled), and
    /// every process whose next step is enabled.
    pub fn persistent(&self, core: &Core<'_>, s: &[Val]) -> (Processes, Processes) {
        let processes = self.processes(core, s);
        let enabled: Processes = (processes.iter().enumerate())
            .filter(|(_, p)| p.enabled)
            .fold(0, |set, (i, _)| set | 1 << i);
        if enabled.count_ones() <= 1 {
            return (enabled, enabled);
        }
        let brings = self.brings(&processes);
        let mut best = enabled;
        let mut rest = enabled;
        while rest != 0 && best.count_ones() > 1 {
            let start = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            // Every process when it gives up: no smaller than `best`.
            let set = grow(&brings, enabled, start, best.count_ones() - 1) & enabled;
            if set.count_ones() < best.count_ones() {
                best = set;
            }
        }
        (best, enabled)
    }

    /// For each process, the processes a set holding it must hold: for an
    /// enabled one, every other thread's process with a step, now or later,
    /// dependent on its next step; for a disabled one, the process it
    /// waits for.
    fn brings(&self, processes: &[Process]) -> SmallVec<[Processes; 32]> {
        // Per variable: the processes that will write it, and those that
        // will read or write it; per thread, its own processes.
        let mut writers: SmallVec<[Processes; 16]> = SmallVec::from_elem(0, self.locs);
        let mut accessors: SmallVec<[Processes; 16]> = SmallVec::from_elem(0, self.locs);
        let mut own: SmallVec<[Processes; 16]> = SmallVec::from_elem(0, self.threads);
        for (i, p) in processes.iter().enumerate() {
            let (reads, writes) = p.later;
            for_each_var(writes, |x| writers[x] |= 1 << i);
            for_each_var(reads | writes, |x| accessors[x] |= 1 << i);
            own[p.thread] |= 1 << i;
        }
        processes
            .iter()
            .map(|p| match (p.enabled, p.waits_for) {
                (true, _) => {
                    let (reads, writes) = p.now;
                    let mut brings = 0;
                    for_each_var(reads, |x| brings |= writers[x]);
                    for_each_var(writes, |x| brings |= accessors[x]);
                    brings & !own[p.thread]
                }
                (false, Some(r)) => 1 << r,
                (false, None) => 0,
            })
            .collect()
    }

    /// Every process's next step and footprint at `s`.
    fn processes(&self, core: &Core<'_>, s: &[Val]) -> SmallVec<[Process; 32]> {
        let layout = &core.layout;
        let mut processes: SmallVec<[Process; 32]> = SmallVec::new();
        processes.resize(self.threads + self.buffers.len(), Process::default());
        // The buffers: their owner, next commit and buffered variables; per
        // thread, the variables it has buffered and its first nonempty
        // buffer.
        let mut held: SmallVec<[Vars; 16]> = SmallVec::from_elem(0, self.threads);
        let mut nonempty: SmallVec<[Option<usize>; 16]> = SmallVec::from_elem(None, self.threads);
        for (i, &b) in self.buffers.iter().enumerate() {
            let (thread, entering) = self.buffer_owner(b);
            let entries = layout.segment(s, b);
            if !entries.is_empty() {
                nonempty[thread].get_or_insert(self.threads + i);
            }
            let process = &mut processes[self.threads + i];
            process.thread = thread;
            let (head, vars) = match self.machine.config().buffer {
                BufferShape::PerThreadPerLocation => {
                    let head = entries.first().map(|_| 1 << (b % self.locs));
                    (head, head.unwrap_or(0))
                }
                _ => {
                    let var = |entry: &[Val]| 1 << (entry[0] as u32);
                    let vars = entries.chunks_exact(2).fold(0, |v, e| v | var(e));
                    (entries.get(..2).map(var), vars)
                }
            };
            held[thread] |= vars;
            let pc = layout.pc(s, ThreadId(thread as u16));
            let coming = self.futures[thread][pc].buffered & entering;
            process.later = (0, vars | coming);
            match head {
                Some(var) => {
                    process.enabled = true;
                    process.now = (0, var);
                }
                None => process.waits_for = Some(thread),
            }
        }
        for (t, thread) in core.program.threads.iter().enumerate() {
            let pc = layout.pc(s, ThreadId(t as u16));
            let future = self.futures[t][pc];
            let nonempty = nonempty[t];
            let own =
                |l: &Loc| self.buffer_process(self.machine.buffer_for(ThreadId(t as u16), *l));
            let bit = |l: &Loc| 1 << l.index();
            let (now, waits_for) = match thread.code.get(pc) {
                None => {
                    processes[t].thread = t;
                    continue;
                }
                Some(Instr::Load { loc, .. }) => {
                    let waits = self.machine.config().forwarding == Forwarding::Disabled
                        && held[t] & bit(loc) != 0;
                    ((bit(loc), 0), waits.then(|| own(loc)))
                }
                Some(Instr::Store { loc, access, .. }) if self.machine.goes_to_memory(*access) => {
                    ((0, bit(loc)), nonempty)
                }
                Some(Instr::Store { loc, .. }) => {
                    let full = self.machine.config().bound.is_some_and(|bound| {
                        layout.segment_len(s, self.machine.buffer_for(ThreadId(t as u16), *loc))
                            >= bound as usize
                    });
                    ((0, 0), full.then(|| own(loc)))
                }
                Some(Instr::Rmw { loc, .. }) => ((bit(loc), bit(loc)), nonempty),
                Some(Instr::Fence) => ((0, 0), nonempty),
                Some(Instr::Let { .. } | Instr::Goto { .. }) => ((0, 0), None),
                Some(Instr::Sync { .. }) => {
                    unreachable!("invariant: no Go synchronisation is reduced")
                }
            };
            processes[t] = Process {
                enabled: waits_for.is_none(),
                now,
                later: (future.reads, future.writes),
                thread: t,
                waits_for,
            };
        }
        processes
    }
}

/// Calls `f` with each variable of `vars`.
fn for_each_var(mut vars: Vars, mut f: impl FnMut(usize)) {
    while vars != 0 {
        f(vars.trailing_zeros() as usize);
        vars &= vars - 1;
    }
}

/// The processes of the persistent set grown from process `start`, each
/// process bringing those of `brings` ([`PartialOrder::brings`]); gives up
/// (returning every process) once more than `bound` of them are `enabled`.
fn grow(brings: &[Processes], enabled: Processes, start: usize, bound: u32) -> Processes {
    let mut set: Processes = 1 << start;
    let mut todo = set;
    while todo != 0 {
        let q = todo.trailing_zeros() as usize;
        todo &= todo - 1;
        let new = brings[q] & !set;
        set |= new;
        todo |= new;
        if (set & enabled).count_ones() > bound {
            return Processes::MAX;
        }
    }
    set
}

#[cfg(test)]
mod tests {
    use crate::ir::{Loc, ThreadId};
    use crate::model::Model;
    use crate::model::machine::Machine;
    use crate::syntax::parse_str;
    use crate::trace::Step;

    fn sb() -> crate::ir::Program {
        parse_str(
            r#"Litmus(name: "sb", threads: [[Store("x", 1), Load("r0", "y")], [Store("y", 1), Load("r0", "x")]], condition: "exists (0:r0=0 /\\ 1:r0=0)")"#,
            "sb.ron",
        )
        .unwrap()
        .program
    }

    fn steps(machine: &Machine<'_>, s: &[crate::ir::Val]) -> Vec<Step> {
        let mut found = Vec::new();
        machine.successors(s, &mut Vec::new(), |step, _, _, _| found.push(step));
        found
    }

    const P0: ThreadId = ThreadId(0);
    const P1: ThreadId = ThreadId(1);

    #[test]
    fn a_store_entering_its_buffer_is_taken_alone() {
        let (program, model) = (sb(), Model::tso());
        let machine = Machine::new(&program, &model).with_partial_order(true);
        assert!(machine.reduces_partial_order());
        let s = machine.initial_state();
        assert_eq!(steps(&machine, &s), vec![Step::Run(P0)]);
    }

    /// The steps the reduced machine lists once both stores of SB have
    /// entered their buffers under `model`.
    fn steps_after_both_stores(model: &Model) -> Vec<Step> {
        let program = sb();
        let machine = Machine::new(&program, model).with_partial_order(true);
        let mut s = machine.initial_state();
        for step in [Step::Run(P0), Step::Run(P1)] {
            s = machine.apply(&s, step).unwrap().1;
        }
        steps(&machine, &s)
    }

    #[test]
    fn a_load_and_the_commit_it_races_with_are_taken_both_ways() {
        // P0's load of y and the commit of P1's store to y; not P1's load of
        // x, nor the commit of x, which the other pair does not touch.
        assert_eq!(
            steps_after_both_stores(&Model::tso()),
            vec![Step::Run(P0), Step::Commit(P1, None)]
        );
        // Under pso the buffer is P1's buffer for y.
        assert_eq!(
            steps_after_both_stores(&Model::pso()),
            vec![Step::Run(P0), Step::Commit(P1, Some(Loc(1)))]
        );
    }

    #[test]
    fn without_buffers_a_store_conflicts_with_the_other_threads_load() {
        let (program, model) = (sb(), Model::sc());
        let machine = Machine::new(&program, &model).with_partial_order(true);
        let s = machine.initial_state();
        assert_eq!(steps(&machine, &s), vec![Step::Run(P0), Step::Run(P1)]);
        // Once P1 has loaded x, P0's store conflicts with nothing left.
        let s = machine.apply(&s, Step::Run(P1)).unwrap().1;
        let s = machine.apply(&s, Step::Run(P1)).unwrap().1;
        assert_eq!(steps(&machine, &s), vec![Step::Run(P0)]);
    }

    #[test]
    fn go_and_a_switched_off_reduction_reduce_nothing() {
        let program = sb();
        let go = Model::go();
        assert!(
            !Machine::new(&program, &go)
                .with_partial_order(true)
                .reduces_partial_order()
        );
        let tso = Model::tso();
        assert!(
            !Machine::new(&program, &tso)
                .with_partial_order(false)
                .reduces_partial_order()
        );
    }
}

//! Data-race detection inside the explored state, so that every execution (path)
//! knows whether it has raced and each outcome can be classified race-free or
//! racy.
//!
//! The definitions are those of [`crate::hb`]: two accesses to one variable by
//! different threads race when at least one writes, at least one is plain, and
//! happens-before orders neither. Happens-before is tracked with vector clocks
//! in the style of FastTrack (Flanagan and Freund, PLDI 2009), in words of the
//! state:
//!
//! - **thread clocks** `C_u` (only when the program synchronises at all): an
//!   atomic read-like access joins the clock stored with the atomic write it
//!   reads; an atomic write-like access stores `C_u` with its value, then
//!   increments `C_u[u]`;
//! - **sync clocks** `L_x`, per variable with atomic accesses: the clock of the
//!   atomic write whose value is in memory; a plain write reaching memory (at
//!   once, or when its buffer commits it) clears it;
//! - **access slots**: for each variable that can race, each instruction
//!   accessing it and each kind of access (plain or atomic, read or write) the
//!   instruction makes, the epoch `C_t[t]` of its last execution by its thread
//!   `t` (0: none). That access happens before the current access of `u`
//!   exactly when its epoch is at most `C_u[t]`. One slot per instruction, not
//!   FastTrack's one per thread, so that a race names *every* earlier
//!   instruction it races with, not only the thread's latest (an older access
//!   of `t` still races when no synchronisation of `t` since then reached
//!   `u`); keeping only an instruction's last execution suffices, because
//!   program order makes its older executions happen before whatever the
//!   newer one does;
//! - a **racy flag**, set by the first race of the execution.
//!
//! Without atomic accesses nothing synchronises: clocks are constant (`C_u[u] =
//! 1`, else 0) and are not stored, and an access slot only says whether its
//! instruction has run. On a machine that runs each thread's instructions in
//! program order (the store-buffer machines), a thread without jumps has run
//! an instruction exactly when its pc is past it, so its slots are not stored
//! either: the pc answers. Clock values only matter through their order
//! within one thread's component, so after each step the values of each
//! component are renumbered densely; loops that repeat atomic writes then
//! revisit states instead of creating new ones forever.

use crate::ir::{Access, Instr, Loc, Program, SyncOp, ThreadId, Val};

use smallvec::SmallVec;

use super::clocks::{ThreadClocks, renumber};
use super::machine::{Effect, Sink, Source};

/// What kind of access a slot remembers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Kind {
    write: bool,
    access: Access,
}

/// The last access of one kind by one instruction to one variable.
#[derive(Clone, Copy, Debug)]
struct Slot {
    thread: usize,
    pc: usize,
    kind: Kind,
    epoch: Epoch,
}

/// Where a slot's epoch is.
#[derive(Clone, Copy, Debug)]
enum Epoch {
    /// In the word at this offset from the start of the race words.
    Word(usize),
    /// Nowhere: it is 1 once the thread's pc is past the instruction, else 0
    /// (a thread without jumps, in a program without synchronisation, on a
    /// machine running instructions in program order).
    Pc,
}

/// The races a step's access makes: its variable and every earlier access (a
/// thread and its instruction) it races with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RaceHit {
    /// The variable.
    pub loc: Loc,
    /// The earlier racing accesses, as (thread, instruction).
    pub earlier: SmallVec<[(ThreadId, usize); 8]>,
}

/// Where the race-detection words are and what they mean, for one program.
#[derive(Clone, Debug)]
pub(crate) struct RaceWords {
    threads: usize,
    /// Whether the program has atomic accesses, so clocks are stored.
    synchronising: bool,
    /// Slots per variable (empty for variables that cannot race).
    slots: Vec<Vec<Slot>>,
    /// Offset of each variable's sync clock, for variables with atomic accesses.
    sync_clock: Vec<Option<usize>>,
    /// The thread clocks, stored only when `synchronising`.
    clocks: ThreadClocks,
    /// For each thread, every word holding a value of its clock component
    /// (renumbered together).
    components: Vec<Vec<usize>>,
    /// Number of words.
    len: usize,
}

/// Offset of the racy flag.
const RACY: usize = 0;
/// Offset of the thread clocks.
const CLOCKS: usize = 1;

impl RaceWords {
    /// The words needed to detect races in `program` on a machine that runs
    /// each thread's instructions in program order (`in_order`) or not.
    pub fn new(program: &Program, in_order: bool) -> Self {
        let threads = program.threads.len();
        let locs = program.locs.len();
        // Each variable's accesses, as (thread, instruction, kind).
        let mut kinds: Vec<Vec<(usize, usize, Kind)>> = vec![Vec::new(); locs];
        for (t, thread) in program.threads.iter().enumerate() {
            for (pc, instr) in thread.code.iter().enumerate() {
                for (loc, kind) in accesses(program, instr) {
                    if !kinds[loc.index()].contains(&(t, pc, kind)) {
                        kinds[loc.index()].push((t, pc, kind));
                    }
                }
            }
        }
        let synchronising = kinds
            .iter()
            .flatten()
            .any(|(_, _, k)| k.access == Access::Atomic);
        let pc_tells: Vec<bool> = program
            .threads
            .iter()
            .map(|thread| {
                in_order
                    && !synchronising
                    && !thread.code.iter().any(|i| matches!(i, Instr::Goto { .. }))
            })
            .collect();
        let mut len = CLOCKS + if synchronising { threads * threads } else { 0 };
        let mut sync_clock = Vec::with_capacity(locs);
        for loc_kinds in &kinds {
            let atomic = loc_kinds.iter().any(|(_, _, k)| k.access == Access::Atomic);
            sync_clock.push((synchronising && atomic).then(|| {
                len += threads;
                len - threads
            }));
        }
        let mut slots = Vec::with_capacity(locs);
        for loc_kinds in &kinds {
            let can_race = loc_kinds.iter().enumerate().any(|(i, &(t, _, a))| {
                loc_kinds[..i].iter().any(|&(u, _, b)| conflict(t, a, u, b))
            });
            let loc_slots = if can_race {
                loc_kinds
                    .iter()
                    .map(|&(thread, pc, kind)| {
                        let epoch = if pc_tells[thread] {
                            Epoch::Pc
                        } else {
                            len += 1;
                            Epoch::Word(len - 1)
                        };
                        Slot {
                            thread,
                            pc,
                            kind,
                            epoch,
                        }
                    })
                    .collect()
            } else {
                Vec::new()
            };
            slots.push(loc_slots);
        }
        // Without a variable that can race, no clock matters: keeping them
        // would only split states by the order of synchronisation.
        let any_slot = slots.iter().any(|s| !s.is_empty());
        let synchronising = synchronising && any_slot;
        if !any_slot {
            sync_clock = vec![None; locs];
        }
        let clocks = ThreadClocks {
            start: CLOCKS,
            threads,
        };
        let components =
            (0..threads)
                .map(|t| {
                    (0..threads)
                        .map(|u| clocks.at(u, t))
                        .chain(sync_clock.iter().flatten().map(|at| at + t))
                        .chain(
                            slots.iter().flatten().filter(|s| s.thread == t).filter_map(
                                |s| match s.epoch {
                                    Epoch::Word(at) => Some(at),
                                    Epoch::Pc => None,
                                },
                            ),
                        )
                        .collect()
                })
                .collect();
        RaceWords {
            threads,
            synchronising,
            slots,
            sync_clock,
            clocks,
            components,
            len: if any_slot { len } else { 0 },
        }
    }

    /// Whether the words hold clocks: the program has atomic accesses and a
    /// variable that can race. Without them an access races with every
    /// conflicting access of another thread that ran before it, whatever
    /// ran in between, and the words only record which accesses ran.
    pub fn keeps_clocks(&self) -> bool {
        self.synchronising
    }

    /// Number of words in the state.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the execution that reached `s` has raced (`words` = the race words).
    pub fn racy(&self, words: &[Val]) -> bool {
        self.len > 0 && words[RACY] != 0
    }

    /// `C_u[t]`.
    fn clock(&self, words: &[Val], u: usize, t: usize) -> Val {
        if self.synchronising {
            words[self.clocks.at(u, t)]
        } else {
            Val::from(u == t)
        }
    }

    /// Updates the words for a thread step with `effect`, returning the races
    /// its access makes; `pcs` are the threads' pcs after the step.
    pub fn run(
        &self,
        pcs: &[Val],
        words: &mut [Val],
        t: ThreadId,
        effect: &Effect,
    ) -> Option<RaceHit> {
        if self.len == 0 {
            return None;
        }
        let u = t.index();
        // What the access reads and writes, and how it synchronises.
        let (pc, loc, reads, writes, access, from) = match *effect {
            Effect::Read {
                pc,
                loc,
                access,
                from,
                ..
            } => (pc, loc, true, false, access, Some(from)),
            Effect::Write {
                pc, loc, access, ..
            } => (pc, loc, false, true, access, None),
            Effect::Rmw {
                pc, loc, new, from, ..
            } => (pc, loc, true, new.is_some(), Access::Atomic, Some(from)),
            Effect::Counter { pc, loc, .. } => (pc, loc, true, true, Access::Atomic, None),
            _ => return None,
        };
        let atomic = access == Access::Atomic;
        // The sync clock is the last atomic write's: an atomic read of memory
        // holds it unless a plain write cleared it; a read of a history entry
        // synchronises exactly when the entry is atomic (then it is that write);
        // an atomic load forwarded its own buffered plain store reads no atomic
        // write. A wait-group update acquires nothing.
        let acquires = atomic
            && match from {
                Some(Source::History { atomic, .. }) => atomic,
                Some(Source::Memory) => true,
                Some(Source::Buffer { .. }) | None => false,
            };
        if acquires {
            self.acquire(words, u, loc);
        }
        let mut earlier = SmallVec::new();
        for (write, is_access) in [(false, reads), (true, writes)] {
            if is_access {
                let kind = Kind { write, access };
                self.access((pcs, words), u, pc, (loc, kind), &mut earlier);
            }
        }
        match *effect {
            Effect::Counter { release: true, .. } => self.release_merge(words, u, loc),
            Effect::Counter { release: false, .. } => {}
            _ if atomic && writes => self.release(words, u, loc),
            Effect::Write {
                to: Sink::Memory, ..
            } => {
                self.clear_sync_clock(words, loc);
            }
            _ => {}
        }
        self.renumber(words);
        if earlier.is_empty() {
            return None;
        }
        words[RACY] = 1;
        Some(RaceHit { loc, earlier })
    }

    /// A buffered plain store reached memory: the value there no longer carries
    /// a clock.
    pub fn commit(&self, words: &mut [Val], loc: Loc) {
        if self.clear_sync_clock(words, loc) {
            self.renumber(words);
        }
    }

    /// Forgets the clock published with `loc`'s value; whether there was one.
    fn clear_sync_clock(&self, words: &mut [Val], loc: Loc) -> bool {
        match self.sync_clock[loc.index()] {
            Some(at) => {
                words[at..at + self.threads].fill(0);
                true
            }
            None => false,
        }
    }

    fn acquire(&self, words: &mut [Val], u: usize, loc: Loc) {
        if let Some(at) = self.sync_clock[loc.index()] {
            self.clocks.acquire(words, u, at);
        }
    }

    fn release_merge(&self, words: &mut [Val], u: usize, loc: Loc) {
        if let Some(at) = self.sync_clock[loc.index()] {
            self.clocks.release_merge(words, u, at);
        }
    }

    fn release(&self, words: &mut [Val], u: usize, loc: Loc) {
        if let Some(at) = self.sync_clock[loc.index()] {
            self.clocks.release(words, u, at);
        }
    }

    /// Checks an access of `kind` by `u` at instruction `pc` against the other
    /// threads' slots, adding each access it races with to `hits`, then records
    /// it in its own slot.
    fn access(
        &self,
        (pcs, words): (&[Val], &mut [Val]),
        u: usize,
        pc: usize,
        (loc, kind): (Loc, Kind),
        hits: &mut SmallVec<[(ThreadId, usize); 8]>,
    ) {
        let slots = &self.slots[loc.index()];
        for s in slots.iter().filter(|s| conflict(s.thread, s.kind, u, kind)) {
            let epoch = match s.epoch {
                Epoch::Word(at) => words[at],
                Epoch::Pc => Val::from(pcs[s.thread] > s.pc as Val),
            };
            let earlier = (ThreadId(s.thread as u16), s.pc);
            if epoch > 0 && epoch > self.clock(words, u, s.thread) && !hits.contains(&earlier) {
                hits.push(earlier);
            }
        }
        if let Some(Epoch::Word(at)) = slots
            .iter()
            .find(|s| s.thread == u && s.pc == pc && s.kind == kind)
            .map(|s| s.epoch)
        {
            words[at] = self.clock(words, u, u);
        }
    }

    /// Renumbers each thread's clock component densely, keeping 0 and the order.
    fn renumber(&self, words: &mut [Val]) {
        if self.synchronising {
            for positions in &self.components {
                renumber(words, positions.iter().copied());
            }
        }
    }

    /// The initial words: every thread's own clock entry at 1.
    pub fn initialise(&self, words: &mut [Val]) {
        if self.synchronising {
            self.clocks.initialise(words);
        }
    }
}

/// Whether an access of `a` by `t` and one of `b` by `u` can race.
fn conflict(t: usize, a: Kind, u: usize, b: Kind) -> bool {
    t != u && (a.write || b.write) && (a.access == Access::Plain || b.access == Access::Plain)
}

/// The accesses an instruction can make.
fn accesses(program: &Program, instr: &Instr) -> Vec<(Loc, Kind)> {
    match instr {
        Instr::Load { loc, access, .. } => vec![(
            *loc,
            Kind {
                write: false,
                access: *access,
            },
        )],
        Instr::Store { loc, access, .. } => vec![(
            *loc,
            Kind {
                write: true,
                access: *access,
            },
        )],
        Instr::Rmw { loc, .. } => vec![
            (
                *loc,
                Kind {
                    write: false,
                    access: Access::Atomic,
                },
            ),
            (
                *loc,
                Kind {
                    write: true,
                    access: Access::Atomic,
                },
            ),
        ],
        Instr::Sync {
            op: SyncOp::Select { cases, .. },
            obj,
        } => cases
            .iter()
            .flat_map(|(op, _)| {
                let case = Instr::Sync {
                    op: op.clone(),
                    obj: *obj,
                };
                accesses(program, &case)
            })
            .collect(),
        Instr::Sync {
            op:
                SyncOp::Send { chan, .. }
                | SyncOp::SendWait { chan }
                | SyncOp::Recv { chan, .. }
                | SyncOp::Close { chan },
            ..
        } => {
            // Any slot, and the closed flag, atomically either way.
            let ch = &program.channels[*chan];
            ch.slots
                .iter()
                .chain([&ch.closed])
                .flat_map(|&loc| {
                    [false, true].map(|write| {
                        (
                            loc,
                            Kind {
                                write,
                                access: Access::Atomic,
                            },
                        )
                    })
                })
                .collect()
        }
        Instr::Sync { op, obj } => {
            let (reads, writes) = match op {
                SyncOp::Lock | SyncOp::TryLock(_) | SyncOp::Add(_) | SyncOp::OnceEnter(_) => {
                    (true, true)
                }
                SyncOp::Unlock
                | SyncOp::Go
                | SyncOp::OnceDone
                | SyncOp::WUnlock
                | SyncOp::StoreWords { .. } => (false, true),
                SyncOp::LoadWords { .. } => (true, false),
                SyncOp::WLock => (true, true),
                SyncOp::RLock { readers }
                | SyncOp::TryRLock { readers, .. }
                | SyncOp::TryWLock { readers, .. }
                | SyncOp::RUnlock { readers }
                | SyncOp::WLockReaders { readers } => {
                    let atomic = |write| {
                        (
                            *readers,
                            Kind {
                                write,
                                access: Access::Atomic,
                            },
                        )
                    };
                    let mut all = vec![atomic(false), atomic(true)];
                    all.extend([false, true].map(|write| {
                        (
                            *obj,
                            Kind {
                                write,
                                access: Access::Atomic,
                            },
                        )
                    }));
                    return all;
                }
                SyncOp::Wait | SyncOp::Start => (true, false),
                SyncOp::Send { .. }
                | SyncOp::SendWait { .. }
                | SyncOp::Recv { .. }
                | SyncOp::Close { .. }
                | SyncOp::Select { .. } => unreachable!("channel operations are handled above"),
            };
            [(reads, false), (writes, true)]
                .into_iter()
                .filter(|&(made, _)| made)
                .map(|(_, write)| {
                    (
                        *obj,
                        Kind {
                            write,
                            access: Access::Atomic,
                        },
                    )
                })
                .collect()
        }
        Instr::Fence | Instr::Let { .. } | Instr::Goto { .. } => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse_str;

    fn program(threads: &str) -> Program {
        let source = format!(r#"Litmus(name: "t", threads: {threads}, condition: "exists x=1")"#);
        parse_str(&source, "t.ron").unwrap().program
    }

    const SB: &str = r#"[[Store("x", 1), Load("r0", "y")], [Store("y", 1), Load("r0", "x")]]"#;

    #[test]
    fn in_order_threads_without_jumps_keep_their_slots_in_the_pc() {
        let sb = program(SB);
        // The racy flag, plus one slot per access where pcs cannot tell.
        assert_eq!(RaceWords::new(&sb, true).len(), 1);
        assert_eq!(RaceWords::new(&sb, false).len(), 1 + 4);
        let looping = program(
            r#"[[Store("x", 1), Load("r0", "y")],
                [Loop(body: [Store("y", 1)], until: "1 == 1"), Load("r0", "x")]]"#,
        );
        assert_eq!(RaceWords::new(&looping, true).len(), 1 + 2);
        let atomic = program(
            r#"[[Store("x", 1), AtomicStore("y", 1)], [AtomicLoad("r0", "y"), Load("r1", "x")]]"#,
        );
        assert!(RaceWords::new(&atomic, true).len() > 1 + 2);
    }

    #[test]
    fn an_atomic_load_of_its_own_buffered_store_acquires_nothing() {
        // P1 publishes x atomically; P0's atomic load of x either reads it
        // from memory (and acquires P1's clock) or forwards P0's own plain
        // store still in its buffer (a plain write: nothing to acquire).
        let program = program(
            r#"[[Store("x", 1), AtomicLoad("r0", "x")], [Store("y", 1), AtomicStore("x", 2)]]"#,
        );
        let words = RaceWords::new(&program, true);
        let load_after_publish = |from: Source| {
            let mut state = vec![0; words.len()];
            words.initialise(&mut state);
            let publish = Effect::Write {
                pc: 1,
                loc: Loc(0),
                value: 2,
                access: Access::Atomic,
                to: Sink::Memory,
            };
            words.run(&[1, 2], &mut state, ThreadId(1), &publish);
            let load = Effect::Read {
                pc: 1,
                loc: Loc(0),
                access: Access::Atomic,
                from,
                value: 0,
            };
            words.run(&[2, 2], &mut state, ThreadId(0), &load);
            words.clock(&state, 0, 1)
        };
        assert!(load_after_publish(Source::Memory) > 0);
        let forwarded = Source::Buffer {
            buffer: 0,
            index: 0,
        };
        assert_eq!(load_after_publish(forwarded), 0);
    }

    #[test]
    fn a_slot_kept_in_the_pc_races_once_its_instruction_has_run() {
        let sb = program(SB);
        let words = RaceWords::new(&sb, true);
        let load_x = |pcs: &[Val], words_of: &mut [Val]| {
            let effect = Effect::Read {
                pc: 1,
                loc: Loc(0),
                access: Access::Plain,
                from: Source::Memory,
                value: 0,
            };
            words.run(pcs, words_of, ThreadId(1), &effect)
        };
        let mut state = vec![0; words.len()];
        // P0 has not stored to x yet (pc 0): P1's load of x does not race.
        assert_eq!(load_x(&[0, 2], &mut state), None);
        assert!(!words.racy(&state));
        // P0's store to x has run (pc 1): it races with P1's load.
        let hit = load_x(&[1, 2], &mut state).expect("a race");
        assert_eq!(hit.loc, Loc(0));
        assert_eq!(hit.earlier.as_slice(), &[(ThreadId(0), 0)]);
        assert!(words.racy(&state));
    }
}

//! An independent, brute-force axiomatic reference for SC, x86-TSO, PSO and the
//! Go memory model, used only by tests to cross-check hbsim's operational
//! machines (the store buffers, and the go model's history of writes).
//!
//! It shares nothing with hbsim but the validated program ([`hbsim::ir`]) and
//! defines each model the other way round: not as a machine, but as axioms over
//! candidate executions, in the style of herd7 (Alglave, Maranget, Tautschnig,
//! "Herding Cats: Modelling, Simulation, Testing, and Data Mining for Weak
//! Memory", TOPLAS 36(2), 2014). Agreement between the two definitions is
//! evidence that both are right. It is slow and simple on purpose.
//!
//! # Candidate executions
//!
//! 1. **Value domain.** Reads return guessed values from a finite domain `D`.
//!    `D0` holds the initial values of the variables; `D(k+1)` adds every value
//!    written by some run of some thread whose reads take values in `Dk`. After
//!    `N` rounds (`N` = the number of store and RMW instructions of the program;
//!    earlier at a fixpoint) `D` holds every value a consistent execution can
//!    read (see "Why the domain is enough" below). A domain of more than
//!    [`MAX_DOMAIN`] values is [`Unsupported`].
//! 2. **Thread runs.** Each thread's code runs on its own, every read (a `Load`,
//!    or the read half of an RMW) taking each value of `D` in turn. `Let` and
//!    forward `Goto` only update registers and the pc. A run records the thread's
//!    events in program order and its final registers. Programs with a backward
//!    jump (a loop) are [`Unsupported`]: their runs are unbounded.
//! 3. **Events.** A `Load` is a read R; a `Store` a write W; a `Fence` a fence F.
//!    An RMW is a read R followed by a write W linked by `rmw` (the operands are
//!    evaluated on the registers before the RMW); a failed `Cas` (old value !=
//!    expected) is the read alone. Both halves of every RMW, a failed `Cas`, and
//!    every `AtomicLoad` and `AtomicStore`, are **locked** (atomic) events. On
//!    the hardware models all but the atomic loads also order every `po` pair
//!    they are part of (x86 `LOCK` and `XCHG` semantics); an atomic load is a
//!    plain `MOV` there, as Go and C/C++11 compile it for x86. A mutex's `Lock` is a locked RMW reading 0
//!    and writing 1, its `Unlock` a locked RMW reading 1 and writing 0 (a run
//!    whose `Lock` would read 1 blocks, one whose `Unlock` would read 0
//!    panics: neither ends, so neither has a final outcome); other Go
//!    synchronisation is [`Unsupported`]. One initial
//!    write per variable, carrying its initial value, belongs to no thread.
//! 4. **Relations.** `po` orders the events of one thread. `rf` maps each read to
//!    one write to the same variable of exactly the value the read guessed. `co`
//!    is, for each variable, a total order of its writes with the initial write
//!    first. `fr = rf^-1; co`. `com = rf | co | fr`. A pair is *external* (`rfe`,
//!    `coe`, `fre`) when its events belong to different threads (the initial
//!    writes belong to none), else *internal*. `po-loc` is `po` between memory
//!    events on the same variable.
//! 5. **Outcome.** For a consistent candidate: each observed register's value
//!    at the end of its thread's run, then each variable's value in its co-last
//!    write, in `Program::observables()` order.
//!
//! Every combination of one run per thread, one `co` and one `rf` is a
//! candidate; the outcome set is the set of outcomes of the consistent ones.
//!
//! # Axioms
//!
//! Every model requires
//! - **sc-per-location** (uniproc): `acyclic(po-loc | rf | co | fr)`;
//! - **atomicity**: `empty(rmw & (fre; coe))`: no write of another thread comes
//!   between an RMW's read and its write in `co`.
//!
//! and then its own ordering axiom:
//! - **sc** (Lamport 1979): `acyclic(po | rf | co | fr)`.
//! - **tso**, after herd7's `x86tso.cat` and Owens, Sarkar, Sewell, "A better x86
//!   memory model: x86-TSO", TPHOLs 2009:
//!   `acyclic(ppo | rfe | co | fr | fence | implied)` over memory events, where
//!   `ppo = po \ (W*R)` (a load may overtake an earlier store), `fence =
//!   po; [F]; po`, and `implied` = the `po` pairs with a locked event other
//!   than an atomic load at either end. `rfi` is not in the relation: a thread may read its own store before
//!   the store is visible to others (store forwarding).
//! - **pso**, after the SPARC Architecture Manual V8 (1992), appendix K: as
//!   **tso**, but `ppo` also drops `W*W` pairs on different variables (stores to
//!   different variables may become visible out of program order; `W*W` pairs on
//!   the same variable, and pairs ordered by fences or locked events, stay).
//!
//! # The go model
//!
//! The Go memory model (<https://go.dev/ref/mem>, June 6, 2022) as hbsim reads
//! it (docs/models.md, "`go`"), stated over candidates that differ from the
//! hardware ones: there is no `co` over plain writes, only an order `aco` of
//! each variable's **atomic** writes (atomic stores and RMW writes), and the
//! final values are not `co`-last writes. With `sw` = `rf` from an atomic write
//! to an atomic read (an atomic load, or the read of an RMW, failed `Cas` and
//! `Lock` included; not `Unlock`'s check, which synchronises with nothing),
//! `hb = (po | sw)+`, every initial write before every event:
//!
//! - **may observe** (rule 2): no read `r` of `w` has a write `w'` of its
//!   variable with `w hb w'` and `w' hb r`;
//! - **an execution order exists** (rules 1, 3 and 4): the relation
//!   `preserved | rf | aco | before` is acyclic once each RMW's read and write
//!   are taken as one event (they run in one step; an RMW reading its own
//!   write is rejected), where `before` puts an atomic read `r` before each
//!   atomic write `w'` of its variable that it must not see: those `aco`-after
//!   the atomic write `r` reads, or, when `r` reads a plain write or the
//!   initial value `w`, those with `w hb w'`. `preserved` keeps `po` from `a`
//!   to `b` unless `b` is a plain load or store that may run early: at most
//!   [`GO_WINDOW`] instructions after `a`, independent of `a` and of every
//!   `Let` run between them (independent: no branch, fence or synchronising
//!   instruction, no register one writes that the other reads or writes, not
//!   the same variable), and past every `Goto` run between them: one landing
//!   after itself and no further than `b` (so every path reaches `b`), whose
//!   condition reads no register `b` writes, and which, if it jumped, skipped
//!   only instructions `b` could cross so (it could not know they would not
//!   run). A total order extending the relation
//!   is an order the machine can run the events in: each read after the write
//!   it reads (no value out of thin air), atomics in one interleaving, each
//!   goroutine's instructions as the window allows;
//! - **final values** (rule 5): a variable ends with any write `f` (or its
//!   initial value) that no other write `w'` of it overwrites: `f hb w'`, or
//!   both atomic and `f` before `w'` in `aco`. Every choice is an outcome.
//!
//! Unlike under the hardware models, `po | rf` may have cycles here (load
//! buffering), but only through accesses the window lets run early, which
//! carry no dependency: no value comes out of thin air.
//!
//! # Why the domain is enough
//!
//! In a candidate satisfying the axioms, `po | rf` is acyclic: sc-per-location
//! makes every `rfi` edge point forward in `po`, so a cycle needs an `rfe` edge,
//! and between two `rfe` edges it runs forward in `po` from a read to a write of
//! one thread, an `R*W` pair every model's ordering keeps. So reads can be
//! ranked: a read of an initial write has depth 0; a read of a thread's write
//! `w` has depth 1 + the largest depth of the reads `po`-before `w` (0 if none).
//! By induction along `po | rf`, a read of depth `d` reads a value of `Dd`, and
//! the writes along a chain of depth `d` are distinct, so `d <= N`. Under go,
//! where `po | rf` may have cycles, the same induction runs along the execution
//! order: a write's value depends only on reads `preserved` before it
//! (register dependencies are kept), which run before it.

use std::collections::BTreeSet;
use std::fmt;

use hbsim::ir::{Access, Instr, Loc, Observable, Program, RmwOp, SyncOp, Val};

/// The largest value domain the reference enumerates.
pub const MAX_DOMAIN: usize = 16;

/// The largest number of (run combination, coherence order) pairs the
/// reference enumerates before giving up.
pub const MAX_CANDIDATES: u128 = 2_000_000;

/// The largest number of candidates (choices of every read's write, times
/// coherence orders) for one combination of runs the reference enumerates
/// before giving up.
pub const MAX_RF_CHOICES: u128 = 20_000;

/// The models the reference defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Axioms {
    /// Sequential consistency.
    Sc,
    /// x86-TSO.
    Tso,
    /// SPARC PSO.
    Pso,
    /// The Go memory model, as hbsim reads it (docs/models.md).
    Go,
}

impl Axioms {
    /// Every model.
    pub const ALL: [Axioms; 4] = [Axioms::Sc, Axioms::Tso, Axioms::Pso, Axioms::Go];

    /// The hardware models, strongest first.
    pub const HARDWARE: [Axioms; 3] = [Axioms::Sc, Axioms::Tso, Axioms::Pso];

    /// The model's name, as hbsim's built-in model of the same definition.
    pub fn name(self) -> &'static str {
        match self {
            Axioms::Sc => "sc",
            Axioms::Tso => "tso",
            Axioms::Pso => "pso",
            Axioms::Go => "go",
        }
    }
}

/// How many instructions past the first one a goroutine has not run it may
/// run early under go (docs/models.md, `go` rule 3: "hbsim looks up to 4
/// instructions ahead").
const GO_WINDOW: usize = 4;

/// Why the reference cannot decide a program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported(pub String);

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The final outcomes of `program` under `axioms`, each a value per observable
/// in `program.observables()` order.
///
/// # Errors
/// [`Unsupported`] for a program with a loop, or whose value domain or number
/// of candidate executions is too large to enumerate.
pub fn reference_outcomes(
    program: &Program,
    axioms: Axioms,
) -> Result<BTreeSet<Vec<Val>>, Unsupported> {
    reject_loops(program)?;
    let domain = value_domain(program)?;
    let runs: Vec<Vec<Run>> = (0..program.threads.len())
        .map(|t| thread_runs(program, t, &domain))
        .collect();
    check_budget(program, &runs, axioms)?;
    let observables = program.observables();
    let mut outcomes = BTreeSet::new();
    for choice in choices(runs.iter().map(Vec::len).collect()) {
        let picked: Vec<&Run> = choice
            .iter()
            .enumerate()
            .map(|(t, &i)| &runs[t][i])
            .collect();
        let skeleton = Skeleton::new(program, &picked, axioms);
        if let Some(sources) = skeleton.sources_within_budget()? {
            skeleton.add_outcomes(&picked, &sources, &observables, &mut outcomes);
        }
    }
    Ok(outcomes)
}

/// Fails for a program with a backward jump, or with Go synchronisation other
/// than a mutex's `Lock` and `Unlock`.
fn reject_loops(program: &Program) -> Result<(), Unsupported> {
    for (t, thread) in program.threads.iter().enumerate() {
        for (i, instr) in thread.code.iter().enumerate() {
            if let Instr::Goto { target, .. } = instr
                && *target <= i
            {
                return Err(Unsupported(format!(
                    "thread {t} jumps back from instruction {i} to {target} (a loop)"
                )));
            }
            if let Instr::Sync { op, .. } = instr
                && !matches!(op, SyncOp::Lock | SyncOp::Unlock)
            {
                return Err(Unsupported(format!(
                    "thread {t} uses Go synchronisation other than Lock and Unlock at instruction {i}"
                )));
            }
        }
    }
    Ok(())
}

/// The value domain of the module doc: initial values, closed `N` times under
/// "values some run writes".
fn value_domain(program: &Program) -> Result<Vec<Val>, Unsupported> {
    let mut domain: BTreeSet<Val> = program.locs.iter().map(|l| l.init).collect();
    let rounds = program
        .threads
        .iter()
        .flat_map(|t| &t.code)
        .filter(|i| {
            matches!(
                i,
                Instr::Store { .. } | Instr::Rmw { .. } | Instr::Sync { .. }
            )
        })
        .count();
    for _ in 0..rounds {
        let current: Vec<Val> = domain.iter().copied().collect();
        let written: BTreeSet<Val> = (0..program.threads.len())
            .flat_map(|t| thread_runs(program, t, &current))
            .flat_map(|run| run.events)
            .filter(|e| e.kind == Kind::Write)
            .map(|e| e.value)
            .collect();
        if written.is_subset(&domain) {
            break;
        }
        domain.extend(written);
        if domain.len() > MAX_DOMAIN {
            return Err(Unsupported(format!(
                "the value domain exceeds {MAX_DOMAIN} values"
            )));
        }
    }
    Ok(domain.into_iter().collect())
}

/// Fails when the run combinations times coherence orders exceed
/// [`MAX_CANDIDATES`] (under go, only atomic writes are ordered).
fn check_budget(program: &Program, runs: &[Vec<Run>], axioms: Axioms) -> Result<(), Unsupported> {
    let combinations = runs
        .iter()
        .fold(1u128, |n, r| n.saturating_mul(r.len() as u128));
    let orders = (0..program.locs.len()).fold(1u128, |n, l| {
        let writes: usize = runs
            .iter()
            .map(|thread| {
                thread
                    .iter()
                    .map(|r| r.writes_to(Loc(l as u16), axioms == Axioms::Go))
                    .max()
                    .unwrap_or(0)
            })
            .sum();
        n.saturating_mul((1..=writes as u128).product())
    });
    let candidates = combinations.saturating_mul(orders);
    if candidates > MAX_CANDIDATES {
        return Err(Unsupported(format!(
            "about {candidates} run combinations and coherence orders (limit {MAX_CANDIDATES})"
        )));
    }
    Ok(())
}

/// What an event does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A read of a variable.
    Read,
    /// A write of a variable.
    Write,
    /// A full fence.
    Fence,
}

/// One event of a thread run (or an initial write).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Event {
    /// Read, write or fence.
    kind: Kind,
    /// The variable accessed; `None` for a fence.
    loc: Option<Loc>,
    /// The value read or written; 0 for a fence.
    value: Val,
    /// Whether the event is atomic: part of an RMW, or an atomic load or store.
    locked: bool,
    /// Whether the event is an atomic load: on the hardware models, a plain
    /// load (x86 `MOV`), ordering no `po` pair.
    atomic_load: bool,
    /// Whether the event is the write of an RMW whose read is the previous event.
    rmw_write: bool,
    /// The instruction's index in its thread's code (0 for an initial write).
    pc: usize,
    /// For a locked read under go: whether it synchronises with the write it
    /// reads (every one but an `Unlock`'s check that the mutex is locked).
    acquires: bool,
}

impl Event {
    /// A plain or locked access by instruction `pc`.
    fn access(kind: Kind, loc: Loc, value: Val, locked: bool, pc: usize) -> Event {
        Event {
            kind,
            loc: Some(loc),
            value,
            locked,
            atomic_load: false,
            rmw_write: false,
            pc,
            acquires: true,
        }
    }

    /// Whether the event reads or writes a variable.
    fn is_memory(&self) -> bool {
        self.kind != Kind::Fence
    }
}

/// One way a thread can run: its events in program order, and its final registers.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Run {
    /// Events in program order.
    events: Vec<Event>,
    /// Register values when the thread finishes.
    regs: Vec<Val>,
    /// The index of every instruction it runs, in order (`Let`s and `Goto`s
    /// included): the go model's reordering looks at what lies between two
    /// events.
    path: Vec<usize>,
}

impl Run {
    /// How many writes (only locked ones if `locked_only`) the run makes to `loc`.
    fn writes_to(&self, loc: Loc, locked_only: bool) -> usize {
        self.events
            .iter()
            .filter(|e| e.kind == Kind::Write && e.loc == Some(loc) && (e.locked || !locked_only))
            .count()
    }
}

/// A run in progress.
#[derive(Clone, Debug)]
struct PartialRun {
    /// Index of the next instruction.
    pc: usize,
    /// The run so far.
    run: Run,
}

/// Every run of thread `t` whose reads take values in `domain`.
/// Requires a loop-free program (see [`reject_loops`]) so every run ends.
fn thread_runs(program: &Program, t: usize, domain: &[Val]) -> Vec<Run> {
    let thread = &program.threads[t];
    let start = PartialRun {
        pc: 0,
        run: Run {
            events: Vec::new(),
            regs: thread.regs.iter().map(|r| r.init).collect(),
            path: Vec::new(),
        },
    };
    let mut runs = Vec::new();
    let mut pending = vec![start];
    while let Some(state) = pending.pop() {
        match thread.code.get(state.pc) {
            None => runs.push(state.run),
            Some(instr) => pending.extend(step(instr, state, domain)),
        }
    }
    runs
}

/// The successors of a run in progress after one instruction: one per value of
/// `domain` for an instruction that reads, else exactly one.
fn step(instr: &Instr, mut state: PartialRun, domain: &[Val]) -> Vec<PartialRun> {
    let pc = state.pc;
    state.pc += 1;
    state.run.path.push(pc);
    match instr {
        Instr::Load { dst, loc, access } => domain
            .iter()
            .map(|&v| {
                let mut next = state.clone();
                next.run.regs[dst.index()] = v;
                let locked = *access == Access::Atomic;
                next.run.events.push(Event {
                    atomic_load: locked,
                    ..Event::access(Kind::Read, *loc, v, locked, pc)
                });
                next
            })
            .collect(),
        Instr::Store { loc, value, access } => {
            let v = value.eval(&state.run.regs);
            let locked = *access == Access::Atomic;
            state
                .run
                .events
                .push(Event::access(Kind::Write, *loc, v, locked, pc));
            vec![state]
        }
        Instr::Fence => {
            state.run.events.push(Event {
                kind: Kind::Fence,
                loc: None,
                value: 0,
                locked: false,
                atomic_load: false,
                rmw_write: false,
                pc,
                acquires: false,
            });
            vec![state]
        }
        Instr::Rmw { dst, loc, op } => domain
            .iter()
            .map(|&old| {
                let mut next = state.clone();
                let new = rmw_result(op, old, &next.run.regs);
                next.run.regs[dst.index()] = old;
                next.run
                    .events
                    .push(Event::access(Kind::Read, *loc, old, true, pc));
                if let Some(new) = new {
                    let mut write = Event::access(Kind::Write, *loc, new, true, pc);
                    write.rmw_write = true;
                    next.run.events.push(write);
                }
                next
            })
            .collect(),
        Instr::Let { dst, value } => {
            state.run.regs[dst.index()] = value.eval(&state.run.regs);
            vec![state]
        }
        Instr::Goto { cond, target } => {
            if cond.eval(&state.run.regs) != 0 {
                assert!(*target > pc, "invariant: loops were rejected");
                state.pc = *target;
            }
            vec![state]
        }
        // A mutex word is 0 (unlocked) or 1 (locked). `Lock` reads 0 and
        // writes 1, an RMW; reading 1 it blocks, `Unlock` reading 0 panics:
        // neither run ends, so neither gives a final outcome, and only the
        // value that lets the run go on is read (`rf` then needs a write of
        // it). `Unlock` reads the 1 without synchronising and writes 0.
        Instr::Sync { op, obj } => {
            let (expected, new, acquires) = match op {
                SyncOp::Lock => (0, 1, true),
                SyncOp::Unlock => (1, 0, false),
                _ => unreachable!("invariant: other synchronisation was rejected"),
            };
            let mut read = Event::access(Kind::Read, *obj, expected, true, pc);
            read.acquires = acquires;
            let mut write = Event::access(Kind::Write, *obj, new, true, pc);
            write.rmw_write = true;
            state.run.events.extend([read, write]);
            vec![state]
        }
    }
}

/// The value an RMW that read `old` writes, or `None` for a failed `Cas`.
/// Operands are evaluated on the registers before the RMW.
fn rmw_result(op: &RmwOp, old: Val, regs: &[Val]) -> Option<Val> {
    match op {
        RmwOp::Xchg(v) => Some(v.eval(regs)),
        RmwOp::FetchAdd(v) => Some(old.wrapping_add(v.eval(regs))),
        RmwOp::Cas { expected, new } => (old == expected.eval(regs)).then(|| new.eval(regs)),
    }
}

/// Every vector `c` with `c[i] < sizes[i]`, in lexicographic order: one empty
/// vector when `sizes` is empty, none when some size is 0.
fn choices(sizes: Vec<usize>) -> impl Iterator<Item = Vec<usize>> {
    let mut next = (!sizes.contains(&0)).then(|| vec![0; sizes.len()]);
    std::iter::from_fn(move || {
        let current = next.take()?;
        let mut successor = current.clone();
        for i in (0..successor.len()).rev() {
            successor[i] += 1;
            if successor[i] < sizes[i] {
                next = Some(successor);
                break;
            }
            successor[i] = 0;
        }
        Some(current)
    })
}

/// Every ordering of `items`.
fn permutations(items: &[usize]) -> Vec<Vec<usize>> {
    if items.is_empty() {
        return vec![Vec::new()];
    }
    let mut all = Vec::new();
    for i in 0..items.len() {
        let mut rest = items.to_vec();
        let first = rest.remove(i);
        for mut tail in permutations(&rest) {
            tail.insert(0, first);
            all.push(tail);
        }
    }
    all
}

/// A binary relation on events `0..n`, as an adjacency matrix.
struct Relation {
    /// Number of events.
    n: usize,
    /// `edges[a * n + b]` says whether `a` is related to `b`.
    edges: Vec<bool>,
}

impl Relation {
    /// The relation holding exactly for the pairs where `related` is true.
    fn from_fn(n: usize, related: impl Fn(usize, usize) -> bool) -> Relation {
        let edges = (0..n * n).map(|i| related(i / n, i % n)).collect();
        Relation { n, edges }
    }

    /// Whether `a` is related to `b`.
    fn contains(&self, a: usize, b: usize) -> bool {
        self.edges[a * self.n + b]
    }

    /// The transitive closure (Floyd–Warshall).
    fn closure(mut self) -> Relation {
        let n = self.n;
        for k in 0..n {
            for a in 0..n {
                if self.edges[a * n + k] {
                    for b in 0..n {
                        if self.edges[k * n + b] {
                            self.edges[a * n + b] = true;
                        }
                    }
                }
            }
        }
        self
    }

    /// Relates `a` to `b`.
    fn insert(&mut self, a: usize, b: usize) {
        self.edges[a * self.n + b] = true;
    }

    /// Whether the relation has no cycle (Kahn's algorithm: repeatedly remove
    /// events with no incoming edge from the remaining ones; a cycle is what stays).
    fn is_acyclic(&self) -> bool {
        let mut removed = vec![false; self.n];
        loop {
            let source = (0..self.n)
                .find(|&b| !removed[b] && !(0..self.n).any(|a| !removed[a] && self.contains(a, b)));
            match source {
                Some(b) => removed[b] = true,
                None => return removed.iter().all(|&r| r),
            }
        }
    }
}

/// One event of a candidate execution.
#[derive(Clone, Copy, Debug)]
struct Node {
    /// The thread; `None` for an initial write.
    thread: Option<usize>,
    /// What the event does.
    event: Event,
}

/// The events of one combination of runs, with what does not depend on `rf`
/// and `co`. Event `l` (for `l < locs.len()`) is the initial write of variable `l`;
/// each thread's events follow in program order.
struct Skeleton<'p> {
    /// The program.
    program: &'p Program,
    /// The model.
    axioms: Axioms,
    /// Every event.
    nodes: Vec<Node>,
    /// For each variable, its writes other than the initial one.
    writes: Vec<Vec<usize>>,
    /// Every read.
    reads: Vec<usize>,
    /// Each `(read, write)` pair of a successful RMW.
    rmw: Vec<(usize, usize)>,
    /// The program-order pairs the model's ordering axiom keeps.
    preserved: Relation,
}

impl<'p> Skeleton<'p> {
    /// The events of `runs` (one per thread) under `axioms`.
    fn new(program: &'p Program, runs: &[&Run], axioms: Axioms) -> Skeleton<'p> {
        let mut nodes: Vec<Node> = program
            .locs
            .iter()
            .enumerate()
            .map(|(l, location)| Node {
                thread: None,
                event: Event::access(Kind::Write, Loc(l as u16), location.init, false, 0),
            })
            .collect();
        for (t, run) in runs.iter().enumerate() {
            nodes.extend(run.events.iter().map(|&event| Node {
                thread: Some(t),
                event,
            }));
        }
        let mut writes = vec![Vec::new(); program.locs.len()];
        let mut reads = Vec::new();
        let mut rmw = Vec::new();
        for (i, node) in nodes.iter().enumerate().skip(program.locs.len()) {
            match (node.event.kind, node.event.loc) {
                (Kind::Write, Some(loc)) => writes[loc.index()].push(i),
                (Kind::Read, _) => reads.push(i),
                _ => {}
            }
            if node.event.rmw_write {
                rmw.push((i - 1, i));
            }
        }
        let preserved = Relation::from_fn(nodes.len(), |a, b| match axioms {
            Axioms::Go => go::preserved(program, &nodes, runs, a, b),
            _ => preserved(&nodes, axioms, a, b),
        });
        Skeleton {
            program,
            axioms,
            nodes,
            writes,
            reads,
            rmw,
            preserved,
        }
    }

    /// Adds the outcome of every consistent candidate over these events,
    /// `sources` giving each read the writes it may read from.
    fn add_outcomes(
        &self,
        runs: &[&Run],
        sources: &[Vec<usize>],
        observables: &[Observable],
        outcomes: &mut BTreeSet<Vec<Val>>,
    ) {
        if self.axioms == Axioms::Go {
            return go::add_outcomes(self, runs, sources, observables, outcomes);
        }
        let orders: Vec<Vec<Vec<usize>>> = self.writes.iter().map(|w| permutations(w)).collect();
        for order in choices(orders.iter().map(Vec::len).collect()) {
            let co: Vec<&[usize]> = order
                .iter()
                .enumerate()
                .map(|(l, &i)| orders[l][i].as_slice())
                .collect();
            let outcome = self.outcome(runs, &co, observables);
            if outcomes.contains(&outcome) {
                continue;
            }
            let co_rank = self.co_ranks(&co);
            let consistent = choices(sources.iter().map(Vec::len).collect()).any(|choice| {
                let mut rf = vec![None; self.nodes.len()];
                for (k, &i) in choice.iter().enumerate() {
                    rf[self.reads[k]] = Some(sources[k][i]);
                }
                Candidate {
                    skeleton: self,
                    rf,
                    co_rank: &co_rank,
                }
                .is_consistent()
            });
            if consistent {
                outcomes.insert(outcome);
            }
        }
    }

    /// For each read, the writes it may read from ([`Self::read_sources`]);
    /// `None` when some read has none. Fails when this combination of runs
    /// has more than [`MAX_RF_CHOICES`] candidates: ways to choose every
    /// read's write times coherence orders (mutexes make many: each `Lock`
    /// may read the initial 0 or any `Unlock`'s, and each `Lock` and `Unlock`
    /// is a write to order).
    fn sources_within_budget(&self) -> Result<Option<Vec<Vec<usize>>>, Unsupported> {
        let Some(sources) = self.read_sources() else {
            return Ok(None);
        };
        let choices = sources
            .iter()
            .fold(1u128, |n, s| n.saturating_mul(s.len() as u128));
        let ordered = |w: &usize| self.axioms != Axioms::Go || self.nodes[*w].event.locked;
        let orders = self.writes.iter().fold(1u128, |n, ws| {
            let k = ws.iter().filter(|w| ordered(w)).count() as u128;
            n.saturating_mul((1..=k).product())
        });
        let candidates = choices.saturating_mul(orders);
        if candidates > MAX_RF_CHOICES {
            return Err(Unsupported(format!(
                "about {candidates} choices of rf and co for one combination of runs (limit {MAX_RF_CHOICES})"
            )));
        }
        Ok(Some(sources))
    }

    /// For each read (in `reads` order), the writes it may read from: same
    /// variable, same value. `None` when some read has none.
    fn read_sources(&self) -> Option<Vec<Vec<usize>>> {
        self.reads
            .iter()
            .map(|&r| {
                let read = self.nodes[r].event;
                let sources: Vec<usize> = (0..self.nodes.len())
                    .filter(|&w| {
                        let write = self.nodes[w].event;
                        write.kind == Kind::Write
                            && write.loc == read.loc
                            && write.value == read.value
                    })
                    .collect();
                (!sources.is_empty()).then_some(sources)
            })
            .collect()
    }

    /// Each write's position in its variable's `co` (0 for the initial write),
    /// given each variable's other writes in order; 0 for other events.
    fn co_ranks(&self, co: &[&[usize]]) -> Vec<usize> {
        let mut rank = vec![0; self.nodes.len()];
        for order in co {
            for (position, &w) in order.iter().enumerate() {
                rank[w] = position + 1;
            }
        }
        rank
    }

    /// The outcome: observed registers from the runs, variables from their
    /// co-last writes.
    fn outcome(&self, runs: &[&Run], co: &[&[usize]], observables: &[Observable]) -> Vec<Val> {
        observables
            .iter()
            .map(|&o| match o {
                Observable::Reg(t, r) => runs[t.index()].regs[r.index()],
                Observable::Loc(l) => match co[l.index()].last() {
                    Some(&w) => self.nodes[w].event.value,
                    None => self.program.locs[l.index()].init,
                },
            })
            .collect()
    }
}

/// Whether `a` is `po`-before `b`.
fn po(nodes: &[Node], a: usize, b: usize) -> bool {
    nodes[a].thread.is_some() && nodes[a].thread == nodes[b].thread && a < b
}

/// Whether the `po` pair `(a, b)` is kept by the ordering axiom of `axioms`
/// (module doc): all of `po` for sc; `ppo | fence | implied` for tso and pso.
fn preserved(nodes: &[Node], axioms: Axioms, a: usize, b: usize) -> bool {
    if !po(nodes, a, b) {
        return false;
    }
    let (x, y) = (nodes[a].event, nodes[b].event);
    if axioms == Axioms::Sc {
        return true;
    }
    if !x.is_memory() || !y.is_memory() {
        return false;
    }
    let write_read = x.kind == Kind::Write && y.kind == Kind::Read;
    let write_write_other = x.kind == Kind::Write && y.kind == Kind::Write && x.loc != y.loc;
    let ppo = match axioms {
        Axioms::Sc | Axioms::Tso => !write_read,
        Axioms::Pso => !write_read && !write_write_other,
        Axioms::Go => unreachable!("invariant: go keeps its own order (go::preserved)"),
    };
    let fence = (a + 1..b).any(|f| nodes[f].event.kind == Kind::Fence);
    let orders = |e: Event| e.locked && !e.atomic_load;
    let implied = orders(x) || orders(y);
    ppo || fence || implied
}

/// A candidate execution: events with an `rf` and a `co`.
struct Candidate<'a> {
    /// The events.
    skeleton: &'a Skeleton<'a>,
    /// For each read, the write it reads from; `None` for other events.
    rf: Vec<Option<usize>>,
    /// For each write, its position in its variable's `co`.
    co_rank: &'a [usize],
}

impl Candidate<'_> {
    /// Whether the candidate satisfies every axiom of its model.
    fn is_consistent(&self) -> bool {
        self.sc_per_location() && self.atomicity() && self.model_order_acyclic()
    }

    /// `acyclic(po-loc | rf | co | fr)`.
    fn sc_per_location(&self) -> bool {
        let nodes = &self.skeleton.nodes;
        Relation::from_fn(nodes.len(), |a, b| {
            let po_loc = po(nodes, a, b)
                && nodes[a].event.is_memory()
                && nodes[a].event.loc == nodes[b].event.loc;
            po_loc || self.com(a, b)
        })
        .is_acyclic()
    }

    /// `empty(rmw & (fre; coe))`.
    fn atomicity(&self) -> bool {
        self.skeleton.rmw.iter().all(|&(r, w)| {
            !(0..self.skeleton.nodes.len()).any(|e| {
                self.fr(r, e) && self.external(r, e) && self.co(e, w) && self.external(e, w)
            })
        })
    }

    /// The model's ordering axiom: `acyclic(po | com)` for sc,
    /// `acyclic(ppo | fence | implied | rfe | co | fr)` for tso and pso.
    fn model_order_acyclic(&self) -> bool {
        let skeleton = self.skeleton;
        Relation::from_fn(skeleton.nodes.len(), |a, b| {
            let rf = match skeleton.axioms {
                Axioms::Sc => self.rf(a, b),
                Axioms::Tso | Axioms::Pso => self.rf(a, b) && self.external(a, b),
                Axioms::Go => unreachable!("invariant: go candidates are checked by go::Candidate"),
            };
            skeleton.preserved.contains(a, b) || rf || self.co(a, b) || self.fr(a, b)
        })
        .is_acyclic()
    }

    /// `rf | co | fr`.
    fn com(&self, a: usize, b: usize) -> bool {
        self.rf(a, b) || self.co(a, b) || self.fr(a, b)
    }

    /// Whether read `b` reads from write `a`.
    fn rf(&self, a: usize, b: usize) -> bool {
        self.rf[b] == Some(a)
    }

    /// Whether `a` and `b` are writes to the same variable with `a` co-before `b`.
    fn co(&self, a: usize, b: usize) -> bool {
        let (x, y) = (self.skeleton.nodes[a].event, self.skeleton.nodes[b].event);
        x.kind == Kind::Write
            && y.kind == Kind::Write
            && x.loc == y.loc
            && self.co_rank[a] < self.co_rank[b]
    }

    /// `fr = rf^-1; co`: `a` reads from a write co-before write `b`.
    fn fr(&self, a: usize, b: usize) -> bool {
        self.rf[a].is_some_and(|w| self.co(w, b))
    }

    /// Whether `a` and `b` belong to different threads (initial writes to none).
    fn external(&self, a: usize, b: usize) -> bool {
        self.skeleton.nodes[a].thread != self.skeleton.nodes[b].thread
    }
}

/// The Go memory model as axioms over candidate executions (module doc, "The
/// go model").
mod go {
    use std::collections::BTreeSet;

    use hbsim::ir::{Access, Expr, Instr, Loc, Observable, Program, Reg, Val};

    use super::{GO_WINDOW, Kind, Node, Relation, Run, Skeleton, choices, permutations, po};

    /// Whether event `b` may not run before the `po`-earlier event `a` of its
    /// thread: `b` is not a plain load or store, or lies more than
    /// [`GO_WINDOW`] instructions after `a`, or depends on `a`'s instruction
    /// or on a `Let` run between them, or a `Goto` run between them does not
    /// land after itself and no further than `b`, reads a register `b`
    /// writes, or jumped over an instruction `b` may not cross.
    pub(super) fn preserved(
        program: &Program,
        nodes: &[Node],
        runs: &[&Run],
        a: usize,
        b: usize,
    ) -> bool {
        if !po(nodes, a, b) {
            return false;
        }
        let t = nodes[a]
            .thread
            .expect("invariant: po relates thread events");
        let code = &program.threads[t].code;
        let (i, j) = (nodes[a].event.pc, nodes[b].event.pc);
        let later = &code[j];
        let movable = matches!(
            later,
            Instr::Load {
                access: Access::Plain,
                ..
            } | Instr::Store {
                access: Access::Plain,
                ..
            }
        );
        if !movable || i == j || j - i > GO_WINDOW || !independent(&code[i], later) {
            return true;
        }
        let path = &runs[t].path;
        path.iter().enumerate().any(|(n, &k)| {
            if k <= i || k >= j {
                return false;
            }
            match &code[k] {
                Instr::Let { .. } => !independent(&code[k], later),
                Instr::Goto { target, .. } => {
                    let taken = path.get(n + 1) == Some(target) && *target != k + 1;
                    !crosses_jump(code, k, j, later)
                        || (taken && (k + 1..*target).any(|m| !crosses_skipped(code, m, j, later)))
                }
                _ => false,
            }
        })
    }

    /// Whether `later` (instruction `j`) may run before the jump at `k`: the
    /// jump lands after itself and no further than `j`, so every path
    /// through it reaches `j` (the jumps in between are checked too), and its
    /// condition reads no register `later` writes.
    fn crosses_jump(code: &[Instr], k: usize, j: usize, later: &Instr) -> bool {
        let Instr::Goto { cond, target } = &code[k] else {
            return false;
        };
        let written = registers(later).map_or_else(Vec::new, |(_, w, _)| w);
        k < *target && *target <= j && !reads(cond).iter().any(|r| written.contains(r))
    }

    /// Whether `later` (instruction `j`) may run before instruction `m`, which
    /// a taken jump skipped: before the jump it was not known that `m` would
    /// not run, so `m` must be one `later` may cross.
    fn crosses_skipped(code: &[Instr], m: usize, j: usize, later: &Instr) -> bool {
        match &code[m] {
            Instr::Goto { .. } => crosses_jump(code, m, j, later),
            other => independent(other, later),
        }
    }

    /// Whether `later` may run before `earlier` as far as they alone go: both
    /// are plain loads, plain stores or `Let`s (nothing crosses a branch, a
    /// fence or a synchronising operation), `later` reads no register
    /// `earlier` writes and writes none it reads or writes, and they access
    /// different variables.
    fn independent(earlier: &Instr, later: &Instr) -> bool {
        let (Some((er, ew, el)), Some((lr, lw, ll))) = (registers(earlier), registers(later))
        else {
            return false;
        };
        let meet = |x: &[Reg], y: &[Reg]| x.iter().any(|r| y.contains(r));
        !meet(&lr, &ew) && !meet(&lw, &er) && !meet(&lw, &ew) && (el.is_none() || el != ll)
    }

    /// The registers an instruction reads and writes and the variable it
    /// accesses; `None` for what nothing may cross.
    fn registers(instr: &Instr) -> Option<(Vec<Reg>, Vec<Reg>, Option<Loc>)> {
        match instr {
            Instr::Load {
                dst,
                loc,
                access: Access::Plain,
            } => Some((Vec::new(), vec![*dst], Some(*loc))),
            Instr::Store {
                loc,
                value,
                access: Access::Plain,
            } => Some((reads(value), Vec::new(), Some(*loc))),
            Instr::Let { dst, value } => Some((reads(value), vec![*dst], None)),
            _ => None,
        }
    }

    /// The registers an expression reads.
    fn reads(e: &Expr) -> Vec<Reg> {
        match e {
            Expr::Const(_) => Vec::new(),
            Expr::Reg(r) => vec![*r],
            Expr::Unary(_, a) => reads(a),
            Expr::Binary(_, a, b) => {
                let mut regs = reads(a);
                regs.extend(reads(b));
                regs
            }
        }
    }

    /// Adds the outcomes of every consistent candidate over the skeleton's
    /// events: each order of the atomic writes of each variable, each choice
    /// of `sources` (per read, the writes of its value), and each final
    /// write the observer may read.
    pub(super) fn add_outcomes(
        skeleton: &Skeleton<'_>,
        runs: &[&Run],
        sources: &[Vec<usize>],
        observables: &[Observable],
        outcomes: &mut BTreeSet<Vec<Val>>,
    ) {
        let nodes = &skeleton.nodes;
        let atomic: Vec<Vec<usize>> = skeleton
            .writes
            .iter()
            .map(|ws| {
                ws.iter()
                    .copied()
                    .filter(|&w| nodes[w].event.locked)
                    .collect()
            })
            .collect();
        let orders: Vec<Vec<Vec<usize>>> = atomic.iter().map(|w| permutations(w)).collect();
        for order in choices(orders.iter().map(Vec::len).collect()) {
            let aco: Vec<&[usize]> = order
                .iter()
                .enumerate()
                .map(|(l, &i)| orders[l][i].as_slice())
                .collect();
            let rank = skeleton.co_ranks(&aco);
            for choice in choices(sources.iter().map(Vec::len).collect()) {
                let mut rf = vec![None; nodes.len()];
                for (k, &i) in choice.iter().enumerate() {
                    rf[skeleton.reads[k]] = Some(sources[k][i]);
                }
                let candidate = Candidate::new(skeleton, rf, &rank);
                if candidate.is_consistent() {
                    candidate.add_finals(runs, observables, outcomes);
                }
            }
        }
    }

    /// A candidate execution under go: events, `rf`, the order of each
    /// variable's atomic writes (`aco`), and the happens-before they imply.
    struct Candidate<'a> {
        skeleton: &'a Skeleton<'a>,
        rf: Vec<Option<usize>>,
        /// Each atomic write's position in its variable's `aco` (from 1); 0
        /// for every other event.
        rank: &'a [usize],
        /// `hb = (po | sw)+`, with every initial write before every event.
        hb: Relation,
    }

    impl<'a> Candidate<'a> {
        fn new(skeleton: &'a Skeleton<'a>, rf: Vec<Option<usize>>, rank: &'a [usize]) -> Self {
            let nodes = &skeleton.nodes;
            let hb = Relation::from_fn(nodes.len(), |a, b| {
                let initial = nodes[a].thread.is_none() && nodes[b].thread.is_some();
                let sw = rf[b] == Some(a)
                    && nodes[a].event.locked
                    && nodes[b].event.locked
                    && nodes[b].event.acquires;
                initial || po(nodes, a, b) || sw
            })
            .closure();
            Candidate {
                skeleton,
                rf,
                rank,
                hb,
            }
        }

        fn event(&self, e: usize) -> super::Event {
            self.skeleton.nodes[e].event
        }

        /// Whether `a` and `b` are atomic writes of one variable, `a` first in `aco`.
        fn aco(&self, a: usize, b: usize) -> bool {
            let (x, y) = (self.event(a), self.event(b));
            x.kind == Kind::Write
                && y.kind == Kind::Write
                && x.locked
                && y.locked
                && x.loc == y.loc
                && self.rank[a] < self.rank[b]
        }

        /// Rules 2 and 1 and an execution order: every read may observe its
        /// write, and some total order of the events (`exo`, the order they
        /// run in) extends `preserved | rf | aco` and puts each atomic read
        /// before the atomic writes it must not see.
        fn is_consistent(&self) -> bool {
            self.may_observe() && self.ordered()
        }

        /// Rule 2: no read `r` of `w` has another write `w'` of its variable
        /// with `w hb w' hb r`.
        fn may_observe(&self) -> bool {
            let skeleton = self.skeleton;
            skeleton.reads.iter().all(|&r| {
                let w = self.rf[r].expect("invariant: every read has a source");
                let loc = self
                    .event(r)
                    .loc
                    .expect("invariant: reads access a variable");
                skeleton.writes[loc.index()].iter().all(|&other| {
                    other == w || !(self.hb.contains(w, other) && self.hb.contains(other, r))
                })
            })
        }

        /// Whether an atomic read `r` must run before the atomic write `w2`
        /// of its variable: `w2` follows the atomic write `r` reads in `aco`
        /// (an atomic read sees the last atomic write), or `r` reads a plain
        /// write (or the initial value) that happens before `w2` (such a
        /// write is older than `w2` in the order of atomics).
        fn read_before(&self, r: usize, w2: usize) -> bool {
            let (read, write) = (self.event(r), self.event(w2));
            if read.kind != Kind::Read
                || !read.locked
                || write.kind != Kind::Write
                || !write.locked
                || read.loc != write.loc
            {
                return false;
            }
            let w = self.rf[r].expect("invariant: every read has a source");
            if self.event(w).locked {
                self.aco(w, w2)
            } else {
                self.hb.contains(w, w2)
            }
        }

        /// Rule 4 and the order of atomics: `preserved | rf | aco | read_before`
        /// is acyclic once each read-modify-write's read and write are one
        /// event (they run in one step).
        fn ordered(&self) -> bool {
            let skeleton = self.skeleton;
            let n = skeleton.nodes.len();
            let mut one = (0..n).collect::<Vec<usize>>();
            for &(r, w) in &skeleton.rmw {
                // It would read a write it has not made yet.
                if self.rf[r] == Some(w) {
                    return false;
                }
                one[w] = r;
            }
            let mut order = Relation::from_fn(n, |_, _| false);
            for a in 0..n {
                for b in 0..n {
                    if one[a] != one[b]
                        && (skeleton.preserved.contains(a, b)
                            || self.rf[b] == Some(a)
                            || self.aco(a, b)
                            || self.read_before(a, b))
                    {
                        order.insert(one[a], one[b]);
                    }
                }
            }
            order.is_acyclic()
        }

        /// Adds every outcome the final observer can make: each variable
        /// ends with a write no other write of it overwrites, in
        /// happens-before or, between atomic writes, in `aco` (rule 5).
        fn add_finals(
            &self,
            runs: &[&Run],
            observables: &[Observable],
            outcomes: &mut BTreeSet<Vec<Val>>,
        ) {
            let skeleton = self.skeleton;
            let columns: Vec<Vec<Val>> = observables
                .iter()
                .map(|&o| match o {
                    Observable::Reg(t, r) => vec![runs[t.index()].regs[r.index()]],
                    Observable::Loc(l) => {
                        let writes = &skeleton.writes[l.index()];
                        let last = std::iter::once(l.index())
                            .chain(writes.iter().copied())
                            .filter(|&f| {
                                writes.iter().all(|&other| {
                                    other == f
                                        || !(self.hb.contains(f, other) || self.aco(f, other))
                                })
                            });
                        let values: BTreeSet<Val> = last.map(|f| self.event(f).value).collect();
                        values.into_iter().collect()
                    }
                })
                .collect();
            for pick in choices(columns.iter().map(Vec::len).collect()) {
                outcomes.insert(
                    pick.iter()
                        .enumerate()
                        .map(|(c, &i)| columns[c][i])
                        .collect(),
                );
            }
        }
    }
}

/// The reference checked against verdicts from the literature, not from hbsim.
#[cfg(test)]
mod tests {
    use super::{Axioms, reference_outcomes};
    use hbsim::ir::Val;
    use hbsim::syntax::parse_str;

    /// Whether some reference outcome of `source` under `axioms` gives every
    /// named observable (`"0:r0"`, `"x"`) its value.
    fn allows(source: &str, axioms: Axioms, values: &[(&str, Val)]) -> bool {
        let program = parse_str(source, "test.ron")
            .expect("test program loads")
            .program;
        let names: Vec<String> = program
            .observables()
            .into_iter()
            .map(|o| program.observable_name(o))
            .collect();
        let columns: Vec<(usize, Val)> = values
            .iter()
            .map(|&(name, v)| {
                let column = names
                    .iter()
                    .position(|n| n == name)
                    .unwrap_or_else(|| panic!("{name} is not an observable of the test"));
                (column, v)
            })
            .collect();
        let outcomes = reference_outcomes(&program, axioms)
            .unwrap_or_else(|e| panic!("the reference supports the test: {e}"));
        outcomes
            .iter()
            .any(|outcome| columns.iter().all(|&(c, v)| outcome[c] == v))
    }

    /// A two-thread test with the given instruction lists.
    fn two_threads(t0: &str, t1: &str) -> String {
        format!(r#"Litmus(name: "T", threads: [ [{t0}], [{t1}] ], condition: "exists (x=0)")"#)
    }

    #[test]
    fn sb_is_allowed_by_tso_and_pso_only() {
        // Sewell et al., "x86-TSO", CACM 53(7) 2010, section 2 (SB); Intel SDM
        // vol. 3A 8.2.3.4, example 8-3; SPARC V8 appendix K (PSO is weaker than TSO).
        let sb = two_threads(
            r#"Store("x", 1), Load("r0", "y")"#,
            r#"Store("y", 1), Load("r0", "x")"#,
        );
        let both_zero = [("0:r0", 0), ("1:r0", 0)];
        assert!(!allows(&sb, Axioms::Sc, &both_zero));
        assert!(allows(&sb, Axioms::Tso, &both_zero));
        assert!(allows(&sb, Axioms::Pso, &both_zero));
        assert!(allows(&sb, Axioms::Sc, &[("0:r0", 1), ("1:r0", 1)]));
    }

    #[test]
    fn sb_with_mfences_is_forbidden_by_tso() {
        // Owens, Sarkar, Sewell, TPHOLs 2009, section 2 (SB with MFENCE); Intel
        // SDM vol. 3A 8.2.3.4 (MFENCE restores order); herd7 x86 SB+mfences: Never.
        let sb = two_threads(
            r#"Store("x", 1), Fence, Load("r0", "y")"#,
            r#"Store("y", 1), Fence, Load("r0", "x")"#,
        );
        assert!(!allows(&sb, Axioms::Tso, &[("0:r0", 0), ("1:r0", 0)]));
        assert!(!allows(&sb, Axioms::Pso, &[("0:r0", 0), ("1:r0", 0)]));
    }

    #[test]
    fn mp_is_forbidden_by_tso_and_allowed_by_pso() {
        // Intel SDM vol. 3A 8.2.3.2, example 8-1 (stores are not reordered with
        // other stores, loads not with other loads); SPARC V8 appendix K: under
        // PSO stores to different locations need STBAR to stay ordered.
        let mp = two_threads(
            r#"Store("x", 1), Store("y", 1)"#,
            r#"Load("r1", "y"), Load("r2", "x")"#,
        );
        let stale = [("1:r1", 1), ("1:r2", 0)];
        assert!(!allows(&mp, Axioms::Sc, &stale));
        assert!(!allows(&mp, Axioms::Tso, &stale));
        assert!(allows(&mp, Axioms::Pso, &stale));
    }

    #[test]
    fn lb_is_forbidden_everywhere() {
        // Intel SDM vol. 3A 8.2.3.3, example 8-2 (stores are not reordered with
        // older loads); SPARC V8 appendix K (LoadOp order holds in TSO and PSO).
        let lb = two_threads(
            r#"Load("r0", "x"), Store("y", 1)"#,
            r#"Load("r0", "y"), Store("x", 1)"#,
        );
        for axioms in Axioms::HARDWARE {
            assert!(
                !allows(&lb, axioms, &[("0:r0", 1), ("1:r0", 1)]),
                "{axioms:?}"
            );
        }
    }

    #[test]
    fn two_plus_two_w_is_forbidden_by_tso_and_allowed_by_pso() {
        // herd7 x86 2+2W: Never (TSO keeps W*W order, Owens et al. TPHOLs 2009);
        // SPARC V8 appendix K: PSO may reorder stores to different locations.
        let w = two_threads(
            r#"Store("x", 1), Store("y", 2)"#,
            r#"Store("y", 1), Store("x", 2)"#,
        );
        let both_first = [("x", 1), ("y", 1)];
        assert!(!allows(&w, Axioms::Sc, &both_first));
        assert!(!allows(&w, Axioms::Tso, &both_first));
        assert!(allows(&w, Axioms::Pso, &both_first));
    }

    #[test]
    fn iriw_is_forbidden_by_tso_and_pso() {
        // Intel SDM vol. 3A 8.2.3.7, example 8-7 (stores are seen in a consistent
        // order by other processors); SPARC V8 appendix K (a single memory order
        // of stores in both TSO and PSO).
        let iriw = r#"Litmus(name: "IRIW", threads: [
            [ Store("x", 1) ],
            [ Store("y", 1) ],
            [ Load("r0", "x"), Load("r1", "y") ],
            [ Load("r0", "y"), Load("r1", "x") ],
        ], condition: "exists (x=0)")"#;
        let disagree = [("2:r0", 1), ("2:r1", 0), ("3:r0", 1), ("3:r1", 0)];
        for axioms in Axioms::HARDWARE {
            assert!(!allows(iriw, axioms, &disagree), "{axioms:?}");
        }
    }

    #[test]
    fn store_forwarding_lets_a_thread_see_its_store_early_under_tso() {
        // Intel SDM vol. 3A 8.2.3.5, example 8-5 (intra-processor forwarding is
        // allowed): both threads read their own store, then 0 for the other's.
        let forwarding = two_threads(
            r#"Store("x", 1), Load("r0", "x"), Load("r1", "y")"#,
            r#"Store("y", 1), Load("r2", "y"), Load("r3", "x")"#,
        );
        let early = [("0:r0", 1), ("0:r1", 0), ("1:r2", 1), ("1:r3", 0)];
        assert!(!allows(&forwarding, Axioms::Sc, &early));
        assert!(allows(&forwarding, Axioms::Tso, &early));
    }

    #[test]
    fn competing_cas_admit_exactly_one_winner() {
        // Intel SDM vol. 3A 8.1.2.2 (locked operations are atomic): of two
        // CMPXCHG(0 -> 1) on one location exactly one succeeds.
        let cas = two_threads(r#"Cas("r0", "x", 0, 1)"#, r#"Cas("r0", "x", 0, 1)"#);
        for axioms in Axioms::ALL {
            assert!(
                !allows(&cas, axioms, &[("0:r0", 0), ("1:r0", 0)]),
                "{axioms:?}"
            );
            assert!(
                !allows(&cas, axioms, &[("0:r0", 1), ("1:r0", 1)]),
                "{axioms:?}"
            );
            assert!(allows(&cas, axioms, &[("0:r0", 0), ("1:r0", 1), ("x", 1)]));
        }
    }

    #[test]
    fn fetch_adds_never_lose_an_update() {
        // Intel SDM vol. 3A 8.1.2.2 (LOCK XADD is atomic): two increments give 2.
        let add = two_threads(r#"FetchAdd("r0", "x", 1)"#, r#"FetchAdd("r0", "x", 1)"#);
        for axioms in Axioms::ALL {
            assert!(!allows(&add, axioms, &[("x", 1)]), "{axioms:?}");
            assert!(allows(&add, axioms, &[("x", 2), ("0:r0", 1), ("1:r0", 0)]));
        }
    }

    #[test]
    fn locked_instructions_order_sb_under_tso_even_when_cas_fails() {
        // Intel SDM vol. 3A 8.2.3.9, example 8-10 (loads and stores are not
        // reordered with locked instructions); CMPXCHG is locked whether or not
        // it succeeds (Intel SDM vol. 2A, CMPXCHG).
        let sb = two_threads(
            r#"Store("x", 1), Cas("r1", "z", 1, 2), Load("r0", "y")"#,
            r#"Store("y", 1), Cas("r1", "w", 1, 2), Load("r0", "x")"#,
        );
        assert!(!allows(&sb, Axioms::Tso, &[("0:r0", 0), ("1:r0", 0)]));
        assert!(!allows(&sb, Axioms::Pso, &[("0:r0", 0), ("1:r0", 0)]));
    }

    #[test]
    fn atomic_loads_overtake_plain_stores_but_not_atomic_ones_under_tso() {
        // Go and C/C++11 compile an atomic load to MOV and an atomic store to
        // XCHG on x86 (litmus/sb+atomic-loads.ron): SB with plain stores and
        // atomic loads is SB (Intel SDM vol. 3A 8.2.3.4, example 8-3), with
        // atomic stores it is ordered by the locked XCHG (8.2.3.9).
        let plain_stores = two_threads(
            r#"Store("x", 1), AtomicLoad("r0", "y")"#,
            r#"Store("y", 1), AtomicLoad("r0", "x")"#,
        );
        let atomic_stores = two_threads(
            r#"AtomicStore("x", 1), Load("r0", "y")"#,
            r#"AtomicStore("y", 1), Load("r0", "x")"#,
        );
        let both_zero = [("0:r0", 0), ("1:r0", 0)];
        assert!(!allows(&plain_stores, Axioms::Sc, &both_zero));
        for axioms in [Axioms::Tso, Axioms::Pso] {
            assert!(allows(&plain_stores, axioms, &both_zero), "{axioms:?}");
            assert!(!allows(&atomic_stores, axioms, &both_zero), "{axioms:?}");
        }
    }

    #[test]
    fn go_lets_racy_reads_observe_concurrent_writes_in_any_order() {
        // The Go memory model (https://go.dev/ref/mem, June 6, 2022),
        // "Implementation Restrictions for Programs Containing Data Races": a
        // racy read r may observe any write w with r not happening before w
        // and no w' with w hb w' hb r. In LB each load races with the store it
        // reads, and neither load happens before the other thread's store.
        let lb = two_threads(
            r#"Load("r0", "x"), Store("y", 1)"#,
            r#"Load("r0", "y"), Store("x", 1)"#,
        );
        assert!(allows(&lb, Axioms::Go, &[("0:r0", 1), ("1:r0", 1)]));
        // "A read may observe a concurrent write. That does not imply that
        // later reads observe writes that happened before it" (2012-2022
        // text): two reads of x may see its writes out of order (CoRR).
        let corr = two_threads(
            r#"Store("x", 1), Store("x", 2)"#,
            r#"Load("r0", "x"), Load("r1", "x")"#,
        );
        assert!(allows(&corr, Axioms::Go, &[("1:r0", 2), ("1:r1", 1)]));
        // But a read may not observe a write overwritten in happens-before:
        // a thread reading x after its own store of 2 never sees the initial 0.
        let own = two_threads(r#"Store("x", 2), Load("r0", "x")"#, r#"Store("x", 1)"#);
        assert!(!allows(&own, Axioms::Go, &[("0:r0", 0)]));
    }

    #[test]
    fn go_forbids_out_of_thin_air_values() {
        // Same section, restriction 3: "acausal and out of thin air
        // observations are disallowed". Each store depends on the other
        // thread's load through a branch: both loads reading 1 would justify
        // themselves.
        let oota = two_threads(
            r#"Load("r0", "x"), If(cond: "r0 == 1", then: [ Store("y", 1) ])"#,
            r#"Load("r0", "y"), If(cond: "r0 == 1", then: [ Store("x", 1) ])"#,
        );
        assert!(!allows(&oota, Axioms::Go, &[("0:r0", 1), ("1:r0", 1)]));
    }

    #[test]
    fn go_atomics_are_sequentially_consistent_and_publish_plain_writes() {
        // The Go memory model, "Atomic Values": all atomic operations behave
        // as if executed in some sequentially consistent order, and an
        // atomic read observing an atomic write is synchronized after it.
        let sb = two_threads(
            r#"AtomicStore("x", 1), AtomicLoad("r0", "y")"#,
            r#"AtomicStore("y", 1), AtomicLoad("r0", "x")"#,
        );
        assert!(!allows(&sb, Axioms::Go, &[("0:r0", 0), ("1:r0", 0)]));
        let iriw = r#"Litmus(name: "IRIW", threads: [
            [ AtomicStore("x", 1) ],
            [ AtomicStore("y", 1) ],
            [ AtomicLoad("r0", "x"), AtomicLoad("r1", "y") ],
            [ AtomicLoad("r0", "y"), AtomicLoad("r1", "x") ],
        ], condition: "exists (x=0)")"#;
        let disagree = [("2:r0", 1), ("2:r1", 0), ("3:r0", 1), ("3:r1", 0)];
        assert!(!allows(iriw, Axioms::Go, &disagree));
        // Message passing through an atomic flag: the plain write happens
        // before the read (requirement 3: it sees the visible write).
        let mp = two_threads(
            r#"Store("x", 1), AtomicStore("y", 1)"#,
            r#"AtomicLoad("r0", "y"), Load("r1", "x")"#,
        );
        assert!(!allows(&mp, Axioms::Go, &[("1:r0", 1), ("1:r1", 0)]));
        assert!(allows(&mp, Axioms::Go, &[("1:r0", 1), ("1:r1", 1)]));
    }
}

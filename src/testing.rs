//! proptest strategies for random litmus programs (feature `testing`, on by
//! default; it changes no answer).
//!
//! A generated test shrinks towards fewer threads, fewer instructions and
//! smaller values, and prints (with `{:?}` and `{}`) as a RON litmus file, so a
//! failing case can be saved in `litmus/` and run with `hbsim run`.
//!
//! # Example
//! ```
//! use hbsim::model::Model;
//! use hbsim::explore::explore;
//! use hbsim::testing::{Shape, programs};
//! use proptest::prelude::*;
//!
//! proptest!(ProptestConfig::with_cases(8), |(test in programs(Shape::default()))| {
//!     let program = test.program();
//!     let sc = explore(&program, &Model::sc()).outcomes;
//!     let tso = explore(&program, &Model::tso()).outcomes;
//!     prop_assert!(sc.is_subset(&tso), "{test}");
//! });
//! ```

use std::fmt;
use std::ops::RangeInclusive;

use proptest::prelude::*;

use crate::ir::{Program, Val};
use crate::syntax::{LitmusBuilder, ThreadBuilder};

/// Which instructions generated programs use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kinds {
    /// Plain `Load` and `Store` (always used when nothing else is enabled).
    pub plain: bool,
    /// `Fence`.
    pub fences: bool,
    /// `Xchg`, `FetchAdd`, `Cas`.
    pub rmw: bool,
    /// `AtomicLoad`, `AtomicStore`.
    pub atomics: bool,
    /// Stores guarded by `If` on an earlier register, and stores of register values.
    pub dependencies: bool,
    /// Go synchronisation: loads and stores inside `Lock("m")`/`Unlock("m")`
    /// critical sections, stores under a successful `TryLock("ok", "m")`,
    /// loads under `RLock("rw")` and stores under `Lock("rw")` of an RWMutex
    /// (balanced, never nested: they neither deadlock nor panic).
    pub mutexes: bool,
    /// Bare `Lock("m")`, `Unlock("m")` and `TryLock("r", "m")`, wait group
    /// `Add("wg", 1)`, `Done("wg")` and `Wait("wg")`, and stores inside
    /// `OnceDo("o", ...)`, anywhere: executions may deadlock, leak a blocked
    /// thread or panic (an `Unlock` of the unlocked mutex, a `Done` taking the
    /// counter below 0).
    pub locks: bool,
    /// `Go("P<k>")` statements: the thread they name becomes a goroutine
    /// that starts when its `go` statement runs (or never, if none does).
    /// Each thread but `P0` is started by at most one `Go`, never its own.
    pub goroutines: bool,
    /// Go channels: `Send`, `Recv` and non-blocking receives (`Select` with a
    /// `default`) on a buffered channel `c` (capacity 1) and an unbuffered one
    /// `u`. Executions may block (never-terminating
    /// outcomes), never panic (no `Close`).
    pub channels: bool,
}

impl Kinds {
    /// Every kind.
    pub const ALL: Kinds = Kinds {
        plain: true,
        fences: true,
        rmw: true,
        atomics: true,
        dependencies: true,
        mutexes: true,
        locks: true,
        goroutines: true,
        channels: true,
    };
    /// Plain loads and stores only.
    pub const PLAIN: Kinds = Kinds {
        plain: true,
        fences: false,
        rmw: false,
        atomics: false,
        dependencies: false,
        mutexes: false,
        locks: false,
        goroutines: false,
        channels: false,
    };
}

/// The size and vocabulary of generated programs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    /// How many threads.
    pub threads: RangeInclusive<usize>,
    /// How many instructions per thread.
    pub instructions: RangeInclusive<usize>,
    /// How many shared variables (`x`, `y`, `z`, `w`; at most 4).
    pub variables: usize,
    /// Stored values range over 1..=`values`.
    pub values: Val,
    /// Which instructions to use.
    pub kinds: Kinds,
}

impl Default for Shape {
    /// 2 or 3 threads of 1 to 3 instructions over 2 variables, values 1 and 2,
    /// every kind of instruction.
    fn default() -> Self {
        Shape {
            threads: 2..=3,
            instructions: 1..=3,
            variables: 2,
            values: 2,
            kinds: Kinds::ALL,
        }
    }
}

/// One generated instruction, before registers are named.
#[derive(Clone, Copy, Debug)]
enum Gen {
    Load(usize),
    Store(usize, Val),
    Fence,
    Xchg(usize, Val),
    FetchAdd(usize, Val),
    Cas(usize, Val, Val),
    AtomicLoad(usize),
    AtomicStore(usize, Val),
    /// Store the previous register plus one.
    StoreDependent(usize),
    /// If the previous register is non-zero, store a value.
    StoreIf(usize, Val),
    /// `Lock("m")`, a load, `Unlock("m")`.
    LockedLoad(usize),
    /// `Lock("m")`, a store, `Unlock("m")`.
    LockedStore(usize, Val),
    /// `TryLock("ok", "m")`, then, if it succeeded, a store and `Unlock("m")`.
    TryLockedStore(usize, Val),
    /// `RLock("rw")`, a load, `RUnlock("rw")`.
    ReadLockedLoad(usize),
    /// `Lock("rw")`, a store, `Unlock("rw")` on the RWMutex.
    WriteLockedStore(usize, Val),
    /// `Lock("m")` alone.
    Lock,
    /// `Unlock("m")` alone.
    Unlock,
    /// `TryLock("r<slot>", "m")` alone.
    TryLock,
    /// `Add("wg", 1)` alone.
    AddOne,
    /// `Done("wg")` alone.
    Done,
    /// `Wait("wg")` alone.
    Wait,
    /// `OnceDo("o", [Store])`.
    OnceStore(usize, Val),
    /// `Go("P<k>")`: starts thread k.
    Go(usize),
    /// `Send` on channel `CHANNELS[c]`.
    Send(usize, Val),
    /// `Recv` from channel `CHANNELS[c]`.
    Recv(usize),
    /// A non-blocking receive: `Select` on `CHANNELS[c]` with a default
    /// setting the register to -1.
    TryRecv(usize),
}

const VARIABLES: [&str; 4] = ["x", "y", "z", "w"];
/// The one mutex generated critical sections use.
const MUTEX: &str = "m";
/// Threads a generated `Go` may name: `P1` to `P3` (`P0` stays the main
/// goroutine; threads beyond the program's are left out).
const MAX_GENERATED_THREADS: usize = 4;
/// The one wait group generated `Add`, `Done` and `Wait` use.
const WAIT_GROUP: &str = "wg";
/// The one once generated `OnceDo`s use.
const ONCE: &str = "o";
/// The one RWMutex generated read and write sections use.
const RW_MUTEX: &str = "rw";
/// The channels generated sends and receives use, with their capacities.
const CHANNELS: [(&str, Val); 2] = [("c", 1), ("u", 0)];

fn instruction(shape: &Shape) -> BoxedStrategy<Gen> {
    let vars = 0..shape.variables.clamp(1, VARIABLES.len());
    let values = 1..=shape.values.max(1);
    let k = shape.kinds;
    let mut options: Vec<BoxedStrategy<Gen>> = Vec::new();
    if k.plain
        || !(k.fences
            || k.rmw
            || k.atomics
            || k.dependencies
            || k.mutexes
            || k.locks
            || k.goroutines
            || k.channels)
    {
        options.push(vars.clone().prop_map(Gen::Load).boxed());
        options.push(
            (vars.clone(), values.clone())
                .prop_map(|(v, n)| Gen::Store(v, n))
                .boxed(),
        );
    }
    if k.fences {
        options.push(Just(Gen::Fence).boxed());
    }
    if k.rmw {
        options.push(
            (vars.clone(), values.clone())
                .prop_map(|(v, n)| Gen::Xchg(v, n))
                .boxed(),
        );
        options.push(
            (vars.clone(), values.clone())
                .prop_map(|(v, n)| Gen::FetchAdd(v, n))
                .boxed(),
        );
        options.push(
            (vars.clone(), 0..=shape.values.max(1), values.clone())
                .prop_map(|(v, e, n)| Gen::Cas(v, e, n))
                .boxed(),
        );
    }
    if k.atomics {
        options.push(vars.clone().prop_map(Gen::AtomicLoad).boxed());
        options.push(
            (vars.clone(), values.clone())
                .prop_map(|(v, n)| Gen::AtomicStore(v, n))
                .boxed(),
        );
    }
    if k.mutexes {
        options.push(vars.clone().prop_map(Gen::LockedLoad).boxed());
        options.push(
            (vars.clone(), values.clone())
                .prop_map(|(v, n)| Gen::LockedStore(v, n))
                .boxed(),
        );
        options.push(
            (vars.clone(), values.clone())
                .prop_map(|(v, n)| Gen::TryLockedStore(v, n))
                .boxed(),
        );
        options.push(vars.clone().prop_map(Gen::ReadLockedLoad).boxed());
        options.push(
            (vars.clone(), values.clone())
                .prop_map(|(v, n)| Gen::WriteLockedStore(v, n))
                .boxed(),
        );
    }
    if k.locks {
        options.push(Just(Gen::Lock).boxed());
        options.push(Just(Gen::Unlock).boxed());
        options.push(Just(Gen::TryLock).boxed());
        options.push(Just(Gen::AddOne).boxed());
        options.push(Just(Gen::Done).boxed());
        options.push(Just(Gen::Wait).boxed());
        options.push(
            (vars.clone(), values.clone())
                .prop_map(|(v, n)| Gen::OnceStore(v, n))
                .boxed(),
        );
    }
    if k.goroutines {
        options.push((1..MAX_GENERATED_THREADS).prop_map(Gen::Go).boxed());
    }
    if k.channels {
        let channels = 0..CHANNELS.len();
        options.push(
            (channels.clone(), values.clone())
                .prop_map(|(c, n)| Gen::Send(c, n))
                .boxed(),
        );
        options.push(channels.clone().prop_map(Gen::Recv).boxed());
        options.push(channels.prop_map(Gen::TryRecv).boxed());
    }
    if k.dependencies {
        options.push(vars.clone().prop_map(Gen::StoreDependent).boxed());
        options.push((vars, values).prop_map(|(v, n)| Gen::StoreIf(v, n)).boxed());
    }
    proptest::strategy::Union::new(options).boxed()
}

/// Random litmus tests of the given shape.
pub fn programs(shape: Shape) -> impl Strategy<Value = GeneratedTest> {
    let thread = proptest::collection::vec(instruction(&shape), shape.instructions.clone());
    proptest::collection::vec(thread, shape.threads.clone()).prop_map(GeneratedTest::new)
}

/// Appends generated instruction `i` (slot `slot`: it writes register `r<slot>`).
fn add(t: ThreadBuilder, (slot, g): (usize, &Gen)) -> ThreadBuilder {
    let r = format!("r{slot}");
    let previous = format!("r{}", slot.saturating_sub(1));
    match *g {
        Gen::Load(v) => t.load(&r, VARIABLES[v]),
        Gen::Store(v, n) => t.store(VARIABLES[v], n),
        Gen::Fence => t.fence(),
        Gen::Xchg(v, n) => t.xchg(&r, VARIABLES[v], n),
        Gen::FetchAdd(v, n) => t.fetch_add(&r, VARIABLES[v], n),
        Gen::Cas(v, e, n) => t.cas(&r, VARIABLES[v], e, n),
        Gen::AtomicLoad(v) => t.atomic_load(&r, VARIABLES[v]),
        Gen::AtomicStore(v, n) => t.atomic_store(VARIABLES[v], n),
        Gen::StoreDependent(v) => t.store(VARIABLES[v], format!("{previous} + 1").as_str()),
        Gen::StoreIf(v, n) => t.if_else(
            &format!("{previous} != 0"),
            |b| b.store(VARIABLES[v], n),
            |b| b,
        ),
        Gen::LockedLoad(v) => t.lock(MUTEX).load(&r, VARIABLES[v]).unlock(MUTEX),
        Gen::LockedStore(v, n) => t.lock(MUTEX).store(VARIABLES[v], n).unlock(MUTEX),
        Gen::TryLockedStore(v, n) => t.try_lock(&r, MUTEX).if_else(
            &format!("{r} == 1"),
            |b| b.store(VARIABLES[v], n).unlock(MUTEX),
            |b| b,
        ),
        Gen::ReadLockedLoad(v) => t.rlock(RW_MUTEX).load(&r, VARIABLES[v]).runlock(RW_MUTEX),
        Gen::WriteLockedStore(v, n) => t.lock(RW_MUTEX).store(VARIABLES[v], n).unlock(RW_MUTEX),
        Gen::Lock => t.lock(MUTEX),
        Gen::Unlock => t.unlock(MUTEX),
        Gen::TryLock => t.try_lock(&r, MUTEX),
        Gen::AddOne => t.add(WAIT_GROUP, 1),
        Gen::Done => t.done(WAIT_GROUP),
        Gen::Wait => t.wait(WAIT_GROUP),
        Gen::OnceStore(v, n) => t.once_do(ONCE, |b| b.store(VARIABLES[v], n)),
        Gen::Go(k) => t.go(&format!("P{k}")),
        Gen::Send(c, n) => t.send(CHANNELS[c].0, n),
        Gen::Recv(c) => t.recv(&r, CHANNELS[c].0),
        Gen::TryRecv(c) => {
            let default = |b: ThreadBuilder| b.set(&r, -1);
            t.select(|s| s.recv(&r, CHANNELS[c].0, |b| b), Some(&default))
        }
    }
}

/// The slots of the registers `code` reads (the previous slot's, by
/// `StoreDependent` and `StoreIf`) that no instruction of it writes.
fn unwritten_reads(code: &[Gen]) -> Vec<usize> {
    let writes = |g: &Gen| {
        matches!(
            g,
            Gen::Load(_)
                | Gen::Xchg(..)
                | Gen::FetchAdd(..)
                | Gen::Cas(..)
                | Gen::AtomicLoad(_)
                | Gen::LockedLoad(_)
                | Gen::TryLockedStore(..)
                | Gen::ReadLockedLoad(_)
                | Gen::TryLock
                | Gen::Recv(_)
                | Gen::TryRecv(_)
        )
    };
    let mut slots: Vec<usize> = (code.iter().enumerate())
        .filter(|(_, g)| matches!(g, Gen::StoreDependent(_) | Gen::StoreIf(..)))
        .map(|(slot, _)| slot.saturating_sub(1))
        .filter(|&read| !writes(&code[read]))
        .collect();
    slots.dedup();
    slots
}

/// A generated litmus test, with its RON text.
#[derive(Clone)]
pub struct GeneratedTest {
    threads: Vec<Vec<Gen>>,
    ron: String,
}

impl GeneratedTest {
    fn new(mut threads: Vec<Vec<Gen>>) -> Self {
        // A `Go` must name another thread that no earlier `Go` starts.
        let count = threads.len();
        let mut started = vec![false; count];
        for (i, code) in threads.iter_mut().enumerate() {
            code.retain(|g| match *g {
                Gen::Go(k) => k < count && k != i && !std::mem::replace(&mut started[k], true),
                _ => true,
            });
        }
        let mut builder = LitmusBuilder::new("generated").condition("exists true");
        let uses = |c: usize| {
            threads
                .iter()
                .flatten()
                .any(|g| matches!(g, Gen::Send(d, _) | Gen::Recv(d) | Gen::TryRecv(d) if *d == c))
        };
        for (c, &(name, capacity)) in CHANNELS.iter().enumerate() {
            if uses(c) {
                builder = builder.channel(name, capacity);
            }
        }
        for (i, code) in threads.iter().enumerate() {
            // A register read before anything writes it is declared 0, as a
            // file must (it would be a misspelt name otherwise).
            for slot in unwritten_reads(code) {
                builder = builder.init(&format!("{i}:r{slot}"), 0);
            }
            builder = builder.thread(|t| code.iter().enumerate().fold(t, add));
        }
        GeneratedTest {
            ron: builder.to_ron(),
            threads,
        }
    }

    /// The same test with a `Fence` after every plain store.
    pub fn with_fences_after_stores(&self) -> GeneratedTest {
        let threads = self
            .threads
            .iter()
            .map(|code| {
                code.iter()
                    .flat_map(|&g| match g {
                        Gen::Store(..)
                        | Gen::StoreDependent(_)
                        | Gen::StoreIf(..)
                        | Gen::LockedStore(..)
                        | Gen::OnceStore(..)
                        | Gen::TryLockedStore(..)
                        | Gen::WriteLockedStore(..) => {
                            vec![g, Gen::Fence]
                        }
                        _ => vec![g],
                    })
                    .collect()
            })
            .collect();
        GeneratedTest::new(threads)
    }

    /// The same test with `copies` more threads, after the others, running
    /// the first thread's code: threads the state-space engine may treat as
    /// interchangeable (a copy's `Go` statements are dropped, as a thread
    /// may be started only once).
    pub fn with_copies_of_first_thread(&self, copies: usize) -> GeneratedTest {
        let mut threads = self.threads.clone();
        let first = threads.first().cloned().unwrap_or_default();
        threads.extend(std::iter::repeat_n(first, copies));
        GeneratedTest::new(threads)
    }

    /// The RON litmus file.
    pub fn ron(&self) -> &str {
        &self.ron
    }

    /// The validated program.
    ///
    /// # Panics
    /// Never for generated tests (they are valid by construction).
    pub fn program(&self) -> Program {
        crate::syntax::parse_str(&self.ron, "generated.ron")
            .expect("invariant: generated tests are valid")
            .program
    }
}

impl fmt::Display for GeneratedTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.ron)
    }
}

impl fmt::Debug for GeneratedTest {
    /// The RON file, so proptest's failure report is a test `hbsim run` reads.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f)?;
        f.write_str(&self.ron)
    }
}

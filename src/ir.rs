//! The validated program: what every later stage consumes.
//!
//! A [`Program`] is produced only by lowering (see [`crate::syntax`]), which resolves
//! every name to an index and checks the program is well formed. Invariants that
//! hold for every `Program`:
//!
//! - every [`Loc`] indexes [`Program::locs`], every [`Reg`] indexes its thread's
//!   [`Thread::regs`], every [`ThreadId`] indexes [`Program::threads`];
//! - every jump target of [`Instr::Goto`] is at most the thread's code length
//!   (equal to it means "finish");
//! - the condition and expectations mention only observables that exist.
//!
//! Structured control flow (`If`, `Loop`) is compiled to [`Instr::Goto`] here, so the
//! machine only ever sees straight-line code with conditional jumps.

use std::fmt;

/// A value held by a register or a shared variable. Arithmetic wraps.
pub type Val = i64;

/// Index of a thread, in the order the file lists them (thread 0, 1, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct ThreadId(pub u16);

/// Index of a shared variable in [`Program::locs`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Loc(pub u16);

/// Index of a register within its thread's [`Thread::regs`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Reg(pub u16);

impl ThreadId {
    /// The index as a `usize`, for slicing.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

impl Loc {
    /// The index as a `usize`, for slicing.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

impl Reg {
    /// The index as a `usize`, for slicing.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// A litmus test after name resolution and validation.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    /// The test's name (herd7's `Test NAME`).
    pub name: String,
    /// Optional prose shown in reports.
    pub doc: Option<String>,
    /// Shared variables, in declaration order: first those in `init`, then the
    /// others in order of first use.
    pub locs: Vec<Location>,
    /// Threads in file order.
    pub threads: Vec<Thread>,
    /// Go channels, in declaration order.
    pub channels: Vec<Channel>,
    /// The final-state condition, herd7 style.
    pub condition: Condition,
    /// What the file expects under each model, in file order.
    pub expectations: Vec<Expectation>,
}

/// A shared variable and its initial value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The name used in the file.
    pub name: String,
    /// Initial value (0 unless `init` says otherwise).
    pub init: Val,
    /// What the word holds: a program variable, or the state of a
    /// synchronisation object, which outcomes do not show.
    pub kind: LocKind,
}

/// What a shared word is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LocKind {
    /// A program variable, read and written by loads, stores and RMWs.
    Variable,
    /// A `sync.Mutex`: 0 unlocked, 1 locked.
    Mutex,
    /// A `sync.WaitGroup`: its counter.
    WaitGroup,
    /// Whether a goroutine (this thread) has been started by a `Go`: 0 or 1.
    Started(ThreadId),
    /// A `sync.Once`: 0 not run, 1 running, 2 done.
    Once,
    /// A `sync.RWMutex`'s writer word: 0 free, 1 write-locked, 2 a writer
    /// waiting for the readers to leave.
    RwMutex,
    /// A `sync.RWMutex`'s reader count (its clock merges every `RUnlock`).
    RwReaders,
    /// One word of a channel's state (docs/models.md, "Channels").
    Channel,
}

/// A Go channel and the words that hold its state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Channel {
    /// The name used in the file.
    pub name: String,
    /// Its buffer size (0: unbuffered, or nil).
    pub capacity: usize,
    /// Whether it is a nil channel: every send and receive on it blocks
    /// forever (a `select` case on it is never ready) and closing it panics.
    pub nil: bool,
    /// 1 once closed.
    pub closed: Loc,
    /// The buffer (one slot for an unbuffered channel): values in flight.
    pub slots: Vec<Loc>,
    /// The slot of the next receive (buffered channels).
    pub head: Loc,
    /// How many values are buffered; for an unbuffered channel, the hand-off
    /// state: 0 free, 1 a value offered, 2 taken by a receiver.
    pub count: Loc,
    /// For an unbuffered channel, the receiver a `select`'s send case offered
    /// its value to (thread index + 1; 0 for none), which must take it.
    pub partner: Loc,
}

/// One thread: its registers and its code.
#[derive(Clone, Debug, PartialEq)]
pub struct Thread {
    /// The thread's name when the file gives one.
    pub name: Option<String>,
    /// Registers, in order of first mention.
    pub regs: Vec<Register>,
    /// Straight-line code with conditional jumps.
    pub code: Vec<Instr>,
    /// How each instruction of `code` reads in the file, for reports
    /// (`Load("r0", "y")`, `If(cond: "r0 == 1")`).
    pub source: Vec<String>,
}

/// A thread-local register.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Register {
    /// The name used in the file.
    pub name: String,
    /// Initial value (0 unless `init` sets `T:reg`).
    pub init: Val,
    /// Whether the register is part of the outcome: it is written by the thread or
    /// initialised in `init`. Registers that are only read stay at their initial
    /// value and are not reported.
    pub observed: bool,
}

/// One machine instruction.
#[derive(Clone, Debug, PartialEq)]
pub enum Instr {
    /// `dst <- [loc]`: a load. It reads its own buffered stores (store
    /// forwarding), whether plain or atomic: an atomic load is a plain `MOV`
    /// on x86 and synchronises only in happens-before.
    Load {
        /// Destination register.
        dst: Reg,
        /// Variable read.
        loc: Loc,
        /// Plain or atomic.
        access: Access,
    },
    /// `[loc] <- value`: a store. A plain store enters the store buffer when the
    /// model has one; an atomic one waits for the buffers to drain and writes
    /// memory directly.
    Store {
        /// Variable written.
        loc: Loc,
        /// Value written, evaluated when the store executes.
        value: Expr,
        /// Plain or atomic.
        access: Access,
    },
    /// A full fence (x86 MFENCE): waits until the thread's buffers are empty.
    Fence,
    /// An atomic read-modify-write with x86 LOCK semantics: waits until the
    /// thread's buffers are empty, then reads and writes memory in one step.
    /// `dst` receives the old value.
    Rmw {
        /// Destination register for the value read.
        dst: Reg,
        /// Variable updated.
        loc: Loc,
        /// How the new value is computed.
        op: RmwOp,
    },
    /// `dst <- value`: register arithmetic, touching no shared state.
    Let {
        /// Destination register.
        dst: Reg,
        /// Value computed from registers and constants.
        value: Expr,
    },
    /// Jump to `target` when `cond` is non-zero; otherwise fall through.
    Goto {
        /// Jump condition.
        cond: Expr,
        /// Index of the next instruction when the jump is taken.
        target: usize,
    },
    /// A Go synchronisation operation on the word `obj` (a mutex, a wait group,
    /// a once, a goroutine's start flag, or a channel's closed flag; a
    /// `Select`'s cases name their own channels). It acts as a sequentially consistent
    /// atomic access of that word (draining the thread's buffers first, but
    /// for a multi-word atomic load, which is a plain load as `AtomicLoad`
    /// is), and may block (not be enabled) or panic.
    Sync {
        /// What it does.
        op: SyncOp,
        /// The synchronisation object's word.
        obj: Loc,
    },
}

/// A Go synchronisation operation; each is one atomic access of its object's
/// word, so happens-before follows from the atomics' rule (an atomic read of
/// an atomic write is synchronised before it), which gives the Go memory
/// model's rules for these objects; wait-group updates are the exception
/// (docs/models.md, "Go synchronisation").
#[derive(Clone, Debug, PartialEq)]
pub enum SyncOp {
    /// `m.Lock()`: blocks until the mutex is unlocked, then locks it (an atomic
    /// read-modify-write from 0 to 1).
    Lock,
    /// `m.Unlock()`: unlocks (an atomic write of 0); panics if it is unlocked.
    Unlock,
    /// `rw.RLock()` on the RWMutex whose writer word is the object: blocks
    /// while a writer holds or waits for it, then reads the writer word (the
    /// last `Unlock` is synchronised before it) and counts itself in `readers`.
    RLock {
        /// The reader count.
        readers: Loc,
    },
    /// `ok := rw.TryRLock()`: either read-locks as `RLock` when no writer
    /// holds or waits (setting the register to 1) or fails (0), which it may
    /// do at any time; a failure accesses and synchronises nothing.
    TryRLock {
        /// The register receiving whether it succeeded.
        ok: Reg,
        /// The reader count.
        readers: Loc,
    },
    /// `rw.RUnlock()`: leaves the reader count, merging its clock into the
    /// count's; panics if no reader holds the lock.
    RUnlock {
        /// The reader count.
        readers: Loc,
    },
    /// `rw.Lock()`, first step: claims the writer word (blocks while another
    /// writer holds or waits for it), which stops new readers.
    WLock,
    /// `rw.Lock()`, second step: blocks until no reader holds the lock, then
    /// reads the reader count (every `RUnlock` before is synchronised before
    /// it) and holds the lock.
    WLockReaders {
        /// The reader count.
        readers: Loc,
    },
    /// `ok := rw.TryLock()`, first step: either claims the writer word as
    /// [`SyncOp::WLock`] when no writer holds or waits for it and no reader
    /// holds the lock (setting the register to 1; [`SyncOp::WLockReaders`]
    /// follows), or fails (0) and skips it, which it may do at any time; a
    /// failure accesses and synchronises nothing.
    TryWLock {
        /// The register receiving whether it succeeded.
        ok: Reg,
        /// The reader count.
        readers: Loc,
    },
    /// `rw.Unlock()`: writes 0 to the writer word; panics if it is not
    /// write-locked.
    WUnlock,
    /// `v.Store(value)` on a multi-word variable used as an `atomic.Value`:
    /// writes every word at once (an atomic write of the object, word 0;
    /// the other words follow without synchronising of their own).
    StoreWords {
        /// The value, written to every word.
        value: Expr,
        /// The other words.
        rest: Vec<Loc>,
    },
    /// `r = v.Load()` on a multi-word variable used as an `atomic.Value`:
    /// reads every word at once (an atomic read of word 0); never torn.
    LoadWords {
        /// Register receiving the value.
        dst: Reg,
    },
    /// `ok := m.TryLock()`: either locks an unlocked mutex (as `Lock`, setting
    /// the register to 1) or fails (setting it to 0), which it may do
    /// spuriously at any time; a failure accesses and synchronises nothing.
    TryLock(Reg),
    /// `wg.Add(delta)` (`wg.Done()` is `Add(-1)`): updates the counter without
    /// acquiring anything; a decrement releases (merging into the counter's
    /// clock); panics if the counter becomes negative.
    Add(Expr),
    /// `wg.Wait()`: blocks until the counter is 0 (an atomic read of 0).
    Wait,
    /// `go f()`: starts the goroutine whose start flag `obj` is (an atomic
    /// write of 1).
    Go,
    /// The first instruction of a spawned goroutine: blocks until a `Go` starts
    /// it (an atomic read of 1).
    Start,
    /// Entering `once.Do(f)`: the first call claims the body (an atomic
    /// read-modify-write from 0 to 1, setting the register to 1); a call while
    /// the body runs blocks; a call after it finished reads 2 (setting the
    /// register to 0) and skips the body.
    OnceEnter(Reg),
    /// The end of the single execution of a `once.Do` body (an atomic write of 2).
    OnceDone,
    /// `ch <- value` on channel `chan` (for an unbuffered channel, the offer;
    /// [`SyncOp::SendWait`] follows).
    Send {
        /// Index into [`Program::channels`].
        chan: usize,
        /// The value sent.
        value: Expr,
    },
    /// The second half of a send on an unbuffered channel: blocks until a
    /// receiver has taken the value.
    SendWait {
        /// Index into [`Program::channels`].
        chan: usize,
    },
    /// `v, ok := <-ch`.
    Recv {
        /// Index into [`Program::channels`].
        chan: usize,
        /// Register receiving the value, if any.
        dst: Option<Reg>,
        /// Register receiving `ok` (1, or 0 for a closed, drained channel), if any.
        ok: Option<Reg>,
    },
    /// `close(ch)`.
    Close {
        /// Index into [`Program::channels`].
        chan: usize,
    },
    /// `select`: one of the cases that can proceed (a `Send` on a buffered
    /// channel or a `Recv`), chosen freely, then a jump to its body; with no
    /// case ready, the `default` body if there is one, else it blocks.
    Select {
        /// Each case's operation and the index of its body.
        cases: Vec<(SyncOp, usize)>,
        /// The index of the `default` body, if any.
        default: Option<usize>,
    },
}

/// Whether a load or store is an ordinary memory access or a synchronising
/// (`sync/atomic`, sequentially consistent) one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Access {
    /// An ordinary access: may race, may be reordered by the model.
    Plain,
    /// A sequentially consistent atomic access (Go's `sync/atomic`, C++
    /// `seq_cst`): never races with other atomics, and an atomic read
    /// synchronises with the atomic write it observes.
    Atomic,
}

impl Instr {
    /// Whether the instruction touches only the thread's own registers and pc.
    pub fn is_local(&self) -> bool {
        matches!(self, Instr::Let { .. } | Instr::Goto { .. })
    }

    /// Whether the instruction is a plain (not atomic) load or store.
    pub fn is_plain_access(&self) -> bool {
        matches!(
            self,
            Instr::Load {
                access: Access::Plain,
                ..
            } | Instr::Store {
                access: Access::Plain,
                ..
            }
        )
    }
}

/// The update performed by an [`Instr::Rmw`].
#[derive(Clone, Debug, PartialEq)]
pub enum RmwOp {
    /// Exchange: write the operand (x86 XCHG).
    Xchg(Expr),
    /// Fetch-and-add: write old + operand (x86 LOCK XADD).
    FetchAdd(Expr),
    /// Compare-and-swap: write `new` if the old value equals `expected`
    /// (x86 LOCK CMPXCHG). A failed CAS writes nothing but still waits for the buffer.
    Cas {
        /// Value the variable must hold for the swap to happen.
        expected: Expr,
        /// Value written on success.
        new: Expr,
    },
}

/// A register expression. Comparisons and logical operators yield 0 or 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// A constant.
    Const(Val),
    /// The current value of a register of the executing thread.
    Reg(Reg),
    /// A unary operation.
    Unary(UnOp, Box<Expr>),
    /// A binary operation.
    Binary(BinOp, Box<Expr>, Box<Expr>),
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// Arithmetic negation.
    Neg,
    /// Logical not: 1 if the operand is 0, else 0.
    Not,
}

/// Binary operators, lowest precedence last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// Wrapping multiplication.
    Mul,
    /// Wrapping addition.
    Add,
    /// Wrapping subtraction.
    Sub,
    /// Equality.
    Eq,
    /// Inequality.
    Ne,
    /// Less than.
    Lt,
    /// Less than or equal.
    Le,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Ge,
    /// Logical and (both operands non-zero).
    And,
    /// Logical or (either operand non-zero).
    Or,
}

impl Expr {
    /// Evaluates the expression against a thread's registers.
    pub fn eval(&self, regs: &[Val]) -> Val {
        match self {
            Expr::Const(v) => *v,
            Expr::Reg(r) => regs[r.index()],
            Expr::Unary(op, e) => {
                let v = e.eval(regs);
                match op {
                    UnOp::Neg => v.wrapping_neg(),
                    UnOp::Not => Val::from(v == 0),
                }
            }
            Expr::Binary(op, a, b) => {
                let (a, b) = (a.eval(regs), b.eval(regs));
                match op {
                    BinOp::Mul => a.wrapping_mul(b),
                    BinOp::Add => a.wrapping_add(b),
                    BinOp::Sub => a.wrapping_sub(b),
                    BinOp::Eq => Val::from(a == b),
                    BinOp::Ne => Val::from(a != b),
                    BinOp::Lt => Val::from(a < b),
                    BinOp::Le => Val::from(a <= b),
                    BinOp::Gt => Val::from(a > b),
                    BinOp::Ge => Val::from(a >= b),
                    BinOp::And => Val::from(a != 0 && b != 0),
                    BinOp::Or => Val::from(a != 0 || b != 0),
                }
            }
        }
    }
}

/// Something whose final value an outcome records and a condition can test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Observable {
    /// A register of a thread (`T:reg`).
    Reg(ThreadId, Reg),
    /// A shared variable (`x`).
    Loc(Loc),
}

/// herd7's quantifier over final states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantifier {
    /// `exists p`: the test succeeds if some outcome satisfies `p`.
    Exists,
    /// `~exists p`: the test succeeds if no outcome satisfies `p`.
    NotExists,
    /// `forall p`: the test succeeds if every outcome satisfies `p`.
    Forall,
}

/// A proposition over one outcome: a final state, or an outcome that is not
/// one (a deadlock, a leak, non-termination, a panic).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Prop {
    /// Always true.
    True,
    /// Always false.
    False,
    /// The observable's final value equals the constant; false on an outcome
    /// that is not a final state, which has no final values.
    Eq(Observable, Val),
    /// The execution ends this way; false on final outcomes.
    Ends(Ending),
    /// Negation.
    Not(Box<Prop>),
    /// Conjunction.
    And(Box<Prop>, Box<Prop>),
    /// Disjunction.
    Or(Box<Prop>, Box<Prop>),
}

/// A condition atom about how an execution ends, true on outcomes of that kind
/// only (docs/format.md, "Conditions").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// `deadlock`: threads blocked forever, the main goroutine (thread 0) among them.
    Deadlock,
    /// `leak`: goroutines blocked forever after the main goroutine finished.
    Leak,
    /// `panic`: some thread panicked.
    Panic,
    /// `never_terminates`: some thread can run forever without finishing.
    NeverTerminates,
    /// `panic(T)`: this thread panicked.
    PanicOf(ThreadId),
    /// `blocked(T)`: a deadlock or leak with this thread blocked forever.
    Blocked(ThreadId),
}

/// The test's condition: a quantifier over a proposition, plus its source text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    /// `exists`, `~exists` or `forall`.
    pub quantifier: Quantifier,
    /// The proposition evaluated on every outcome.
    pub prop: Prop,
    /// The condition as written in the file, for reports.
    pub text: String,
}

/// herd7's observation: how often the condition's proposition held.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Observation {
    /// Every outcome satisfies the proposition.
    Always,
    /// Some do and some do not.
    Sometimes,
    /// None does.
    Never,
}

impl fmt::Display for Observation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Observation::Always => "Always",
            Observation::Sometimes => "Sometimes",
            Observation::Never => "Never",
        })
    }
}

/// What the file expects under one model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expectation {
    /// The model's name as written (`sc`, `tso`, `pso` or a model file's name).
    pub model: String,
    /// Expected observation of the condition, if stated.
    pub observation: Option<Observation>,
    /// Expected exact outcome set, if stated.
    pub outcomes: Option<ExpectedOutcomes>,
    /// Whether some execution is expected to have a data race, if stated.
    pub races: Option<bool>,
}

/// An exact expected outcome set.
///
/// Observed final outcomes are projected onto `observables` before comparison,
/// so a file may pin only the registers and variables it cares about (as herd7's
/// `States` lines do); the comparison of the projected sets is exact both ways.
/// Outcomes that are not final states (deadlocks, leaks, non-termination,
/// panics) are compared exactly too: one the file does not list is unexpected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedOutcomes {
    /// The observables every expected final outcome mentions, in the order
    /// written; every observable of the program when the file lists no final
    /// outcome.
    pub observables: Vec<Observable>,
    /// Each expected final outcome: one value per observable.
    pub outcomes: Vec<Vec<Val>>,
    /// Each expected deadlock or leak: the threads blocked forever, in
    /// ascending order (a deadlock when thread 0 is among them).
    pub blocked: Vec<Vec<ThreadId>>,
    /// Each expected non-terminating outcome: the threads that never finish,
    /// in ascending order.
    pub never_terminates: Vec<Vec<ThreadId>>,
    /// Each expected panic: the thread that panics.
    pub panics: Vec<ThreadId>,
}

impl Program {
    /// Every observable an outcome records, in report order: each thread's
    /// observed registers (threads in order, registers in order of first mention),
    /// then every shared variable.
    pub fn observables(&self) -> Vec<Observable> {
        observables_of(&self.threads, &self.locs)
    }

    /// The name of an observable as reports print it: `0:r0` as herd7 does,
    /// `main:r0` for a register of a named thread, or `x`.
    pub fn observable_name(&self, o: Observable) -> String {
        match o {
            Observable::Reg(t, r) => {
                let thread = &self.threads[t.index()];
                let reg = &thread.regs[r.index()].name;
                match &thread.name {
                    Some(name) => format!("{name}:{reg}"),
                    None => format!("{}:{reg}", t.0),
                }
            }
            Observable::Loc(l) => self.locs[l.index()].name.clone(),
        }
    }

    /// The thread's name for reports: its given name, else `P<index>` as herd7 writes it.
    pub fn thread_name(&self, t: ThreadId) -> String {
        match &self.threads[t.index()].name {
            Some(name) => name.clone(),
            None => format!("P{}", t.0),
        }
    }
}

/// The observables of threads `threads` and `locs` shared variables, in outcome
/// order (see [`Program::observables`]).
pub(crate) fn observables_of(threads: &[Thread], locs: &[Location]) -> Vec<Observable> {
    let regs = threads.iter().enumerate().flat_map(|(t, thread)| {
        let t = ThreadId(t as u16);
        thread
            .regs
            .iter()
            .enumerate()
            .filter(|(_, r)| r.observed)
            .map(move |(r, _)| Observable::Reg(t, Reg(r as u16)))
    });
    let locs = locs
        .iter()
        .enumerate()
        .filter(|(_, l)| l.kind == LocKind::Variable)
        .map(|(l, _)| Observable::Loc(Loc(l as u16)));
    regs.chain(locs).collect()
}

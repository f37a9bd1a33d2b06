//! Building a litmus test in code rather than writing RON.
//!
//! The builder assembles the same syntax tree the RON reader produces, prints it
//! as RON ([`LitmusBuilder::to_ron`]) and reads that back, so a built test is
//! checked exactly like a file and can be saved as one.
//!
//! # Example
//! ```
//! use hbsim::syntax::LitmusBuilder;
//!
//! let test = LitmusBuilder::new("SB")
//!     .thread(|t| t.store("x", 1).load("r0", "y"))
//!     .thread(|t| t.store("y", 1).load("r0", "x"))
//!     .condition("exists (0:r0=0 /\\ 1:r0=0)")
//!     .build()
//!     .unwrap();
//! assert_eq!(test.program.threads.len(), 2);
//! ```

use super::ast::{Entries, Instr, LitmusFile, Operand, SelectCase, Threads};
use super::literal::Lit;
use super::{LitmusTest, LoadError, parse_str, print};
use crate::ir::{Observation, Val};

/// A value operand: an integer, or a register expression such as `"r0 + 1"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// A constant.
    Int(Val),
    /// A register expression (docs/format.md).
    Expr(String),
}

impl From<Val> for Value {
    fn from(v: Val) -> Self {
        Value::Int(v)
    }
}

impl From<&str> for Value {
    fn from(e: &str) -> Self {
        Value::Expr(e.to_string())
    }
}

/// The code of one thread, instruction by instruction.
#[derive(Clone, Debug, Default)]
pub struct ThreadBuilder {
    code: Vec<Instr>,
}

impl ThreadBuilder {
    fn push(mut self, instr: Instr) -> Self {
        self.code.push(instr);
        self
    }

    /// `Load(reg, var)`.
    pub fn load(self, reg: &str, var: &str) -> Self {
        self.push(Instr::Load(lit(reg), lit(var)))
    }

    /// `Store(var, value)`.
    pub fn store(self, var: &str, value: impl Into<Value>) -> Self {
        self.push(Instr::Store(lit(var), operand(value)))
    }

    /// `AtomicLoad(reg, var)`.
    pub fn atomic_load(self, reg: &str, var: &str) -> Self {
        self.push(Instr::AtomicLoad(lit(reg), lit(var)))
    }

    /// `AtomicStore(var, value)`.
    pub fn atomic_store(self, var: &str, value: impl Into<Value>) -> Self {
        self.push(Instr::AtomicStore(lit(var), operand(value)))
    }

    /// `Fence`.
    pub fn fence(self) -> Self {
        self.push(Instr::Fence)
    }

    /// `Xchg(reg, var, value)`.
    pub fn xchg(self, reg: &str, var: &str, value: impl Into<Value>) -> Self {
        self.push(Instr::Xchg(lit(reg), lit(var), operand(value)))
    }

    /// `FetchAdd(reg, var, value)`.
    pub fn fetch_add(self, reg: &str, var: &str, value: impl Into<Value>) -> Self {
        self.push(Instr::FetchAdd(lit(reg), lit(var), operand(value)))
    }

    /// `Cas(reg, var, expected, new)`.
    pub fn cas(
        self,
        reg: &str,
        var: &str,
        expected: impl Into<Value>,
        new: impl Into<Value>,
    ) -> Self {
        self.push(Instr::Cas(
            lit(reg),
            lit(var),
            operand(expected),
            operand(new),
        ))
    }

    /// `Lock(mutex)`: `mutex.Lock()`.
    pub fn lock(self, mutex: &str) -> Self {
        self.push(Instr::Lock(lit(mutex)))
    }

    /// `RLock(rw)`: `rw.RLock()` (which makes `rw` a `sync.RWMutex`; `lock`
    /// and `unlock` on it are then its writer operations).
    pub fn rlock(self, rw: &str) -> Self {
        self.push(Instr::RLock(lit(rw)))
    }

    /// `TryRLock(ok, rw)`: `ok := rw.TryRLock()`.
    pub fn try_rlock(self, ok: &str, rw: &str) -> Self {
        self.push(Instr::TryRLock(lit(ok), lit(rw)))
    }

    /// `RUnlock(rw)`: `rw.RUnlock()`.
    pub fn runlock(self, rw: &str) -> Self {
        self.push(Instr::RUnlock(lit(rw)))
    }

    /// `TryLock(ok, mutex)`: `ok := mutex.TryLock()`.
    pub fn try_lock(self, ok: &str, mutex: &str) -> Self {
        self.push(Instr::TryLock(lit(ok), lit(mutex)))
    }

    /// `Unlock(mutex)`: `mutex.Unlock()`.
    pub fn unlock(self, mutex: &str) -> Self {
        self.push(Instr::Unlock(lit(mutex)))
    }

    /// `Add(wait_group, delta)`: `wait_group.Add(delta)`.
    pub fn add(self, wait_group: &str, delta: impl Into<Value>) -> Self {
        self.push(Instr::Add(lit(wait_group), operand(delta)))
    }

    /// `Done(wait_group)`: `wait_group.Done()`.
    pub fn done(self, wait_group: &str) -> Self {
        self.push(Instr::Done(lit(wait_group)))
    }

    /// `Wait(wait_group)`: `wait_group.Wait()`.
    pub fn wait(self, wait_group: &str) -> Self {
        self.push(Instr::Wait(lit(wait_group)))
    }

    /// `Go(thread)`: starts `thread` (`"P1"` or an index for built tests) as a
    /// goroutine, which then waits for this instruction before it runs.
    pub fn go(self, thread: &str) -> Self {
        self.push(Instr::Go(lit(thread)))
    }

    /// `OnceDo(once, body)`: `once.Do(func() { body })`.
    pub fn once_do(self, once: &str, body: impl FnOnce(ThreadBuilder) -> ThreadBuilder) -> Self {
        self.push(Instr::OnceDo(
            lit(once),
            body(ThreadBuilder::default()).code,
        ))
    }

    /// `Send(chan, value)`: `chan <- value`.
    pub fn send(self, chan: &str, value: impl Into<Value>) -> Self {
        self.push(Instr::Send(lit(chan), operand(value)))
    }

    /// `Recv(reg, chan)`: `reg = <-chan`.
    pub fn recv(self, reg: &str, chan: &str) -> Self {
        self.push(Instr::Recv(lit(reg), lit(chan)))
    }

    /// `RecvOk(reg, ok, chan)`: `reg, ok = <-chan`.
    pub fn recv_ok(self, reg: &str, ok: &str, chan: &str) -> Self {
        self.push(Instr::RecvOk(lit(reg), lit(ok), lit(chan)))
    }

    /// `Close(chan)`: `close(chan)`.
    pub fn close(self, chan: &str) -> Self {
        self.push(Instr::Close(lit(chan)))
    }

    /// `Select(cases, default)`: `cases` receives an empty case list and
    /// returns it filled; `default`, if given, builds the default body.
    pub fn select(
        self,
        cases: impl FnOnce(SelectBuilder) -> SelectBuilder,
        default: Option<&dyn Fn(ThreadBuilder) -> ThreadBuilder>,
    ) -> Self {
        self.push(Instr::Select {
            cases: cases(SelectBuilder::default()).cases,
            default: default.map(|body| body(ThreadBuilder::default()).code),
        })
    }

    /// `Let(reg, value)`.
    pub fn set(self, reg: &str, value: impl Into<Value>) -> Self {
        self.push(Instr::Let(lit(reg), operand(value)))
    }

    /// `If(cond, then, else)`.
    pub fn if_else(
        self,
        cond: &str,
        then: impl FnOnce(ThreadBuilder) -> ThreadBuilder,
        otherwise: impl FnOnce(ThreadBuilder) -> ThreadBuilder,
    ) -> Self {
        self.push(Instr::If {
            cond: lit(cond),
            then: then(ThreadBuilder::default()).code,
            otherwise: otherwise(ThreadBuilder::default()).code,
        })
    }

    /// `Loop(body, until)`: run `body`, repeat until `until` holds.
    pub fn repeat_until(
        self,
        body: impl FnOnce(ThreadBuilder) -> ThreadBuilder,
        until: &str,
    ) -> Self {
        self.push(Instr::Loop {
            body: body(ThreadBuilder::default()).code,
            until: lit(until),
        })
    }
}

/// The cases of a `Select` under construction.
#[derive(Clone, Debug, Default)]
pub struct SelectBuilder {
    cases: Vec<SelectCase>,
}

impl SelectBuilder {
    /// `Recv(reg, chan, body)`: `case reg = <-chan: body`.
    pub fn recv(
        mut self,
        reg: &str,
        chan: &str,
        body: impl FnOnce(ThreadBuilder) -> ThreadBuilder,
    ) -> Self {
        let body = body(ThreadBuilder::default()).code;
        self.cases.push(SelectCase::Recv(lit(reg), lit(chan), body));
        self
    }

    /// `Send(chan, value, body)`: `case chan <- value: body`.
    pub fn send(
        mut self,
        chan: &str,
        value: impl Into<Value>,
        body: impl FnOnce(ThreadBuilder) -> ThreadBuilder,
    ) -> Self {
        let body = body(ThreadBuilder::default()).code;
        self.cases
            .push(SelectCase::Send(lit(chan), operand(value), body));
        self
    }
}

/// A litmus test under construction.
#[derive(Clone, Debug)]
pub struct LitmusBuilder {
    name: String,
    comments: Vec<String>,
    doc: Option<String>,
    init: Vec<(String, Val)>,
    channels: Vec<(String, Option<Val>)>,
    words: Vec<(String, Val)>,
    threads: Vec<(Option<String>, ThreadBuilder)>,
    condition: String,
    expect: Vec<(String, Observation)>,
    outcomes: Vec<(String, Vec<String>)>,
    races: Vec<(String, bool)>,
}

impl LitmusBuilder {
    /// A test called `name`, with no threads and the condition `exists true`.
    pub fn new(name: &str) -> Self {
        LitmusBuilder {
            name: name.to_string(),
            comments: Vec::new(),
            doc: None,
            init: Vec::new(),
            channels: Vec::new(),
            words: Vec::new(),
            threads: Vec::new(),
            condition: "exists true".to_string(),
            expect: Vec::new(),
            outcomes: Vec::new(),
            races: Vec::new(),
        }
    }

    /// Adds lines to the comment [`LitmusBuilder::to_ron`] prints above the
    /// test (by default, a line saying the builder made it); each line of
    /// `text` is one line of the comment.
    pub fn comment(mut self, text: &str) -> Self {
        self.comments.extend(text.lines().map(str::to_string));
        self
    }

    /// Sets the prose shown in reports.
    pub fn doc(mut self, doc: &str) -> Self {
        self.doc = Some(doc.to_string());
        self
    }

    /// Initialises a variable (`"x"`) or a register (`"0:r0"`).
    pub fn init(mut self, name: &str, value: Val) -> Self {
        self.init.push((name.to_string(), value));
        self
    }

    /// Declares a channel with its capacity (0: unbuffered).
    pub fn channel(mut self, name: &str, capacity: Val) -> Self {
        self.channels.push((name.to_string(), Some(capacity)));
        self
    }

    /// Declares a nil channel: sends and receives on it block forever,
    /// closing it panics.
    pub fn nil_channel(mut self, name: &str) -> Self {
        self.channels.push((name.to_string(), None));
        self
    }

    /// Declares a variable of `count` machine words (`s#0`, `s#1`, ...),
    /// which plain accesses may tear (docs/format.md, `words`).
    pub fn words(mut self, name: &str, count: Val) -> Self {
        self.words.push((name.to_string(), count));
        self
    }

    /// Adds a thread; `code` receives an empty thread and returns it filled.
    pub fn thread(mut self, code: impl FnOnce(ThreadBuilder) -> ThreadBuilder) -> Self {
        self.threads.push((None, code(ThreadBuilder::default())));
        self
    }

    /// Adds a thread (a goroutine) called `name`, which `go`, outcomes and
    /// conditions can name; the first thread is `main` in Go tests. In a test
    /// with named threads, a thread added with [`LitmusBuilder::thread`] is
    /// called `thread` and its index (`thread1`; with `_` added if a named
    /// thread has that name).
    pub fn named_thread(
        mut self,
        name: &str,
        code: impl FnOnce(ThreadBuilder) -> ThreadBuilder,
    ) -> Self {
        self.threads
            .push((Some(name.to_string()), code(ThreadBuilder::default())));
        self
    }

    /// Sets the condition, in herd7's language (`exists (0:r0=0 /\ x=1)`).
    pub fn condition(mut self, condition: &str) -> Self {
        self.condition = condition.to_string();
        self
    }

    /// Expects an observation of the condition under a model.
    pub fn expect(mut self, model: &str, observation: Observation) -> Self {
        self.expect.push((model.to_string(), observation));
        self
    }

    /// Expects exactly these outcomes under a model, written as a test
    /// file's `outcomes` (`"0:r0=1; x=2;"`, `"deadlock: main"`, ...).
    pub fn outcomes(mut self, model: &str, lines: &[&str]) -> Self {
        let lines = lines.iter().map(|l| l.to_string()).collect();
        self.outcomes.push((model.to_string(), lines));
        self
    }

    /// Expects, under a model, that some execution races (`true`) or none
    /// does (`false`).
    pub fn races(mut self, model: &str, racy: bool) -> Self {
        self.races.push((model.to_string(), racy));
        self
    }

    /// The test as a RON litmus file.
    pub fn to_ron(&self) -> String {
        let file = LitmusFile {
            name: lit(&self.name),
            doc: self.doc.as_deref().map(lit),
            init: Entries(self.init.iter().map(|(k, v)| (lit(k), *v)).collect()),
            channels: Entries(self.channels.iter().map(|(k, v)| (lit(k), *v)).collect()),
            words: Entries(self.words.iter().map(|(k, v)| (lit(k), *v)).collect()),
            threads: if self.threads.iter().any(|(name, _)| name.is_some()) {
                Threads::Named(
                    self.threads
                        .iter()
                        .enumerate()
                        .map(|(i, (name, t))| {
                            let name = name.clone().unwrap_or_else(|| self.unnamed_thread(i));
                            (lit(&name), t.code.clone())
                        })
                        .collect(),
                )
            } else {
                Threads::Unnamed(self.threads.iter().map(|(_, t)| t.code.clone()).collect())
            },
            condition: lit(&self.condition),
            locations: Vec::new(),
            expect: Entries(self.expect.iter().map(|(m, o)| (lit(m), *o)).collect()),
            outcomes: Entries(
                (self.outcomes.iter())
                    .map(|(m, lines)| (lit(m), lines.iter().map(|l| lit(l)).collect()))
                    .collect(),
            ),
            races: Entries(self.races.iter().map(|(m, r)| (lit(m), *r)).collect()),
        };
        let built_by = [format!(
            "Built with hbsim::syntax::LitmusBuilder: {}",
            self.name
        )];
        let comments = if self.comments.is_empty() {
            &built_by[..]
        } else {
            &self.comments[..]
        };
        print::print_ron(&file, comments)
    }

    /// The name of unnamed thread `i` in a test with named ones:
    /// `thread<i>`, with `_` added while a named thread has it.
    fn unnamed_thread(&self, i: usize) -> String {
        let mut name = format!("thread{i}");
        while self
            .threads
            .iter()
            .any(|(n, _)| n.as_deref() == Some(&name))
        {
            name.push('_');
        }
        name
    }

    /// Checks and lowers the test, as if read from a file.
    ///
    /// # Errors
    /// A [`LoadError`] pointing into [`LitmusBuilder::to_ron`]'s text, for
    /// example for a malformed expression or condition.
    pub fn build(&self) -> Result<LitmusTest, LoadError> {
        parse_str(&self.to_ron(), &format!("<built test {}>", self.name))
    }
}

fn lit(text: &str) -> Lit {
    Lit {
        text: text.to_string(),
        ordinal: 0,
    }
}

fn operand(value: impl Into<Value>) -> Operand {
    match value.into() {
        Value::Int(v) => Operand::Int(v),
        Value::Expr(e) => Operand::Expr(lit(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_threads_words_outcomes_and_races_are_written_and_checked() {
        let builder = LitmusBuilder::new("torn")
            .words("s", 2)
            .named_thread("main", |t| t.go("writer").load("r0", "s"))
            .named_thread("writer", |t| t.store("s", 1))
            .thread(|t| t.fence())
            .condition("exists (main:s_torn=1)")
            .races("go", true)
            .outcomes("sc", &["main:r0=0; main:s_torn=0;"]);
        let ron = builder.to_ron();
        for part in [
            "\"s\": 2",
            "\"writer\": [",
            "\"thread2\": [",
            "races: {",
            "outcomes: {",
        ] {
            assert!(ron.contains(part), "{part}: {ron}");
        }
        let test = builder.build().expect("builds");
        assert_eq!(test.program.threads[1].name.as_deref(), Some("writer"));
        // An unnamed thread's name does not take a named one's.
        let taken = LitmusBuilder::new("c")
            .named_thread("thread1", |t| t.store("x", 1))
            .thread(|t| t.load("r0", "x"))
            .build()
            .expect("builds");
        assert_eq!(taken.program.threads[1].name.as_deref(), Some("thread1_"));
        assert_eq!(test.program.expectations.len(), 2);
    }

    #[test]
    fn a_comment_of_several_lines_stays_a_comment() {
        let builder = LitmusBuilder::new("c")
            .comment("first\nLitmus(second)")
            .thread(|t| t.store("x", 1));
        let ron = builder.to_ron();
        assert!(ron.contains("// first\n// Litmus(second)\n"), "{ron}");
        builder.build().expect("builds");
    }

    #[test]
    fn built_tests_read_back_as_the_same_program() {
        let builder = LitmusBuilder::new("MP")
            .doc("message passing")
            .init("x", 0)
            .thread(|t| t.store("x", 1).fence().atomic_store("f", 1))
            .thread(|t| {
                t.repeat_until(|b| b.atomic_load("r0", "f"), "r0 == 1")
                    .if_else("r0 == 1", |b| b.load("r1", "x"), |b| b.set("r1", -1))
                    .xchg("r2", "y", 1)
                    .fetch_add("r3", "y", "r2 + 1")
                    .cas("r4", "y", 2, 3)
            })
            .condition("exists 1:r1=0")
            .expect("sc", Observation::Never);
        let built = builder.build().unwrap().program;
        let read = parse_str(&builder.to_ron(), "mp.ron").unwrap().program;
        assert_eq!(built, read);
        assert_eq!(built.threads[1].source[0], "AtomicLoad(\"r0\", \"f\")");
        assert_eq!(built.expectations[0].observation, Some(Observation::Never));
    }

    #[test]
    fn build_errors_point_into_the_printed_text() {
        let err = LitmusBuilder::new("bad")
            .thread(|t| t.store("x", "r0 +"))
            .build()
            .unwrap_err();
        assert!(err.to_string().starts_with("<built test bad>:"), "{err}");
    }
}

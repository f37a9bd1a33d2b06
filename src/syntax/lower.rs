//! Lowering: the RON AST to a validated [`Program`].
//!
//! Resolves every name to an index, compiles `If` and `Loop` to conditional jumps,
//! parses expressions and the condition, and reports every semantic error with the
//! span of the string literal (or the part of it) that is wrong.
//!
//! Name rules (docs/format.md):
//! - variables are the keys of `init` without a `:` plus every variable an
//!   instruction loads, stores or updates; those not in `init` start at 0;
//! - registers belong to one thread; a register read before it is written reads
//!   its initial value (0 unless `init` sets `T:reg`);
//! - a name cannot be both a variable and a register of the same thread, since
//!   expressions mention registers only;
//! - the condition and expected outcomes may mention only variables and registers
//!   that the program writes or initialises.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use super::ast::{self, Entries, LitmusFile, Operand, Threads};
use super::condition;
use super::condition::{
    AtomName, Resolve, ThreadRef, parse_condition, parse_observable, parse_outcome,
};
use super::error::SourceError;
use super::expr::parse_expr;
use super::lexer::{TextError, is_identifier};
use super::literal::{Lit, LiteralMap, LiteralSpans};
use crate::ir::{
    Access, BinOp, Channel, Condition, Expectation, ExpectedOutcomes, Expr, Instr, LocKind,
    Location, Observable, Program, Reg, Register, RmwOp, SyncOp, Thread, ThreadId, UnOp, Val,
};

/// The result of a lowering step.
type Lowering<T> = Result<T, Box<SourceError>>;

/// A lowered program with the source positions later stages may need for errors.
#[derive(Debug)]
pub(crate) struct Lowered {
    pub program: Program,
    /// Span of each expectation's model name (first mention), parallel to
    /// `program.expectations`.
    pub expectation_spans: Vec<Range<usize>>,
    /// The file's `locations`, in order, without repetitions.
    pub locations: Vec<Observable>,
}

/// Lowers a file parsed from RON. `name` and `source` are used for error messages.
pub(crate) fn lower(file: LitmusFile, name: &str, source: &Arc<str>) -> Lowering<Lowered> {
    lower_with(file, name, source, &LiteralMap::scan(source))
}

/// Lowers a parsed file whose literals are located by `literals` in `source`.
pub(crate) fn lower_with(
    file: LitmusFile,
    name: &str,
    source: &Arc<str>,
    literals: &dyn LiteralSpans,
) -> Lowering<Lowered> {
    let cx = Context {
        name,
        source,
        literals,
    };
    cx.lower(file)
}

struct Context<'s> {
    name: &'s str,
    source: &'s Arc<str>,
    literals: &'s dyn LiteralSpans,
}

impl Context<'_> {
    /// An error underlining the whole literal.
    fn at(
        &self,
        lit: &Lit,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Box<SourceError> {
        SourceError::new(
            self.name,
            self.source,
            self.literals.span_of(lit),
            message,
            label,
        )
    }

    /// An error underlining part of the literal's text.
    fn within(&self, lit: &Lit, e: TextError) -> Box<SourceError> {
        let span = self.literals.span_within(lit, e.span.clone());
        let label = if e.span.is_empty() { "here" } else { "this" };
        let err = SourceError::new(self.name, self.source, span, e.message, label);
        match e.help {
            Some(help) => err.with_help(help),
            None => err,
        }
    }

    fn lower(&self, file: LitmusFile) -> Lowering<Lowered> {
        let threads: Vec<(Option<Lit>, Vec<ast::Instr>)> = match file.threads {
            Threads::Unnamed(list) => list.into_iter().map(|code| (None, code)).collect(),
            Threads::Named(list) => list
                .into_iter()
                .map(|(name, code)| (Some(name), code))
                .collect(),
        };
        if threads.is_empty() {
            let span = self
                .source
                .find("threads")
                .map_or(0..0, |at| at..at + "threads".len());
            return Err(SourceError::new(
                self.name,
                self.source,
                span,
                "expected at least one thread, found none",
                "no threads",
            ));
        }
        if threads.len() > usize::from(u16::MAX) {
            return Err(self.at(
                &file.name,
                "expected at most 65535 threads, found more",
                "this test",
            ));
        }
        let name = &file.name.text;
        if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(self.at(
                &file.name,
                format!("expected a test name without spaces, found {name:?}"),
                "this name",
            ));
        }
        let thread_names = self.thread_names(&threads)?;

        let mut vars = Variables::default();
        let mut reg_inits: Vec<(Lit, Val)> = Vec::new();
        for (key, value) in file.init.0 {
            if key.text.contains(':') {
                reg_inits.push((key, value));
            } else {
                if !is_identifier(&key.text) {
                    return Err(self.at(&key, format!("expected a variable name, found `{}`", key.text), "not a name")
                        .with_help("variable names start with a letter or `_` and contain letters, digits and `_`; registers are written `T:reg`"));
                }
                if vars.index.contains_key(&key.text) {
                    return Err(self.at(
                        &key,
                        format!(
                            "expected each variable initialised once, found `{}` a second time",
                            key.text
                        ),
                        "second initialisation",
                    ));
                }
                vars.add(&key.text, value);
            }
        }
        let channels = self.declare_channels(&file.channels, &mut vars)?;
        self.declare_multiword(&file.words, &mut vars)?;
        for (_, code) in &threads {
            rw_mutexes(code, &mut vars.rw);
        }
        for (_, code) in &threads {
            self.collect_variables(code, &mut vars)?;
        }
        let started = self.collect_goroutines(&threads, &thread_names, &mut vars)?;
        if vars.locs.len() > usize::from(u16::MAX) {
            return Err(self.at(
                &file.name,
                format!(
                    "expected at most 65535 shared objects, found {}",
                    vars.locs.len()
                ),
                "this test",
            ));
        }

        let mut lowered_threads = Vec::with_capacity(threads.len());
        for (t, (name, code)) in threads.iter().enumerate() {
            let mut thread = ThreadLowering {
                cx: self,
                vars: &vars,
                channels: &channels,
                thread_names: &thread_names,
                regs: Vec::new(),
                first_reads: Vec::new(),
                code: Vec::new(),
                source: Vec::new(),
            };
            for (key, value) in &reg_inits {
                let (thread_part, reg_part) = key
                    .text
                    .split_once(':')
                    .expect("invariant: key contains ':'");
                let target = resolve_thread_name(thread_part.trim(), &thread_names);
                if target == Some(t) {
                    thread.init_register(key, reg_part.trim(), *value)?;
                }
            }
            if let Some(obj) = started[t] {
                thread.code.push(Instr::Sync {
                    op: SyncOp::Start,
                    obj,
                });
                thread.source.push("Start (waits for its Go)".to_string());
            }
            thread.lower_block(code)?;
            thread.check_reads(t)?;
            lowered_threads.push(Thread {
                name: name.as_ref().map(|n| n.text.clone()),
                regs: thread.regs,
                code: thread.code,
                source: thread.source,
            });
        }
        for (key, _) in &reg_inits {
            let thread_part = key.text.split_once(':').map_or("", |(t, _)| t.trim());
            if resolve_thread_name(thread_part, &thread_names).is_none() {
                return Err(self.at(
                    key,
                    format!(
                        "expected a thread in `{}`, found `{thread_part}`; {}",
                        key.text,
                        describe_threads(&thread_names)
                    ),
                    "unknown thread",
                ));
            }
        }

        let program_parts = Resolver {
            vars: &vars,
            threads: &lowered_threads,
            thread_names: &thread_names,
        };
        let condition = self.lower_condition(&file.condition, &program_parts)?;
        let mut locations = Vec::with_capacity(file.locations.len());
        for lit in &file.locations {
            let observable =
                parse_observable(&lit.text, &program_parts).map_err(|e| self.within(lit, e))?;
            if !locations.contains(&observable) {
                locations.push(observable);
            }
        }
        let (expectations, expectation_spans) =
            self.lower_expectations(file.expect, file.outcomes, file.races, &program_parts)?;

        Ok(Lowered {
            program: Program {
                name: file.name.text,
                doc: file.doc.map(|d| d.text),
                locs: vars.locs,
                threads: lowered_threads,
                channels,
                condition,
                expectations,
            },
            expectation_spans,
            locations,
        })
    }

    fn thread_names(
        &self,
        threads: &[(Option<Lit>, Vec<ast::Instr>)],
    ) -> Lowering<Vec<Option<String>>> {
        let mut names: Vec<Option<String>> = Vec::new();
        for (name, _) in threads {
            if let Some(lit) = name {
                if !is_identifier(&lit.text) {
                    return Err(self.at(lit, format!("expected a thread name, found `{}`", lit.text), "not a name")
                        .with_help("thread names start with a letter or `_` and contain letters, digits and `_`"));
                }
                if is_herd_thread_name(&lit.text) {
                    return Err(self
                        .at(
                            lit,
                            format!("expected a thread name, found `{}`, which is reserved", lit.text),
                            "reserved",
                        )
                        .with_help("herd7 writes thread i as P<i>, so those names always mean thread indices"));
                }
                if names.iter().flatten().any(|n| *n == lit.text) {
                    return Err(self.at(
                        lit,
                        format!(
                            "expected each thread name once, found `{}` a second time",
                            lit.text
                        ),
                        "second use",
                    ));
                }
            }
            names.push(name.as_ref().map(|n| n.text.clone()));
        }
        Ok(names)
    }

    fn collect_variables(&self, code: &[ast::Instr], vars: &mut Variables) -> Lowering<()> {
        for instr in code {
            match instr {
                ast::Instr::Load(_, var)
                | ast::Instr::Store(var, _)
                | ast::Instr::AtomicLoad(_, var)
                | ast::Instr::AtomicStore(var, _)
                | ast::Instr::Xchg(_, var, _)
                | ast::Instr::FetchAdd(_, var, _)
                | ast::Instr::Cas(_, var, _, _) => {
                    self.declare(var, LocKind::Variable, vars)?;
                    if vars.multi.contains_key(&var.text) {
                        let atomic = !matches!(instr, ast::Instr::Load(..) | ast::Instr::Store(..));
                        let uses = vars.multi_uses.entry(var.text.clone()).or_default();
                        if (atomic && uses.0) || (!atomic && uses.1) {
                            return Err(self
                                .at(var, format!("expected `{}` accessed either plainly or atomically, found both", var.text), "mixed")
                                .with_help("a multi-word variable is either plain words or an atomic.Value"));
                        }
                        *uses = (uses.0 || !atomic, uses.1 || atomic);
                    }
                }
                ast::Instr::Lock(m)
                | ast::Instr::Unlock(m)
                | ast::Instr::TryLock(_, m)
                | ast::Instr::RLock(m)
                | ast::Instr::RUnlock(m)
                | ast::Instr::TryRLock(_, m) => {
                    if vars.rw.contains(&m.text) {
                        self.declare(m, LocKind::RwMutex, vars)?;
                        if !vars.readers.contains_key(&m.text) {
                            let readers = vars.add_kind(
                                &format!("{}.readers", m.text),
                                0,
                                LocKind::RwReaders,
                            );
                            vars.readers.insert(m.text.clone(), readers);
                        }
                    } else {
                        self.declare(m, LocKind::Mutex, vars)?
                    }
                }
                ast::Instr::Add(wg, _) | ast::Instr::Done(wg) | ast::Instr::Wait(wg) => {
                    self.declare(wg, LocKind::WaitGroup, vars)?
                }
                ast::Instr::OnceDo(once, body) => {
                    self.declare(once, LocKind::Once, vars)?;
                    self.collect_variables(body, vars)?;
                }
                ast::Instr::Select { cases, default } => {
                    for case in cases {
                        let (ch, body) = case.parts();
                        self.declare_used_channel(ch, vars)?;
                        self.collect_variables(body, vars)?;
                    }
                    if let Some(default) = default {
                        self.collect_variables(default, vars)?;
                    }
                }
                ast::Instr::If {
                    then, otherwise, ..
                } => {
                    self.collect_variables(then, vars)?;
                    self.collect_variables(otherwise, vars)?;
                }
                ast::Instr::Loop { body, .. } => self.collect_variables(body, vars)?,
                ast::Instr::Send(ch, _)
                | ast::Instr::Recv(_, ch)
                | ast::Instr::RecvOk(_, _, ch)
                | ast::Instr::Close(ch) => self.declare_used_channel(ch, vars)?,
                ast::Instr::Fence | ast::Instr::Let(..) | ast::Instr::Go(_) => {}
            }
        }
        Ok(())
    }

    /// Adds the shared word `lit` names, as `kind`, unless it exists; one name
    /// is one kind of object.
    fn declare(&self, lit: &Lit, kind: LocKind, vars: &mut Variables) -> Lowering<()> {
        if vars.multi.contains_key(&lit.text) {
            return match kind {
                LocKind::Variable => Ok(()),
                _ => Err(self.at(
                    lit,
                    format!(
                        "expected {} here, found `{}`, which is a multi-word variable",
                        kind_name(kind),
                        lit.text
                    ),
                    "conflicting use",
                )),
            };
        }
        if !is_identifier(&lit.text) {
            return Err(self.at(
                lit,
                format!("expected a name, found `{}`", lit.text),
                "not a name",
            ));
        }
        match vars.index.get(&lit.text) {
            None => {
                vars.add_kind(&lit.text, 0, kind);
                Ok(())
            }
            Some(&loc) if vars.locs[loc.index()].kind == kind => Ok(()),
            Some(&loc) => Err(self
                .at(
                    lit,
                    format!(
                        "expected {} here, found `{}`, which is {} elsewhere",
                        kind_name(kind),
                        lit.text,
                        kind_name(vars.locs[loc.index()].kind)
                    ),
                    "conflicting use",
                )
                .with_help(
                    "give variables, channels, mutexes, wait groups and onces different names",
                )),
        }
    }

    /// Checks that a channel an instruction uses is declared as one.
    fn declare_used_channel(&self, ch: &Lit, vars: &mut Variables) -> Lowering<()> {
        if !vars.index.contains_key(&ch.text) {
            return Err(self
                .at(
                    ch,
                    format!("expected a declared channel, found `{}`, which `channels` does not declare", ch.text),
                    "undeclared",
                )
                .with_help(
                    "declare it with its capacity: `channels: { \"ch\": 0 }` (0 is unbuffered)",
                ));
        }
        self.declare(ch, LocKind::Channel, vars)
    }

    /// Declares each variable of several machine words and its words, which
    /// outcomes show as `s#0`, `s#1`, ...
    fn declare_multiword(&self, words: &Entries<Val>, vars: &mut Variables) -> Lowering<()> {
        for (name, count) in &words.0 {
            if !is_identifier(&name.text)
                || vars.index.contains_key(&name.text)
                || vars.multi.contains_key(&name.text)
            {
                return Err(self.at(
                    name,
                    format!("expected a new variable name, found `{}`", name.text),
                    "this name",
                ));
            }
            if !(2..=MAX_WORDS as Val).contains(count) {
                return Err(self.at(
                    name,
                    format!("expected from 2 to {MAX_WORDS} words, found {count}"),
                    "this variable",
                ));
            }
            let locs = (0..*count)
                .map(|i| vars.add_kind(&format!("{}#{i}", name.text), 0, LocKind::Variable))
                .collect();
            vars.multi.insert(name.text.clone(), locs);
        }
        Ok(())
    }

    /// Declares each channel of `channels` (name and capacity) and its words.
    fn declare_channels(
        &self,
        channels: &Entries<Option<Val>>,
        vars: &mut Variables,
    ) -> Lowering<Vec<Channel>> {
        let mut declared = Vec::new();
        for (name, capacity) in &channels.0 {
            if !is_identifier(&name.text) {
                return Err(self.at(
                    name,
                    format!("expected a channel name, found `{}`", name.text),
                    "not a name",
                ));
            }
            if vars.index.contains_key(&name.text) {
                return Err(self.at(
                    name,
                    format!(
                        "expected a new channel name, found `{}`, which is declared already",
                        name.text
                    ),
                    "second declaration",
                ));
            }
            let capacity_is_nil = capacity.is_none();
            let capacity = match capacity.map(usize::try_from) {
                None => 0,
                Some(Ok(c)) if c <= MAX_CAPACITY => c,
                Some(_) => {
                    return Err(self.at(
                        name,
                        format!(
                            "expected a capacity from 0 to {MAX_CAPACITY} or `None` (nil), found {}",
                            capacity.unwrap_or_default()
                        ),
                        "this channel",
                    ));
                }
            };
            let closed = vars.add_kind(&name.text, 0, LocKind::Channel);
            let slots = (0..capacity.max(1))
                .map(|i| vars.add_kind(&format!("{}[{i}]", name.text), 0, LocKind::Channel))
                .collect();
            let head = vars.add_kind(&format!("{}.head", name.text), 0, LocKind::Channel);
            let count = vars.add_kind(&format!("{}.len", name.text), 0, LocKind::Channel);
            let partner = vars.add_kind(&format!("{}.partner", name.text), 0, LocKind::Channel);
            declared.push(Channel {
                name: name.text.clone(),
                capacity,
                nil: capacity_is_nil,
                closed,
                slots,
                head,
                count,
                partner,
            });
        }
        Ok(declared)
    }

    /// The goroutines `Go` instructions start: for each thread, the start flag
    /// its `Go` sets, if some `Go` names it.
    fn collect_goroutines(
        &self,
        threads: &[(Option<Lit>, Vec<ast::Instr>)],
        names: &[Option<String>],
        vars: &mut Variables,
    ) -> Lowering<Vec<Option<crate::ir::Loc>>> {
        /// Each `Go` of `code`, and whether it is inside a loop.
        fn go_targets<'a>(code: &'a [ast::Instr], in_loop: bool, out: &mut Vec<(&'a Lit, bool)>) {
            for instr in code {
                match instr {
                    ast::Instr::Go(target) => out.push((target, in_loop)),
                    ast::Instr::If {
                        then, otherwise, ..
                    } => {
                        go_targets(then, in_loop, out);
                        go_targets(otherwise, in_loop, out);
                    }
                    ast::Instr::Loop { body, .. } => go_targets(body, true, out),
                    ast::Instr::OnceDo(_, body) => go_targets(body, in_loop, out),
                    ast::Instr::Select { cases, default } => {
                        for case in cases {
                            go_targets(case.parts().1, in_loop, out);
                        }
                        if let Some(default) = default {
                            go_targets(default, in_loop, out);
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut started = vec![None; threads.len()];
        for (t, (_, code)) in threads.iter().enumerate() {
            let mut targets = Vec::new();
            go_targets(code, false, &mut targets);
            for (lit, in_loop) in targets {
                if in_loop {
                    return Err(self
                        .at(lit, "expected each `Go` outside every `Loop`, found one inside a `Loop`, where it could start its goroutine more than once", "in a loop")
                        .with_help("each goroutine is one thread, started once: write one thread per goroutine and a `Go` for each"));
                }
                let Some(target) = resolve_thread_name(&lit.text, names) else {
                    return Err(self.at(
                        lit,
                        format!(
                            "expected a thread to start, found `{}`; {}",
                            lit.text,
                            describe_threads(names)
                        ),
                        "unknown thread",
                    ));
                };
                if target == t {
                    return Err(self.at(
                        lit,
                        format!(
                            "expected another thread to start, found `{}`, the thread itself",
                            lit.text
                        ),
                        "this thread",
                    ));
                }
                if target == 0 {
                    return Err(self
                        .at(
                            lit,
                            format!(
                                "expected a goroutine to start, found `{}`, the main goroutine (thread 0), which runs from the start",
                                lit.text
                            ),
                            "the main goroutine",
                        )
                        .with_help("deadlocks and leaks are judged by whether thread 0 is blocked: put the main goroutine first"));
                }
                if started[target].is_some() {
                    return Err(self
                        .at(
                            lit,
                            format!("expected one `Go` per goroutine, found a second `Go` starting `{}`", lit.text),
                            "second start",
                        )
                        .with_help(
                            "each goroutine is started by one `Go`, even on different branches of an `If`: write one thread per `go` statement",
                        ));
                }
                let name = format!(
                    "go {}",
                    names[target]
                        .clone()
                        .unwrap_or_else(|| format!("P{target}"))
                );
                let kind = LocKind::Started(ThreadId(target as u16));
                // Thread 0 is never started (above), so some thread runs.
                started[target] = Some(vars.add_kind(&name, 0, kind));
            }
        }
        Ok(started)
    }

    fn lower_condition(&self, lit: &Lit, r: &Resolver<'_>) -> Lowering<Condition> {
        parse_condition(&lit.text, r).map_err(|e| self.within(lit, e))
    }

    fn lower_expectations(
        &self,
        expect: Entries<crate::ir::Observation>,
        outcomes: Entries<Vec<Lit>>,
        races: Entries<bool>,
        r: &Resolver<'_>,
    ) -> Lowering<(Vec<Expectation>, Vec<Range<usize>>)> {
        let mut expectations: Vec<Expectation> = Vec::new();
        let mut spans = Vec::new();
        let mut slot = |key: &Lit, expectations: &mut Vec<Expectation>| -> Lowering<usize> {
            if key.text.is_empty()
                || !key
                    .text
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return Err(self.at(
                    key,
                    format!("expected a model name, found `{}`", key.text),
                    "not a model name",
                ));
            }
            Ok(
                match expectations.iter().position(|e| e.model == key.text) {
                    Some(i) => i,
                    None => {
                        expectations.push(Expectation {
                            model: key.text.clone(),
                            observation: None,
                            outcomes: None,
                            races: None,
                        });
                        spans.push(self.literals.span_of(key));
                        expectations.len() - 1
                    }
                },
            )
        };
        for (key, observation) in expect.0 {
            let i = slot(&key, &mut expectations)?;
            if expectations[i].observation.is_some() {
                return Err(self.at(
                    &key,
                    format!(
                        "expected one observation per model, found a second for `{}`",
                        key.text
                    ),
                    "second expectation",
                ));
            }
            expectations[i].observation = Some(observation);
        }
        for (key, lines) in outcomes.0 {
            let i = slot(&key, &mut expectations)?;
            if expectations[i].outcomes.is_some() {
                return Err(self.at(
                    &key,
                    format!(
                        "expected one outcome list per model, found a second for `{}`",
                        key.text
                    ),
                    "second list",
                ));
            }
            expectations[i].outcomes = Some(self.lower_outcomes(&key, &lines, r)?);
        }
        for (key, racy) in races.0 {
            let i = slot(&key, &mut expectations)?;
            if expectations[i].races.is_some() {
                return Err(self.at(
                    &key,
                    format!(
                        "expected one race verdict per model, found a second for `{}`",
                        key.text
                    ),
                    "second expectation",
                ));
            }
            expectations[i].races = Some(racy);
        }
        Ok((expectations, spans))
    }

    fn lower_outcomes(
        &self,
        key: &Lit,
        lines: &[Lit],
        r: &Resolver<'_>,
    ) -> Lowering<ExpectedOutcomes> {
        if lines.is_empty() {
            return Err(self
                .at(
                    key,
                    "expected at least one outcome line, found an empty list",
                    "no outcomes",
                )
                .with_help(OUTCOME_LINES_HELP));
        }
        let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        expected_outcomes(&texts, r).map_err(|(i, e)| self.within(&lines[i], e))
    }
}

/// What an expectation's outcome lines may say.
const OUTCOME_LINES_HELP: &str = "every execution ends in some outcome: list final outcomes like `0:r0=1; x=2;` and any `deadlock: main`, `leak: P1`, `never terminates: P1` or `panic: P1`";

/// The outcome set that expected outcome lines state (`0:r0=1; x=2;`,
/// `deadlock: main`, `leak: P1`, `never terminates: P1`, `panic: P1`); an
/// error names the line (its index) and the place in it.
fn expected_outcomes(
    lines: &[&str],
    r: &Resolver<'_>,
) -> Result<ExpectedOutcomes, (usize, TextError)> {
    let mut observables: Option<Vec<Observable>> = None;
    let mut outcomes = Vec::with_capacity(lines.len());
    let mut blocked = Vec::new();
    let mut never_terminates = Vec::new();
    let mut panics = Vec::new();
    for (i, &line) in lines.iter().enumerate() {
        let at = |e: TextError| (i, e);
        let trimmed = line.trim_start();
        let start = line.len() - trimmed.len();
        let whole = start..line.trim_end().len().max(start);
        let twice = || {
            at(TextError::new(
                format!("expected each outcome once, found `{}` again", line.trim()),
                whole.clone(),
            ))
        };
        if let Some(rest) = trimmed.strip_prefix(NEVER_TERMINATES) {
            let threads = sorted(stuck_threads(line, rest, r).map_err(at)?);
            if never_terminates.contains(&threads) {
                return Err(twice());
            }
            never_terminates.push(threads);
            continue;
        }
        // A deadlock blocks main with the others, a leak only others.
        let ending = (trimmed.strip_prefix(DEADLOCK).map(|rest| (rest, true)))
            .or_else(|| trimmed.strip_prefix(LEAK).map(|rest| (rest, false)));
        if let Some((rest, deadlock)) = ending {
            let threads = stuck_threads(line, rest, r).map_err(at)?;
            let main = threads.iter().find(|(t, _)| *t == ThreadId(0));
            match (deadlock, main) {
                (true, None) => return Err(at(TextError::new(
                    "expected the main goroutine (thread 0) among the threads of a deadlock, found only other threads",
                    start..start + DEADLOCK.len() - 1,
                )
                .with_help("goroutines blocked forever after main finished are a leak: write `leak: THREADS`"))),
                (false, Some((_, span))) => return Err(at(TextError::new(
                    "expected goroutines other than main in a leak, found the main goroutine (thread 0)",
                    span.clone(),
                )
                .with_help("with the main goroutine blocked too, it is a deadlock: write `deadlock: THREADS`"))),
                _ => {}
            }
            let threads = sorted(threads);
            if blocked.contains(&threads) {
                return Err(twice());
            }
            blocked.push(threads);
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix(PANIC) {
            match sorted(stuck_threads(line, rest, r).map_err(at)?).as_slice() {
                [t] if panics.contains(t) => return Err(twice()),
                [t] => panics.push(*t),
                threads => {
                    return Err(at(TextError::new(
                        format!(
                            "expected the one thread that panics, found {} threads",
                            threads.len()
                        ),
                        whole,
                    )));
                }
            }
            continue;
        }
        let atoms = parse_outcome(line, r).map_err(at)?;
        if atoms.is_empty() {
            return Err(at(TextError::new(
                "expected an outcome such as `0:r0=1; x=2;`, found nothing",
                whole,
            )
            .with_help(OUTCOME_LINES_HELP)));
        }
        let mut sorted: Vec<_> = atoms.iter().map(|(o, _, _)| *o).collect();
        sorted.sort();
        if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
            let (_, _, span) = atoms
                .iter()
                .rfind(|(o, _, _)| *o == w[0])
                .expect("invariant: found above");
            return Err(at(TextError::new(
                format!(
                    "expected each value once, found `{}` a second time",
                    r.name(w[0])
                ),
                span.clone(),
            )));
        }
        let columns = observables.get_or_insert_with(|| atoms.iter().map(|(o, _, _)| *o).collect());
        let mut values = Vec::with_capacity(columns.len());
        for column in columns.iter() {
            match atoms.iter().find(|(o, _, _)| o == column) {
                Some((_, v, _)) => values.push(*v),
                None => {
                    return Err(at(TextError::new(
                        format!(
                            "expected a value for `{}` as in the first outcome, found none",
                            r.name(*column)
                        ),
                        whole,
                    )
                    .with_help(
                        "every expected outcome must name the same registers and variables",
                    )));
                }
            }
        }
        if atoms.len() != columns.len() {
            let (o, _, span) = atoms
                .iter()
                .find(|(o, _, _)| !columns.contains(o))
                .expect("invariant: an extra atom exists");
            return Err(at(TextError::new(
                format!(
                    "expected only what the first outcome names, found `{}`",
                    r.name(*o)
                ),
                span.clone(),
            )
            .with_help(
                "every expected outcome must name the same registers and variables",
            )));
        }
        if outcomes.contains(&values) {
            return Err(twice());
        }
        outcomes.push(values);
    }
    Ok(ExpectedOutcomes {
        observables: observables.unwrap_or_else(|| r.all_observables()),
        outcomes,
        blocked,
        never_terminates,
        panics,
    })
}

/// The threads of a `never terminates: P0 writer` line, as written, each
/// with its span in the line; `rest` is what follows the line's prefix.
fn stuck_threads(
    line: &str,
    rest: &str,
    r: &Resolver<'_>,
) -> Result<Vec<(ThreadId, Range<usize>)>, TextError> {
    let offset = line.len() - rest.len();
    let mut threads = Vec::new();
    for (start, word) in words(rest) {
        let span = offset + start..offset + start + word.len();
        match resolve_thread_name(word, r.thread_names) {
            Some(t) if threads.iter().any(|(u, _)| *u == ThreadId(t as u16)) => {
                return Err(TextError::new(
                    format!("expected each thread named once, found `{word}` a second time"),
                    span,
                ));
            }
            Some(t) => threads.push((ThreadId(t as u16), span)),
            None => {
                return Err(TextError::new(
                    format!("expected a thread of the test, found `{word}`"),
                    span,
                )
                .with_help(describe_threads(r.thread_names)));
            }
        }
    }
    if threads.is_empty() {
        return Err(TextError::new(
            "expected the threads that never finish, found none",
            line.len()..line.len(),
        ));
    }
    Ok(threads)
}

/// The threads of an outcome line, sorted, without repetitions.
fn sorted(threads: Vec<(ThreadId, Range<usize>)>) -> Vec<ThreadId> {
    let mut threads: Vec<ThreadId> = threads.into_iter().map(|(t, _)| t).collect();
    threads.sort();
    threads.dedup();
    threads
}

/// Parses a proposition over the outcomes of `program` (`0:r0=0 /\ x=1`,
/// `blocked(worker)`).
pub(crate) fn parse_proposition(
    program: &Program,
    text: &str,
) -> Result<crate::ir::Prop, TextError> {
    with_program_resolver(program, |resolve| {
        condition::parse_proposition(text, resolve)
    })
}

/// Parses an outcome line over the final values of `program` (`0:r0=1; x=2;`).
pub(crate) fn parse_outcome_line(
    program: &Program,
    text: &str,
) -> Result<Vec<(Observable, Val)>, TextError> {
    let atoms = with_program_resolver(program, |resolve| parse_outcome(text, resolve))?;
    Ok(atoms.into_iter().map(|(o, v, _)| (o, v)).collect())
}

/// Parses expected outcome lines over `program` (`0:r0=1; x=2;`,
/// `deadlock: main`, ...); an error names the line (its index).
pub(crate) fn parse_expected_outcomes(
    program: &Program,
    lines: &[&str],
) -> Result<ExpectedOutcomes, (usize, TextError)> {
    with_program_resolver(program, |resolve| expected_outcomes(lines, resolve))
}

/// Runs `parse` with a resolver for the names of `program`.
fn with_program_resolver<T>(program: &Program, parse: impl FnOnce(&Resolver<'_>) -> T) -> T {
    let mut vars = Variables::default();
    for location in &program.locs {
        let loc = vars.add_kind(&location.name, location.init, location.kind);
        // The words of a multi-word variable `s` are `s#0`, `s#1`, ...
        if let Some((whole, _)) = location.name.split_once('#') {
            vars.multi.entry(whole.to_string()).or_default().push(loc);
        }
    }
    let thread_names: Vec<Option<String>> =
        program.threads.iter().map(|t| t.name.clone()).collect();
    let resolver = Resolver {
        vars: &vars,
        threads: &program.threads,
        thread_names: &thread_names,
    };
    parse(&resolver)
}

/// Shared variables found so far.
#[derive(Default)]
struct Variables {
    locs: Vec<Location>,
    index: HashMap<String, crate::ir::Loc>,
    /// Names some `RLock`/`RUnlock` uses: RWMutexes, whose `Lock` and
    /// `Unlock` are their writer operations.
    rw: std::collections::HashSet<String>,
    /// Each RWMutex's reader count.
    readers: HashMap<String, crate::ir::Loc>,
    /// Each variable of several machine words, and its words.
    multi: HashMap<String, Vec<crate::ir::Loc>>,
    /// How each multi-word variable is accessed so far: plainly, atomically.
    multi_uses: HashMap<String, (bool, bool)>,
}

impl Variables {
    fn add(&mut self, name: &str, init: Val) -> crate::ir::Loc {
        self.add_kind(name, init, LocKind::Variable)
    }

    fn add_kind(&mut self, name: &str, init: Val, kind: LocKind) -> crate::ir::Loc {
        let loc = crate::ir::Loc(self.locs.len() as u16);
        self.locs.push(Location {
            name: name.to_string(),
            init,
            kind,
        });
        self.index.insert(name.to_string(), loc);
        loc
    }
}

/// Adds to `rw` every name `code` uses with `RLock` or `RUnlock`.
fn rw_mutexes(code: &[ast::Instr], rw: &mut std::collections::HashSet<String>) {
    for instr in code {
        match instr {
            ast::Instr::RLock(m) | ast::Instr::RUnlock(m) | ast::Instr::TryRLock(_, m) => {
                rw.insert(m.text.clone());
            }
            ast::Instr::If {
                then, otherwise, ..
            } => {
                rw_mutexes(then, rw);
                rw_mutexes(otherwise, rw);
            }
            ast::Instr::Loop { body, .. } | ast::Instr::OnceDo(_, body) => rw_mutexes(body, rw),
            ast::Instr::Select { cases, default } => {
                for case in cases {
                    rw_mutexes(case.parts().1, rw);
                }
                if let Some(default) = default {
                    rw_mutexes(default, rw);
                }
            }
            _ => {}
        }
    }
}

/// How a kind of shared word is named in messages.
fn kind_name(kind: LocKind) -> &'static str {
    match kind {
        LocKind::Variable => "a variable",
        LocKind::Mutex => "a mutex",
        LocKind::WaitGroup => "a wait group",
        LocKind::Started(_) => "a goroutine",
        LocKind::Once => "a once",
        LocKind::RwMutex | LocKind::RwReaders => "an RWMutex",
        LocKind::Channel => "a channel",
    }
}

/// Lowers one thread's code, collecting its registers.
struct ThreadLowering<'c, 's> {
    cx: &'c Context<'s>,
    vars: &'c Variables,
    channels: &'c [Channel],
    thread_names: &'c [Option<String>],
    regs: Vec<Register>,
    /// Registers an expression mentioned before anything wrote them, with
    /// where: each must be written somewhere in the thread (or initialised).
    first_reads: Vec<(Reg, Lit, Range<usize>)>,
    code: Vec<Instr>,
    source: Vec<String>,
}

impl ThreadLowering<'_, '_> {
    /// Fails on a register the thread's code reads but neither writes nor
    /// has initialised: it would silently read 0, nearly always a misspelt
    /// name.
    fn check_reads(&self, t: usize) -> Lowering<()> {
        let Some((reg, lit, span)) = self
            .first_reads
            .iter()
            .find(|(reg, _, _)| !self.regs[reg.index()].observed)
        else {
            return Ok(());
        };
        let written: Vec<&str> = (self.regs.iter())
            .filter(|r| r.observed)
            .map(|r| r.name.as_str())
            .collect();
        let name = &self.regs[reg.index()].name;
        let thread = match &self.thread_names[t] {
            Some(named) => named.clone(),
            None => t.to_string(),
        };
        let error = TextError::new(
            format!(
                "expected a register thread {thread} writes or initialises, found `{name}`, which it only reads (it would always be 0)"
            ),
            span.clone(),
        )
        .with_help(if written.is_empty() {
            format!("write it first, or set it with `init: {{ \"{thread}:{name}\": v }}`")
        } else {
            format!(
                "thread {thread} writes: {}; or set `{name}` with `init: {{ \"{thread}:{name}\": v }}`",
                written.join(", ")
            )
        });
        Err(self.cx.within(lit, error))
    }

    fn init_register(&mut self, key: &Lit, name: &str, value: Val) -> Lowering<()> {
        if !is_identifier(name) {
            return Err(self.cx.at(
                key,
                format!("expected `T:register`, found `{}`", key.text),
                "not a register",
            ));
        }
        if self.regs.iter().any(|r| r.name == name) {
            return Err(self.cx.at(
                key,
                format!(
                    "expected each register initialised once, found `{}` a second time",
                    key.text
                ),
                "second initialisation",
            ));
        }
        if self.vars.index.contains_key(name) {
            return Err(self
                .cx
                .at(
                    key,
                    format!("expected a register name, found `{name}`, which is a shared variable"),
                    "not a register",
                )
                .with_help("registers and shared variables need different names"));
        }
        self.regs.push(Register {
            name: name.to_string(),
            init: value,
            observed: true,
        });
        Ok(())
    }

    /// Resolves a register name, creating the register on first mention.
    fn register(&mut self, name: &str) -> Result<Reg, String> {
        if let Some(i) = self.regs.iter().position(|r| r.name == name) {
            return Ok(Reg(i as u16));
        }
        if !is_identifier(name) {
            return Err(format!("expected a register name, found `{name}`"));
        }
        if self.vars.index.contains_key(name) {
            return Err(format!(
                "expected a register, found `{name}`, which is a shared variable"
            ));
        }
        if self.regs.len() >= usize::from(u16::MAX) {
            return Err("expected at most 65535 registers in a thread, found more".to_string());
        }
        self.regs.push(Register {
            name: name.to_string(),
            init: 0,
            observed: false,
        });
        Ok(Reg(self.regs.len() as u16 - 1))
    }

    /// A register of hbsim's own (its name is no identifier, so it cannot
    /// clash with the file's), never part of the outcome.
    fn hidden_register(&mut self, name: &str) -> Reg {
        if let Some(i) = self.regs.iter().position(|r| r.name == name) {
            return Reg(i as u16);
        }
        self.regs.push(Register {
            name: name.to_string(),
            init: 0,
            observed: false,
        });
        Reg(self.regs.len() as u16 - 1)
    }

    /// A register written by an instruction: part of the outcome.
    fn destination(&mut self, lit: &Lit) -> Lowering<Reg> {
        let reg = self.register(&lit.text).map_err(|m| {
            self.cx
                .at(lit, m, "here")
                .with_help("registers and shared variables need different names")
        })?;
        self.regs[reg.index()].observed = true;
        Ok(reg)
    }

    fn variable(&self, lit: &Lit) -> crate::ir::Loc {
        *self
            .vars
            .index
            .get(&lit.text)
            .expect("invariant: collect_variables added every variable")
    }

    fn operand(&mut self, operand: &Operand) -> Lowering<Expr> {
        match operand {
            Operand::Int(v) => Ok(Expr::Const(*v)),
            Operand::Expr(lit) => self.expression(lit),
        }
    }

    fn expression(&mut self, lit: &Lit) -> Lowering<Expr> {
        let vars = self.vars;
        let mut resolve = |name: &str, span: Range<usize>| {
            let known = self.regs.len();
            let reg = self.register(name).map_err(|m| {
                let error = TextError::new(m, span.clone());
                if vars.index.contains_key(name) {
                    error.with_help(
                        "expressions use registers: load the variable into a register first",
                    )
                } else {
                    error
                }
            })?;
            if reg.index() >= known {
                self.first_reads.push((reg, lit.clone(), span));
            }
            Ok(reg)
        };
        parse_expr(&lit.text, &mut resolve).map_err(|e| self.cx.within(lit, e))
    }

    fn lower_block(&mut self, code: &[ast::Instr]) -> Lowering<()> {
        for instr in code {
            self.lower_instr(instr)?;
        }
        Ok(())
    }

    fn lower_instr(&mut self, instr: &ast::Instr) -> Lowering<()> {
        let lowered = match instr {
            ast::Instr::Load(reg, var) if self.vars.multi.contains_key(&var.text) => {
                return self.load_words(instr, reg, var);
            }
            ast::Instr::Store(var, value) if self.vars.multi.contains_key(&var.text) => {
                let value = self.operand(value)?;
                for (i, &loc) in self.vars.multi[&var.text].iter().enumerate() {
                    self.code.push(Instr::Store {
                        loc,
                        value: value.clone(),
                        access: Access::Plain,
                    });
                    self.source.push(format!("{} word {i}", instr.source()));
                }
                return Ok(());
            }
            ast::Instr::AtomicLoad(reg, var) if self.vars.multi.contains_key(&var.text) => {
                let dst = self.destination(reg)?;
                self.sync(SyncOp::LoadWords { dst }, var)
            }
            ast::Instr::AtomicStore(var, value) if self.vars.multi.contains_key(&var.text) => {
                let value = self.operand(value)?;
                let rest = self.vars.multi[&var.text][1..].to_vec();
                self.sync(SyncOp::StoreWords { value, rest }, var)
            }
            ast::Instr::Xchg(_, var, _)
            | ast::Instr::FetchAdd(_, var, _)
            | ast::Instr::Cas(_, var, _, _)
                if self.vars.multi.contains_key(&var.text) =>
            {
                return Err(self
                    .cx
                    .at(
                        var,
                        format!(
                            "expected a plain or atomic load or store of `{}`, which has several words, found a read-modify-write",
                            var.text
                        ),
                        "multi-word",
                    )
                    .with_help("AtomicLoad and AtomicStore read and write it whole, as an atomic.Value"));
            }
            ast::Instr::Load(reg, var) => Instr::Load {
                dst: self.destination(reg)?,
                loc: self.variable(var),
                access: Access::Plain,
            },
            ast::Instr::Store(var, value) => Instr::Store {
                loc: self.variable(var),
                value: self.operand(value)?,
                access: Access::Plain,
            },
            ast::Instr::AtomicLoad(reg, var) => Instr::Load {
                dst: self.destination(reg)?,
                loc: self.variable(var),
                access: Access::Atomic,
            },
            ast::Instr::AtomicStore(var, value) => Instr::Store {
                loc: self.variable(var),
                value: self.operand(value)?,
                access: Access::Atomic,
            },
            ast::Instr::Fence => Instr::Fence,
            ast::Instr::Xchg(reg, var, value) => {
                let op = RmwOp::Xchg(self.operand(value)?);
                self.rmw(reg, var, op)?
            }
            ast::Instr::FetchAdd(reg, var, value) => {
                let op = RmwOp::FetchAdd(self.operand(value)?);
                self.rmw(reg, var, op)?
            }
            ast::Instr::Cas(reg, var, expected, new) => {
                let op = RmwOp::Cas {
                    expected: self.operand(expected)?,
                    new: self.operand(new)?,
                };
                self.rmw(reg, var, op)?
            }
            ast::Instr::Let(reg, value) => {
                let value = self.operand(value)?;
                Instr::Let {
                    dst: self.destination(reg)?,
                    value,
                }
            }
            ast::Instr::If {
                cond,
                then,
                otherwise,
            } => {
                let cond = self.expression(cond)?;
                let skip_then = self.placeholder(instr.source());
                self.lower_block(then)?;
                let skip_else =
                    (!otherwise.is_empty()).then(|| self.placeholder("else".to_string()));
                self.patch(skip_then, negate(cond));
                self.lower_block(otherwise)?;
                if let Some(skip_else) = skip_else {
                    self.patch(skip_else, Expr::Const(1));
                }
                return Ok(());
            }
            ast::Instr::Lock(m) => match self.vars.readers.get(&m.text) {
                Some(&readers) => {
                    // Two instructions: claim the writer word, then wait for readers.
                    self.emit(SyncOp::WLock, m, instr.source());
                    self.emit_reader_wait(instr, m, readers);
                    return Ok(());
                }
                None => self.sync(SyncOp::Lock, m),
            },
            ast::Instr::Unlock(m) if self.vars.rw.contains(&m.text) => {
                self.sync(SyncOp::WUnlock, m)
            }
            ast::Instr::Unlock(m) => self.sync(SyncOp::Unlock, m),
            ast::Instr::RLock(m) => {
                let readers = self.vars.readers[&m.text];
                self.sync(SyncOp::RLock { readers }, m)
            }
            ast::Instr::RUnlock(m) => {
                let readers = self.vars.readers[&m.text];
                self.sync(SyncOp::RUnlock { readers }, m)
            }
            ast::Instr::TryRLock(ok, m) => {
                let readers = self.vars.readers[&m.text];
                let ok = self.destination(ok)?;
                self.sync(SyncOp::TryRLock { ok, readers }, m)
            }
            ast::Instr::TryLock(ok, m) => {
                let ok = self.destination(ok)?;
                let Some(&readers) = self.vars.readers.get(&m.text) else {
                    self.emit(SyncOp::TryLock(ok), m, instr.source());
                    return Ok(());
                };
                // As `Lock`: the claim (or the failure, which skips the wait),
                // then the wait for readers.
                self.emit(SyncOp::TryWLock { ok, readers }, m, instr.source());
                self.emit_reader_wait(instr, m, readers);
                return Ok(());
            }
            ast::Instr::Add(wg, n) => {
                let delta = self.operand(n)?;
                self.sync(SyncOp::Add(delta), wg)
            }
            ast::Instr::Done(wg) => self.sync(SyncOp::Add(Expr::Const(-1)), wg),
            ast::Instr::Wait(wg) => self.sync(SyncOp::Wait, wg),
            ast::Instr::Go(target) => {
                let thread = resolve_thread_name(&target.text, self.thread_names)
                    .expect("invariant: collect_goroutines resolved every Go");
                let obj = self
                    .vars
                    .locs
                    .iter()
                    .position(|l| l.kind == LocKind::Started(ThreadId(thread as u16)))
                    .expect("invariant: collect_goroutines added the start flag");
                Instr::Sync {
                    op: SyncOp::Go,
                    obj: crate::ir::Loc(obj as u16),
                }
            }
            ast::Instr::OnceDo(once, body) => {
                let obj = self.variable(once);
                let claimed = self.hidden_register(&format!("once {}", once.text));
                self.code.push(Instr::Sync {
                    op: SyncOp::OnceEnter(claimed),
                    obj,
                });
                self.source.push(instr.source());
                let skip = self.placeholder(format!("OnceDo({:?}): body already run", once.text));
                self.lower_block(body)?;
                self.code.push(Instr::Sync {
                    op: SyncOp::OnceDone,
                    obj,
                });
                self.source
                    .push(format!("OnceDo({:?}): body finished", once.text));
                self.patch(skip, negate(Expr::Reg(claimed)));
                return Ok(());
            }
            ast::Instr::Send(ch, value) => {
                let chan = self.channel(ch);
                let value = self.operand(value)?;
                if self.channels[chan].capacity > 0 {
                    self.sync(SyncOp::Send { chan, value }, ch)
                } else {
                    // Two instructions: the offer, then the wait for a receiver.
                    self.emit(SyncOp::Send { chan, value }, ch, instr.source());
                    let waits = format!("{}: waits for a receiver", instr.source());
                    self.emit(SyncOp::SendWait { chan }, ch, waits);
                    return Ok(());
                }
            }
            ast::Instr::Recv(reg, ch) => {
                let chan = self.channel(ch);
                let dst = Some(self.destination(reg)?);
                self.sync(
                    SyncOp::Recv {
                        chan,
                        dst,
                        ok: None,
                    },
                    ch,
                )
            }
            ast::Instr::RecvOk(reg, ok, ch) => {
                let chan = self.channel(ch);
                let dst = Some(self.destination(reg)?);
                let ok = Some(self.destination(ok)?);
                self.sync(SyncOp::Recv { chan, dst, ok }, ch)
            }
            ast::Instr::Close(ch) => {
                let chan = self.channel(ch);
                self.sync(SyncOp::Close { chan }, ch)
            }
            ast::Instr::Select { cases, default } => {
                return self.lower_select(instr, cases, default.as_deref());
            }
            ast::Instr::Loop { body, until } => {
                let start = self.code.len();
                self.lower_block(body)?;
                let until = self.expression(until)?;
                Instr::Goto {
                    cond: negate(until),
                    target: start,
                }
            }
        };
        self.code.push(lowered);
        self.source.push(instr.source());
        debug_assert_eq!(
            self.code.len(),
            self.source.len(),
            "one text per instruction"
        );
        Ok(())
    }

    /// A `Select`: the choice instruction, then each case's body and the
    /// default's, each but the last ending in a jump past the others.
    fn lower_select(
        &mut self,
        instr: &ast::Instr,
        cases: &[ast::SelectCase],
        default: Option<&[ast::Instr]>,
    ) -> Lowering<()> {
        let mut ops = Vec::with_capacity(cases.len());
        for case in cases {
            let op = match case {
                ast::SelectCase::Send(ch, value, _) => SyncOp::Send {
                    chan: self.channel(ch),
                    value: self.operand(value)?,
                },
                ast::SelectCase::Recv(reg, ch, _) => SyncOp::Recv {
                    chan: self.channel(ch),
                    dst: Some(self.destination(reg)?),
                    ok: None,
                },
                ast::SelectCase::RecvOk(reg, ok, ch, _) => SyncOp::Recv {
                    chan: self.channel(ch),
                    dst: Some(self.destination(reg)?),
                    ok: Some(self.destination(ok)?),
                },
            };
            ops.push(op);
        }
        let at = self.code.len();
        self.code.push(Instr::Goto {
            cond: Expr::Const(0),
            target: at,
        });
        self.source.push(instr.source());
        let mut targets = Vec::with_capacity(cases.len());
        let mut jumps = Vec::new();
        let bodies: Vec<&[ast::Instr]> = cases.iter().map(|c| c.parts().1).chain(default).collect();
        for (i, body) in bodies.iter().enumerate() {
            targets.push(self.code.len());
            if let Some(ast::SelectCase::Send(ch, ..)) = cases.get(i) {
                let chan = self.channel(ch);
                if self.channels[chan].capacity == 0 && !self.channels[chan].nil {
                    // The case offered its value to a partner: wait for it
                    // to be taken, then run the body.
                    let waits = format!("{}: Send case waits for its receiver", instr.source());
                    self.emit(SyncOp::SendWait { chan }, ch, waits);
                }
            }
            self.lower_block(body)?;
            if i + 1 < bodies.len() {
                jumps.push(self.placeholder("end of select case".to_string()));
            }
        }
        let end = self.code.len();
        for jump in jumps {
            self.code[jump] = Instr::Goto {
                cond: Expr::Const(1),
                target: end,
            };
        }
        let default_target = default.map(|_| targets[cases.len()]);
        self.code[at] = Instr::Sync {
            op: SyncOp::Select {
                cases: ops.into_iter().zip(targets).collect(),
                default: default_target,
            },
            // Unused: each case names its channel (`select {}` has none).
            obj: cases.first().map_or(crate::ir::Loc(0), |c| {
                self.channels[self.channel(c.parts().0)].closed
            }),
        };
        Ok(())
    }

    /// A plain load of a multi-word variable: each word into a register of
    /// hbsim's own, then `reg` gets word 0 and `{var}_torn` (part of the
    /// outcome) becomes 1 if the words differ: the value is torn, written by
    /// no single store.
    fn load_words(&mut self, instr: &ast::Instr, reg: &Lit, var: &Lit) -> Lowering<()> {
        let words = self.vars.multi[&var.text].clone();
        let mut parts = Vec::with_capacity(words.len());
        for (i, &loc) in words.iter().enumerate() {
            let part = self.hidden_register(&format!("{}#{i} of {}", var.text, reg.text));
            self.code.push(Instr::Load {
                dst: part,
                loc,
                access: Access::Plain,
            });
            self.source.push(format!("{} word {i}", instr.source()));
            parts.push(part);
        }
        let dst = self.destination(reg)?;
        let torn_name = Lit {
            text: format!("{}_torn", var.text),
            ordinal: reg.ordinal,
        };
        let torn = self.destination(&torn_name)?;
        self.code.push(Instr::Let {
            dst,
            value: Expr::Reg(parts[0]),
        });
        self.source.push(instr.source());
        let differs = parts[1..].iter().fold(Expr::Reg(torn), |acc, &p| {
            let ne = Expr::Binary(
                BinOp::Ne,
                Box::new(Expr::Reg(parts[0])),
                Box::new(Expr::Reg(p)),
            );
            Expr::Binary(BinOp::Or, Box::new(acc), Box::new(ne))
        });
        self.code.push(Instr::Let {
            dst: torn,
            value: differs,
        });
        self.source.push(format!("{}: torn?", instr.source()));
        Ok(())
    }

    fn channel(&self, lit: &Lit) -> usize {
        self.channels
            .iter()
            .position(|c| c.name == lit.text)
            .expect("invariant: collect_variables checked every channel")
    }

    /// Appends the synchronisation `op` on `obj`, shown in reports as `source`.
    fn emit(&mut self, op: SyncOp, obj: &Lit, source: String) {
        let lowered = self.sync(op, obj);
        self.code.push(lowered);
        self.source.push(source);
    }

    /// Appends the second step of RWMutex `m`'s writer lock (`instr`): the
    /// wait for its readers to leave.
    fn emit_reader_wait(&mut self, instr: &ast::Instr, m: &Lit, readers: crate::ir::Loc) {
        let waits = format!("{}: waits for readers", instr.source());
        self.emit(SyncOp::WLockReaders { readers }, m, waits);
    }

    fn sync(&self, op: SyncOp, obj: &Lit) -> Instr {
        let obj = match self.vars.multi.get(&obj.text) {
            Some(words) => words[0],
            None => self.variable(obj),
        };
        Instr::Sync { op, obj }
    }

    fn rmw(&mut self, reg: &Lit, var: &Lit, op: RmwOp) -> Lowering<Instr> {
        Ok(Instr::Rmw {
            dst: self.destination(reg)?,
            loc: self.variable(var),
            op,
        })
    }

    /// Reserves a jump to be patched once its target is known.
    fn placeholder(&mut self, source: String) -> usize {
        self.code.push(Instr::Goto {
            cond: Expr::Const(0),
            target: 0,
        });
        self.source.push(source);
        self.code.len() - 1
    }

    /// Makes the jump at `at` go to the current end of the code when `cond` holds.
    fn patch(&mut self, at: usize, cond: Expr) {
        self.code[at] = Instr::Goto {
            cond,
            target: self.code.len(),
        };
    }
}

/// Logical negation, folding constants and double negations.
fn negate(cond: Expr) -> Expr {
    match cond {
        Expr::Const(v) => Expr::Const(Val::from(v == 0)),
        Expr::Unary(UnOp::Not, inner) => match *inner {
            e @ Expr::Binary(
                BinOp::Eq
                | BinOp::Ne
                | BinOp::Lt
                | BinOp::Le
                | BinOp::Gt
                | BinOp::Ge
                | BinOp::And
                | BinOp::Or,
                _,
                _,
            ) => e,
            e => Expr::Binary(BinOp::Ne, Box::new(e), Box::new(Expr::Const(0))),
        },
        Expr::Binary(BinOp::Eq, a, b) => Expr::Binary(BinOp::Ne, a, b),
        Expr::Binary(BinOp::Ne, a, b) => Expr::Binary(BinOp::Eq, a, b),
        e => Expr::Unary(UnOp::Not, Box::new(e)),
    }
}

/// Resolves the names in conditions and expected outcomes.
struct Resolver<'p> {
    vars: &'p Variables,
    threads: &'p [Thread],
    thread_names: &'p [Option<String>],
}

impl Resolve for Resolver<'_> {
    fn thread(&self, thread: ThreadRef<'_>, span: Range<usize>) -> Result<ThreadId, TextError> {
        let t = match thread {
            ThreadRef::Index(i) => usize::try_from(i).ok().filter(|&i| i < self.threads.len()),
            ThreadRef::Name(name) => resolve_thread_name(name, self.thread_names),
        };
        t.map(|t| ThreadId(t as u16)).ok_or_else(|| {
            let found = match thread {
                ThreadRef::Index(i) => i.to_string(),
                ThreadRef::Name(n) => n.to_string(),
            };
            TextError::new(
                format!("expected a thread of the test, found `{found}`"),
                span,
            )
            .with_help(describe_threads(self.thread_names))
        })
    }

    fn observable(&self, atom: &AtomName<'_>) -> Result<Observable, TextError> {
        let Some((thread, thread_span)) = &atom.thread else {
            return match self.vars.index.get(atom.name) {
                Some(loc) if self.vars.locs[loc.index()].kind == LocKind::Variable => {
                    Ok(Observable::Loc(*loc))
                }
                Some(loc) => Err(TextError::new(
                    format!(
                        "expected a variable of the test, found `{}`, which is {}",
                        atom.name,
                        kind_name(self.vars.locs[loc.index()].kind)
                    ),
                    atom.span.clone(),
                )
                .with_help("outcomes show registers and variables, not synchronisation objects")),
                None => match self.vars.multi.get(atom.name) {
                    Some(words) => Err(TextError::new(
                        format!(
                            "expected one word of `{}` ({}), found the whole variable",
                            atom.name,
                            words
                                .iter()
                                .map(|w| format!("`{}`", self.vars.locs[w.index()].name))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        atom.span.clone(),
                    )
                    .with_help("outcomes show a multi-word variable word by word")),
                    None => Err(TextError::new(
                        format!(
                            "expected a variable of the test, found undeclared `{}`",
                            atom.name
                        ),
                        atom.span.clone(),
                    )
                    .with_help(self.describe_vars())),
                },
            };
        };
        let t = self.thread(*thread, thread_span.clone())?.index();
        let regs = &self.threads[t].regs;
        // Every register an expression reads is written or initialised
        // (`check_reads`), so the others are hbsim's own.
        match regs.iter().position(|r| r.name == atom.name && r.observed) {
            Some(r) => Ok(Observable::Reg(ThreadId(t as u16), Reg(r as u16))),
            None => {
                let written: Vec<&str> = regs
                    .iter()
                    .filter(|r| r.observed)
                    .map(|r| r.name.as_str())
                    .collect();
                Err(TextError::new(
                    format!(
                        "expected a register of thread {t}, found `{}`, which it never uses",
                        atom.name
                    ),
                    atom.span.clone(),
                )
                .with_help(if written.is_empty() {
                    format!("thread {t} writes no registers")
                } else {
                    format!("thread {t} writes: {}", written.join(", "))
                }))
            }
        }
    }
}

impl Resolver<'_> {
    /// Every observable of the program, in outcome order.
    fn all_observables(&self) -> Vec<Observable> {
        crate::ir::observables_of(self.threads, &self.vars.locs)
    }

    fn describe_vars(&self) -> String {
        let names: Vec<&str> = self
            .vars
            .locs
            .iter()
            .filter(|l| l.kind == LocKind::Variable)
            .map(|l| l.name.as_str())
            .collect();
        if names.is_empty() {
            "the test has no shared variables".to_string()
        } else {
            format!("variables of the test: {}", names.join(", "))
        }
    }

    fn name(&self, o: Observable) -> String {
        match o {
            Observable::Reg(t, r) => {
                format!("{}:{}", t.0, self.threads[t.index()].regs[r.index()].name)
            }
            Observable::Loc(l) => self.vars.locs[l.index()].name.clone(),
        }
    }
}

/// How an expected outcome line names a non-terminating outcome.
const NEVER_TERMINATES: &str = "never terminates:";
/// How an expected outcome line names a deadlock (main blocked forever).
const DEADLOCK: &str = "deadlock:";
/// How an expected outcome line names a leak (goroutines blocked forever).
const LEAK: &str = "leak:";
/// The largest channel buffer: each slot is a word of every state.
const MAX_CAPACITY: usize = 16;
/// The most words a multi-word variable has.
const MAX_WORDS: usize = 4;
const PANIC: &str = "panic:";

/// The words of `text` separated by spaces or commas, with their byte offsets.
fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split(|c: char| c.is_whitespace() || c == ',')
        .scan(0, |offset, word| {
            let start = *offset;
            *offset += word.len() + 1;
            Some((start, word))
        })
        .filter(|(_, word)| !word.is_empty())
}

/// Whether `name` is herd7's name for a thread index: `P` followed by digits.
fn is_herd_thread_name(name: &str) -> bool {
    name.strip_prefix('P')
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// A thread by index (`0`), by name, or by herd7's `P<index>`.
fn resolve_thread_name(name: &str, names: &[Option<String>]) -> Option<usize> {
    if let Some(i) = names.iter().position(|n| n.as_deref() == Some(name)) {
        return Some(i);
    }
    let index = name.strip_prefix('P').unwrap_or(name);
    index.parse::<usize>().ok().filter(|&i| i < names.len())
}

fn describe_threads(names: &[Option<String>]) -> String {
    let listed: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| match n {
            Some(n) => format!("{i} ({n})"),
            None => i.to_string(),
        })
        .collect();
    format!("the test has threads {}", listed.join(", "))
}

//! Reading herd7's `X86` litmus files (`.litmus`) into the litmus AST, so that
//! lowering, exploration and reports are shared with RON files (docs/herd.md).
//!
//! A file is split the way herd7's splitter splits it (herdtools7
//! `lib/splitter.mll`):
//!
//! ```text
//! X86 NAME [(title)] ["doc"]       first line; the doc string may be on the next one
//! key=value ...                    metadata lines (Cycle=, Prefetch=, ...), kept as comments
//! { x=0; 0:EAX=1; }                the initial state
//!  P0          | P1          ;     the program: one column per thread, rows end in `;`
//!  MOV [x],$1  | MOV [y],$1  ;
//! locations [x; 0:EAX;]            optional
//! exists (0:EAX=0 /\ 1:EAX=0)      or ~exists, forall, final (read as exists)
//! with tso: ~exists; ...           optional, ignored as by herd7
//! << ... >>                        everything from `<<` on is ignored, as by herd7
//! ```
//!
//! `(* ... *)` comments may appear anywhere after the first line. Instructions
//! are mapped by [`x86`]. Every literal the front end creates is recorded with
//! the part of the file it comes from, so errors found later, while lowering,
//! still underline the `.litmus` text.

mod lexer;
mod x86;

use std::ops::Range;
use std::sync::Arc;

use lexer::{Tok, Token, skip_comment, tokenize};

use super::ast::{Entries, Instr, LitmusFile, Operand, Threads};
use super::error::SourceError;
use super::expr::parse_expr;
use super::literal::{Lit, LiteralSpans, RecordedSpans};
use crate::ir::{Reg, Val};

/// A herd7 file read into the litmus AST.
#[derive(Debug)]
pub(crate) struct HerdFile {
    /// The test.
    pub file: LitmusFile,
    /// Where each literal of `file` is in the source.
    pub spans: RecordedSpans,
    /// The lines before the initial state (header, doc string, metadata,
    /// comments), as written.
    pub header: Vec<String>,
    /// herd7's `with` clauses (what the authors expected of each model), as
    /// written; herd7 ignores them.
    pub with: Vec<String>,
}

type Parsing<T> = Result<T, Box<SourceError>>;

/// Whether `source` reads like a herd7 litmus file rather than RON: its first
/// line starts with an architecture name (letters, digits, `_`) and a test name.
pub(crate) fn looks_like_herd(source: &str) -> bool {
    let first = source.trim_start().lines().next().unwrap_or("");
    let mut words = first.split_whitespace();
    match (words.next(), words.next()) {
        (Some(arch), Some(_)) => {
            arch != "Litmus" && arch.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        // A herd7 architecture alone: a herd7 file missing its test name,
        // which the herd7 reader then asks for.
        (Some(arch), None) => HERD_ARCHITECTURES.contains(&arch),
        _ => false,
    }
}

/// The architectures herd7 files start with (hbsim reads `X86`; the others
/// get a clear "not supported").
const HERD_ARCHITECTURES: &[&str] = &[
    "X86", "X86_64", "AArch64", "ARM", "PPC", "RISCV", "MIPS", "C", "LISA",
];

/// Reads a herd7 X86 litmus file. `name` is the file name used in errors.
pub(crate) fn parse(source: &Arc<str>, name: &str) -> Parsing<HerdFile> {
    let mut p = Parser {
        source,
        name,
        spans: RecordedSpans::default(),
    };
    p.file()
}

struct Parser<'s> {
    source: &'s Arc<str>,
    name: &'s str,
    spans: RecordedSpans,
}

/// What a test name may contain (herd7's `testname`).
fn is_test_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_/.-+[]".contains(c)
}

impl<'s> Parser<'s> {
    fn error(&self, span: Range<usize>, message: impl Into<String>) -> Box<SourceError> {
        let label = if span.is_empty() { "here" } else { "this" };
        SourceError::new(self.name, self.source, span, message, label)
    }

    /// The source, borrowed for as long as the parser lives rather than from `self`.
    fn text(&self) -> &'s str {
        self.source
    }

    fn file(&mut self) -> Parsing<HerdFile> {
        let (name, doc, after_header) = self.header()?;
        let init_open = self.metadata(after_header)?;
        let header = self.text()[..init_open]
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect();
        let (mut init, after_init) = self.init(init_open)?;
        let (constraint_start, constraint_end) = self.find_constraint(after_init)?;
        let threads = self.program(after_init..constraint_start)?;
        let Constraint {
            condition,
            locations,
            with,
            registers,
        } = self.constraint(constraint_start..constraint_end)?;
        self.implicit_registers(&threads, &mut init, registers);
        Ok(HerdFile {
            file: LitmusFile {
                name,
                doc,
                init: Entries(init),
                channels: Entries::default(),
                words: Entries::default(),
                threads: Threads::Unnamed(threads),
                condition,
                locations,
                expect: Entries::default(),
                outcomes: Entries::default(),
                races: Entries::default(),
            },
            spans: std::mem::take(&mut self.spans),
            header,
            with,
        })
    }

    /// The first line: `X86 NAME [(title)] ["doc"]`. Returns the name, the doc
    /// string and where the header ends.
    fn header(&mut self) -> Parsing<(Lit, Option<Lit>, usize)> {
        let text = self.text();
        let bytes = text.as_bytes();
        let blank = |i: usize| {
            i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t' || bytes[i] == b'\r')
        };
        let mut i = text.len() - text.trim_start().len();
        let arch_start = i;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
            i += 1;
        }
        let arch = &text[arch_start..i];
        match arch {
            "X86" => {}
            "X86_64" => {
                return Err(self
                    .error(arch_start..i, "expected the architecture `X86`, found `X86_64`")
                    .with_help("herd7's X86_64 tests are written in AT&T syntax, which hbsim does not read; write the test in herd7's X86 (Intel) syntax"));
            }
            _ => {
                return Err(self
                    .error(
                        arch_start..i,
                        format!("expected the architecture `X86`, found `{arch}`"),
                    )
                    .with_help("hbsim reads herd7's X86 tests and its own RON litmus files"));
            }
        }
        while blank(i) {
            i += 1;
        }
        let name_start = i;
        while i < bytes.len() && is_test_name_char(bytes[i] as char) {
            i += 1;
        }
        if name_start == i {
            let found = match text[name_start..].chars().next() {
                None => "the end of the file".to_string(),
                Some(c) if c.is_whitespace() => "the end of the line".to_string(),
                Some(c) => format!("`{c}`"),
            };
            return Err(self.error(
                name_start..name_start,
                format!("expected the test's name after `X86`, found {found}"),
            ));
        }
        let name = self.spans.verbatim(&text[name_start..i], name_start..i);
        while blank(i) {
            i += 1;
        }
        if bytes.get(i) == Some(&b'(') {
            let close = text[i..].find([')', '\n']).map(|o| i + o);
            match close {
                Some(c) if bytes[c] == b')' => i = c + 1,
                end => {
                    let found = if end.is_some() { "line" } else { "file" };
                    return Err(self.error(
                        i..i + 1,
                        format!("expected `)` closing the title on the first line, found the end of the {found}"),
                    ));
                }
            }
            while blank(i) {
                i += 1;
            }
        }
        // The doc string, on this line or alone at the start of the next.
        let mut doc_at = None;
        if bytes.get(i) == Some(&b'"') {
            doc_at = Some(i);
        } else if bytes.get(i) == Some(&b'\n') {
            let mut j = i + 1;
            while blank(j) {
                j += 1;
            }
            if bytes.get(j) == Some(&b'"') {
                doc_at = Some(j);
            }
        }
        let mut doc = None;
        if let Some(open) = doc_at {
            let Some(close) = text[open + 1..].find('"').map(|o| open + 1 + o) else {
                return Err(self.error(
                    open..open + 1,
                    "expected `\"` closing the doc string, found the end of the file",
                ));
            };
            let body = &text[open + 1..close];
            if !body.trim().is_empty() {
                doc = Some(self.spans.verbatim(body, open + 1..close));
            }
            i = close + 1;
            while blank(i) {
                i += 1;
            }
        }
        if bytes.get(i) == Some(&b';') {
            i += 1;
            while blank(i) {
                i += 1;
            }
        }
        match bytes.get(i) {
            None | Some(b'\n') => Ok((name, doc, i)),
            Some(_) => {
                let end = text[i..].find('\n').map_or(text.len(), |o| i + o);
                let rest = text[i..end].trim_end();
                Err(self.error(
                    i..i + rest.len(),
                    format!("expected `(title)`, a \"doc\" string or the end of the first line, found `{rest}`"),
                ))
            }
        }
    }

    /// Metadata lines (`key=value`) and comments before the initial state;
    /// returns the offset of its `{`.
    fn metadata(&self, mut i: usize) -> Parsing<usize> {
        let text = self.text();
        loop {
            while i < text.len() && text.as_bytes()[i].is_ascii_whitespace() {
                i += 1;
            }
            if i >= text.len() {
                return Err(self.error(
                    i..i,
                    "expected the initial state `{ ... }`, found the end of the file",
                ));
            }
            if text[i..].starts_with("(*") {
                i = skip_comment(text, i, text.len()).map_err(|e| self.error(e.span, e.message))?;
                continue;
            }
            if text.as_bytes()[i] == b'{' {
                return Ok(i);
            }
            let end = text[i..].find('\n').map_or(text.len(), |o| i + o);
            let line = &text[i..end];
            let key_len = line
                .find(|c: char| !(c.is_ascii_alphanumeric() || "_/.-".contains(c)))
                .unwrap_or(line.len());
            let is_metadata = key_len > 0
                && line.as_bytes()[0].is_ascii_alphabetic()
                && line[key_len..].trim_start().starts_with('=');
            if !is_metadata {
                return Err(self
                    .error(i..i + line.trim_end().len(), format!("expected a `key=value` line or the initial state `{{`, found `{}`", line.trim_end()))
                    .with_help("a herd7 test reads: `X86 NAME`, an optional \"doc\" line and `key=value` lines, then `{ initial state }`, the program and the condition"));
            }
            i = end;
        }
    }

    /// The initial state `{ x=0; 0:EAX=1; }` starting at `open`; returns its
    /// entries and the offset after the `}`.
    fn init(&mut self, open: usize) -> Parsing<(Vec<(Lit, Val)>, usize)> {
        let text = self.text();
        let Some(close) = text[open..].find('}').map(|o| open + o) else {
            return Err(self.error(
                open..open + 1,
                "expected `}` closing the initial state, found the end of the file",
            ));
        };
        let tokens = tokenize(text, open + 1..close).map_err(|e| self.error(e.span, e.message))?;
        let mut entries = Vec::new();
        for entry in tokens.split(|t| t.tok == Tok::Punct(";")) {
            if entry.is_empty() {
                continue;
            }
            entries.push(self.init_entry(entry)?);
        }
        Ok((entries, close + 1))
    }

    /// `x = 1`, `0:EAX = 1` or `P0:EAX = 1`.
    fn init_entry(&mut self, entry: &[Token<'_>]) -> Parsing<(Lit, Val)> {
        let Some(eq) = entry.iter().position(|t| t.tok == Tok::Punct("=")) else {
            let span = entry[0].span.start..entry[entry.len() - 1].span.end;
            let found = format!(
                "expected `location = value` in the initial state, found `{}`",
                &self.text()[span.clone()]
            );
            return Err(self.error(span, found).with_help(
                "locations are variables (`x`) or registers (`0:EAX`); values are integers",
            ));
        };
        let key = self.location(&entry[..eq], entry[eq].span.start)?;
        let value_tokens = &entry[eq + 1..];
        let value = self.integer(value_tokens, entry[eq].span.end)?;
        Ok((key, value))
    }

    /// Checks that `name`, at `span`, is an x86 register: the initial state
    /// would otherwise make up a register no instruction uses (`0:eax=1`
    /// leaving `EAX` at 0).
    fn x86_register(&self, name: &str, span: std::ops::Range<usize>) -> Parsing<()> {
        if crate::syntax::X86_REGISTERS.contains(&name) {
            return Ok(());
        }
        Err(self
            .error(
                span,
                format!(
                    "expected an x86 register ({}), found `{name}`",
                    crate::syntax::X86_REGISTERS.join(", ")
                ),
            )
            .with_help("registers are written in capitals"))
    }

    /// A location: `x`, `[x]`, `0:EAX` or `P0:EAX`, as a literal in hbsim's
    /// spelling (`x`, `0:EAX`). `at` is where to point if there is none.
    fn location(&mut self, tokens: &[Token<'_>], at: usize) -> Parsing<Lit> {
        let Some(first) = tokens.first() else {
            return Err(self.error(
                at..at,
                "expected a location (`x` or `0:EAX`), found nothing",
            ));
        };
        let span = first.span.start..tokens[tokens.len() - 1].span.end;
        let toks: Vec<Tok<'_>> = tokens.iter().map(|t| t.tok).collect();
        let text = match toks.as_slice() {
            [Tok::Word(x)] | [Tok::Punct("["), Tok::Word(x), Tok::Punct("]")] => x.to_string(),
            [Tok::Int(t), Tok::Punct(":"), Tok::Word(r)] => {
                self.x86_register(r, tokens[2].span.clone())?;
                format!("{t}:{r}")
            }
            [Tok::Word(p), Tok::Punct(":"), Tok::Word(r)]
                if p.len() > 1
                    && p.starts_with('P')
                    && p[1..].bytes().all(|b| b.is_ascii_digit()) =>
            {
                self.x86_register(r, tokens[2].span.clone())?;
                format!("{}:{r}", &p[1..])
            }
            [Tok::Word(_), Tok::Word(_), ..] => {
                let found = &self.text()[span.clone()];
                return Err(self
                    .error(span, format!("expected a location, found `{found}`"))
                    .with_help(
                        "typed declarations (`int x = 0`) are not supported; write `x = 0`",
                    ));
            }
            _ => {
                return Err(self.error(
                    span.clone(),
                    format!(
                        "expected a location (`x` or `0:EAX`), found `{}`",
                        &self.text()[span]
                    ),
                ));
            }
        };
        Ok(if self.text()[span.clone()] == text {
            self.spans.verbatim(text, span)
        } else {
            self.spans.replacing(text, span)
        })
    }

    /// An integer value, possibly negative. `at` is where to point if there is none.
    fn integer(&self, tokens: &[Token<'_>], at: usize) -> Parsing<Val> {
        let toks: Vec<Tok<'_>> = tokens.iter().map(|t| t.tok).collect();
        let (negative, digits) = match toks.as_slice() {
            [Tok::Int(d)] => (false, *d),
            [Tok::Punct("-"), Tok::Int(d)] => (true, *d),
            [] => return Err(self.error(at..at, "expected an integer value, found nothing")),
            _ => {
                let span = tokens[0].span.start..tokens[tokens.len() - 1].span.end;
                let found = &self.text()[span.clone()];
                let help = if found.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    "hbsim has no pointers: registers and variables hold integers"
                } else {
                    "values are integers such as `1` or `-1`"
                };
                return Err(self
                    .error(span, format!("expected an integer value, found `{found}`"))
                    .with_help(help));
            }
        };
        let span = tokens[0].span.start..tokens[tokens.len() - 1].span.end;
        let text = if negative {
            format!("-{digits}")
        } else {
            digits.to_string()
        };
        text.parse::<Val>()
            .map_err(|_| self.error(span, format!("expected a 64-bit integer, found `{text}`")))
    }

    /// Where the condition section starts (its first keyword, or the end of the
    /// file) and where it ends (`<<` or the end of the file), as herd7's
    /// splitter finds them: outside comments and strings.
    fn find_constraint(&self, from: usize) -> Parsing<(usize, usize)> {
        let text = self.text();
        let bytes = text.as_bytes();
        let mut i = from;
        let mut start = None;
        while i < text.len() {
            let c = bytes[i];
            if text[i..].starts_with("(*") {
                i = skip_comment(text, i, text.len()).map_err(|e| self.error(e.span, e.message))?;
            } else if c == b'"' {
                i = text[i + 1..].find('"').map_or(text.len(), |o| i + o + 2);
            } else if start.is_some() && text[i..].starts_with("<<") {
                break;
            } else if c.is_ascii_alphabetic() || c == b'_' {
                let word_end = text[i..]
                    .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                    .map_or(text.len(), |o| i + o);
                let word = &text[i..word_end];
                if start.is_none()
                    && matches!(
                        word,
                        "final"
                            | "forall"
                            | "exists"
                            | "locations"
                            | "filter"
                            | "cases"
                            | "observed"
                            | "Observed"
                    )
                {
                    start = Some(i);
                }
                i = word_end;
            } else if c == b'~' && start.is_none() {
                let after = text[i + 1..].trim_start_matches([' ', '\t']);
                if after.starts_with("exists") {
                    start = Some(i);
                }
                i += 1;
            } else {
                i += text[i..].chars().next().map_or(1, char::len_utf8);
            }
        }
        Ok(match start {
            Some(s) => (s, i.min(text.len())),
            None => (text.len(), text.len()),
        })
    }

    /// The program: a row of thread names `P0 | P1 ;`, then rows of
    /// instructions, one column per thread, each row ending in `;`.
    fn program(&mut self, range: Range<usize>) -> Parsing<Vec<Vec<Instr>>> {
        let tokens =
            tokenize(self.text(), range.clone()).map_err(|e| self.error(e.span, e.message))?;
        let mut rows: Vec<&[Token<'_>]> = Vec::new();
        let mut row_start = 0;
        for (i, t) in tokens.iter().enumerate() {
            // `LOCK;` prefixes the next instruction rather than ending the row.
            let after_lock = i > 0
                && matches!(tokens[i - 1].tok, Tok::Word(w) if w.eq_ignore_ascii_case("lock"));
            if t.tok == Tok::Punct(";") && !after_lock {
                rows.push(&tokens[row_start..i]);
                row_start = i + 1;
            }
        }
        if row_start < tokens.len() {
            let rest = &tokens[row_start..];
            let span = rest[0].span.start..rest[rest.len() - 1].span.end;
            return Err(self.error(
                span,
                "expected `;` at the end of this row of the program, found the end of the program",
            ));
        }
        // herd7 allows a `;` before the thread names (as in `{ ... };`).
        if rows.first().is_some_and(|r| r.is_empty()) {
            rows.remove(0);
        }
        let Some((names, code_rows)) = rows.split_first() else {
            return Err(self
                .error(range.start..range.start, "expected the program: a row of threads `P0 | P1 ;` and rows of instructions")
                .with_help("a herd7 test reads: `X86 NAME`, `{ initial state }`, the program, then the condition"));
        };
        let columns: Vec<&[Token<'_>]> = names.split(|t| t.tok == Tok::Punct("|")).collect();
        for (i, column) in columns.iter().enumerate() {
            let expected = format!("P{i}");
            match column {
                [
                    Token {
                        tok: Tok::Word(w), ..
                    },
                ] if *w == expected => {}
                _ => {
                    let span = span_or(column, &range);
                    let found = &self.text()[span.clone()];
                    return Err(self
                        .error(
                            span,
                            format!("expected the thread name `{expected}`, found `{found}`"),
                        )
                        .with_help(
                            "the program starts with its threads in order: `P0 | P1 | ... ;`",
                        ));
                }
            }
        }
        let mut threads: Vec<Vec<Instr>> = vec![Vec::new(); columns.len()];
        let scratch = x86::scratch_register(self.text());
        for row in code_rows {
            let cells: Vec<&[Token<'_>]> = row.split(|t| t.tok == Tok::Punct("|")).collect();
            if cells.len() != columns.len() {
                return Err(self.error(
                    span_or(row, &range),
                    format!(
                        "expected {} columns separated by `|`, one per thread, found {}",
                        columns.len(),
                        cells.len()
                    ),
                ));
            }
            for (t, cell) in cells.iter().enumerate() {
                match x86::instruction(self.text(), cell, &mut self.spans, &scratch) {
                    Ok(Some(instr)) => threads[t].push(instr),
                    Ok(None) => {}
                    Err(e) => {
                        let error = self.error(e.span, e.message);
                        return Err(match e.help {
                            Some(help) => error.with_help(help),
                            None => error,
                        });
                    }
                }
            }
        }
        Ok(threads)
    }

    /// herd7 starts every register at 0, so an instruction, a condition or
    /// `locations` may read a register its thread never writes; hbsim wants
    /// such a register in `init` (it reports only registers a thread writes or
    /// `init` sets, and rejects reading one it does neither to), so it gets an
    /// explicit `T:REG = 0` there, pointing at its first mention.
    /// `registers` are the condition's mentions, as (thread, register, span).
    fn implicit_registers(
        &mut self,
        threads: &[Vec<Instr>],
        init: &mut Vec<(Lit, Val)>,
        registers: Vec<(usize, String, Range<usize>)>,
    ) {
        let mut mentions = Vec::new();
        for (t, code) in threads.iter().enumerate() {
            for (lit, inner, reg) in register_reads(code) {
                mentions.push((t, reg, self.spans.span_within(&lit, inner)));
            }
        }
        mentions.extend(registers);
        for (t, reg, span) in mentions {
            let Some(code) = threads.get(t) else {
                continue; // lowering reports the unknown thread
            };
            let key = format!("{t}:{reg}");
            if !writes_register(code, &reg) && !init.iter().any(|(k, _)| k.text == key) {
                init.push((self.spans.replacing(key, span), 0));
            }
        }
    }

    /// The condition section: `[locations [...]] quantifier proposition [;]
    /// [with ...]`.
    fn constraint(&mut self, range: Range<usize>) -> Parsing<Constraint> {
        let tokens =
            tokenize(self.text(), range.clone()).map_err(|e| self.error(e.span, e.message))?;
        let mut i = 0;
        let mut locations = Vec::new();
        let mut registers = Vec::new();
        if tokens.first().map(|t| t.tok) == Some(Tok::Word("locations")) {
            let open = tokens.get(1);
            if open.map(|t| t.tok) != Some(Tok::Punct("[")) {
                let at = open.map_or(tokens[0].span.end..tokens[0].span.end, |t| t.span.clone());
                let found = open.map_or("nothing".to_string(), |t| {
                    format!("`{}`", &self.text()[t.span.clone()])
                });
                return Err(
                    self.error(at, format!("expected `[` after `locations`, found {found}"))
                );
            }
            // `[x]` inside the list is a location too: find the `]` closing the list.
            let Some(close) = closing_bracket(&tokens, 1) else {
                return Err(self.error(
                    tokens[1].span.clone(),
                    "expected `]` closing the locations, found none",
                ));
            };
            registers.extend(register_mentions(&tokens[2..close]));
            for entry in tokens[2..close].split(|t| t.tok == Tok::Punct(";")) {
                if !entry.is_empty() {
                    let lit = self.location(entry, tokens[1].span.end)?;
                    locations.push(lit);
                }
            }
            i = close + 1;
        }
        let Some(first) = tokens.get(i) else {
            let at = tokens.last().map_or(range.start, |t| t.span.end);
            return Err(self
                .error(at..at, "expected a condition (`exists`, `~exists`, `forall` or `final`), found the end of the file"));
        };
        let (quantifier, quantifier_span, prop_start) = match (
            first.tok,
            tokens.get(i + 1).map(|t| t.tok),
        ) {
            (Tok::Word("exists"), _) => ("exists", first.span.clone(), i + 1),
            (Tok::Word("forall"), _) => ("forall", first.span.clone(), i + 1),
            (Tok::Word("final"), _) => ("exists", first.span.clone(), i + 1),
            (Tok::Punct("~"), Some(Tok::Word("exists"))) => {
                ("~exists", first.span.start..tokens[i + 1].span.end, i + 2)
            }
            (Tok::Word(w @ ("filter" | "cases" | "observed" | "Observed")), _) => {
                return Err(self
                    .error(first.span.clone(), format!("expected `exists`, `~exists`, `forall` or `final`, found herd7's `{w}`, which hbsim does not support"))
                    .with_help("conditions are `exists`, `~exists`, `forall` or `final`, optionally after `locations [...]`"));
            }
            (other, _) => {
                return Err(self.error(
                    first.span.clone(),
                    format!(
                        "expected `exists`, `~exists`, `forall` or `final`, found {}",
                        other.describe()
                    ),
                ));
            }
        };
        let prop_end = tokens[prop_start..]
            .iter()
            .position(|t| t.tok == Tok::Punct(";") || t.tok == Tok::Word("with"))
            .map_or(tokens.len(), |p| prop_start + p);
        if prop_end == prop_start {
            let at = quantifier_span.end;
            return Err(self.error(
                at..at,
                format!(
                    "expected a proposition after `{quantifier}`, found {}",
                    tokens
                        .get(prop_start)
                        .map_or("nothing".to_string(), |t| t.tok.describe())
                ),
            ));
        }
        registers.extend(register_mentions(&tokens[prop_start..prop_end]));
        let condition =
            self.condition_literal(quantifier, quantifier_span, &tokens[prop_start..prop_end]);
        let mut j = prop_end;
        if tokens.get(j).map(|t| t.tok) == Some(Tok::Punct(";")) {
            j += 1;
        }
        let mut with = Vec::new();
        if tokens.get(j).map(|t| t.tok) == Some(Tok::Word("with")) {
            let start = tokens[j].span.start;
            j += 1;
            // `model: kind;` clauses.
            loop {
                let toks: Vec<Tok<'_>> = tokens[j..].iter().take(5).map(|t| t.tok).collect();
                let used = match toks.as_slice() {
                    [
                        Tok::Word(_),
                        Tok::Punct(":"),
                        Tok::Punct("~"),
                        Tok::Word(_),
                        Tok::Punct(";"),
                        ..,
                    ] => 5,
                    [
                        Tok::Word(_),
                        Tok::Punct(":"),
                        Tok::Word(_),
                        Tok::Punct(";"),
                        ..,
                    ] => 4,
                    _ => break,
                };
                j += used;
            }
            let end = tokens.get(j - 1).map_or(start, |t| t.span.end);
            with = self.text()[start..end]
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect();
        }
        if let Some(extra) = tokens.get(j) {
            return Err(self.error(
                extra.span.clone(),
                format!("expected the end of the test after the condition, found {}", extra.tok.describe()),
            )
            .with_help("only `with model: kind;` clauses, comments and `<< ... >>` blocks may follow the condition"));
        }
        Ok(Constraint {
            condition,
            locations,
            with,
            registers,
        })
    }

    /// The condition as hbsim reads it: the quantifier (`final` becomes
    /// `exists`, `~ exists` becomes `~exists`), a space, then the proposition's
    /// tokens as written, with every run of spaces, newlines and comments made
    /// one space.
    fn condition_literal(
        &mut self,
        quantifier: &str,
        quantifier_span: Range<usize>,
        prop: &[Token<'_>],
    ) -> Lit {
        let mut text = quantifier.to_string();
        // A quantifier spelt otherwise (`final`, `~ exists`) maps onto its whole text.
        let mut pieces = vec![(0..text.len(), quantifier_span.clone())];
        text.push(' ');
        for (k, token) in prop.iter().enumerate() {
            if k > 0 && prop[k - 1].span.end < token.span.start {
                text.push(' ');
            }
            let start = text.len();
            text.push_str(&self.text()[token.span.clone()]);
            pieces.push((start..text.len(), token.span.clone()));
        }
        let whole = quantifier_span.start..prop.last().map_or(quantifier_span.end, |t| t.span.end);
        self.spans.pieces(text, whole, pieces)
    }
}

/// What the condition section holds.
struct Constraint {
    condition: Lit,
    locations: Vec<Lit>,
    /// The `with` clauses, as written.
    with: Vec<String>,
    /// Registers named by the condition or `locations`: (thread, register, span).
    registers: Vec<(usize, String, Range<usize>)>,
}

/// The x86 registers `tokens` name as `T:REG` or `PT:REG`, with their threads
/// and spans.
fn register_mentions(tokens: &[Token<'_>]) -> Vec<(usize, String, Range<usize>)> {
    tokens
        .windows(3)
        .filter_map(|w| {
            let thread = match w[0].tok {
                Tok::Int(t) => t,
                Tok::Word(p) if p.len() > 1 && p.starts_with('P') => &p[1..],
                _ => return None,
            };
            match (w[1].tok, w[2].tok) {
                (Tok::Punct(":"), Tok::Word(reg))
                    if crate::syntax::X86_REGISTERS.contains(&reg) =>
                {
                    let t = thread.parse::<usize>().ok()?;
                    Some((t, reg.to_string(), w[0].span.start..w[2].span.end))
                }
                _ => None,
            }
        })
        .collect()
}

/// The index of the `]` closing the `[` at `open`, counting nested brackets.
fn closing_bracket(tokens: &[Token<'_>], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (k, t) in tokens.iter().enumerate().skip(open) {
        match t.tok {
            Tok::Punct("[") => depth += 1,
            Tok::Punct("]") => {
                depth -= 1;
                if depth == 0 {
                    return Some(k);
                }
            }
            _ => {}
        }
    }
    None
}

/// The byte range a list of tokens covers, or the start of `range` if empty.
fn span_or(tokens: &[Token<'_>], range: &Range<usize>) -> Range<usize> {
    match (tokens.first(), tokens.last()) {
        (Some(a), Some(b)) => a.span.start..b.span.end,
        _ => range.start..range.start,
    }
}

/// Whether an instruction of `code` (as imported: no nesting) writes
/// register `reg`.
fn writes_register(code: &[Instr], reg: &str) -> bool {
    code.iter().any(|instr| match instr {
        Instr::Load(r, _)
        | Instr::AtomicLoad(r, _)
        | Instr::Xchg(r, ..)
        | Instr::FetchAdd(r, ..)
        | Instr::Cas(r, ..)
        | Instr::Let(r, _) => r.text == reg,
        _ => false,
    })
}

/// Every register an operand of `code` reads: the operand's literal, the
/// register's range in it, and its name. Operands that do not parse are
/// left to lowering, which reports them.
fn register_reads(code: &[Instr]) -> Vec<(Lit, Range<usize>, String)> {
    let operands = code.iter().flat_map(|instr| match instr {
        Instr::Store(_, v) | Instr::Xchg(_, _, v) | Instr::FetchAdd(_, _, v) | Instr::Let(_, v) => {
            vec![v]
        }
        Instr::Cas(_, _, expected, new) => vec![expected, new],
        _ => Vec::new(),
    });
    let mut reads = Vec::new();
    for operand in operands {
        if let Operand::Expr(lit) = operand {
            let mut record = |name: &str, span: Range<usize>| {
                reads.push((lit.clone(), span, name.to_string()));
                Ok(Reg(0))
            };
            let _ = parse_expr(&lit.text, &mut record);
        }
    }
    reads
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(src: &str) -> HerdFile {
        let source: Arc<str> = Arc::from(src);
        match parse(&source, "t.litmus") {
            Ok(file) => file,
            Err(e) => panic!("{e}"),
        }
    }

    fn parse_err(src: &str) -> Box<SourceError> {
        let source: Arc<str> = Arc::from(src);
        parse(&source, "t.litmus").expect_err("the file is rejected")
    }

    fn code(file: &HerdFile) -> Vec<Vec<String>> {
        let Threads::Unnamed(threads) = &file.file.threads else {
            panic!("herd threads are unnamed")
        };
        threads
            .iter()
            .map(|t| t.iter().map(Instr::source).collect())
            .collect()
    }

    #[test]
    fn reads_the_diy_style() {
        let file = parse_ok(
            "X86 SB\n\"Fre PodWR Fre PodWR\"\nCycle=Fre PodWR Fre PodWR\n{ x=0; y=0; }\n P0          | P1          ;\n MOV [x],$1  | MOV [y],$1  ;\n MOV EAX,[y] | MOV EAX,[x] ;\nlocations [x;y;]\nexists\n(0:EAX=0 /\\ 1:EAX=0)\n",
        );
        assert_eq!(file.file.name.text, "SB");
        assert_eq!(file.file.doc.as_ref().unwrap().text, "Fre PodWR Fre PodWR");
        assert_eq!(
            file.header,
            vec![
                "X86 SB",
                "\"Fre PodWR Fre PodWR\"",
                "Cycle=Fre PodWR Fre PodWR"
            ]
        );
        assert_eq!(
            code(&file),
            vec![
                vec!["Store(\"x\", 1)", "Load(\"EAX\", \"y\")"],
                vec!["Store(\"y\", 1)", "Load(\"EAX\", \"x\")"]
            ]
        );
        assert_eq!(file.file.condition.text, "exists (0:EAX=0 /\\ 1:EAX=0)");
        let locations: Vec<_> = file
            .file
            .locations
            .iter()
            .map(|l| l.text.as_str())
            .collect();
        assert_eq!(locations, vec!["x", "y"]);
    }

    #[test]
    fn reads_the_legacy_style() {
        let src = "X86 iwp2.8.b  (iwpTwoEightb) \"Stores are not reordered with locks\"\n{x = 0; y = 0; P0:EAX = 1};\n\n        P0         |       P1        ;\n  xchg [x], EAX    |  mov EBX, [y]   ;\n  mov [y], 1       |  mov ECX, [x]     ;\n\nfinal (P1:EBX = 1 /\\ P1:ECX = 0 );\nwith\ntso: ~exists;\ncc: exists;\n\n<<\nshow 0\n>>\n(* trailing *)\n";
        let file = parse_ok(src);
        assert_eq!(file.file.name.text, "iwp2.8.b");
        let init: Vec<_> = file
            .file
            .init
            .0
            .iter()
            .map(|(k, v)| (k.text.as_str(), *v))
            .collect();
        assert_eq!(init, vec![("x", 0), ("y", 0), ("0:EAX", 1)]);
        assert_eq!(
            code(&file),
            vec![
                vec!["Xchg(\"EAX\", \"x\", \"EAX\")", "Store(\"y\", 1)"],
                vec!["Load(\"EBX\", \"y\")", "Load(\"ECX\", \"x\")"]
            ]
        );
        assert_eq!(
            file.file.condition.text,
            "exists (P1:EBX = 1 /\\ P1:ECX = 0 )"
        );
        assert_eq!(file.with, vec!["with", "tso: ~exists;", "cc: exists;"]);
        // `final` maps back onto its own text.
        let cond = &file.file.condition;
        use crate::syntax::literal::LiteralSpans;
        assert_eq!(&src[file.spans.span_within(cond, 0..6)], "final");
        assert_eq!(&src[file.spans.span_within(cond, 8..14)], "P1:EBX");
    }

    #[test]
    fn a_register_read_but_never_written_starts_at_0_in_init() {
        // herd7 starts every register at 0; hbsim wants it said in `init`.
        // P0 only reads EAX and ECX (stores them), P1's EBX is only named by
        // the condition: they get entries. P1 writes its ECX: it gets none.
        let file = parse_ok(
            "X86 T\n{ x=0; }\n P0          | P1          ;\n MOV [x],EAX | MOV ECX,[x] ;\n MOV [y],ECX | MOV [y],ECX ;\nexists (1:EBX=0)\n",
        );
        let init: Vec<_> = (file.file.init.0.iter())
            .map(|(k, v)| (k.text.as_str(), *v))
            .collect();
        assert_eq!(
            init,
            vec![("x", 0), ("0:EAX", 0), ("0:ECX", 0), ("1:EBX", 0)]
        );
    }

    #[test]
    fn the_scratch_register_avoids_the_tests_own_words() {
        // A variable named `scratch` (found by a review: the hidden register
        // clashed with it and the valid test was rejected).
        let file = parse_ok(
            "X86 S\n{ scratch=0; x=0; }\n P0 | P1 ;\n LOCK ADD [x],$1 | MOV [scratch],$1 ;\nexists (x=1 /\\ scratch=1)\n",
        );
        assert_eq!(code(&file)[0], vec!["FetchAdd(\"scratch1\", \"x\", 1)"]);
        assert_eq!(
            x86::scratch_register("scratch scratch1 scratch3"),
            "scratch2"
        );
    }

    #[test]
    fn maps_locked_read_modify_writes() {
        let file = parse_ok(
            "X86 RMW\n{ }\n P0 ;\n LOCK XADD [x],EAX ;\n LOCK; ADD [x],$2 ;\n lock inc [x] ;\n LOCK DEC [x] ;\n LOCK CMPXCHG [x],EBX ;\n MOV EBX,EAX ;\n ADD EBX,$-1 ;\n MFENCE ;\n~exists (x=0)\n",
        );
        assert_eq!(
            code(&file)[0],
            vec![
                "FetchAdd(\"EAX\", \"x\", \"EAX\")",
                "FetchAdd(\"scratch\", \"x\", 2)",
                "FetchAdd(\"scratch\", \"x\", 1)",
                "FetchAdd(\"scratch\", \"x\", -1)",
                "Cas(\"EAX\", \"x\", \"EAX\", \"EBX\")",
                "Let(\"EBX\", \"EAX\")",
                "Let(\"EBX\", \"EBX + -1\")",
                "Fence",
            ]
        );
        let Threads::Unnamed(threads) = &file.file.threads else {
            unreachable!()
        };
        assert!(matches!(
            threads[0][1],
            Instr::FetchAdd(_, _, Operand::Int(2))
        ));
    }

    #[test]
    fn errors_name_the_line_column_and_text() {
        let src = "X86 T\n{ }\n P0          ;\n MOV [x],$1  ;\n CMP EAX,$1  ;\nexists (x=1)\n";
        let e = parse_err(src);
        assert_eq!((e.line, e.column), (5, 2));
        assert!(
            e.message
                .contains("expected a supported instruction, found `CMP EAX,$1`"),
            "{}",
            e.message
        );
        assert_eq!(&src[e.span()], "CMP EAX,$1");
        let e = parse_err("X86 T\n{ }\n P0 ;\n ADD [x],$1 ;\nexists (x=1)\n");
        assert!(
            e.message.contains(
                "expected `LOCK` before a read-modify-write of memory, found `ADD [x],$1`"
            ),
            "{}",
            e.message
        );
        // Each says what it expected and what it found instead.
        for broken in [
            "X86 T (title\n{ }\n P0 ;\n MOV [x],$1 ;\nexists (x=1)\n",
            "X86 T\n\"doc\n{ }\n P0 ;\n MOV [x],$1 ;\nexists (x=1)\n",
            "X86 T\n{ x=0;\n",
            "X86 T\n{ x=0; y }\n P0 ;\n MOV [x],$1 ;\nexists (x=1)\n",
            "X86 T\n{ }\n P0 ;\n MOV [x],$1\nexists (x=1)\n",
            "X86 T\n{ }\n P0 ;\n MOV [x],$1 ;\nlocations x;\nexists (x=1)\n",
            "X86 T\n{ }\n P0 ;\n MOV [x],$1 ;\nlocations [x;\nexists (x=1)\n",
            "X86 T\n{ }\n P0 ;\n MOV [x],$1 ;\nexists\n",
            "X86 T\n{ }\n P0 ;\n MOV [x],[y] ;\nexists (x=1)\n",
            "X86 T\n{ }\n P0 ;\n MOV [$],$1 ;\nexists (x=1)\n",
        ] {
            let e = parse_err(broken);
            assert!(
                e.message.contains("expected") && e.message.contains("found"),
                "{broken:?}: {}",
                e.message
            );
        }
        let e = parse_err("X86 T\n{ }\n P0 | P1 ;\n MOV [x],$1 ;\nexists (x=1)\n");
        assert!(e.message.contains("expected 2 columns"), "{}", e.message);
        let e = parse_err("X86 T\n{ }\n P1 ;\n MOV [x],$1 ;\nexists (x=1)\n");
        assert!(
            e.message.contains("expected the thread name `P0`"),
            "{}",
            e.message
        );
        let e = parse_err("X86 T\n{ x = y; }\n P0 ;\n MOV [x],$1 ;\nexists (x=1)\n");
        assert!(
            e.message.contains("expected an integer value, found `y`"),
            "{}",
            e.message
        );
        let e = parse_err("X86 T\n{ }\n P0 ;\n MOV [x],$1 ;\n");
        assert!(e.message.contains("expected a condition"), "{}", e.message);
        let e = parse_err("X86 T\n{ }\n P0 ;\n MOV [x],$1 ;\nexists (x=1); junk\n");
        assert!(
            e.message.contains("expected the end of the test"),
            "{}",
            e.message
        );
        let e = parse_err("AArch64 T\n{ }\n");
        assert!(
            e.message.contains("expected the architecture `X86`"),
            "{}",
            e.message
        );
        let e = parse_err("X86 T\nsome words\n{ }\n");
        assert!(
            e.message.contains("expected a `key=value` line"),
            "{}",
            e.message
        );
    }

    #[test]
    fn registers_named_but_never_written_start_at_zero() {
        let file = parse_ok(
            "X86 T\n{ 1:EBX=2; }\n P0 | P1 ;\n MOV EAX,[x] | MOV [x],$1 ;\nlocations [1:ECX;]\nexists (0:EAX=0 /\\ P0:EBX=0 /\\ 1:EBX=2 /\\ 7:EAX=1)\n",
        );
        let init: Vec<_> = file
            .file
            .init
            .0
            .iter()
            .map(|(k, v)| (k.text.as_str(), *v))
            .collect();
        // 0:EAX is written, 1:EBX initialised; thread 7 does not exist (lowering says so).
        assert_eq!(init, vec![("1:EBX", 2), ("1:ECX", 0), ("0:EBX", 0)]);
    }

    #[test]
    fn detects_herd_files_by_their_first_line() {
        assert!(looks_like_herd("X86 SB\n{ }"));
        assert!(looks_like_herd("\n  X86_64 A000\n"));
        assert!(!looks_like_herd("// SB\nLitmus(\n"));
        assert!(!looks_like_herd("Litmus (name: \"x\")"));
        assert!(!looks_like_herd("(name: \"x\")"));
        // An architecture alone: a herd7 file missing its test name.
        assert!(looks_like_herd("X86\n{ x=0; }"));
        assert!(!looks_like_herd("Litmus\n("));
    }
}

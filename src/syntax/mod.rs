//! Reading litmus files: RON text or a herd7 X86 `.litmus` file → AST →
//! validated [`Program`].
//!
//! The RON format is documented in docs/format.md, the herd7 dialect in
//! docs/herd.md. Both front ends produce the same AST, so lowering (and every
//! later stage) is shared. Every error names the file, line and column, says what
//! was expected and what was found, and underlines the text.

mod ast;
mod build;
mod condition;
mod error;
mod expr;
mod herd;
mod lexer;
mod literal;
mod lower;
mod print;

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

pub use build::{LitmusBuilder, SelectBuilder, ThreadBuilder, Value};
pub use error::{LoadError, SourceError};

use crate::ir::{Observable, Program};

/// herd7's X86 general-purpose registers, in herd7's order (the order of the
/// `reg` type in herdtools7's `lib/X86Base.ml`, which orders its final states).
pub const X86_REGISTERS: &[&str] = &["EAX", "EBX", "ECX", "EDX", "ESI", "EDI", "EBP", "ESP"];

/// The language a litmus file is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceFormat {
    /// hbsim's RON format (docs/format.md).
    Ron,
    /// herd7's X86 `.litmus` format (docs/herd.md).
    Herd,
}

impl SourceFormat {
    /// Which format `source` is written in: herd7 if its first line starts with
    /// an architecture and a test name (`X86 SB`), else RON.
    pub fn detect(source: &str) -> SourceFormat {
        let source = source.strip_prefix('\u{feff}').unwrap_or(source);
        if herd::looks_like_herd(source) {
            SourceFormat::Herd
        } else {
            SourceFormat::Ron
        }
    }
}

/// A litmus test read from a file, with what is needed to point at its text later.
#[derive(Debug)]
pub struct LitmusTest {
    /// The validated program.
    pub program: Program,
    /// The file name used in messages.
    pub file_name: String,
    /// The format the file was written in.
    pub format: SourceFormat,
    /// Observables the file asks to show besides those of the condition
    /// (herd7's `locations [...]`), in order.
    pub locations: Vec<Observable>,
    source: Arc<str>,
    expectation_spans: Vec<Range<usize>>,
}

impl LitmusTest {
    /// An error pointing at the model name of expectation `index`
    /// (an index into `program.expectations`).
    pub fn expectation_error(&self, index: usize, message: impl Into<String>) -> Box<SourceError> {
        let span = self.expectation_spans.get(index).cloned().unwrap_or(0..0);
        SourceError::new(&self.file_name, &self.source, span, message, "this model")
    }
}

/// Parses a litmus test from RON text. `file_name` is used in error messages.
///
/// # Errors
/// A [`LoadError::Source`] for malformed RON or an invalid program.
///
/// # Example
/// ```
/// let test = hbsim::syntax::parse_str(r#"
///     Litmus(
///         name: "SB",
///         threads: [
///             [ Store("x", 1), Load("r0", "y") ],
///             [ Store("y", 1), Load("r0", "x") ],
///         ],
///         condition: "exists (0:r0=0 /\\ 1:r0=0)",
///     )"#, "sb.ron").unwrap();
/// assert_eq!(test.program.threads.len(), 2);
/// assert_eq!(test.program.locs.len(), 2);
/// ```
pub fn parse_str(source: &str, file_name: &str) -> Result<LitmusTest, LoadError> {
    let source: Arc<str> = Arc::from(source.strip_prefix('\u{feff}').unwrap_or(source));
    let file = parse_ron::<ast::LitmusFile>(&source, file_name)?;
    let lowered = lower::lower(file, file_name, &source)?;
    Ok(LitmusTest::new(
        lowered,
        file_name,
        SourceFormat::Ron,
        source,
    ))
}

/// Parses a herd7 X86 litmus test (docs/herd.md). `file_name` is used in error
/// messages, which point into `source`.
///
/// # Errors
/// A [`LoadError::Source`] for a malformed file, an unsupported instruction or
/// an invalid program.
///
/// # Example
/// ```
/// let test = hbsim::syntax::parse_herd_str("X86 SB
/// { x=0; y=0; }
///  P0          | P1          ;
///  MOV [x],$1  | MOV [y],$1  ;
///  MOV EAX,[y] | MOV EAX,[x] ;
/// exists (0:EAX=0 /\\ 1:EAX=0)
/// ", "SB.litmus").unwrap();
/// assert_eq!(test.program.name, "SB");
/// assert_eq!(test.program.threads.len(), 2);
/// ```
pub fn parse_herd_str(source: &str, file_name: &str) -> Result<LitmusTest, LoadError> {
    let source: Arc<str> = Arc::from(source.strip_prefix('\u{feff}').unwrap_or(source));
    let parsed = herd::parse(&source, file_name)?;
    let lowered = lower::lower_with(parsed.file, file_name, &source, &parsed.spans)?;
    Ok(LitmusTest::new(
        lowered,
        file_name,
        SourceFormat::Herd,
        source,
    ))
}

/// Parses a litmus test in either format, chosen by [`SourceFormat::detect`].
///
/// # Errors
/// As [`parse_str`] or [`parse_herd_str`].
pub fn parse_source(source: &str, file_name: &str) -> Result<LitmusTest, LoadError> {
    match SourceFormat::detect(source) {
        SourceFormat::Ron => parse_str(source, file_name),
        SourceFormat::Herd => parse_herd_str(source, file_name),
    }
}

/// The RON litmus file equivalent to a herd7 X86 test: the same name, doc string,
/// initial state, threads, condition and `locations`, after a comment naming
/// `file_name` and quoting herd7's header and metadata lines (and any `with`
/// clauses). Reading it back gives the same [`Program`].
///
/// # Errors
/// As [`parse_herd_str`]: the test is checked before it is converted.
pub fn convert_herd(source: &str, file_name: &str) -> Result<String, LoadError> {
    let source: Arc<str> = Arc::from(source.strip_prefix('\u{feff}').unwrap_or(source));
    let parsed = herd::parse(&source, file_name)?;
    let file = parsed.file.clone();
    lower::lower_with(parsed.file, file_name, &source, &parsed.spans)?;
    let mut comment = vec![format!(
        "Converted by `hbsim convert` from the herd7 test {file_name}:"
    )];
    comment.extend(parsed.header.iter().cloned());
    comment.extend(parsed.with.iter().cloned());
    Ok(print::print_ron(&file, &comment))
}

impl LitmusTest {
    fn new(
        lowered: lower::Lowered,
        file_name: &str,
        format: SourceFormat,
        source: Arc<str>,
    ) -> Self {
        LitmusTest {
            program: lowered.program,
            file_name: file_name.to_string(),
            format,
            locations: lowered.locations,
            source,
            expectation_spans: lowered.expectation_spans,
        }
    }
}

/// Parses a proposition over a program's outcomes, such as the outcome
/// filter `0:r0=0 /\ 1:r0=0` or `deadlock` of `hbsim explain`. `origin` names where the text
/// came from in error messages (`--outcome`).
///
/// # Errors
/// A [`SourceError`] pointing into `text`.
pub fn parse_proposition(
    program: &Program,
    text: &str,
    origin: &str,
) -> Result<crate::ir::Prop, Box<SourceError>> {
    lower::parse_proposition(program, text).map_err(|e| text_error(text, origin, e))
}

/// Parses an outcome line over a program's final values, such as
/// `0:r0=1; 1:r0=0; x=1;`, into (observable, value) pairs. `origin` names where
/// the text came from in error messages.
///
/// # Errors
/// A [`SourceError`] pointing into `text`.
pub fn parse_outcome_line(
    program: &Program,
    text: &str,
    origin: &str,
) -> Result<Vec<(Observable, crate::ir::Val)>, Box<SourceError>> {
    lower::parse_outcome_line(program, text).map_err(|e| text_error(text, origin, e))
}

/// Parses expected outcome lines as a test file's `outcomes` gives them
/// (`0:r0=1; x=2;`, `deadlock: main`, `leak: P1`, `never terminates: P1`,
/// `panic: P1`) over the names of `program`; `origin` names the lines in
/// errors.
///
/// # Errors
/// The first line that does not parse, or that names other registers and
/// variables than the first final outcome.
pub fn parse_expected_outcomes(
    program: &Program,
    lines: &[&str],
    origin: &str,
) -> Result<crate::ir::ExpectedOutcomes, Box<SourceError>> {
    lower::parse_expected_outcomes(program, lines).map_err(|(i, mut e)| {
        // Shown as one text, a line each, so the error names its line.
        let offset: usize = lines[..i].iter().map(|l| l.len() + 1).sum();
        e.span = e.span.start + offset..e.span.end + offset;
        text_error(&lines.join("\n"), origin, e)
    })
}

/// Reads RON litmus text and writes it back in hbsim's canonical layout (the
/// one `hbsim convert` uses). Parsing the result gives the same [`Program`].
///
/// # Errors
/// As [`parse_str`]: the test is checked before it is printed.
pub fn reformat(source: &str, file_name: &str) -> Result<String, LoadError> {
    let text: Arc<str> = Arc::from(source.strip_prefix('\u{feff}').unwrap_or(source));
    let file = parse_ron::<ast::LitmusFile>(&text, file_name)?;
    let printed = print::print_ron(&file, &[]);
    lower::lower(file, file_name, &text)?;
    Ok(printed)
}

/// A [`SourceError`] for an error inside a short text given on its own.
fn text_error(text: &str, origin: &str, e: lexer::TextError) -> Box<SourceError> {
    let source: Arc<str> = Arc::from(text);
    let error = SourceError::new(origin, &source, e.span, e.message, "here");
    match e.help {
        Some(help) => error.with_help(help),
        None => error,
    }
}

/// Reads and parses a litmus file, RON or herd7 ([`parse_source`]).
///
/// # Errors
/// [`LoadError::Io`] if the file cannot be read, otherwise as [`parse_str`].
pub fn parse_file(path: &Path) -> Result<LitmusTest, LoadError> {
    let source = read_file(path)?;
    parse_source(&source, &path.display().to_string())
}

/// Reads a litmus test, RON or herd7 ([`parse_source`]), from `reader` to
/// its end (standard input, say); `name` stands for it in messages.
///
/// # Errors
/// [`LoadError::Io`] if `reader` fails, otherwise as [`parse_str`].
///
/// # Example
/// ```
/// let input = "X86 T\n{ x=0; }\n P0 ;\n MOV [x],$1 ;\nexists (x=1)\n";
/// let test = hbsim::syntax::parse_reader(input.as_bytes(), "<stdin>").unwrap();
/// assert_eq!(test.file_name, "<stdin>");
/// assert_eq!(test.program.threads.len(), 1);
/// ```
pub fn parse_reader(mut reader: impl std::io::Read, name: &str) -> Result<LitmusTest, LoadError> {
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|error| LoadError::Io {
            path: name.into(),
            error,
        })?;
    parse_source(&decode(bytes, name)?, name)
}

/// Reads a file as UTF-8 text, without a leading byte order mark. A byte
/// that is not UTF-8 is an error at its line and column.
pub(crate) fn read_file(path: &Path) -> Result<String, LoadError> {
    let bytes = std::fs::read(path).map_err(|error| LoadError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    decode(bytes, &path.display().to_string())
}

/// `bytes` as UTF-8 text, without a leading byte order mark; a byte that is
/// not UTF-8 is an error at its line and column of `name`.
fn decode(bytes: Vec<u8>, name: &str) -> Result<String, LoadError> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(match text.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_string(),
            None => text,
        }),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let byte = e.as_bytes()[at];
            // Shown with the bad bytes replaced; the text before is the same.
            let shown: Arc<str> = Arc::from(String::from_utf8_lossy(e.as_bytes()).as_ref());
            Err(SourceError::new(
                name,
                &shown,
                at..at + '\u{fffd}'.len_utf8(),
                format!("expected UTF-8 text, found the byte 0x{byte:02X}"),
                "not UTF-8",
            )
            .with_help("save the file as UTF-8")
            .into())
        }
    }
}

/// Deserializes RON, turning ron's positioned errors into [`SourceError`]s.
pub(crate) fn parse_ron<T: serde::de::DeserializeOwned>(
    source: &Arc<str>,
    file_name: &str,
) -> Result<T, Box<SourceError>> {
    literal::Lit::reset_ordinals();
    let options =
        ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    options.from_str::<T>(source).map_err(|e| {
        let at = error::byte_offset(source, e.span.start.line, e.span.start.col);
        let start = next_token(source, at);
        let end = error::byte_offset(source, e.span.end.line, e.span.end.col).max(start);
        if let ron::Error::InvalidEscape(_) = e.code {
            return escape_error(source, file_name, &e.code, start..end);
        }
        let message = ron_message(&e.code, &source[start..]);
        SourceError::new(file_name, source, start..end, message, "here")
    })
}

/// The escapes a RON string knows, by the character after the `\`.
const RON_ESCAPES: &str = "'\"\\nrt0xu";

/// An invalid escape in a string literal. ron's span runs from the start of
/// the string to just past the escape; the error points at the escape (the
/// last `\` in that span) and says how to write a backslash, since herd7's
/// `/\` and `\/` in a condition are the usual cause.
fn escape_error(
    source: &Arc<str>,
    file_name: &str,
    code: &ron::Error,
    span: Range<usize>,
) -> Box<SourceError> {
    let backslash = source[span.clone()]
        .rfind('\\')
        .map_or(span.start, |i| span.start + i);
    let escape_len: usize = source[backslash..]
        .chars()
        .take(2)
        .map(char::len_utf8)
        .sum();
    let message = ron_message(code, &source[backslash..]);
    // The string as a raw string, when that reads the same but for the bad
    // escapes: every `\` in it starts an escape RON does not know.
    let raw = literal::LiteralMap::scan(source)
        .containing(backslash)
        .map(|literal| &source[literal])
        .and_then(|literal| literal.strip_prefix('"')?.strip_suffix('"'))
        .filter(|text| {
            text.match_indices('\\')
                .all(|(i, _)| !text[i + 1..].starts_with(|c| RON_ESCAPES.contains(c)))
        })
        .unwrap_or("...");
    SourceError::new(
        file_name,
        source,
        backslash..backslash + escape_len,
        message,
        "this escape",
    )
    .with_help(format!(
        "in a RON string `\\` starts an escape: write `/\\\\` for herd7's `/\\` and `\\\\/` for `\\/`,\nor use a raw string, where `\\` is itself: r\"{raw}\""
    ))
}

/// The first byte at or after `at` that is neither whitespace nor part of a
/// comment: ron may point at the whitespace or comments before the
/// offending text, and into a line comment that ends a file without a
/// newline (a file that is only `// a comment` was said to have `a` where
/// `(` was expected).
fn next_token(source: &str, at: usize) -> usize {
    // Inside a line comment: a `//` outside string literals (ron's own
    // lexing, as `LiteralMap` knows it) starts earlier on the line.
    let line_start = source[..at].rfind('\n').map_or(0, |i| i + 1);
    let literals = literal::LiteralMap::scan(source);
    let in_line_comment = source[line_start..at]
        .match_indices("//")
        .any(|(i, _)| !literals.inside(line_start + i));
    let mut pos = if in_line_comment {
        source[at..].find('\n').map_or(source.len(), |i| at + i)
    } else {
        at
    };
    loop {
        let rest = &source[pos..];
        let token = rest.trim_start();
        pos += rest.len() - token.len();
        let skip = if token.starts_with("//") {
            token.find('\n')
        } else if token.starts_with("/*") {
            token.find("*/").map(|i| i + 2)
        } else {
            return pos;
        };
        pos += skip.unwrap_or(token.len());
    }
}

/// ron's error in our style: what was expected, then what was found. `rest` is
/// the source from the error's position on.
fn ron_message(code: &ron::Error, rest: &str) -> String {
    let one_of = |alts: &[&str]| {
        let quoted: Vec<String> = alts.iter().map(|a| format!("`{a}`")).collect();
        match quoted.as_slice() {
            [] => "nothing".to_string(),
            [one] => one.clone(),
            [init @ .., last] => format!("one of {} or {last}", init.join(", ")),
        }
    };
    let within = |outer: &Option<String>| match outer.as_deref() {
        Some("Instr") => " (an instruction)".to_string(),
        Some("Observation") => " (an observation)".to_string(),
        Some("BufferShape") => " (a buffer shape)".to_string(),
        Some(outer) => format!(" of `{outer}`"),
        None => String::new(),
    };
    match code {
        ron::Error::NoSuchEnumVariant {
            expected,
            found,
            outer,
        } => format!(
            "expected a variant{}: {}, found `{found}`",
            within(outer),
            one_of(expected)
        ),
        ron::Error::NoSuchStructField {
            expected,
            found,
            outer,
        } => format!(
            "expected a field{}: {}, found `{found}`",
            within(outer),
            one_of(expected)
        ),
        ron::Error::MissingStructField { field, outer } => {
            format!("expected a field `{field}`{}, found none", within(outer))
        }
        ron::Error::DuplicateStructField { field, outer } => {
            format!(
                "expected each field once, found `{field}`{} a second time",
                within(outer)
            )
        }
        ron::Error::IntegerOutOfBounds => format!(
            "expected an integer the field can hold, found {}",
            describe_source_at(rest)
        ),
        ron::Error::ExpectedStringEnd if !rest.get(1..).is_some_and(|r| r.contains('"')) => {
            "expected the closing `\"` of this string, found the end of the file".to_string()
        }
        ron::Error::InvalidEscape("Unknown escape character") => format!(
            "expected an escape (`\\\\`, `\\\"`, `\\n`, `\\t`, `\\u{{...}}`), found `{}`",
            rest.chars().take(2).collect::<String>()
        ),
        ron::Error::Eof => "expected more, found the end of the file".to_string(),
        ron::Error::ExceededRecursionLimit => {
            "expected blocks (`If`, `Loop`, `Select`, `OnceDo`) nested at most 23 deep, found deeper nesting".to_string()
        }
        other => {
            let text = other.to_string();
            let mut chars = text.chars();
            let text: String = match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => text,
            };
            if text.contains("found") {
                text
            } else {
                format!("{text}, found {}", describe_source_at(rest))
            }
        }
    }
}

/// The token at the start of `rest`, for "found ..." in messages.
fn describe_source_at(rest: &str) -> String {
    let token: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && !",;:()[]{}".contains(*c))
        .take(24)
        .collect();
    let token = if token.is_empty() {
        rest.chars().take(1).collect()
    } else {
        token
    };
    if token.is_empty() {
        "the end of the file".to_string()
    } else {
        format!("`{token}`")
    }
}

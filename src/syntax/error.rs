//! Errors from reading a litmus or model file: I/O, RON syntax, and semantic
//! errors found while lowering. Each carries the file, line and column, what was
//! expected and what was found, and a labelled span for miette to underline.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use miette::{Diagnostic, NamedSource, SourceSpan};
use thiserror::Error;

/// Why a file could not be loaded.
#[derive(Debug, Error, Diagnostic)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error, which the message already states (not a
        /// `source()`, so reports do not repeat it).
        error: std::io::Error,
    },
    /// The file was read but is malformed.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Source(Box<SourceError>),
}

/// A malformed file, with the offending text located.
#[derive(Debug, Error, Diagnostic)]
#[error("{name}:{line}:{column}: {message}")]
pub struct SourceError {
    /// File name as given.
    pub name: String,
    /// 1-based line of the start of the span.
    pub line: usize,
    /// 1-based column (in bytes) of the start of the span.
    pub column: usize,
    /// What was expected and what was found.
    pub message: String,
    /// Short text shown under the span.
    pub label: String,
    /// A suggestion for fixing the error.
    #[help]
    pub help: Option<String>,
    /// The file's text, for the excerpt under the message; `None` when the
    /// line is too long to show ([`EXCERPT_LINE_MAX`]).
    #[source_code]
    source_code: Option<NamedSource<Arc<str>>>,
    /// Where the excerpt underlines, when there is one.
    #[label("{label}")]
    underlined: Option<SourceSpan>,
    /// The byte range the error points at.
    span: Range<usize>,
}

/// The longest line shown in an excerpt: a longer one is left out, the
/// message naming line and column still (miette cannot draw columns beyond
/// 65,535, and nobody reads such a line on a terminal).
pub const EXCERPT_LINE_MAX: usize = 4096;

impl SourceError {
    /// An error at `span` (byte range) of `source`, the contents of file `name`.
    pub fn new(
        name: &str,
        source: &Arc<str>,
        span: Range<usize>,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Box<Self> {
        let start = floor_char_boundary(source, span.start.min(source.len()));
        let end = floor_char_boundary(source, span.end.clamp(start, source.len()));
        let (line, column) = line_column(source, start);
        let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[end..].find('\n').map_or(source.len(), |i| end + i);
        let shown = line_end - line_start <= EXCERPT_LINE_MAX;
        Box::new(SourceError {
            name: name.to_string(),
            line,
            column,
            message: printable(&message.into()),
            label: label.into(),
            help: None,
            source_code: shown.then(|| NamedSource::new(name, Arc::clone(source))),
            underlined: shown.then(|| (start..end).into()),
            span: start..end,
        })
    }

    /// Adds a suggestion.
    pub fn with_help(mut self: Box<Self>, help: impl Into<String>) -> Box<Self> {
        self.help = Some(help.into());
        self
    }

    /// The byte range the error points at.
    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }
}

impl From<Box<SourceError>> for LoadError {
    fn from(e: Box<SourceError>) -> Self {
        LoadError::Source(e)
    }
}

/// The longest message shown: what a file says is quoted in messages, and
/// a name of thousands of characters would fill the terminal.
const MESSAGE_MAX: usize = 1000;

/// `message` fit for a terminal: control characters quoted from the file
/// escaped (`\u{0}`), and cut at [`MESSAGE_MAX`] bytes.
fn printable(message: &str) -> String {
    let mut shown = String::with_capacity(message.len().min(MESSAGE_MAX + 3));
    for c in message.chars() {
        if shown.len() >= MESSAGE_MAX {
            shown.push('…');
            break;
        }
        if c.is_control() && c != '\n' {
            shown.extend(c.escape_unicode());
        } else {
            shown.push(c);
        }
    }
    shown
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// 1-based line and column of byte offset `at`. The column counts bytes, as the
/// location miette prints above the source excerpt does, so the two agree.
pub(crate) fn line_column(source: &str, at: usize) -> (usize, usize) {
    let before = &source[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, at - line_start + 1)
}

/// Byte offset of a 1-based (line, column-in-characters) position, clamped to the source.
pub(crate) fn byte_offset(source: &str, line: usize, column: usize) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        source
            .match_indices('\n')
            .nth(line - 2)
            .map_or(source.len(), |(i, _)| i + 1)
    };
    let rest = &source[line_start..];
    let within = rest
        .char_indices()
        .take_while(|&(_, c)| c != '\n')
        .nth(column.saturating_sub(1))
        .map_or_else(|| rest.find('\n').unwrap_or(rest.len()), |(i, _)| i);
    line_start + within
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_with_multibyte_characters() {
        let src = "ab\n\u{e9}\u{e9}x\n";
        let at = src.find('x').unwrap();
        // ron counts columns in characters, our messages in bytes.
        assert_eq!(byte_offset(src, 2, 3), at);
        assert_eq!(line_column(src, at), (2, 5));
        assert_eq!(byte_offset(src, 1, 1), 0);
        assert_eq!(byte_offset(src, 9, 9), src.len());
        assert_eq!(byte_offset(src, 1, 99), 2);
    }

    #[test]
    fn error_display_names_file_line_and_column() {
        let src: Arc<str> = Arc::from("one\ntwo three\n");
        let at = src.find("three").unwrap();
        let err = SourceError::new("t.ron", &src, at..at + 5, "bad thing", "here");
        assert_eq!(err.to_string(), "t.ron:2:5: bad thing");
        assert_eq!(err.span(), at..at + 5);
    }

    /// What a message quotes from the file is printable and bounded (found
    /// by fuzzing: a NUL was printed raw, a 5,000-character name in full).
    #[test]
    fn messages_escape_control_characters_and_are_bounded() {
        let src: Arc<str> = Arc::from("x\n");
        let err = SourceError::new("t.ron", &src, 0..1, "found `a\u{0}b`", "here");
        assert_eq!(err.to_string(), "t.ron:1:1: found `a\\u{0}b`");
        let long = format!("found `{}`", "n".repeat(5000));
        let err = SourceError::new("t.ron", &src, 0..1, long, "here");
        assert!(
            err.message.len() <= MESSAGE_MAX + 3,
            "{}",
            err.message.len()
        );
        assert!(err.message.ends_with('…'));
    }

    /// miette panics drawing a column beyond 65,535 (found by fuzzing): a
    /// line too long to show gets no excerpt, and the message still names
    /// the position.
    #[test]
    fn an_error_far_along_a_very_long_line_renders_without_an_excerpt() {
        let src: Arc<str> = Arc::from(format!("Litmus({}oops)\n", " ".repeat(70_000)).as_str());
        let at = src.find("oops").unwrap();
        let err = SourceError::new("wide.ron", &src, at..at + 4, "bad field", "here");
        let rendered = format!("{:?}", miette::Report::new(LoadError::from(err)));
        assert!(
            rendered.contains("wide.ron:1:70008: bad field"),
            "{rendered}"
        );
        assert!(!rendered.contains("oops"), "no excerpt: {rendered}");

        let short: Arc<str> = Arc::from("Litmus(oops)\n");
        let err = SourceError::new("short.ron", &short, 7..11, "bad field", "here");
        let rendered = format!("{:?}", miette::Report::new(LoadError::from(err)));
        assert!(
            rendered.contains("oops"),
            "a short line is shown: {rendered}"
        );
    }
}

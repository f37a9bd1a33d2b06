//! Source positions for the string literals of a RON file.
//!
//! `ron` reports positions only for its own syntax and type errors; the values it
//! hands to serde carry no spans. Every name, expression and condition in a litmus
//! file is a string literal, though, and serde visits string literals in document
//! order. So each [`Lit`] records its ordinal (0 for the first string literal
//! deserialized, 1 for the next, ...) and [`LiteralMap`] finds the byte range of the
//! n-th string literal by scanning the source. Semantic errors found while lowering
//! can then underline the exact text, even inside a condition.
//!
//! Invariant: every string in the litmus AST is a `Lit` (or is recorded through
//! [`Lit::record`]), so the ordinals and the scan agree. If they ever disagree, a
//! span falls back to the start of the file rather than panicking.
//!
//! Front ends that build the AST themselves (the herd7 reader, [`super::herd`])
//! know where each literal comes from as they create it: they record it in a
//! [`RecordedSpans`] instead. Lowering asks either kind through [`LiteralSpans`].

use std::cell::Cell;
use std::ops::Range;

use serde::{Deserialize, Deserializer, de};

thread_local! {
    /// Number of string literals deserialized so far in the current parse.
    static NEXT_ORDINAL: Cell<usize> = const { Cell::new(0) };
}

/// A string literal from the source, with its document-order ordinal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lit {
    /// The decoded text.
    pub text: String,
    /// Which string literal of the file this is (0-based, document order).
    pub ordinal: usize,
}

impl Lit {
    /// Records a string just visited by a deserializer and returns it as a `Lit`.
    pub(crate) fn record(text: &str) -> Lit {
        let ordinal = NEXT_ORDINAL.with(|n| {
            let ordinal = n.get();
            n.set(ordinal + 1);
            ordinal
        });
        Lit {
            text: text.to_string(),
            ordinal,
        }
    }

    /// Restarts the ordinal count; called before each parse.
    pub(crate) fn reset_ordinals() {
        NEXT_ORDINAL.with(|n| n.set(0));
    }
}

impl<'de> Deserialize<'de> for Lit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Lit;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Lit, E> {
                Ok(Lit::record(v))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// Where the literals of a parsed file are in its source, for error messages.
pub(crate) trait LiteralSpans {
    /// Byte range of the whole literal in the source.
    fn span_of(&self, lit: &Lit) -> Range<usize>;

    /// Byte range in the source of `inner`, a byte range within the text of `lit`.
    fn span_within(&self, lit: &Lit, inner: Range<usize>) -> Range<usize>;
}

impl LiteralSpans for LiteralMap<'_> {
    fn span_of(&self, lit: &Lit) -> Range<usize> {
        LiteralMap::span_of(self, lit)
    }

    fn span_within(&self, lit: &Lit, inner: Range<usize>) -> Range<usize> {
        LiteralMap::span_within(self, lit, inner)
    }
}

/// Literals created by a front end, each recorded with where its text comes from.
///
/// A literal's text is made of pieces: each piece is a byte range of the text
/// and the byte range of the source it stands for. Text copied from the source
/// (a register name, a condition) maps byte for byte; text written in place of
/// the source (`exists` for herd7's `final`) maps onto the whole source range it
/// replaces.
#[derive(Debug, Default)]
pub(crate) struct RecordedSpans {
    literals: Vec<RecordedLiteral>,
}

#[derive(Debug)]
struct RecordedLiteral {
    whole: Range<usize>,
    /// (range in the text, range in the source), in text order.
    pieces: Vec<(Range<usize>, Range<usize>)>,
}

impl RecordedSpans {
    /// A literal whose text is the source text at `span` (same length).
    pub fn verbatim(&mut self, text: impl Into<String>, span: Range<usize>) -> Lit {
        let text = text.into();
        let pieces = vec![(0..text.len(), span.clone())];
        self.pieces(text, span, pieces)
    }

    /// A literal whose text stands for the source at `span` as a whole.
    pub fn replacing(&mut self, text: impl Into<String>, span: Range<usize>) -> Lit {
        self.pieces(text.into(), span, Vec::new())
    }

    /// A literal made of pieces: `(range in text, range in source)`, in text
    /// order; `whole` covers them all.
    pub fn pieces(
        &mut self,
        text: String,
        whole: Range<usize>,
        pieces: Vec<(Range<usize>, Range<usize>)>,
    ) -> Lit {
        let ordinal = self.literals.len();
        self.literals.push(RecordedLiteral { whole, pieces });
        Lit { text, ordinal }
    }
}

impl LiteralSpans for RecordedSpans {
    fn span_of(&self, lit: &Lit) -> Range<usize> {
        self.literals
            .get(lit.ordinal)
            .map_or(0..0, |l| l.whole.clone())
    }

    fn span_within(&self, lit: &Lit, inner: Range<usize>) -> Range<usize> {
        let Some(literal) = self.literals.get(lit.ordinal) else {
            return 0..0;
        };
        // The piece holding a text offset (for an end offset, the piece holding
        // the byte before it), and where that offset falls in the source.
        let locate = |offset: usize, is_end: bool| {
            let piece = literal.pieces.iter().find(|(text, _)| {
                if is_end {
                    text.start < offset && offset <= text.end
                } else {
                    text.start <= offset && offset < text.end
                }
            });
            piece.map(|(text, source)| {
                if text.len() == source.len() {
                    source.start + (offset - text.start)
                } else if is_end {
                    source.end
                } else {
                    source.start
                }
            })
        };
        let start = locate(inner.start, false).or_else(|| {
            // Past the end of the text (an error "at the end"): point after it.
            (inner.start >= lit.text.len()).then_some(literal.whole.end)
        });
        let Some(start) = start else {
            return literal.whole.clone();
        };
        let end = if inner.end > inner.start {
            locate(inner.end, true).unwrap_or(literal.whole.end)
        } else {
            start
        };
        start..end.max(start)
    }
}

/// Byte ranges of every string literal in a RON source, in document order.
#[derive(Debug)]
pub(crate) struct LiteralMap<'s> {
    source: &'s str,
    /// Range of each literal including its quotes (and `r#` prefix).
    ranges: Vec<Range<usize>>,
}

impl<'s> LiteralMap<'s> {
    /// Scans `source` for string literals, skipping comments and char literals.
    pub fn scan(source: &'s str) -> Self {
        let bytes = source.as_bytes();
        let mut ranges = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'/' if bytes.get(i + 1) == Some(&b'/') => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                b'/' if bytes.get(i + 1) == Some(&b'*') => {
                    let mut depth = 0usize;
                    while i < bytes.len() {
                        if bytes[i..].starts_with(b"/*") {
                            depth += 1;
                            i += 2;
                        } else if bytes[i..].starts_with(b"*/") {
                            depth -= 1;
                            i += 2;
                            if depth == 0 {
                                break;
                            }
                        } else {
                            i += 1;
                        }
                    }
                }
                b'"' => {
                    let start = i;
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'"' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    i = (i + 1).min(bytes.len());
                    ranges.push(start..i);
                }
                b'r' if Self::raw_string_start(bytes, i) => {
                    let start = i;
                    i += 1;
                    let hashes = bytes[i..].iter().take_while(|&&b| b == b'#').count();
                    i += hashes + 1;
                    let mut close = vec![b'"'];
                    close.extend(std::iter::repeat_n(b'#', hashes));
                    while i < bytes.len() && !bytes[i..].starts_with(&close) {
                        i += 1;
                    }
                    i = (i + close.len()).min(bytes.len());
                    ranges.push(start..i);
                }
                b'\'' => {
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'\'' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                }
                _ => i += 1,
            }
        }
        LiteralMap { source, ranges }
    }

    fn raw_string_start(bytes: &[u8], i: usize) -> bool {
        let preceded_by_ident =
            i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        let rest = &bytes[i + 1..];
        let hashes = rest.iter().take_while(|&&b| b == b'#').count();
        !preceded_by_ident && rest.get(hashes) == Some(&b'"')
    }

    /// Whether byte `pos` of the source lies inside a string literal.
    pub fn inside(&self, pos: usize) -> bool {
        self.containing(pos).is_some()
    }

    /// Byte range of the string literal (quotes included) that byte `pos`
    /// of the source lies inside, if any.
    pub fn containing(&self, pos: usize) -> Option<Range<usize>> {
        let i = self.ranges.partition_point(|r| r.end <= pos);
        self.ranges.get(i).filter(|r| r.contains(&pos)).cloned()
    }

    /// Byte range of the whole literal (quotes included).
    pub fn span_of(&self, lit: &Lit) -> Range<usize> {
        self.ranges.get(lit.ordinal).cloned().unwrap_or(0..0)
    }

    /// Byte range in the source of `inner`, a byte range within the decoded text of
    /// `lit`. Escapes are accounted for (`\\` in the source is one `\` in the text).
    pub fn span_within(&self, lit: &Lit, inner: Range<usize>) -> Range<usize> {
        let Some(whole) = self.ranges.get(lit.ordinal) else {
            return 0..0;
        };
        let raw = &self.source[whole.clone()];
        let offsets = decoded_offsets(raw);
        let to_source = |decoded: usize| {
            let i = offsets.partition_point(|&(d, _)| d < decoded);
            whole.start
                + offsets
                    .get(i)
                    .map_or(raw.len().saturating_sub(1), |&(_, s)| s)
        };
        let start = to_source(inner.start);
        let end = if inner.end > inner.start {
            to_source(inner.end)
        } else {
            start
        };
        start..end.max(start)
    }
}

/// For a literal as written (quotes included), pairs of (offset in the decoded
/// text, offset in the literal) for every decoded character, plus one final pair
/// for the end of the text.
fn decoded_offsets(raw: &str) -> Vec<(usize, usize)> {
    let mut offsets = Vec::new();
    let (body_start, escapes) = if raw.starts_with('r') {
        (raw.find('"').map_or(raw.len(), |q| q + 1), false)
    } else {
        (1, true)
    };
    let mut decoded = 0;
    let mut chars = raw[body_start.min(raw.len())..].char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let at = body_start + i;
        if c == '"' && (escapes || chars.peek().is_none_or(|&(_, n)| n == '#')) {
            offsets.push((decoded, at));
            return offsets;
        }
        offsets.push((decoded, at));
        if escapes && c == '\\' {
            let Some((_, e)) = chars.next() else { break };
            let width = match e {
                'u' => {
                    let mut code = String::new();
                    for (_, c) in chars.by_ref() {
                        if c == '}' {
                            break;
                        }
                        if c != '{' {
                            code.push(c);
                        }
                    }
                    u32::from_str_radix(&code, 16)
                        .ok()
                        .and_then(char::from_u32)
                        .map_or(1, char::len_utf8)
                }
                'x' => {
                    chars.next();
                    chars.next();
                    1
                }
                _ => 1,
            };
            decoded += width;
        } else {
            decoded += c.len_utf8();
        }
    }
    offsets.push((decoded, raw.len()));
    offsets
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(ordinal: usize) -> Lit {
        Lit {
            text: String::new(),
            ordinal,
        }
    }

    #[test]
    fn finds_literals_skipping_comments_and_chars() {
        let src = r##"// "not a literal"
A(x: "one", /* "nope" /* "nested" */ */ y: 'c', z: r#"two"#, w: "th\"ree")"##;
        let map = LiteralMap::scan(src);
        let texts: Vec<_> = map.ranges.iter().map(|r| &src[r.clone()]).collect();
        assert_eq!(texts, vec!["\"one\"", "r#\"two\"#", "\"th\\\"ree\""]);
        assert_eq!(&src[map.span_of(&lit(1))], "r#\"two\"#");
        assert_eq!(map.span_of(&lit(9)), 0..0);
    }

    #[test]
    fn maps_positions_inside_escaped_text() {
        // Decoded text: `exists (0:r0=0 /\ 1:r0=0)`; the `/\` is written `/\\`.
        let src = r#"c: "exists (0:r0=0 /\\ 1:r0=0)""#;
        let map = LiteralMap::scan(src);
        let text = "exists (0:r0=0 /\\ 1:r0=0)";
        let at = text.find("1:r0").unwrap();
        let span = map.span_within(&lit(0), at..at + 4);
        assert_eq!(&src[span], "1:r0");
        let slash = text.find('/').unwrap();
        assert_eq!(&src[map.span_within(&lit(0), slash..slash + 2)], "/\\\\");
        let end = map.span_within(&lit(0), text.len()..text.len());
        assert_eq!(end.start, src.len() - 1);
    }

    #[test]
    fn recorded_literals_map_pieces_back_to_the_source() {
        //                    0         1         2
        //                    0123456789012345678901234
        let src = "final (P0:EAX = 1)\n;";
        let mut spans = RecordedSpans::default();
        let reg = spans.verbatim("EAX", 10..13);
        assert_eq!(spans.span_of(&reg), 10..13);
        assert_eq!(&src[spans.span_within(&reg, 1..3)], "AX");
        // Text `exists (P0:EAX = 1)`: `exists` replaces `final`, the rest is copied.
        let text = "exists (P0:EAX = 1)".to_string();
        let cond = spans.pieces(text, 0..18, vec![(0..6, 0..5), (6..19, 5..18)]);
        assert_eq!(&src[spans.span_within(&cond, 0..6)], "final");
        assert_eq!(&src[spans.span_within(&cond, 8..14)], "P0:EAX");
        assert_eq!(spans.span_within(&cond, 19..19), 18..18);
        let whole = spans.replacing("scratch", 3..8);
        assert_eq!(spans.span_within(&whole, 2..4), 3..8);
    }

    #[test]
    fn maps_positions_in_multibyte_text() {
        let src = "a: \"é + r9\"";
        let map = LiteralMap::scan(src);
        let text = "é + r9";
        let at = text.find("r9").unwrap();
        assert_eq!(&src[map.span_within(&lit(0), at..at + 2)], "r9");
    }
}

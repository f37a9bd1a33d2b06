//! Tokens of herd7's litmus sections (initial state, program, condition), with
//! their byte ranges in the file.
//!
//! OCaml-style comments `(* ... *)` (which nest) and whitespace are skipped. A
//! character that belongs to no token becomes [`Tok::Other`], so the parser can
//! report it where it stands.

use std::ops::Range;

/// One token and where it is in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Token<'s> {
    pub tok: Tok<'s>,
    pub span: Range<usize>,
}

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tok<'s> {
    /// A name: `MOV`, `EAX`, `x`, `P0`, `exists`.
    Word(&'s str),
    /// A non-negative integer (a sign is a separate `-`).
    Int(&'s str),
    /// Punctuation: `;`, `|`, `,`, `[`, `]`, `(`, `)`, `{`, `}`, `:`, `=`, `$`, `-`,
    /// `~`, `/\`, `\/`, `<<`, `%`.
    Punct(&'static str),
    /// A double-quoted string, quotes included.
    Str(&'s str),
    /// Any other character.
    Other(char),
}

impl Tok<'_> {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Tok::Word(w) | Tok::Int(w) => format!("`{w}`"),
            Tok::Punct(p) => format!("`{p}`"),
            Tok::Str(s) => format!("the string {s}"),
            Tok::Other(c) => format!("`{c}`"),
        }
    }
}

const PUNCTUATION: &[&str] = &[
    "/\\", "\\/", "<<", ";", "|", ",", "[", "]", "(", ")", "{", "}", ":", "=", "$", "-", "~", "%",
];

/// An unterminated comment or string, at this byte range.
#[derive(Debug)]
pub(super) struct LexError {
    pub message: &'static str,
    pub span: Range<usize>,
}

/// Tokenizes `source[range]`, positions relative to the whole source.
pub(super) fn tokenize(source: &str, range: Range<usize>) -> Result<Vec<Token<'_>>, LexError> {
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut i = range.start;
    while i < range.end {
        let c = source[i..]
            .chars()
            .next()
            .expect("invariant: i is a char boundary");
        let start = i;
        if c.is_whitespace() {
            i += c.len_utf8();
        } else if source[i..].starts_with("(*") {
            i = skip_comment(source, i, range.end)?;
        } else if c.is_ascii_alphabetic() || c == '_' {
            while i < range.end && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            tokens.push(Token {
                tok: Tok::Word(&source[start..i]),
                span: start..i,
            });
        } else if c.is_ascii_digit() {
            while i < range.end && bytes[i].is_ascii_digit() {
                i += 1;
            }
            tokens.push(Token {
                tok: Tok::Int(&source[start..i]),
                span: start..i,
            });
        } else if c == '"' {
            i += 1;
            while i < range.end && bytes[i] != b'"' {
                i += 1;
            }
            if i >= range.end {
                return Err(LexError {
                    message: "expected the closing `\"` of this string, found the end of the section",
                    span: start..start + 1,
                });
            }
            i += 1;
            tokens.push(Token {
                tok: Tok::Str(&source[start..i]),
                span: start..i,
            });
        } else if let Some(p) = PUNCTUATION
            .iter()
            .find(|p| source[i..range.end].starts_with(**p))
        {
            i += p.len();
            tokens.push(Token {
                tok: Tok::Punct(p),
                span: start..i,
            });
        } else {
            i += c.len_utf8();
            tokens.push(Token {
                tok: Tok::Other(c),
                span: start..i,
            });
        }
    }
    Ok(tokens)
}

/// Skips the comment opening at `at`, nested comments included; returns the
/// offset after it.
pub(super) fn skip_comment(source: &str, at: usize, end: usize) -> Result<usize, LexError> {
    let mut depth = 0usize;
    let mut i = at;
    while i < end {
        if source[i..end].starts_with("(*") {
            depth += 1;
            i += 2;
        } else if source[i..end].starts_with("*)") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return Ok(i);
            }
        } else {
            i += source[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    Err(LexError {
        message: "expected the end `*)` of this comment, found the end of the file",
        span: at..at + 2,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_file_positions_and_skip_nested_comments() {
        let src = "xx MOV [x],$1 (* a (* b *) c *) | XCHG EAX,[y] ;";
        let tokens = tokenize(src, 3..src.len()).unwrap();
        let toks: Vec<_> = tokens.iter().map(|t| t.tok).collect();
        assert_eq!(
            toks,
            vec![
                Tok::Word("MOV"),
                Tok::Punct("["),
                Tok::Word("x"),
                Tok::Punct("]"),
                Tok::Punct(","),
                Tok::Punct("$"),
                Tok::Int("1"),
                Tok::Punct("|"),
                Tok::Word("XCHG"),
                Tok::Word("EAX"),
                Tok::Punct(","),
                Tok::Punct("["),
                Tok::Word("y"),
                Tok::Punct("]"),
                Tok::Punct(";"),
            ]
        );
        assert_eq!(&src[tokens[8].span.clone()], "XCHG");
    }

    #[test]
    fn unterminated_comments_and_odd_characters() {
        assert!(tokenize("a (* b", 0..6).is_err());
        let tokens = tokenize("a # /\\ \\/", 0..9).unwrap();
        assert_eq!(tokens[1].tok, Tok::Other('#'));
        assert_eq!(tokens[2].tok, Tok::Punct("/\\"));
        assert_eq!(tokens[3].tok, Tok::Punct("\\/"));
    }
}

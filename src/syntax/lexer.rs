//! Tokens of the two small languages embedded in litmus strings: register
//! expressions (`r0 + 1 == 2`) and herd7 conditions (`exists (0:r0=0 /\ x=1)`).
//!
//! Every token carries its byte range within the string so errors can point at it.

use std::ops::Range;

/// One token and where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub kind: TokenKind<'a>,
    pub span: Range<usize>,
}

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenKind<'a> {
    /// A name: `r0`, `exists`, `EAX`, `P1`, or a word of a multi-word
    /// variable, `v#0`.
    Ident(&'a str),
    /// A non-negative integer literal (its sign, if any, is a separate `-`).
    Int(u64),
    /// Punctuation or an operator, as written: `/\`, `==`, `(`.
    Punct(&'static str),
    /// End of input.
    End,
}

impl TokenKind<'_> {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            TokenKind::Ident(s) => format!("`{s}`"),
            TokenKind::Int(v) => format!("`{v}`"),
            TokenKind::Punct(p) => format!("`{p}`"),
            TokenKind::End => "the end of the text".to_string(),
        }
    }
}

/// An error inside an embedded string, with a byte range relative to that string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TextError {
    pub message: String,
    pub span: Range<usize>,
    pub help: Option<String>,
}

impl TextError {
    pub fn new(message: impl Into<String>, span: Range<usize>) -> Self {
        TextError {
            message: message.into(),
            span,
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// A position in a token list, shared by the expression and condition parsers.
#[derive(Debug)]
pub(crate) struct Cursor<'t> {
    tokens: Vec<Token<'t>>,
    pos: usize,
}

impl<'t> Cursor<'t> {
    /// Tokenizes `text` and starts at its first token.
    pub fn new(text: &'t str) -> Result<Self, TextError> {
        Ok(Cursor {
            tokens: tokenize(text)?,
            pos: 0,
        })
    }

    /// The next token, not consumed.
    pub fn peek(&self) -> &Token<'t> {
        &self.tokens[self.pos]
    }

    /// The token after the next one, not consumed (`End` past the end).
    pub fn peek_second(&self) -> &Token<'t> {
        &self.tokens[(self.pos + 1).min(self.tokens.len() - 1)]
    }

    /// Consumes and returns the next token; at the end, keeps returning `End`.
    pub fn bump(&mut self) -> Token<'t> {
        let token = self.tokens[self.pos].clone();
        if token.kind != TokenKind::End {
            self.pos += 1;
        }
        token
    }

    /// Where the last consumed token ends.
    pub fn previous_end(&self) -> usize {
        self.pos
            .checked_sub(1)
            .map_or(0, |p| self.tokens[p].span.end)
    }

    /// Consumes `punct`, or fails saying what was found instead.
    pub fn expect_punct(&mut self, punct: &'static str) -> Result<Token<'t>, TextError> {
        let token = self.bump();
        if token.kind == TokenKind::Punct(punct) {
            Ok(token)
        } else {
            Err(TextError::new(
                format!("expected `{punct}`, found {}", token.kind.describe()),
                token.span,
            ))
        }
    }

    /// Succeeds at the end of the text, else fails: "expected {what}, found ...".
    pub fn expect_end(&self, what: &str) -> Result<(), TextError> {
        let next = self.peek();
        if next.kind == TokenKind::End {
            Ok(())
        } else {
            Err(TextError::new(
                format!("expected {what}, found {}", next.kind.describe()),
                next.span.clone(),
            ))
        }
    }
}

/// The most tokens an expression or condition may have. Litmus expressions are
/// short; the bound keeps parsing and evaluation (both recursive) far from the
/// stack's limits whatever the input.
pub(crate) const MAX_TOKENS: usize = 512;

/// Punctuation, longest first so that `==` wins over `=`.
const PUNCTUATION: &[&str] = &[
    "/\\", "\\/", "==", "!=", "<=", ">=", "&&", "||", "+", "-", "*", "<", ">", "!", "~", ":", "=",
    "(", ")", "[", "]", ";", ",",
];

/// Splits `text` into tokens, ending with [`TokenKind::End`].
fn tokenize(text: &str) -> Result<Vec<Token<'_>>, TextError> {
    let mut tokens = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < text.len() {
        let c = text[i..]
            .chars()
            .next()
            .expect("invariant: i is a char boundary");
        if c.is_whitespace() {
            i += c.len_utf8();
        } else if c.is_ascii_digit() {
            let start = i;
            while i < text.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let value = text[start..i].parse::<u64>().map_err(|_| {
                TextError::new(
                    format!(
                        "expected an integer that fits in 64 bits, found `{}`",
                        &text[start..i]
                    ),
                    start..i,
                )
            })?;
            tokens.push(Token {
                kind: TokenKind::Int(value),
                span: start..i,
            });
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < text.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            // A word of a multi-word variable: `v#0`.
            if bytes.get(i) == Some(&b'#') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
                i += 1;
                while i < text.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
            }
            tokens.push(Token {
                kind: TokenKind::Ident(&text[start..i]),
                span: start..i,
            });
        } else if let Some(p) = PUNCTUATION.iter().find(|p| text[i..].starts_with(**p)) {
            tokens.push(Token {
                kind: TokenKind::Punct(p),
                span: i..i + p.len(),
            });
            i += p.len();
        } else {
            return Err(TextError::new(
                format!("expected a name, a number or an operator, found `{c}`"),
                i..i + c.len_utf8(),
            ));
        }
    }
    if tokens.len() > MAX_TOKENS {
        return Err(TextError::new(
            format!(
                "expected at most {MAX_TOKENS} tokens, found {}",
                tokens.len()
            ),
            tokens[MAX_TOKENS].span.clone(),
        )
        .with_help("split a register expression over several `Let` instructions; a condition cannot be longer"));
    }
    tokens.push(Token {
        kind: TokenKind::End,
        span: text.len()..text.len(),
    });
    Ok(tokens)
}

/// The value of an integer literal, negated if a `-` preceded it; fails if it
/// does not fit in 64 bits.
pub(crate) fn int_value(
    magnitude: u64,
    negative: bool,
    span: Range<usize>,
) -> Result<i64, TextError> {
    let value = if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    };
    value.ok_or_else(|| {
        TextError::new(
            format!(
                "expected a value between {} and {}, found {}{magnitude}",
                i64::MIN,
                i64::MAX,
                if negative { "-" } else { "" }
            ),
            span,
        )
    })
}

/// Whether `name` is a valid identifier for a variable, register or thread.
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind<'_>> {
        tokenize(text)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    #[test]
    fn splits_conditions_and_expressions() {
        use TokenKind::*;
        assert_eq!(
            kinds("exists (0:r0=1 /\\ ~x=2)"),
            vec![
                Ident("exists"),
                Punct("("),
                Int(0),
                Punct(":"),
                Ident("r0"),
                Punct("="),
                Int(1),
                Punct("/\\"),
                Punct("~"),
                Ident("x"),
                Punct("="),
                Int(2),
                Punct(")"),
                End
            ]
        );
        assert_eq!(
            kinds("r1>=2||!r0"),
            vec![
                Ident("r1"),
                Punct(">="),
                Int(2),
                Punct("||"),
                Punct("!"),
                Ident("r0"),
                End
            ]
        );
    }

    #[test]
    fn a_word_of_a_multi_word_variable_is_one_name() {
        use TokenKind::*;
        assert_eq!(
            kinds("iface#1=2 /\\ v"),
            vec![
                Ident("iface#1"),
                Punct("="),
                Int(2),
                Punct("/\\"),
                Ident("v"),
                End
            ]
        );
        // A `#` without a word number is no name.
        assert_eq!(tokenize("v#").unwrap_err().span, 1..2);
    }

    #[test]
    fn reports_bad_characters_and_overflow_with_spans() {
        let err = tokenize("r0 $ 1").unwrap_err();
        assert_eq!(err.span, 3..4);
        let err = tokenize("x = 99999999999999999999").unwrap_err();
        assert_eq!(err.span, 4..24);
        assert!(err.message.contains("fits in 64 bits, found"));
        let long = vec!["r0"; MAX_TOKENS + 1].join("+");
        let err = tokenize(&long).unwrap_err();
        assert!(err.message.starts_with("expected at most 512 tokens"));
    }

    #[test]
    fn integer_values_cover_the_whole_64_bit_range() {
        assert_eq!(int_value(1 << 63, true, 0..1), Ok(i64::MIN));
        assert_eq!(int_value(i64::MAX as u64, false, 0..1), Ok(i64::MAX));
        assert!(int_value(1 << 63, false, 0..1).is_err());
        assert!(int_value((1 << 63) + 1, true, 0..1).is_err());
    }

    #[test]
    fn identifiers() {
        assert!(is_identifier("r0") && is_identifier("_x") && is_identifier("EAX"));
        assert!(!is_identifier("0r") && !is_identifier("") && !is_identifier("a-b"));
    }
}

//! Register expressions: the values of `Store`, `Let`, RMW operands and the
//! conditions of `If` and `Loop`.
//!
//! Grammar, loosest binding first (all binary operators are left-associative,
//! comparisons do not chain):
//!
//! ```text
//! expr   := and ( "||" and )*
//! and    := cmp ( "&&" cmp )*
//! cmp    := sum ( ("==" | "!=" | "<" | "<=" | ">" | ">=") sum )?
//! sum    := prod ( ("+" | "-") prod )*
//! prod   := unary ( "*" unary )*
//! unary  := ("-" | "!") unary | INT | REGISTER | "(" expr ")"
//! ```

use std::ops::Range;

use super::lexer::{Cursor, TextError, TokenKind, int_value};
use crate::ir::{BinOp, Expr, Reg, UnOp};

/// Resolves a register name (with its span) to a register of the current thread.
pub(crate) type RegResolver<'r> = dyn FnMut(&str, Range<usize>) -> Result<Reg, TextError> + 'r;

/// Parses `text` as a register expression.
pub(crate) fn parse_expr(text: &str, resolve: &mut RegResolver<'_>) -> Result<Expr, TextError> {
    let mut parser = Parser {
        cursor: Cursor::new(text)?,
        resolve,
    };
    let expr = parser.or()?;
    parser
        .cursor
        .expect_end("an operator or the end of the expression")?;
    Ok(expr)
}

struct Parser<'t, 'r, 'a> {
    cursor: Cursor<'t>,
    resolve: &'r mut RegResolver<'a>,
}

impl Parser<'_, '_, '_> {
    /// Consumes the next token if it is one of `ops`, returning the operator.
    fn eat_op(&mut self, ops: &[(&str, BinOp)]) -> Option<BinOp> {
        let TokenKind::Punct(p) = self.cursor.peek().kind else {
            return None;
        };
        let op = ops.iter().find(|(s, _)| *s == p)?.1;
        self.cursor.bump();
        Some(op)
    }

    fn binary_chain(
        &mut self,
        ops: &[(&str, BinOp)],
        next: fn(&mut Self) -> Result<Expr, TextError>,
    ) -> Result<Expr, TextError> {
        let mut lhs = next(self)?;
        while let Some(op) = self.eat_op(ops) {
            let rhs = next(self)?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn or(&mut self) -> Result<Expr, TextError> {
        self.binary_chain(&[("||", BinOp::Or)], Self::and)
    }

    fn and(&mut self) -> Result<Expr, TextError> {
        self.binary_chain(&[("&&", BinOp::And)], Self::cmp)
    }

    fn cmp(&mut self) -> Result<Expr, TextError> {
        const OPS: &[(&str, BinOp)] = &[
            ("==", BinOp::Eq),
            ("!=", BinOp::Ne),
            ("<=", BinOp::Le),
            (">=", BinOp::Ge),
            ("<", BinOp::Lt),
            (">", BinOp::Gt),
        ];
        let lhs = self.sum()?;
        match self.eat_op(OPS) {
            Some(op) => Ok(Expr::Binary(op, Box::new(lhs), Box::new(self.sum()?))),
            None => Ok(lhs),
        }
    }

    fn sum(&mut self) -> Result<Expr, TextError> {
        self.binary_chain(&[("+", BinOp::Add), ("-", BinOp::Sub)], Self::prod)
    }

    fn prod(&mut self) -> Result<Expr, TextError> {
        self.binary_chain(&[("*", BinOp::Mul)], Self::unary)
    }

    fn unary(&mut self) -> Result<Expr, TextError> {
        let token = self.cursor.bump();
        match token.kind {
            TokenKind::Punct("-") => {
                if let TokenKind::Int(magnitude) = self.cursor.peek().kind {
                    let literal = self.cursor.bump();
                    return Ok(Expr::Const(int_value(
                        magnitude,
                        true,
                        token.span.start..literal.span.end,
                    )?));
                }
                Ok(Expr::Unary(UnOp::Neg, Box::new(self.unary()?)))
            }
            TokenKind::Punct("!") => Ok(Expr::Unary(UnOp::Not, Box::new(self.unary()?))),
            TokenKind::Int(magnitude) => Ok(Expr::Const(int_value(magnitude, false, token.span)?)),
            TokenKind::Ident(name) => Ok(Expr::Reg((self.resolve)(name, token.span)?)),
            TokenKind::Punct("(") => {
                let inner = self.or()?;
                self.cursor.expect_punct(")")?;
                Ok(inner)
            }
            other => Err(TextError::new(
                format!(
                    "expected a register, an integer or `(`, found {}",
                    other.describe()
                ),
                token.span,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Expr, TextError> {
        let mut names: Vec<String> = Vec::new();
        let mut resolve = |name: &str, _span: Range<usize>| {
            let index = match names.iter().position(|n| n == name) {
                Some(i) => i,
                None => {
                    names.push(name.to_string());
                    names.len() - 1
                }
            };
            Ok(Reg(index as u16))
        };
        parse_expr(text, &mut resolve)
    }

    #[test]
    fn precedence_and_evaluation() {
        let regs = [3, 4];
        let cases = [
            ("r0 + r1 * 2", 11),
            ("(r0 + r1) * 2", 14),
            ("r0 - 1 - 1", 1),
            ("r0 == 3 && r1 == 4", 1),
            ("r0 == 3 && r1 == 5 || r1 > 3", 1),
            ("!r0", 0),
            ("-r0 + 10", 7),
            ("-5", -5),
            ("r0 <= 3", 1),
            ("r0 != 3", 0),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text).unwrap().eval(&regs), want, "{text}");
        }
    }

    #[test]
    fn errors_point_at_the_offending_token() {
        let err = parse("r0 +").unwrap_err();
        assert_eq!(err.span, 4..4);
        assert!(
            err.message.contains("the end of the text"),
            "{}",
            err.message
        );
        let err = parse("r0 r1").unwrap_err();
        assert_eq!(err.span, 3..5);
        let err = parse("(r0 + 1").unwrap_err();
        assert!(err.message.contains("expected `)`"));
        let err = parse("r0 == 1 == 1").unwrap_err();
        assert_eq!(err.span, 8..10);
    }
}

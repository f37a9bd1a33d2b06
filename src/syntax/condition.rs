//! herd7's condition language, and the outcome lines used in expected outcome sets.
//!
//! ```text
//! condition  := "exists" prop | "~" "exists" prop | "forall" prop
//! prop       := conj ( "\/" conj )*
//! conj       := neg ( "/\" neg )*
//! neg        := "~" neg | "(" prop ")" | "true" | "false" | atom
//! atom       := observable "=" ["-"] INT
//! observable := THREAD ":" REGISTER | VARIABLE | "[" VARIABLE "]"
//! THREAD     := INT | thread name
//! outcome    := ( atom ";" )* [ atom ]           (e.g. `0:r0=1; 1:r0=0; x=1;`)
//! location   := observable                        (e.g. `0:EAX`, in `locations`)
//! ```

use std::ops::Range;

use super::lexer::{Cursor, TextError, TokenKind, int_value};
use crate::ir::{Condition, Observable, Prop, Quantifier, Val};

/// How an atom names its thread: by index (`0:r0`) or by name (`writer:r0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ThreadRef<'a> {
    Index(i64),
    Name(&'a str),
}

/// The name part of an atom, before resolution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AtomName<'a> {
    /// The thread, with its span, for a register; `None` for a shared variable.
    pub thread: Option<(ThreadRef<'a>, Range<usize>)>,
    /// The register or variable name.
    pub name: &'a str,
    /// Span of the register or variable name.
    pub span: Range<usize>,
}

/// Resolves atom names to observables.
pub(crate) type ObservableResolver<'r> =
    dyn FnMut(&AtomName<'_>) -> Result<Observable, TextError> + 'r;

/// Parses a full condition (`exists (...)`).
pub(crate) fn parse_condition(
    text: &str,
    resolve: &mut ObservableResolver<'_>,
) -> Result<Condition, TextError> {
    let mut p = Parser::new(text, resolve)?;
    let first = p.cursor.bump();
    let quantifier = match first.kind {
        TokenKind::Ident("exists") => Quantifier::Exists,
        TokenKind::Ident("forall") => Quantifier::Forall,
        TokenKind::Punct("~") if p.cursor.peek().kind == TokenKind::Ident("exists") => {
            p.cursor.bump();
            Quantifier::NotExists
        }
        other => {
            return Err(TextError::new(
                format!(
                    "expected `exists`, `~exists` or `forall`, found {}",
                    other.describe()
                ),
                first.span,
            )
            .with_help("a condition reads like `exists (0:r0=0 /\\ 1:r0=0)`"));
        }
    };
    let prop = p.disjunction()?;
    p.cursor
        .expect_end("`/\\`, `\\/` or the end of the condition")?;
    Ok(Condition {
        quantifier,
        prop,
        text: text.trim().to_string(),
    })
}

/// Parses a proposition alone, as in `0:r0=0 /\ x=1` (a condition without its
/// quantifier).
pub(crate) fn parse_proposition(
    text: &str,
    resolve: &mut ObservableResolver<'_>,
) -> Result<Prop, TextError> {
    let mut p = Parser::new(text, resolve)?;
    let prop = p.disjunction()?;
    p.cursor
        .expect_end("`/\\`, `\\/` or the end of the proposition")?;
    Ok(prop)
}

/// Parses the name of one observable, as in herd7's `locations [x; 0:EAX;]`:
/// `T:reg`, `x` or `[x]`.
pub(crate) fn parse_observable(
    text: &str,
    resolve: &mut ObservableResolver<'_>,
) -> Result<Observable, TextError> {
    let mut p = Parser::new(text, resolve)?;
    let name = p.atom_name()?;
    p.cursor.expect_end("the end of the location")?;
    (p.resolve)(&name)
}

/// Parses an outcome line such as `0:r0=1; 1:r0=0; x=1;` into its atoms.
pub(crate) fn parse_outcome(
    text: &str,
    resolve: &mut ObservableResolver<'_>,
) -> Result<Vec<(Observable, Val, Range<usize>)>, TextError> {
    let mut p = Parser::new(text, resolve)?;
    let mut atoms = Vec::new();
    while p.cursor.peek().kind != TokenKind::End {
        let start = p.cursor.peek().span.start;
        let (observable, value) = p.atom()?;
        atoms.push((observable, value, start..p.cursor.previous_end()));
        if p.cursor.peek().kind == TokenKind::Punct(";") {
            p.cursor.bump();
        } else {
            p.cursor.expect_end("`;` or the end of the outcome")?;
        }
    }
    Ok(atoms)
}

struct Parser<'t, 'r, 'a> {
    cursor: Cursor<'t>,
    resolve: &'r mut ObservableResolver<'a>,
}

impl<'t, 'r, 'a> Parser<'t, 'r, 'a> {
    fn new(text: &'t str, resolve: &'r mut ObservableResolver<'a>) -> Result<Self, TextError> {
        Ok(Parser {
            cursor: Cursor::new(text)?,
            resolve,
        })
    }

    fn disjunction(&mut self) -> Result<Prop, TextError> {
        let mut lhs = self.conjunction()?;
        while self.cursor.peek().kind == TokenKind::Punct("\\/") {
            self.cursor.bump();
            lhs = Prop::Or(Box::new(lhs), Box::new(self.conjunction()?));
        }
        Ok(lhs)
    }

    fn conjunction(&mut self) -> Result<Prop, TextError> {
        let mut lhs = self.negation()?;
        while self.cursor.peek().kind == TokenKind::Punct("/\\") {
            self.cursor.bump();
            lhs = Prop::And(Box::new(lhs), Box::new(self.negation()?));
        }
        Ok(lhs)
    }

    fn negation(&mut self) -> Result<Prop, TextError> {
        match self.cursor.peek().kind {
            TokenKind::Punct("~") => {
                self.cursor.bump();
                Ok(Prop::Not(Box::new(self.negation()?)))
            }
            TokenKind::Punct("(") => {
                self.cursor.bump();
                let inner = self.disjunction()?;
                self.cursor.expect_punct(")")?;
                Ok(inner)
            }
            TokenKind::Ident("true") => {
                self.cursor.bump();
                Ok(Prop::True)
            }
            TokenKind::Ident("false") => {
                self.cursor.bump();
                Ok(Prop::False)
            }
            _ => {
                let (observable, value) = self.atom()?;
                Ok(Prop::Eq(observable, value))
            }
        }
    }

    /// `observable = value`
    fn atom(&mut self) -> Result<(Observable, Val), TextError> {
        let name = self.atom_name()?;
        let observable = (self.resolve)(&name)?;
        self.cursor.expect_punct("=")?;
        let start = self.cursor.peek().span.start;
        let negative = self.cursor.peek().kind == TokenKind::Punct("-");
        if negative {
            self.cursor.bump();
        }
        let token = self.cursor.bump();
        match token.kind {
            TokenKind::Int(magnitude) => Ok((
                observable,
                int_value(magnitude, negative, start..token.span.end)?,
            )),
            other => Err(TextError::new(
                format!("expected an integer value, found {}", other.describe()),
                token.span,
            )),
        }
    }

    fn atom_name(&mut self) -> Result<AtomName<'t>, TextError> {
        let first = self.cursor.bump();
        let expected = |found: &TokenKind<'_>| {
            format!(
                "expected a register `T:reg` or a variable, found {}",
                found.describe()
            )
        };
        match first.kind {
            TokenKind::Punct("[") => {
                let name = self.cursor.bump();
                let TokenKind::Ident(var) = name.kind else {
                    return Err(TextError::new(
                        format!("expected a variable name, found {}", name.kind.describe()),
                        name.span,
                    ));
                };
                self.cursor.expect_punct("]")?;
                Ok(AtomName {
                    thread: None,
                    name: var,
                    span: name.span,
                })
            }
            TokenKind::Int(_) | TokenKind::Ident(_) => {
                if self.cursor.peek().kind != TokenKind::Punct(":") {
                    return match first.kind {
                        TokenKind::Ident(var) => Ok(AtomName {
                            thread: None,
                            name: var,
                            span: first.span,
                        }),
                        _ => Err(TextError::new(
                            format!("expected `:` after the thread number, found {}", {
                                self.cursor.peek().kind.describe()
                            }),
                            self.cursor.peek().span.clone(),
                        )),
                    };
                }
                self.cursor.bump();
                let thread = match first.kind {
                    TokenKind::Int(i) => ThreadRef::Index(i64::try_from(i).unwrap_or(i64::MAX)),
                    TokenKind::Ident(name) => ThreadRef::Name(name),
                    _ => unreachable!("invariant: matched Int or Ident above"),
                };
                let reg = self.cursor.bump();
                let TokenKind::Ident(name) = reg.kind else {
                    return Err(TextError::new(
                        format!("expected a register name, found {}", reg.kind.describe()),
                        reg.span,
                    ));
                };
                Ok(AtomName {
                    thread: Some((thread, first.span)),
                    name,
                    span: reg.span,
                })
            }
            other => Err(TextError::new(expected(&other), first.span)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Loc, Reg, ThreadId};

    /// Threads 0 and 1 (named `w` and `r`) each have r0 and r1; variables are x and y.
    fn resolve(name: &AtomName<'_>) -> Result<Observable, TextError> {
        let reg = |n: &str| match n {
            "r0" => Some(Reg(0)),
            "r1" => Some(Reg(1)),
            _ => None,
        };
        match &name.thread {
            Some((thread, span)) => {
                let t = match thread {
                    ThreadRef::Index(i @ 0..=1) => *i as u16,
                    ThreadRef::Name("w") => 0,
                    ThreadRef::Name("r") => 1,
                    _ => return Err(TextError::new("no such thread", span.clone())),
                };
                reg(name.name)
                    .map(|r| Observable::Reg(ThreadId(t), r))
                    .ok_or_else(|| TextError::new("no such register", name.span.clone()))
            }
            None => match name.name {
                "x" => Ok(Observable::Loc(Loc(0))),
                "y" => Ok(Observable::Loc(Loc(1))),
                _ => Err(TextError::new("no such variable", name.span.clone())),
            },
        }
    }

    fn cond(text: &str) -> Result<Condition, TextError> {
        parse_condition(text, &mut resolve)
    }

    #[test]
    fn parses_quantifiers_and_connectives() {
        let c = cond("exists (0:r0=0 /\\ 1:r0=0)").unwrap();
        assert_eq!(c.quantifier, Quantifier::Exists);
        let r0 = |t| Observable::Reg(ThreadId(t), Reg(0));
        assert_eq!(
            c.prop,
            Prop::And(Box::new(Prop::Eq(r0(0), 0)), Box::new(Prop::Eq(r0(1), 0)))
        );
        assert_eq!(
            cond("~exists x=1").unwrap().quantifier,
            Quantifier::NotExists
        );
        assert_eq!(
            cond("forall (w:r1=-1 \\/ [y]=2)").unwrap().prop,
            Prop::Or(
                Box::new(Prop::Eq(Observable::Reg(ThreadId(0), Reg(1)), -1)),
                Box::new(Prop::Eq(Observable::Loc(Loc(1)), 2))
            )
        );
    }

    #[test]
    fn and_binds_tighter_than_or_and_not_tightest() {
        let c = cond("exists x=1 \\/ x=2 /\\ ~y=1").unwrap();
        let x = |v| Box::new(Prop::Eq(Observable::Loc(Loc(0)), v));
        let not_y = Box::new(Prop::Not(Box::new(Prop::Eq(Observable::Loc(Loc(1)), 1))));
        assert_eq!(c.prop, Prop::Or(x(1), Box::new(Prop::And(x(2), not_y))));
    }

    #[test]
    fn errors_name_what_was_expected_and_found() {
        let err = cond("exist (x=1)").unwrap_err();
        assert_eq!(err.span, 0..5);
        assert!(err.message.contains("expected `exists`"));
        let err = cond("exists (x=1").unwrap_err();
        assert!(err.message.contains("expected `)`"), "{}", err.message);
        let err = cond("exists (2:r0=1)").unwrap_err();
        assert_eq!(err.span, 8..9);
        let err = cond("exists (x=1) y=2").unwrap_err();
        assert_eq!(err.span, 13..14);
        let err = cond("exists (0:r0=a)").unwrap_err();
        assert!(err.message.contains("expected an integer value"));
    }

    #[test]
    fn outcome_lines() {
        let atoms = parse_outcome("0:r0=1; 1:r1=0; x=2;", &mut resolve).unwrap();
        let values: Vec<_> = atoms.iter().map(|(o, v, _)| (*o, *v)).collect();
        assert_eq!(
            values,
            vec![
                (Observable::Reg(ThreadId(0), Reg(0)), 1),
                (Observable::Reg(ThreadId(1), Reg(1)), 0),
                (Observable::Loc(Loc(0)), 2)
            ]
        );
        assert_eq!(atoms[2].2, 16..19);
        assert!(parse_outcome("x=1 y=2", &mut resolve).is_err());
    }
}

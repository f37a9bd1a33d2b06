//! herd7's condition language, with atoms naming how an execution ends, and
//! the outcome lines used in expected outcome sets.
//!
//! ```text
//! condition  := "exists" prop | "~" "exists" prop | "forall" prop
//! prop       := conj ( "\/" conj )*
//! conj       := neg ( "/\" neg )*
//! neg        := "~" neg | "(" prop ")" | "true" | "false" | ending | atom
//! ending     := "deadlock" | "leak" | "panic" | "never_terminates"
//!             | "panic" "(" THREAD ")" | "blocked" "(" THREAD ")"
//! atom       := observable "=" ["-"] INT
//! observable := THREAD ":" REGISTER | VARIABLE | "[" VARIABLE "]"
//! THREAD     := INT | thread name
//! outcome    := ( atom ";" )* [ atom ]           (e.g. `0:r0=1; 1:r0=0; x=1;`)
//! location   := observable                        (e.g. `0:EAX`, in `locations`)
//! ```
//!
//! A word of `ending` is an ending atom only when no `=` or `:` follows it, so
//! a variable or thread may still be called `panic` or `leak`. A condition
//! ranges over every outcome: a value atom is false on an outcome that is not
//! a final state, an ending atom is true only on outcomes of its kind
//! ([`crate::outcome::OutcomeSet::satisfies`]).

use std::ops::Range;

use super::lexer::{Cursor, TextError, TokenKind, int_value};
use crate::ir::{Condition, Ending, Observable, Prop, Quantifier, ThreadId, Val};

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

/// Resolves the names in conditions and outcome lines.
pub(crate) trait Resolve {
    /// The observable a register or variable name denotes.
    fn observable(&self, name: &AtomName<'_>) -> Result<Observable, TextError>;
    /// The thread named in `panic(T)` or `blocked(T)`, at `span`.
    fn thread(&self, thread: ThreadRef<'_>, span: Range<usize>) -> Result<ThreadId, TextError>;
}

/// The atoms naming how an execution ends, for error messages.
const ENDING_ATOMS: &str =
    "`deadlock`, `leak`, `panic`, `never_terminates`, `panic(T)` or `blocked(T)`";

/// Parses a full condition (`exists (...)`).
pub(crate) fn parse_condition(text: &str, resolve: &dyn Resolve) -> Result<Condition, TextError> {
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
pub(crate) fn parse_proposition(text: &str, resolve: &dyn Resolve) -> Result<Prop, TextError> {
    let mut p = Parser::new(text, resolve)?;
    let prop = p.disjunction()?;
    p.cursor
        .expect_end("`/\\`, `\\/` or the end of the proposition")?;
    Ok(prop)
}

/// Parses the name of one observable, as in herd7's `locations [x; 0:EAX;]`:
/// `T:reg`, `x` or `[x]`.
pub(crate) fn parse_observable(text: &str, resolve: &dyn Resolve) -> Result<Observable, TextError> {
    let mut p = Parser::new(text, resolve)?;
    let name = p.atom_name()?;
    p.cursor.expect_end("the end of the location")?;
    p.resolve.observable(&name)
}

/// Parses an outcome line such as `0:r0=1; 1:r0=0; x=1;` into its atoms.
pub(crate) fn parse_outcome(
    text: &str,
    resolve: &dyn Resolve,
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

struct Parser<'t, 'r> {
    cursor: Cursor<'t>,
    resolve: &'r dyn Resolve,
}

impl<'t, 'r> Parser<'t, 'r> {
    fn new(text: &'t str, resolve: &'r dyn Resolve) -> Result<Self, TextError> {
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
            TokenKind::Ident(word)
                if !matches!(
                    self.cursor.peek_second().kind,
                    TokenKind::Punct("=") | TokenKind::Punct(":")
                ) =>
            {
                self.ending(word)
            }
            _ => {
                let (observable, value) = self.atom()?;
                Ok(Prop::Eq(observable, value))
            }
        }
    }

    /// An ending atom, `word` being the next token: `deadlock`, `panic(T)`.
    fn ending(&mut self, word: &str) -> Result<Prop, TextError> {
        let token = self.cursor.bump();
        let with_thread = self.cursor.peek().kind == TokenKind::Punct("(");
        let ending = match (word, with_thread) {
            ("deadlock", false) => Ending::Deadlock,
            ("leak", false) => Ending::Leak,
            ("panic", false) => Ending::Panic,
            ("never_terminates", false) => Ending::NeverTerminates,
            ("panic", true) => Ending::PanicOf(self.thread_argument()?),
            ("blocked", _) => Ending::Blocked(self.thread_argument()?),
            _ => {
                return Err(TextError::new(
                    format!(
                        "expected an atom: a register or variable compared with a value (`0:r0=1`, `x=1`), or {ENDING_ATOMS}; found `{word}`"
                    ),
                    token.span,
                )
                .with_help(format!(
                    "a register or variable needs a value: `{word}=1`"
                )));
            }
        };
        Ok(Prop::Ends(ending))
    }

    /// `( THREAD )` after `panic` or `blocked`.
    fn thread_argument(&mut self) -> Result<ThreadId, TextError> {
        self.cursor.expect_punct("(")?;
        let token = self.cursor.bump();
        let thread = match token.kind {
            TokenKind::Int(i) => ThreadRef::Index(i64::try_from(i).unwrap_or(i64::MAX)),
            TokenKind::Ident(name) => ThreadRef::Name(name),
            other => {
                return Err(TextError::new(
                    format!(
                        "expected a thread (an index or a name), found {}",
                        other.describe()
                    ),
                    token.span,
                ));
            }
        };
        let t = self.resolve.thread(thread, token.span)?;
        self.cursor.expect_punct(")")?;
        Ok(t)
    }

    /// `observable = value`
    fn atom(&mut self) -> Result<(Observable, Val), TextError> {
        let name = self.atom_name()?;
        let observable = self.resolve.observable(&name)?;
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

    /// Threads 0 and 1 (named `w` and `r`) each have r0 and r1; variables are
    /// x, y and panic.
    struct Names;

    impl Resolve for Names {
        fn thread(&self, thread: ThreadRef<'_>, span: Range<usize>) -> Result<ThreadId, TextError> {
            match thread {
                ThreadRef::Index(i @ 0..=1) => Ok(ThreadId(i as u16)),
                ThreadRef::Name("w") => Ok(ThreadId(0)),
                ThreadRef::Name("r") => Ok(ThreadId(1)),
                _ => Err(TextError::new("no such thread", span)),
            }
        }

        fn observable(&self, name: &AtomName<'_>) -> Result<Observable, TextError> {
            let reg = |n: &str| match n {
                "r0" => Some(Reg(0)),
                "r1" => Some(Reg(1)),
                _ => None,
            };
            match &name.thread {
                Some((thread, span)) => {
                    let t = self.thread(*thread, span.clone())?;
                    reg(name.name)
                        .map(|r| Observable::Reg(t, r))
                        .ok_or_else(|| TextError::new("no such register", name.span.clone()))
                }
                None => match name.name {
                    "x" => Ok(Observable::Loc(Loc(0))),
                    "y" => Ok(Observable::Loc(Loc(1))),
                    "panic" => Ok(Observable::Loc(Loc(2))),
                    _ => Err(TextError::new("no such variable", name.span.clone())),
                },
            }
        }
    }

    fn cond(text: &str) -> Result<Condition, TextError> {
        parse_condition(text, &Names)
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
    fn ending_atoms_with_and_without_a_thread() {
        let ends = |e| Box::new(Prop::Ends(e));
        assert_eq!(
            cond("exists (deadlock \\/ leak) /\\ ~panic /\\ never_terminates")
                .unwrap()
                .prop,
            Prop::And(
                Box::new(Prop::And(
                    Box::new(Prop::Or(ends(Ending::Deadlock), ends(Ending::Leak))),
                    Box::new(Prop::Not(ends(Ending::Panic)))
                )),
                ends(Ending::NeverTerminates)
            )
        );
        assert_eq!(
            cond("exists panic(r) \\/ blocked(0)").unwrap().prop,
            Prop::Or(
                ends(Ending::PanicOf(ThreadId(1))),
                ends(Ending::Blocked(ThreadId(0)))
            )
        );
        // Followed by `=`, the word is a variable's name.
        assert_eq!(
            cond("exists panic=1").unwrap().prop,
            Prop::Eq(Observable::Loc(Loc(2)), 1)
        );
    }

    #[test]
    fn unknown_words_name_the_accepted_atoms() {
        let err = cond("exists (deadlok)").unwrap_err();
        assert_eq!(err.span, 8..15);
        assert!(
            err.message.contains("`deadlock`, `leak`, `panic`"),
            "{}",
            err.message
        );
        let err = cond("exists blocked").unwrap_err();
        assert!(err.message.contains("expected `(`"), "{}", err.message);
        let err = cond("exists panic(q)").unwrap_err();
        assert_eq!((err.message.as_str(), err.span), ("no such thread", 13..14));
        let err = cond("exists blocked(w").unwrap_err();
        assert!(err.message.contains("expected `)`"), "{}", err.message);
    }

    #[test]
    fn outcome_lines() {
        let atoms = parse_outcome("0:r0=1; 1:r1=0; x=2;", &Names).unwrap();
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
        assert!(parse_outcome("x=1 y=2", &Names).is_err());
    }
}

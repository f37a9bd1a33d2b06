//! herd7's X86 instructions (Intel operand order) as litmus instructions.
//!
//! | herd7 X86 | litmus instruction |
//! |---|---|
//! | `MOV [x],$1`, `MOV [x],EAX` | `Store("x", 1)`, `Store("x", "EAX")` |
//! | `MOV EAX,[x]` | `Load("EAX", "x")` |
//! | `MOV EAX,$1`, `MOV EAX,EBX` | `Let("EAX", 1)`, `Let("EAX", "EBX")` |
//! | `ADD EAX,$1`, `INC EAX`, `DEC EAX` | `Let("EAX", "EAX + 1")`, ... |
//! | `MFENCE` | `Fence` |
//! | `LFENCE`, `SFENCE` | nothing: no-ops under x86-TSO (docs/herd.md) |
//! | `XCHG [x],EAX`, `XCHG EAX,[x]` (locked with or without `LOCK`) | `Xchg("EAX", "x", "EAX")` |
//! | `LOCK XADD [x],EAX` | `FetchAdd("EAX", "x", "EAX")` |
//! | `LOCK ADD [x],$1`, `LOCK INC [x]`, `LOCK DEC [x]` | `FetchAdd("scratch", "x", 1)` (or `-1`) |
//! | `LOCK CMPXCHG [x],EBX` | `Cas("EAX", "x", "EAX", "EBX")` |
//!
//! Operands are evaluated before the destination is written, so `Xchg("EAX",
//! "x", "EAX")` swaps, and `Cas` leaves the old value of `x` in `EAX` whether or
//! not it succeeds, as `CMPXCHG` does. The old value of a `LOCK ADD`, `INC` or
//! `DEC` goes to the register `scratch` ([`scratch_register`]; `scratch1`,
//! `scratch2`, ... when the test itself uses that word, as a variable), which
//! x86 code cannot name. Everything else (labels and jumps, `CMP`, other fences, register
//! exchanges, indirect addressing, read-modify-writes on memory without `LOCK`,
//! which x86 does not perform atomically) is an error naming the instruction.

use std::ops::Range;

use super::lexer::{Tok, Token};
use crate::syntax::ast::{Instr, Operand};
use crate::syntax::literal::RecordedSpans;

/// The register receiving the old value of `LOCK ADD`, `LOCK INC` and
/// `LOCK DEC` in a test whose text is `source`: `scratch`, or the first of
/// `scratch1`, `scratch2`, ... that is not a word of the test, so that it
/// names none of its variables.
pub(crate) fn scratch_register(source: &str) -> String {
    let words: std::collections::HashSet<&str> = source
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    std::iter::once("scratch".to_string())
        .chain((1..).map(|i| format!("scratch{i}")))
        .find(|name| !words.contains(name.as_str()))
        .expect("invariant: a finite text lacks some name")
}

/// The registers instructions may name.
const REGISTERS: &[&str] = crate::syntax::X86_REGISTERS;

/// Why an instruction cannot be read: a message and help, at a byte range.
#[derive(Debug)]
pub(super) struct InstrError {
    pub message: String,
    pub span: Range<usize>,
    pub help: Option<String>,
}

impl InstrError {
    fn new(message: impl Into<String>, span: Range<usize>) -> Self {
        InstrError {
            message: message.into(),
            span,
            help: None,
        }
    }

    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// One operand as written.
#[derive(Debug)]
enum Arg {
    /// `[x]`: the variable and the span of its name.
    Mem(String, Range<usize>),
    /// `EAX`: the register, as written.
    Reg(String, Range<usize>),
    /// `$1`, `1`, `$-1`.
    Imm(i64),
}

const SUPPORTED: &str = "supported: MOV, MFENCE, LFENCE, SFENCE, XCHG, LOCK XADD, LOCK ADD/INC/DEC on memory, LOCK CMPXCHG, and ADD/INC/DEC on registers";

/// Reads the instruction in one program cell (its tokens, without `|` and `;`)
/// of `source`: `None` for an empty cell. `scratch` is the register for the
/// old value of a locked `ADD`, `INC` or `DEC` ([`scratch_register`]).
pub(super) fn instruction(
    source: &str,
    cell: &[Token<'_>],
    spans: &mut RecordedSpans,
    scratch: &str,
) -> Result<Option<Instr>, InstrError> {
    let Some(first) = cell.first() else {
        return Ok(None);
    };
    let whole = first.span.start..cell.last().map_or(first.span.end, |t| t.span.end);
    // The instruction as written, on one line.
    let written = source[whole.clone()]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");

    if let (
        Tok::Word(label),
        Some(Token {
            tok: Tok::Punct(":"),
            ..
        }),
    ) = (first.tok, cell.get(1))
    {
        return Err(InstrError::new(
            format!("expected an instruction, found the label `{label}:`"),
            whole,
        )
        .help("labels and jumps are not supported"));
    }
    let Tok::Word(word) = first.tok else {
        return Err(InstrError::new(
            format!("expected an instruction, found {}", first.tok.describe()),
            first.span.clone(),
        ));
    };
    let mut rest = &cell[1..];
    let mut locked = false;
    let mut mnemonic = (word.to_ascii_uppercase(), first.span.clone());
    if mnemonic.0 == "LOCK" {
        locked = true;
        if let Some(Token {
            tok: Tok::Punct(";"),
            ..
        }) = rest.first()
        {
            rest = &rest[1..];
        }
        match rest.first() {
            Some(Token {
                tok: Tok::Word(w),
                span,
            }) => {
                mnemonic = (w.to_ascii_uppercase(), span.clone());
                rest = &rest[1..];
            }
            Some(other) => {
                return Err(InstrError::new(
                    format!(
                        "expected an instruction after `LOCK`, found {}",
                        other.tok.describe()
                    ),
                    other.span.clone(),
                ));
            }
            None => {
                return Err(InstrError::new(
                    "expected an instruction after `LOCK`, found nothing",
                    whole,
                ));
            }
        }
    }
    let args = operands(rest)?;
    let unsupported = || {
        InstrError::new(
            format!("expected a supported instruction, found `{written}`"),
            whole.clone(),
        )
        .help(SUPPORTED)
    };
    let not_locked = || {
        InstrError::new(
            format!(
                "expected `LOCK` before a read-modify-write of memory, found `{written}` (hbsim has no non-atomic read-modify-write)"
            ),
            whole.clone(),
        )
        .help(format!("write `LOCK {written}`"))
    };
    let reg = |spans: &mut RecordedSpans, name: &str, span: &Range<usize>| {
        spans.verbatim(name, span.clone())
    };
    let value = |spans: &mut RecordedSpans, arg: &Arg| match arg {
        Arg::Imm(v) => Operand::Int(*v),
        Arg::Reg(name, span) => Operand::Expr(spans.verbatim(name.as_str(), span.clone())),
        Arg::Mem(..) => unreachable!("invariant: callers pass registers or immediates"),
    };
    let scratch = |spans: &mut RecordedSpans| spans.replacing(scratch, whole.clone());
    let instr = match (mnemonic.0.as_str(), args.as_slice()) {
        ("MFENCE", []) if !locked => Instr::Fence,
        // x86-TSO orders everything but a store before a later load, which
        // only MFENCE (and locked instructions) order: these order nothing
        // for ordinary memory (docs/herd.md).
        ("LFENCE" | "SFENCE", []) if !locked => return Ok(None),
        ("MOV" | "MOVB" | "MOVW" | "MOVL" | "MOVQ", [dst, src]) if !locked => match (dst, src) {
            (Arg::Mem(x, xs), Arg::Imm(_) | Arg::Reg(..)) => {
                let var = spans.verbatim(x.as_str(), xs.clone());
                Instr::Store(var, value(spans, src))
            }
            (Arg::Reg(r, rs), Arg::Mem(x, xs)) => {
                let dst = reg(spans, r, rs);
                Instr::Load(dst, spans.verbatim(x.as_str(), xs.clone()))
            }
            (Arg::Reg(r, rs), Arg::Imm(_) | Arg::Reg(..)) => {
                let dst = reg(spans, r, rs);
                Instr::Let(dst, value(spans, src))
            }
            (Arg::Mem(..), Arg::Mem(..)) => {
                return Err(InstrError::new(
                    format!(
                        "expected a register or an immediate among the operands, found `{written}`, which moves memory to memory (x86 cannot)"
                    ),
                    whole,
                ));
            }
            (Arg::Imm(_), _) => return Err(unsupported()),
        },
        ("XCHG", [a, b]) => match (a, b) {
            (Arg::Mem(x, xs), Arg::Reg(r, rs)) | (Arg::Reg(r, rs), Arg::Mem(x, xs)) => {
                let dst = reg(spans, r, rs);
                let var = spans.verbatim(x.as_str(), xs.clone());
                let operand = Operand::Expr(reg(spans, r, rs));
                Instr::Xchg(dst, var, operand)
            }
            _ => return Err(unsupported()),
        },
        ("XADD", [Arg::Mem(x, xs), Arg::Reg(r, rs)]) => {
            if !locked {
                return Err(not_locked());
            }
            let dst = reg(spans, r, rs);
            let var = spans.verbatim(x.as_str(), xs.clone());
            Instr::FetchAdd(dst, var, Operand::Expr(reg(spans, r, rs)))
        }
        ("ADD", [Arg::Mem(x, xs), src @ (Arg::Imm(_) | Arg::Reg(..))]) => {
            if !locked {
                return Err(not_locked());
            }
            let var = spans.verbatim(x.as_str(), xs.clone());
            let dst = scratch(spans);
            Instr::FetchAdd(dst, var, value(spans, src))
        }
        ("INC" | "DEC", [Arg::Mem(x, xs)]) => {
            if !locked {
                return Err(not_locked());
            }
            let var = spans.verbatim(x.as_str(), xs.clone());
            let dst = scratch(spans);
            let step = if mnemonic.0 == "INC" { 1 } else { -1 };
            Instr::FetchAdd(dst, var, Operand::Int(step))
        }
        ("CMPXCHG", [Arg::Mem(x, xs), Arg::Reg(r, rs)]) => {
            if !locked {
                return Err(not_locked());
            }
            let eax = spans.replacing("EAX", whole.clone());
            let var = spans.verbatim(x.as_str(), xs.clone());
            let expected = Operand::Expr(spans.replacing("EAX", whole.clone()));
            let new = Operand::Expr(reg(spans, r, rs));
            Instr::Cas(eax, var, expected, new)
        }
        ("ADD", [Arg::Reg(r, rs), src @ (Arg::Imm(_) | Arg::Reg(..))]) if !locked => {
            let dst = reg(spans, r, rs);
            let sum = match src {
                Arg::Imm(v) => format!("{r} + {v}"),
                Arg::Reg(s, _) => format!("{r} + {s}"),
                Arg::Mem(..) => unreachable!("invariant: matched above"),
            };
            Instr::Let(dst, Operand::Expr(spans.replacing(sum, whole.clone())))
        }
        ("INC" | "DEC", [Arg::Reg(r, rs)]) if !locked => {
            let dst = reg(spans, r, rs);
            let sum = if mnemonic.0 == "INC" {
                format!("{r} + 1")
            } else {
                format!("{r} - 1")
            };
            Instr::Let(dst, Operand::Expr(spans.replacing(sum, whole.clone())))
        }
        _ => return Err(unsupported()),
    };
    Ok(Some(instr))
}

/// Reads the operands after the mnemonic, separated by commas.
fn operands(tokens: &[Token<'_>]) -> Result<Vec<Arg>, InstrError> {
    let mut args = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if !args.is_empty() {
            match &tokens[i] {
                Token {
                    tok: Tok::Punct(","),
                    ..
                } => i += 1,
                other => {
                    return Err(InstrError::new(
                        format!(
                            "expected `,` between operands, found {}",
                            other.tok.describe()
                        ),
                        other.span.clone(),
                    ));
                }
            }
        }
        let (arg, used) = operand(&tokens[i..], tokens.get(i.wrapping_sub(1)))?;
        args.push(arg);
        i += used;
    }
    Ok(args)
}

/// One operand at the start of `tokens`, and how many tokens it takes.
fn operand(tokens: &[Token<'_>], before: Option<&Token<'_>>) -> Result<(Arg, usize), InstrError> {
    let Some(first) = tokens.first() else {
        let at = before.map_or(0..0, |t| t.span.end..t.span.end);
        return Err(InstrError::new("expected an operand, found nothing", at));
    };
    match first.tok {
        Tok::Punct("[") => {
            let inner = tokens.get(1);
            let close = tokens.get(2);
            match (inner.map(|t| t.tok), close.map(|t| t.tok)) {
                (Some(Tok::Word(w)), Some(Tok::Punct("]"))) => {
                    let span = inner.expect("invariant: matched").span.clone();
                    if REGISTERS.contains(&w) {
                        return Err(InstrError::new(
                            format!("expected a variable in `[...]`, found the register `{w}`"),
                            first.span.start..close.expect("invariant: matched").span.end,
                        )
                        .help("indirect addressing through registers is not supported"));
                    }
                    Ok((Arg::Mem(w.to_string(), span), 3))
                }
                _ => {
                    let end = tokens
                        .iter()
                        .position(|t| t.tok == Tok::Punct("]"))
                        .map_or(first.span.end, |p| tokens[p].span.end);
                    let describe = |t: Option<&Token<'_>>, none: &str| {
                        t.map_or(none.to_string(), |t| t.tok.describe())
                    };
                    let message = match inner.map(|t| t.tok) {
                        Some(Tok::Word(w)) => format!(
                            "expected `]` closing the memory operand `[{w}`, found {}",
                            describe(close, "the end of the instruction")
                        ),
                        _ => format!(
                            "expected a variable inside `[`, found {}",
                            describe(inner, "the end of the instruction")
                        ),
                    };
                    Err(InstrError::new(message, first.span.start..end))
                }
            }
        }
        Tok::Punct("$") | Tok::Punct("-") | Tok::Int(_) => {
            let mut i = usize::from(first.tok == Tok::Punct("$"));
            let negative = tokens.get(i).map(|t| t.tok) == Some(Tok::Punct("-"));
            if negative {
                i += 1;
            }
            match tokens.get(i) {
                Some(Token {
                    tok: Tok::Int(digits),
                    span,
                }) => {
                    let text = if negative {
                        format!("-{digits}")
                    } else {
                        digits.to_string()
                    };
                    let value = text.parse::<i64>().map_err(|_| {
                        InstrError::new(
                            format!("expected a 64-bit integer, found `{text}`"),
                            first.span.start..span.end,
                        )
                    })?;
                    Ok((Arg::Imm(value), i + 1))
                }
                other => Err(InstrError::new(
                    format!(
                        "expected an integer, found {}",
                        other.map_or("nothing".to_string(), |t| t.tok.describe())
                    ),
                    other.map_or(first.span.clone(), |t| t.span.clone()),
                )),
            }
        }
        Tok::Word(w) if REGISTERS.contains(&w) => {
            Ok((Arg::Reg(w.to_string(), first.span.clone()), 1))
        }
        Tok::Word(w) => Err(InstrError::new(
            format!("expected a register, `[variable]` or `$value`, found `{w}`"),
            first.span.clone(),
        )
        .help(format!("registers are {}", REGISTERS.join(", ")))),
        other => Err(InstrError::new(
            format!(
                "expected a register, `[variable]` or `$value`, found {}",
                other.describe()
            ),
            first.span.clone(),
        )),
    }
}

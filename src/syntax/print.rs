//! Writing the litmus AST back as a RON litmus file (docs/format.md), for
//! `hbsim convert`.
//!
//! Every field the AST holds is written, so reading the output back gives the
//! same AST (up to where its literals are) and hence the same program. Strings
//! are written with Rust's escapes, which RON reads the same way.

use std::fmt::Write;

use super::ast::{Entries, Instr, LitmusFile, Operand, Threads};
use super::literal::Lit;

/// Lines longer than this put one instruction per line.
const WIDTH: usize = 96;

/// The file as RON, after `comment` (one `// ` line each).
pub(crate) fn print_ron(file: &LitmusFile, comment: &[String]) -> String {
    let mut out = String::new();
    for line in comment {
        let line = line.trim_end();
        if line.is_empty() {
            out.push_str("//\n");
        } else {
            let _ = writeln!(out, "// {line}");
        }
    }
    out.push_str("Litmus(\n");
    let _ = writeln!(out, "    name: {},", quote(&file.name));
    if let Some(doc) = &file.doc {
        let _ = writeln!(out, "    doc: {},", quote(doc));
    }
    if !file.init.0.is_empty() {
        let _ = writeln!(out, "    init: {},", map(&file.init, |v| v.to_string()));
    }
    if !file.words.0.is_empty() {
        let _ = writeln!(out, "    words: {},", map(&file.words, |v| v.to_string()));
    }
    if !file.channels.0.is_empty() {
        let _ = writeln!(
            out,
            "    channels: {},",
            map(&file.channels, |v| v
                .map_or("None".to_string(), |c| c.to_string()))
        );
    }
    out.push_str("    threads: ");
    match &file.threads {
        Threads::Unnamed(threads) => {
            out.push_str("[\n");
            for code in threads {
                let _ = writeln!(out, "        {},", block(code, 8));
            }
            out.push_str("    ],\n");
        }
        Threads::Named(threads) => {
            out.push_str("{\n");
            for (name, code) in threads {
                let _ = writeln!(out, "        {}: {},", quote(name), block(code, 8));
            }
            out.push_str("    },\n");
        }
    }
    let _ = writeln!(out, "    condition: {},", quote(&file.condition));
    if !file.locations.is_empty() {
        let items: Vec<String> = file.locations.iter().map(quote).collect();
        let _ = writeln!(out, "    locations: [ {} ],", items.join(", "));
    }
    if !file.expect.0.is_empty() {
        let _ = writeln!(out, "    expect: {},", map(&file.expect, |o| o.to_string()));
    }
    if !file.outcomes.0.is_empty() {
        out.push_str("    outcomes: {\n");
        for (model, lines) in &file.outcomes.0 {
            let items: Vec<String> = lines.iter().map(quote).collect();
            let _ = writeln!(out, "        {}: [ {} ],", quote(model), items.join(", "));
        }
        out.push_str("    },\n");
    }
    if !file.races.0.is_empty() {
        let _ = writeln!(out, "    races: {},", map(&file.races, |r| r.to_string()));
    }
    out.push_str(")\n");
    out
}

fn quote(lit: &Lit) -> String {
    format!("{:?}", lit.text)
}

fn map<V>(entries: &Entries<V>, value: impl Fn(&V) -> String) -> String {
    let items: Vec<String> = entries
        .0
        .iter()
        .map(|(k, v)| format!("{}: {}", quote(k), value(v)))
        .collect();
    format!("{{ {} }}", items.join(", "))
}

fn operand(o: &Operand) -> String {
    match o {
        Operand::Int(v) => v.to_string(),
        Operand::Expr(lit) => quote(lit),
    }
}

/// A list of instructions, on one line if it fits, else one per line indented
/// by `indent + 4`.
fn block(code: &[Instr], indent: usize) -> String {
    let items: Vec<String> = code.iter().map(|i| instruction(i, indent + 4)).collect();
    if items.is_empty() {
        return "[]".to_string();
    }
    let one_line = format!("[ {} ]", items.join(", "));
    if indent + one_line.len() <= WIDTH && !one_line.contains('\n') {
        return one_line;
    }
    let pad = " ".repeat(indent + 4);
    let mut out = "[\n".to_string();
    for item in items {
        let _ = writeln!(out, "{pad}{item},");
    }
    out.push_str(&" ".repeat(indent));
    out.push(']');
    out
}

fn instruction(instr: &Instr, indent: usize) -> String {
    match instr {
        Instr::Load(r, x) => format!("Load({}, {})", quote(r), quote(x)),
        Instr::Store(x, v) => format!("Store({}, {})", quote(x), operand(v)),
        Instr::AtomicLoad(r, x) => format!("AtomicLoad({}, {})", quote(r), quote(x)),
        Instr::AtomicStore(x, v) => format!("AtomicStore({}, {})", quote(x), operand(v)),
        Instr::Fence => "Fence".to_string(),
        Instr::Xchg(r, x, v) => format!("Xchg({}, {}, {})", quote(r), quote(x), operand(v)),
        Instr::FetchAdd(r, x, v) => {
            format!("FetchAdd({}, {}, {})", quote(r), quote(x), operand(v))
        }
        Instr::Cas(r, x, e, n) => format!(
            "Cas({}, {}, {}, {})",
            quote(r),
            quote(x),
            operand(e),
            operand(n)
        ),
        Instr::Let(r, v) => format!("Let({}, {})", quote(r), operand(v)),
        Instr::If {
            cond,
            then,
            otherwise,
        } => {
            let mut out = format!("If(cond: {}, then: {}", quote(cond), block(then, indent));
            if !otherwise.is_empty() {
                let _ = write!(out, ", else: {}", block(otherwise, indent));
            }
            out.push(')');
            out
        }
        Instr::Loop { body, until } => format!(
            "Loop(body: {}, until: {})",
            block(body, indent),
            quote(until)
        ),
        Instr::Select { cases, default } => {
            let cases: Vec<String> = cases
                .iter()
                .map(|case| {
                    let op = case.source();
                    let (_, body) = case.parts();
                    format!("{}, {})", op.trim_end_matches(')'), block(body, indent + 4))
                })
                .collect();
            let mut out = format!("Select(cases: [ {} ]", cases.join(", "));
            if let Some(default) = default {
                let _ = write!(out, ", default: {}", block(default, indent));
            }
            out.push(')');
            out
        }
        Instr::OnceDo(once, body) => format!("OnceDo({}, {})", quote(once), block(body, indent)),
        Instr::Lock(_)
        | Instr::Unlock(_)
        | Instr::TryLock(..)
        | Instr::RLock(_)
        | Instr::RUnlock(_)
        | Instr::TryRLock(..)
        | Instr::Add(..)
        | Instr::Done(_)
        | Instr::Wait(_)
        | Instr::Go(_)
        | Instr::Send(..)
        | Instr::Recv(..)
        | Instr::RecvOk(..)
        | Instr::Close(_) => instr.source(),
    }
}

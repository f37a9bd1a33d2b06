//! An execution as a Graphviz graph: one cluster per thread (initial writes in
//! their own), events labelled with their instruction, and edges in distinct
//! styles:
//!
//! | edge | style |
//! |---|---|
//! | po, program order | solid black |
//! | rf, reads-from | dashed, red |
//! | sw, synchronised before | bold, blue |
//! | hb via sw: an event of another thread newly known to happen before this one | dotted, blue |
//! | race | bold dotted, orange, undirected |
//!
//! Edges that cross threads get `weight=0` so they do not pull the layout
//! (`constraint=false` trips Graphviz's ranking on some graphs with clusters).
//! Written by hand rather than with petgraph's `Dot`, which is meant for
//! debugging and has no clusters.

use std::io::{self, Write};

use super::describe::Names;
use crate::hb::{EventId, Execution, graph::HbEdge};
use crate::ir::{Program, ThreadId};

/// Writes the execution as a DOT digraph named `title`.
///
/// # Errors
/// Any error from `out`.
pub fn render(
    program: &Program,
    exec: &Execution,
    title: &str,
    out: &mut impl Write,
) -> io::Result<()> {
    let names = Names::new(program);
    writeln!(out, "digraph {} {{", quote(title))?;
    writeln!(out, "  label={}; labelloc=t;", quote(title))?;
    writeln!(
        out,
        "  node [shape=box, fontname=\"monospace\", fontsize=10];"
    )?;
    writeln!(out, "  edge [fontname=\"monospace\", fontsize=9];")?;
    writeln!(out, "  subgraph cluster_init {{")?;
    writeln!(out, "    label=\"initial writes\"; style=dashed;")?;
    for e in exec.events.iter().filter(|e| e.thread.is_none()) {
        writeln!(
            out,
            "    {} [label={}];",
            e.id,
            quote(&format!("{}: {}", e.id, names.effect(e)))
        )?;
    }
    writeln!(out, "  }}")?;
    for t in (0..program.threads.len() as u16).map(ThreadId) {
        writeln!(out, "  subgraph cluster_{} {{", t.0)?;
        writeln!(out, "    label={};", quote(&names.thread(t)))?;
        for e in exec.thread_events(t) {
            let pc = e.pc.expect("invariant: thread events have a pc");
            let label = format!(
                "{}: {}\n{}",
                e.id,
                names.instruction(t, pc),
                names.effect(e)
            );
            writeln!(out, "    {} [label={}];", e.id, quote(&label))?;
        }
        writeln!(out, "  }}")?;
    }
    for (from, to, kind) in exec.graph.edges() {
        if kind == HbEdge::ProgramOrder {
            writeln!(out, "  {from} -> {to} [label=\"po\"];")?;
        }
    }
    for (read, write) in exec
        .reads_from
        .iter()
        .enumerate()
        .filter_map(|(r, w)| Some((r, (*w)?)))
    {
        writeln!(
            out,
            "  {write} -> {} [label=\"rf\", style=dashed, color=red, fontcolor=red, weight=0];",
            EventId(read as u32)
        )?;
    }
    for (write, read) in &exec.sync {
        writeln!(
            out,
            "  {write} -> {read} [label=\"sw\", style=bold, color=blue, fontcolor=blue];"
        )?;
    }
    for (from, to) in hb_via_sync(exec) {
        writeln!(
            out,
            "  {from} -> {to} [label=\"hb\", style=dotted, color=blue, fontcolor=blue, weight=0];"
        )?;
    }
    for race in exec.races() {
        writeln!(
            out,
            "  {} -> {} [label=\"race\", style=\"bold,dotted\", color=orange, fontcolor=orange, dir=none, weight=0];",
            race.first, race.second
        )?;
    }
    writeln!(out, "}}")
}

/// Happens-before edges that synchronisation adds: for each event `b` and each
/// other thread, the latest event of that thread that happens before `b`, when
/// `b`'s program-order predecessor did not already know it and it is not
/// itself a direct sw edge.
fn hb_via_sync(exec: &Execution) -> Vec<(EventId, EventId)> {
    let threads: Vec<Option<ThreadId>> = {
        let mut ts: Vec<_> = exec
            .events
            .iter()
            .map(|e| e.thread)
            .filter(Option::is_some)
            .collect();
        ts.sort();
        ts.dedup();
        ts
    };
    let mut edges = Vec::new();
    for b in exec.events.iter().filter(|e| e.thread.is_some()) {
        let predecessor = exec
            .events
            .iter()
            .filter(|e| e.thread == b.thread && e.order < b.order)
            .max_by_key(|e| e.order);
        for &t in threads.iter().filter(|&&t| t != b.thread) {
            let latest = exec
                .events
                .iter()
                .filter(|a| a.thread == t && exec.happens_before(a.id, b.id))
                .max_by_key(|a| a.order);
            let Some(a) = latest else { continue };
            let known = predecessor.is_some_and(|p| exec.happens_before(a.id, p.id));
            if !known && !exec.sync.contains(&(a.id, b.id)) {
                edges.push((a.id, b.id));
            }
        }
    }
    edges
}

/// A DOT string literal.
fn quote(text: &str) -> String {
    let escaped: String = text
        .chars()
        .flat_map(|c| match c {
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            '\n' => vec!['\\', 'n'],
            c => vec![c],
        })
        .collect();
    format!("\"{escaped}\"")
}

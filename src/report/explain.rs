//! `hbsim explain`: one execution reaching an outcome, step by step, with what
//! every read could have observed and why, and the execution's data races.

use std::io::{self, Write};

use comfy_table::{Table, presets};

use super::describe::Names;
use crate::hb::{Candidate, Execution};
use crate::ir::{Program, ThreadId};
use crate::model::{BufferShape, Model};
use crate::outcome::{Count, Outcome, OutcomeSet};
use crate::trace::Step;

/// Everything `explain` shows about one outcome.
#[derive(Clone, Debug)]
pub struct Explanation<'a> {
    /// The test.
    pub program: &'a Program,
    /// The model the execution ran under.
    pub model: &'a Model,
    /// The outcome set the outcome belongs to.
    pub outcomes: &'a OutcomeSet,
    /// The outcome explained.
    pub outcome: &'a Outcome,
    /// Its 1-based position in the outcome set.
    pub position: usize,
    /// Whether the exploration was complete: else other outcomes may be
    /// missing from the set.
    pub complete: bool,
    /// How many executions reach it, if counted.
    pub executions: Option<Count>,
    /// Whether `executions` counts execution graphs (the graph engine)
    /// rather than interleavings of machine steps.
    pub counts_graphs: bool,
    /// Whether it satisfies the test's condition.
    pub satisfies: bool,
    /// The witness execution, recorded.
    pub execution: &'a Execution,
}

/// Writes the explanation.
///
/// # Errors
/// Any error from `out`.
pub fn render(x: &Explanation<'_>, out: &mut impl Write) -> io::Result<()> {
    let names = Names::new(x.program);
    writeln!(out, "Test {} under {}", x.program.name, x.model.name)?;
    writeln!(
        out,
        "Outcome {} of {}{}: {}{}",
        x.position,
        if x.complete { "" } else { "at least " },
        x.outcomes.len(),
        x.outcomes.display(x.outcome),
        if x.satisfies {
            "  (satisfies the condition)"
        } else {
            ""
        }
    )?;
    let how_many = match (x.executions, x.counts_graphs) {
        (Some(Count::Finite(1)), true) => {
            "a machine run of the only consistent execution reaching it".to_string()
        }
        (Some(n @ Count::Finite(_)), true) => {
            format!("a machine run of one of {n} consistent executions reaching it")
        }
        (Some(Count::Finite(1)), false) => "the only execution reaching it".to_string(),
        (Some(n @ Count::Finite(_)), false) => format!("one of {n} executions reaching it"),
        (Some(Count::Infinite), _) => "one of unboundedly many executions reaching it".to_string(),
        (None, _) => "one execution reaching it".to_string(),
    };
    writeln!(out, "\nExecution ({how_many}):")?;
    writeln!(out, "{}", step_table(x.program, x.model, x.execution))?;
    if let Some(info) = x.outcomes.get(x.outcome)
        && !info.blocked.is_empty()
    {
        let at = super::blocked_at(x.program, &info.blocked).join(", ");
        writeln!(out, "\nBlocked forever: {at}")?;
    }
    render_reads(x, &names, out)?;
    render_races(x.execution, &names, out)
}

/// An execution as a table: one row per step, one column per thread, and the
/// pending stores when the model has buffers.
pub fn step_table(program: &Program, model: &Model, exec: &Execution) -> String {
    let names = Names::new(program);
    let threads: Vec<ThreadId> = (0..program.threads.len() as u16).map(ThreadId).collect();
    let buffered = model
        .store_buffers_config()
        .is_some_and(|c| c.buffer != BufferShape::None);
    let mut header = vec!["step".to_string()];
    header.extend(threads.iter().map(|&t| names.thread(t)));
    if buffered {
        header.push("pending stores".to_string());
    }
    let mut table = Table::new();
    table.load_style(presets::ASCII_MARKDOWN).set_header(header);
    for (i, record) in exec.steps.iter().enumerate() {
        let (thread, cell) = match record.step {
            Step::Run(t) | Step::Exec { thread: t, .. } => {
                let text = match record.event.map(|id| exec.event(id)) {
                    Some(e) => {
                        let pc = e.pc.expect("invariant: thread events have a pc");
                        let mut text =
                            format!("{}: {} {}", e.id, names.instruction(t, pc), names.effect(e));
                        if record.via_buffer {
                            text.push_str(if e.writes() {
                                ", buffered"
                            } else {
                                ", forwarded"
                            });
                        }
                        if record.early {
                            text.push_str(", ahead of program order");
                        }
                        text
                    }
                    None => match record.panicked {
                        Some(pc) => format!("{} panics", names.instruction(t, pc)),
                        None => "register-only instructions".to_string(),
                    },
                };
                (Some(t), text)
            }
            Step::Commit(t, _) => {
                let write =
                    exec.event(record.committed.expect("invariant: commits commit a store"));
                let loc = names.loc(write.loc.expect("invariant: stores have a variable"));
                let value = write.written.expect("invariant: stores write");
                (Some(t), format!("commit {loc}={value} of {}", write.id))
            }
            Step::Observe { .. } => {
                let write = exec.event(
                    record
                        .observed
                        .expect("invariant: observations read a write"),
                );
                let loc = names.loc(write.loc.expect("invariant: writes have a variable"));
                let value = write.written.expect("invariant: writes write");
                let text = format!(
                    "final {loc}={value} of {}, not overwritten in happens-before",
                    write.id
                );
                (write.thread, text)
            }
        };
        let mut row = vec![(i + 1).to_string()];
        // A final observation of an initial value goes in the first column.
        let column = thread.or(threads.first().copied());
        row.extend(threads.iter().map(|&u| {
            if Some(u) == column {
                cell.clone()
            } else {
                String::new()
            }
        }));
        if buffered {
            let pending: Vec<String> = record
                .pending
                .iter()
                .enumerate()
                .filter(|(_, stores)| !stores.is_empty())
                .map(|(t, stores)| {
                    let stores: Vec<String> = stores
                        .iter()
                        .map(|&(l, v)| format!("{}={v}", names.loc(l)))
                        .collect();
                    format!("{}: {}", names.thread(ThreadId(t as u16)), stores.join(" "))
                })
                .collect();
            row.push(pending.join("; "));
        }
        table.add_row(row);
    }
    table.to_string()
}

fn render_reads(x: &Explanation<'_>, names: &Names<'_>, out: &mut impl Write) -> io::Result<()> {
    let exec = x.execution;
    let reads = exec.analyse_reads();
    if reads.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "\nReads (hb = happens before: program order and synchronisation):"
    )?;
    for read in &reads {
        writeln!(out, "  {}", names.event_with_id(exec, read.read))?;
        let observed = names.event_with_id(exec, read.observed);
        if read.guaranteed {
            writeln!(
                out,
                "    read from {observed}, the write it is guaranteed to observe"
            )?;
        } else {
            writeln!(out, "    read from {observed}")?;
        }
        for (w, candidate) in &read.writes {
            let verdict = match candidate {
                Candidate::MayObserve => "may observe".to_string(),
                Candidate::HappensAfterRead => "excluded: the read happens before it".to_string(),
                Candidate::Overwritten { by } => {
                    format!("excluded: overwritten in hb by {by} before the read")
                }
            };
            writeln!(out, "    {}: {verdict}", names.event_with_id(exec, *w))?;
        }
    }
    Ok(())
}

fn render_races(exec: &Execution, names: &Names<'_>, out: &mut impl Write) -> io::Result<()> {
    let races = exec.races();
    if races.is_empty() {
        return writeln!(
            out,
            "\nNo data races: every pair of conflicting accesses is ordered by hb."
        );
    }
    writeln!(out, "\nData races ({}):", races.len())?;
    for race in &races {
        writeln!(out, "  on {}:", names.loc(race.loc))?;
        writeln!(out, "    (1) {}", names.event_with_id(exec, race.first))?;
        writeln!(out, "    (2) {}", names.event_with_id(exec, race.second))?;
    }
    Ok(())
}

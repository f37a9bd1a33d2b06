//! The human-readable report, in herd7's vocabulary (docs/output.md).
//!
//! ```text
//! Test SB Allowed
//! Model tso: x86-TSO: a FIFO store buffer per thread; loads may overtake earlier stores
//! States 4
//! 0:r0=0; 1:r0=0; x=1; y=1;  # 18 executions, satisfies the condition
//! ...
//! Ok
//! Witnesses
//! Positive: 18 Negative: 62
//! Condition exists (0:r0=0 /\ 1:r0=0)
//! Observation SB Sometimes 18 62
//! Explored 34 states, 58 transitions, 80 executions in 0.09 ms
//! Expect tso Sometimes: held
//! ```

use std::io::{self, Write};

use super::{RunReport, Summary, condition_kind};
use crate::explore::{Completeness, Limit};
use crate::outcome::{Count, Outcome};
use crate::verdict::Status;

/// Writes one run's block.
///
/// # Errors
/// Any error from `out`.
pub fn render_run(run: &RunReport, out: &mut impl Write) -> io::Result<()> {
    let exploration = &run.exploration;
    let set = &exploration.outcomes;
    writeln!(out, "Test {} {}", run.test, condition_kind(run.quantifier))?;
    if let Some(doc) = &run.doc {
        for line in doc.lines() {
            writeln!(out, "  {line}")?;
        }
    }
    writeln!(out, "Model {}: {}", run.model.name, run.model.description)?;
    match exploration.completeness {
        Completeness::Exhaustive => {}
        Completeness::Truncated(limit) => {
            let reached = match limit {
                Limit::States(n) => {
                    format!("the limit of {} (raise --max-states)", plural(n, "state"))
                }
                Limit::Memory(bytes) => format!(
                    "the memory limit of {} MiB (raise --max-memory)",
                    bytes >> 20
                ),
            };
            writeln!(
                out,
                "TRUNCATED at {reached}: outcomes may be missing; verdicts the outcomes found do not decide are inconclusive"
            )?
        }
        Completeness::Interrupted => writeln!(
            out,
            "INTERRUPTED: outcomes may be missing; verdicts the outcomes found do not decide are inconclusive"
        )?,
    }
    let finals: Vec<_> = set.finals().collect();
    writeln!(out, "States {}", finals.len())?;
    for ((values, info), satisfies) in finals.iter().zip(&run.satisfies) {
        let outcome = Outcome::Final(values.to_vec());
        let mut notes = vec![describe_executions(info.executions)];
        if *satisfies {
            notes.push("satisfies the condition".to_string());
        }
        writeln!(out, "{}  # {}", set.display(&outcome), notes.join(", "))?;
    }
    let stuck: Vec<_> = set
        .iter()
        .filter(|(o, _)| matches!(o, Outcome::NeverTerminates(_)))
        .collect();
    if !stuck.is_empty() {
        writeln!(out, "Nonterminating {}", stuck.len())?;
        for (outcome, info) in stuck {
            writeln!(
                out,
                "{}  # {}",
                set.display(outcome),
                describe_executions(info.executions)
            )?;
        }
    }
    let c = &run.condition;
    writeln!(
        out,
        "{}",
        match c.validated {
            Some(true) => "Ok",
            Some(false) => "No",
            None => "Inconclusive",
        }
    )?;
    writeln!(out, "Witnesses")?;
    let (positive, negative) = (count_text(c.positive), count_text(c.negative));
    let (witness_pos, witness_neg) = match run.quantifier {
        crate::ir::Quantifier::NotExists => (&negative, &positive),
        _ => (&positive, &negative),
    };
    writeln!(out, "Positive: {witness_pos} Negative: {witness_neg}")?;
    writeln!(out, "Condition {}", run.condition_text)?;
    let observation = c
        .observation
        .map_or_else(|| "Inconclusive".to_string(), |o| o.to_string());
    writeln!(
        out,
        "Observation {} {observation} {positive} {negative}",
        run.test
    )?;
    let stats = &exploration.stats;
    let executions = match stats.executions {
        Some(Count::Finite(1)) => "1 execution".to_string(),
        other => format!("{} executions", count_text(other)),
    };
    writeln!(
        out,
        "Explored {}, {}, {executions} in {:.2} ms",
        plural(stats.states, "state"),
        plural(stats.transitions, "transition"),
        stats.elapsed.as_secs_f64() * 1e3
    )?;
    for check in &run.checks {
        if let Some(o) = &check.observation {
            let observed = o
                .observed
                .map_or_else(|| "undecided".to_string(), |v| v.to_string());
            match o.status {
                Status::Held => writeln!(out, "Expect {} {}: held", check.model, o.expected)?,
                Status::Failed => writeln!(
                    out,
                    "Expect {} {}: FAILED, observed {observed}",
                    check.model, o.expected
                )?,
                Status::Inconclusive => writeln!(
                    out,
                    "Expect {} {}: inconclusive, the exploration was cut short",
                    check.model, o.expected
                )?,
            }
        }
        if let Some(o) = &check.outcomes {
            let word = match o.status {
                Status::Held => "held",
                Status::Failed => "FAILED",
                Status::Inconclusive => "inconclusive, the exploration was cut short",
            };
            writeln!(out, "Expect {} outcomes: {word}", check.model)?;
            for values in &o.forbidden {
                writeln!(out, "  forbidden outcome observed: {}", o.render(values))?;
            }
            for values in &o.missing {
                writeln!(out, "  allowed outcome missing: {}", o.render(values))?;
            }
        }
    }
    Ok(())
}

/// Writes the closing summary line: `N passed, M failed` and any other counts.
///
/// # Errors
/// Any error from `out`.
pub fn render_summary(summary: &Summary, out: &mut impl Write) -> io::Result<()> {
    write!(out, "{} passed, {} failed", summary.passed, summary.failed)?;
    for (n, what) in [
        (summary.inconclusive, "inconclusive"),
        (summary.unchecked, "without expectations"),
        (
            summary.errors,
            if summary.errors == 1 {
                "error"
            } else {
                "errors"
            },
        ),
    ] {
        if n > 0 {
            write!(out, ", {n} {what}")?;
        }
    }
    writeln!(out)
}

fn describe_executions(count: Option<Count>) -> String {
    match count {
        Some(Count::Finite(1)) => "1 execution".to_string(),
        Some(Count::Finite(n)) => format!("{n} executions"),
        Some(Count::Infinite) => "unboundedly many executions".to_string(),
        None => "executions not counted".to_string(),
    }
}

/// `1 state`, `2 states`.
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn count_text(count: Option<Count>) -> String {
    count.map_or_else(|| "?".to_string(), |c| c.to_string())
}

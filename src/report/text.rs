//! The human-readable report, in herd7's vocabulary (docs/output.md).
//!
//! ```text
//! Test SB Allowed
//! Model tso: x86-TSO: a FIFO store buffer per thread; loads may overtake earlier stores
//! States 4
//! 0:r0=0; 1:r0=0; x=1; y=1;  # 1 execution graph, racy, satisfies the condition
//! ...
//! Ok
//! Witnesses
//! Positive: 1 Negative: 3
//! Condition exists (0:r0=0 /\ 1:r0=0)
//! Observation SB Sometimes 1 3
//! Explored 4 consistent executions (4 racy) with the graph engine (0 blocked, 0 duplicates; 9 graphs, 8 events) in 0.20 ms (49677 ns per execution, 0.0 MiB)
//! ...
//! Expect tso Sometimes: held
//! ```

use std::fmt::Write as _;
use std::io::{self, Write};

use super::describe::Names;
use super::{RunReport, Summary, condition_kind};
use crate::explore::{Completeness, Engine, EngineChoice, Exploration, Limit};
use crate::outcome::{Count, Outcome, OutcomeInfo};
use crate::verdict::Status;

/// Writes one run's block.
///
/// # Errors
/// Any error from `out`.
pub fn render_run(run: &RunReport, out: &mut impl Write) -> io::Result<()> {
    let exploration = &run.exploration;
    let set = &exploration.outcomes;
    let program = &run.program;
    writeln!(
        out,
        "Test {} {}",
        program.name,
        condition_kind(program.condition.quantifier)
    )?;
    if let Some(doc) = &program.doc {
        for line in doc.lines() {
            writeln!(out, "  {line}")?;
        }
    }
    match run.model.description.as_str() {
        "" => writeln!(out, "Model {}", run.model.name)?,
        description => writeln!(out, "Model {}: {description}", run.model.name)?,
    }
    if let Some(note) = stop_note(exploration.completeness) {
        writeln!(
            out,
            "{note}; verdicts the outcomes found do not decide are inconclusive"
        )?;
    }
    if let (EngineChoice::Graph, Some(why)) =
        (exploration.engine.requested, &exploration.engine.fallback)
    {
        writeln!(
            out,
            "Explored with the state-space engine: the graph engine does not support {why}"
        )?;
    }
    // The graph engine counts execution graphs, the state-space engine
    // interleavings of machine steps.
    let noun = match exploration.stats.graph {
        Some(_) => "execution graph",
        None => "execution",
    };
    let is_final = |o: &Outcome| matches!(o, Outcome::Final(_));
    let blocked = |o: &Outcome| matches!(o, Outcome::Blocked(_));
    let stuck = |o: &Outcome| matches!(o, Outcome::NeverTerminates(_));
    let panic = |o: &Outcome| matches!(o, Outcome::Panic(_));
    // Final states are always counted, like herd7's `States`; the other
    // kinds only when some execution ends that way.
    for (header, kind, always) in [
        ("States", &is_final as &dyn Fn(&Outcome) -> bool, true),
        ("Blocked", &blocked, false),
        ("Nonterminating", &stuck, false),
        ("Panics", &panic, false),
    ] {
        let outcomes: Vec<_> = set
            .iter()
            .zip(&run.satisfies)
            .filter(|((o, _), _)| kind(o))
            .collect();
        if outcomes.is_empty() && !always {
            continue;
        }
        writeln!(out, "{header} {}", outcomes.len())?;
        // Each line is put together in one buffer and written at once: a
        // test can have tens of thousands of outcomes, and writing piece by
        // piece through the formatter was a quarter of such a run.
        let mut line = String::new();
        for ((outcome, info), satisfies) in outcomes {
            line.clear();
            set.push_outcome(outcome, &mut line);
            line.push_str("  # ");
            outcome_notes(info, noun, &mut line);
            if !info.blocked.is_empty() {
                line.push_str(", blocked: ");
                line.push_str(&super::blocked_at(program, &info.blocked).join(", "));
            }
            if *satisfies {
                line.push_str(", satisfies the condition");
            }
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
    }
    super::render_verdict(run, &program.condition.text, out)?;
    render_stats(exploration, out)?;
    render_races(run, out)?;
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
        if let Some(r) = &check.races {
            let expected = if r.expected { "races" } else { "no races" };
            match (r.status, r.observed) {
                (Status::Held, _) => writeln!(out, "Expect {} {expected}: held", check.model)?,
                (Status::Failed, Some(true)) => writeln!(
                    out,
                    "Expect {} {expected}: FAILED, some execution races",
                    check.model
                )?,
                (Status::Failed, _) => writeln!(
                    out,
                    "Expect {} {expected}: FAILED, no execution races",
                    check.model
                )?,
                (Status::Inconclusive, _) => writeln!(
                    out,
                    "Expect {} {expected}: inconclusive, the exploration was cut short",
                    check.model
                )?,
            }
        }
    }
    match run.deny_races_status() {
        Some(Status::Failed) => writeln!(out, "Races denied by --deny-races: FAILED")?,
        Some(Status::Inconclusive) => writeln!(
            out,
            "Races denied by --deny-races: inconclusive, the exploration was cut short"
        )?,
        Some(Status::Held) | None => {}
    }
    Ok(())
}

/// What a run that stopped early says first: `TRUNCATED at the limit of
/// 100 states (raise --max-states): outcomes may be missing`, or
/// `INTERRUPTED: ...`; `None` for a complete exploration.
pub fn stop_note(completeness: Completeness) -> Option<String> {
    let reached = match completeness {
        Completeness::Exhaustive => return None,
        Completeness::Interrupted => {
            return Some("INTERRUPTED: outcomes may be missing".to_string());
        }
        Completeness::Truncated(Limit::States(n)) => {
            format!("the limit of {} (raise --max-states)", plural(n, "state"))
        }
        Completeness::Truncated(Limit::Memory(bytes)) => format!(
            "the memory limit of {} MiB (raise --max-memory)",
            bytes >> 20
        ),
        Completeness::Truncated(Limit::Unroll(n)) => format!(
            "the loop unrolling bound of {} per loop (raise --unroll, or use --engine states)",
            plural(n as usize, "iteration")
        ),
        Completeness::Truncated(Limit::Window(n)) => format!(
            "the go model's look-ahead of {}: a run reordering plain accesses further apart is not explored (docs/models.md, go rule 3)",
            plural(n as usize, "instruction")
        ),
    };
    Some(format!("TRUNCATED at {reached}: outcomes may be missing"))
}

/// The data races found, numbered like the Go race detector's reports.
fn render_races(run: &RunReport, out: &mut impl Write) -> io::Result<()> {
    let races = &run.exploration.races;
    if races.is_empty() {
        return Ok(());
    }
    let names = Names::new(&run.program);
    let set = &run.exploration.outcomes;
    writeln!(out, "Data races {}", races.len())?;
    let exhaustive = run.exploration.completeness.is_exhaustive();
    for race in races {
        // A witness without an outcome runs forever, unless the exploration
        // stopped before it could be finished.
        let ending = match &race.outcome {
            Some(outcome) => format!("in an execution ending {}", set.display(outcome)),
            None if exhaustive => "in an execution that does not terminate".to_string(),
            None => "in an execution the exploration did not finish".to_string(),
        };
        writeln!(out, "race on {} {ending}", names.loc(race.loc))?;
        for (n, site) in [(1, race.first), (2, race.second)] {
            writeln!(
                out,
                "  ({n}) {} [{}] {}",
                names.thread(site.thread),
                site.pc,
                names.instruction(site.thread, site.pc)
            )?;
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

/// The closing line of a run: what the engine explored, in how long.
fn render_stats(exploration: &Exploration, out: &mut dyn Write) -> io::Result<()> {
    let stats = &exploration.stats;
    let racy = match stats.racy_executions {
        Some(Count::Finite(0)) | None => String::new(),
        Some(n) => format!(" ({n} racy)"),
    };
    let time = stats.elapsed.as_secs_f64() * 1e3;
    let memory = stats.memory as f64 / f64::from(1 << 20);
    match (&stats.graph, exploration.engine.engine) {
        (Some(graph), Engine::Graph { .. }) => {
            // Per graph when no execution was found (a search stopped early).
            let (units, unit) = match graph.explored {
                0 => (graph.graphs.max(1), "graph"),
                n => (n, "execution"),
            };
            writeln!(
                out,
                "Explored {}{racy} with the graph engine ({} blocked as inconsistent, {}; {}, {}) in {time:.2} ms ({:.0} ns per {unit}, {memory:.1} MiB)",
                plural(graph.explored, "consistent execution"),
                graph.blocked,
                plural(graph.duplicates, "duplicate"),
                plural(graph.graphs, "graph"),
                plural(graph.events, "event"),
                time * 1e6 / units as f64,
            )
        }
        _ => {
            let executions = match stats.executions {
                Some(Count::Finite(1)) => "1 execution".to_string(),
                None if stats.partial_order => "executions not counted".to_string(),
                other => format!("{} executions", count_text(other)),
            };
            // `(P0 P1 P2 alike)`: the classes of interchangeable threads.
            let symmetry: String = stats
                .symmetry
                .iter()
                .map(|class| {
                    let names: Vec<&str> = class
                        .iter()
                        .map(|&t| exploration.outcomes.thread_name(t))
                        .collect();
                    format!(" (threads {} alike)", names.join(" "))
                })
                .collect();
            let reduced = if stats.partial_order {
                " (partial-order reduced)"
            } else {
                ""
            };
            writeln!(
                out,
                "Explored {}{symmetry}{reduced}, {}, {executions}{racy} in {time:.2} ms ({:.0} ns per state, {memory:.1} MiB)",
                plural(stats.states, "state"),
                plural(stats.transitions, "transition"),
                stats.ns_per_state(),
            )
        }
    }
}

/// `6 executions (2 racy), race-free`: how many executions (`noun`s) reach an
/// outcome and whether only racy ones do.
fn outcome_notes(info: &OutcomeInfo, noun: &str, line: &mut String) {
    let written = match info.executions {
        Some(Count::Finite(1)) => write!(line, "1 {noun}"),
        Some(count @ Count::Finite(_)) => write!(line, "{count} {noun}s"),
        Some(Count::Infinite) => write!(line, "unboundedly many {noun}s"),
        None => write!(line, "{noun}s not counted"),
    };
    written.expect("writing to a String");
    match (info.race_free, info.racy_executions) {
        (true, Some(Count::Finite(0))) | (true, None) | (false, _) => {}
        (true, Some(n)) => write!(line, " ({n} racy)").expect("writing to a String"),
    }
    line.push_str(if info.race_free {
        ", race-free"
    } else {
        ", racy"
    });
}

/// `1 state`, `2 states`.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn count_text(count: Option<Count>) -> String {
    count.map_or_else(|| "?".to_string(), |c| c.to_string())
}

//! The machine-readable report: JSON Lines, one object per line (schema in
//! docs/json.md). Each run is a `"type": "run"` object; a file that could not be
//! loaded is a `"type": "error"` object; the last line is `"type": "summary"`.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::describe::Names;
use super::{RunReport, Summary};
use crate::explore::{Completeness, Limit, Site};
use crate::ir::{Quantifier, ThreadId};
use crate::outcome::{Count, Outcome, OutcomeSet};
use crate::trace::{Step, Trace};
use crate::verdict::{OutcomesCheck, Status};

/// Writes one run as a JSON object on one line. The outcomes, which can be
/// many (each with its witness), are written one at a time, so memory does
/// not grow with their number.
///
/// # Errors
/// Any error from `out`.
pub fn render_run(run: &RunReport, out: &mut impl Write) -> io::Result<()> {
    let Value::Object(fields) = run_value(run) else {
        unreachable!("invariant: a run is a JSON object")
    };
    out.write_all(b"{")?;
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut *out, key)?;
        out.write_all(b":")?;
        if key == OUTCOMES {
            out.write_all(b"[")?;
            for (j, outcome) in outcome_values(run).enumerate() {
                if j > 0 {
                    out.write_all(b",")?;
                }
                serde_json::to_writer(&mut *out, &outcome)?;
            }
            out.write_all(b"]")?;
        } else {
            serde_json::to_writer(&mut *out, value)?;
        }
    }
    out.write_all(b"}\n")
}

/// The key of the outcome list, which [`run_value`] leaves empty and
/// [`render_run`] fills as it writes.
const OUTCOMES: &str = "outcomes";

/// Writes a load or run error as a JSON object on one line.
///
/// # Errors
/// Any error from `out`.
pub fn render_error(file: &str, message: &str, out: &mut impl Write) -> io::Result<()> {
    write_line(
        &json!({ "type": "error", "file": file, "message": message }),
        out,
    )
}

/// Writes the summary as a JSON object on one line.
///
/// # Errors
/// Any error from `out`.
pub fn render_summary(summary: &Summary, out: &mut impl Write) -> io::Result<()> {
    let mut value = serde_json::to_value(summary).expect("invariant: Summary serializes");
    value["type"] = json!("summary");
    write_line(&value, out)
}

fn write_line(value: &Value, out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    writeln!(out)
}

/// The JSON object of each outcome of a run, in order, made as asked for.
fn outcome_values(run: &RunReport) -> impl Iterator<Item = Value> + '_ {
    let set = &run.exploration.outcomes;
    let mut satisfies = run.satisfies.iter();
    set.iter().map(move |(outcome, info)| {
        let mut value = match outcome {
            Outcome::Final(values) => json!({
                "kind": "final",
                "values": named(set.observables().iter().map(|&o| set.name(o)), values),
            }),
            other => ending_value(other, &|t| set.thread_name(t)),
        };
        value["satisfies"] = json!(satisfies.next().copied().unwrap_or(false));
        value["executions"] = count_value(info.executions);
        value["racy_executions"] = count_value(info.racy_executions);
        value["race_free"] = json!(info.race_free);
        value["witness"] = trace_value(&info.witness, set);
        if !info.blocked.is_empty() {
            value["blocked"] = info
                .blocked
                .iter()
                .map(|&(t, pc)| {
                    json!({
                        "thread": set.thread_name(t),
                        "pc": pc,
                        "instruction": run.program.threads[t.index()].source.get(pc),
                    })
                })
                .collect();
        }
        value
    })
}

/// The JSON object for one run, but for its outcomes: an empty list under
/// [`OUTCOMES`], in its place.
fn run_value(run: &RunReport) -> Value {
    let exploration = &run.exploration;
    let set = &exploration.outcomes;
    let names = Names::new(&run.program);
    let site = |site: Site| {
        json!({
            "thread": names.thread(site.thread),
            "pc": site.pc,
            "instruction": names.instruction(site.thread, site.pc),
        })
    };
    let races: Vec<Value> = exploration
        .races
        .iter()
        .map(|race| {
            json!({
                "loc": names.loc(race.loc),
                "first": site(race.first),
                "second": site(race.second),
                "outcome": race.outcome.as_ref().map(|o| set.display(o).to_string()),
                "witness": trace_value(&race.witness, set),
            })
        })
        .collect();
    let c = &run.condition;
    let checks: Vec<Value> = run
        .checks
        .iter()
        .map(|check| {
            json!({
                "model": check.model,
                "status": status_name(check.status()),
                "observation": check.observation.as_ref().map(|o| json!({
                    "expected": o.expected,
                    "observed": o.observed,
                    "status": status_name(o.status),
                })),
                "races": check.races.as_ref().map(|r| json!({
                    "expected": r.expected,
                    "observed": r.observed,
                    "status": status_name(r.status),
                })),
                "outcomes": check.outcomes.as_ref().map(|o| json!({
                    "columns": o.columns,
                    "missing": o.missing.iter().map(|m| checked_outcome_value(o, m)).collect::<Vec<_>>(),
                    "forbidden": o.forbidden.iter().map(|f| checked_outcome_value(o, f)).collect::<Vec<_>>(),
                    "status": status_name(o.status),
                })),
            })
        })
        .collect();
    json!({
        "type": "run",
        "test": run.program.name,
        "file": run.file,
        "model": run.model.name,
        "completeness": match exploration.completeness {
            Completeness::Exhaustive => json!("exhaustive"),
            Completeness::Truncated(Limit::States(n)) => json!({ "truncated": { "max_states": n } }),
            Completeness::Truncated(Limit::Memory(bytes)) => json!({ "truncated": { "max_memory": bytes } }),
            Completeness::Truncated(Limit::Unroll(n)) => json!({ "truncated": { "unroll": n } }),
            Completeness::Interrupted => json!("interrupted"),
        },
        "observables": set.observables().iter().map(|&o| set.name(o)).collect::<Vec<_>>(),
        OUTCOMES: [],
        "condition": {
            "text": run.program.condition.text,
            "quantifier": match run.program.condition.quantifier {
                Quantifier::Exists => "exists",
                Quantifier::NotExists => "~exists",
                Quantifier::Forall => "forall",
            },
            "validated": c.validated,
            "observation": c.observation,
            "positive": count_value(c.positive),
            "negative": count_value(c.negative),
        },
        "races": races,
        "expectations": checks,
        "status": run.status().map_or("unchecked", status_name),
        "stats": {
            "states": exploration.stats.states,
            "transitions": exploration.stats.transitions,
            "executions": count_value(exploration.stats.executions),
            "racy_executions": count_value(exploration.stats.racy_executions),
            "elapsed_ms": exploration.stats.elapsed.as_secs_f64() * 1e3,
            "ns_per_state": exploration.stats.ns_per_state(),
            "memory_bytes": exploration.stats.memory,
            "graph": exploration.stats.graph,
        },
        "engine": exploration.engine,
    })
}

/// An outcome of an expected-set check: final values keyed by the checked
/// columns, or the kind and threads of an outcome that is not a final state.
fn checked_outcome_value(check: &OutcomesCheck, outcome: &Outcome) -> Value {
    match outcome {
        Outcome::Final(values) => json!({
            "kind": "final",
            "values": named(check.columns.iter().map(String::as_str), values),
        }),
        other => ending_value(other, &|t| &check.thread_names[t.index()]),
    }
}

/// An outcome that is not a final state: its kind with its threads
/// (`{"kind": "deadlock", "threads": [...]}`), or the thread that panicked.
fn ending_value<'n>(outcome: &Outcome, name: &dyn Fn(ThreadId) -> &'n str) -> Value {
    match outcome {
        Outcome::Final(_) => unreachable!("invariant: only called on non-final outcomes"),
        Outcome::Blocked(threads) | Outcome::NeverTerminates(threads) => json!({
            "kind": outcome.kind_name(),
            "threads": threads.iter().map(|&t| name(t)).collect::<Vec<_>>(),
        }),
        Outcome::Panic(t) => json!({
            "kind": outcome.kind_name(),
            "thread": name(*t),
        }),
    }
}

/// Values keyed by observable name, in order.
fn named<'a>(
    names: impl Iterator<Item = &'a str>,
    values: &[i64],
) -> serde_json::Map<String, Value> {
    names
        .zip(values)
        .map(|(name, &v)| (name.to_string(), json!(v)))
        .collect()
}

fn status_name(status: Status) -> &'static str {
    match status {
        Status::Held => "held",
        Status::Failed => "failed",
        Status::Inconclusive => "inconclusive",
    }
}

/// A count as a JSON number, `"inf"` when unbounded, `null` when not counted.
fn count_value(count: Option<Count>) -> Value {
    match count {
        Some(Count::Finite(n)) => match u64::try_from(n) {
            Ok(n) => json!(n),
            Err(_) => json!(n.to_string()),
        },
        Some(Count::Infinite) => json!("inf"),
        None => Value::Null,
    }
}

fn trace_value(trace: &Trace, set: &OutcomeSet) -> Value {
    trace
        .steps
        .iter()
        .map(|step| match *step {
            Step::Run(t) => json!({ "run": t.0 }),
            Step::Commit(t, loc) => json!({
                "commit": t.0,
                "loc": loc.map(|l| set.name(crate::ir::Observable::Loc(l)).to_string()),
            }),
            Step::Exec { thread, pc, choice } => json!({
                "exec": thread.0,
                "pc": pc,
                "choice": choice,
            }),
            Step::Observe { loc, choice } => json!({
                "observe": set.name(crate::ir::Observable::Loc(loc)).to_string(),
                "choice": choice,
            }),
        })
        .collect()
}

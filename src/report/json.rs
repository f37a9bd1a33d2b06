//! The machine-readable report: JSON Lines, one object per line (schema in
//! docs/json.md). Each run is a `"type": "run"` object; a file that could not be
//! loaded is a `"type": "error"` object; the last line is `"type": "summary"`.

use std::io::{self, Write};

use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde_json::{Value, json};

use super::describe::Names;
use super::{RunReport, Summary};
use crate::explore::{Completeness, Limit, Site};
use crate::ir::{Loc, Observable, Quantifier, ThreadId};
use crate::outcome::{Count, Outcome, OutcomeInfo, OutcomeSet};
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
            let set = &run.exploration.outcomes;
            let locs = LocNames::of(set);
            for (j, (outcome, info)) in set.iter().enumerate() {
                if j > 0 {
                    out.write_all(b",")?;
                }
                let value = OutcomeJson {
                    run,
                    locs: &locs,
                    outcome,
                    info,
                    satisfies: run.satisfies.get(j).copied().unwrap_or(false),
                };
                serde_json::to_writer(&mut *out, &value)?;
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
    let locs = LocNames::of(set);
    let races: Vec<Value> = exploration
        .races
        .iter()
        .map(|race| {
            json!({
                "loc": names.loc(race.loc),
                "first": site(race.first),
                "second": site(race.second),
                "outcome": race.outcome.as_ref().map(|o| set.display(o).to_string()),
                "witness": TraceJson { trace: &race.witness, locs: &locs },
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
            Completeness::Truncated(Limit::Window(n)) => json!({ "truncated": { "window": n } }),
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
        "deny_races": run.deny_races_status().map(status_name),
        "status": run.status().map_or("unchecked", status_name),
        "stats": {
            "states": exploration.stats.states,
            "transitions": exploration.stats.transitions,
            "executions": count_value(exploration.stats.executions),
            "racy_executions": count_value(exploration.stats.racy_executions),
            "elapsed_ms": exploration.stats.elapsed.as_secs_f64() * 1e3,
            "ns_per_state": exploration.stats.ns_per_state(),
            "memory_bytes": exploration.stats.memory,
            "symmetry": exploration.stats.symmetry.iter().map(|class| {
                class.iter().map(|&t| set.thread_name(t)).collect::<Vec<_>>()
            }).collect::<Vec<_>>(),
            "partial_order": exploration.stats.partial_order,
            "graph": exploration.stats.graph,
        },
        "engine": exploration.engine,
    })
}

/// An outcome of an expected-set check: final values keyed by the checked
/// columns, or the kind and threads of an outcome that is not a final state.
fn checked_outcome_value(check: &OutcomesCheck, outcome: &Outcome) -> Value {
    let head = OutcomeHead {
        outcome,
        names: &check.columns,
        thread_name: &|t| &check.thread_names[t.index()],
    };
    serde_json::to_value(HeadOnly(head)).expect("invariant: an outcome serializes")
}

/// What identifies an outcome in JSON: `"kind"`, then the final values keyed
/// by `names` (`"values"`), the threads of a deadlock, leak or loop that
/// never ends (`"threads"`), or the thread that panicked (`"thread"`).
struct OutcomeHead<'a> {
    outcome: &'a Outcome,
    names: &'a [String],
    thread_name: &'a dyn Fn(ThreadId) -> &'a str,
}

impl OutcomeHead<'_> {
    fn write<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        map.serialize_entry("kind", self.outcome.kind_name())?;
        match self.outcome {
            Outcome::Final(values) => map.serialize_entry(
                "values",
                &Named {
                    names: self.names,
                    values,
                },
            ),
            Outcome::Blocked(threads) | Outcome::NeverTerminates(threads) => {
                let names: Vec<&str> = threads.iter().map(|&t| (self.thread_name)(t)).collect();
                map.serialize_entry("threads", &names)
            }
            Outcome::Panic(t) => map.serialize_entry("thread", (self.thread_name)(*t)),
        }
    }
}

/// An [`OutcomeHead`] alone, as a JSON object.
struct HeadOnly<'a>(OutcomeHead<'a>);

impl Serialize for HeadOnly<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        self.0.write(&mut map)?;
        map.end()
    }
}

/// One outcome of a run with what is known about it, written field by field
/// (a run can have tens of thousands of outcomes, each with its witness).
struct OutcomeJson<'a> {
    run: &'a RunReport,
    locs: &'a LocNames<'a>,
    outcome: &'a Outcome,
    info: &'a OutcomeInfo,
    satisfies: bool,
}

impl Serialize for OutcomeJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let set = &self.run.exploration.outcomes;
        let info = self.info;
        let mut map = serializer.serialize_map(None)?;
        OutcomeHead {
            outcome: self.outcome,
            names: set.names(),
            thread_name: &|t| set.thread_name(t),
        }
        .write(&mut map)?;
        map.serialize_entry("satisfies", &self.satisfies)?;
        map.serialize_entry("executions", &count_value(info.executions))?;
        map.serialize_entry("racy_executions", &count_value(info.racy_executions))?;
        map.serialize_entry("race_free", &info.race_free)?;
        map.serialize_entry(
            "witness",
            &info.witness.as_ref().map(|trace| TraceJson {
                trace,
                locs: self.locs,
            }),
        )?;
        if !info.blocked.is_empty() {
            let blocked: Vec<Value> = info
                .blocked
                .iter()
                .map(|&(t, pc)| {
                    json!({
                        "thread": set.thread_name(t),
                        "pc": pc,
                        "instruction": self.run.program.threads[t.index()].source.get(pc),
                    })
                })
                .collect();
            map.serialize_entry("blocked", &blocked)?;
        }
        map.end()
    }
}

/// Values keyed by observable name, in order.
struct Named<'a> {
    names: &'a [String],
    values: &'a [i64],
}

impl Serialize for Named<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.values.len()))?;
        for (name, v) in self.names.iter().zip(self.values) {
            map.serialize_entry(name, v)?;
        }
        map.end()
    }
}

/// Each variable's name, by index, for the steps of witnesses.
struct LocNames<'a>(Vec<&'a str>);

impl<'a> LocNames<'a> {
    fn of(set: &'a OutcomeSet) -> LocNames<'a> {
        let mut names = Vec::new();
        for (&o, name) in set.observables().iter().zip(set.names()) {
            if let Observable::Loc(l) = o {
                if names.len() <= l.index() {
                    names.resize(l.index() + 1, "");
                }
                names[l.index()] = name.as_str();
            }
        }
        LocNames(names)
    }

    fn name(&self, loc: Loc) -> &'a str {
        self.0[loc.index()]
    }
}

/// A witness: one object per machine step.
struct TraceJson<'a> {
    trace: &'a Trace,
    locs: &'a LocNames<'a>,
}

impl Serialize for TraceJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut steps = serializer.serialize_seq(Some(self.trace.steps.len()))?;
        for &step in &self.trace.steps {
            steps.serialize_element(&match step {
                Step::Run(t) => StepJson::Run { run: t.0 },
                Step::Commit(t, loc) => StepJson::Commit {
                    commit: t.0,
                    loc: loc.map(|l| self.locs.name(l)),
                },
                Step::Exec { thread, pc, choice } => StepJson::Exec {
                    exec: thread.0,
                    pc,
                    choice,
                },
                Step::Observe { loc, choice } => StepJson::Observe {
                    observe: self.locs.name(loc),
                    choice,
                },
            })?;
        }
        steps.end()
    }
}

/// One machine step as docs/json.md spells it.
#[derive(Serialize)]
#[serde(untagged)]
enum StepJson<'a> {
    Run { run: u16 },
    Commit { commit: u16, loc: Option<&'a str> },
    Exec { exec: u16, pc: u32, choice: u16 },
    Observe { observe: &'a str, choice: u16 },
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

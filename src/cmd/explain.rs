//! `hbsim explain`: find an outcome, replay its witness, and explain it.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use hbsim::explore::Completeness;
use hbsim::hb::Execution;
use hbsim::hb::cycle::forbidding_cycle;
use hbsim::ir::{Program, Prop};
use hbsim::model::Model;
use hbsim::outcome::{Outcome, OutcomeInfo, OutcomeSet};
use hbsim::report::describe::Names;
use hbsim::report::explain::{self, Explanation};
use hbsim::report::{dot, text};
use hbsim::syntax::{self, LitmusTest};
use hbsim::verdict::satisfies;

use super::{explore, interrupt_flag, report_error, write_file};
use crate::cli::{ConfigError, ExplainArgs, Input, Settings, resolve_model};

/// Whether `--outcome` gives a position: digits, perhaps after a `+`.
fn is_position(text: &str) -> bool {
    let digits = text.strip_prefix('+').unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Which outcome the user asked for.
enum Selector {
    /// The n-th outcome as `hbsim run` lists them (1-based), and n as
    /// written (it may be too large for any set, even for `usize`).
    Position(usize, String),
    /// The first outcome satisfying a proposition, as written.
    Matching(Prop, String),
    /// The first outcome satisfying the test's condition's proposition.
    Condition,
}

/// Runs the command: 0 when the outcome was explained, 1 when it is not
/// reachable or was not found before the exploration stopped (even when the
/// first outcome is shown instead), 2 for bad input (an outcome number
/// past the outcomes of a complete exploration included), 130 on Ctrl-C.
pub fn explain(args: &ExplainArgs) -> io::Result<ExitCode> {
    let usage_error = |report: miette::Report| {
        report_error(&format!("{report:?}"));
        Ok(ExitCode::from(2))
    };
    let test = match Input::from_arg(&args.file).load() {
        Ok(test) => test,
        Err(e) => return usage_error(miette::Report::new(e)),
    };
    let model = match args.model.as_deref() {
        // One model: `sc,tso` names two.
        Some(name) if name.contains(',') && !std::path::Path::new(name).exists() => {
            let e = ConfigError::NotOneModel(name.to_string());
            return usage_error(miette::Report::new(e));
        }
        Some(name) => match resolve_model(name, "sc, tso, pso, go") {
            Ok(model) => model,
            Err(e) => return usage_error(miette::Report::new(e)),
        },
        None => match default_model(&test) {
            Ok(model) => model,
            Err(report) => return usage_error(report),
        },
    };
    let selector = match args.outcome.as_deref().map(str::trim) {
        None => Selector::Condition,
        // All digits is a position, counted from 1.
        Some(text) if is_position(text) => match text.parse() {
            Ok(n) if n > 0 => Selector::Position(n, text.to_string()),
            Ok(_) => {
                return usage_error(miette::miette!(
                    "--outcome: expected an outcome number from 1, found `{text}`"
                ));
            }
            Err(_) => {
                return usage_error(miette::miette!(
                    "--outcome: expected an outcome number from 1, found `{text}`, larger than any test has"
                ));
            }
        },
        Some(text) => match syntax::parse_proposition(&test.program, text, "--outcome") {
            Ok(prop) => Selector::Matching(prop, text.to_string()),
            Err(e) => return usage_error(miette::Report::new(*e)),
        },
    };
    let interrupted = interrupt_flag();
    args.limits.use_jobs();
    let settings = args.limits.settings();
    let bars = indicatif::MultiProgress::new();
    let exploration = explore(&test.program, &model, settings, &interrupted, &bars);
    let set = &exploration.outcomes;
    let mut out = BufWriter::new(io::stdout().lock());
    if let Some(note) = text::stop_note(exploration.completeness) {
        writeln!(out, "{note}")?;
    }
    let found = select(&test.program, set, &selector);
    let complete = exploration.completeness.is_exhaustive();
    if let (None, true, Selector::Position(_, n)) = (found, complete, &selector) {
        // A number past every outcome of a complete exploration names none.
        out.flush()?;
        return usage_error(miette::miette!(
            "--outcome: expected an outcome number from 1 to {}, found {n}: {} has {} under {}",
            set.len(),
            test.program.name,
            text::plural(set.len(), "outcome"),
            model.name
        ));
    }
    if found.is_none() {
        let search = Search {
            complete,
            settings,
            interrupted: &interrupted,
        };
        explain_absence(&test, &model, &selector, set, &search, &mut out)?;
    }
    let code = match (exploration.completeness, found, &selector) {
        (Completeness::Interrupted, _, _) => ExitCode::from(130),
        (_, Some(_), _) => ExitCode::SUCCESS,
        (_, None, _) => ExitCode::from(1),
    };
    // Without an outcome satisfying the condition, the first one is shown.
    let shown = found.or_else(|| match selector {
        Selector::Condition => set.iter().next().map(|(o, info)| (1, o, info)),
        Selector::Position(..) | Selector::Matching(..) => None,
    });
    let Some((position, outcome, info)) = shown else {
        out.flush()?;
        return Ok(code);
    };
    if found.is_none() {
        writeln!(out, "Showing outcome {position} instead.\n")?;
    }
    let witness = (info.witness.as_ref()).expect("invariant: `explain` keeps witnesses");
    let execution =
        Execution::record(&test.program, &model, witness).expect("invariant: witnesses replay");
    let satisfies_condition = satisfies(&test.program, set, outcome);
    explain::render(
        &Explanation {
            program: &test.program,
            model: &model,
            outcomes: set,
            outcome,
            position,
            complete,
            executions: info.executions,
            counts_graphs: exploration.stats.graph.is_some(),
            satisfies: satisfies_condition,
            execution: &execution,
        },
        &mut out,
    )?;
    if let Some(path) = &args.dot {
        let title = format!(
            "{} under {}: {}",
            test.program.name,
            model.name,
            set.display(outcome)
        );
        write_file(path, |file| {
            dot::render(&test.program, &execution, &title, file)
        })?;
        writeln!(out, "\nGraph written to {}", path.display())?;
    }
    out.flush()?;
    Ok(code)
}

/// The first built-in model the file's expectations name, `tso` when they
/// name none, and an error when they name only model files.
fn default_model(test: &LitmusTest) -> Result<Model, miette::Report> {
    let expectations = &test.program.expectations;
    if expectations.is_empty() {
        return Ok(Model::tso());
    }
    // Expectations only for model files need the file, as `run` does.
    expectations
        .iter()
        .find_map(|e| Model::builtin(&e.model))
        .ok_or_else(|| super::run::unknown_model(test, 0))
}

/// The selected outcome with its 1-based position.
fn select<'s>(
    program: &Program,
    set: &'s OutcomeSet,
    selector: &Selector,
) -> Option<(usize, &'s Outcome, &'s OutcomeInfo)> {
    let mut outcomes = set
        .iter()
        .enumerate()
        .map(|(i, (o, info))| (i + 1, o, info));
    match selector {
        Selector::Position(n, _) => outcomes.nth(n.checked_sub(1)?),
        Selector::Matching(prop, _) => outcomes.find(|(_, o, _)| set.satisfies(o, prop)),
        Selector::Condition => {
            let prop = &program.condition.prop;
            outcomes.find(|(_, o, _)| set.satisfies(o, prop))
        }
    }
}

/// How the outcomes were searched for, and how to search under other models.
struct Search<'a> {
    /// Whether the exploration under the model asked for was complete.
    complete: bool,
    settings: Settings,
    interrupted: &'a AtomicBool,
}

/// Says that the selected outcome does not exist under `model` (or was not
/// found before the exploration stopped), and under which built-in models it
/// does.
fn explain_absence(
    test: &LitmusTest,
    model: &Model,
    selector: &Selector,
    set: &OutcomeSet,
    search: &Search<'_>,
    out: &mut impl Write,
) -> io::Result<()> {
    let (prop, wanted) = match selector {
        Selector::Position(_, n) => {
            // `explain` reports a number past a complete exploration's
            // outcomes as a usage error before this.
            let (name, model) = (&test.program.name, &model.name);
            let outcomes = text::plural(set.len(), "outcome");
            writeln!(
                out,
                "There is no outcome {n}: the exploration of {name} under {model} found {outcomes} before it stopped."
            )?;
            return Ok(());
        }
        Selector::Matching(prop, text) => (prop, format!("with {text}")),
        Selector::Condition => (
            &test.program.condition.prop,
            format!(
                "satisfying the proposition of {}",
                test.program.condition.text
            ),
        ),
    };
    if search.complete {
        writeln!(
            out,
            "No outcome {wanted} is reachable under {}.",
            model.name
        )?;
    } else {
        writeln!(
            out,
            "No outcome {wanted} was found under {} before the exploration stopped.",
            model.name
        )?;
    }
    let bars = indicatif::MultiProgress::new();
    let mut reachable = Vec::new();
    let mut undecided = Vec::new();
    let mut why = None;
    for other in Model::builtins() {
        if other.name == model.name {
            continue;
        }
        let exploration = explore(
            &test.program,
            &other,
            search.settings,
            search.interrupted,
            &bars,
        );
        let outcomes = &exploration.outcomes;
        if let Some((_, info)) = outcomes.iter().find(|(o, _)| outcomes.satisfies(o, prop)) {
            if why.is_none() && search.complete {
                why = forbidding(test, model, &other, info);
            }
            reachable.push(other.name);
        } else if !exploration.completeness.is_exhaustive() {
            undecided.push(other.name);
        }
    }
    if !reachable.is_empty() {
        writeln!(out, "It is reachable under: {}.", reachable.join(", "))?;
    }
    if let Some(why) = why {
        write!(out, "{why}")?;
    }
    if !undecided.is_empty() {
        writeln!(
            out,
            "Under {} the exploration stopped before finding it.",
            undecided.join(", ")
        )?;
    }
    if reachable.is_empty() && undecided.is_empty() {
        writeln!(out, "It is not reachable under any other built-in model.")?;
    }
    Ok(())
}

/// Why `model` forbids the execution that reaches an outcome under `other`
/// (its witness `info`): the cycle of `model`'s ordering axiom in it, as
/// lines for the report; `None` when there is none to show (`model` is `go`,
/// which has no such axiom, or no cycle).
fn forbidding(
    test: &LitmusTest,
    model: &Model,
    other: &Model,
    info: &OutcomeInfo,
) -> Option<String> {
    let witness = info.witness.as_ref()?;
    let execution = Execution::record(&test.program, other, witness).ok()?;
    let cycle = forbidding_cycle(&execution, model)?;
    let names = Names::new(&test.program);
    let event = |id| names.event(execution.event(id));
    let mut lines = format!(
        "Why not under {}: the execution reaching it under {} has a cycle {} forbids:\n  {}\n",
        model.name,
        other.name,
        model.name,
        event(cycle[0].0)
    );
    for (i, &(_, relation)) in cycle.iter().enumerate() {
        let next = match cycle.get(i + 1) {
            Some(&(id, _)) => event(id),
            None => "back to the first".to_string(),
        };
        lines.push_str(&format!("    --{}--> {next}\n", relation.name()));
    }
    Some(lines)
}

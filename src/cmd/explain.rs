//! `hbsim explain`: find an outcome, replay its witness, and explain it.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use hbsim::explore::Completeness;
use hbsim::hb::Execution;
use hbsim::ir::{Program, Prop};
use hbsim::model::Model;
use hbsim::outcome::{Outcome, OutcomeInfo, OutcomeSet};
use hbsim::report::dot;
use hbsim::report::explain::{self, Explanation};
use hbsim::syntax::{self, LitmusTest};
use hbsim::verdict::satisfies;

use super::{explore, interrupt_flag, report_error, write_file};
use crate::cli::{ExplainArgs, resolve_model};

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
/// reachable, 2 for bad input, 130 on Ctrl-C.
pub fn explain(args: &ExplainArgs) -> io::Result<ExitCode> {
    let usage_error = |report: miette::Report| {
        report_error(&format!("{report:?}"));
        Ok(ExitCode::from(2))
    };
    let test = match syntax::parse_file(&args.file) {
        Ok(test) => test,
        Err(e) => return usage_error(miette::Report::new(e)),
    };
    let model = match args.model.as_deref().map(resolve_model) {
        Some(Ok(model)) => model,
        Some(Err(e)) => return usage_error(miette::Report::new(e)),
        None => default_model(&test),
    };
    let selector = match args.outcome.as_deref().map(str::trim) {
        None => Selector::Condition,
        // All digits is a position, however large (one too large for any
        // set is simply not there).
        Some(text) if is_position(text) => {
            Selector::Position(text.parse().unwrap_or(usize::MAX), text.to_string())
        }
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
    if exploration.completeness != Completeness::Exhaustive {
        writeln!(
            out,
            "Note: the exploration stopped early ({:?}); outcomes may be missing.",
            exploration.completeness
        )?;
    }
    let Some((position, outcome, info)) = select(&test.program, set, &selector) else {
        let code = explain_absence(
            &test,
            &model,
            &selector,
            set,
            &mut out,
            settings,
            &interrupted,
        )?;
        out.flush()?;
        return Ok(code);
    };
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
    Ok(ExitCode::SUCCESS)
}

/// The first model the file's expectations name (built-in), else `tso`.
fn default_model(test: &LitmusTest) -> Model {
    test.program
        .expectations
        .iter()
        .find_map(|e| Model::builtin(&e.model))
        .unwrap_or_else(Model::tso)
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
            let first = set.iter().next().map(|(o, info)| (1, o, info));
            outcomes.find(|(_, o, _)| set.satisfies(o, prop)).or(first)
        }
    }
}

/// Says that the selected outcome does not exist under `model`, and where it does.
fn explain_absence(
    test: &LitmusTest,
    model: &Model,
    selector: &Selector,
    set: &OutcomeSet,
    out: &mut impl Write,
    settings: crate::cli::Settings,
    interrupted: &std::sync::atomic::AtomicBool,
) -> io::Result<ExitCode> {
    let prop = match selector {
        Selector::Position(_, n) => {
            writeln!(
                out,
                "There is no outcome {n}: {} has {} outcome{} under {}.",
                test.program.name,
                set.len(),
                if set.len() == 1 { "" } else { "s" },
                model.name
            )?;
            return Ok(ExitCode::from(1));
        }
        Selector::Matching(prop, text) => {
            writeln!(
                out,
                "No outcome with {text} is reachable under {}.",
                model.name
            )?;
            prop
        }
        Selector::Condition => {
            writeln!(
                out,
                "{} has no outcomes under {}.",
                test.program.name, model.name
            )?;
            return Ok(ExitCode::from(1));
        }
    };
    let bars = indicatif::MultiProgress::new();
    let elsewhere: Vec<String> = Model::builtins()
        .into_iter()
        .filter(|m| m.name != model.name)
        .filter(|m| {
            let exploration = explore(&test.program, m, settings, interrupted, &bars);
            exploration
                .outcomes
                .iter()
                .any(|(o, _)| exploration.outcomes.satisfies(o, prop))
        })
        .map(|m| m.name)
        .collect();
    if elsewhere.is_empty() {
        writeln!(out, "It is not reachable under any built-in model either.")?;
    } else {
        writeln!(out, "It is reachable under: {}.", elsewhere.join(", "))?;
    }
    Ok(ExitCode::from(1))
}

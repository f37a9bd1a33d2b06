//! herd7's output format (`--format herd`, docs/herd.md): per test, what
//! `herd7` prints, so results can be compared line by line with herd7's logs.
//!
//! ```text
//! Test SB Allowed
//! States 4
//! 0:EAX=0; 1:EAX=0;
//! 0:EAX=0; 1:EAX=1;
//! 0:EAX=1; 1:EAX=0;
//! 0:EAX=1; 1:EAX=1;
//! Ok
//! Witnesses
//! Positive: 1 Negative: 3
//! Condition exists (0:EAX=0 /\ 1:EAX=0)
//! Observation SB Sometimes 1 3
//! Time SB 0.00
//!
//! ```
//!
//! As herd7 does (herdtools7 `herd/top_herd.ml`), a state shows only the
//! observables of the condition and of the file's `locations [...]`: registers
//! first (by thread, then in herd7's register order), then variables by name,
//! and the states are the distinct projections, sorted by value. The condition
//! is printed from the parsed proposition the way herd7 prints it
//! (`lib/constrGen.ml`): `/\` and `\/` between spaces, parentheses only around
//! a disjunction inside a conjunction, `not (...)` for negation. The counts are
//! hbsim's executions, not herd7's candidate executions; `Time` is hbsim's
//! exploration time; herd7's `Hash=` line is not printed.

use std::collections::BTreeSet;
use std::io::{self, Write};

use super::{RunReport, condition_kind};
use crate::explore::Completeness;
use crate::ir::{Ending, Observable, Program, Prop, Quantifier, Val};
use crate::outcome::Outcome;
use crate::syntax::X86_REGISTERS;

/// Writes one run as herd7 would print it, showing the observables of the
/// condition and `locations` (the file's `locations`, see
/// [`crate::syntax::LitmusTest::locations`]).
///
/// # Errors
/// Any error from `out`.
pub fn render_run(
    run: &RunReport,
    locations: &[Observable],
    out: &mut impl Write,
) -> io::Result<()> {
    let program = &run.program;
    let set = &run.exploration.outcomes;
    let shown = displayed(program, locations);
    writeln!(
        out,
        "Test {} {}",
        program.name,
        condition_kind(program.condition.quantifier)
    )?;
    match run.exploration.completeness {
        Completeness::Exhaustive => {}
        Completeness::Truncated(_) => writeln!(
            out,
            "TRUNCATED: the exploration reached a limit; states may be missing"
        )?,
        Completeness::Interrupted => writeln!(out, "INTERRUPTED: states may be missing")?,
    }
    let states: BTreeSet<Vec<Val>> = set
        .finals()
        .map(|(values, _)| shown.iter().map(|&o| set.value_of(values, o)).collect())
        .collect();
    writeln!(out, "States {}", states.len())?;
    for state in &states {
        if state.is_empty() {
            // No observables: herd7 prints an empty line, which tools that
            // split logs on blank lines take for the end of the test. This
            // is the text report's `(no observables)` as a comment, which
            // herdtools7's log reader takes for the empty state, as it does
            // herd7's empty line.
            writeln!(out, "# {}", set.display(&Outcome::Final(Vec::new())))?;
            continue;
        }
        let bindings: Vec<String> = shown
            .iter()
            .zip(state)
            .map(|(&o, v)| format!("{}={v};", program.observable_name(o)))
            .collect();
        writeln!(out, "{}", bindings.join(" "))?;
    }
    super::render_verdict(run, &condition(program), out)?;
    writeln!(
        out,
        "Time {} {:.2}",
        program.name,
        run.exploration.stats.elapsed.as_secs_f64()
    )?;
    writeln!(out)
}

/// The observables herd7 shows: those of `locations` and of the condition, in
/// herd7's order.
pub fn displayed(program: &Program, locations: &[Observable]) -> Vec<Observable> {
    let mut shown: Vec<Observable> = locations.to_vec();
    collect(&program.condition.prop, &mut shown);
    let key = |o: &Observable| match *o {
        Observable::Reg(t, r) => {
            let name = &program.threads[t.index()].regs[r.index()].name;
            let rank = X86_REGISTERS
                .iter()
                .position(|x| x == name)
                .unwrap_or(X86_REGISTERS.len());
            (0, t.0, rank, name.clone())
        }
        Observable::Loc(l) => (1, 0, 0, program.locs[l.index()].name.clone()),
    };
    shown.sort_by_key(key);
    shown.dedup();
    shown
}

fn collect(prop: &Prop, into: &mut Vec<Observable>) {
    match prop {
        Prop::True | Prop::False | Prop::Ends(_) => {}
        Prop::Eq(o, _) => into.push(*o),
        Prop::Not(p) => collect(p, into),
        Prop::And(a, b) | Prop::Or(a, b) => {
            collect(a, into);
            collect(b, into);
        }
    }
}

/// The condition as herd7 prints it: `exists (...)`, `~exists (...)` or
/// `forall (...)`.
pub fn condition(program: &Program) -> String {
    let quantifier = match program.condition.quantifier {
        Quantifier::Exists => "exists",
        Quantifier::NotExists => "~exists",
        Quantifier::Forall => "forall",
    };
    format!(
        "{quantifier} ({})",
        proposition(program, &program.condition.prop, Context::Top)
    )
}

/// Where a proposition is printed, for herd7's parenthesisation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Top,
    And,
    Or,
}

fn proposition(program: &Program, prop: &Prop, above: Context) -> String {
    match prop {
        Prop::True => "true".to_string(),
        Prop::False => "false".to_string(),
        Prop::Eq(o, v) => format!("{}={v}", program.observable_name(*o)),
        Prop::Ends(ending) => ending_atom(program, *ending),
        Prop::Not(p) => format!("not ({})", proposition(program, p, Context::Top)),
        // A conjunction binds tighter than anything around it.
        Prop::And(a, b) => format!(
            "{} /\\ {}",
            proposition(program, a, Context::And),
            proposition(program, b, Context::And)
        ),
        Prop::Or(a, b) => {
            let text = format!(
                "{} \\/ {}",
                proposition(program, a, Context::Or),
                proposition(program, b, Context::Or)
            );
            if above == Context::And {
                format!("({text})")
            } else {
                text
            }
        }
    }
}

/// An atom about how the execution ends, as conditions write it (herd7 has
/// none): `deadlock`, `panic(main)`.
fn ending_atom(program: &Program, ending: Ending) -> String {
    match ending {
        Ending::Deadlock => "deadlock".to_string(),
        Ending::Leak => "leak".to_string(),
        Ending::Panic => "panic".to_string(),
        Ending::NeverTerminates => "never_terminates".to_string(),
        Ending::PanicOf(t) => format!("panic({})", program.thread_name(t)),
        Ending::Blocked(t) => format!("blocked({})", program.thread_name(t)),
    }
}

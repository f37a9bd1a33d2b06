//! Brute-force enumeration of executions: every path from the initial state to
//! a final state, depth first, with no memoisation. Exponential, so it takes a
//! limit; it exists to check other components execution by execution.

use crate::ir::Program;
use crate::model::Model;
use crate::model::machine::Machine;
use crate::trace::{Step, Trace};

/// Up to `max` complete executions of `program` under `model`, in depth-first
/// order, ignoring paths longer than `max_steps` (loops can make them endless).
///
/// # Example
/// ```
/// use hbsim::{explore::enumerate::executions, model::Model, syntax::parse_str};
/// let test = parse_str(r#"Litmus(name: "SB", threads: [
///     [Store("x", 1), Load("r0", "y")], [Store("y", 1), Load("r0", "x")]],
///     condition: "exists 0:r0=0")"#, "sb.ron").unwrap();
/// // Two threads of two instructions interleave in 6 ways under SC.
/// assert_eq!(executions(&test.program, &Model::sc(), 100, 50).len(), 6);
/// ```
pub fn executions(program: &Program, model: &Model, max: usize, max_steps: usize) -> Vec<Trace> {
    let machine = Machine::new(program, model);
    let mut found = Vec::new();
    let mut steps = Vec::new();
    walk(
        &machine,
        &machine.initial_state(),
        &mut steps,
        max,
        max_steps,
        &mut found,
    );
    found
}

fn walk(
    machine: &Machine<'_>,
    state: &[crate::ir::Val],
    steps: &mut Vec<Step>,
    max: usize,
    max_steps: usize,
    found: &mut Vec<Trace>,
) {
    if found.len() >= max {
        return;
    }
    if machine.is_final(state) {
        found.push(Trace {
            steps: steps.clone(),
        });
        return;
    }
    if steps.len() >= max_steps {
        return;
    }
    let mut next: Vec<(Step, Vec<crate::ir::Val>)> = Vec::new();
    machine.successors(state, &mut Vec::new(), |step, _, _, s| {
        next.push((step, s.to_vec()))
    });
    for (step, s) in next {
        steps.push(step);
        walk(machine, &s, steps, max, max_steps, found);
        steps.pop();
    }
}

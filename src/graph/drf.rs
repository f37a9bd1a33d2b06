//! The `go` model for data-race-free programs.
//!
//! The Go memory model guarantees that a program none of whose sequentially
//! consistent executions has a data race executes sequentially consistently
//! (<https://go.dev/ref/mem>, "Memory Model": "if p is data-race-free [...]
//! then p executes in a sequentially consistent manner"). So the graph engine
//! explores a program under the `go` model with the `sc` axioms; when no
//! execution races, those are its `go` outcomes (tests/drf_sc.rs checks the
//! guarantee on the two machines). When one races, `go` lets racy reads see
//! older writes and independent accesses move, and the caller explores the
//! program on the state-space engine instead.
//!
//! One kind of race-free program is left out ([`sc_exception`]): a plain read
//! of a variable that atomic writes of two or more goroutines write. The
//! Go memory model's rule for ordinary reads (Requirement 3: the write read
//! must happen before the read and not happen before another write that
//! happens before it) follows happens-before only, so after two atomic
//! writes that happens-before does not order the read may see either,
//! whatever their order among the atomics; the `go` model keeps that rule
//! (docs/models.md, `go` rule 2; `litmus/go/atomic-writes-plain-read.ron`),
//! so such a program's `go` outcomes can exceed its `sc` ones although no
//! execution races. In every other race-free program a plain read has one
//! write it may observe, as in `sc`: two writes it may observe would be
//! unordered in happens-before, hence race unless both are atomic, and
//! atomic writes of one goroutine are ordered.
//!
//! Witnesses must replay on the `go` machine, whose steps name instructions
//! and the writes loads read ([`Step::Exec`], [`Step::Observe`]), where the
//! `sc` machine's name threads ([`Step::Run`]). [`go_trace`] replays an `sc`
//! witness on both machines side by side: each thread step becomes the `go`
//! step running the same thread's next instruction in program order that
//! leaves the thread with the same registers (in a race-free execution a load
//! may observe only one write: any other would race with it), and once every
//! thread has finished, the final observer keeps each variable's `sc` value.

use rayon::prelude::*;

use crate::ir::{Access, Instr, Program, Val};
use crate::model::Model;
use crate::model::machine::{Effect, Machine};
use crate::outcome::OutcomeSet;
use crate::trace::{Step, Trace};

/// Why the `go` outcomes of `program` may exceed its `sc` ones although no
/// execution races, if they may: a variable read plainly and written
/// atomically by two or more goroutines (see the module documentation).
pub(crate) fn sc_exception(program: &Program) -> Option<String> {
    (0..program.locs.len()).find_map(|l| {
        let writes_atomically = |code: &[Instr]| {
            code.iter().any(|instr| match instr {
                Instr::Store {
                    loc,
                    access: Access::Atomic,
                    ..
                }
                | Instr::Rmw { loc, .. } => loc.index() == l,
                _ => false,
            })
        };
        let reads_plainly = |code: &[Instr]| {
            code.iter().any(|instr| {
                matches!(instr, Instr::Load { loc, access: Access::Plain, .. } if loc.index() == l)
            })
        };
        let writers = program
            .threads
            .iter()
            .filter(|t| writes_atomically(&t.code))
            .count();
        let read_plainly = program.threads.iter().any(|t| reads_plainly(&t.code));
        (writers >= 2 && read_plainly).then(|| {
            format!(
                "plain reads of {} under the go model, which {writers} goroutines write atomically (happens-before need not order their writes, and go's rule for plain reads then allows more than sc)",
                program.locs[l].name
            )
        })
    })
}

/// Replaces every witness of `outcomes`, traces of the `sc` machine, by the
/// `go` machine's trace of the same execution; `false` (leaving some
/// unchanged) if one cannot be replayed, which race-free executions always
/// can.
pub(crate) fn translate_witnesses(program: &Program, outcomes: &mut OutcomeSet) -> bool {
    let (sc, go) = (Model::sc(), Model::go());
    let machines = (Machine::new(program, &sc), Machine::new(program, &go));
    let translate = |witness: &mut Trace| match go_trace(&machines, witness) {
        Some(trace) => {
            *witness = trace;
            true
        }
        None => false,
    };
    let mut witnesses: Vec<&mut Trace> = outcomes.witnesses_mut().flatten().collect();
    if witnesses.len() < PARALLEL_MIN {
        witnesses.into_iter().all(translate)
    } else {
        witnesses.par_iter_mut().all(|w| translate(w))
    }
}

/// Fewer witnesses than this are translated on the calling thread: handing
/// them to others costs more than the few microseconds each takes.
const PARALLEL_MIN: usize = 64;

/// The `go` machine's trace of the execution the `sc` machine's trace `trace`
/// performs: the same steps of the same threads, reaching the same
/// registers and memory; `None` if the `go` machine cannot follow it.
fn go_trace((sc, go): &(Machine<'_>, Machine<'_>), trace: &Trace) -> Option<Trace> {
    let (mut s, mut g) = (sc.initial_state(), go.initial_state());
    let (mut s_next, mut g_next) = (Vec::new(), Vec::new());
    let mut steps = Vec::with_capacity(trace.steps.len());
    for &step in &trace.steps {
        let t = step.thread()?;
        sc.apply_into(&s, step, &mut s_next)?;
        // The same instruction, in program order, and the way it goes (a
        // `TryLock`'s or a `select`'s) or the write it reads: the one leaving
        // the thread's registers as `sc` does.
        let (sc_layout, go_layout) = (&sc.core.layout, &go.core.layout);
        let pc = go_layout.pc(&g, t) as u32;
        let same = |g_next: &[Val]| {
            sc_layout.pc(&s_next, t) == go_layout.pc(g_next, t)
                && sc_layout.regs(&s_next, t) == go_layout.regs(g_next, t)
        };
        // A load or read-modify-write chooses an entry of its variable's
        // history; anything else has one way to go.
        let choices = match (step, go.core.instr(t, pc as usize)) {
            (Step::Exec { choice, .. }, _) => choice..choice + 1,
            (_, Some(Instr::Load { loc, .. } | Instr::Rmw { loc, .. })) => {
                0..go_layout.segment_len(&g, loc.index()) as u16
            }
            _ => 0..1,
        };
        let taken = choices
            .map(|choice| Step::Exec {
                thread: t,
                pc,
                choice,
            })
            .find(|&step| go.apply_into(&g, step, &mut g_next).is_some() && same(&g_next))?;
        steps.push(taken);
        std::mem::swap(&mut s, &mut s_next);
        std::mem::swap(&mut g, &mut g_next);
    }
    // The final observer keeps, of each variable's last writes, the one `sc` ended with.
    let mut scratch = Vec::new();
    while sc.is_final(&s) && !go.is_final(&g) {
        let mut found = None;
        go.successors(&g, &mut scratch, |candidate, effect, _, after| {
            if let Effect::Observe { loc, value } = effect
                && found.is_none()
                && sc.core.layout.mem(&s, loc) == value
            {
                found = Some((candidate, after.to_vec()));
            }
        });
        let (candidate, after) = found?;
        steps.push(candidate);
        g = after;
    }
    (sc.observe(&s) == go.observe(&g)).then_some(Trace { steps })
}

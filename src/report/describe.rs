//! How events and steps read in reports: shared by `explain`, the race list of
//! `run` and the DOT renderer, so the three agree.

use crate::hb::{Event, EventKind, Execution};
use crate::ir::{Program, ThreadId};

/// Names for threads, variables and instructions of one program.
#[derive(Clone, Copy, Debug)]
pub struct Names<'p> {
    program: &'p Program,
}

impl<'p> Names<'p> {
    /// Names from `program`.
    pub fn new(program: &'p Program) -> Self {
        Names { program }
    }

    /// A thread's name: its own, or `P<index>`.
    pub fn thread(&self, t: ThreadId) -> String {
        self.program.thread_name(t)
    }

    /// The source text of instruction `pc` of thread `t`.
    pub fn instruction(&self, t: ThreadId, pc: usize) -> &'p str {
        &self.program.threads[t.index()].source[pc]
    }

    /// A variable's name.
    pub fn loc(&self, l: crate::ir::Loc) -> &'p str {
        &self.program.locs[l.index()].name
    }

    /// What an event did, without its thread: `x = 0` for an initial write,
    /// `W x=1`, `R y=0`, `RMW x: 0 -> 1`, `RMW x: read 1 (CAS failed)`, `F`.
    pub fn effect(&self, e: &Event) -> String {
        let loc = e.loc.map(|l| self.loc(l)).unwrap_or_default();
        let atomic = if e.access == crate::ir::Access::Atomic && e.kind != EventKind::Rmw {
            "atomic "
        } else {
            ""
        };
        match (e.kind, e.read, e.written) {
            (EventKind::Init, _, Some(v)) => format!("{loc} = {v}"),
            (EventKind::Read, Some(v), _) => format!("{atomic}R {loc}={v}"),
            (EventKind::Write, _, Some(v)) => format!("{atomic}W {loc}={v}"),
            (EventKind::Rmw, Some(old), Some(new)) => format!("RMW {loc}: {old} -> {new}"),
            (EventKind::Rmw, Some(old), None) => format!("RMW {loc}: read {old}, no write"),
            _ => "F".to_string(),
        }
    }

    /// An event with its thread and instruction: `initial x = 0`, or
    /// `P0 [0] Store("x", 1): W x=1`.
    pub fn event(&self, e: &Event) -> String {
        match (e.thread, e.pc) {
            (Some(t), Some(pc)) => format!(
                "{} [{pc}] {}: {}",
                self.thread(t),
                self.instruction(t, pc),
                self.effect(e)
            ),
            _ => format!("initial {}", self.effect(e)),
        }
    }

    /// An event with its id: `e3 (P0 [0] Store("x", 1): W x=1)`.
    pub fn event_with_id(&self, exec: &Execution, id: crate::hb::EventId) -> String {
        format!("{id} ({})", self.event(exec.event(id)))
    }
}

//! Happens-before for one execution: its events, the relations between them,
//! which writes each read may observe, and its data races.
//!
//! Definitions (docs/models.md has them for users; the Go memory model,
//! <https://go.dev/ref/mem>, version of June 6, 2022, is the source):
//!
//! - **Events**: one initial write per variable, then, per executed instruction,
//!   a read, a write, a read-modify-write (a read and a write in one event; a
//!   failed compare-and-swap only reads) or a fence. Buffer commits are not
//!   events: a store happens when its thread executes it.
//! - **po**, program order: the order of one thread's events.
//! - **rf**, reads-from: the write whose value a read returned.
//! - **sw**, synchronised before: an atomic write-like event (atomic store,
//!   read-modify-write) is synchronised before every atomic read-like event
//!   (atomic load, read-modify-write) that reads from it.
//! - **hb**, happens before: the transitive closure of po and sw; the initial
//!   writes happen before every other event.
//! - A read `r` of `x` **may observe** a write `w` to `x` when `r` does not
//!   happen before `w` and no other write `w'` to `x` has `w hb w'` and
//!   `w' hb r`. It is **guaranteed** to observe `w` when `w hb r` and every
//!   other write to `x` happens before `w` or after `r`.
//! - A **data race** is a pair of accesses to one variable by different
//!   threads, at least one a write and at least one not atomic, ordered neither
//!   way by hb.
//!
//! Happens-before is computed twice: with vector clocks ([`clock`]), used for
//! every query, and as reachability in a petgraph graph ([`graph`]); the tests
//! check the two agree on every execution of the corpus.

pub mod clock;
pub mod cycle;
pub mod graph;
mod observe;
mod race;
mod record;

use std::fmt;

use serde::Serialize;

pub use observe::{Candidate, ReadAnalysis};
pub use race::Race;

use crate::ir::{Access, Loc, ThreadId, Val};
use crate::trace::{Step, Trace};
use clock::VClock;
use graph::HbGraph;

/// Index of an event in [`Execution::events`]; initial writes come first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct EventId(pub u32);

impl EventId {
    /// The index as a `usize`.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "e{}", self.0)
    }
}

/// What an event does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum EventKind {
    /// The initial write of a variable.
    Init,
    /// A load.
    Read,
    /// A store.
    Write,
    /// An atomic read-modify-write; it writes unless it is a failed CAS.
    Rmw,
    /// A fence (orders nothing in happens-before).
    Fence,
}

/// One event of an execution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The event's id.
    pub id: EventId,
    /// The executing thread; `None` for initial writes.
    pub thread: Option<ThreadId>,
    /// The instruction (index into the thread's code); `None` for initial writes.
    pub pc: Option<usize>,
    /// What the event does.
    pub kind: EventKind,
    /// Plain or atomic (read-modify-writes are atomic).
    pub access: Access,
    /// The variable accessed; `None` for fences.
    pub loc: Option<Loc>,
    /// The value read, for reads and read-modify-writes.
    pub read: Option<Val>,
    /// The value written, for writes, successful read-modify-writes and initial
    /// writes.
    pub written: Option<Val>,
    /// The trace step that executed it; `None` for initial writes.
    pub step: Option<usize>,
    /// A key ordering the events of one thread in program order (passes
    /// through loops, then instruction index); 0 for initial writes.
    pub order: u64,
    /// The event's vector clock.
    pub clock: VClock,
}

impl Event {
    /// Whether the event reads its variable.
    pub fn reads(&self) -> bool {
        self.read.is_some()
    }

    /// Whether the event writes its variable.
    pub fn writes(&self) -> bool {
        self.written.is_some()
    }
}

/// What one step of the trace did, for showing the execution step by step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepRecord {
    /// The step.
    pub step: Step,
    /// The event the step executed (`None` for commits and register-only steps).
    pub event: Option<EventId>,
    /// For a commit: the store that reached memory.
    pub committed: Option<EventId>,
    /// For a final observation (the `go` model): the write whose value the
    /// variable ends with.
    pub observed: Option<EventId>,
    /// The instruction that panicked at this step, stopping the program.
    pub panicked: Option<usize>,
    /// Where the step's value went or came from when not memory: the store
    /// entered a buffer, or the load read the thread's own buffered store.
    pub via_buffer: bool,
    /// Each thread's pending stores after the step, oldest first.
    pub pending: Vec<Vec<(Loc, Val)>>,
    /// Whether the step ran an instruction before earlier ones of its thread
    /// (the `go` model's reordering of independent plain accesses).
    pub early: bool,
}

/// One execution with its events and happens-before.
#[derive(Clone, Debug)]
pub struct Execution {
    /// Every event: initial writes (in variable order), then in execution order.
    pub events: Vec<Event>,
    /// For each event that reads, the write it read from.
    pub reads_from: Vec<Option<EventId>>,
    /// Synchronised-before pairs (write, read).
    pub sync: Vec<(EventId, EventId)>,
    /// Happens-before as a graph.
    pub graph: HbGraph,
    /// The trace this execution replays, step by step.
    pub steps: Vec<StepRecord>,
    /// The replayed trace.
    pub trace: Trace,
}

impl Execution {
    /// The event with this id.
    pub fn event(&self, id: EventId) -> &Event {
        &self.events[id.index()]
    }

    /// Whether `a` happens before `b`, by vector clocks.
    pub fn happens_before(&self, a: EventId, b: EventId) -> bool {
        let (ea, eb) = (self.event(a), self.event(b));
        if a == b || eb.kind == EventKind::Init {
            return false;
        }
        ea.kind == EventKind::Init || ea.clock <= eb.clock
    }

    /// The events of one thread, in program order.
    pub fn thread_events(&self, t: ThreadId) -> Vec<&Event> {
        let mut events: Vec<&Event> = self.events.iter().filter(|e| e.thread == Some(t)).collect();
        events.sort_by_key(|e| e.order);
        events
    }
}

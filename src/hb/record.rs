//! Recording an execution: replaying a trace on the machine and turning each
//! step's [`Effect`] into events, reads-from, synchronisation, clocks and the
//! graph.
//!
//! The machine decides everything; the recorder only follows the identity of
//! each stored value: which write event is in each memory cell and in each
//! buffer entry, so that a read knows which write it read from.

use std::collections::VecDeque;

use super::clock::VClock;
use super::graph::{HbEdge, HbGraph};
use super::{Event, EventId, EventKind, Execution, StepRecord};
use crate::ir::{Access, Loc, LocKind, Program, ThreadId};
use crate::model::Model;
use crate::model::machine::{Effect, Machine, Sink, Source};
use crate::trace::{ReplayError, Step, Trace};

impl Execution {
    /// Replays `trace` under `model` and records the execution.
    ///
    /// # Errors
    /// [`ReplayError`] naming the first step of the trace that is not enabled.
    pub fn record(
        program: &Program,
        model: &Model,
        trace: &Trace,
    ) -> Result<Execution, ReplayError> {
        let machine = Machine::new(program, model);
        let mut recorder = Recorder::new(program, machine.buffer_count());
        let mut state = machine.initial_state();
        for (index, &step) in trace.steps.iter().enumerate() {
            let (effect, next) = machine
                .apply(&state, step)
                .ok_or(ReplayError { index, step })?;
            let pc_before = step.thread().map(|t| machine.core.layout.pc(&state, t));
            let early = matches!((step, pc_before), (Step::Exec { pc, .. }, Some(before)) if pc as usize > before);
            recorder.step(index, step, effect);
            // Going back to or before the instruction just run means a loop
            // came round: later events of the thread are a new pass.
            if let (Some(t), Some(before)) = (step.thread(), pc_before) {
                let in_order = !early && !matches!(step, Step::Commit(..));
                if in_order && machine.core.layout.pc(&next, t) <= before {
                    recorder.passes[t.index()] += 1;
                }
            }
            state = next;
            let record = recorder.steps.last_mut().expect("invariant: just pushed");
            record.pending = machine
                .thread_ids()
                .map(|t| machine.pending_stores(&state, t))
                .collect();
            record.early = early;
        }
        Ok(recorder.finish(trace.clone()))
    }
}

struct Recorder {
    events: Vec<Event>,
    reads_from: Vec<Option<EventId>>,
    sync: Vec<(EventId, EventId)>,
    graph: HbGraph,
    steps: Vec<StepRecord>,
    /// The write whose value each variable's memory cell holds.
    in_memory: Vec<EventId>,
    /// The write behind each entry of each buffer, oldest first.
    in_buffer: Vec<VecDeque<EventId>>,
    /// Each thread's clock.
    clocks: Vec<VClock>,
    /// How many times each thread has gone round a loop: with the instruction
    /// index, the program-order key of its events.
    passes: Vec<u64>,
    inits: Vec<EventId>,
    /// What each shared word is.
    kinds: Vec<LocKind>,
    /// For each wait-group word, its decrements so far (their clocks merge).
    decrements: Vec<Vec<EventId>>,
}

impl Recorder {
    fn new(program: &Program, buffers: usize) -> Self {
        let threads = program.threads.len();
        let mut recorder = Recorder {
            events: Vec::new(),
            reads_from: Vec::new(),
            sync: Vec::new(),
            graph: HbGraph::default(),
            steps: Vec::new(),
            in_memory: Vec::new(),
            in_buffer: vec![VecDeque::new(); buffers],
            clocks: vec![VClock::zero(threads); threads],
            passes: vec![0; threads],
            inits: Vec::new(),
            kinds: program.locs.iter().map(|l| l.kind).collect(),
            decrements: vec![Vec::new(); program.locs.len()],
        };
        for (l, location) in program.locs.iter().enumerate() {
            let id = recorder.push(Event {
                id: EventId(0),
                thread: None,
                pc: None,
                kind: EventKind::Init,
                access: Access::Plain,
                loc: Some(Loc(l as u16)),
                read: None,
                written: Some(location.init),
                step: None,
                order: 0,
                clock: VClock::zero(threads),
            });
            recorder.in_memory.push(id);
            recorder.inits.push(id);
        }
        recorder
    }

    fn push(&mut self, mut event: Event) -> EventId {
        let id = EventId(self.events.len() as u32);
        event.id = id;
        self.events.push(event);
        self.reads_from.push(None);
        self.graph.add_event(id);
        id
    }

    fn step(&mut self, index: usize, step: Step, effect: Effect) {
        let mut record = StepRecord {
            step,
            event: None,
            committed: None,
            observed: None,
            panicked: match effect {
                Effect::Panic { pc } => Some(pc),
                _ => None,
            },
            via_buffer: matches!(
                effect,
                Effect::Write {
                    to: Sink::Buffer { .. },
                    ..
                } | Effect::Read {
                    from: Source::Buffer { .. },
                    ..
                }
            ),
            pending: Vec::new(),
            early: false,
        };
        match (step, effect) {
            (_, Effect::Commit { buffer, loc, .. }) => {
                let write = self.in_buffer[buffer]
                    .pop_front()
                    .expect("invariant: a commit empties a non-empty buffer");
                self.in_memory[loc.index()] = write;
                record.committed = Some(write);
            }
            (_, Effect::Observe { loc, value }) => {
                let write = self.final_write(loc, value);
                self.in_memory[loc.index()] = write;
                record.observed = Some(write);
            }
            (Step::Run(t) | Step::Exec { thread: t, .. }, effect) => {
                record.event = self.run(index, t, effect)
            }
            (Step::Commit(..) | Step::Observe { .. }, _) => {
                unreachable!("invariant: commit and observe steps have their own effects")
            }
        }
        self.steps.push(record);
    }

    /// Records the event of a thread step, if it has one.
    fn run(&mut self, index: usize, t: ThreadId, effect: Effect) -> Option<EventId> {
        let (pc, kind, access, loc, read, written, source) = match effect {
            Effect::Read {
                pc,
                loc,
                value,
                access,
                from,
            } => (
                pc,
                EventKind::Read,
                access,
                Some(loc),
                Some(value),
                None,
                Some(from),
            ),
            Effect::Write {
                pc,
                loc,
                value,
                access,
                ..
            } => (
                pc,
                EventKind::Write,
                access,
                Some(loc),
                None,
                Some(value),
                None,
            ),
            Effect::Counter {
                pc,
                loc,
                old,
                new,
                from,
                ..
            } => (
                pc,
                EventKind::Rmw,
                Access::Atomic,
                Some(loc),
                Some(old),
                Some(new),
                Some(from),
            ),
            Effect::Rmw {
                pc,
                loc,
                old,
                new,
                from,
            } => (
                pc,
                EventKind::Rmw,
                Access::Atomic,
                Some(loc),
                Some(old),
                new,
                Some(from),
            ),
            Effect::Fence { pc } => (pc, EventKind::Fence, Access::Plain, None, None, None, None),
            Effect::Local | Effect::Panic { .. } => return None,
            Effect::Commit { .. } | Effect::Observe { .. } => {
                unreachable!("invariant: thread steps neither commit nor observe finals")
            }
        };
        // The event's own clock entry is its place in program order.
        let order = (self.passes[t.index()] << 32 | pc as u64) + 1;
        let clock = &mut self.clocks[t.index()];
        clock.set(t.index(), clock.get(t.index()).max(order));
        let observed = source.map(|from| {
            let loc = loc.expect("invariant: reads have a variable");
            match from {
                Source::Memory => self.in_memory[loc.index()],
                Source::Buffer { buffer, index } => self.in_buffer[buffer][index],
                // Synchronisation words are always read at their newest write
                // (their bookkeeping may change the value without an event).
                Source::History { .. } if self.kinds[loc.index()] != LocKind::Variable => {
                    self.in_memory[loc.index()]
                }
                Source::History { writer, atomic } => {
                    let value = read.expect("invariant: reads read");
                    self.observable_write(t, loc, value, (writer, atomic))
                }
            }
        });
        let synchronises = match (effect, loc) {
            (Effect::Counter { .. }, _) => Vec::new(),
            (Effect::Read { .. }, Some(l))
                if matches!(
                    self.kinds[l.index()],
                    LocKind::WaitGroup | LocKind::RwReaders
                ) =>
            {
                self.decrements[l.index()].clone()
            }
            _ => self
                .synchronised_before(access, observed)
                .into_iter()
                .collect(),
        };
        let clock = &mut self.clocks[t.index()];
        for w in &synchronises {
            clock.join(&self.events[w.index()].clock);
        }
        let mut clock = clock.clone();
        clock.set(t.index(), order);
        let id = self.push(Event {
            id: EventId(0),
            thread: Some(t),
            pc: Some(pc),
            kind,
            access,
            loc,
            read,
            written,
            step: Some(index),
            order,
            clock,
        });
        self.reads_from[id.index()] = observed;
        for w in synchronises {
            self.sync.push((w, id));
            self.graph.add_edge(w, id, HbEdge::Sync);
        }
        if let (Effect::Counter { release: true, .. }, Some(l)) = (effect, loc) {
            self.decrements[l.index()].push(id);
        }
        if let Some(l) = loc.filter(|_| written.is_some()) {
            match effect {
                Effect::Write {
                    to: Sink::Buffer { buffer },
                    ..
                } => self.in_buffer[buffer].push_back(id),
                _ => self.in_memory[l.index()] = id,
            }
        }
        Some(id)
    }

    /// The event synchronised before a new event that makes an `access` and
    /// reads from `observed`: an atomic read of an atomic write (initial writes
    /// need no edge, as they happen before everything). Wait-group counters
    /// are the exception, handled by the caller: their updates acquire
    /// nothing, and a `Wait` acquires every decrement before it.
    fn synchronised_before(&self, access: Access, observed: Option<EventId>) -> Option<EventId> {
        observed.filter(|&w| {
            let writer = &self.events[w.index()];
            access == Access::Atomic
                && writer.access == Access::Atomic
                && writer.kind != EventKind::Init
        })
    }

    /// The write a read by `t` of `loc` returning `value` read, when the model
    /// let it choose among the writes it may observe: the newest such write
    /// with that value by `writer` (`None`: the initial write), atomic or not.
    /// Any of them explains the read equally well: they synchronise alike.
    fn observable_write(
        &self,
        t: ThreadId,
        loc: Loc,
        value: crate::ir::Val,
        (writer, atomic): (Option<ThreadId>, bool),
    ) -> EventId {
        let now = &self.clocks[t.index()];
        let hb = |a: &Event, b_clock: &VClock| a.kind == EventKind::Init || a.clock <= *b_clock;
        let writes: Vec<&Event> = self
            .events
            .iter()
            .filter(|e| e.loc == Some(loc) && e.writes())
            .collect();
        writes
            .iter()
            .rev()
            .find(|w| {
                w.written == Some(value)
                    && w.thread == writer
                    && (w.access == Access::Atomic) == atomic
                    && !writes.iter().any(|w2| {
                        w2.id != w.id
                            && w2.kind != EventKind::Init
                            && hb(w, &w2.clock)
                            && hb(w2, now)
                    })
            })
            .map(|w| w.id)
            .expect("invariant: the machine only reads values of writes the read may observe")
    }

    /// The write the final observer read when `loc` ends with `value`: the
    /// newest write with that value that no other write overwrites in
    /// happens-before (nor, for an atomic one, in the order of atomics).
    fn final_write(&self, loc: Loc, value: crate::ir::Val) -> EventId {
        let writes: Vec<&Event> = self
            .events
            .iter()
            .filter(|e| e.loc == Some(loc) && e.writes())
            .collect();
        let overwrites = |w: &Event, later: &Event| {
            (w.kind == EventKind::Init || w.clock <= later.clock)
                || (w.access == Access::Atomic && later.access == Access::Atomic && later.id > w.id)
        };
        writes
            .iter()
            .rev()
            .find(|w| {
                w.written == Some(value)
                    && !writes.iter().any(|later| {
                        later.id != w.id && later.kind != EventKind::Init && overwrites(w, later)
                    })
            })
            .map(|w| w.id)
            .expect("invariant: the final observer only reads writes not overwritten")
    }

    fn finish(mut self, trace: Trace) -> Execution {
        // Program-order edges join each thread's events in program order,
        // which differs from execution order when a model ran some ahead.
        for t in 0..self.clocks.len() {
            let mut events: Vec<&Event> = self
                .events
                .iter()
                .filter(|e| e.thread == Some(ThreadId(t as u16)))
                .collect();
            events.sort_by_key(|e| e.order);
            let ids: Vec<EventId> = events.iter().map(|e| e.id).collect();
            if let Some(&first) = ids.first() {
                for &init in &self.inits {
                    self.graph.add_edge(init, first, HbEdge::Init);
                }
            }
            for pair in ids.windows(2) {
                self.graph.add_edge(pair[0], pair[1], HbEdge::ProgramOrder);
            }
        }
        Execution {
            events: self.events,
            reads_from: self.reads_from,
            sync: self.sync,
            graph: self.graph,
            steps: self.steps,
            trace,
        }
    }
}

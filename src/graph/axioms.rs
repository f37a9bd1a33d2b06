//! Consistency of an execution graph under `sc`, `tso` and `pso`, with
//! coherence left lazy: a graph (events, program order, reads-from) is
//! consistent when **some** coherence order `co` (a total order of each
//! variable's writes, after its initial value) makes the model's relations
//! acyclic. With `fr = rf⁻¹; co` (a read is before every write coherence-later
//! than the one it reads) and `po-loc` program order between accesses of one
//! variable, the axioms are (docs/models.md, "Axioms"):
//!
//! - `sc`: `po ∪ rf ∪ co ∪ fr` is acyclic (Lamport's interleavings);
//! - `tso` (herd7's `x86tso.cat`): `po-loc ∪ rf ∪ co ∪ fr` is acyclic
//!   (uniproc), and so is `ppo ∪ rfe ∪ co ∪ fr`, where `ppo` is program
//!   order except from a plain store to a later plain load; fences, atomic
//!   accesses and read-modify-writes keep every program order in and out;
//! - `pso`: as `tso`, with `ppo` also dropping order from a plain store to a
//!   later plain store of another variable.
//!
//! In every model a read-modify-write is atomic: no write comes between the
//! write it reads and itself in `co`. The final observer's reads come after
//! every event, so each reads its variable's last write in `co`.
//!
//! The check derives the `co` edges every consistent order must have (a
//! write that reaches another in some relation is before it; a write that
//! reaches a read of another write is before that write; atomicity), adding
//! `co` and `fr` edges to transitively closed relations, until nothing
//! changes or a cycle appears. [`Check::solve`] then decides the pairs left
//! open by trying both orders; the partial check ([`plausible`]) stops after
//! the derivation, which is enough to prune most inconsistent prefixes.

use crate::model::{BufferShape, Forwarding, Model};

use super::bits::BitMatrix;
use super::execution::{Event, Execution, Kind, OBSERVER, Pos};

/// The hardware models the graph engine checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Axioms {
    /// Sequential consistency.
    Sc,
    /// x86-TSO.
    Tso,
    /// SPARC PSO.
    Pso,
}

impl Axioms {
    /// The axioms of a store-buffer model with unbounded buffers and store
    /// forwarding; `None` for other models (bounded buffers, no forwarding,
    /// the Go model).
    pub fn of(model: &Model) -> Option<Axioms> {
        let config = model.store_buffers_config()?;
        if config.bound.is_some() || config.forwarding != Forwarding::Enabled {
            return None;
        }
        Some(match config.buffer {
            BufferShape::None => Axioms::Sc,
            BufferShape::PerThread => Axioms::Tso,
            BufferShape::PerThreadPerLocation => Axioms::Pso,
        })
    }

    /// Whether program order from `a` to a later `b` of the same thread is
    /// preserved: no store buffer lets `b` overtake `a`.
    fn preserved(self, a: &Event, b: &Event) -> bool {
        let plain_store = |e: &Event| e.kind == Kind::Store && !e.atomic;
        let plain_load = |e: &Event| e.kind == Kind::Load && !e.atomic;
        match self {
            Axioms::Sc => true,
            Axioms::Tso => !(plain_store(a) && plain_load(b)),
            Axioms::Pso => !plain_store(a) || !(plain_load(b) || plain_store(b) && a.loc != b.loc),
        }
    }
}

/// Whether `execution` may be a prefix of a consistent execution: the
/// derivation of forced coherence edges finds no cycle.
pub(crate) fn plausible(axioms: Axioms, execution: &Execution) -> bool {
    Check::new(axioms, execution).is_some_and(|mut c| c.saturate())
}

/// A consistency check in progress: the model's relations, transitively
/// closed, with the coherence edges decided so far (and their `fr` edges).
#[derive(Clone, Debug)]
pub(crate) struct Check<'g> {
    axioms: Axioms,
    execution: &'g Execution,
    /// `sc`: `po ∪ rf ∪ co ∪ fr`; `tso`, `pso`: uniproc, then the global order.
    relations: Vec<BitMatrix>,
    /// The coherence edges decided so far.
    co: BitMatrix,
    /// Each variable's writes, by position.
    writes: Vec<Vec<Pos>>,
    /// The reads of each event (as a write), by position.
    readers: Vec<Vec<Pos>>,
}

impl<'g> Check<'g> {
    /// The relations of `execution` without coherence; `None` if they already
    /// have a cycle, or a read-modify-write of an initial value cannot be first.
    pub fn new(axioms: Axioms, execution: &'g Execution) -> Option<Check<'g>> {
        let events = &execution.events;
        let n = events.len();
        let count = if axioms == Axioms::Sc { 1 } else { 2 };
        let mut relations = vec![BitMatrix::new(n); count];
        let locs = events
            .iter()
            .map(|e| usize::from(e.loc) + 1)
            .max()
            .unwrap_or(0);
        let mut writes = vec![Vec::new(); locs];
        let mut readers = vec![Vec::new(); n];
        let mut by_thread: Vec<Vec<usize>> = vec![Vec::new(); execution.threads.len()];
        let mut observers = Vec::new();
        for (p, e) in events.iter().enumerate() {
            if e.thread == OBSERVER {
                observers.push(p);
            } else {
                by_thread[usize::from(e.thread)].push(p);
            }
            if e.writes() {
                writes[usize::from(e.loc)].push(p as Pos);
            }
            if let Some(w) = e.rf {
                readers[w as usize].push(p as Pos);
            }
        }
        for list in &by_thread {
            for (i, &a) in list.iter().enumerate() {
                for &b in &list[i + 1..] {
                    let (ea, eb) = (&events[a], &events[b]);
                    match axioms {
                        Axioms::Sc => relations[0].set(a, b),
                        _ => {
                            if ea.accesses() && eb.accesses() && ea.loc == eb.loc {
                                relations[0].set(a, b);
                            }
                            if axioms.preserved(ea, eb) {
                                relations[1].set(a, b);
                            }
                        }
                    }
                }
            }
        }
        for (p, e) in events.iter().enumerate() {
            if let Some(w) = e.rf {
                let w = w as usize;
                relations[0].set(w, p);
                if count == 2 && events[w].thread != e.thread {
                    relations[1].set(w, p);
                }
            }
            if e.thread != OBSERVER {
                for &o in &observers {
                    for r in &mut relations {
                        r.set(p, o);
                    }
                }
            }
            // A read of the initial value is before every write of its variable.
            if e.reads() && e.rf.is_none() {
                for &w in &writes[usize::from(e.loc)] {
                    if w as usize != p {
                        for r in &mut relations {
                            r.set(p, w as usize);
                        }
                    }
                }
            }
        }
        for r in &mut relations {
            r.close();
            if r.has_loop() {
                return None;
            }
        }
        let mut check = Check {
            axioms,
            execution,
            relations,
            co: BitMatrix::new(n),
            writes,
            readers,
        };
        // A read-modify-write of the initial value is its variable's first write.
        for (u, e) in events.iter().enumerate() {
            if e.kind == Kind::Rmw && e.writes() && e.rf.is_none() {
                for w in check.writes[usize::from(e.loc)].clone() {
                    if w as usize != u && !check.order(u as Pos, w) {
                        return None;
                    }
                }
            }
        }
        Some(check)
    }

    /// Whether putting `a` before `b` in `co` would close a cycle: `b`
    /// already reaches `a`, or a read of `a` (which would be before `b`).
    fn blocked(&self, a: Pos, b: Pos) -> bool {
        let (a, b) = (a as usize, b as usize);
        self.relations.iter().any(|r| {
            r.get(b, a)
                || self.readers[a]
                    .iter()
                    .any(|&x| x as usize != b && r.get(b, x as usize))
        })
    }

    /// Decides `a` before `b` in `co`, with what atomicity implies; false on
    /// a contradiction (the check is then spoiled).
    fn order(&mut self, a: Pos, b: Pos) -> bool {
        let events = &self.execution.events;
        let mut todo = vec![(a, b)];
        while let Some((a, b)) = todo.pop() {
            let (ua, ub) = (a as usize, b as usize);
            if self.co.get(ua, ub) {
                continue;
            }
            if a == b || self.co.get(ub, ua) || self.blocked(a, b) {
                return false;
            }
            self.co.set(ua, ub);
            for r in &mut self.relations {
                r.add_closed(ua, ub);
                for &x in &self.readers[ua] {
                    if x != b {
                        r.add_closed(x as usize, ub);
                    }
                }
            }
            // Nothing comes between a read-modify-write and the write it reads.
            let eb = &events[ub];
            if eb.kind == Kind::Rmw {
                match eb.rf {
                    Some(c) if c != a => todo.push((a, c)),
                    Some(_) => {}
                    None => return false,
                }
            }
            for &u in &self.readers[ua] {
                let eu = &events[u as usize];
                if eu.kind == Kind::Rmw && eu.writes() && u != b {
                    todo.push((u, b));
                }
            }
        }
        true
    }

    /// Derives every forced coherence edge; false on a contradiction.
    fn saturate(&mut self) -> bool {
        loop {
            let mut changed = false;
            for loc in 0..self.writes.len() {
                let count = self.writes[loc].len();
                for i in 0..count {
                    for j in i + 1..count {
                        let (a, b) = (self.writes[loc][i], self.writes[loc][j]);
                        if self.decided(a, b) {
                            continue;
                        }
                        let forced = match (self.blocked(a, b), self.blocked(b, a)) {
                            (true, true) => return false,
                            (false, true) => (a, b),
                            (true, false) => (b, a),
                            (false, false) => continue,
                        };
                        if !self.order(forced.0, forced.1) {
                            return false;
                        }
                        changed = true;
                    }
                }
            }
            if !changed {
                return true;
            }
        }
    }

    fn decided(&self, a: Pos, b: Pos) -> bool {
        self.co.get(a as usize, b as usize) || self.co.get(b as usize, a as usize)
    }

    /// The first pair of writes of one variable whose order is still open.
    fn open_pair(&self) -> Option<(Pos, Pos)> {
        self.writes.iter().find_map(|ws| {
            ws.iter().enumerate().find_map(|(i, &a)| {
                ws[i + 1..]
                    .iter()
                    .find(|&&b| !self.decided(a, b))
                    .map(|&b| (a, b))
            })
        })
    }

    /// A complete coherence order making the execution consistent, if there
    /// is one: the check with every pair decided.
    pub fn solve(mut self) -> Option<Check<'g>> {
        if !self.saturate() {
            return None;
        }
        let Some((a, b)) = self.open_pair() else {
            return Some(self);
        };
        let mut first = self.clone();
        if first.order(a, b)
            && let Some(done) = first.solve()
        {
            return Some(done);
        }
        if self.order(b, a) { self.solve() } else { None }
    }

    /// A relation, transitively closed, every linear extension of which is
    /// an order in which the store-buffer machine can perform the events: a
    /// load when it executes, a store when it reaches memory.
    pub fn schedule(&self) -> &BitMatrix {
        match self.axioms {
            Axioms::Sc => &self.relations[0],
            Axioms::Tso | Axioms::Pso => &self.relations[1],
        }
    }
}

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
//!   order except from a plain store to a later load, plain or atomic (an
//!   atomic load is a `MOV`); fences, atomic stores (`XCHG`) and
//!   read-modify-writes keep every program order in and out;
//! - `pso`: as `tso`, with `ppo` also dropping order from a plain store to a
//!   later plain store of another variable.
//!
//! In every model a read-modify-write is atomic: no write comes between the
//! write it reads and itself in `co`. A mutex's `Lock` and `Unlock` are
//! read-modify-writes of its word (atomic, ordered with everything in their
//! thread). The final observer's reads come after
//! every event, so each reads its variable's last write in `co`.
//!
//! [`Consistency`] derives the `co` edges every consistent order must have (a
//! write that reaches another in some relation is before it; a write that
//! reaches a read of another write is before that write; atomicity), adding
//! `co` and `fr` edges to transitively closed relations, until nothing
//! changes or a cycle appears. Edges derived for a graph hold in every graph
//! that extends it, so the search keeps the derivation with each graph and
//! extends it by each new event ([`Consistency::extend`]). A graph whose
//! derivation finds a cycle is inconsistent, and so is everything it grows
//! into; [`Consistency::solve`] decides the pairs a complete graph leaves open
//! by trying both orders.

use smallvec::SmallVec;

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
        let end = |e: &Event| PoEnd {
            plain_store: e.kind == Kind::Store && !e.atomic,
            load: e.kind == Kind::Load,
            loc: e.loc,
        };
        self.keeps(end(a), end(b))
    }

    /// Whether program order from an access described by `a` to a later one
    /// described by `b` is preserved. An atomic store drains the buffer
    /// (`XCHG`); an atomic load is a plain `MOV`, which a buffered store may
    /// be overtaken by; fences and read-modify-writes are neither a plain
    /// store nor a load, so everything stays ordered with them.
    pub fn keeps(self, a: PoEnd, b: PoEnd) -> bool {
        match self {
            Axioms::Sc => true,
            Axioms::Tso => !(a.plain_store && b.load),
            Axioms::Pso => !a.plain_store || !(b.load || b.plain_store && a.loc != b.loc),
        }
    }
}

/// One end of a program-order pair, as far as [`Axioms::keeps`] needs it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PoEnd {
    /// A plain (not atomic) store.
    pub plain_store: bool,
    /// A load, plain or atomic (not a read-modify-write).
    pub load: bool,
    /// The variable accessed.
    pub loc: u16,
}

/// The derived relations of one execution graph: the model's relations,
/// transitively closed, with the coherence edges decided so far (and their
/// `fr` edges). Positions are those of [`Execution::events`].
#[derive(Debug)]
pub(crate) struct Consistency {
    axioms: Axioms,
    /// `sc`: `po ∪ rf ∪ co ∪ fr`; `tso`, `pso`: uniproc, then the global order.
    relations: Vec<BitMatrix>,
    /// The coherence edges decided so far.
    co: BitMatrix,
    /// Each variable's writes.
    writes: Vec<SmallVec<[Pos; 4]>>,
    /// Row `w`: the reads of event `w` (as a write).
    readers: BitMatrix,
}

/// Copies each variable's writes as a slice (one copy), where the derived
/// clone would push them one by one: the search clones a graph's derivation
/// for each branch it takes.
impl Clone for Consistency {
    fn clone(&self) -> Consistency {
        Consistency {
            axioms: self.axioms,
            relations: self.relations.clone(),
            co: self.co.clone(),
            writes: self
                .writes
                .iter()
                .map(|w| SmallVec::from_slice(w))
                .collect(),
            readers: self.readers.clone(),
        }
    }
}

impl Consistency {
    /// The derivation for `execution`, built event by event; `None` if it is
    /// inconsistent.
    pub fn of(axioms: Axioms, execution: &Execution) -> Option<Consistency> {
        let count = if axioms == Axioms::Sc { 1 } else { 2 };
        // Room for every event, and the one the search adds next.
        let room = execution.events.len() + 1;
        let locs = execution
            .events
            .iter()
            .map(|e| usize::from(e.loc) + 1)
            .max();
        Consistency {
            axioms,
            relations: (0..count).map(|_| BitMatrix::with_room(room)).collect(),
            co: BitMatrix::with_room(room),
            writes: vec![SmallVec::new(); locs.unwrap_or(0)],
            readers: BitMatrix::with_room(room),
        }
        .cover(execution)
    }

    /// The derivation for `execution`, of which `self` covers a prefix (the
    /// events before some position, unchanged since): the rest added event
    /// by event; `None` if it is inconsistent.
    pub fn cover(mut self, execution: &Execution) -> Option<Consistency> {
        for p in self.co.len()..execution.events.len() {
            if !self.add(execution, p) {
                return None;
            }
        }
        self.saturate(execution).then_some(self)
    }

    /// Extends the derivation by the last event of `execution` (whose other
    /// events it already covers); false if the execution is inconsistent.
    pub fn extend(&mut self, execution: &Execution) -> bool {
        let p = execution.events.len() - 1;
        debug_assert_eq!(self.co.len(), p, "invariant: one new event");
        self.add(execution, p) && self.saturate(execution)
    }

    /// Whether a new read of `loc` by thread `t` may read from `source`
    /// (`None`: the initial value) as far as the coherence decided so far
    /// tells: no write of `loc` coherence-later than `source` comes before
    /// the read's program-order predecessor (for `tso` and `pso`, its
    /// predecessor accessing `loc`), which would put that write both before
    /// and after the read. A cheap test before building the graph; `extend`
    /// decides.
    pub fn may_read(&self, execution: &Execution, t: u16, loc: u16, source: Option<Pos>) -> bool {
        let events = &execution.events;
        let sc = self.axioms == Axioms::Sc;
        let Some(last) = events
            .iter()
            .rposition(|e| e.thread == t && (sc || (e.accesses() && e.loc == loc)))
        else {
            return true;
        };
        let Some(writes) = self.writes.get(usize::from(loc)) else {
            return true;
        };
        !writes.iter().any(|&w| {
            Some(w) != source
                && source.is_none_or(|s| self.co.get(s as usize, w as usize))
                && (w as usize == last || self.relations[0].get(w as usize, last))
        })
    }

    /// Bytes the derivation holds on the heap (about: each variable's
    /// writes are counted inline).
    pub fn bytes(&self) -> usize {
        self.relations.iter().map(BitMatrix::bytes).sum::<usize>()
            + self.co.bytes()
            + self.readers.bytes()
            + self.writes.capacity() * size_of::<SmallVec<[Pos; 4]>>()
    }

    /// Whether `write` may be the last write of its variable in coherence:
    /// no write is already decided to follow it.
    pub fn may_be_last(&self, write: Pos) -> bool {
        self.co.ones(write as usize).next().is_none()
    }

    /// Decides that `source` (`None`: the initial value) is the last write of
    /// `loc` in coherence, as a read that blocks for good needs: every other
    /// write of `loc` before it. False on a contradiction (the derivation is
    /// then spoiled).
    pub fn make_last(&mut self, execution: &Execution, loc: u16, source: Option<Pos>) -> bool {
        let writes = self
            .writes
            .get(usize::from(loc))
            .cloned()
            .unwrap_or_default();
        match source {
            None => writes.is_empty(),
            Some(last) => {
                writes
                    .iter()
                    .all(|&w| w == last || self.order(execution, w, last))
                    && self.saturate(execution)
            }
        }
    }

    /// Adds event `p` (every earlier one added) with its edges, and what
    /// the coherence decided so far implies for it.
    fn add(&mut self, execution: &Execution, p: usize) -> bool {
        let events = &execution.events;
        let e = &events[p];
        for r in &mut self.relations {
            r.grow();
        }
        self.co.grow();
        self.readers.grow();
        let loc = usize::from(e.loc);
        if self.writes.len() <= loc {
            self.writes.resize(loc + 1, SmallVec::new());
        }
        // Edges out of p: a read is before the writes coherence-later than
        // the one it reads (all of them, for the initial value).
        let mut out: SmallVec<[usize; 8]> = SmallVec::new();
        if e.reads() {
            match e.rf {
                None => out.extend(self.writes[loc].iter().map(|&w| w as usize)),
                Some(w) => out.extend(self.co.ones(w as usize)),
            }
        }
        // Edges into p, per relation.
        let mut preds: SmallVec<[SmallVec<[u64; 4]>; 2]> =
            self.relations.iter().map(|r| r.empty_row()).collect();
        let mut link = |mask: usize, q: usize| {
            for (i, row) in preds.iter_mut().enumerate() {
                if mask >> i & 1 == 1 {
                    row[q / 64] |= 1 << (q % 64);
                }
            }
        };
        let all = (1 << self.relations.len()) - 1;
        for (q, x) in events[..p].iter().enumerate() {
            if e.thread == OBSERVER {
                if x.thread != OBSERVER {
                    link(all, q);
                }
                continue;
            }
            if x.thread == e.thread {
                let mask = match self.axioms {
                    Axioms::Sc => 1,
                    _ => {
                        usize::from(x.accesses() && e.accesses() && x.loc == e.loc)
                            | usize::from(self.axioms.preserved(x, e)) << 1
                    }
                };
                link(mask, q);
            }
            // A read of the initial value is before every write.
            if e.writes() && x.reads() && x.rf.is_none() && x.loc == e.loc {
                link(all, q);
            }
        }
        if let Some(w) = e.rf {
            let w = w as usize;
            let external = events[w].thread != e.thread;
            link(if external { all } else { 1 }, w);
            self.readers.set(w, p);
        }
        for (r, preds) in self.relations.iter_mut().zip(&preds) {
            for &t in &out {
                r.add_closed(p, t);
            }
            r.attach(p, preds);
            if r.get(p, p) {
                return false;
            }
        }
        if e.writes() {
            self.writes[loc].push(p as Pos);
        }
        // Atomicity: a read-modify-write of the initial value is the first
        // write; one of a write is before every write coherence-later.
        if e.read_modify_write() && e.writes() {
            let later: Vec<Pos> = match e.rf {
                None => self.writes[loc].to_vec(),
                Some(w) => (0..p as Pos)
                    .filter(|&b| self.co.get(w as usize, b as usize))
                    .collect(),
            };
            for b in later {
                if b as usize != p && !self.order(execution, p as Pos, b) {
                    return false;
                }
            }
        }
        true
    }

    /// Whether putting `a` before `b` in `co` would close a cycle: `b`
    /// already reaches `a`, or a read of `a` (which would be before `b`).
    fn blocked(&self, a: Pos, b: Pos) -> bool {
        let (a, b) = (a as usize, b as usize);
        let readers = self.readers.row(a);
        self.relations
            .iter()
            .any(|r| r.get(b, a) || r.meets_except(b, readers, b))
    }

    /// Decides `a` before `b` in `co`, with what atomicity implies; false on
    /// a contradiction (the derivation is then spoiled).
    fn order(&mut self, execution: &Execution, a: Pos, b: Pos) -> bool {
        let events = &execution.events;
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
            let readers: SmallVec<[usize; 8]> = self.readers.ones(ua).collect();
            for r in &mut self.relations {
                r.add_closed(ua, ub);
                for &x in &readers {
                    if x != ub {
                        r.add_closed(x, ub);
                    }
                }
            }
            // Nothing comes between a read-modify-write and the write it reads.
            let eb = &events[ub];
            if eb.read_modify_write() {
                match eb.rf {
                    Some(c) if c != a => todo.push((a, c)),
                    Some(_) => {}
                    None => return false,
                }
            }
            for u in readers {
                let eu = &events[u];
                if eu.read_modify_write() && eu.writes() && u != ub {
                    todo.push((u as Pos, b));
                }
            }
        }
        true
    }

    /// Derives every forced coherence edge; false on a contradiction.
    fn saturate(&mut self, execution: &Execution) -> bool {
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
                        if !self.order(execution, forced.0, forced.1) {
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

    /// A pair of writes of one variable whose order is still open, the
    /// first by program position (thread, then index), so the order tried
    /// first does not depend on the order the events were added in.
    fn open_pair(&self, execution: &Execution) -> Option<(Pos, Pos)> {
        let id = |p: Pos| {
            let e = &execution.events[p as usize];
            (e.thread, e.index)
        };
        let mut best: Option<(Pos, Pos)> = None;
        for ws in &self.writes {
            for (i, &a) in ws.iter().enumerate() {
                for &b in &ws[i + 1..] {
                    if self.decided(a, b) {
                        continue;
                    }
                    let pair = if id(a) < id(b) { (a, b) } else { (b, a) };
                    if best.is_none_or(|(x, y)| (id(pair.0), id(pair.1)) < (id(x), id(y))) {
                        best = Some(pair);
                    }
                }
            }
        }
        best
    }

    /// A complete coherence order making `execution` consistent, if there
    /// is one: the derivation with every pair decided. Depth-first over the
    /// open pairs, each tried in one order and then the other, with a stack
    /// of its own (a recursion per pair overflowed the thread's stack with a
    /// hundred writes of one variable).
    pub fn solve(self, execution: &Execution) -> Option<Consistency> {
        // Derivations to go on with, each with the pair to decide first.
        let mut tries: Vec<(Consistency, Option<(Pos, Pos)>)> = vec![(self, None)];
        while let Some((mut derived, decide)) = tries.pop() {
            if let Some((a, b)) = decide
                && !(derived.order(execution, a, b) && derived.saturate(execution))
            {
                continue;
            }
            let Some((a, b)) = derived.open_pair(execution) else {
                return Some(derived);
            };
            // `a` before `b` first: pushed last.
            tries.push((derived.clone(), Some((b, a))));
            tries.push((derived, Some((a, b))));
        }
        None
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

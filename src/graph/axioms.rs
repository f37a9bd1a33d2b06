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

use super::bits::{BitMatrices, BitMatrix, BitMatrixMut, meets_except};
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
    /// How many relations the model's derivation keeps: `sc` one, `po ∪ rf
    /// ∪ co ∪ fr`; `tso` and `pso` two, uniproc and the global order (the
    /// last is the order events can be performed in,
    /// [`Consistency::schedule`]).
    fn relations(self) -> usize {
        match self {
            Axioms::Sc => 1,
            Axioms::Tso | Axioms::Pso => 2,
        }
    }

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
    /// The model's relations ([`Consistency::relation`]: for `sc`, `po ∪ rf
    /// ∪ co ∪ fr`; for `tso` and `pso`, uniproc, then the global order),
    /// then the coherence edges decided so far ([`Consistency::co`]), then
    /// row `w` the reads of event `w` as a write ([`Consistency::readers`]).
    matrices: BitMatrices,
    /// Each variable's writes.
    writes: Vec<SmallVec<[Pos; 4]>>,
}

/// What a derivation forces on an open pair of writes of one variable.
enum Forced {
    /// Either order closes no cycle yet.
    Neither,
    /// The first before the second: the other order closes a cycle.
    Order(Pos, Pos),
    /// Both orders close a cycle: the execution is inconsistent.
    Contradiction,
}

/// Copies each variable's writes as a slice (one copy), where the derived
/// clone would push them one by one: the search clones a graph's derivation
/// for each branch it takes.
impl Clone for Consistency {
    fn clone(&self) -> Consistency {
        Consistency {
            axioms: self.axioms,
            matrices: self.matrices.clone(),
            writes: self
                .writes
                .iter()
                .map(|w| SmallVec::from_slice(w))
                .collect(),
        }
    }
}

impl Consistency {
    /// The derivation for `execution`, built event by event; `None` if it is
    /// inconsistent.
    pub fn of(axioms: Axioms, execution: &Execution) -> Option<Consistency> {
        Consistency::empty(axioms, execution).cover(execution)
    }

    /// The derivation of no event, with room for those of `execution` and
    /// the one the search adds next.
    pub fn empty(axioms: Axioms, execution: &Execution) -> Consistency {
        let room = execution.events.len() + 1;
        let locs = execution
            .events
            .iter()
            .map(|e| usize::from(e.loc) + 1)
            .max();
        Consistency {
            axioms,
            matrices: BitMatrices::with_room(axioms.relations() + 2, room),
            writes: vec![SmallVec::new(); locs.unwrap_or(0)],
        }
    }

    /// The model's relation `k` (of [`Axioms::relations`]).
    fn relation(&self, k: usize) -> BitMatrix<'_> {
        self.matrices.matrix(k)
    }

    /// The model's relations.
    fn relations(&self) -> impl Iterator<Item = BitMatrix<'_>> {
        (0..self.axioms.relations()).map(|k| self.relation(k))
    }

    /// The coherence edges decided so far.
    fn co(&self) -> BitMatrix<'_> {
        self.matrices.matrix(self.axioms.relations())
    }

    /// Whether `a` is decided before `b` in coherence.
    fn in_co(&self, a: Pos, b: Pos) -> bool {
        self.matrices
            .get(self.axioms.relations(), a as usize, b as usize)
    }

    /// Row `w`: the reads of event `w` (as a write).
    fn readers(&self) -> BitMatrix<'_> {
        self.matrices.matrix(self.axioms.relations() + 1)
    }

    /// The model's relation `k`, to change.
    fn relation_mut(&mut self, k: usize) -> BitMatrixMut<'_> {
        self.matrices.matrix_mut(k)
    }

    /// The coherence edges decided so far, to change.
    fn co_mut(&mut self) -> BitMatrixMut<'_> {
        self.matrices.matrix_mut(self.axioms.relations())
    }

    /// The reads of each write, to change.
    fn readers_mut(&mut self) -> BitMatrixMut<'_> {
        self.matrices.matrix_mut(self.axioms.relations() + 1)
    }

    /// The derivation for `execution`, of which `self` covers a prefix (the
    /// events before some position, unchanged since): the rest added event
    /// by event; `None` if it is inconsistent.
    pub fn cover(mut self, execution: &Execution) -> Option<Consistency> {
        self.cover_until(execution, execution.events.len())
            .then_some(self)
    }

    /// Extends the derivation, which covers a prefix of `execution`, to
    /// its events before position `end`; false if they are inconsistent
    /// (the derivation is then spoiled).
    pub fn cover_until(&mut self, execution: &Execution, end: usize) -> bool {
        for p in self.matrices.len()..end {
            if !self.add(execution, p) {
                return false;
            }
        }
        self.saturate(execution)
    }

    /// Extends the derivation by the last event of `execution` (whose other
    /// events it already covers); false if the execution is inconsistent.
    pub fn extend(&mut self, execution: &Execution) -> bool {
        let p = execution.events.len() - 1;
        debug_assert_eq!(self.matrices.len(), p, "invariant: one new event");
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
                && source.is_none_or(|s| self.in_co(s, w))
                && (w as usize == last || self.matrices.get(0, w as usize, last))
        })
    }

    /// Bytes the derivation holds on the heap (about: each variable's
    /// writes are counted inline).
    pub fn bytes(&self) -> usize {
        self.matrices.bytes() + self.writes.capacity() * size_of::<SmallVec<[Pos; 4]>>()
    }

    /// Whether `write` may be the last write of its variable in coherence:
    /// no write is already decided to follow it.
    pub fn may_be_last(&self, write: Pos) -> bool {
        self.co().ones(write as usize).next().is_none()
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
        self.matrices.grow();
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
                Some(w) => out.extend(self.co().ones(w as usize)),
            }
        }
        // Edges into p, per relation.
        let mut preds: SmallVec<[SmallVec<[u64; 4]>; 2]> =
            self.relations().map(|r| r.empty_row()).collect();
        let mut link = |mask: usize, q: usize| {
            for (i, row) in preds.iter_mut().enumerate() {
                if mask >> i & 1 == 1 {
                    row[q / 64] |= 1 << (q % 64);
                }
            }
        };
        let all = (1 << self.axioms.relations()) - 1;
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
            self.readers_mut().set(w, p);
        }
        for (k, preds) in preds.iter().enumerate() {
            let mut r = self.relation_mut(k);
            for &t in &out {
                r.add_closed(p, t);
            }
            r.attach(p, preds);
            if r.as_ref().get(p, p) {
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
                Some(w) => (0..p as Pos).filter(|&b| self.in_co(w, b)).collect(),
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
        let readers = self.matrices.row(self.axioms.relations() + 1, a);
        (0..self.axioms.relations()).any(|k| {
            self.matrices.get(k, b, a) || meets_except(self.matrices.row(k, b), readers, b)
        })
    }

    /// Decides `a` before `b` in `co`, with what atomicity implies; false on
    /// a contradiction (the derivation is then spoiled).
    fn order(&mut self, execution: &Execution, a: Pos, b: Pos) -> bool {
        self.order_logged(execution, a, b, None)
    }

    /// [`Self::order`], appending to `log` (if given) every coherence edge
    /// it decides.
    fn order_logged(
        &mut self,
        execution: &Execution,
        a: Pos,
        b: Pos,
        mut log: Option<&mut Vec<(Pos, Pos)>>,
    ) -> bool {
        let events = &execution.events;
        let mut todo = vec![(a, b)];
        while let Some((a, b)) = todo.pop() {
            let (ua, ub) = (a as usize, b as usize);
            if self.in_co(a, b) {
                continue;
            }
            if a == b || self.in_co(b, a) || self.blocked(a, b) {
                return false;
            }
            self.co_mut().set(ua, ub);
            if let Some(log) = log.as_deref_mut() {
                log.push((a, b));
            }
            let readers: SmallVec<[usize; 8]> = self.readers().ones(ua).collect();
            for k in 0..self.axioms.relations() {
                let mut r = self.relation_mut(k);
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
                        match self.forced(a, b) {
                            Forced::Neither => continue,
                            Forced::Contradiction => return false,
                            Forced::Order(x, y) => {
                                if !self.order(execution, x, y) {
                                    return false;
                                }
                            }
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

    /// [`Self::saturate`] after the coherence edges of `log` were decided in a
    /// saturated derivation, looking only at the pairs they can force. An
    /// edge `a` before `b` relates (through it and through `fr` from the
    /// reads of `a`) what reaches `a` or a read of `a` to what `b` reaches;
    /// putting `c` before `d` is newly blocked only if `d` is among the
    /// former and `c`, or a read of `c`, among the latter. The fixpoint is
    /// the one `saturate` reaches (forcing is monotone), at a cost that
    /// follows the edges decided instead of the square of the writes for each.
    fn saturate_after(&mut self, execution: &Execution, log: &mut Vec<(Pos, Pos)>) -> bool {
        let n = self.matrices.len();
        while let Some((a, b)) = log.pop() {
            let mut before = vec![false; n];
            let mut sources: SmallVec<[usize; 8]> = self.readers().ones(a as usize).collect();
            sources.push(a as usize);
            for z in sources {
                before[z] = true;
                for (u, reaches) in before.iter_mut().enumerate() {
                    *reaches |= self.relations().any(|r| r.get(u, z));
                }
            }
            let mut after: SmallVec<[u64; 4]> = self.co().empty_row();
            after[b as usize / 64] |= 1 << (b % 64);
            for r in self.relations() {
                for (x, y) in after.iter_mut().zip(r.row(b as usize)) {
                    *x |= y;
                }
            }
            let meets = |row: &[u64]| row.iter().zip(&after).any(|(x, y)| x & y != 0);
            for loc in 0..self.writes.len() {
                let count = self.writes[loc].len();
                for i in 0..count {
                    let c = self.writes[loc][i];
                    let cu = c as usize;
                    if after[cu / 64] >> (cu % 64) & 1 == 0 && !meets(self.readers().row(cu)) {
                        continue;
                    }
                    for j in 0..count {
                        let d = self.writes[loc][j];
                        if c == d || !before[d as usize] || self.decided(c, d) {
                            continue;
                        }
                        match self.forced(c, d) {
                            Forced::Neither => {}
                            Forced::Contradiction => return false,
                            Forced::Order(x, y) => {
                                if !self.order_logged(execution, x, y, Some(log)) {
                                    return false;
                                }
                            }
                        }
                    }
                }
            }
        }
        true
    }

    /// What the derivation forces on the open pair of writes `a`, `b`.
    fn forced(&self, a: Pos, b: Pos) -> Forced {
        match (self.blocked(a, b), self.blocked(b, a)) {
            (true, true) => Forced::Contradiction,
            (false, true) => Forced::Order(a, b),
            (true, false) => Forced::Order(b, a),
            (false, false) => Forced::Neither,
        }
    }

    fn decided(&self, a: Pos, b: Pos) -> bool {
        self.in_co(a, b) || self.in_co(b, a)
    }

    /// The pairs of writes of one variable whose order is still open, each
    /// earlier write first, by program position (thread, then index), so the
    /// order tried first does not depend on the order the events were added
    /// in.
    fn open_pairs(&self, execution: &Execution) -> Vec<(Pos, Pos)> {
        let id = |p: Pos| {
            let e = &execution.events[p as usize];
            (e.thread, e.index)
        };
        let mut pairs = Vec::new();
        for ws in &self.writes {
            for (i, &a) in ws.iter().enumerate() {
                for &b in &ws[i + 1..] {
                    if !self.decided(a, b) {
                        pairs.push(if id(a) < id(b) { (a, b) } else { (b, a) });
                    }
                }
            }
        }
        pairs.sort_unstable_by_key(|&(a, b)| (id(a), id(b)));
        pairs
    }

    /// A complete coherence order making `execution` consistent, if there
    /// is one: the saturated derivation with every pair decided. Depth-first
    /// over the open pairs, the first by program position each time, each
    /// tried in one order and then the other, with a stack of its own (a
    /// recursion per pair overflowed the thread's stack with a hundred writes
    /// of one variable). A pair decided stays decided below, so each
    /// derivation keeps how far along the pairs it is.
    pub fn solve(self, execution: &Execution) -> Option<Consistency> {
        debug_assert!(
            {
                let mut again = self.clone();
                again.saturate(execution) && again.co() == self.co()
            },
            "invariant: solve starts from a saturated derivation"
        );
        let pairs = self.open_pairs(execution);
        if pairs.is_empty() {
            return Some(self);
        }
        // The first path the search below takes, when nothing on it fails,
        // without a copy of the derivation at each pair (two hundred writes
        // of one variable copied it twenty thousand times an execution).
        let mut first = self.clone();
        if first.decide_in_order(execution, &pairs) {
            return Some(first);
        }
        // Derivations to go on with: how far along the pairs each is, and
        // the pair to decide first.
        let mut tries = vec![(self, 0, None::<(Pos, Pos)>)];
        let mut log = Vec::new();
        while let Some((mut derived, mut next, decide)) = tries.pop() {
            if decide.is_some_and(|pair| !derived.decide(execution, pair, &mut log)) {
                continue;
            }
            while pairs.get(next).is_some_and(|&(a, b)| derived.decided(a, b)) {
                next += 1;
            }
            let Some(&(a, b)) = pairs.get(next) else {
                return Some(derived);
            };
            // `a` before `b` first: pushed last.
            tries.push((derived.clone(), next, Some((b, a))));
            tries.push((derived, next, Some((a, b))));
        }
        None
    }

    /// Decides each pair of `pairs` still open, earlier write first, as
    /// [`Self::solve`] tries first; false on a contradiction (the derivation
    /// is then spoiled).
    fn decide_in_order(&mut self, execution: &Execution, pairs: &[(Pos, Pos)]) -> bool {
        let mut log = Vec::new();
        pairs
            .iter()
            .all(|&(a, b)| self.decided(a, b) || self.decide(execution, (a, b), &mut log))
    }

    /// Decides `a` before `b` in `co` and what that forces (`log` is scratch
    /// space for the edges decided); false on a contradiction (the
    /// derivation is then spoiled).
    fn decide(
        &mut self,
        execution: &Execution,
        (a, b): (Pos, Pos),
        log: &mut Vec<(Pos, Pos)>,
    ) -> bool {
        log.clear();
        if !(self.order_logged(execution, a, b, Some(log)) && self.saturate_after(execution, log)) {
            return false;
        }
        debug_assert!(
            {
                let mut again = self.clone();
                again.saturate(execution) && again.co() == self.co()
            },
            "invariant: saturate_after reaches saturate's fixpoint"
        );
        true
    }

    /// A relation, transitively closed, every linear extension of which is
    /// an order in which the store-buffer machine can perform the events: a
    /// load when it executes, a store when it reaches memory.
    pub fn schedule(&self) -> BitMatrix<'_> {
        self.relation(self.axioms.relations() - 1)
    }
}

//! Thread symmetry: threads with the same code and the same initial
//! registers are interchangeable, so a state and the state with two of them
//! swapped have the same futures up to the swap. The search then stores one
//! state per class of such states, its canonical form, and the outcomes,
//! counts, witnesses and races of the others follow by renaming threads
//! (Emerson and Sistla, "Symmetry and model checking", FMSD 9, 1996; Ip and
//! Dill, "Better verification through symmetry", FMSD 9, 1996).
//!
//! A state's **canonical form** sorts, within each class of interchangeable
//! threads, the threads' local states (pc, registers, store buffers) in
//! increasing order: the class's lowest thread gets the smallest. Only
//! machines whose state holds nothing else naming a thread are reduced
//! ([`super::machine::Machine::symmetry`]): a store-buffer machine running
//! straight-line code whose race detection keeps no clocks.
//!
//! Invariants the users rely on:
//! - renaming threads within their classes maps the machine's steps, states
//!   and outcomes to the renamed ones, so every state of the class of a
//!   reachable state is reachable, with as many paths;
//! - the initial state is canonical (the threads of a class start alike).

use std::cmp::Ordering;

use smallvec::SmallVec;

use crate::ir::{Program, ThreadId, Val};

use super::state::Layout;

/// The classes of interchangeable threads of one program on one machine.
#[derive(Clone, Debug)]
pub(crate) struct Symmetry {
    /// Each class of two or more threads, in increasing order.
    classes: Vec<Vec<usize>>,
    /// Each thread's class, by index in `classes` (`None`: alone).
    class_of_thread: Vec<Option<usize>>,
    /// Number of threads.
    threads: usize,
    /// Segments (store buffers) per thread.
    per_thread: usize,
}

impl Symmetry {
    /// The classes of `program`'s threads with equal code and initial
    /// registers, on a machine with `per_thread` store buffers per thread;
    /// `None` if every thread is alone in its class.
    pub fn new(program: &Program, per_thread: usize) -> Option<Symmetry> {
        let alike = |a: usize, b: usize| {
            let (a, b) = (&program.threads[a], &program.threads[b]);
            a.code == b.code
                && a.regs.len() == b.regs.len()
                && a.regs.iter().zip(&b.regs).all(|(x, y)| x.init == y.init)
        };
        let threads = program.threads.len();
        let mut classes: Vec<Vec<usize>> = Vec::new();
        for t in 0..threads {
            match classes.iter_mut().find(|class| alike(class[0], t)) {
                Some(class) => class.push(t),
                None => classes.push(vec![t]),
            }
        }
        classes.retain(|class| class.len() > 1);
        let class_of_thread = (0..threads)
            .map(|t| classes.iter().position(|class| class.contains(&t)))
            .collect();
        (!classes.is_empty()).then_some(Symmetry {
            classes,
            class_of_thread,
            threads,
            per_thread,
        })
    }

    /// The classes of two or more interchangeable threads.
    pub fn classes(&self) -> impl Iterator<Item = Vec<ThreadId>> + '_ {
        self.classes
            .iter()
            .map(|class| class.iter().map(|&t| ThreadId(t as u16)).collect())
    }

    /// The canonical form of `s` into `out`, and where its threads come from
    /// into `from`: thread `i` of `out` is thread `from[i]` of `s`.
    pub fn canonical(&self, layout: &Layout, s: &[Val], from: &mut Vec<usize>, out: &mut Vec<Val>) {
        self.canonical_order(layout, s, from);
        layout.rename_threads(s, from, self.per_thread, out);
    }

    /// Where the threads of `s`'s canonical form come from, into `from`
    /// (thread `i` of the canonical form is thread `from[i]` of `s`);
    /// whether that renames any thread, so that `s` is not canonical
    /// ([`Symmetry::rename`] then builds the canonical form).
    pub fn canonical_order(&self, layout: &Layout, s: &[Val], from: &mut Vec<usize>) -> bool {
        from.clear();
        from.extend(0..self.threads);
        let mut renames = false;
        for class in &self.classes {
            renames |= self.sort_class(layout, s, class, from);
        }
        renames
    }

    /// [`Symmetry::canonical_order`] for a state `s` that a step of thread
    /// `moved` led to from a canonical state: only `moved`'s local state
    /// changed, so only its class can be out of order, and only around it.
    pub fn canonical_order_after(
        &self,
        layout: &Layout,
        s: &[Val],
        moved: ThreadId,
        from: &mut Vec<usize>,
    ) -> bool {
        let t = moved.index();
        let renames = self.class_of_thread[t].is_some_and(|c| {
            let class = &self.classes[c];
            let k = class
                .iter()
                .position(|&u| u == t)
                .expect("invariant: a thread is in its class");
            let cmp = |a: usize, b: usize| self.compare(layout, s, a, b);
            let in_order = (k == 0 || cmp(class[k - 1], t).is_le())
                && class.get(k + 1).is_none_or(|&next| cmp(t, next).is_le());
            !in_order && {
                from.clear();
                from.extend(0..self.threads);
                self.sort_class(layout, s, class, from)
            }
        });
        debug_assert_eq!(
            renames,
            self.canonical_order(layout, s, &mut Vec::new()),
            "invariant: the state before the step was canonical"
        );
        renames
    }

    /// Sorts `class`'s threads of `s` by local state into `from`; whether
    /// that moves any.
    fn sort_class(&self, layout: &Layout, s: &[Val], class: &[usize], from: &mut [usize]) -> bool {
        let cmp = |a: usize, b: usize| self.compare(layout, s, a, b);
        if class.windows(2).all(|w| cmp(w[0], w[1]).is_le()) {
            return false;
        }
        let mut sorted: SmallVec<[usize; 16]> = SmallVec::from_slice(class);
        sorted.sort_by(|&a, &b| cmp(a, b));
        for (&slot, &t) in class.iter().zip(&sorted) {
            from[slot] = t;
        }
        true
    }

    /// `s` with its threads renamed into `out`: thread `i` of `out` is
    /// thread `from[i]` of `s`.
    pub fn rename(&self, layout: &Layout, s: &[Val], from: &[usize], out: &mut Vec<Val>) {
        layout.rename_threads(s, from, self.per_thread, out);
    }

    /// `s` with its threads renamed into `out`: thread `t` of `s` becomes
    /// thread `to[t]`.
    pub fn renamed(&self, layout: &Layout, s: &[Val], to: &[usize], out: &mut Vec<Val>) {
        layout.rename_threads(s, &inverse(to), self.per_thread, out);
    }

    /// Threads `a` and `b`'s local states in `s` compared: pc, then
    /// registers, then buffer lengths, then buffered entries, each field
    /// read only if the ones before tie (equal, exactly when the local
    /// states are equal).
    fn compare(&self, layout: &Layout, s: &[Val], a: usize, b: usize) -> Ordering {
        let (ta, tb) = (ThreadId(a as u16), ThreadId(b as u16));
        let buffers = |t: usize| t * self.per_thread..(t + 1) * self.per_thread;
        layout
            .pc(s, ta)
            .cmp(&layout.pc(s, tb))
            .then_with(|| layout.regs(s, ta).cmp(layout.regs(s, tb)))
            .then_with(|| {
                layout
                    .segment_lengths(s, buffers(a))
                    .cmp(layout.segment_lengths(s, buffers(b)))
            })
            .then_with(|| {
                let entries = |t| &s[layout.thread_entries_range(s, t, self.per_thread)];
                entries(a).cmp(entries(b))
            })
    }

    /// Calls `visit` once for every distinct state of canonical state `c`'s
    /// class with the renaming that leads there: thread `i` of the state is
    /// thread `from[i]` of `c` ([`Symmetry::rename`] builds it). The first
    /// is `c` itself (`from` the identity).
    pub fn class_of(&self, layout: &Layout, c: &[Val], mut visit: impl FnMut(&[usize])) {
        let mut labels = self.labels(layout, c);
        let mut from = vec![0; self.threads];
        loop {
            from.iter_mut().enumerate().for_each(|(i, t)| *t = i);
            for (class, labels) in self.classes.iter().zip(&labels) {
                // The threads of `c` with each label, taken in order.
                let mut taken = vec![0; class.len()];
                for (&slot, &label) in class.iter().zip(labels) {
                    from[slot] = class[label + taken[label]];
                    taken[label] += 1;
                }
            }
            visit(&from);
            // The next arrangement, odometer-style over the classes.
            if !labels.iter_mut().any(|labels| next_permutation(labels)) {
                return;
            }
        }
    }

    /// How many distinct states canonical state `c`'s class has: the
    /// arrangements [`Symmetry::class_of`] lists, the product over the
    /// classes of threads of the multinomial coefficient of their local
    /// states (saturating).
    pub fn class_size(&self, layout: &Layout, c: &[Val]) -> u128 {
        let mut size: u128 = 1;
        for labels in self.labels(layout, c) {
            // n! / (m_1! m_2! ...) as a product of binomial coefficients.
            let mut placed: u128 = 0;
            for run in labels.chunk_by(|a, b| a == b) {
                for i in 1..=run.len() as u128 {
                    placed += 1;
                    // size * placed / i stays whole: it is size times C(placed, i).
                    size = size.saturating_mul(placed) / i;
                }
            }
        }
        size
    }

    /// Each class's threads in `c` labelled by their local state: the
    /// position in the class of the first thread with an equal one. In a
    /// canonical state equal local states are adjacent, so the labels are
    /// sorted.
    fn labels(&self, layout: &Layout, c: &[Val]) -> Vec<Vec<usize>> {
        let cmp = |a: usize, b: usize| self.compare(layout, c, a, b);
        self.classes
            .iter()
            .map(|class| {
                class
                    .iter()
                    .map(|&t| {
                        let first = class.iter().position(|&u| cmp(u, t).is_eq());
                        first.expect("invariant: a thread is in its own class")
                    })
                    .collect()
            })
            .collect()
    }

    /// For distinct threads `a` and `b`, one renaming within the classes
    /// per pair of distinct threads `a2` of `a`'s class and `b2` of `b`'s:
    /// `to` with `to[a] = a2` and `to[b] = b2` (thread `t` becomes thread
    /// `to[t]`). The first is the identity.
    pub fn pair_renamings(&self, a: usize, b: usize) -> Vec<Vec<usize>> {
        let class_of = |t: usize| {
            let class = self.classes.iter().find(|class| class.contains(&t));
            // The thread itself first, then the rest of its class.
            let mut members = vec![t];
            members.extend(class.into_iter().flatten().filter(|&&u| u != t));
            members
        };
        let mut renamings = Vec::new();
        for &a2 in &class_of(a) {
            for &b2 in &class_of(b) {
                if a2 == b2 {
                    continue;
                }
                // Swap a with a2, then b's image with b2.
                let mut to: Vec<usize> = (0..self.threads).collect();
                to.swap(a, a2);
                let b1 = to[b];
                for image in &mut to {
                    if *image == b1 {
                        *image = b2;
                    } else if *image == b2 {
                        *image = b1;
                    }
                }
                renamings.push(to);
            }
        }
        renamings
    }
}

/// Rearranges `v` into the next larger arrangement of its elements, in
/// lexicographic order; at the largest, into the smallest (sorted) and
/// returns false. Each distinct arrangement of a multiset comes once.
fn next_permutation(v: &mut [usize]) -> bool {
    let Some(i) = v.windows(2).rposition(|w| w[0] < w[1]) else {
        v.reverse();
        return false;
    };
    let j = v
        .iter()
        .rposition(|&x| x > v[i])
        .expect("invariant: v[i + 1] > v[i]");
    v.swap(i, j);
    v[i + 1..].reverse();
    true
}

/// The inverse of renaming `from`: `to[from[i]] = i`.
pub(crate) fn inverse(from: &[usize]) -> Vec<usize> {
    let mut to = vec![0; from.len()];
    for (i, &t) in from.iter().enumerate() {
        to[t] = i;
    }
    to
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;
    use crate::model::machine::Machine;
    use crate::syntax::parse_str;

    #[test]
    fn a_class_lists_each_renamed_state_once_and_all_come_back_to_it() {
        // Three copies of one thread and a fourth, under tso (buffers too).
        let program = parse_str(
            r#"Litmus(name: "c", threads: [
                [Store("x", 1), Load("r0", "y"), Store("y", "r0 + 1")],
                [Store("x", 1), Load("r0", "y"), Store("y", "r0 + 1")],
                [Store("x", 1), Load("r0", "y"), Store("y", "r0 + 1")],
                [Store("y", 5), Load("r0", "x")],
              ], condition: "exists x=1")"#,
            "c.ron",
        )
        .unwrap()
        .program;
        let model = Model::tso();
        let machine = Machine::new(&program, &model);
        let symmetry = machine.symmetry().expect("threads 0 to 2 are alike");
        assert_eq!(symmetry.classes, vec![vec![0, 1, 2]]);
        let layout = &machine.core.layout;
        let (mut seen, mut todo) = (
            std::collections::HashSet::new(),
            vec![machine.initial_state()],
        );
        let (mut canonical, mut from) = (Vec::new(), Vec::new());
        let mut sizes = std::collections::BTreeSet::new();
        while let Some(s) = todo.pop() {
            if !seen.insert(s.clone()) {
                continue;
            }
            machine.successors(&s, &mut Vec::new(), |_, _, _, next| {
                todo.push(next.to_vec())
            });
            symmetry.canonical(layout, &s, &mut from, &mut canonical);
            let mut class = Vec::new();
            symmetry.class_of(layout, &canonical, |from| {
                let mut renamed = Vec::new();
                symmetry.rename(layout, &canonical, from, &mut renamed);
                assert_eq!(
                    machine.observe_renamed(&canonical, from),
                    machine.observe(&renamed)
                );
                let mut back = (Vec::new(), Vec::new());
                symmetry.canonical(layout, &renamed, &mut back.1, &mut back.0);
                assert_eq!(back.0, canonical, "a renamed state comes back");
                class.push(renamed);
            });
            assert_eq!(class[0], canonical, "the first is the canonical state");
            assert!(class.contains(&s), "the class holds the state it came from");
            let listed = class.len();
            class.sort();
            class.dedup();
            assert_eq!(class.len(), listed, "no state twice");
            assert_eq!(symmetry.class_size(layout, &canonical), listed as u128);
            sizes.insert(listed);
        }
        // Classes of one (all three alike), three (two alike) and six states.
        assert_eq!(sizes, [1, 3, 6].into());
    }

    #[test]
    fn next_permutation_lists_each_arrangement_of_a_multiset_once() {
        let mut v = vec![0, 0, 2, 2, 2];
        let mut seen = vec![v.clone()];
        while next_permutation(&mut v) {
            seen.push(v.clone());
        }
        assert_eq!(v, vec![0, 0, 2, 2, 2], "back to the smallest");
        // 5! / (2! 3!) arrangements, all distinct.
        assert_eq!(seen.len(), 10);
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 10);
    }

    #[test]
    fn pair_renamings_send_a_pair_to_every_pair_of_its_classes() {
        let symmetry = Symmetry {
            classes: vec![vec![0, 2, 3]],
            class_of_thread: vec![Some(0), None, Some(0), Some(0)],
            threads: 4,
            per_thread: 1,
        };
        let renamings = symmetry.pair_renamings(0, 2);
        assert_eq!(renamings[0], vec![0, 1, 2, 3], "the identity first");
        let mut pairs: Vec<(usize, usize)> = renamings.iter().map(|to| (to[0], to[2])).collect();
        pairs.sort();
        assert_eq!(pairs, vec![(0, 2), (0, 3), (2, 0), (2, 3), (3, 0), (3, 2)]);
        for to in &renamings {
            assert_eq!(to[1], 1, "thread 1 is alone in its class");
            let mut sorted = to.clone();
            sorted.sort();
            assert_eq!(sorted, vec![0, 1, 2, 3], "a permutation: {to:?}");
        }
        // A thread alone in its class keeps its name.
        let with_alone = symmetry.pair_renamings(1, 0);
        assert_eq!(with_alone.len(), 3);
        assert!(with_alone.iter().all(|to| to[1] == 1));
    }

    #[test]
    fn inverse_undoes_a_renaming() {
        assert_eq!(inverse(&[2, 0, 1]), vec![1, 2, 0]);
    }
}

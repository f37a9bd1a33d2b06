//! The order in which the search gives threads their next event.
//!
//! The search always grows the first thread, in a fixed order, that has not
//! finished. Any fixed order explores every consistent execution; what it
//! changes is the cost. Each write revisits every read of its variable added
//! before it, dropping the events added between them to add them again, and
//! without TruSt's maximality condition the same executions are then reached
//! again and again: a reader of 3 loads after 4 threads of 3 stores each
//! (`writers-read 4 3`) takes 82 ms, the same reader first 23 s (tso, one
//! core). So threads are ordered to keep such *revisit pairs* (a read, and a
//! write to its variable later in the order) few and short: the order
//! minimises, over every pair, the accesses between its read and its write
//! (laid out thread after thread, each in program order), and among the
//! best, the one closest to the program's own. Counting pairs alone is not
//! enough: `sb N` has N - 1 pairs of neighbours in its own order and one pair
//! spanning every thread in the reverse order, which explores 10% more graphs.

use smallvec::SmallVec;

use crate::ir::{Instr, Loc, Program};

/// Thread counts up to which every order is tried; beyond, threads are
/// inserted one by one where they cost least, and the result kept if it
/// beats the program's own order.
const EXHAUSTIVE_UP_TO: usize = 5;

/// Thread counts beyond which the program's own order is kept: greedy
/// insertion costs the fourth power of the threads (160 threads: seconds,
/// before the search could hear Ctrl-C).
const GREEDY_UP_TO: usize = 64;

/// One thread's accesses in program order: the variable, whether it reads,
/// whether it writes (a read-modify-write does both, read first; every Go
/// synchronisation operation counts as one, on its object's word).
fn accesses(code: &[Instr]) -> Vec<(Loc, bool, bool)> {
    code.iter()
        .filter_map(|instr| match instr {
            Instr::Rmw { loc, .. } | Instr::Sync { obj: loc, .. } => Some((*loc, true, true)),
            Instr::Load { loc, .. } => Some((*loc, true, false)),
            Instr::Store { loc, .. } => Some((*loc, false, true)),
            _ => None,
        })
        .collect()
}

/// The revisit pairs of each variable when threads are laid out in `order`,
/// and their total length (accesses from each read to its write).
fn pairs_and_length(
    threads: &[Vec<(Loc, bool, bool)>],
    locs: usize,
    order: &[usize],
) -> (Vec<usize>, usize) {
    let mut reads: Vec<Vec<usize>> = vec![Vec::new(); locs];
    let mut pairs = vec![0; locs];
    let mut length = 0;
    let mut position = 0;
    for &t in order {
        for &(loc, read, write) in &threads[t] {
            let l = loc.index();
            if write {
                pairs[l] += reads[l].len();
                length += reads[l].iter().map(|&p| position - p).sum::<usize>();
            }
            if read {
                reads[l].push(position);
            }
            position += 1;
        }
    }
    (pairs, length)
}

/// The total length of the revisit pairs of any order of the threads, from
/// per-pair-of-threads sums computed once: a pair of a read at index `i` of
/// thread `a` and a write at index `j` of thread `b` laid out after it spans
/// `offset(b) - offset(a) + j - i` accesses.
struct Lengths {
    /// Accesses of each thread.
    len: Vec<usize>,
    /// At `a * threads + b`: the pairs of a read of `a` and a write of `b`,
    /// and the sum of `j - i` over them.
    between: Vec<(i64, i64)>,
    /// The length of the pairs inside threads.
    inner: usize,
}

impl Lengths {
    fn new(threads: &[Vec<(Loc, bool, bool)>], locs: usize) -> Lengths {
        // Per thread and variable: reads, the sum of their indices, writes,
        // the sum of theirs.
        let sums: Vec<Vec<[i64; 4]>> = threads
            .iter()
            .map(|accesses| {
                let mut sum = vec![[0i64; 4]; locs];
                for (i, &(loc, read, write)) in accesses.iter().enumerate() {
                    let x = &mut sum[loc.index()];
                    if read {
                        x[0] += 1;
                        x[1] += i as i64;
                    }
                    if write {
                        x[2] += 1;
                        x[3] += i as i64;
                    }
                }
                sum
            })
            .collect();
        let n = threads.len();
        let between = (0..n * n)
            .map(|ab| {
                let (a, b) = (ab / n, ab % n);
                sums[a].iter().zip(&sums[b]).fold((0, 0), |(n, s), (r, w)| {
                    (n + r[0] * w[2], s + r[0] * w[3] - r[1] * w[2])
                })
            })
            .collect();
        let inner = threads
            .iter()
            .enumerate()
            .map(|(t, _)| pairs_and_length(threads, locs, &[t]).1)
            .sum();
        Lengths {
            len: threads.iter().map(Vec::len).collect(),
            between,
            inner,
        }
    }

    /// The total length of the revisit pairs of `order` (every thread once).
    fn of(&self, order: &[usize]) -> usize {
        let n = self.len.len();
        let mut offset: SmallVec<[i64; 16]> = SmallVec::from_elem(0, n);
        let mut at = 0;
        for &t in order {
            offset[t] = at;
            at += self.len[t] as i64;
        }
        let mut total = self.inner as i64;
        for (i, &a) in order.iter().enumerate() {
            let row = &self.between[a * n..(a + 1) * n];
            for &b in &order[i + 1..] {
                let (pairs, span) = row[b];
                total += pairs * (offset[b] - offset[a]) + span;
            }
        }
        usize::try_from(total).expect("invariant: lengths are not negative")
    }
}

/// The threads of `program` in the order the search grows them.
pub(crate) fn thread_order(program: &Program) -> Vec<usize> {
    let threads: Vec<_> = program.threads.iter().map(|t| accesses(&t.code)).collect();
    let lengths = Lengths::new(&threads, program.locs.len());
    let length = |order: &[usize]| lengths.of(order);
    let n = threads.len();
    if n <= EXHAUSTIVE_UP_TO {
        // Permutations in lexicographic order, the program's own first: the
        // first of the least length wins.
        let mut best: Vec<usize> = (0..n).collect();
        let mut best_length = length(&best);
        let mut order = best.clone();
        while best_length > 0 && next_permutation(&mut order) {
            let l = length(&order);
            if l < best_length {
                best_length = l;
                best.clone_from(&order);
            }
        }
        return best;
    }
    let own: Vec<usize> = (0..n).collect();
    if n > GREEDY_UP_TO {
        return own;
    }
    // Greedy insertion is short-sighted (it lays `sb N` out backwards, one
    // long pair instead of N - 1 short ones), so it must beat the program's
    // own order.
    let mut order: Vec<usize> = Vec::with_capacity(n);
    for t in 0..n {
        let position = (0..=order.len())
            .min_by_key(|&p| {
                let mut candidate = order.clone();
                candidate.insert(p, t);
                // Ties go to the latest position: the program's own order.
                (length(&candidate), std::cmp::Reverse(p))
            })
            .expect("invariant: there is a position");
        order.insert(position, t);
    }
    if length(&order) < length(&own) {
        order
    } else {
        own
    }
}

/// For each variable of `program`, the pairs of a read and a later write to
/// it when threads are grown in `order`.
pub(crate) fn revisit_pairs(program: &Program, order: &[usize]) -> Vec<usize> {
    let threads: Vec<_> = program.threads.iter().map(|t| accesses(&t.code)).collect();
    pairs_and_length(&threads, program.locs.len(), order).0
}

/// Rearranges `order` into the next permutation in lexicographic order;
/// false (leaving it unchanged) when it is the last one.
fn next_permutation(order: &mut [usize]) -> bool {
    let Some(i) = (1..order.len()).rev().find(|&i| order[i - 1] < order[i]) else {
        return false;
    };
    let j = (i..order.len())
        .rev()
        .find(|&j| order[j] > order[i - 1])
        .expect("invariant: order[i] is larger");
    order.swap(i - 1, j);
    order[i..].reverse();
    true
}

#[cfg(test)]
mod tests {
    use super::{
        Lengths, accesses, next_permutation, pairs_and_length, revisit_pairs, thread_order,
    };
    use crate::families::{Family, generate};
    use crate::ir::Program;

    fn program(family: Family, numbers: &[usize]) -> Program {
        generate(family, numbers).unwrap().build().unwrap().program
    }

    #[test]
    fn lengths_add_up_as_laid_out() {
        for (family, numbers) in [
            (Family::Sb, &[5][..]),
            (Family::WritersRead, &[3, 2]),
            (Family::Ainc, &[4]),
            (Family::MutexCounter, &[3]),
        ] {
            let p = program(family, numbers);
            let threads: Vec<_> = p.threads.iter().map(|t| accesses(&t.code)).collect();
            let lengths = Lengths::new(&threads, p.locs.len());
            let mut order: Vec<usize> = (0..threads.len()).collect();
            loop {
                assert_eq!(
                    lengths.of(&order),
                    pairs_and_length(&threads, p.locs.len(), &order).1,
                    "{family} {order:?}"
                );
                if !next_permutation(&mut order) {
                    break;
                }
            }
        }
    }

    #[test]
    fn permutations_come_in_lexicographic_order() {
        let mut order = vec![0, 1, 2];
        let mut seen = vec![order.clone()];
        while next_permutation(&mut order) {
            seen.push(order.clone());
        }
        assert_eq!(
            seen,
            [
                [0, 1, 2],
                [0, 2, 1],
                [1, 0, 2],
                [1, 2, 0],
                [2, 0, 1],
                [2, 1, 0]
            ]
        );
    }

    #[test]
    fn a_reader_goes_after_the_writers() {
        // writers-read 4 3: four writers, then a reader of 3 loads.
        let mut p = program(Family::WritersRead, &[4, 3]);
        assert_eq!(thread_order(&p), [0, 1, 2, 3, 4]);
        assert_eq!(revisit_pairs(&p, &thread_order(&p)), [0]);
        // The reader first: it is still grown last.
        p.threads.rotate_right(1);
        assert_eq!(revisit_pairs(&p, &[0, 1, 2, 3, 4]), [36]);
        assert_eq!(thread_order(&p), [1, 2, 3, 4, 0]);
        assert_eq!(revisit_pairs(&p, &thread_order(&p)), [0]);
    }

    #[test]
    fn store_buffering_keeps_its_order() {
        // Its own order: 5 pairs of neighbours; the reverse: 1 pair across
        // every thread, which explores more graphs.
        let p = program(Family::Sb, &[6]);
        assert_eq!(thread_order(&p), [0, 1, 2, 3, 4, 5]);
        assert_eq!(
            revisit_pairs(&p, &thread_order(&p)).iter().sum::<usize>(),
            5
        );
    }

    #[test]
    fn store_buffering_keeps_its_order_beyond_the_exhaustive_search() {
        let p = program(Family::Sb, &[12]);
        assert_eq!(thread_order(&p), (0..12).collect::<Vec<_>>());
    }

    #[test]
    fn message_passing_chains_keep_their_order() {
        // Each hop reads the flag the previous one wrote: already no pair.
        let p = program(Family::MpChain, &[5]);
        assert_eq!(thread_order(&p), (0..p.threads.len()).collect::<Vec<_>>());
    }
}

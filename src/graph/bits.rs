//! Square bit matrices: relations over the events of one execution, as rows
//! of bits, for transitive closures and reachability at word speed. The
//! matrices of one derivation share one allocation ([`BitMatrices`]), so
//! copying a derivation, which the search does at every branch, allocates
//! once.

use smallvec::SmallVec;

/// `count` relations over the same `n` events, in one allocation: relation
/// `m` takes rows `m * cap` to `m * cap + n` (row `i` holds the events `i` is
/// related to), and rows past `n` are zero, so one more event needs no
/// copy until `cap` is reached.
#[derive(Debug)]
pub(crate) struct BitMatrices {
    n: usize,
    words: usize,
    count: usize,
    /// Rows each relation has room for.
    cap: usize,
    data: Vec<u64>,
}

/// Rows a clone has room for beyond its own, so that the search, which
/// clones a graph's relations and then adds an event, does not reallocate.
const SPARE_ROWS: usize = 2;

impl Clone for BitMatrices {
    fn clone(&self) -> BitMatrices {
        let mut copy = BitMatrices::empty(self.count, self.n, self.n + SPARE_ROWS, self.words);
        copy.copy_rows(self);
        copy
    }
}

impl BitMatrices {
    /// `count` relations over `n` events relating nothing, with room for
    /// `cap` rows each of `words` words.
    fn empty(count: usize, n: usize, cap: usize, words: usize) -> BitMatrices {
        BitMatrices {
            n,
            words,
            count,
            cap,
            data: vec![0; count * cap * words],
        }
    }

    /// Copies `from`'s rows (no more than `self` has room for, of no more
    /// words) into `self`'s.
    fn copy_rows(&mut self, from: &BitMatrices) {
        for m in 0..self.count {
            let rows = from.matrix(m).data;
            let start = m * self.cap * self.words;
            if from.words == self.words {
                self.data[start..start + rows.len()].copy_from_slice(rows);
                continue;
            }
            for (i, row) in rows.chunks_exact(from.words).enumerate() {
                let to = start + i * self.words;
                self.data[to..to + from.words].copy_from_slice(row);
            }
        }
    }

    /// `count` empty relations over `n` events.
    pub fn new(count: usize, n: usize) -> BitMatrices {
        BitMatrices::empty(count, n, n, n.div_ceil(64).max(1))
    }

    /// `count` empty relations over no events, with room to grow to `n`
    /// events without reallocating.
    pub fn with_room(count: usize, n: usize) -> BitMatrices {
        BitMatrices::empty(count, 0, n, n.div_ceil(64).max(1))
    }

    /// The number of events related.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Bytes the relations hold on the heap.
    pub fn bytes(&self) -> usize {
        self.data.capacity() * size_of::<u64>()
    }

    /// The same relations over one more event, related to nothing.
    pub fn grow(&mut self) {
        let n = self.n + 1;
        let words = n.div_ceil(64).max(1);
        if n > self.cap || words > self.words {
            let cap = if n > self.cap {
                n.max(2 * self.cap)
            } else {
                self.cap
            };
            let mut grown = BitMatrices::empty(self.count, n, cap, words);
            grown.copy_rows(self);
            *self = grown;
        }
        self.n = n;
    }

    /// Whether relation `m` relates `i` to `j` (as `self.matrix(m).get(i,
    /// j)`, without making the view: the derivation's hottest test).
    pub fn get(&self, m: usize, i: usize, j: usize) -> bool {
        debug_assert!(
            i < self.n && j < self.n,
            "invariant: events of the relations"
        );
        self.data[(m * self.cap + i) * self.words + j / 64] >> (j % 64) & 1 == 1
    }

    /// Row `i` of relation `m` (as `self.matrix(m).row(i)`).
    pub fn row(&self, m: usize, i: usize) -> &[u64] {
        debug_assert!(i < self.n, "invariant: an event of the relations");
        let start = (m * self.cap + i) * self.words;
        &self.data[start..start + self.words]
    }

    /// Relation `m`.
    pub fn matrix(&self, m: usize) -> BitMatrix<'_> {
        let start = m * self.cap * self.words;
        BitMatrix {
            data: &self.data[start..start + self.n * self.words],
            words: self.words,
        }
    }

    /// Relation `m`, to change.
    pub fn matrix_mut(&mut self, m: usize) -> BitMatrixMut<'_> {
        let start = m * self.cap * self.words;
        BitMatrixMut {
            data: &mut self.data[start..start + self.n * self.words],
            words: self.words,
        }
    }
}

/// One relation of a [`BitMatrices`]: row `i` at word `i * words`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BitMatrix<'a> {
    data: &'a [u64],
    words: usize,
}

/// [`BitMatrix`], to change.
pub(crate) struct BitMatrixMut<'a> {
    data: &'a mut [u64],
    words: usize,
}

impl<'a> BitMatrix<'a> {
    /// Whether `i` is related to `j`.
    pub fn get(self, i: usize, j: usize) -> bool {
        self.data[i * self.words + j / 64] >> (j % 64) & 1 == 1
    }

    /// Row `i` as words.
    pub fn row(self, i: usize) -> &'a [u64] {
        &self.data[i * self.words..(i + 1) * self.words]
    }

    /// The events row `i` relates to, in order.
    pub fn ones(self, i: usize) -> Ones<'a> {
        ones(self.row(i))
    }

    /// A row's worth of zero words.
    pub fn empty_row(self) -> SmallVec<[u64; 4]> {
        SmallVec::from_elem(0, self.words)
    }
}

impl BitMatrixMut<'_> {
    /// The relation, to read.
    pub fn as_ref(&self) -> BitMatrix<'_> {
        BitMatrix {
            data: self.data,
            words: self.words,
        }
    }

    /// The number of events related.
    fn len(&self) -> usize {
        self.data.len() / self.words
    }

    /// Relates `i` to `j`.
    pub fn set(&mut self, i: usize, j: usize) {
        self.data[i * self.words + j / 64] |= 1 << (j % 64);
    }

    /// Row `dst` |= row `src`.
    fn or_row(&mut self, dst: usize, src: usize) {
        if dst == src {
            return;
        }
        let w = self.words;
        let (a, b) = if dst < src {
            let (lo, hi) = self.data.split_at_mut(src * w);
            (&mut lo[dst * w..dst * w + w], &hi[..w])
        } else {
            let (lo, hi) = self.data.split_at_mut(dst * w);
            (&mut hi[..w], &lo[src * w..src * w + w])
        };
        for (x, y) in a.iter_mut().zip(b) {
            *x |= *y;
        }
    }

    /// Puts `src` and everything in its row into row `dst`: with rows as
    /// sets of predecessors, `src` comes before `dst`, and so does all that
    /// comes before `src`.
    pub fn inherit(&mut self, dst: usize, src: usize) {
        self.set(dst, src);
        self.or_row(dst, src);
    }

    /// Adds `i` → `j` to a transitively closed relation, keeping it closed.
    pub fn add_closed(&mut self, i: usize, j: usize) {
        if self.as_ref().get(i, j) {
            return;
        }
        let mut target: SmallVec<[u64; 4]> = SmallVec::from_slice(self.as_ref().row(j));
        target[j / 64] |= 1 << (j % 64);
        self.join_into(&target, |m, p| p == i || m.get(p, i));
    }

    /// Makes every event that is in `preds` or reaches one of them also
    /// reach `p` and everything `p` reaches, keeping a closed relation closed
    /// when `preds` are the direct predecessors of `p`.
    pub fn attach(&mut self, p: usize, preds: &[u64]) {
        if let [preds] = *preds {
            // One word per row (up to 64 events): the common case, unrolled.
            let target = self.data[p] | 1 << p;
            for (q, row) in self.data.iter_mut().enumerate() {
                if preds >> q & 1 == 1 || *row & preds != 0 {
                    *row |= target;
                }
            }
            return;
        }
        let mut target: SmallVec<[u64; 4]> = SmallVec::from_slice(self.as_ref().row(p));
        target[p / 64] |= 1 << (p % 64);
        self.join_into(&target, |m, q| {
            preds[q / 64] >> (q % 64) & 1 == 1
                || m.row(q).iter().zip(preds).any(|(a, b)| a & b != 0)
        });
    }

    /// Row q |= `target` for every q that `selected` picks, judging each row
    /// before it changes (`selected` reads only row q, so the other rows'
    /// changes do not matter).
    fn join_into(&mut self, target: &[u64], selected: impl Fn(BitMatrix<'_>, usize) -> bool) {
        let w = self.words;
        for q in 0..self.len() {
            if selected(self.as_ref(), q) {
                for (x, y) in self.data[q * w..q * w + w].iter_mut().zip(target) {
                    *x |= *y;
                }
            }
        }
    }
}

/// Whether `row` and `bits` share an event other than `except`.
pub(crate) fn meets_except(row: &[u64], bits: &[u64], except: usize) -> bool {
    row.iter().zip(bits).enumerate().any(|(k, (a, b))| {
        let mut both = a & b;
        if k == except / 64 {
            both &= !(1 << (except % 64));
        }
        both != 0
    })
}

/// The bits set in `words` (bit `k` of word `w` is `64 * w + k`), in order.
pub(crate) fn ones(words: &[u64]) -> Ones<'_> {
    match words.split_first() {
        Some((&first, rest)) => Ones {
            words: rest,
            base: 0,
            word: first,
        },
        None => Ones {
            words,
            base: 0,
            word: 0,
        },
    }
}

/// The iterator of [`ones`]: a plain loop over words and trailing zeros,
/// which the hot loops of the engine run (a `flat_map` of closures cost
/// several times as much per bit).
pub(crate) struct Ones<'a> {
    /// The words after the current one.
    words: &'a [u64],
    /// The bit number of the current word's lowest bit.
    base: usize,
    /// The current word's bits not yet yielded.
    word: u64,
}

impl Iterator for Ones<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        while self.word == 0 {
            let (&next, rest) = self.words.split_first()?;
            self.word = next;
            self.words = rest;
            self.base += 64;
        }
        let bit = self.word.trailing_zeros() as usize;
        self.word &= self.word - 1;
        Some(self.base + bit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Growing past a word of events and past the room reserved keeps every
    /// relation's rows, keeps the relations apart, and reserves room in
    /// proportion to the events (a relayout for wider rows once doubled the
    /// room each time, to gigabytes at 1,500 events).
    #[test]
    fn growing_keeps_rows_and_room_follows_the_events() {
        let mut set = BitMatrices::with_room(3, 2);
        for n in 1..=200 {
            set.grow();
            let p = n - 1;
            set.matrix_mut(p % 3).set(p, p / 2);
            assert_eq!(set.len(), n);
        }
        for p in 0..200 {
            for m in 0..3 {
                assert_eq!(set.get(m, p, p / 2), m == p % 3, "row {p} of relation {m}");
                assert_eq!(set.matrix(m).ones(p).count(), usize::from(m == p % 3));
            }
        }
        let copy = set.clone();
        assert!((0..3).all(|m| copy.matrix(m) == set.matrix(m)));
        // Rows of 4 words, room for at most twice the events in each.
        assert!(set.bytes() <= 3 * 400 * 4 * 8, "{} bytes", set.bytes());
    }

    /// A relation kept transitively closed by `add_closed` and `attach`
    /// relates what its edges reach, and nothing else.
    #[test]
    fn closed_relations_stay_closed() {
        let mut set = BitMatrices::new(1, 4);
        let mut r = set.matrix_mut(0);
        r.add_closed(0, 1);
        r.add_closed(2, 3);
        r.add_closed(1, 2);
        let m = set.matrix(0);
        let related: Vec<Vec<usize>> = (0..4).map(|i| m.ones(i).collect()).collect();
        assert_eq!(related, vec![vec![1, 2, 3], vec![2, 3], vec![3], vec![]]);
        set.grow();
        let mut preds = set.matrix(0).empty_row();
        preds[0] |= 1 << 3;
        set.matrix_mut(0).attach(4, &preds);
        let m = set.matrix(0);
        assert!(
            (0..4).all(|i| m.get(i, 4)),
            "everything before 3 is before 4"
        );
        assert!(!m.get(4, 4));
    }
}

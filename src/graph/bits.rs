//! A square bit matrix: a relation over the events of one execution, as rows
//! of bits, for transitive closures and reachability at word speed.

use smallvec::SmallVec;

/// An `n` × `n` relation; row `i` holds the events `i` is related to.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct BitMatrix {
    n: usize,
    words: usize,
    data: Vec<u64>,
}

/// Rows a clone has room for beyond its own, so that the search, which
/// clones a graph's relations and then adds an event, does not reallocate.
const SPARE_ROWS: usize = 2;

impl Clone for BitMatrix {
    fn clone(&self) -> BitMatrix {
        let mut data = Vec::with_capacity(self.data.len() + SPARE_ROWS * self.words);
        data.extend_from_slice(&self.data);
        BitMatrix {
            n: self.n,
            words: self.words,
            data,
        }
    }
}

impl BitMatrix {
    /// The empty relation over `n` events.
    pub fn new(n: usize) -> BitMatrix {
        let words = n.div_ceil(64).max(1);
        BitMatrix {
            n,
            words,
            data: vec![0; n * words],
        }
    }

    /// The empty relation over no events, with room to grow to `n` events
    /// without reallocating.
    pub fn with_room(n: usize) -> BitMatrix {
        BitMatrix {
            n: 0,
            words: 1,
            data: Vec::with_capacity(n * n.div_ceil(64).max(1)),
        }
    }

    /// The number of events related.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Bytes the relation holds on the heap.
    pub fn bytes(&self) -> usize {
        self.data.capacity() * size_of::<u64>()
    }

    /// The same relation over one more event, related to nothing.
    pub fn grow(&mut self) {
        let n = self.n + 1;
        let words = n.div_ceil(64).max(1);
        if words == self.words {
            self.data.resize(n * words, 0);
        } else {
            let mut data = vec![0; n * words];
            for i in 0..self.n {
                data[i * words..i * words + self.words].copy_from_slice(self.row(i));
            }
            self.data = data;
            self.words = words;
        }
        self.n = n;
    }

    /// Whether `i` is related to `j`.
    pub fn get(&self, i: usize, j: usize) -> bool {
        self.data[i * self.words + j / 64] >> (j % 64) & 1 == 1
    }

    /// Relates `i` to `j`.
    pub fn set(&mut self, i: usize, j: usize) {
        self.data[i * self.words + j / 64] |= 1 << (j % 64);
    }

    /// Row `i` as words.
    pub fn row(&self, i: usize) -> &[u64] {
        &self.data[i * self.words..(i + 1) * self.words]
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
        if self.get(i, j) {
            return;
        }
        let mut target: SmallVec<[u64; 4]> = SmallVec::from_slice(self.row(j));
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
            for q in 0..self.n {
                let row = &mut self.data[q];
                if preds >> q & 1 == 1 || *row & preds != 0 {
                    *row |= target;
                }
            }
            return;
        }
        let mut target: SmallVec<[u64; 4]> = SmallVec::from_slice(self.row(p));
        target[p / 64] |= 1 << (p % 64);
        self.join_into(&target, |m, q| {
            preds[q / 64] >> (q % 64) & 1 == 1
                || m.row(q).iter().zip(preds).any(|(a, b)| a & b != 0)
        });
    }

    /// Row q |= `target` for every q that `selected` picks, judging each row
    /// before it changes (`selected` reads only row q, so the other rows'
    /// changes do not matter).
    fn join_into(&mut self, target: &[u64], selected: impl Fn(&BitMatrix, usize) -> bool) {
        let w = self.words;
        for q in 0..self.n {
            if selected(self, q) {
                for (x, y) in self.data[q * w..q * w + w].iter_mut().zip(target) {
                    *x |= *y;
                }
            }
        }
    }

    /// Whether row `i` shares an event other than `except` with `bits`.
    pub fn meets_except(&self, i: usize, bits: &[u64], except: usize) -> bool {
        self.row(i).iter().zip(bits).enumerate().any(|(k, (a, b))| {
            let mut both = a & b;
            if k == except / 64 {
                both &= !(1 << (except % 64));
            }
            both != 0
        })
    }

    /// The events row `i` relates to, in order.
    pub fn ones(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        ones(self.row(i))
    }

    /// A row's worth of zero words.
    pub fn empty_row(&self) -> SmallVec<[u64; 4]> {
        SmallVec::from_elem(0, self.words)
    }
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

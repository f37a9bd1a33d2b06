//! A square bit matrix: a relation over the events of one execution, as rows
//! of bits, for transitive closures and reachability at word speed.

/// An `n` × `n` relation; row `i` holds the events `i` is related to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BitMatrix {
    n: usize,
    words: usize,
    data: Vec<u64>,
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

    /// Replaces the relation by its transitive closure (Warshall).
    pub fn close(&mut self) {
        for k in 0..self.n {
            for i in 0..self.n {
                if self.get(i, k) {
                    self.or_row(i, k);
                }
            }
        }
    }

    /// Adds `i` → `j` to a transitively closed relation, keeping it closed.
    pub fn add_closed(&mut self, i: usize, j: usize) {
        if self.get(i, j) {
            return;
        }
        self.set(i, j);
        let w = self.words;
        let target: Vec<u64> = self.row(j).to_vec();
        for p in 0..self.n {
            if p == i || self.get(p, i) {
                self.set(p, j);
                for (x, y) in self.data[p * w..p * w + w].iter_mut().zip(&target) {
                    *x |= *y;
                }
            }
        }
    }

    /// Whether some event is related to itself (a cycle, once closed).
    pub fn has_loop(&self) -> bool {
        (0..self.n).any(|i| self.get(i, i))
    }
}

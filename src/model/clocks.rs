//! Vector clocks stored in the words of a state, shared by race detection and
//! the `go` model.
//!
//! Clocks follow FastTrack (Flanagan and Freund, PLDI 2009): thread `u`'s clock
//! `C_u` starts with `C_u[u] = 1` and other entries 0; an atomic write-like
//! access publishes `C_u` with its value and then increments `C_u[u]`; an atomic
//! read-like access of an atomic write joins the published clock into `C_u`. An
//! access of thread `t` at epoch `e = C_t[t]` happens before the current point
//! of thread `u` exactly when `e <= C_u[t]`.
//!
//! Only the order of the values within one thread's component matters, so
//! [`renumber`] maps each component's values densely onto 1, 2, ... (0 stays 0),
//! which keeps states finite when loops publish clocks again and again.

use crate::ir::Val;

/// Where the thread clocks `C_u` are in a word slice: `C_u[t]` at
/// `start + u * threads + t`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ThreadClocks {
    pub start: usize,
    pub threads: usize,
}

impl ThreadClocks {
    /// Number of words the clocks take.
    pub fn len(&self) -> usize {
        self.threads * self.threads
    }

    /// The word holding `C_u[t]`.
    pub fn at(&self, u: usize, t: usize) -> usize {
        self.start + u * self.threads + t
    }

    /// Sets every clock to its initial value.
    pub fn initialise(&self, words: &mut [Val]) {
        for u in 0..self.threads {
            words[self.at(u, u)] = 1;
        }
    }

    /// `C_u ⊔= published`, where `published` is the offset of a published clock.
    pub fn acquire(&self, words: &mut [Val], u: usize, published: usize) {
        for t in 0..self.threads {
            let mine = self.at(u, t);
            words[mine] = words[mine].max(words[published + t]);
        }
    }

    /// `published ⊔= C_u`, then increments `C_u[u]` (a release that keeps the
    /// releases before it, as Go's race detector's `ReleaseMerge`).
    pub fn release_merge(&self, words: &mut [Val], u: usize, published: usize) {
        for t in 0..self.threads {
            words[published + t] = words[published + t].max(words[self.at(u, t)]);
        }
        words[self.at(u, u)] += 1;
    }

    /// Copies `C_u` to offset `published`, then increments `C_u[u]`.
    pub fn release(&self, words: &mut [Val], u: usize, published: usize) {
        for t in 0..self.threads {
            words[published + t] = words[self.at(u, t)];
        }
        words[self.at(u, u)] += 1;
    }
}

/// Renumbers the values at `positions` (all of one thread's clock component)
/// densely onto 1, 2, ..., keeping 0 and the order.
pub(crate) fn renumber(words: &mut [Val], positions: impl Iterator<Item = usize> + Clone) {
    if already_dense(words, positions.clone()) {
        return;
    }
    let mut values: smallvec::SmallVec<[Val; 32]> = positions
        .clone()
        .map(|p| words[p])
        .filter(|&v| v > 0)
        .collect();
    values.sort_unstable();
    values.dedup();
    if values.iter().enumerate().all(|(i, &v)| v == i as Val + 1) {
        return;
    }
    for p in positions {
        if words[p] > 0 {
            words[p] = values
                .binary_search(&words[p])
                .expect("invariant: collected above") as Val
                + 1;
        }
    }
}

/// Whether the non-zero values at `positions` are exactly 1, 2, ..., max: the
/// common case, checked without allocating.
fn already_dense(words: &[Val], positions: impl Iterator<Item = usize>) -> bool {
    let mut dense = Density::default();
    for p in positions {
        dense.note(words[p]);
    }
    dense.is_dense()
}

/// Whether values noted one by one are, apart from 0, exactly 1, 2, ...,
/// max (values past 64 count as not dense): the test [`renumber`] starts
/// with, for callers that see the values of several components in one pass.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Density {
    /// Bit `v - 1` for each value `v` in 1..=64 seen.
    seen: u64,
    max: Val,
    too_large: bool,
}

impl Density {
    pub fn note(&mut self, v: Val) {
        if v > 64 {
            self.too_large = true;
        } else if v > 0 {
            self.seen |= 1 << (v - 1);
            self.max = self.max.max(v);
        }
    }

    pub fn is_dense(&self) -> bool {
        let all_up_to_max = if self.max == 64 {
            u64::MAX
        } else {
            (1u64 << self.max) - 1
        };
        !self.too_large && self.seen == all_up_to_max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_then_acquire_orders_and_renumbering_keeps_order() {
        let clocks = ThreadClocks {
            start: 0,
            threads: 2,
        };
        let mut words = vec![0; clocks.len() + 2];
        clocks.initialise(&mut words);
        assert_eq!(words, vec![1, 0, 0, 1, 0, 0]);
        clocks.release(&mut words, 0, 4);
        clocks.acquire(&mut words, 1, 4);
        assert_eq!(words, vec![2, 0, 1, 1, 1, 0]);
        words[0] = 7;
        renumber(&mut words, [0, 2, 4].into_iter());
        assert_eq!(words, vec![2, 0, 1, 1, 1, 0]);
    }
}

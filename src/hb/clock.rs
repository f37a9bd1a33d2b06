//! Vector clocks: the fast form of happens-before.
//!
//! Every event of thread `t` gets a clock whose `t` entry is its position in
//! `t`'s program order (so events a model ran ahead of program order still
//! compare in program order); an event that synchronises with another joins
//! that event's clock first. Then for two distinct events, `a` happens before
//! `b` exactly when `clock(a) <= clock(b)` entry by entry, which
//! [`VClock`]'s `PartialOrd` expresses: `None` means concurrent.
//!
//! Invariant: a clock has one entry per thread of the program.

use std::cmp::Ordering;

/// A vector clock: one counter per thread.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct VClock(Vec<u64>);

impl VClock {
    /// The zero clock for `threads` threads.
    pub fn zero(threads: usize) -> Self {
        VClock(vec![0; threads])
    }

    /// Increments entry `t`.
    pub fn tick(&mut self, t: usize) {
        self.0[t] += 1;
    }

    /// Entry `t`.
    pub fn get(&self, t: usize) -> u64 {
        self.0[t]
    }

    /// Sets entry `t`.
    pub fn set(&mut self, t: usize, value: u64) {
        self.0[t] = value;
    }

    /// Raises every entry to at least `other`'s.
    pub fn join(&mut self, other: &VClock) {
        for (mine, theirs) in self.0.iter_mut().zip(&other.0) {
            *mine = (*mine).max(*theirs);
        }
    }

    /// The entries, by thread index.
    pub fn entries(&self) -> &[u64] {
        &self.0
    }
}

impl PartialOrd for VClock {
    /// Entry-wise order: `Less` if every entry is at most the other's and one is
    /// smaller, `None` if each clock has an entry larger than the other's.
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        let mut less = false;
        let mut greater = false;
        for (a, b) in self.0.iter().zip(&other.0) {
            match a.cmp(b) {
                Ordering::Less => less = true,
                Ordering::Greater => greater = true,
                Ordering::Equal => {}
            }
        }
        match (less, greater) {
            (false, false) => Some(Ordering::Equal),
            (true, false) => Some(Ordering::Less),
            (false, true) => Some(Ordering::Greater),
            (true, true) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_entrywise_and_none_means_concurrent() {
        let mut a = VClock::zero(2);
        a.tick(0);
        let mut b = VClock::zero(2);
        b.tick(1);
        assert_eq!(a.partial_cmp(&b), None);
        assert!(a.partial_cmp(&b).is_none() && b.partial_cmp(&a).is_none());
        let mut c = b.clone();
        c.join(&a);
        c.tick(1);
        assert!(a < c && b < c);
        assert_eq!(c.entries(), &[1, 2]);
        assert_eq!(a.partial_cmp(&a.clone()), Some(Ordering::Equal));
    }
}

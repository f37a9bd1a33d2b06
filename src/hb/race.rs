//! Data races of one execution: pairs of accesses to one variable by different
//! threads, at least one a write and at least one not atomic, ordered neither
//! way by happens-before (the Go memory model, 2022, "data race"; miri and the
//! Go race detector use the same definition).

use serde::Serialize;

use super::{EventId, EventKind, Execution};
use crate::ir::{Access, Loc};

/// Two accesses that race, `first` earlier in the execution than `second`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Race {
    /// The variable both access.
    pub loc: Loc,
    /// The access that executed first.
    pub first: EventId,
    /// The access that executed second.
    pub second: EventId,
}

impl Execution {
    /// Every racing pair of accesses, ordered by the second access, then the first.
    pub fn races(&self) -> Vec<Race> {
        let accesses: Vec<_> = self
            .events
            .iter()
            .filter(|e| e.thread.is_some() && e.loc.is_some() && e.kind != EventKind::Fence)
            .collect();
        let mut races = Vec::new();
        for (i, b) in accesses.iter().enumerate() {
            for a in &accesses[..i] {
                let conflict = a.loc == b.loc
                    && a.thread != b.thread
                    && (a.writes() || b.writes())
                    && (a.access == Access::Plain || b.access == Access::Plain);
                if conflict && !self.happens_before(a.id, b.id) && !self.happens_before(b.id, a.id)
                {
                    races.push(Race {
                        loc: a.loc.expect("invariant: accesses have a variable"),
                        first: a.id,
                        second: b.id,
                    });
                }
            }
        }
        races
    }
}

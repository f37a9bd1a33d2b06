//! Which writes each read may observe (the Go memory model's rule for reads,
//! <https://go.dev/ref/mem>, "Implementation Restrictions for Programs
//! Containing Data Races", and the 2012 "allowed to observe" wording).

use serde::Serialize;

use super::{EventId, Execution};

/// How one write stands with respect to one read of its variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Candidate {
    /// The read may observe the write.
    MayObserve,
    /// Excluded: the read happens before the write.
    HappensAfterRead,
    /// Excluded: the write happens before another write `by`, which happens
    /// before the read.
    Overwritten {
        /// The overwriting write.
        by: EventId,
    },
}

/// One read of an execution, with every write to its variable judged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReadAnalysis {
    /// The read (a load or a read-modify-write).
    pub read: EventId,
    /// The write it actually read from.
    pub observed: EventId,
    /// Every other write to the variable in the execution, in event order, with
    /// whether the read may observe it.
    pub writes: Vec<(EventId, Candidate)>,
    /// Whether the read is guaranteed to observe the write it read from: that
    /// write happens before the read, and every other write to the variable
    /// happens before that write or after the read.
    pub guaranteed: bool,
}

impl ReadAnalysis {
    /// The writes the read may observe.
    pub fn may_observe(&self) -> impl Iterator<Item = EventId> + '_ {
        self.writes
            .iter()
            .filter(|(_, c)| *c == Candidate::MayObserve)
            .map(|(w, _)| *w)
    }
}

impl Execution {
    /// Judges, for every read of the execution, every write to its variable.
    pub fn analyse_reads(&self) -> Vec<ReadAnalysis> {
        self.events
            .iter()
            .filter(|e| e.reads())
            .map(|r| {
                let loc = r.loc;
                let writes: Vec<_> = self
                    .events
                    .iter()
                    .filter(|w| w.writes() && w.loc == loc && w.id != r.id)
                    .map(|w| w.id)
                    .collect();
                let judge = |w: EventId| {
                    if self.happens_before(r.id, w) {
                        return Candidate::HappensAfterRead;
                    }
                    let overwriter = writes.iter().copied().find(|&w2| {
                        w2 != w && self.happens_before(w, w2) && self.happens_before(w2, r.id)
                    });
                    match overwriter {
                        Some(by) => Candidate::Overwritten { by },
                        None => Candidate::MayObserve,
                    }
                };
                let observed = self.reads_from[r.id.index()]
                    .expect("invariant: every read reads from a write");
                let guaranteed = self.happens_before(observed, r.id)
                    && writes.iter().all(|&w| {
                        w == observed
                            || self.happens_before(w, observed)
                            || self.happens_before(r.id, w)
                    });
                ReadAnalysis {
                    read: r.id,
                    observed,
                    writes: writes.iter().map(|&w| (w, judge(w))).collect(),
                    guaranteed,
                }
            })
            .collect()
    }
}

//! Where a bulk batch's time goes: the wall time of each phase (begin and row locks, reads of current rows,
//! tombstones and ledger, the in-memory decisions, the writes, the commit), logged at debug level as one
//! `batch phases` line per batch. `make bench` turns it on to print the split (testing/benchmarks/README.md).

use std::time::{Duration, Instant};
use tracing::debug;

/// A phase of a bulk batch, in order.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Phase {
    /// Getting a connection, `BEGIN`, the sync marker and the row locks.
    Lock,
    /// Reading the current rows, parents, tombstones and ledger entries.
    Read,
    /// Deciding in memory (conflict rules) and planning the statements.
    Decide,
    /// The multi-row writes, tombstones and ledger rows.
    Write,
    /// `COMMIT`.
    Commit,
}

/// The laps of one batch.
pub(crate) struct Phases {
    last: Instant,
    laps: [Duration; 5],
}

impl Phases {
    pub fn new(started: Instant) -> Self {
        Phases {
            last: started,
            laps: [Duration::ZERO; 5],
        }
    }

    /// Ends `phase` now.
    pub fn lap(&mut self, phase: Phase) {
        let now = Instant::now();
        self.laps[phase as usize] += now.duration_since(self.last);
        self.last = now;
    }

    /// One debug line with every phase in microseconds.
    pub fn log(&self, ops: usize) {
        let us = |phase: Phase| self.laps[phase as usize].as_micros() as u64;
        debug!(
            ops,
            lock_us = us(Phase::Lock),
            read_us = us(Phase::Read),
            decide_us = us(Phase::Decide),
            write_us = us(Phase::Write),
            commit_us = us(Phase::Commit),
            "batch phases"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn laps_add_up_per_phase() {
        let start = Instant::now() - Duration::from_millis(30);
        let mut phases = Phases::new(start);
        phases.lap(Phase::Lock);
        phases.lap(Phase::Read);
        let total: Duration = phases.laps.iter().sum();
        assert!(total >= Duration::from_millis(30));
        assert!(phases.laps[Phase::Lock as usize] >= Duration::from_millis(30));
        assert_eq!(phases.laps[Phase::Commit as usize], Duration::ZERO);
    }
}

//! Counters of what one `Consumer::run` did, returned by the API (and to PHP as an array).

use serde::Serialize;
use std::collections::BTreeMap;

/// Per-entity counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EntityCounters {
    /// Events applied to the target database.
    pub applied: u64,
    /// Events skipped because the sync service wrote them (echoes).
    pub skipped_echo: u64,
    /// Events already in the ledger (replays).
    pub duplicates: u64,
    /// Events sent to the dead-letter topic.
    pub dead_lettered: u64,
    /// Incoming versions that lost to a newer row on the target (conflict resolution).
    pub conflicts_lost: u64,
}

/// Counters for one `run`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Messages read from Kafka.
    pub consumed: u64,
    /// Events applied to the target database.
    pub applied: u64,
    /// Echoes skipped (written by the sync service).
    pub skipped_echo: u64,
    /// Replayed events skipped by the ledger.
    pub duplicates: u64,
    /// Attempts retried after a transient failure.
    pub retried: u64,
    /// Messages sent to the dead-letter topic.
    pub dead_lettered: u64,
    /// Incoming versions that lost to a newer row on the target.
    pub conflicts_lost: u64,
    /// The same counters per entity (`user`, `post`, `like`).
    pub per_entity: BTreeMap<String, EntityCounters>,
}

impl EntityCounters {
    /// Adds `other`'s counts to these.
    fn add(&mut self, other: &EntityCounters) {
        self.applied += other.applied;
        self.skipped_echo += other.skipped_echo;
        self.duplicates += other.duplicates;
        self.dead_lettered += other.dead_lettered;
        self.conflicts_lost += other.conflicts_lost;
    }
}

impl Counters {
    /// Adds `other`'s counts to these (the counts of batches applied side by side).
    pub fn add(&mut self, other: &Counters) {
        self.consumed += other.consumed;
        self.applied += other.applied;
        self.skipped_echo += other.skipped_echo;
        self.duplicates += other.duplicates;
        self.retried += other.retried;
        self.dead_lettered += other.dead_lettered;
        self.conflicts_lost += other.conflicts_lost;
        for (entity, counts) in &other.per_entity {
            self.per_entity
                .entry(entity.clone())
                .or_default()
                .add(counts);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_counters_sums_every_count_and_every_entity() {
        let mut total = Counters {
            consumed: 3,
            applied: 2,
            ..Counters::default()
        };
        total.per_entity.entry("user".into()).or_default().applied = 2;
        let mut other = Counters {
            consumed: 5,
            applied: 1,
            skipped_echo: 1,
            duplicates: 1,
            retried: 4,
            dead_lettered: 1,
            conflicts_lost: 1,
            ..Counters::default()
        };
        other.per_entity.entry("user".into()).or_default().applied = 1;
        other
            .per_entity
            .entry("post".into())
            .or_default()
            .dead_lettered = 1;
        total.add(&other);
        assert_eq!(
            (
                total.consumed,
                total.applied,
                total.skipped_echo,
                total.duplicates
            ),
            (8, 3, 1, 1)
        );
        assert_eq!(
            (total.retried, total.dead_lettered, total.conflicts_lost),
            (4, 1, 1)
        );
        assert_eq!(total.per_entity["user"].applied, 3);
        assert_eq!(total.per_entity["post"].dead_lettered, 1);
    }
}

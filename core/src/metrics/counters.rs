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

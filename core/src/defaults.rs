//! Serde default values shared by the option sets that name the same things (the consumer's config, `status`,
//! `verify`/`repair`): one place for the stack's topic names, group prefix, replication slot and conflict window.

use crate::config::DEFAULT_CONFLICT_WINDOW_MS;
use crate::status::DEFAULT_REPLICATION_SLOT;

/// The legacy side's change topic.
pub(crate) fn legacy_topic() -> String {
    "legacy.events".to_string()
}

/// The revamp side's change topic.
pub(crate) fn revamp_topic() -> String {
    "revamp.events".to_string()
}

/// The prefix of the consumer groups (`<prefix>-legacy-to-revamp`, `<prefix>-revamp-to-legacy`).
pub(crate) fn group_prefix() -> String {
    "dbsync".to_string()
}

/// Debezium's replication slot on the legacy database.
pub(crate) fn replication_slot() -> String {
    DEFAULT_REPLICATION_SLOT.to_string()
}

/// How much newer the other side's version must be to win anyway (`legacy_wins` / `revamp_wins`).
pub(crate) fn conflict_window_ms() -> u64 {
    DEFAULT_CONFLICT_WINDOW_MS
}

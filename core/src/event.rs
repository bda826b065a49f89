//! The normalized change event: what every Kafka message is decoded into, whichever side and shape it came from.

use crate::position::SourcePosition;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;
use uuid::{uuid, Uuid};

/// Namespace of the deterministic event ids (UUIDv5, see `decode`).
///
/// It is `uuid5(NAMESPACE_URL, "urn:dbsync:event-id")`. Never change it: the ledgers hold ids derived from it, and a
/// new namespace would make every replayed message look new and apply again.
pub const EVENT_ID_NAMESPACE: Uuid = uuid!("d17fe982-e4e5-5cd2-92c0-9a35a3e62982");

/// One of the two databases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The legacy PostgreSQL database.
    Legacy,
    /// The revamp MySQL/MariaDB database.
    Revamp,
}

impl Side {
    /// The opposite side: where a change from this side is applied.
    pub fn other(self) -> Side {
        match self {
            Side::Legacy => Side::Revamp,
            Side::Revamp => Side::Legacy,
        }
    }

    /// `"legacy"` or `"revamp"`, as in the mapping file and the `source` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Legacy => "legacy",
            Side::Revamp => "revamp",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened to the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Operation {
    /// A row was inserted (or read by a snapshot).
    Create,
    /// A row was updated.
    Update,
    /// A row was deleted.
    Delete,
}

impl Operation {
    /// `"CREATE"`, `"UPDATE"` or `"DELETE"`, as in the seed's event contract.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A change of one row on one side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeEvent {
    /// Deterministic id: the same message always yields the same id, so the ledger can drop replays.
    pub event_id: Uuid,
    /// The mapping's entity name (`user`, `post`, `like`).
    pub entity_type: String,
    /// What happened to the row.
    pub operation: Operation,
    /// The row's primary key (the same on both sides).
    pub primary_key: i64,
    /// The row image in the origin side's column names: the after image; for a delete, the delete's version (key,
    /// the tombstone's `deleted_at` under the `updated_at` column, and the deleter as `source`) or the whole before
    /// image (a raw delete).
    pub payload: Map<String, Value>,
    /// Who made the change (`legacy`, `revamp` or `sync_service`): the row's `source` column, or for a tombstone
    /// delete the deleter.
    pub source: String,
    /// Version of the event format; Debezium envelopes carry none and count as 1.
    pub event_version: u32,
    /// When the change happened at the origin (commit time).
    pub timestamp: DateTime<Utc>,
    /// The database the change happened in.
    pub origin: Side,
    /// Whether the event comes from an initial snapshot (Debezium `op = r`); it is still a create.
    pub snapshot: bool,
    /// Where the change sits in the source's log, when the envelope says (not part of the event contract: it lets
    /// the writer skip ledger lookups, see [`crate::position`]).
    #[serde(skip)]
    pub position: Option<SourcePosition>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_is_the_documented_derivation() {
        assert_eq!(
            EVENT_ID_NAMESPACE,
            Uuid::new_v5(&Uuid::NAMESPACE_URL, b"urn:dbsync:event-id")
        );
    }

    #[test]
    fn sides_name_and_swap() {
        assert_eq!(Side::Legacy.other(), Side::Revamp);
        assert_eq!(Side::Revamp.other(), Side::Legacy);
        assert_eq!(Side::Legacy.as_str(), "legacy");
        assert_eq!(Side::Revamp.to_string(), "revamp");
    }

    #[test]
    fn operations_use_the_contract_spelling() {
        for op in [Operation::Create, Operation::Update, Operation::Delete] {
            let json = serde_json::to_value(op).unwrap();
            assert_eq!(json, Value::String(op.as_str().to_string()));
            assert_eq!(serde_json::from_value::<Operation>(json).unwrap(), op);
        }
    }
}

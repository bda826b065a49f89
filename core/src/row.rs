//! Row operations on the target database: what `transform` produces and the writers apply. Dialect-free values,
//! names already in the target side's spelling.
//!
//! A [`Delete`] carries the version of the row its deleter saw, not a time: it removes the target row unless that
//! row holds a version that beats it (see [`crate::conflict`]).

use crate::conflict::Version;
use crate::event::Side;
use crate::mapping::ConflictPolicy;
use crate::position::SourcePosition;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A column value, independent of SQL dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlValue {
    /// SQL NULL.
    Null,
    /// A boolean (PostgreSQL `boolean`).
    Bool(bool),
    /// An integer (BIGINT, TINYINT, ...).
    Int(i64),
    /// Text (TEXT, VARCHAR, ENUM label).
    Text(String),
    /// An instant, written as UTC.
    Timestamp(DateTime<Utc>),
}

/// A parent row that must exist on the target before a child referencing it is written (README, "How it stays
/// correct: Order is per row").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentRef {
    /// The parent's entity name.
    pub entity: String,
    /// The parent's table on the target side.
    pub table: String,
    /// The parent's key column.
    pub key_column: String,
    /// The referenced key.
    pub id: i64,
}

/// Insert the row, or update it if the incoming version wins under `conflict`.
#[derive(Debug, Clone, PartialEq)]
pub struct Upsert {
    /// The entity name.
    pub entity: String,
    /// The target table.
    pub table: String,
    /// The key column.
    pub key_column: String,
    /// The row's key.
    pub key: i64,
    /// Every mapped column in target names, key and `updated_at` included, in mapping order.
    pub columns: Vec<(String, SqlValue)>,
    /// The column last-writer-wins compares.
    pub updated_at_column: String,
    /// The incoming row's `updated_at`.
    pub updated_at: DateTime<Utc>,
    /// How a conflict with the target's row is settled.
    pub conflict: ConflictPolicy,
    /// One entry per non-null foreign key.
    pub parents: Vec<ParentRef>,
    /// The event's id, for the ledger.
    pub event_id: Uuid,
    /// When the change committed on the source (the event's timestamp), for the ledger's end-to-end delay.
    pub source_committed_at: DateTime<Utc>,
    /// The side the change came from.
    pub origin: Side,
    /// Where the change sits in the source's log, if known (lets the writer skip the ledger lookup).
    pub position: Option<SourcePosition>,
}

/// Delete the row unless the target's row holds a version that beats `deleted` under `conflict`.
#[derive(Debug, Clone, PartialEq)]
pub struct Delete {
    /// The entity name.
    pub entity: String,
    /// The target table.
    pub table: String,
    /// The key column.
    pub key_column: String,
    /// The row's key.
    pub key: i64,
    /// The delete's version: when and on which side the row was deleted (the tombstone's `deleted_at` and deleter;
    /// for a raw delete, the before image's `updated_at` and `source` stand in).
    pub deleted: Version,
    /// The target's column holding the version (with `source`) that `deleted` is compared with.
    pub updated_at_column: String,
    /// How a conflict with the target's row is settled.
    pub conflict: ConflictPolicy,
    /// The event's id, for the ledger.
    pub event_id: Uuid,
    /// When the change committed on the source (the event's timestamp), for the ledger's end-to-end delay.
    pub source_committed_at: DateTime<Utc>,
    /// The side the change came from.
    pub origin: Side,
    /// Where the change sits in the source's log, if known (lets the writer skip the ledger lookup).
    pub position: Option<SourcePosition>,
}

/// One change to apply to the target database.
#[derive(Debug, Clone, PartialEq)]
pub enum RowOp {
    /// Insert or update.
    Upsert(Upsert),
    /// Delete.
    Delete(Delete),
}

impl RowOp {
    /// The entity name.
    pub fn entity(&self) -> &str {
        match self {
            RowOp::Upsert(op) => &op.entity,
            RowOp::Delete(op) => &op.entity,
        }
    }

    /// The target table.
    pub fn table(&self) -> &str {
        match self {
            RowOp::Upsert(op) => &op.table,
            RowOp::Delete(op) => &op.table,
        }
    }

    /// The row's key.
    pub fn key(&self) -> i64 {
        match self {
            RowOp::Upsert(op) => op.key,
            RowOp::Delete(op) => op.key,
        }
    }

    /// The event's id.
    pub fn event_id(&self) -> Uuid {
        match self {
            RowOp::Upsert(op) => op.event_id,
            RowOp::Delete(op) => op.event_id,
        }
    }

    /// Where the change sits in the source's log, if known.
    pub fn position(&self) -> Option<&SourcePosition> {
        match self {
            RowOp::Upsert(op) => op.position.as_ref(),
            RowOp::Delete(op) => op.position.as_ref(),
        }
    }

    /// When the change committed on the source.
    pub fn source_committed_at(&self) -> DateTime<Utc> {
        match self {
            RowOp::Upsert(op) => op.source_committed_at,
            RowOp::Delete(op) => op.source_committed_at,
        }
    }
}

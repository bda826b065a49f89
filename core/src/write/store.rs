//! The seam between the writer's decisions and each SQL dialect: the few statements `apply` needs, run inside the
//! batch's transaction. Table and column names come only from the validated mapping; values are always bound.

use crate::conflict::Version;
use crate::row::{Delete, Upsert};
use crate::write::error::WriteError;
use crate::write::schema::ColumnTypes;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A row's stored version: its `updated_at` and `source`.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub updated_at: DateTime<Utc>,
    pub source: String,
}

/// Statements of one dialect, inside one transaction.
pub(crate) trait RowStore {
    /// Records the event id with its source commit time; false if it was there already (a replay).
    async fn record_event(
        &mut self,
        event_id: Uuid,
        source_committed_at: DateTime<Utc>,
    ) -> Result<bool, WriteError>;
    /// Whether a row with this key exists.
    async fn row_exists(
        &mut self,
        table: &str,
        key_column: &str,
        key: i64,
    ) -> Result<bool, WriteError>;
    /// The row's version, locking the row for the rest of the transaction.
    async fn lock_version(
        &mut self,
        table: &str,
        key_column: &str,
        updated_at_column: &str,
        key: i64,
    ) -> Result<Option<Stored>, WriteError>;
    /// The tombstone of a deleted row, if any.
    async fn tombstone(&mut self, table: &str, key: i64) -> Result<Option<Stored>, WriteError>;
    /// Removes a tombstone (the row comes back with a newer version).
    async fn drop_tombstone(&mut self, table: &str, key: i64) -> Result<(), WriteError>;
    /// Records a tombstone for a row that is not here (deleted before it arrived).
    async fn put_tombstone(
        &mut self,
        table: &str,
        key: i64,
        deleted: Version,
    ) -> Result<(), WriteError>;
    /// Inserts the row.
    async fn insert(&mut self, op: &Upsert, types: &ColumnTypes) -> Result<(), WriteError>;
    /// Updates every mapped column of the row.
    async fn update(&mut self, op: &Upsert, types: &ColumnTypes) -> Result<(), WriteError>;
    /// Deletes the row (the table's trigger records the tombstone).
    async fn delete(&mut self, op: &Delete) -> Result<(), WriteError>;
}

/// The bulk path's statements: read everything a batch needs at once, then write its final state at once.
pub(crate) trait BulkStore {
    /// Locks the batch's rows and reads their versions, their parents, tombstones, the lane's position watermark
    /// (locked) and which of the event ids that may be redeliveries are known.
    async fn fetch(
        &mut self,
        request: &crate::write::view::Request,
    ) -> Result<crate::write::view::Fetched, WriteError>;
    /// Writes the plan in multi-row statements, `order` being the tables parents first.
    async fn flush(
        &mut self,
        plan: &crate::write::view::Plan,
        order: &[String],
        types: &ColumnTypes,
    ) -> Result<(), WriteError>;
    /// Raises the position watermark of `lane` (read, locked, by `fetch`) to `position`.
    async fn write_watermark(
        &mut self,
        lane: &crate::position::Lane,
        position: &crate::position::SourcePosition,
    ) -> Result<(), WriteError>;
    /// Commits.
    async fn commit(self) -> Result<(), WriteError>;
    /// Rolls back now, releasing the batch's row locks before the one-by-one path takes them again.
    async fn rollback(self);
}

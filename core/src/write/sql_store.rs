//! [`RowStore`] for both sqlx drivers, driven by a [`Dialect`]: the statements are written once (a macro stamps
//! them out per driver, since sqlx's drivers share no trait for everything used here), so PostgreSQL and MySQL
//! differ only in SQL text and connection set-up.

use crate::conflict::Version;
use crate::position::{Lane, SourcePosition};
use crate::row::{Delete, RowOp, SqlValue, Upsert};
use crate::write::dialect::Dialect;
use crate::write::error::WriteError;
use crate::write::pg_arrays::{self, ColumnArray};
use crate::write::row_lock::{lock_keys, LOCK_WAIT_SECONDS};
use crate::write::schema::{row_source_for, ColumnTypes};
use crate::write::store::{BulkStore, RowStore, Stored};
use crate::write::view::{Fetched, LedgerKey, Plan, Request};
use crate::write::Pruned;
use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, Database, Row, Transaction};
use std::collections::BTreeMap;
use uuid::Uuid;

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;
type MySqlQuery<'q> = sqlx::query::Query<'q, sqlx::MySql, sqlx::mysql::MySqlArguments>;

/// A transaction on the target plus the dialect to speak in it.
pub(crate) struct SqlStore<DB: Database> {
    pub tx: Transaction<'static, DB>,
    pub dialect: &'static Dialect,
}

impl<DB: Database> SqlStore<DB> {
    /// Commits the batch.
    pub async fn commit(self) -> Result<(), WriteError> {
        self.tx
            .commit()
            .await
            .map_err(|e| WriteError::from_sqlx("committing the batch", e))
    }
}

/// How long a rollback may take before its connection is given up.
const ROLLBACK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Most parameters one statement binds (PostgreSQL and MySQL both allow 65,535).
const MAX_PARAMS: usize = 60_000;

/// Most row locks one MySQL statement takes (a chain of `GET_LOCK`s; PostgreSQL binds them all as one array).
const MAX_LOCKS: usize = 1024;

fn chunk_rows(width: usize) -> usize {
    (MAX_PARAMS / width.max(1)).max(1)
}

/// `items` in chunks whose lengths are powers of two (the largest that fits in what is left, at most `max`): a
/// batch of any size is written by statements of a few shapes that stay in each connection's statement cache,
/// instead of a new statement (prepare, parse, cache eviction) for every batch size. Only for writes that a
/// repeated row would change (MySQL's multi-row INSERTs); the others go in [`padded_chunks`], one statement each.
fn shaped<T>(items: &[T], max: usize) -> impl Iterator<Item = &[T]> {
    let mut rest = items;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let fits = rest.len().min(max.max(1));
        let size = 1usize << (usize::BITS - 1 - fits.leading_zeros());
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        Some(chunk)
    })
}

/// `keys` padded with copies of its last one up to the next power of two (unless that exceeds `max`), for lookups,
/// locks and the writes a repeated row changes nothing in (deletes by key, MySQL's UPDATE joins and `INSERT IGNORE`
/// ledger rows): one statement shape per power of two, as with [`shaped`], but one statement instead of one per
/// set bit of the length. On MySQL each statement costs a round trip and a binlog event; in an A/B of 141k mixed
/// events into MariaDB (2026-12-01 10:39 UTC), writing a batch's ledger rows in one padded statement instead of six
/// power-of-two chunks took the drain from 22.4k and 25.3k to 28.1k and 30.5k events/s.
fn padded<T: Clone>(keys: &[T], max: usize) -> Vec<T> {
    let mut padded = keys.to_vec();
    let target = keys.len().next_power_of_two();
    if let Some(last) = keys.last().filter(|_| target <= max) {
        padded.resize(target, last.clone());
    }
    padded
}

/// The lists a lookup of `keys` binds (none for no keys): PostgreSQL binds them all as one array; MySQL binds one
/// parameter per key, so the keys go in [`padded_chunks`].
fn lookup_chunks<T: Clone>(dialect: &Dialect, keys: &[T], max: usize) -> Vec<Vec<T>> {
    if dialect.binds_arrays() && !keys.is_empty() {
        return vec![keys.to_vec()];
    }
    padded_chunks(keys, max)
}

/// `items` in chunks of at most `max`, each [`padded`] to a power of two. For statements whose row count is not
/// checked; deletes and UPDATE joins pad each chunk themselves and check the count against the chunk's own length.
fn padded_chunks<T: Clone>(items: &[T], max: usize) -> Vec<Vec<T>> {
    items
        .chunks(max.max(1))
        .map(|chunk| padded(chunk, max))
        .collect()
}

/// Groups rows by table and column set (a multi-row statement needs one shape), in `order`'s table order.
fn shapes<'a, T>(
    rows: &'a [T],
    order: &[String],
    table: impl Fn(&T) -> &str,
    columns: impl Fn(&T) -> &[(String, SqlValue)],
) -> Vec<(String, Vec<&'a str>, Vec<&'a T>)> {
    let mut groups: BTreeMap<(usize, String, Vec<&str>), Vec<&T>> = BTreeMap::new();
    for row in rows {
        let t = table(row);
        let rank = order.iter().position(|o| o == t).unwrap_or(order.len());
        let names: Vec<&str> = columns(row).iter().map(|(n, _)| n.as_str()).collect();
        groups
            .entry((rank, t.to_string(), names))
            .or_default()
            .push(row);
    }
    groups
        .into_iter()
        .map(|((_, t, names), rows)| (t, names, rows))
        .collect()
}

macro_rules! impl_row_store {
    ($db:ty) => {
        impl SqlStore<$db> {
            async fn write(
                &mut self,
                sql: String,
                values: &[SqlValue],
                key: Option<i64>,
                context: String,
            ) -> Result<u64, WriteError> {
                let mut query = sqlx::query(AssertSqlSafe(sql));
                for value in values {
                    query = match value {
                        SqlValue::Null => query.bind(None::<String>),
                        SqlValue::Bool(v) => query.bind(*v),
                        SqlValue::Int(v) => query.bind(*v),
                        SqlValue::Text(v) => query.bind(v.clone()),
                        SqlValue::Timestamp(v) => query.bind(*v),
                    };
                }
                if let Some(key) = key {
                    query = query.bind(key);
                }
                let done = query
                    .execute(&mut *self.tx)
                    .await
                    .map_err(|e| WriteError::from_sqlx(context, e))?;
                Ok(done.rows_affected())
            }
        }

        impl SqlStore<$db> {
            /// Runs `sql` binding `lead` (if any) then `keys`; each row's column 0 is a key and, when `versioned`,
            /// columns 1 and 2 a version (`updated_at` or `deleted_at`, then `source`).
            async fn keyed(
                &mut self,
                sql: String,
                lead: Option<&str>,
                keys: &[i64],
                versioned: bool,
                context: &str,
            ) -> Result<Vec<(i64, Option<Stored>)>, WriteError> {
                let mut query = sqlx::query(AssertSqlSafe(sql));
                if let Some(lead) = lead {
                    query = query.bind(lead.to_string());
                }
                query = Self::bind_keys(query, keys);
                let fail = |e| WriteError::from_sqlx(context, e);
                let mut found = Vec::new();
                for row in query.fetch_all(&mut *self.tx).await.map_err(fail)? {
                    let key: i64 = row.try_get(0).map_err(fail)?;
                    let stored = if versioned {
                        Some(Stored {
                            updated_at: row.try_get(1).map_err(fail)?,
                            source: row.try_get(2).map_err(fail)?,
                        })
                    } else {
                        None
                    };
                    found.push((key, stored));
                }
                Ok(found)
            }
        }

        impl SqlStore<$db> {
            /// Takes the row locks of `ops` (see `row_lock`) before anything of the batch is read.
            pub async fn lock_rows(&mut self, ops: &[RowOp]) -> Result<(), WriteError> {
                const CONTEXT: &str = "taking row locks";
                let fail = |e| WriteError::from_sqlx(CONTEXT, e);
                let keys = lock_keys(ops);
                for chunk in lookup_chunks(self.dialect, &keys, MAX_LOCKS) {
                    let query = sqlx::query(AssertSqlSafe(self.dialect.lock_rows(chunk.len())));
                    let query = Self::bind_keys(query, &chunk);
                    if self.dialect.numbered_placeholders() {
                        query.execute(&mut *self.tx).await.map_err(fail)?;
                        continue;
                    }
                    let row = query.fetch_one(&mut *self.tx).await.map_err(fail)?;
                    let granted: Option<i64> = row.try_get(0).map_err(fail)?;
                    if granted != Some(1) {
                        return Err(WriteError::LockTimeout {
                            context: CONTEXT.into(),
                            seconds: LOCK_WAIT_SECONDS,
                        });
                    }
                }
                Ok(())
            }
        }

        impl SqlStore<$db> {
            /// Deletes the oldest ledger rows and tombstones older than `cutoff`, at most `limit` of each, in its
            /// own transaction.
            pub async fn prune(
                mut self,
                cutoff: DateTime<Utc>,
                limit: u32,
            ) -> Result<Pruned, WriteError> {
                let [ledger, tombstones] = self.dialect.prune;
                let values = [SqlValue::Timestamp(cutoff), SqlValue::Int(limit.into())];
                let pruned = Pruned {
                    ledger: self
                        .write(ledger.to_string(), &values, None, "pruning the ledger".into())
                        .await?,
                    tombstones: self
                        .write(tombstones.to_string(), &values, None, "pruning tombstones".into())
                        .await?,
                };
                self.commit().await?;
                Ok(pruned)
            }
        }

        impl SqlStore<$db> {
            /// The lane's position watermark, locked until commit; none if the lane has none yet, or if the stored
            /// one is unreadable (then every event of the lane is looked up, and the next batch overwrites it).
            pub async fn read_watermark(
                &mut self,
                lane: &Lane,
            ) -> Result<Option<SourcePosition>, WriteError> {
                let context = "reading the position watermark";
                let row = sqlx::query(self.dialect.select_watermark)
                    .bind(lane.topic.as_str())
                    .bind(lane.partition)
                    .fetch_optional(&mut *self.tx)
                    .await
                    .map_err(|e| WriteError::from_sqlx(context, e))?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let text: String = row.try_get(0).map_err(|e| WriteError::from_sqlx(context, e))?;
                match text.parse() {
                    Ok(position) => Ok(Some(position)),
                    Err(error) => {
                        tracing::warn!(%error, topic = %lane.topic, partition = lane.partition, "ignoring the stored position watermark");
                        Ok(None)
                    }
                }
            }
        }

        impl BulkStore for SqlStore<$db> {
            async fn fetch(&mut self, request: &Request) -> Result<Fetched, WriteError> {
                let mut fetched = Fetched::default();
                for (table, (key_column, updated_at_column, keys)) in &request.rows {
                    for chunk in &lookup_chunks(self.dialect, keys, MAX_PARAMS) {
                        let sql = self.dialect.select_versions(
                            table,
                            key_column,
                            updated_at_column,
                            chunk.len(),
                        );
                        for (key, stored) in
                            self.keyed(sql, None, chunk, true, "locking rows").await?
                        {
                            if let Some(stored) = stored {
                                fetched.rows.insert((table.clone(), key), stored);
                            }
                        }
                    }
                }
                for (table, (key_column, keys)) in &request.parents {
                    for chunk in &lookup_chunks(self.dialect, keys, MAX_PARAMS) {
                        let sql = self.dialect.select_existing(table, key_column, chunk.len());
                        for (key, _) in self
                            .keyed(sql, None, chunk, false, "looking up parents")
                            .await?
                        {
                            fetched.parents.insert((table.clone(), key));
                        }
                    }
                }
                for (table, keys) in request.tombstone_keys() {
                    for chunk in &lookup_chunks(self.dialect, &keys, MAX_PARAMS - 1) {
                        let sql = self.dialect.select_tombstones(chunk.len());
                        for (key, stored) in self
                            .keyed(sql, Some(&table), chunk, true, "reading tombstones")
                            .await?
                        {
                            if let Some(stored) = stored {
                                fetched.tombstones.insert((table.clone(), key), stored);
                            }
                        }
                    }
                }
                if let Some(lane) = &request.lane {
                    fetched.watermark = self.read_watermark(lane).await?;
                }
                let events = request.events_to_look_up(fetched.watermark.as_ref());
                for chunk in lookup_chunks(self.dialect, &events, MAX_PARAMS / 2) {
                    let sql = self.dialect.select_known_events(chunk.len());
                    let rows = Self::bind_ledger_keys(sqlx::query(AssertSqlSafe(sql)), &chunk)
                        .fetch_all(&mut *self.tx)
                        .await
                        .map_err(|e| WriteError::from_sqlx("reading the ledger", e))?;
                    for row in rows {
                        let text: String = row
                            .try_get(0)
                            .map_err(|e| WriteError::from_sqlx("reading the ledger", e))?;
                        if let Ok(id) = Uuid::parse_str(&text) {
                            fetched.known_events.insert(id);
                        }
                    }
                }
                Ok(fetched)
            }

            async fn flush(
                &mut self,
                plan: &Plan,
                order: &[String],
                types: &ColumnTypes,
            ) -> Result<(), WriteError> {
                // Deletes, children's tables first (their parents' deletes would cascade to them anyway).
                for table in order.iter().rev() {
                    let Some((key_column, keys)) = plan.deletes.get(table) else {
                        continue;
                    };
                    for chunk in keys.chunks(MAX_PARAMS) {
                        let padded = padded(chunk, MAX_PARAMS);
                        let values: Vec<SqlValue> =
                            padded.iter().map(|k| SqlValue::Int(*k)).collect();
                        let sql = self.dialect.delete_many(table, key_column, padded.len());
                        let done = self
                            .write(sql, &values, None, format!("deleting from {table}"))
                            .await?;
                        expect_rows(done, chunk.len(), table, "deleted")?;
                    }
                }
                for chunk in shaped(&plan.put_tombstones, chunk_rows(4)) {
                    let values: Vec<SqlValue> = chunk
                        .iter()
                        .flat_map(|(t, k, row_updated_at, v)| {
                            [
                                SqlValue::Text(t.clone()),
                                SqlValue::Int(*k),
                                SqlValue::Timestamp(*row_updated_at),
                                SqlValue::Timestamp(v.updated_at),
                            ]
                        })
                        .collect();
                    let sql = self.dialect.put_tombstones(chunk.len());
                    self.write(sql, &values, None, "recording tombstones".into())
                        .await?;
                }
                let mut drops: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
                for (table, key) in &plan.drop_tombstones {
                    drops.entry(table.as_str()).or_default().push(*key);
                }
                for (table, keys) in drops {
                    for chunk in padded_chunks(&keys, MAX_PARAMS - 1) {
                        let values: Vec<SqlValue> =
                            std::iter::once(SqlValue::Text(table.to_string()))
                                .chain(chunk.iter().map(|k| SqlValue::Int(*k)))
                                .collect();
                        let sql = self.dialect.drop_tombstones(chunk.len());
                        self.write(sql, &values, None, "dropping tombstones".into())
                            .await?;
                    }
                }
                for (table, names, rows) in
                    shapes(&plan.inserts, order, |r| r.0.as_str(), |r| r.1.as_slice())
                {
                    let rows = rows.iter().map(|r| r.1.iter().map(|(_, v)| v).collect()).collect();
                    let set = RowSet { table: &table, key_column: None, names: &names, rows };
                    self.write_rows(&set, types).await?;
                }
                for (table, names, rows) in
                    shapes(&plan.updates, order, |r| r.0.as_str(), |r| r.3.as_slice())
                {
                    let key_column = rows.first().map(|r| r.1.clone()).unwrap_or_default();
                    let keys: Vec<SqlValue> = rows.iter().map(|r| SqlValue::Int(r.2)).collect();
                    let rows = rows
                        .iter()
                        .zip(&keys)
                        .map(|(r, key)| std::iter::once(key).chain(r.3.iter().map(|(_, v)| v)).collect())
                        .collect();
                    let set = RowSet { table: &table, key_column: Some(&key_column), names: &names, rows };
                    self.write_rows(&set, types).await?;
                }
                self.record_events(&plan.events).await?;
                Ok(())
            }

            async fn commit(self) -> Result<(), WriteError> {
                SqlStore::commit(self).await
            }

            async fn write_watermark(
                &mut self,
                lane: &Lane,
                position: &SourcePosition,
            ) -> Result<(), WriteError> {
                sqlx::query(self.dialect.write_watermark)
                    .bind(lane.topic.as_str())
                    .bind(lane.partition)
                    .bind(position.to_string())
                    .execute(&mut *self.tx)
                    .await
                    .map_err(|e| WriteError::from_sqlx("raising the position watermark", e))?;
                Ok(())
            }

            async fn rollback(self) {
                // A connection broken mid-statement may never answer; dropping the transaction then discards the
                // connection (the pool tests connections before handing them out).
                match tokio::time::timeout(ROLLBACK_TIMEOUT, self.tx.rollback()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(error)) => tracing::debug!(%error, "rollback after a failed bulk write"),
                    Err(_) => tracing::warn!("rollback after a failed bulk write timed out; connection dropped"),
                }
            }
        }

        impl RowStore for SqlStore<$db> {
            async fn record_event(
                &mut self,
                event_id: Uuid,
                source_committed_at: DateTime<Utc>,
            ) -> Result<bool, WriteError> {
                let values = [
                    SqlValue::Text(event_id.to_string()),
                    SqlValue::Timestamp(source_committed_at),
                ];
                let sql = self.dialect.record_event.to_string();
                Ok(self
                    .write(sql, &values, None, "recording the event id".into())
                    .await?
                    == 1)
            }

            async fn row_exists(
                &mut self,
                table: &str,
                key_column: &str,
                key: i64,
            ) -> Result<bool, WriteError> {
                let sql = self.dialect.exists(table, key_column);
                let row = sqlx::query(AssertSqlSafe(sql))
                    .bind(key)
                    .fetch_optional(&mut *self.tx)
                    .await
                    .map_err(|e| WriteError::from_sqlx(format!("looking up {table} {key}"), e))?;
                Ok(row.is_some())
            }

            async fn lock_version(
                &mut self,
                table: &str,
                key_column: &str,
                updated_at_column: &str,
                key: i64,
            ) -> Result<Option<Stored>, WriteError> {
                let sql = self
                    .dialect
                    .select_versions(table, key_column, updated_at_column, 1);
                let found = self.keyed(sql, None, &[key], true, "locking a row").await?;
                Ok(found.into_iter().next().and_then(|(_, stored)| stored))
            }

            async fn tombstone(
                &mut self,
                table: &str,
                key: i64,
            ) -> Result<Option<Stored>, WriteError> {
                let sql = self.dialect.select_tombstones(1);
                let found = self
                    .keyed(sql, Some(table), &[key], true, "reading a tombstone")
                    .await?;
                Ok(found.into_iter().next().and_then(|(_, stored)| stored))
            }

            async fn drop_tombstone(&mut self, table: &str, key: i64) -> Result<(), WriteError> {
                let values = [SqlValue::Text(table.to_string()), SqlValue::Int(key)];
                let sql = self.dialect.drop_tombstone.to_string();
                self.write(
                    sql,
                    &values,
                    None,
                    format!("dropping the tombstone of {table} {key}"),
                )
                .await?;
                Ok(())
            }

            async fn put_tombstone(
                &mut self,
                table: &str,
                key: i64,
                deleted: Version,
            ) -> Result<(), WriteError> {
                // The tombstone says "deleted by the other side at `deleted.updated_at`".
                debug_assert_eq!(
                    row_source_for(self.dialect.side, deleted),
                    crate::filter::SYNC_SERVICE_SOURCE
                );
                let values = [
                    SqlValue::Text(table.to_string()),
                    SqlValue::Int(key),
                    SqlValue::Timestamp(deleted.updated_at),
                    SqlValue::Timestamp(deleted.updated_at),
                ];
                let sql = self.dialect.put_tombstone.to_string();
                self.write(
                    sql,
                    &values,
                    None,
                    format!("recording the tombstone of {table} {key}"),
                )
                .await?;
                Ok(())
            }

            async fn insert(&mut self, op: &Upsert, types: &ColumnTypes) -> Result<(), WriteError> {
                let sql = self.dialect.insert(op, types);
                let values: Vec<SqlValue> = op.columns.iter().map(|(_, v)| v.clone()).collect();
                self.write(
                    sql,
                    &values,
                    None,
                    format!("inserting {} {}", op.table, op.key),
                )
                .await?;
                Ok(())
            }

            async fn update(&mut self, op: &Upsert, types: &ColumnTypes) -> Result<(), WriteError> {
                let sql = self.dialect.update(op, types);
                let values: Vec<SqlValue> = op.columns.iter().map(|(_, v)| v.clone()).collect();
                self.write(
                    sql,
                    &values,
                    Some(op.key),
                    format!("updating {} {}", op.table, op.key),
                )
                .await?;
                Ok(())
            }

            async fn delete(&mut self, op: &Delete) -> Result<(), WriteError> {
                let sql = self.dialect.delete(&op.table, &op.key_column);
                self.write(
                    sql,
                    &[],
                    Some(op.key),
                    format!("deleting {} {}", op.table, op.key),
                )
                .await?;
                Ok(())
            }
        }
    };
}

/// A multi-row statement touched fewer rows than the plan expected (a cascade the view could not foresee): the
/// caller falls back to applying the batch one operation at a time.
fn expect_rows(done: u64, expected: usize, table: &str, what: &str) -> Result<(), WriteError> {
    if done == expected as u64 {
        Ok(())
    } else {
        Err(WriteError::Inconsistent {
            context: format!("{done} rows of {table} {what}, {expected} expected"),
        })
    }
}

impl_row_store!(sqlx::Postgres);
impl_row_store!(sqlx::MySql);

/// Rows of one table and column set, for the bulk path's multi-row writes.
struct RowSet<'a> {
    table: &'a str,
    /// `Some`: an UPDATE by this key column, each row's first value being its key (every row must exist); `None`:
    /// an INSERT.
    key_column: Option<&'a str>,
    /// The columns written, in the order of each row's values (after the key).
    names: &'a [&'a str],
    rows: Vec<Vec<&'a SqlValue>>,
}

impl RowSet<'_> {
    fn context(&self) -> String {
        match self.key_column {
            Some(_) => format!("updating {}", self.table),
            None => format!("inserting into {}", self.table),
        }
    }

    /// Checks an UPDATE's row count against the rows it was given (a cascade the view did not foresee).
    fn check(&self, done: u64, rows: usize) -> Result<(), WriteError> {
        match self.key_column {
            Some(_) => expect_rows(done, rows, self.table, "updated"),
            None => Ok(()),
        }
    }
}

/// The bulk path's multi-row writes, spelled per driver: MySQL binds one parameter per cell, INSERTs in VALUES lists
/// cut into power-of-two chunks, UPDATE joins and ledger rows in one statement padded to a power of two; PostgreSQL
/// binds one array per column (`pg_arrays`), one statement per table.
trait ManyRows {
    /// Writes `set`.
    async fn write_rows(&mut self, set: &RowSet<'_>, types: &ColumnTypes)
        -> Result<(), WriteError>;

    /// Ledger rows of `events` (id, source commit time).
    async fn record_events(&mut self, events: &[(Uuid, DateTime<Utc>)]) -> Result<(), WriteError>;
}

impl ManyRows for SqlStore<sqlx::MySql> {
    async fn write_rows(
        &mut self,
        set: &RowSet<'_>,
        types: &ColumnTypes,
    ) -> Result<(), WriteError> {
        let width = set.names.len() + usize::from(set.key_column.is_some());
        let max = chunk_rows(width);
        let Some(key) = set.key_column else {
            for chunk in shaped(&set.rows, max) {
                let values: Vec<SqlValue> = chunk.iter().flatten().map(|v| (*v).clone()).collect();
                let sql = self
                    .dialect
                    .insert_many(set.table, set.names, chunk.len(), types);
                self.write(sql, &values, None, set.context()).await?;
            }
            return Ok(());
        };
        // An UPDATE join updates a row once however often the joined rows repeat it.
        for chunk in set.rows.chunks(max) {
            let padded = padded(chunk, max);
            let values: Vec<SqlValue> = padded.iter().flatten().map(|v| (*v).clone()).collect();
            let sql = self
                .dialect
                .update_many(set.table, key, set.names, padded.len());
            let done = self.write(sql, &values, None, set.context()).await?;
            set.check(done, chunk.len())?;
        }
        Ok(())
    }

    async fn record_events(&mut self, events: &[(Uuid, DateTime<Utc>)]) -> Result<(), WriteError> {
        // `INSERT IGNORE` skips the padding's repeats of the last event.
        for chunk in padded_chunks(events, MAX_PARAMS / 2) {
            let values: Vec<SqlValue> = chunk
                .iter()
                .flat_map(|(id, at)| [SqlValue::Text(id.to_string()), SqlValue::Timestamp(*at)])
                .collect();
            let sql = self.dialect.record_events(chunk.len());
            self.write(sql, &values, None, "recording event ids".into())
                .await?;
        }
        Ok(())
    }
}

impl SqlStore<sqlx::MySql> {
    /// Binds `keys` one parameter each.
    fn bind_keys<'q>(mut query: MySqlQuery<'q>, keys: &[i64]) -> MySqlQuery<'q> {
        for key in keys {
            query = query.bind(*key);
        }
        query
    }

    /// Binds each ledger key as two parameters: the source commit time, the event id (text).
    fn bind_ledger_keys<'q>(mut query: MySqlQuery<'q>, keys: &[LedgerKey]) -> MySqlQuery<'q> {
        for (at, id) in keys {
            query = query.bind(*at).bind(id.to_string());
        }
        query
    }
}

impl SqlStore<sqlx::Postgres> {
    /// Binds `keys` as one `int8[]`.
    fn bind_keys<'q>(query: PgQuery<'q>, keys: &'q [i64]) -> PgQuery<'q> {
        query.bind(keys)
    }

    /// Binds ledger keys as one `timestamptz[]` (source commit times) and one `text[]` (event ids).
    fn bind_ledger_keys<'q>(query: PgQuery<'q>, keys: &[LedgerKey]) -> PgQuery<'q> {
        let times: Vec<DateTime<Utc>> = keys.iter().map(|(at, _)| *at).collect();
        let ids: Vec<String> = keys.iter().map(|(_, id)| id.to_string()).collect();
        query.bind(times).bind(ids)
    }

    /// Runs one `pg_arrays` statement binding `arrays` in order; returns the rows it affected.
    async fn write_arrays(
        &mut self,
        sql: String,
        arrays: Vec<ColumnArray>,
        context: String,
    ) -> Result<u64, WriteError> {
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for array in arrays {
            query = array.bind(query);
        }
        let done = query
            .execute(&mut *self.tx)
            .await
            .map_err(|e| WriteError::from_sqlx(context, e))?;
        Ok(done.rows_affected())
    }
}

impl ManyRows for SqlStore<sqlx::Postgres> {
    async fn write_rows(
        &mut self,
        set: &RowSet<'_>,
        types: &ColumnTypes,
    ) -> Result<(), WriteError> {
        if set.rows.is_empty() {
            return Ok(());
        }
        let width = set.names.len() + usize::from(set.key_column.is_some());
        let arrays = pg_arrays::columns(&set.rows, width);
        let sql = match set.key_column {
            Some(key) => pg_arrays::update(set.table, key, set.names, &arrays, types),
            None => pg_arrays::insert(set.table, set.names, &arrays, types),
        };
        let done = self.write_arrays(sql, arrays, set.context()).await?;
        set.check(done, set.rows.len())
    }

    async fn record_events(&mut self, events: &[(Uuid, DateTime<Utc>)]) -> Result<(), WriteError> {
        if events.is_empty() {
            return Ok(());
        }
        let arrays = vec![
            ColumnArray::Text(events.iter().map(|(id, _)| Some(id.to_string())).collect()),
            ColumnArray::Timestamp(events.iter().map(|(_, at)| Some(*at)).collect()),
        ];
        self.write_arrays(
            pg_arrays::RECORD_EVENTS.to_string(),
            arrays,
            "recording event ids".into(),
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{lookup_chunks, padded, padded_chunks, shaped};
    use crate::write::dialect::{MYSQL, POSTGRES};

    #[test]
    fn postgres_looks_keys_up_in_one_array_and_mysql_in_padded_chunks() {
        assert_eq!(lookup_chunks(&POSTGRES, &[1, 2, 3], 2), vec![vec![1, 2, 3]]);
        assert_eq!(
            lookup_chunks(&MYSQL, &[1, 2, 3], 2),
            vec![vec![1, 2], vec![3]]
        );
        assert_eq!(lookup_chunks(&MYSQL, &[1, 2, 3], 8), vec![vec![1, 2, 3, 3]]);
        assert!(
            lookup_chunks::<i64>(&POSTGRES, &[], 8).is_empty(),
            "no statement for no keys"
        );
    }

    #[test]
    fn writes_are_cut_into_power_of_two_chunks_that_cover_everything_in_order() {
        let items: Vec<u32> = (0..500).collect();
        let sizes: Vec<usize> = shaped(&items, 60_000).map(<[u32]>::len).collect();
        assert_eq!(sizes, vec![256, 128, 64, 32, 16, 4]);
        let joined: Vec<u32> = shaped(&items, 60_000).flatten().copied().collect();
        assert_eq!(joined, items);
        let capped: Vec<usize> = shaped(&items, 100).map(<[u32]>::len).collect();
        assert_eq!(capped, vec![64, 64, 64, 64, 64, 64, 64, 32, 16, 4]);
        assert_eq!(shaped(&[] as &[u32], 8).count(), 0);
    }

    #[test]
    fn padded_chunks_cover_everything_in_order_one_statement_per_chunk() {
        let items: Vec<u32> = (0..500).collect();
        let chunks = padded_chunks(&items, 60_000);
        assert_eq!(chunks.len(), 1, "500 rows go in one statement, not six");
        assert_eq!(chunks[0].len(), 512);
        assert_eq!(chunks[0][..500], items[..]);
        assert!(
            chunks[0][500..].iter().all(|&i| i == 499),
            "padded with the last row"
        );
        let capped: Vec<usize> = padded_chunks(&items, 200).iter().map(Vec::len).collect();
        assert_eq!(
            capped,
            vec![200, 200, 128],
            "full chunks past the cap stay as they are"
        );
        assert!(padded_chunks(&[] as &[u32], 8).is_empty());
    }

    #[test]
    fn lookups_are_padded_with_the_last_key_up_to_a_power_of_two() {
        assert_eq!(padded(&[1, 2, 3], 100), vec![1, 2, 3, 3]);
        assert_eq!(padded(&[5; 64], 100), vec![5; 64]);
        assert_eq!(padded(&[1; 70], 100).len(), 70, "no padding past the cap");
        assert!(padded::<i64>(&[], 100).is_empty());
    }
}

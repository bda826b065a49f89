//! [`RowStore`] for both sqlx drivers, driven by a [`Dialect`]: the statements are written once (a macro stamps
//! them out per driver, since sqlx's drivers share no trait for everything used here), so PostgreSQL and MySQL
//! differ only in SQL text and connection set-up.

use crate::conflict::Version;
use crate::row::{Delete, SqlValue, Upsert};
use crate::write::dialect::Dialect;
use crate::write::error::WriteError;
use crate::write::schema::{row_source_for, ColumnTypes};
use crate::write::store::{RowStore, Stored};
use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, Database, Row, Transaction};
use uuid::Uuid;

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

            async fn version(
                &mut self,
                sql: String,
                table: &str,
                key: i64,
                by_name: bool,
                context: String,
            ) -> Result<Option<Stored>, WriteError> {
                let query = sqlx::query(AssertSqlSafe(sql));
                let query = if by_name {
                    query.bind(table.to_string())
                } else {
                    query
                };
                let row = query
                    .bind(key)
                    .fetch_optional(&mut *self.tx)
                    .await
                    .map_err(|e| WriteError::from_sqlx(context.clone(), e))?;
                row.map(|row| {
                    Ok(Stored {
                        updated_at: row
                            .try_get::<DateTime<Utc>, _>(0)
                            .map_err(|e| WriteError::from_sqlx(context.clone(), e))?,
                        source: row
                            .try_get::<String, _>(1)
                            .map_err(|e| WriteError::from_sqlx(context.clone(), e))?,
                    })
                })
                .transpose()
            }
        }

        impl SqlStore<$db> {
            /// Deletes ledger rows and tombstones older than `cutoff`, in its own transaction.
            pub async fn prune(mut self, cutoff: DateTime<Utc>) -> Result<u64, WriteError> {
                let mut removed = 0;
                for sql in self.dialect.prune {
                    let values = [SqlValue::Timestamp(cutoff)];
                    removed += self
                        .write(sql.to_string(), &values, None, "pruning the ledger".into())
                        .await?;
                }
                self.commit().await?;
                Ok(removed)
            }
        }

        impl RowStore for SqlStore<$db> {
            async fn record_event(&mut self, event_id: Uuid) -> Result<bool, WriteError> {
                let values = [SqlValue::Text(event_id.to_string())];
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
                    .lock_version(table, key_column, updated_at_column);
                self.version(sql, table, key, false, format!("locking {table} {key}"))
                    .await
            }

            async fn tombstone(
                &mut self,
                table: &str,
                key: i64,
            ) -> Result<Option<Stored>, WriteError> {
                let sql = self.dialect.tombstone.to_string();
                self.version(
                    sql,
                    table,
                    key,
                    true,
                    format!("reading the tombstone of {table} {key}"),
                )
                .await
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

impl_row_store!(sqlx::Postgres);
impl_row_store!(sqlx::MySql);

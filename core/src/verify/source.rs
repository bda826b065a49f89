//! Reading one side for verify: small read-only pools (no sync marker: verify writes nothing), pages of rows in key
//! order, rows by key, counts and tombstones, each a single short statement (see `sql`).

use super::error::VerifyError;
use super::sql::{self, Filter};
use crate::conflict::Version;
use crate::event::Side;
use crate::mapping::Entity;
use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::mysql::MySqlPoolOptions;
use sqlx::postgres::PgPoolOptions;
// Statements are built only from the validated mapping's names (quoted); every value is bound.
use sqlx::{AssertSqlSafe, MySqlPool, PgPool};
use std::collections::HashMap;
use std::time::Duration;

/// Connections per side: one walks the table while another fetches rows by key.
const POOL_SIZE: u32 = 3;
/// Longest wait for a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What a walk reads: the key range and the optional `since` time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope {
    pub min_key: i64,
    pub max_key: i64,
    pub since: Option<DateTime<Utc>>,
}

impl Scope {
    fn filter(&self) -> Filter {
        Filter {
            since: self.since.is_some(),
        }
    }
}

/// One side's database, read only.
#[derive(Clone)]
pub(crate) enum Reader {
    Legacy(PgPool),
    Revamp(MySqlPool),
}

impl Reader {
    /// Connects to `side`'s database.
    pub async fn connect(side: Side, dsn: &str) -> Result<Self, VerifyError> {
        let context = "connecting";
        Ok(match side {
            Side::Legacy => Reader::Legacy(
                PgPoolOptions::new()
                    .max_connections(POOL_SIZE)
                    .acquire_timeout(CONNECT_TIMEOUT)
                    .connect(dsn)
                    .await
                    .map_err(VerifyError::database(side, context))?,
            ),
            Side::Revamp => Reader::Revamp(
                MySqlPoolOptions::new()
                    .max_connections(POOL_SIZE)
                    .acquire_timeout(CONNECT_TIMEOUT)
                    .connect(dsn)
                    .await
                    .map_err(VerifyError::database(side, context))?,
            ),
        })
    }

    /// The side.
    pub fn side(&self) -> Side {
        match self {
            Reader::Legacy(_) => Side::Legacy,
            Reader::Revamp(_) => Side::Revamp,
        }
    }

    fn failed(&self, entity: &Entity, what: &str) -> impl FnOnce(sqlx::Error) -> VerifyError {
        VerifyError::database(
            self.side(),
            format!("{what} of `{}`", entity.table(self.side())),
        )
    }

    /// How many rows of `entity` are in `scope`.
    pub async fn count(&self, entity: &Entity, scope: &Scope) -> Result<u64, VerifyError> {
        let n: i64 = match self {
            Reader::Legacy(pool) => {
                let statement = sql::pg_count(entity, scope.filter());
                let mut query = sqlx::query_scalar(AssertSqlSafe(statement))
                    .bind(scope.min_key)
                    .bind(scope.max_key);
                if let Some(since) = scope.since {
                    query = query.bind(since);
                }
                query.fetch_one(pool).await
            }
            Reader::Revamp(pool) => {
                let statement = sql::my_count(entity, scope.filter());
                let mut query = sqlx::query_scalar(AssertSqlSafe(statement))
                    .bind(scope.min_key)
                    .bind(scope.max_key);
                if let Some(since) = scope.since {
                    query = query.bind(since.naive_utc());
                }
                query.fetch_one(pool).await
            }
        }
        .map_err(self.failed(entity, "counting the rows"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Up to `limit` rows in `scope` from key `from` on, in key order, as `(key, JSON text)`.
    pub async fn page(
        &self,
        entity: &Entity,
        scope: &Scope,
        from: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String)>, VerifyError> {
        match self {
            Reader::Legacy(pool) => {
                let statement = sql::pg_page(entity, scope.filter());
                let mut query = sqlx::query_as(AssertSqlSafe(statement))
                    .bind(from)
                    .bind(scope.max_key)
                    .bind(limit);
                if let Some(since) = scope.since {
                    query = query.bind(since);
                }
                query.fetch_all(pool).await
            }
            Reader::Revamp(pool) => {
                let statement = sql::my_page(entity, scope.filter());
                let mut query = sqlx::query_as(AssertSqlSafe(statement))
                    .bind(from)
                    .bind(scope.max_key);
                if let Some(since) = scope.since {
                    query = query.bind(since.naive_utc());
                }
                query.bind(limit).fetch_all(pool).await
            }
        }
        .map_err(self.failed(entity, "reading a page"))
    }

    /// The rows of `keys` that exist, as JSON text by key.
    pub async fn by_keys(
        &self,
        entity: &Entity,
        keys: &[i64],
    ) -> Result<HashMap<i64, String>, VerifyError> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(i64, String)> = match self {
            Reader::Legacy(pool) => {
                sqlx::query_as(AssertSqlSafe(sql::pg_by_keys(entity)))
                    .bind(keys)
                    .fetch_all(pool)
                    .await
            }
            Reader::Revamp(pool) => {
                let statement = sql::my_by_keys(entity, keys.len());
                let mut query = sqlx::query_as(AssertSqlSafe(statement));
                for key in keys {
                    query = query.bind(*key);
                }
                query.fetch_all(pool).await
            }
        }
        .map_err(self.failed(entity, "reading rows by key"))?;
        Ok(rows.into_iter().collect())
    }

    /// The tombstones of `keys` in `entity`'s table: the delete's version (when and by whom), by key.
    pub async fn tombstones(
        &self,
        entity: &Entity,
        keys: &[i64],
    ) -> Result<HashMap<i64, Version>, VerifyError> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let side = self.side();
        let table = entity.table(side);
        let found: Vec<(i64, DateTime<Utc>, String)> = match self {
            Reader::Legacy(pool) => {
                sqlx::query_as(sql::PG_TOMBSTONES)
                    .bind(table)
                    .bind(keys)
                    .fetch_all(pool)
                    .await
            }
            Reader::Revamp(pool) => {
                let statement = sql::my_tombstones(keys.len());
                let mut query = sqlx::query_as(AssertSqlSafe(statement)).bind(table);
                for key in keys {
                    query = query.bind(*key);
                }
                query
                    .fetch_all(pool)
                    .await
                    .map(|rows: Vec<(i64, NaiveDateTime, String)>| {
                        rows.into_iter()
                            .map(|(key, at, source)| (key, at.and_utc(), source))
                            .collect()
                    })
            }
        }
        .map_err(self.failed(entity, "reading tombstones"))?;
        Ok(found
            .into_iter()
            .map(|(key, at, source)| (key, Version::stored(side, at, &source)))
            .collect())
    }

    /// Legacy only: the current WAL position, as text (`None` on the revamp side).
    pub async fn wal_position(&self) -> Result<Option<String>, VerifyError> {
        match self {
            Reader::Legacy(pool) => sqlx::query_scalar("SELECT pg_current_wal_lsn()::text")
                .fetch_one(pool)
                .await
                .map(Some)
                .map_err(VerifyError::database(
                    Side::Legacy,
                    "reading the WAL position",
                )),
            Reader::Revamp(_) => Ok(None),
        }
    }

    /// Legacy only: whether the replication slot `slot` (Debezium's) confirmed `position`, i.e. every change up to
    /// it is on Kafka. A missing slot counts as passed (nothing to wait for).
    pub async fn slot_passed(&self, slot: &str, position: &str) -> Result<bool, VerifyError> {
        match self {
            Reader::Legacy(pool) => sqlx::query_scalar::<_, Option<bool>>(
                "SELECT confirmed_flush_lsn >= $2::pg_lsn FROM pg_replication_slots WHERE slot_name = $1",
            )
            .bind(slot)
            .bind(position)
            .fetch_optional(pool)
            .await
            .map(|passed| passed.is_none_or(|p| p.unwrap_or(false)))
            .map_err(VerifyError::database(Side::Legacy, "reading the replication slot")),
            Reader::Revamp(_) => Ok(true),
        }
    }

    /// Closes the pool.
    pub async fn close(&self) {
        match self {
            Reader::Legacy(pool) => pool.close().await,
            Reader::Revamp(pool) => pool.close().await,
        }
    }
}

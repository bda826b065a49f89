//! The sync service's own connection pools, one per side, each connection marked as the sync service: PostgreSQL
//! per transaction (`SET LOCAL dbsync.origin`), MySQL per session (`@dbsync_origin`, set on every new connection
//! of a pool nobody else uses; README, "How it stays correct: No loops"). MySQL sessions also run in UTC, as the
//! revamp schema's times are.

use crate::row::RowOp;
use crate::write::dialect::{MYSQL, POSTGRES};
use crate::write::error::WriteError;
use crate::write::row_lock::LOCK_WAIT_SECONDS;
use crate::write::sql_store::SqlStore;
use crate::write::TargetOptions;
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Executor, MySql, MySqlPool, PgPool, Postgres};
use std::str::FromStr;

fn postgres_options(options: &TargetOptions) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.connect_timeout)
}

/// Prepared statements kept per connection. Batches of any size reuse a few dozen statement shapes
/// (`sql_store::shaped`), which must all stay cached: a miss costs a prepare round trip and a parse.
const STATEMENT_CACHE: usize = 1024;

fn postgres_connect_options(dsn: &str) -> Result<PgConnectOptions, WriteError> {
    PgConnectOptions::from_str(dsn)
        .map(|o| o.statement_cache_capacity(STATEMENT_CACHE))
        .map_err(|e| WriteError::from_sqlx("reading the PostgreSQL DSN", e))
}

fn mysql_connect_options(dsn: &str) -> Result<MySqlConnectOptions, WriteError> {
    MySqlConnectOptions::from_str(dsn)
        .map(|o| o.statement_cache_capacity(STATEMENT_CACHE))
        .map_err(|e| WriteError::from_sqlx("reading the MySQL DSN", e))
}

/// Connects the PostgreSQL pool (fails now if the database cannot be reached).
pub(crate) async fn postgres(dsn: &str, options: &TargetOptions) -> Result<PgPool, WriteError> {
    postgres_options(options)
        .connect_with(postgres_connect_options(dsn)?)
        .await
        .map_err(|e| WriteError::from_sqlx("connecting to PostgreSQL", e))
}

/// A PostgreSQL pool that connects on first use (replacing a pool whose sessions an outage left unusable).
pub(crate) fn postgres_lazy(dsn: &str, options: &TargetOptions) -> Result<PgPool, WriteError> {
    Ok(postgres_options(options).connect_lazy_with(postgres_connect_options(dsn)?))
}

fn mysql_options(options: &TargetOptions) -> MySqlPoolOptions {
    MySqlPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.connect_timeout)
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                // A lock wait ends in a retryable error after 10 s instead of holding the pool for 50; READ
                // COMMITTED takes no gap locks, so locking keys that do not exist yet blocks no application insert.
                conn.execute(AssertSqlSafe(format!(
                    "SET @dbsync_origin = 'sync_service', time_zone = '+00:00', \
                     innodb_lock_wait_timeout = {LOCK_WAIT_SECONDS}"
                )))
                .await?;
                conn.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                    .await?;
                Ok(())
            })
        })
        .after_release(|conn, _meta| {
            Box::pin(async move {
                // The batch's row locks are the session's (`row_lock`): they go with the connection, whether the
                // batch committed or failed. An error here closes the connection, which releases them too.
                conn.execute("DO RELEASE_ALL_LOCKS()").await?;
                Ok(true)
            })
        })
}

/// Connects the MySQL pool (fails now if the database cannot be reached).
pub(crate) async fn mysql(dsn: &str, options: &TargetOptions) -> Result<MySqlPool, WriteError> {
    mysql_options(options)
        .connect_with(mysql_connect_options(dsn)?)
        .await
        .map_err(|e| WriteError::from_sqlx("connecting to MySQL", e))
}

/// A MySQL pool that connects on first use (replacing a pool whose sessions an outage left unusable).
pub(crate) fn mysql_lazy(dsn: &str, options: &TargetOptions) -> Result<MySqlPool, WriteError> {
    Ok(mysql_options(options).connect_lazy_with(mysql_connect_options(dsn)?))
}

/// Begins a sync-service transaction holding the row locks of `ops`.
pub(crate) async fn begin_postgres(
    pool: &PgPool,
    ops: &[RowOp],
) -> Result<SqlStore<Postgres>, WriteError> {
    let mut tx = pool
        .begin()
        .await
        .map_err(|e| WriteError::from_sqlx("starting a transaction", e))?;
    // Every statement of a batch finds its rows by key, so no sequential scans: a statement's generic plan is cached
    // for the connection's life, and one planned while a table was nearly empty (a fresh target, a backfill) would
    // scan the whole table on every batch once it has grown (README, "Benchmarks").
    tx.execute(AssertSqlSafe(format!(
        "SET LOCAL dbsync.origin = 'sync_service'; SET LOCAL lock_timeout = '{LOCK_WAIT_SECONDS}s'; \
         SET LOCAL enable_seqscan = off"
    )))
    .await
    .map_err(|e| WriteError::from_sqlx("marking the transaction as the sync service", e))?;
    let mut store = SqlStore {
        tx,
        dialect: &POSTGRES,
    };
    store.lock_rows(ops).await?;
    Ok(store)
}

/// Begins a sync-service transaction holding the row locks of `ops`.
pub(crate) async fn begin_mysql(
    pool: &MySqlPool,
    ops: &[RowOp],
) -> Result<SqlStore<MySql>, WriteError> {
    let tx = pool
        .begin()
        .await
        .map_err(|e| WriteError::from_sqlx("starting a transaction", e))?;
    let mut store = SqlStore {
        tx,
        dialect: &MYSQL,
    };
    store.lock_rows(ops).await?;
    Ok(store)
}

//! The sync service's own connection pools, one per side, each connection marked as the sync service: PostgreSQL
//! per transaction (`SET LOCAL dbsync.origin`), MySQL per session (`@dbsync_origin`, set on every new connection
//! of a pool nobody else uses; README, "How it stays correct: No loops"). MySQL sessions also run in UTC, as the
//! revamp schema's times are.

use crate::row::RowOp;
use crate::write::dialect::{MYSQL, POSTGRES};
use crate::write::error::WriteError;
use crate::write::sql_store::SqlStore;
use crate::write::TargetOptions;
use sqlx::mysql::MySqlPoolOptions;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Executor, MySql, MySqlPool, PgPool, Postgres};

fn postgres_options(options: &TargetOptions) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.connect_timeout)
}

/// Connects the PostgreSQL pool (fails now if the database cannot be reached).
pub(crate) async fn postgres(dsn: &str, options: &TargetOptions) -> Result<PgPool, WriteError> {
    postgres_options(options)
        .connect(dsn)
        .await
        .map_err(|e| WriteError::from_sqlx("connecting to PostgreSQL", e))
}

/// A PostgreSQL pool that connects on first use (replacing a pool whose sessions an outage left unusable).
pub(crate) fn postgres_lazy(dsn: &str, options: &TargetOptions) -> Result<PgPool, WriteError> {
    postgres_options(options)
        .connect_lazy(dsn)
        .map_err(|e| WriteError::from_sqlx("connecting to PostgreSQL", e))
}

fn mysql_options(options: &TargetOptions) -> MySqlPoolOptions {
    MySqlPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.connect_timeout)
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                // A lock wait ends in a retryable error after 10 s instead of holding the pool for 50; READ
                // COMMITTED takes no gap locks, so locking keys that do not exist yet blocks no application insert.
                conn.execute(
                    "SET @dbsync_origin = 'sync_service', time_zone = '+00:00', innodb_lock_wait_timeout = 10",
                )
                .await?;
                conn.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                    .await?;
                Ok(())
            })
        })
}

/// Connects the MySQL pool (fails now if the database cannot be reached).
pub(crate) async fn mysql(dsn: &str, options: &TargetOptions) -> Result<MySqlPool, WriteError> {
    mysql_options(options)
        .connect(dsn)
        .await
        .map_err(|e| WriteError::from_sqlx("connecting to MySQL", e))
}

/// A MySQL pool that connects on first use (replacing a pool whose sessions an outage left unusable).
pub(crate) fn mysql_lazy(dsn: &str, options: &TargetOptions) -> Result<MySqlPool, WriteError> {
    mysql_options(options)
        .connect_lazy(dsn)
        .map_err(|e| WriteError::from_sqlx("connecting to MySQL", e))
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
    tx.execute("SET LOCAL dbsync.origin = 'sync_service'; SET LOCAL lock_timeout = '10s'")
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

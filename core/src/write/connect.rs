//! The sync service's own connection pools, one per side, each connection marked as the sync service: PostgreSQL
//! per transaction (`SET LOCAL dbsync.origin`), MySQL per session (`@dbsync_origin`, set on every new connection
//! of a pool nobody else uses; README trap 1). MySQL sessions also run in UTC, as the revamp schema's times are.

use crate::write::dialect::{MYSQL, POSTGRES};
use crate::write::error::WriteError;
use crate::write::sql_store::SqlStore;
use crate::write::TargetOptions;
use sqlx::mysql::MySqlPoolOptions;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Executor, MySql, MySqlPool, PgPool, Postgres};

pub(crate) async fn postgres(dsn: &str, options: &TargetOptions) -> Result<PgPool, WriteError> {
    PgPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.connect_timeout)
        .connect(dsn)
        .await
        .map_err(|e| WriteError::from_sqlx("connecting to PostgreSQL", e))
}

pub(crate) async fn mysql(dsn: &str, options: &TargetOptions) -> Result<MySqlPool, WriteError> {
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
        .connect(dsn)
        .await
        .map_err(|e| WriteError::from_sqlx("connecting to MySQL", e))
}

pub(crate) async fn begin_postgres(pool: &PgPool) -> Result<SqlStore<Postgres>, WriteError> {
    let mut tx = pool
        .begin()
        .await
        .map_err(|e| WriteError::from_sqlx("starting a transaction", e))?;
    tx.execute("SET LOCAL dbsync.origin = 'sync_service'; SET LOCAL lock_timeout = '10s'")
        .await
        .map_err(|e| WriteError::from_sqlx("marking the transaction as the sync service", e))?;
    Ok(SqlStore {
        tx,
        dialect: &POSTGRES,
    })
}

pub(crate) async fn begin_mysql(pool: &MySqlPool) -> Result<SqlStore<MySql>, WriteError> {
    let tx = pool
        .begin()
        .await
        .map_err(|e| WriteError::from_sqlx("starting a transaction", e))?;
    Ok(SqlStore {
        tx,
        dialect: &MYSQL,
    })
}

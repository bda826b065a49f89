//! Connections: the admin accounts write as the application; the sync accounts carry the sync service's marker, so
//! their writes are dropped by the capture filters. Every session runs in UTC.

use crate::cli::{Databases, Side};
use anyhow::{Context, Result};
use sqlx::{mysql::MySqlPoolOptions, postgres::PgPoolOptions, MySqlPool, PgPool};

/// One side's pool.
pub enum Pool {
    Pg(PgPool),
    My(MySqlPool),
}

/// A pool of `size` connections to `side`, as the application (`sync = false`) or as the sync service.
pub async fn pool(db: &Databases, side: Side, sync: bool, size: u32) -> Result<Pool> {
    let dsn = match (side, sync) {
        (Side::Legacy, false) => &db.legacy_admin_dsn,
        (Side::Legacy, true) => &db.legacy_sync_dsn,
        (Side::Revamp, false) => &db.revamp_admin_dsn,
        (Side::Revamp, true) => &db.revamp_sync_dsn,
    };
    let context = || format!("connecting to the {side:?} database");
    Ok(match side {
        Side::Legacy => Pool::Pg(
            PgPoolOptions::new()
                .max_connections(size)
                .after_connect(move |c, _| {
                    Box::pin(async move {
                        let marker = if sync {
                            "SET dbsync.origin = 'sync_service'"
                        } else {
                            "SELECT 1"
                        };
                        sqlx::query("SET TIME ZONE 'UTC'").execute(&mut *c).await?;
                        sqlx::query(marker).execute(&mut *c).await?;
                        Ok(())
                    })
                })
                .connect(dsn)
                .await
                .with_context(context)?,
        ),
        Side::Revamp => Pool::My(
            MySqlPoolOptions::new()
                .max_connections(size)
                .after_connect(move |c, _| {
                    Box::pin(async move {
                        let marker = if sync {
                            "SET @dbsync_origin = 'sync_service', time_zone = '+00:00'"
                        } else {
                            "SET time_zone = '+00:00'"
                        };
                        sqlx::query(marker).execute(&mut *c).await?;
                        Ok(())
                    })
                })
                .connect(dsn)
                .await
                .with_context(context)?,
        ),
    })
}

impl Pool {
    /// Runs one statement built by this tool (literal values it generated itself); returns the rows affected.
    pub async fn execute(&self, sql: String) -> Result<u64> {
        let sql = sqlx::AssertSqlSafe(sql);
        Ok(match self {
            Pool::Pg(pool) => sqlx::query(sql).execute(pool).await?.rows_affected(),
            Pool::My(pool) => sqlx::query(sql).execute(pool).await?.rows_affected(),
        })
    }

    /// Opens `n` connections and keeps them in the pool, so a timed run does not pay for opening them.
    pub async fn open(&self, n: u32) -> Result<()> {
        match self {
            Pool::Pg(pool) => {
                let mut held = Vec::new();
                for _ in 0..n {
                    held.push(pool.acquire().await?);
                }
            }
            Pool::My(pool) => {
                let mut held = Vec::new();
                for _ in 0..n {
                    held.push(pool.acquire().await?);
                }
            }
        }
        Ok(())
    }

    /// Runs one statement built by this tool as text, without preparing it: many connections each preparing
    /// statements that differ only in their literals would pass MariaDB's `max_prepared_stmt_count`.
    pub async fn execute_unprepared(&self, sql: String) -> Result<()> {
        let sql = sqlx::AssertSqlSafe(sql);
        match self {
            Pool::Pg(pool) => {
                sqlx::raw_sql(sql).execute(pool).await?;
            }
            Pool::My(pool) => {
                sqlx::raw_sql(sql).execute(pool).await?;
            }
        }
        Ok(())
    }

    /// The first column of every row `sql` returns, as integers.
    pub async fn integers(&self, sql: String) -> Result<Vec<i64>> {
        let sql = sqlx::AssertSqlSafe(sql);
        Ok(match self {
            Pool::Pg(pool) => sqlx::query_scalar(sql).fetch_all(pool).await?,
            Pool::My(pool) => sqlx::query_scalar(sql).fetch_all(pool).await?,
        })
    }

    /// The first two columns of every row `sql` returns, as float pairs (a time and a delay).
    pub async fn float_pairs(&self, sql: String) -> Result<Vec<(f64, f64)>> {
        let sql = sqlx::AssertSqlSafe(sql);
        Ok(match self {
            Pool::Pg(pool) => sqlx::query_as(sql).fetch_all(pool).await?,
            Pool::My(pool) => sqlx::query_as(sql).fetch_all(pool).await?,
        })
    }
}

//! Applying row operations to the target database: one transaction per batch, marked as the sync service
//! (README trap 1), with the event-id ledger (trap 3), conflict resolution (trap 4), tombstones (trap 2) and
//! parent checks (trap 5). The SQL for each dialect lives in its own module behind `store::RowStore`; the
//! decisions live once, in `apply`.

mod apply;
mod connect;
mod dialect;
mod error;
mod schema;
mod sql_store;
mod store;

pub use error::WriteError;

use crate::conflict::Resolver;
use crate::event::Side;
use crate::mapping::Mapping;
use crate::row::{ParentRef, RowOp};
use chrono::TimeDelta;
use std::collections::HashMap;
use std::time::Duration;

/// What happened to one row operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpOutcome {
    /// Written (inserted, updated or deleted).
    Applied,
    /// Already in the ledger: a replay, nothing written.
    Duplicate,
    /// The target holds a version that wins (or a tombstone that does): nothing written, counted.
    ConflictLost,
    /// A referenced parent row is not on the target yet: nothing written; retry later.
    ParentMissing(ParentRef),
    /// An earlier operation on the same row is waiting for its parent: not attempted, so the row's order holds.
    Blocked,
    /// A referenced parent row was deleted on the target: the child is dropped with it.
    ParentDeleted(ParentRef),
}

/// A failure of one operation inside a batch; the batch's transaction was rolled back.
#[derive(Debug)]
pub struct BatchError {
    /// Index of the failing operation.
    pub index: usize,
    /// The failure.
    pub error: WriteError,
}

/// Settings of the target writer.
#[derive(Debug, Clone)]
pub struct TargetOptions {
    /// Connections in the sync service's own pool.
    pub max_connections: u32,
    /// How long to wait for a connection.
    pub connect_timeout: Duration,
    /// For `legacy_wins` / `revamp_wins`: how much newer the other side's version must be to win anyway.
    pub conflict_window: TimeDelta,
}

impl Default for TargetOptions {
    fn default() -> Self {
        TargetOptions {
            max_connections: 2,
            connect_timeout: Duration::from_secs(10),
            conflict_window: TimeDelta::seconds(1),
        }
    }
}

enum Pool {
    Postgres(sqlx::PgPool),
    MySql(sqlx::MySqlPool),
}

/// The database the consumer writes into, with its pool and the per-entity conflict resolvers.
pub struct Target {
    pool: Pool,
    side: Side,
    resolvers: HashMap<String, Resolver>,
    column_types: schema::ColumnTypes,
}

impl Target {
    /// Connects to `dsn` (`postgres://` → legacy side, `mysql://` → revamp side) with a pool of its own whose every
    /// connection is marked as the sync service, then checks the mapping against the live schema.
    pub async fn connect(
        dsn: &str,
        mapping: &Mapping,
        options: &TargetOptions,
    ) -> Result<Self, WriteError> {
        let (pool, side) = if dsn.starts_with("postgres") {
            (
                Pool::Postgres(connect::postgres(dsn, options).await?),
                Side::Legacy,
            )
        } else {
            (
                Pool::MySql(connect::mysql(dsn, options).await?),
                Side::Revamp,
            )
        };
        let column_types = match &pool {
            Pool::Postgres(pool) => schema::check_postgres(pool, mapping).await?,
            Pool::MySql(pool) => schema::check_mysql(pool, mapping).await?,
        };
        let resolvers = mapping
            .entities()
            .iter()
            .map(|entity| {
                let resolver = Resolver {
                    policy: entity.conflict(),
                    window: options.conflict_window,
                };
                (entity.name().to_string(), resolver)
            })
            .collect();
        Ok(Target {
            pool,
            side,
            resolvers,
            column_types,
        })
    }

    /// The side this target is.
    pub fn side(&self) -> Side {
        self.side
    }

    /// Applies `ops` in order in one transaction and commits; one outcome per operation. An operation whose parent
    /// is missing is not written, and neither is any later operation on the same row (`Blocked`).
    pub async fn apply(&self, ops: &[RowOp]) -> Result<Vec<OpOutcome>, BatchError> {
        let context = apply::Context {
            side: self.side,
            resolvers: &self.resolvers,
            column_types: &self.column_types,
        };
        match &self.pool {
            Pool::Postgres(pool) => {
                let mut store = connect::begin_postgres(pool).await.map_err(at(0))?;
                let outcomes = apply::apply_all(&mut store, &context, ops).await?;
                store.commit().await.map_err(at(ops.len()))?;
                Ok(outcomes)
            }
            Pool::MySql(pool) => {
                let mut store = connect::begin_mysql(pool).await.map_err(at(0))?;
                let outcomes = apply::apply_all(&mut store, &context, ops).await?;
                store.commit().await.map_err(at(ops.len()))?;
                Ok(outcomes)
            }
        }
    }

    /// Deletes ledger rows and tombstones older than `age` (kept longer than the topics' retention, so a replay
    /// from the oldest offset still finds its ledger rows). Returns how many rows went.
    pub async fn prune(&self, age: Duration) -> Result<u64, WriteError> {
        let cutoff =
            chrono::Utc::now() - TimeDelta::from_std(age).unwrap_or(TimeDelta::days(36500));
        match &self.pool {
            Pool::Postgres(pool) => connect::begin_postgres(pool).await?.prune(cutoff).await,
            Pool::MySql(pool) => connect::begin_mysql(pool).await?.prune(cutoff).await,
        }
    }

    /// Closes the pool.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Postgres(pool) => pool.close().await,
            Pool::MySql(pool) => pool.close().await,
        }
    }
}

fn at(index: usize) -> impl Fn(WriteError) -> BatchError {
    move |error| BatchError { index, error }
}

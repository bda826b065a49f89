//! Applying row operations to the target database: one transaction per batch, marked as the sync service
//! (README, "How it stays correct: No loops"), with the event-id ledger ("Replays apply nothing"), conflict
//! resolution ("Conflicts converge"), tombstones ("Deletes travel as tombstones") and parent checks ("Order is per
//! row"). The SQL for each dialect lives in `dialect`, run by `sql_store`; the decisions live once, in `apply`.
//!
//! A batch takes the bulk path first: a few statements read everything its decisions need (`view::Request`), the
//! decisions run against that in-memory view, and a few multi-row statements write the outcome. If anything there
//! fails or surprises (a constraint, a cascade the view did not foresee), the transaction is rolled back and the
//! batch runs again one statement at a time, which pins the failure on one operation.

mod apply;
mod connect;
mod dialect;
mod error;
mod pg_arrays;
mod phases;
mod row_lock;
mod schema;
mod sql_store;
mod store;
mod view;

pub use error::WriteError;

use crate::conflict::Resolver;
use crate::error::ErrorClass;
use crate::event::Side;
use crate::mapping::Mapping;
use crate::position::{Lane, SourcePosition};
use crate::row::{ParentRef, RowOp};
use crate::write::store::BulkStore;
use chrono::TimeDelta;
use phases::{Phase, Phases};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tracing::debug;

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

/// How many expired rows one pruning step deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Ledger rows (`dbsync_applied_events`).
    pub ledger: u64,
    /// Tombstones (`dbsync_tombstones`).
    pub tombstones: u64,
}

impl Pruned {
    /// Whether a step bounded by `limit` may have left expired rows behind (it deleted as many as it could).
    pub fn filled(&self, limit: u32) -> bool {
        self.ledger.max(self.tombstones) >= u64::from(limit)
    }
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

#[derive(Clone)]
enum Pool {
    Postgres(sqlx::PgPool),
    MySql(sqlx::MySqlPool),
}

/// The database the consumer writes into, with its pool and the per-entity conflict resolvers.
pub struct Target {
    /// The current pool; replaced after an outage (see [`Target::apply`]).
    pool: std::sync::Mutex<Pool>,
    dsn: String,
    options: TargetOptions,
    side: Side,
    resolvers: HashMap<String, Resolver>,
    column_types: schema::ColumnTypes,
    /// The target's tables, parents first.
    table_order: Vec<String>,
}

/// How long replacing the pool waits for the old one to close.
const POOL_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Batches smaller than this go one statement at a time (the bulk path's fixed cost would not pay off).
const BULK_MIN_OPS: usize = 4;

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
        let table_order = mapping
            .topological_order()
            .iter()
            .map(|entity| entity.table(side).to_string())
            .collect();
        Ok(Target {
            pool: std::sync::Mutex::new(pool),
            dsn: dsn.to_string(),
            options: options.clone(),
            side,
            resolvers,
            column_types,
            table_order,
        })
    }

    /// How many connections the pool may open: how many batches can be written at once.
    pub fn connections(&self) -> usize {
        (self.options.max_connections as usize).max(1)
    }

    /// The side this target is.
    pub fn side(&self) -> Side {
        self.side
    }

    /// Applies `ops` in order in one transaction and commits; one outcome per operation. An operation whose parent
    /// is missing is not written, and neither is any later operation on the same row (`Blocked`).
    ///
    /// After an outage-class failure the pool is replaced: sessions opened during the outage can keep what caused
    /// it (PostgreSQL applies `ALTER ROLE ... SET default_transaction_read_only` only to new sessions), so probing
    /// through them would never see the database come back.
    pub async fn apply(&self, ops: &[RowOp]) -> Result<Vec<OpOutcome>, BatchError> {
        self.apply_from(None, ops).await
    }

    /// [`Target::apply`] for a batch from one topic partition (`lane`): the lane's position watermark, raised in
    /// the same transaction, lets events above it skip the ledger lookup ([`crate::position`]).
    pub async fn apply_from(
        &self,
        lane: Option<&Lane>,
        ops: &[RowOp],
    ) -> Result<Vec<OpOutcome>, BatchError> {
        let pool = self.pool();
        let result = self.apply_with(&pool, lane, ops).await;
        if let Err(failure) = &result {
            if failure.error.class() == ErrorClass::Unavailable {
                self.renew_pool(pool).await;
            }
        }
        result
    }

    fn pool(&self) -> Pool {
        match self.pool.lock() {
            Ok(pool) => pool.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the pool with a fresh one that connects on first use, and closes the old one.
    async fn renew_pool(&self, old: Pool) {
        let fresh = match self.side {
            Side::Legacy => connect::postgres_lazy(&self.dsn, &self.options).map(Pool::Postgres),
            Side::Revamp => connect::mysql_lazy(&self.dsn, &self.options).map(Pool::MySql),
        };
        match fresh {
            Ok(fresh) => match self.pool.lock() {
                Ok(mut pool) => *pool = fresh,
                Err(poisoned) => *poisoned.into_inner() = fresh,
            },
            Err(error) => {
                debug!(%error, "could not make a fresh pool; keeping the old one");
                return;
            }
        }
        let closing = async {
            match &old {
                Pool::Postgres(pool) => pool.close().await,
                Pool::MySql(pool) => pool.close().await,
            }
        };
        if tokio::time::timeout(POOL_CLOSE_TIMEOUT, closing)
            .await
            .is_err()
        {
            debug!("the old pool did not close in time; its connections go when they are returned");
        }
    }

    async fn apply_with(
        &self,
        pool: &Pool,
        lane: Option<&Lane>,
        ops: &[RowOp],
    ) -> Result<Vec<OpOutcome>, BatchError> {
        let context = apply::Context {
            side: self.side,
            resolvers: &self.resolvers,
            column_types: &self.column_types,
            repair: false,
        };
        if ops.len() >= BULK_MIN_OPS {
            let started = Instant::now();
            let bulk = match pool {
                Pool::Postgres(pool) => match connect::begin_postgres(pool, ops).await {
                    Ok(store) => self.apply_bulk(store, &context, lane, ops, started).await,
                    Err(error) => Err(error),
                },
                Pool::MySql(pool) => match connect::begin_mysql(pool, ops).await {
                    Ok(store) => self.apply_bulk(store, &context, lane, ops, started).await,
                    Err(error) => Err(error),
                },
            };
            match bulk {
                Ok(outcomes) => return Ok(outcomes),
                Err(error) if error.is_unavailable() => return Err(BatchError { index: 0, error }),
                Err(error) => {
                    debug!(%error, ops = ops.len(), "bulk path failed; applying one by one")
                }
            }
        }
        Self::one_by_one(pool, &context, lane, ops).await
    }

    /// The bulk path: read, decide in memory, write in multi-row statements, commit. Dropping `store` on an
    /// error rolls the transaction back.
    /// `started` is when the transaction was asked for (before the row locks): the phases' times are logged at
    /// debug level (`batch phases`), which is how `make bench` shows where a batch's time goes.
    async fn apply_bulk<S: BulkStore>(
        &self,
        mut store: S,
        context: &apply::Context<'_>,
        lane: Option<&Lane>,
        ops: &[RowOp],
        started: Instant,
    ) -> Result<Vec<OpOutcome>, WriteError> {
        let mut phases = Phases::new(started);
        phases.lap(Phase::Lock);
        let written = async {
            let fetched = store.fetch(&view::Request::of(ops, lane)).await?;
            let watermark = fetched.watermark.clone();
            phases.lap(Phase::Read);
            let mut view = view::BatchView::new(fetched);
            let outcomes = apply::apply_all(&mut view, context, ops)
                .await
                .map_err(|failure| failure.error)?;
            let plan = view.plan();
            phases.lap(Phase::Decide);
            store
                .flush(&plan, &self.table_order, &self.column_types)
                .await?;
            if let Some((lane, position)) = raised_watermark(lane, watermark.as_ref(), ops) {
                store.write_watermark(lane, position).await?;
            }
            phases.lap(Phase::Write);
            Ok(outcomes)
        }
        .await;
        match written {
            Ok(outcomes) => {
                store.commit().await?;
                phases.lap(Phase::Commit);
                phases.log(ops.len());
                Ok(outcomes)
            }
            Err(error) => {
                store.rollback().await;
                Err(error)
            }
        }
    }

    /// Applies repairs (`dbsync:repair`) in one transaction, one statement at a time, through the same decisions as
    /// [`Target::apply`] (marker, row locks, ledger, versions), except that a version equal to the target row's
    /// overwrites it: two copies that claim one version but differ are drift, and the caller chose the copy.
    pub async fn repair(&self, ops: &[RowOp]) -> Result<Vec<OpOutcome>, BatchError> {
        let context = apply::Context {
            side: self.side,
            resolvers: &self.resolvers,
            column_types: &self.column_types,
            repair: true,
        };
        Self::one_by_one(&self.pool(), &context, None, ops).await
    }

    /// Applies `ops` one statement at a time in one transaction (each event id recorded by an insert that skips
    /// known ones, so no lookup is skipped), raises the lane's position watermark, and commits.
    async fn one_by_one(
        pool: &Pool,
        context: &apply::Context<'_>,
        lane: Option<&Lane>,
        ops: &[RowOp],
    ) -> Result<Vec<OpOutcome>, BatchError> {
        macro_rules! run {
            ($store:expr) => {{
                let mut store = $store.map_err(at(0))?;
                let outcomes = apply::apply_all(&mut store, context, ops).await?;
                if let Some(lane) = lane {
                    let current = store.read_watermark(lane).await.map_err(at(ops.len()))?;
                    if let Some((lane, position)) =
                        raised_watermark(Some(lane), current.as_ref(), ops)
                    {
                        store
                            .write_watermark(lane, position)
                            .await
                            .map_err(at(ops.len()))?;
                    }
                }
                store.commit().await.map_err(at(ops.len()))?;
                Ok(outcomes)
            }};
        }
        match pool {
            Pool::Postgres(pool) => run!(connect::begin_postgres(pool, ops).await),
            Pool::MySql(pool) => run!(connect::begin_mysql(pool, ops).await),
        }
    }

    /// Deletes the oldest ledger rows and tombstones older than `age` (kept longer than the topics' retention, so a
    /// replay from the oldest offset still finds its ledger rows), at most `limit` of each in one short transaction:
    /// a long backlog of expired rows is pruned in steps between batches, not in one statement that holds the loop.
    pub async fn prune(&self, age: Duration, limit: u32) -> Result<Pruned, WriteError> {
        let cutoff =
            chrono::Utc::now() - TimeDelta::from_std(age).unwrap_or(TimeDelta::days(36500));
        match &self.pool() {
            Pool::Postgres(pool) => {
                connect::begin_postgres(pool, &[])
                    .await?
                    .prune(cutoff, limit)
                    .await
            }
            Pool::MySql(pool) => {
                connect::begin_mysql(pool, &[])
                    .await?
                    .prune(cutoff, limit)
                    .await
            }
        }
    }

    /// Closes the pool.
    pub async fn close(&self) {
        match &self.pool() {
            Pool::Postgres(pool) => pool.close().await,
            Pool::MySql(pool) => pool.close().await,
        }
    }
}

/// The lane and its new watermark, if `ops` hold a position above `current`: the highest position of the batch
/// (of every operation, written or not: a higher watermark only makes more events looked up).
fn raised_watermark<'a>(
    lane: Option<&'a Lane>,
    current: Option<&SourcePosition>,
    ops: &'a [RowOp],
) -> Option<(&'a Lane, &'a SourcePosition)> {
    let highest = ops.iter().filter_map(RowOp::position).max()?;
    match current {
        Some(current) if highest <= current => None,
        _ => lane.map(|lane| (lane, highest)),
    }
}

fn at(index: usize) -> impl Fn(WriteError) -> BatchError {
    move |error| BatchError { index, error }
}

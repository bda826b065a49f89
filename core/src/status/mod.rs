//! `dbsync:status`: how the sync is doing, read from Kafka, both databases and Kafka Connect, without the consumer
//! processes. One file per source of numbers:
//!
//! - `consumer_lag`: each direction's consumer-group lag per partition and in total (committed offsets vs end
//!   offsets);
//! - `ledger`: each target's last applied event, its end-to-end delay (source commit to target commit) and the
//!   applied rate over the last minute, from `dbsync_applied_events`;
//! - `dead_letters`: the dead letters that still need an operator, by `dbsync.reason`;
//! - `connectors`: each Debezium connector's and task's state, from Kafka Connect's REST API;
//! - `slot`: the PostgreSQL replication slot's lag in WAL bytes;
//! - `clock`: the skew between the two database servers' clocks.
//!
//! `health` turns the figures into a verdict and an exit code (0 healthy, 1 degraded, 2 unreachable); `probe`
//! carries one source's figures or its failure; `options` holds the settings. The per-outcome counters (applied,
//! echo-skipped, duplicates, retried, dead-lettered, parked) live only in the running consumers: they are served by
//! each consumer's metrics endpoint, not here.

mod clock;
mod connection;
mod connectors;
mod consumer_lag;
mod dead_letters;
mod health;
mod ledger;
mod options;
mod probe;
mod slot;

pub use clock::ClockSkew;
pub use connectors::{Connector, Connectors, Task};
pub use consumer_lag::{GroupLag, PartitionLag};
pub use dead_letters::{DeadLetters, MAX_LETTERS_READ};
pub use health::{Health, Verdict};
pub use ledger::Applied;
pub use options::{StatusOptions, DEFAULT_MAX_LAG, DEFAULT_REPLICATION_SLOT, DEFAULT_TIMEOUT_MS};
pub use probe::{Probe, ProbeError};
pub use slot::Slot;

use crate::error::Error;
use chrono::{DateTime, Utc};
use probe::{blocking, within};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// What the report says about the counters it cannot read.
pub const CONSUMER_COUNTERS: &str =
    "applied, echo-skipped, duplicate, retried, dead-lettered and parked counts live \
     in each running consumer: scrape its metrics endpoint (DBSYNC_METRICS_ADDR, path /metrics)";

/// One direction: its consumer group's lag and its target's ledger.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DirectionStatus {
    /// `legacy_to_revamp` or `revamp_to_legacy`.
    pub direction: String,
    /// The topic its consumers read.
    pub topic: String,
    /// Its consumer group.
    pub group: String,
    /// The group's lag.
    pub lag: Probe<GroupLag>,
    /// What its target's ledger says.
    pub applied: Probe<Applied>,
}

/// Everything `dbsync:status` shows (`--json` prints this as it is).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    /// The verdict.
    pub health: Health,
    /// The command's exit code: 0 healthy, 1 degraded, 2 unreachable.
    pub exit_code: i32,
    /// Why it is not healthy, one sentence each.
    pub problems: Vec<String>,
    /// Worth a look without changing the exit code (clock skew, an inactive slot).
    pub warnings: Vec<String>,
    /// When the figures were read.
    pub checked_at: DateTime<Utc>,
    /// The lag threshold applied.
    pub max_lag: u64,
    /// Legacy to revamp, then revamp to legacy.
    pub directions: Vec<DirectionStatus>,
    /// The dead letters that still need an operator.
    pub dead_letters: Probe<DeadLetters>,
    /// The Debezium connectors.
    pub connectors: Probe<Connectors>,
    /// The PostgreSQL connector's replication slot.
    pub replication_slot: Probe<Slot>,
    /// The skew between the database servers' clocks.
    pub clock_skew: Probe<ClockSkew>,
    /// Where the per-outcome counters are ([`CONSUMER_COUNTERS`]).
    pub consumer_counters: &'static str,
}

/// Reads every source (concurrently, each within `timeout_ms` per request) and judges the result. Fails only on
/// invalid options; an unreachable source is part of the report.
pub fn status(options: StatusOptions) -> Result<Status, Error> {
    options.validate()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    Ok(runtime.block_on(collect(Arc::new(options))))
}

async fn collect(options: Arc<StatusOptions>) -> Status {
    let checked_at = Utc::now();
    let lag = |topic: String, suffix: &str| {
        let options = Arc::clone(&options);
        let group = options.group(suffix);
        blocking("reading the consumer lag", move || {
            consumer_lag::read(&options, &topic, &group)
        })
    };
    let dlq = {
        let options = Arc::clone(&options);
        blocking("reading the dead letters", move || {
            dead_letters::read(&options)
        })
    };
    let connect = {
        let options = Arc::clone(&options);
        blocking("reading the connectors", move || connectors::read(&options))
    };
    let (l2r_lag, r2l_lag, dlq, connect, legacy, revamp) = tokio::join!(
        lag(options.legacy_topic.clone(), "legacy-to-revamp"),
        lag(options.revamp_topic.clone(), "revamp-to-legacy"),
        dlq,
        connect,
        legacy_side(&options),
        revamp_side(&options),
    );
    let clock_skew = match (legacy.clock, revamp.clock) {
        (Ok(l), Ok(r)) => Ok(clock::skew(l, r, options.conflict_window_ms)),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    let mut status = Status {
        health: Health::Healthy,
        exit_code: 0,
        problems: Vec::new(),
        warnings: Vec::new(),
        checked_at,
        max_lag: options.max_lag,
        directions: vec![
            DirectionStatus {
                direction: "legacy_to_revamp".to_string(),
                topic: options.legacy_topic.clone(),
                group: options.group("legacy-to-revamp"),
                lag: Probe::of(l2r_lag),
                applied: Probe::of(revamp.ledger),
            },
            DirectionStatus {
                direction: "revamp_to_legacy".to_string(),
                topic: options.revamp_topic.clone(),
                group: options.group("revamp-to-legacy"),
                lag: Probe::of(r2l_lag),
                applied: Probe::of(legacy.ledger),
            },
        ],
        dead_letters: Probe::of(dlq),
        connectors: Probe::of(connect),
        replication_slot: Probe::of(legacy.slot),
        clock_skew: Probe::of(clock_skew),
        consumer_counters: CONSUMER_COUNTERS,
    };
    let verdict = health::assess(&status);
    status.health = verdict.health;
    status.exit_code = verdict.health.exit_code();
    status.problems = verdict.problems;
    status.warnings = verdict.warnings;
    status
}

/// What one database answered.
struct Side<S> {
    clock: Result<clock::Sample, ProbeError>,
    ledger: Result<Applied, ProbeError>,
    slot: S,
}

/// The same failure for each figure of a database that could not be reached.
fn unreached(error: &ProbeError) -> ProbeError {
    ProbeError::Same(error.to_string())
}

async fn legacy_side(options: &StatusOptions) -> Side<Result<Slot, ProbeError>> {
    let limit = Duration::from_millis(options.timeout_ms);
    let mut conn = match connection::postgres(&options.legacy_dsn, limit).await {
        Ok(conn) => conn,
        Err(e) => {
            return Side {
                clock: Err(unreached(&e)),
                ledger: Err(unreached(&e)),
                slot: Err(e),
            }
        }
    };
    let clock = within(
        "reading the legacy clock",
        limit,
        clock::postgres(&mut conn),
    )
    .await;
    let ledger = within(
        "reading the legacy ledger",
        limit,
        ledger::postgres(&mut conn),
    )
    .await;
    let slot = within(
        "reading the replication slot",
        limit,
        slot::read(&mut conn, &options.replication_slot),
    )
    .await;
    Side {
        clock,
        ledger,
        slot,
    }
}

async fn revamp_side(options: &StatusOptions) -> Side<()> {
    let limit = Duration::from_millis(options.timeout_ms);
    let mut conn = match connection::mysql(&options.revamp_dsn, limit).await {
        Ok(conn) => conn,
        Err(e) => {
            return Side {
                clock: Err(unreached(&e)),
                ledger: Err(e),
                slot: (),
            }
        }
    };
    let clock = within("reading the revamp clock", limit, clock::mysql(&mut conn)).await;
    let ledger = within("reading the revamp ledger", limit, ledger::mysql(&mut conn)).await;
    Side {
        clock,
        ledger,
        slot: (),
    }
}

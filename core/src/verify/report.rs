//! What verify and repair report (`--json` prints it as it is), and the progress figures a terminal shows.

use super::normalize::ColumnDiff;
use crate::conflict::Version;
use crate::event::Side;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Where the progress is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Walking the tables chunk by chunk.
    Comparing,
    /// Waiting for the consumers, then looking at the differing rows again.
    Confirming,
    /// Writing repairs.
    Repairing,
}

/// A progress figure, reported a few times a second.
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    /// What is happening.
    pub phase: Phase,
    /// The entity being compared.
    pub entity: String,
    /// Rows compared so far (all entities).
    pub rows: u64,
    /// Rows to compare (the larger side's count per entity, summed), as counted at the start.
    pub total: u64,
    /// Rows compared per second so far.
    pub rows_per_second: f64,
    /// Seconds left at that rate, when known.
    pub eta_seconds: Option<f64>,
    /// Rows that differ so far (before confirmation).
    pub suspects: u64,
}

/// One version of a row as the report shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VersionView {
    /// The row's `updated_at` (for a delete: when it was deleted).
    pub updated_at: DateTime<Utc>,
    /// The side whose application wrote it.
    pub origin: Side,
}

impl From<Version> for VersionView {
    fn from(v: Version) -> Self {
        VersionView {
            updated_at: v.updated_at,
            origin: v.origin,
        }
    }
}

/// A confirmed difference.
#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    /// The entity.
    pub entity: String,
    /// The row's key.
    pub key: i64,
    /// `both`, `legacy_only` or `revamp_only`.
    pub held_by: String,
    /// The differing columns (rows on both sides only), legacy and revamp names.
    pub columns: Vec<ColumnDiff>,
    /// The legacy row's version, when it has one.
    pub legacy_version: Option<VersionView>,
    /// The revamp row's version, when it has one.
    pub revamp_version: Option<VersionView>,
    /// For a row on one side only: the other side's tombstone (when and by whom it was deleted there), if any.
    pub tombstone: Option<VersionView>,
}

/// A row that kept changing through every re-check: in flight, not reported as drift.
#[derive(Debug, Clone, Serialize)]
pub struct Unsettled {
    /// The entity.
    pub entity: String,
    /// The row's key.
    pub key: i64,
}

/// One entity's figures.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EntityReport {
    /// The entity.
    pub entity: String,
    /// Distinct keys compared.
    pub rows: u64,
    /// Chunks compared.
    pub chunks: u64,
    /// Chunks whose hashes differed.
    pub chunks_differing: u64,
    /// Rows that differed in the walk.
    pub suspects: u64,
    /// Rows confirmed as drift.
    pub drift: u64,
    /// Rows still changing after every re-check.
    pub unsettled: u64,
}

/// How the differences were confirmed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Confirmation {
    /// Re-check rounds run.
    pub rounds: u64,
    /// Time spent waiting for the delay and the consumers.
    pub waited_ms: u64,
    /// Whether the consumers' committed offsets passed the offsets seen after each delay (`null`: not asked,
    /// no brokers configured or nothing to confirm).
    pub consumers_caught_up: Option<bool>,
    /// Rows that differed in the walk but agreed on a later look (in flight).
    pub resolved_in_flight: u64,
}

/// Everything `dbsync:verify` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// No confirmed drift.
    pub in_sync: bool,
    /// The command's exit code: 0 in sync, 1 drift found.
    pub exit_code: i32,
    /// When the walk started.
    pub started_at: DateTime<Utc>,
    /// How long it all took.
    pub elapsed_ms: u64,
    /// Distinct keys compared, all entities.
    pub rows: u64,
    /// Rows compared per second during the walk.
    pub rows_per_second: f64,
    /// Chunk size used.
    pub chunk_size: u64,
    /// The `since` filter, if any.
    pub since: Option<DateTime<Utc>>,
    /// Per entity.
    pub entities: Vec<EntityReport>,
    /// How differences were confirmed.
    pub confirmation: Confirmation,
    /// Confirmed drift (at most `max_differences`).
    pub differences: Vec<Difference>,
    /// Rows that never settled.
    pub unsettled: Vec<Unsettled>,
    /// Whether differences were left out of the list (counts stay exact).
    pub truncated: bool,
}

/// One repair.
#[derive(Debug, Clone, Serialize)]
pub struct RepairAction {
    /// The entity.
    pub entity: String,
    /// The row's key.
    pub key: i64,
    /// `insert`, `update` or `delete`.
    pub action: String,
    /// The side written.
    pub side: Side,
    /// The winning version.
    pub version: VersionView,
    /// `applied`, `planned` (dry run), `conflict_lost`, `parent_missing`, ... (the writer's outcome).
    pub outcome: String,
}

/// Everything `dbsync:repair` reports.
#[derive(Debug, Clone, Serialize)]
pub struct RepairReport {
    /// Nothing was written.
    pub dry_run: bool,
    /// The verify that found the differences.
    pub verify: Report,
    /// One per confirmed difference, parents first.
    pub actions: Vec<RepairAction>,
    /// Repairs written.
    pub applied: u64,
    /// Repairs the writer did not apply (a newer version arrived meanwhile, a parent missing).
    pub not_applied: u64,
    /// 0 when every repair applied (or was planned), 1 otherwise.
    pub exit_code: i32,
}

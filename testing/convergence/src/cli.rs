//! Command-line flags. Connection settings default to the development stack (`stack.env`) and can come from the
//! same `DBSYNC_*` environment variables the consumers read; the databases are reached with the *admin* accounts,
//! as the applications write (never with the sync service's marker).

use clap::{Parser, ValueEnum};
use std::path::PathBuf;

/// Which rows the pass/fail comparison covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scope {
    /// Only the ids this run created (rows of other suites are still compared, for information).
    Run,
    /// Every row of the synced tables.
    All,
}

/// Randomized convergence test: N concurrent application writes on both databases, then both must hold the same
/// rows through the mapping, the topics must hold exactly one event per write (no echo) and the DLQ nothing new.
#[derive(Debug, Clone, Parser)]
#[command(name = "dbsync-convergence", version)]
pub struct Args {
    /// Seed of the operation generator (the same seed gives the same operations).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// How many operations to generate.
    #[arg(long, default_value_t = 2000)]
    pub operations: usize,
    /// Concurrent workers, each with its own connection to both databases.
    #[arg(long, default_value_t = 4)]
    pub workers: usize,
    /// How long to wait for both consumers to be idle and the databases to match.
    #[arg(long, default_value_t = 180)]
    pub deadline_secs: u64,
    /// Consumer groups are `<prefix>-legacy-to-revamp` and `<prefix>-revamp-to-legacy`.
    #[arg(long, env = "DBSYNC_GROUP_PREFIX", default_value = "dbsync")]
    pub group_prefix: String,
    /// Which rows decide pass or fail (see `Scope`).
    #[arg(long, value_enum, default_value_t = Scope::Run)]
    pub scope: Scope,
    /// Kafka bootstrap servers.
    #[arg(long, env = "DBSYNC_BROKERS", default_value = "127.0.0.1:9092")]
    pub brokers: String,
    /// Topic of the legacy side's changes.
    #[arg(long, env = "DBSYNC_LEGACY_TOPIC", default_value = "legacy.events")]
    pub legacy_topic: String,
    /// Topic of the revamp side's changes.
    #[arg(long, env = "DBSYNC_REVAMP_TOPIC", default_value = "revamp.events")]
    pub revamp_topic: String,
    /// Dead-letter topic.
    #[arg(long, env = "DBSYNC_DLQ_TOPIC", default_value = "sync.dlq")]
    pub dlq_topic: String,
    /// Legacy database, admin account (application writes).
    #[arg(
        long,
        env = "DBSYNC_CONVERGENCE_LEGACY_DSN",
        default_value = "postgres://postgres@127.0.0.1:5432/legacy_db"
    )]
    pub legacy_dsn: String,
    /// Revamp database, admin account (application writes).
    #[arg(
        long,
        env = "DBSYNC_CONVERGENCE_REVAMP_DSN",
        default_value = "mysql://root@127.0.0.1:3306/revamp_db"
    )]
    pub revamp_dsn: String,
    /// The mapping file the consumers use.
    #[arg(long, env = "DBSYNC_MAPPING_PATH", default_value = default_mapping())]
    pub mapping: PathBuf,
    /// How many differing rows to print per table.
    #[arg(long, default_value_t = 5)]
    pub show_diffs: usize,
}

fn default_mapping() -> &'static str {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../core/mapping/default.toml"
    )
}

impl Args {
    /// The consumer group that applies `topic`'s events.
    pub fn group_for(&self, legacy: bool) -> String {
        let direction = if legacy {
            "legacy-to-revamp"
        } else {
            "revamp-to-legacy"
        };
        format!("{}-{direction}", self.group_prefix)
    }
}

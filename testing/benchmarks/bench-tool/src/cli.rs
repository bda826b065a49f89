//! Command-line flags. Connection settings default to the development stack (`stack.env`); the admin accounts write
//! as the application, the sync accounts (`DBSYNC_*_DSN`) as the sync service.

use clap::{Args, Parser, Subcommand, ValueEnum};
pub use dbsync_core::Side;

/// The load side of `make bench` (testing/benchmarks/bench.sh): it writes and measures; it asserts nothing.
#[derive(Debug, Parser)]
#[command(name = "dbsync-bench", version)]
pub struct Cli {
    #[command(flatten)]
    pub db: Databases,
    #[command(subcommand)]
    pub command: Command,
}

/// Where the databases are.
#[derive(Debug, Clone, Args)]
pub struct Databases {
    /// Legacy database, admin account (application writes).
    #[arg(
        long,
        env = "DBSYNC_BENCH_LEGACY_ADMIN_DSN",
        default_value = "postgres://postgres@127.0.0.1:5432/legacy_db"
    )]
    pub legacy_admin_dsn: String,
    /// Revamp database, admin account (application writes).
    #[arg(
        long,
        env = "DBSYNC_BENCH_REVAMP_ADMIN_DSN",
        default_value = "mysql://root@127.0.0.1:3306/revamp_db"
    )]
    pub revamp_admin_dsn: String,
    /// Legacy database as the sync service (ceiling writes, ledger reads).
    #[arg(long, env = "DBSYNC_LEGACY_DSN")]
    pub legacy_sync_dsn: String,
    /// Revamp database as the sync service (ceiling writes, ledger reads).
    #[arg(long, env = "DBSYNC_REVAMP_DSN")]
    pub revamp_sync_dsn: String,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a backlog workload on one side as the application; prints `rows_written=N`.
    Workload(WorkloadArgs),
    /// Write the rows a workload left on the source into the target as 500-row multi-row upserts (as the sync
    /// service, so nothing is captured): the database ceiling. Prints `rows=N seconds=S rows_per_s=R`.
    Ceiling(CeilingArgs),
    /// Watch a consumer group's committed offsets until they reach given end offsets (or for `--for-secs`). Prints
    /// `events=N seconds=S events_per_s=R` (events committed after its first commit, over the time since) and
    /// `wall_seconds` (from the watch's start).
    Drain(DrainArgs),
    /// Steady application writes on both sides at a fixed rate. Prints `legacy_writes=N revamp_writes=N
    /// seconds=S`.
    Load(LoadArgs),
    /// Delay percentiles of the events applied in a time window: end to end (ledgers: source commit to target
    /// write) and Debezium's capture (topics: source commit to the message's Kafka timestamp), per direction.
    Lag(LagArgs),
}

/// `legacy` or `revamp`, for `--side` and `--source`.
fn side(text: &str) -> Result<Side, String> {
    match text {
        "legacy" => Ok(Side::Legacy),
        "revamp" => Ok(Side::Revamp),
        other => Err(format!("expected legacy or revamp, got {other:?}")),
    }
}

/// Which workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// Users only: inserts, then updates of the first ones.
    Users,
    /// Users, posts and likes (1 : 2 : 4), updates of users and posts, then 5% deletes (likes).
    Mixed,
}

#[derive(Debug, Args)]
pub struct WorkloadArgs {
    /// The side the application writes on: legacy or revamp.
    #[arg(long, value_parser = side)]
    pub side: Side,
    #[arg(long, value_enum, default_value_t = Kind::Users)]
    pub kind: Kind,
    /// Prefix of every generated user name, so the rows can be found and removed.
    #[arg(long)]
    pub tag: String,
    /// Rows inserted (users only, or users + posts + likes).
    #[arg(long, default_value_t = 100_000)]
    pub inserts: usize,
    /// Rows updated after the inserts.
    #[arg(long, default_value_t = 50_000)]
    pub updates: usize,
}

#[derive(Debug, Args)]
pub struct CeilingArgs {
    /// The side the workload was written on (legacy or revamp); the ceiling writes into the other one.
    #[arg(long, value_parser = side)]
    pub source: Side,
    #[arg(long, value_enum, default_value_t = Kind::Users)]
    pub kind: Kind,
    #[arg(long)]
    pub tag: String,
    /// Rows written again after the first pass (the workload's updates).
    #[arg(long, default_value_t = 50_000)]
    pub updates: usize,
    /// Rows per statement (and transaction).
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
}

#[derive(Debug, Args)]
pub struct DrainArgs {
    #[arg(long, env = "DBSYNC_BROKERS", default_value = "127.0.0.1:9092")]
    pub brokers: String,
    /// The consumer group to watch.
    #[arg(long)]
    pub group: String,
    /// Topics and the end offsets to wait for, `topic:partition=offset,...` (repeatable).
    #[arg(long = "until", required = true)]
    pub until: Vec<String>,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 1800)]
    pub timeout_secs: u64,
    /// Measure only this many seconds after the first commit, then report the rate so far (for slow configs).
    #[arg(long)]
    pub for_secs: Option<u64>,
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Application writes per second on the legacy side.
    #[arg(long)]
    pub legacy_rate: u32,
    /// Application writes per second on the revamp side.
    #[arg(long)]
    pub revamp_rate: u32,
    #[arg(long, default_value_t = 60)]
    pub seconds: u64,
    /// Most connections per side, and so most writes in flight: each write is its own transaction, so a side
    /// takes at most this many / commit time writes a second (the stack's databases allow 300 and 400).
    #[arg(long, default_value_t = 200)]
    pub max_connections: u32,
    #[arg(long)]
    pub tag: String,
}

#[derive(Debug, Args)]
pub struct LagArgs {
    #[arg(long, env = "DBSYNC_BROKERS", default_value = "127.0.0.1:9092")]
    pub brokers: String,
    #[arg(long, env = "DBSYNC_LEGACY_TOPIC", default_value = "legacy.events")]
    pub legacy_topic: String,
    #[arg(long, env = "DBSYNC_REVAMP_TOPIC", default_value = "revamp.events")]
    pub revamp_topic: String,
    /// Start of the window, Unix milliseconds (source commit time).
    #[arg(long)]
    pub since_ms: i64,
    /// End of the window, Unix milliseconds.
    #[arg(long)]
    pub until_ms: i64,
}

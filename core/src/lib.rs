//! dbsync-core: two-way, loop-free synchronization between a legacy PostgreSQL database and a revamped MySQL
//! (MariaDB) database, fed by Debezium change events on Kafka.
//!
//! # Guarantee
//! At-least-once delivery plus idempotent writes: a Kafka offset is committed only after the database transaction
//! that applied its message (and recorded its event id in the ledger) has committed, so a crash replays messages
//! and the ledger makes the replay a no-op.
//!
//! # Layout (one job per module; ARCHITECTURE.md has the invariants and their tests)
//! - [`config`]: the consumer's settings, validated (ranges too) with errors that name the field.
//! - [`event`]: the normalized change event every message is decoded into.
//! - [`decode`](mod@decode): Debezium envelopes and the seed's event contract into [`ChangeEvent`]s.
//! - `filter` (private): recognizes echoes (changes written by the sync service itself), see [`is_echo`].
//! - [`mapping`]: the mapping file (entities, tables, columns, converters) and its validation.
//! - [`transform`](mod@transform): a pure function from a change event to a row operation on the other side.
//! - [`conflict`]: which of two versions of one row wins.
//! - [`row`]: the row operations and dialect-free values that transform produces and the writers apply.
//! - [`write`](mod@write): idempotent, last-writer-wins upserts and deletes, one writer per SQL dialect, per-row locks, and
//!   the classification of database errors.
//! - `consume` (private, [`Consumer`]): the pipeline: Kafka in, database out, offsets after commit, DLQ for
//!   poison; per-partition queues, rebalance handling, the parent watermark and outage handling live under it.
//! - [`kafka`]: the one Kafka client factory (brokers, `client.id`, pass-through librdkafka properties).
//! - `dlq` (private): dead-letter records with Kafka Connect's header names.
//! - [`replay`]: sends dead letters back to the topic they came from, once their cause is fixed.
//! - [`supervise`]: restarts FAILED Kafka Connect connectors and tasks (Debezium) with backoff.
//! - [`status`](mod@status): what `dbsync:status` shows: lag, ledger figures, dead letters, connectors, slot, clock skew.
//! - [`verify`](mod@verify): `dbsync:verify` and `dbsync:repair`: chunked, hashed comparison of both databases
//!   through the mapping, confirmed drift, repairs through the writer.
//! - [`metrics`]: the counters a run returns, and Prometheus metrics served on `metrics_addr`.
//! - [`error`]: the library's error types and dead-letter reasons.
//! - `timestamp` (private): the timestamp spellings met on the wire; [`commit_estimate`] of a source commit.
//! - `capi` (cargo feature `capi`): the C ABI behind `include/dbsync.h` (README, "Use from C").

#[cfg(feature = "capi")]
pub mod capi;
pub mod config;
pub mod conflict;
mod consume;
pub mod decode;
mod defaults;
mod dlq;
pub mod error;
pub mod event;
mod filter;
pub mod kafka;
pub mod mapping;
pub mod metrics;
pub mod position;
pub mod replay;
pub mod row;
pub mod status;
pub mod supervise;
#[cfg(test)]
mod testdata;
mod timestamp;
pub mod transform;
pub mod verify;
pub mod write;

pub use config::{Direction, SyncConfig};
pub use consume::{Consumer, RunOptions};
pub use decode::{decode, DecodeError, Decoded, TOMBSTONE_TABLE};
pub use error::{ConfigError, Error};
pub use event::{ChangeEvent, Operation, Side};
pub use filter::is_echo;
pub use kafka::KafkaProperties;
pub use mapping::{ConflictPolicy, Mapping, MappingError};
pub use metrics::Counters;
pub use replay::{replay_dead_letters, ReplayOptions, ReplaySummary};
pub use row::{RowOp, SqlValue};
pub use timestamp::commit_estimate;
pub use transform::{transform, TransformError};

/// The crate's version, as PHP's `DbSync\version()` reports it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

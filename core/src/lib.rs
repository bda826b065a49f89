//! dbsync-core: two-way, loop-free synchronization between a legacy PostgreSQL database and a revamped MySQL
//! (MariaDB) database, fed by Debezium change events on Kafka.
//!
//! # Guarantee
//! At-least-once delivery plus idempotent writes: a Kafka offset is committed only after the database transaction
//! that applied its message (and recorded its event id in the ledger) has committed, so a crash replays messages
//! and the ledger makes the replay a no-op.
//!
//! # Layout (one job per module)
//! - [`config`]: the consumer's settings, validated with errors that name the field.
//! - `event`: the normalized change event every message is decoded into.
//! - `decode`: Debezium envelopes and the seed's event contract into `event::ChangeEvent`.
//! - `filter`: drops echoes (changes written by the sync service itself).
//! - `mapping`: the mapping file (entities, tables, columns, converters) and its validation.
//! - `transform`: a pure function from a change event to row operations on the other side.
//! - `write`: idempotent, last-writer-wins upserts and deletes, one writer per SQL dialect.
//! - `batch`: groups messages per partition, keeping each key's order.
//! - `consume`: the pipeline: Kafka in, database out, offsets after commit, DLQ for poison.
//! - `dlq`: dead-letter records with Kafka Connect's header names.
//! - [`metrics`]: counters readable through the API.
//! - [`error`]: the library's error types.

pub mod config;
pub mod consume;
pub mod error;
pub mod metrics;

pub use config::{Direction, SyncConfig};
pub use consume::{Consumer, RunOptions};
pub use error::{ConfigError, Error};
pub use metrics::Counters;

/// The crate's version, as PHP's `DbSync\version()` reports it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

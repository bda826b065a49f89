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
//! - [`event`]: the normalized change event every message is decoded into.
//! - [`decode`](mod@decode): Debezium envelopes and the seed's event contract into [`ChangeEvent`]s.
//! - [`filter`]: recognizes echoes (changes written by the sync service itself).
//! - [`mapping`]: the mapping file (entities, tables, columns, converters) and its validation.
//! - [`transform`](mod@transform): a pure function from a change event to a row operation on the other side.
//! - [`row`]: the row operations and dialect-free values that transform produces and the writers apply.
//! - `write`: idempotent, last-writer-wins upserts and deletes, one writer per SQL dialect.
//! - `batch`: groups messages per partition, keeping each key's order.
//! - `consume`: the pipeline: Kafka in, database out, offsets after commit, DLQ for poison.
//! - `dlq`: dead-letter records with Kafka Connect's header names.
//! - [`replay`]: sends dead letters back to the topic they came from, once their cause is fixed.
//! - [`metrics`]: counters readable through the API.
//! - [`error`]: the library's error types and dead-letter reasons.
//! - `timestamp` (private): the timestamp spellings met on the wire.

pub mod config;
pub mod conflict;
pub mod consume;
pub mod decode;
pub mod dlq;
pub mod error;
pub mod event;
pub mod filter;
pub mod logging;
pub mod mapping;
pub mod metrics;
pub mod partition;
pub mod pipeline;
pub mod replay;
pub mod row;
#[cfg(test)]
mod testdata;
mod timestamp;
pub mod transform;
pub mod write;

pub use config::{Direction, SyncConfig};
pub use consume::{Consumer, RunOptions};
pub use decode::{decode, DecodeError, Decoded, TOMBSTONE_TABLE};
pub use error::{ConfigError, Error};
pub use event::{ChangeEvent, Operation, Side};
pub use filter::is_echo;
pub use mapping::{ConflictPolicy, Mapping, MappingError};
pub use metrics::Counters;
pub use replay::{replay_dead_letters, ReplayOptions, ReplaySummary};
pub use row::{RowOp, SqlValue};
pub use transform::{transform, TransformError};

/// The crate's version, as PHP's `DbSync\version()` reports it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

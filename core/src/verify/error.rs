//! Why a verify or repair could not run (exit code 2 in `dbsync:verify`). Differences are results, not errors.

use crate::error::ConfigError;
use crate::event::Side;
use crate::mapping::MappingError;
use thiserror::Error;

/// A verify or repair that could not run to its end.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// An option is unusable; the message names it.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The mapping file is unusable.
    #[error(transparent)]
    Mapping(#[from] MappingError),
    /// A database failed.
    #[error("{side} database: {context}: {source}")]
    Database {
        /// Which database.
        side: Side,
        /// What verify was doing.
        context: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// A row read from a database could not be normalized through the mapping (it could not be synced either).
    #[error("{side} {entity} {key}: cannot be normalized through the mapping: {reason}")]
    Unmappable {
        /// Where the row is.
        side: Side,
        /// Its entity.
        entity: String,
        /// Its key.
        key: i64,
        /// What the transform said.
        reason: String,
    },
    /// A repair write failed.
    #[error("repairing {side}: {source}")]
    Write {
        /// The side written.
        side: Side,
        /// The writer's error.
        #[source]
        source: crate::write::WriteError,
    },
    /// Kafka could not be asked for the consumers' offsets.
    #[error("kafka: {context}: {source}")]
    Kafka {
        /// What verify was doing.
        context: String,
        /// The client's error.
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// The async runtime could not start.
    #[error("could not start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// A reader task ended abnormally.
    #[error("a reader task failed: {0}")]
    Task(String),
}

impl VerifyError {
    /// A database error with its side and context.
    pub(crate) fn database(
        side: Side,
        context: impl Into<String>,
    ) -> impl FnOnce(sqlx::Error) -> Self {
        let context = context.into();
        move |source| VerifyError::Database {
            side,
            context,
            source,
        }
    }
}

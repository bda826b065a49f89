//! Error types of the library. Expected outcomes (an echo skipped, a duplicate event) are values, not errors.
//!
//! Each stage keeps its own enum next to its code ([`MappingError`], [`DecodeError`], [`TransformError`]);
//! [`Error`](enum@Error) wraps them for callers that handle any failure the same way.

use thiserror::Error;

pub use crate::decode::DecodeError;
pub use crate::mapping::MappingError;
pub use crate::transform::TransformError;

/// Dead-letter reasons (`dbsync.reason` header): stable snake_case words operators can filter on.
pub mod reason {
    /// The message cannot be read: not JSON, a required field missing or mistyped.
    pub const MALFORMED: &str = "malformed";
    /// The message is well-formed but the mapping cannot express it (unknown table, unmapped value).
    pub const UNMAPPABLE: &str = "unmappable";
    /// A child row's parent never arrived within the wait budget.
    pub const PARENT_MISSING: &str = "parent_missing";
}

/// A setting is missing or invalid; `field` names it as the user wrote it.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required setting is absent.
    #[error("config field `{field}` is required")]
    Missing { field: &'static str },
    /// A setting has a value that cannot be used.
    #[error("config field `{field}` is invalid: {reason}")]
    Invalid { field: String, reason: String },
}

/// Any failure the library reports.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The mapping file is unusable.
    #[error(transparent)]
    Mapping(#[from] MappingError),
    /// A message could not be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// An event could not be mapped to the other side.
    #[error(transparent)]
    Transform(#[from] TransformError),
    /// The target database failed or does not match the mapping.
    #[error(transparent)]
    Write(#[from] crate::write::WriteError),
    /// Kafka refused an operation.
    #[error("kafka: {context}: {source}")]
    Kafka {
        /// What the consumer was doing.
        context: String,
        /// The client's error.
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// The topic to consume does not exist.
    #[error("kafka topic `{topic}` does not exist on {brokers} (create it, e.g. with `make up`)")]
    TopicMissing {
        /// The topic.
        topic: String,
        /// The brokers asked.
        brokers: String,
    },
    /// A dead-letter replay received nothing for too long while a partition was short of its end offset.
    #[error(
        "dead-letter replay of `{topic}` stalled: nothing received for {waited_secs} s while partition \
         {partition} had letters below offset {end} (is the broker reachable?)"
    )]
    ReplayStalled {
        /// The dead-letter topic.
        topic: String,
        /// A partition not read to its end.
        partition: i32,
        /// The end offset it had when the replay started.
        end: i64,
        /// How long the replay waited.
        waited_secs: u64,
    },
    /// The async runtime could not start.
    #[error("could not start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

/// Longest input quoted in an error message: enough to recognize the value, never a whole payload in a log line.
const MAX_QUOTED_CHARS: usize = 64;

/// A JSON value as errors quote it, cut to [`MAX_QUOTED_CHARS`] characters.
pub(crate) fn quote(value: &serde_json::Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_short() {
        let long = serde_json::Value::String("é".repeat(500));
        assert_eq!(quote(&long).chars().count(), MAX_QUOTED_CHARS + 3);
        assert_eq!(quote(&serde_json::json!("ok")), "\"ok\"");
    }

    #[test]
    fn reasons_are_snake_case() {
        for reason in [
            reason::MALFORMED,
            reason::UNMAPPABLE,
            reason::PARENT_MISSING,
        ] {
            assert!(reason.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        }
    }
}

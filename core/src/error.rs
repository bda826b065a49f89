//! Error types of the library. Expected outcomes (an echo skipped, a duplicate event) are values, not errors.
//!
//! Each stage keeps its own enum next to its code ([`MappingError`], [`DecodeError`], [`TransformError`]);
//! [`Error`](enum@Error) wraps them for callers that handle any failure the same way.

use thiserror::Error;

pub use crate::decode::DecodeError;
pub use crate::mapping::MappingError;
pub use crate::transform::TransformError;

/// Why a message was dead-lettered: the `dbsync.reason` header, a stable snake_case word operators filter on
/// (`dbsync:replay-dlq --reason`). Variants may be added; the text of an existing one never changes, so dead letters
/// written by older versions still parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DeadLetterReason {
    /// `malformed`: the message cannot be read (not JSON, a required field missing or mistyped).
    Malformed,
    /// `unmappable`: the message is well-formed but the mapping cannot express it (unknown table, unmapped value).
    Unmappable,
    /// `parent_missing`: a child row's parent never arrived (README, "How it stays correct: Order is per row").
    ParentMissing,
    /// `key_out_of_range`: a primary or foreign key lies outside the sides' key ranges (README, "How it stays
    /// correct: Keys never collide"): zero or negative, or a new row whose key its own side does not mint (see
    /// `transform::keys`).
    KeyOutOfRange,
    /// `target_unavailable`: the target database could not be reached while writing.
    TargetUnavailable,
    /// `constraint_violation`: the target database refused the write with a constraint (unique, foreign key, check,
    /// not null).
    ConstraintViolation,
    /// `write_failed`: the target database rejected the write otherwise, or a bulk write touched other rows than
    /// planned.
    WriteFailed,
    /// `schema_mismatch`: the target's live schema does not match the mapping.
    SchemaMismatch,
}

impl DeadLetterReason {
    /// Every reason, in declaration order (for docs, validation messages and tests).
    pub const ALL: [DeadLetterReason; 8] = [
        DeadLetterReason::Malformed,
        DeadLetterReason::Unmappable,
        DeadLetterReason::ParentMissing,
        DeadLetterReason::KeyOutOfRange,
        DeadLetterReason::TargetUnavailable,
        DeadLetterReason::ConstraintViolation,
        DeadLetterReason::WriteFailed,
        DeadLetterReason::SchemaMismatch,
    ];

    /// The header text, e.g. `parent_missing`.
    pub const fn as_str(self) -> &'static str {
        match self {
            DeadLetterReason::Malformed => "malformed",
            DeadLetterReason::Unmappable => "unmappable",
            DeadLetterReason::ParentMissing => "parent_missing",
            DeadLetterReason::KeyOutOfRange => "key_out_of_range",
            DeadLetterReason::TargetUnavailable => "target_unavailable",
            DeadLetterReason::ConstraintViolation => "constraint_violation",
            DeadLetterReason::WriteFailed => "write_failed",
            DeadLetterReason::SchemaMismatch => "schema_mismatch",
        }
    }

    /// The reason whose header text is exactly `text`; the error lists the valid ones.
    pub fn parse(text: &str) -> Result<Self, UnknownReason> {
        Self::ALL
            .into_iter()
            .find(|reason| reason.as_str() == text)
            .ok_or_else(|| UnknownReason(text.to_string()))
    }
}

impl std::fmt::Display for DeadLetterReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for DeadLetterReason {
    type Err = UnknownReason;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// A text that is no [`DeadLetterReason`]; the message lists the valid ones.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "unknown dead-letter reason `{0}` (valid: {valid})",
    valid = DeadLetterReason::ALL.map(DeadLetterReason::as_str).join(", ")
)]
pub struct UnknownReason(pub String);

/// What the consumer does about a failed write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Every write would fail the same way (connection lost, authentication, read-only, disk full, too many
    /// connections): pause everything and retry without limit; dead-letter nothing.
    Unavailable,
    /// This transaction lost a race (deadlock, lock wait timeout, serialization failure): retry the batch with
    /// backoff and a budget.
    Transient,
    /// This event cannot succeed as it is (a constraint, a bad value): dead-letter it (constraint violations first
    /// wait like a child for its parent, see
    /// [`WriteError::is_row_conflict`](crate::write::WriteError::is_row_conflict)).
    Poison,
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
    /// The Kafka Connect REST API failed (the connector supervisor).
    #[error(transparent)]
    Connect(#[from] crate::supervise::ConnectError),
    /// `run` was called while another `run` of the same consumer is in progress.
    #[error("this consumer is already running (one `run` at a time per consumer)")]
    AlreadyRunning,
    /// The Prometheus endpoint (`metrics_addr`) could not start.
    #[error(transparent)]
    Metrics(#[from] crate::metrics::MetricsError),
    /// The async runtime could not start.
    #[error("could not start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// Decoding a received chunk of messages beside the writes failed (it panicked); nothing of it was committed.
    #[error("decoding received messages failed: {0}")]
    Decoding(#[source] tokio::task::JoinError),
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
        for reason in DeadLetterReason::ALL {
            let text = reason.as_str();
            assert!(
                !text.is_empty() && text.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{text}"
            );
            assert_eq!(reason.to_string(), text);
        }
    }

    #[test]
    fn reasons_parse_back_and_unknown_ones_list_the_valid() {
        for reason in DeadLetterReason::ALL {
            assert_eq!(reason.as_str().parse::<DeadLetterReason>(), Ok(reason));
        }
        assert_eq!(
            DeadLetterReason::parse("parent_missing"),
            Ok(DeadLetterReason::ParentMissing)
        );
        let error = DeadLetterReason::parse("Parent-Missing").unwrap_err();
        assert_eq!(error, UnknownReason("Parent-Missing".into()));
        let message = error.to_string();
        assert!(message.contains("`Parent-Missing`"), "{message}");
        for reason in DeadLetterReason::ALL {
            assert!(message.contains(reason.as_str()), "{message}");
        }
    }
}

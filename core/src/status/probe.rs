//! One source of numbers as the report shows it: either its figures, or why it could not be read. A failed probe
//! makes the whole status "unreachable" (exit code 2), whatever the other sources say.

use crate::event::Side;
use crate::supervise::ConnectError;
use rdkafka::error::KafkaError;
use serde::Serialize;
use std::future::Future;
use std::time::Duration;

/// Why one source of numbers could not be read. Messages never carry a password: DSNs are not quoted and the
/// Connect URL is shown without user info.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// Kafka refused or did not answer.
    #[error("kafka: {context}: {source}")]
    Kafka {
        /// What the probe was doing.
        context: String,
        /// The client's error.
        #[source]
        source: KafkaError,
    },
    /// The topic is unknown to the broker.
    #[error("kafka topic `{topic}` does not exist")]
    TopicMissing {
        /// The topic.
        topic: String,
    },
    /// A database refused or did not answer.
    #[error("{side} database: {context}: {source}")]
    Database {
        /// Which database.
        side: Side,
        /// What the probe was doing.
        context: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// Kafka Connect's REST API failed.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// No answer in time.
    #[error("{what}: no answer within {ms} ms")]
    Timeout {
        /// What the probe was waiting for.
        what: String,
        /// The limit.
        ms: u64,
    },
    /// The failure of an earlier step (the connection), repeated for each figure it left unread.
    #[error("{0}")]
    Same(String),
    /// The probe's worker thread ended without an answer.
    #[error("{what}: the probe stopped: {reason}")]
    Stopped {
        /// What the probe was doing.
        what: String,
        /// Why.
        reason: String,
    },
}

impl ProbeError {
    /// A Kafka error with its context, for `map_err`.
    pub(crate) fn kafka(context: impl Into<String>) -> impl FnOnce(KafkaError) -> Self {
        let context = context.into();
        move |source| ProbeError::Kafka { context, source }
    }

    /// A database error with its side and context, for `map_err`.
    pub(crate) fn database(
        side: Side,
        context: impl Into<String>,
    ) -> impl FnOnce(sqlx::Error) -> Self {
        let context = context.into();
        move |source| ProbeError::Database {
            side,
            context,
            source,
        }
    }
}

/// One source's outcome: `{"reachable": true, "error": null, ...figures}` or `{"reachable": false, "error": "..."}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Probe<T> {
    /// Whether the source answered.
    pub reachable: bool,
    /// Why it could not be read.
    pub error: Option<String>,
    /// Its figures, when it answered.
    #[serde(flatten)]
    pub value: Option<T>,
}

impl<T> Probe<T> {
    /// The figures, or the failure's message.
    pub fn of(result: Result<T, ProbeError>) -> Self {
        match result {
            Ok(value) => Probe {
                reachable: true,
                error: None,
                value: Some(value),
            },
            Err(error) => Probe {
                reachable: false,
                error: Some(error.to_string()),
                value: None,
            },
        }
    }
}

/// Runs a blocking client call (rdkafka, ureq) on the runtime's blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    what: &str,
    work: impl FnOnce() -> Result<T, ProbeError> + Send + 'static,
) -> Result<T, ProbeError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ProbeError::Stopped {
            what: what.to_string(),
            reason: e.to_string(),
        })?
}

/// Bounds an async database call by `limit`.
pub(crate) async fn within<T>(
    what: &str,
    limit: Duration,
    work: impl Future<Output = Result<T, ProbeError>>,
) -> Result<T, ProbeError> {
    tokio::time::timeout(limit, work)
        .await
        .map_err(|_| ProbeError::Timeout {
            what: what.to_string(),
            ms: u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
        })?
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Serialize)]
    struct Figures {
        lag: i64,
    }

    #[test]
    fn a_probe_shows_its_figures_or_its_error() {
        let ok = Probe::of(Ok(Figures { lag: 3 }));
        assert_eq!(
            serde_json::to_value(ok).unwrap(),
            json!({"reachable": true, "error": null, "lag": 3})
        );
        let failed: Probe<Figures> = Probe::of(Err(ProbeError::TopicMissing {
            topic: "legacy.events".into(),
        }));
        assert_eq!(
            serde_json::to_value(failed).unwrap(),
            json!({"reachable": false, "error": "kafka topic `legacy.events` does not exist"})
        );
    }
}

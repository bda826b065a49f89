//! Dead letters (README, "How it stays correct: Poison does not stop the line"): the original message, unchanged, on
//! the dead-letter topic with headers named as Kafka Connect names them plus dbsync's own, so operators' tools can
//! read why and where from.

use crate::error::DeadLetterReason;
use crate::kafka::{self, KafkaProperties};
use chrono::{DateTime, SecondsFormat, Utc};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::time::Duration;
use thiserror::Error;

/// Why and where a message failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Why: written as the `dbsync.reason` header ([`DeadLetterReason::as_str`]).
    pub reason: DeadLetterReason,
    /// The error's type, e.g. `dbsync_core::decode::DecodeError`.
    pub class_name: &'static str,
    /// The error message (no payload values beyond what the error itself names).
    pub message: String,
    /// Pipeline stage: `decode`, `transform` or `write`.
    pub stage: &'static str,
    /// Attempts made, 1 for errors that are not retried.
    pub attempts: u32,
    /// When the first attempt failed.
    pub first_failure: DateTime<Utc>,
    /// When the last attempt failed.
    pub last_failure: DateTime<Utc>,
}

/// Where the message came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin<'a> {
    /// Source topic.
    pub topic: &'a str,
    /// Source partition.
    pub partition: i32,
    /// Source offset.
    pub offset: i64,
}

/// A dead letter could not be written.
#[derive(Debug, Error)]
#[error("could not write to dead-letter topic `{topic}`: {source}")]
pub struct DlqError {
    topic: String,
    #[source]
    source: rdkafka::error::KafkaError,
}

/// Headers of a dead letter, in order.
pub fn headers(
    origin: Origin<'_>,
    failure: &Failure,
    consumer: &str,
) -> Vec<(&'static str, String)> {
    let time = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
    vec![
        ("__connect.errors.topic", origin.topic.to_string()),
        ("__connect.errors.partition", origin.partition.to_string()),
        ("__connect.errors.offset", origin.offset.to_string()),
        ("__connect.errors.connector.name", consumer.to_string()),
        ("__connect.errors.stage", failure.stage.to_string()),
        (
            "__connect.errors.exception.class.name",
            failure.class_name.to_string(),
        ),
        (
            "__connect.errors.exception.message",
            failure.message.clone(),
        ),
        ("dbsync.reason", failure.reason.to_string()),
        ("dbsync.attempts", failure.attempts.to_string()),
        ("dbsync.first_failure_at", time(failure.first_failure)),
        ("dbsync.last_failure_at", time(failure.last_failure)),
    ]
}

/// A producer for the dead-letter topic.
pub struct DeadLetters {
    producer: FutureProducer,
    topic: String,
    consumer: String,
}

impl DeadLetters {
    /// A producer with idempotence on, so a retried send does not duplicate a dead letter.
    pub fn new(
        brokers: &str,
        properties: &KafkaProperties,
        topic: &str,
        consumer: &str,
        instance: &str,
    ) -> Result<Self, rdkafka::error::KafkaError> {
        let producer =
            kafka::client_config(brokers, properties, &kafka::client_id("dlq", instance))
                .set("enable.idempotence", "true")
                .set("message.timeout.ms", "30000")
                .create()?;
        Ok(DeadLetters {
            producer,
            topic: topic.to_string(),
            consumer: consumer.to_string(),
        })
    }

    /// Sends the original key and value with the failure headers and waits for the broker's acknowledgement
    /// (the source offset is committed only after this returns Ok).
    pub async fn send(
        &self,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        origin: Origin<'_>,
        failure: &Failure,
    ) -> Result<(), DlqError> {
        let mut owned = OwnedHeaders::new();
        for (name, text) in headers(origin, failure, &self.consumer) {
            owned = owned.insert(Header {
                key: name,
                value: Some(text.as_bytes()),
            });
        }
        let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(&self.topic).headers(owned);
        if let Some(key) = key {
            record = record.key(key);
        }
        if let Some(value) = value {
            record = record.payload(value);
        }
        self.producer
            .send(record, Duration::from_secs(30))
            .await
            .map(|_| ())
            .map_err(|(source, _)| DlqError {
                topic: self.topic.clone(),
                source,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_speak_kafka_connects_dialect_plus_ours() {
        let t = DateTime::parse_from_rfc3339("2026-11-25T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let failure = Failure {
            reason: DeadLetterReason::Malformed,
            class_name: "dbsync_core::decode::DecodeError",
            message: "not JSON".into(),
            stage: "decode",
            attempts: 1,
            first_failure: t,
            last_failure: t,
        };
        let origin = Origin {
            topic: "legacy.events",
            partition: 2,
            offset: 41,
        };
        let headers = headers(origin, &failure, "dbsync-legacy-to-revamp");
        let get = |k: &str| {
            headers
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("__connect.errors.topic"), Some("legacy.events"));
        assert_eq!(get("__connect.errors.partition"), Some("2"));
        assert_eq!(get("__connect.errors.offset"), Some("41"));
        assert_eq!(
            get("__connect.errors.exception.class.name"),
            Some("dbsync_core::decode::DecodeError")
        );
        assert_eq!(get("__connect.errors.exception.message"), Some("not JSON"));
        assert_eq!(get("dbsync.reason"), Some("malformed"));
        assert_eq!(get("dbsync.attempts"), Some("1"));
        assert_eq!(
            get("dbsync.first_failure_at"),
            Some("2026-11-25T10:00:00.000Z")
        );
    }
}

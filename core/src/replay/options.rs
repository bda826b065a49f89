//! What one replay reads and where it may send, built from a JSON object (what PHP passes as an array) with
//! errors naming the field.

use super::NO_REASON;
use crate::config::{from_json, invalid, require_set, DEFAULT_DLQ_TOPIC};
use crate::error::{ConfigError, DeadLetterReason};
use crate::kafka::KafkaProperties;
use serde::Deserialize;

/// Default consumer group of the replay: the bridge passes `<group_prefix>-dlq-replay`, this is that for `dbsync`.
pub const DEFAULT_GROUP_ID: &str = "dbsync-dlq-replay";

/// What one replay reads and where it may send.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayOptions {
    /// Kafka bootstrap servers, e.g. `127.0.0.1:9092`.
    pub brokers: String,
    /// The dead-letter topic to read.
    #[serde(default = "default_dlq_topic")]
    pub dlq_topic: String,
    /// The replay's consumer group (its committed offsets say which letters were replayed already).
    #[serde(default = "default_group_id")]
    pub group_id: String,
    /// Only letters whose `dbsync.reason` is one of these (empty: all): each a [`DeadLetterReason`]'s text, or
    /// [`NO_REASON`] for letters without one.
    #[serde(default)]
    pub reasons: Vec<String>,
    /// Count only: produce nothing, commit nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Stop after reading this many letters.
    #[serde(default)]
    pub max_messages: Option<u64>,
    /// Pass-through librdkafka properties (TLS, SASL, ...), as for the consumers.
    #[serde(default)]
    pub kafka_properties: KafkaProperties,
}

fn default_dlq_topic() -> String {
    DEFAULT_DLQ_TOPIC.to_string()
}
fn default_group_id() -> String {
    DEFAULT_GROUP_ID.to_string()
}

impl ReplayOptions {
    /// Every default, for `brokers`.
    pub fn new(brokers: impl Into<String>) -> Self {
        ReplayOptions {
            brokers: brokers.into(),
            dlq_topic: default_dlq_topic(),
            group_id: default_group_id(),
            reasons: Vec::new(),
            dry_run: false,
            max_messages: None,
            kafka_properties: KafkaProperties::default(),
        }
    }

    /// Builds and validates options from a JSON object (what PHP passes as an array); errors name the field.
    pub fn from_json(value: serde_json::Value) -> Result<Self, ConfigError> {
        let options: ReplayOptions = from_json(value)?;
        options.validate()?;
        Ok(options)
    }

    /// Checks what serde cannot: empty names, and reasons that are neither a [`DeadLetterReason`] nor
    /// [`NO_REASON`].
    pub fn validate(&self) -> Result<(), ConfigError> {
        require_set(&[
            ("brokers", self.brokers.as_str()),
            ("dlq_topic", self.dlq_topic.as_str()),
            ("group_id", self.group_id.as_str()),
        ])?;
        self.kafka_properties.validate()?;
        for reason in &self.reasons {
            let reason = reason.trim();
            if reason.is_empty() {
                return Err(invalid("reasons", "must not contain an empty reason"));
            }
            if reason != NO_REASON {
                if let Err(unknown) = DeadLetterReason::parse(reason) {
                    let message = format!("{unknown}, or `{NO_REASON}` for letters without one");
                    return Err(invalid("reasons", &message));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn options_default_everything_but_the_brokers() {
        let options = ReplayOptions::from_json(json!({"brokers": "127.0.0.1:9092"})).unwrap();
        assert_eq!(options.dlq_topic, "sync.dlq");
        assert_eq!(options.group_id, "dbsync-dlq-replay");
        assert!(options.reasons.is_empty() && !options.dry_run);
        assert_eq!(options.max_messages, None);
    }

    #[test]
    fn reasons_are_checked_against_the_core_list() {
        let all: Vec<&str> = DeadLetterReason::ALL.map(DeadLetterReason::as_str).to_vec();
        let mut given = json!({"brokers": "b", "reasons": all});
        given["reasons"]
            .as_array_mut()
            .unwrap()
            .extend([json!(NO_REASON), json!(" parent_missing ")]);
        assert_eq!(ReplayOptions::from_json(given).unwrap().reasons.len(), 10);
        match ReplayOptions::from_json(json!({"brokers": "b", "reasons": ["parent_mising"]})) {
            Err(ConfigError::Invalid { field, reason }) => {
                assert_eq!(field, "reasons");
                for valid in DeadLetterReason::ALL.map(DeadLetterReason::as_str) {
                    assert!(reason.contains(valid), "{reason}");
                }
                assert!(
                    reason.contains("`parent_mising`") && reason.contains(NO_REASON),
                    "{reason}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn option_errors_name_the_field() {
        let field = |value| match ReplayOptions::from_json(value).unwrap_err() {
            ConfigError::Missing { field } => field.to_string(),
            ConfigError::Invalid { field, .. } => field,
        };
        assert_eq!(field(json!({})), "brokers");
        assert_eq!(field(json!({"brokers": "b", "group_id": " "})), "group_id");
        assert_eq!(
            field(json!({"brokers": "b", "reasons": ["malformed", ""]})),
            "reasons"
        );
        assert_eq!(
            field(json!({"brokers": "b", "reasons": ["parent-missing"]})),
            "reasons"
        );
        assert_eq!(
            field(json!({"brokers": "b", "max_messages": -1})),
            "max_messages"
        );
        assert_eq!(field(json!({"brokers": "b", "dryrun": true})), "dryrun");
    }
}

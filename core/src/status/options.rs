//! What `dbsync:status` looks at and its thresholds, built from a JSON object (what PHP passes as an array) with
//! errors naming the field. Every field but the brokers and the two DSNs has a default.

use crate::config::DEFAULT_DLQ_TOPIC;
use crate::config::{from_json, in_range, invalid, require_set, CONFLICT_WINDOW_MS_RANGE};
use crate::error::ConfigError;
use crate::kafka::KafkaProperties;
use crate::supervise::DEFAULT_CONNECT_URL;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// The replication slot the PostgreSQL connector reads (`slot.name` in debezium/postgres-connector.json).
pub const DEFAULT_REPLICATION_SLOT: &str = "dbsync_legacy";
/// Consumer-group lag per direction above which the sync counts as degraded: about a second of the consumers'
/// batched throughput on a small machine, so a healthy system under load stays below it.
pub const DEFAULT_MAX_LAG: u64 = 1_000;
/// Longest wait for one answer from Kafka, a database or Kafka Connect.
pub const DEFAULT_TIMEOUT_MS: u64 = 5_000;
/// Accepted `timeout_ms`: 100 ms to one minute.
const TIMEOUT_MS_RANGE: std::ops::RangeInclusive<u64> = 100..=60_000;

/// What `dbsync:status` looks at and its thresholds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusOptions {
    /// Kafka bootstrap servers, e.g. `127.0.0.1:9092`.
    pub brokers: String,
    /// Pass-through librdkafka properties (TLS, SASL), as for the consumers.
    #[serde(default)]
    pub kafka_properties: KafkaProperties,
    /// The legacy side's change topic.
    #[serde(default = "crate::defaults::legacy_topic")]
    pub legacy_topic: String,
    /// The revamp side's change topic.
    #[serde(default = "crate::defaults::revamp_topic")]
    pub revamp_topic: String,
    /// The dead-letter topic.
    #[serde(default = "default_dlq_topic")]
    pub dlq_topic: String,
    /// Consumer groups are `<prefix>-legacy-to-revamp`, `<prefix>-revamp-to-legacy`, `<prefix>-dlq-replay`.
    #[serde(default = "crate::defaults::group_prefix")]
    pub group_prefix: String,
    /// The legacy (PostgreSQL) database: its ledger, replication slot and clock.
    pub legacy_dsn: String,
    /// The revamp (MySQL/MariaDB) database: its ledger and clock.
    pub revamp_dsn: String,
    /// Kafka Connect's REST API, where the Debezium connectors run.
    #[serde(default = "default_connect_url")]
    pub connect_url: String,
    /// The PostgreSQL connector's replication slot.
    #[serde(default = "crate::defaults::replication_slot")]
    pub replication_slot: String,
    /// Clock skew above this is warned about: last-writer-wins compares the two servers' clocks.
    #[serde(default = "crate::defaults::conflict_window_ms")]
    pub conflict_window_ms: u64,
    /// Lag (messages, per direction) above which the sync counts as degraded.
    #[serde(default = "default_max_lag")]
    pub max_lag: u64,
    /// Count only dead letters written at or after this time (RFC 3339, e.g. `2026-05-01T12:00:00Z`); unset: every
    /// letter the replay group has not replayed yet.
    #[serde(default)]
    pub dlq_since: Option<String>,
    /// Longest wait for one answer from Kafka, a database or Kafka Connect.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_dlq_topic() -> String {
    DEFAULT_DLQ_TOPIC.to_string()
}
fn default_connect_url() -> String {
    DEFAULT_CONNECT_URL.to_string()
}
fn default_max_lag() -> u64 {
    DEFAULT_MAX_LAG
}
fn default_timeout_ms() -> u64 {
    DEFAULT_TIMEOUT_MS
}

impl StatusOptions {
    /// Builds and validates options from a JSON object; errors name the field.
    pub fn from_json(value: serde_json::Value) -> Result<Self, ConfigError> {
        let options: StatusOptions = from_json(value)?;
        options.validate()?;
        Ok(options)
    }

    /// Checks what serde cannot: empty names, ranges, the `dlq_since` time.
    pub fn validate(&self) -> Result<(), ConfigError> {
        require_set(&[
            ("brokers", self.brokers.as_str()),
            ("legacy_topic", self.legacy_topic.as_str()),
            ("revamp_topic", self.revamp_topic.as_str()),
            ("dlq_topic", self.dlq_topic.as_str()),
            ("group_prefix", self.group_prefix.as_str()),
            ("legacy_dsn", self.legacy_dsn.as_str()),
            ("revamp_dsn", self.revamp_dsn.as_str()),
            ("connect_url", self.connect_url.as_str()),
            ("replication_slot", self.replication_slot.as_str()),
        ])?;
        self.kafka_properties.validate()?;
        in_range(
            "conflict_window_ms",
            self.conflict_window_ms,
            CONFLICT_WINDOW_MS_RANGE,
        )?;
        in_range("timeout_ms", self.timeout_ms, TIMEOUT_MS_RANGE)?;
        self.dlq_since()?;
        Ok(())
    }

    /// `dlq_since` as an instant.
    pub fn dlq_since(&self) -> Result<Option<DateTime<Utc>>, ConfigError> {
        self.dlq_since
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|text| {
                DateTime::parse_from_rfc3339(text)
                    .map(|at| at.with_timezone(&Utc))
                    .map_err(|e| {
                        invalid(
                            "dlq_since",
                            &format!("must be an RFC 3339 time such as 2026-05-01T12:00:00Z ({e})"),
                        )
                    })
            })
            .transpose()
    }

    /// The consumer group of one direction's consumers, e.g. `dbsync-legacy-to-revamp`.
    pub fn group(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.group_prefix.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> serde_json::Value {
        json!({
            "brokers": "127.0.0.1:9092",
            "legacy_dsn": "postgres://u:p@127.0.0.1/legacy_db",
            "revamp_dsn": "mysql://u:p@127.0.0.1/revamp_db",
        })
    }

    #[test]
    fn defaults_fill_everything_but_brokers_and_dsns() {
        let options = StatusOptions::from_json(base()).unwrap();
        assert_eq!(options.legacy_topic, "legacy.events");
        assert_eq!(options.replication_slot, "dbsync_legacy");
        assert_eq!(options.max_lag, DEFAULT_MAX_LAG);
        assert_eq!(options.group("dlq-replay"), "dbsync-dlq-replay");
        assert!(options.dlq_since().unwrap().is_none());
    }

    #[test]
    fn errors_name_the_field() {
        let mut value = base();
        value["dlq_since"] = json!("yesterday");
        let error = StatusOptions::from_json(value).unwrap_err().to_string();
        assert!(error.contains("`dlq_since`"), "{error}");

        let mut value = base();
        value["timeout_ms"] = json!(0);
        let error = StatusOptions::from_json(value).unwrap_err().to_string();
        assert!(error.contains("`timeout_ms`"), "{error}");

        let error = StatusOptions::from_json(json!({"brokers": "b", "legacy_dsn": "x"}))
            .unwrap_err()
            .to_string();
        assert!(error.contains("revamp_dsn"), "{error}");
    }

    #[test]
    fn dlq_since_takes_rfc3339() {
        let mut value = base();
        value["dlq_since"] = json!("2026-05-01T12:00:00+02:00");
        let options = StatusOptions::from_json(value).unwrap();
        assert_eq!(
            options.dlq_since().unwrap().unwrap().to_rfc3339(),
            "2026-05-01T10:00:00+00:00"
        );
    }
}

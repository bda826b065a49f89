//! What `dbsync:verify` and `dbsync:repair` compare and how they confirm, built from a JSON object (what PHP passes
//! as an array) with errors naming the field. Only the two DSNs and the mapping file are required; without
//! `brokers` a difference is confirmed after `confirm_delay_ms` alone (no consumer offsets to wait for).

use crate::config::{from_json, in_range, invalid, require_set, CONFLICT_WINDOW_MS_RANGE};
use crate::error::ConfigError;
use crate::kafka::KafkaProperties;
use crate::mapping::{Entity, Mapping};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::ops::RangeInclusive;

/// Rows read per side and per chunk: big enough that a round trip costs little per row, small enough that memory
/// stays a few MiB whatever the table's size.
pub const DEFAULT_CHUNK_SIZE: u64 = 1_000;
/// Accepted `chunk_size`.
const CHUNK_SIZE_RANGE: RangeInclusive<u64> = 1..=100_000;
/// How long a difference must stay unchanged, and how old its newer copy must be, before it counts as drift:
/// covers the way from a commit to its Kafka topic (Debezium's poll and flush, and its lag under load), which the
/// consumers' committed offsets cannot see.
pub const DEFAULT_CONFIRM_DELAY_MS: u64 = 5_000;
/// Longest time spent confirming: waiting for the consumers' committed offsets and re-checking rows that keep
/// changing; what has not settled by then is reported as unsettled (a stopped consumer must not make verify hang).
pub const DEFAULT_CONFIRM_TIMEOUT_MS: u64 = 60_000;
const CONFIRM_MS_RANGE: RangeInclusive<u64> = 0..=3_600_000;
/// Most differences kept and reported (the counts stay exact): a wholly divergent table must not fill memory.
pub const DEFAULT_MAX_DIFFERENCES: u64 = 10_000;
const MAX_DIFFERENCES_RANGE: RangeInclusive<u64> = 1..=1_000_000;

/// What to compare and how.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyOptions {
    /// The legacy (PostgreSQL) database.
    pub legacy_dsn: String,
    /// The revamp (MySQL/MariaDB) database.
    pub revamp_dsn: String,
    /// The mapping file (the same the consumers use).
    pub mapping_path: String,
    /// Entities to compare, by mapping name; empty: all of them.
    #[serde(default)]
    pub entities: Vec<String>,
    /// Rows read per side and per chunk.
    #[serde(default = "default_chunk_size")]
    pub chunk_size: u64,
    /// Only rows whose `updated_at` (either side) is at or after this RFC 3339 time.
    #[serde(default)]
    pub since: Option<String>,
    /// Only keys from this one (inclusive).
    #[serde(default)]
    pub min_key: Option<i64>,
    /// Only keys up to this one (inclusive).
    #[serde(default)]
    pub max_key: Option<i64>,
    /// Kafka bootstrap servers, to wait for the consumers' committed offsets; unset: confirm by delay only.
    #[serde(default)]
    pub brokers: Option<String>,
    /// Pass-through librdkafka properties (TLS, SASL), as for the consumers.
    #[serde(default)]
    pub kafka_properties: KafkaProperties,
    /// The legacy side's change topic.
    #[serde(default = "crate::defaults::legacy_topic")]
    pub legacy_topic: String,
    /// The revamp side's change topic.
    #[serde(default = "crate::defaults::revamp_topic")]
    pub revamp_topic: String,
    /// Consumer groups are `<prefix>-legacy-to-revamp` and `<prefix>-revamp-to-legacy`.
    #[serde(default = "crate::defaults::group_prefix")]
    pub group_prefix: String,
    /// The legacy connector's replication slot: a difference is re-checked only after it confirmed the WAL position
    /// of the moment the difference was seen (the change is on Kafka); empty: not checked.
    #[serde(default = "crate::defaults::replication_slot")]
    pub replication_slot: String,
    /// How long a difference must stay unchanged (and its newer copy be old) to count as drift.
    #[serde(default = "default_confirm_delay_ms")]
    pub confirm_delay_ms: u64,
    /// Longest time spent confirming.
    #[serde(default = "default_confirm_timeout_ms")]
    pub confirm_timeout_ms: u64,
    /// For `legacy_wins` / `revamp_wins` entities (repair): how much newer the other side must be to win anyway.
    #[serde(default = "crate::defaults::conflict_window_ms")]
    pub conflict_window_ms: u64,
    /// Most differences kept in the report.
    #[serde(default = "default_max_differences")]
    pub max_differences: u64,
    /// Repair only: report what would be written, write nothing.
    #[serde(default)]
    pub dry_run: bool,
}

fn default_chunk_size() -> u64 {
    DEFAULT_CHUNK_SIZE
}
fn default_confirm_delay_ms() -> u64 {
    DEFAULT_CONFIRM_DELAY_MS
}
fn default_confirm_timeout_ms() -> u64 {
    DEFAULT_CONFIRM_TIMEOUT_MS
}
fn default_max_differences() -> u64 {
    DEFAULT_MAX_DIFFERENCES
}

impl VerifyOptions {
    /// Builds and validates options from a JSON object; errors name the field.
    pub fn from_json(value: serde_json::Value) -> Result<Self, ConfigError> {
        let options: VerifyOptions = from_json(value)?;
        options.validate()?;
        Ok(options)
    }

    /// Checks what serde cannot: empty names, ranges, the `since` time.
    pub fn validate(&self) -> Result<(), ConfigError> {
        require_set(&[
            ("legacy_dsn", self.legacy_dsn.as_str()),
            ("revamp_dsn", self.revamp_dsn.as_str()),
            ("mapping_path", self.mapping_path.as_str()),
            ("legacy_topic", self.legacy_topic.as_str()),
            ("revamp_topic", self.revamp_topic.as_str()),
            ("group_prefix", self.group_prefix.as_str()),
        ])?;
        if !self.legacy_dsn.starts_with("postgres") {
            return Err(invalid("legacy_dsn", "must be a postgres:// DSN"));
        }
        if !self.revamp_dsn.starts_with("mysql") && !self.revamp_dsn.starts_with("mariadb") {
            return Err(invalid("revamp_dsn", "must be a mysql:// DSN"));
        }
        self.kafka_properties.validate()?;
        in_range("chunk_size", self.chunk_size, CHUNK_SIZE_RANGE)?;
        in_range("confirm_delay_ms", self.confirm_delay_ms, CONFIRM_MS_RANGE)?;
        in_range(
            "confirm_timeout_ms",
            self.confirm_timeout_ms,
            CONFIRM_MS_RANGE,
        )?;
        in_range(
            "conflict_window_ms",
            self.conflict_window_ms,
            CONFLICT_WINDOW_MS_RANGE,
        )?;
        in_range(
            "max_differences",
            self.max_differences,
            MAX_DIFFERENCES_RANGE,
        )?;
        let (low, high) = self.key_range();
        if low > high {
            return Err(invalid(
                "min_key",
                &format!("must not be above max_key ({low} > {high})"),
            ));
        }
        self.since()?;
        Ok(())
    }

    /// `since` as an instant.
    pub fn since(&self) -> Result<Option<DateTime<Utc>>, ConfigError> {
        self.since
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|text| {
                DateTime::parse_from_rfc3339(text)
                    .map(|at| at.with_timezone(&Utc))
                    .map_err(|e| {
                        invalid(
                            "since",
                            &format!("must be an RFC 3339 time such as 2026-05-01T12:00:00Z ({e})"),
                        )
                    })
            })
            .transpose()
    }

    /// The keys compared, both ends inclusive.
    pub fn key_range(&self) -> (i64, i64) {
        (
            self.min_key.unwrap_or(i64::MIN),
            self.max_key.unwrap_or(i64::MAX),
        )
    }

    /// The entities to compare, parents first; an unknown name is an error naming `entities`.
    pub fn selected<'m>(&self, mapping: &'m Mapping) -> Result<Vec<&'m Entity>, ConfigError> {
        for name in &self.entities {
            if mapping.entity(name).is_none() {
                let known: Vec<&str> = mapping.entities().iter().map(Entity::name).collect();
                return Err(invalid(
                    "entities",
                    &format!(
                        "`{name}` is not an entity of the mapping (known: {})",
                        known.join(", ")
                    ),
                ));
            }
        }
        Ok(mapping
            .topological_order()
            .into_iter()
            .filter(|e| self.entities.is_empty() || self.entities.iter().any(|n| n == e.name()))
            .collect())
    }

    /// The consumer group of one direction, e.g. `dbsync-legacy-to-revamp`.
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
            "legacy_dsn": "postgres://u:p@127.0.0.1/legacy_db",
            "revamp_dsn": "mysql://u:p@127.0.0.1/revamp_db",
            "mapping_path": "core/mapping/default.toml",
        })
    }

    #[test]
    fn defaults_fill_everything_but_the_dsns_and_mapping() {
        let options = VerifyOptions::from_json(base()).unwrap();
        assert_eq!(options.chunk_size, DEFAULT_CHUNK_SIZE);
        assert_eq!(options.key_range(), (i64::MIN, i64::MAX));
        assert!(options.brokers.is_none());
        assert!(!options.dry_run);
        assert_eq!(options.group("legacy-to-revamp"), "dbsync-legacy-to-revamp");
    }

    #[test]
    fn errors_name_the_field() {
        for (field, value) in [
            ("chunk_size", json!(0)),
            ("since", json!("yesterday")),
            ("confirm_delay_ms", json!(4_000_000)),
            ("legacy_dsn", json!("mysql://x")),
        ] {
            let mut options = base();
            options[field] = value;
            let error = VerifyOptions::from_json(options).unwrap_err().to_string();
            assert!(error.contains(&format!("`{field}`")), "{error}");
        }
        let mut options = base();
        options["min_key"] = json!(10);
        options["max_key"] = json!(5);
        let error = VerifyOptions::from_json(options).unwrap_err().to_string();
        assert!(error.contains("`min_key`"), "{error}");
    }

    #[test]
    fn unknown_entities_are_refused_and_order_is_parents_first() {
        let mapping = Mapping::from_toml_str(include_str!("../../mapping/default.toml")).unwrap();
        let mut options = VerifyOptions::from_json(base()).unwrap();
        options.entities = vec!["like".into(), "user".into()];
        let names: Vec<&str> = options
            .selected(&mapping)
            .unwrap()
            .iter()
            .map(|e| e.name())
            .collect();
        assert_eq!(names, ["user", "like"]);
        options.entities = vec!["users".into()];
        let error = options.selected(&mapping).unwrap_err().to_string();
        assert!(
            error.contains("`users`") && error.contains("user, "),
            "{error}"
        );
    }
}

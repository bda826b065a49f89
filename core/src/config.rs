//! The consumer's settings. Built from a JSON object (what PHP passes as an array) with errors naming the field.

use crate::error::ConfigError;
use crate::kafka::KafkaProperties;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::ops::RangeInclusive;
use std::path::PathBuf;

/// Default batch size: a 500-row transaction reaches tens of thousands of rows/s where one per event is fsync-bound.
/// 1,000 drains faster but takes the consumer's peak RSS past its 64 MB budget (README, "Benchmarks").
pub const DEFAULT_BATCH_SIZE: usize = 500;
/// Default linger: how long a partial batch waits for more messages before it is applied.
pub const DEFAULT_BATCH_LINGER_MS: u64 = 50;
/// Default retry budget for transient failures before a message is dead-lettered.
pub const DEFAULT_MAX_RETRIES: u32 = 5;
/// Default first backoff; it doubles per attempt.
pub const DEFAULT_RETRY_BACKOFF_MS: u64 = 200;
/// Default time a child waits for its parent row before it is dead-lettered as `parent_missing`.
pub const DEFAULT_PARENT_WAIT_MS: u64 = 30_000;
/// Default age at which ledger rows and tombstones are pruned: twice the stack's topic retention (7 days), so a
/// replay from the oldest retained offset still finds every ledger row.
pub const DEFAULT_LEDGER_RETENTION_HOURS: u64 = 336;
/// Default conflict window for `legacy_wins` / `revamp_wins` entities.
pub const DEFAULT_CONFLICT_WINDOW_MS: u64 = 1_000;
/// Default dead-letter topic.
pub const DEFAULT_DLQ_TOPIC: &str = "sync.dlq";

/// Accepted `batch_size`: at least one event per transaction; above 100,000 a transaction holds too many locks and
/// too much undo for no further gain.
pub const BATCH_SIZE_RANGE: RangeInclusive<u64> = 1..=100_000;
/// Accepted `batch_linger_ms`: 0 (apply at once) to one minute.
pub const BATCH_LINGER_MS_RANGE: RangeInclusive<u64> = 0..=60_000;
/// Accepted `max_retries`: at least one retry, at most 1,000 (with the backoff cap, hours of retrying).
pub const MAX_RETRIES_RANGE: RangeInclusive<u64> = 1..=1_000;
/// Accepted `retry_backoff_ms`: 1 ms to one minute (it doubles per attempt, up to the consumer's cap).
pub const RETRY_BACKOFF_MS_RANGE: RangeInclusive<u64> = 1..=60_000;
/// Accepted `parent_wait_ms`: 0 (dead-letter at once) to 7 days, the stack's topic retention.
pub const PARENT_WAIT_MS_RANGE: RangeInclusive<u64> = 0..=7 * 24 * 3_600_000;
/// Accepted `ledger_retention_hours`: one hour to ten years (keep it above the topics' retention).
pub const LEDGER_RETENTION_HOURS_RANGE: RangeInclusive<u64> = 1..=10 * 365 * 24;
/// Accepted `conflict_window_ms`: 0 to one day.
pub const CONFLICT_WINDOW_MS_RANGE: RangeInclusive<u64> = 0..=86_400_000;

/// Which way a consumer moves changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// `legacy.events` into the revamp (MySQL) database.
    LegacyToRevamp,
    /// `revamp.events` into the legacy (PostgreSQL) database.
    RevampToLegacy,
}

/// Everything one consumer needs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncConfig {
    /// Kafka bootstrap servers, e.g. `127.0.0.1:9092`.
    pub brokers: String,
    /// Consumer group id.
    pub group_id: String,
    /// Topic to consume (`legacy.events` or `revamp.events`).
    pub topic: String,
    /// Dead-letter topic.
    #[serde(default = "default_dlq_topic")]
    pub dlq_topic: String,
    /// Which way this consumer moves changes.
    pub direction: Direction,
    /// Target database URL: `mysql://...` for legacy_to_revamp, `postgres://...` for revamp_to_legacy.
    pub target_dsn: String,
    /// Path of the mapping file (TOML).
    pub mapping_path: PathBuf,
    /// Maximum events per database transaction ([`BATCH_SIZE_RANGE`]).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// How long a partial batch waits for more messages, in milliseconds ([`BATCH_LINGER_MS_RANGE`]).
    #[serde(default = "default_batch_linger_ms")]
    pub batch_linger_ms: u64,
    /// Attempts for transient failures before dead-lettering ([`MAX_RETRIES_RANGE`]).
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
    /// First retry backoff in milliseconds (doubles per attempt; [`RETRY_BACKOFF_MS_RANGE`]).
    #[serde(default = "default_retry_backoff_ms")]
    pub retry_backoff_ms: u64,
    /// How long a change waits for another row, in milliseconds, before it is dead-lettered: a child for its parent
    /// (`parent_missing`), or a row whose unique key is still held by a row whose delete or rename is on its way
    /// (`constraint_violation`). [`PARENT_WAIT_MS_RANGE`].
    #[serde(default = "default_parent_wait_ms")]
    pub parent_wait_ms: u64,
    /// Age in hours at which ledger rows and tombstones are pruned (keep it above the topics' retention;
    /// [`LEDGER_RETENTION_HOURS_RANGE`]).
    #[serde(default = "default_ledger_retention_hours")]
    pub ledger_retention_hours: u64,
    /// For `legacy_wins` / `revamp_wins` entities: how much newer (ms) the other side's edit must be to win anyway
    /// ([`CONFLICT_WINDOW_MS_RANGE`]).
    #[serde(default = "crate::defaults::conflict_window_ms")]
    pub conflict_window_ms: u64,
    /// Static group membership id (`group.instance.id`): a restarted process with the same id takes its partitions
    /// back at once. Unique per running process; default `<hostname>-<direction>-0` (see [`SyncConfig::instance_id`]).
    #[serde(default)]
    pub instance_id: Option<String>,
    /// Where to serve Prometheus metrics (`GET /metrics`), e.g. `127.0.0.1:9464`; unset, none are served
    /// (`DBSYNC_METRICS_ADDR`; README "Operating dbsync: Metrics").
    #[serde(default)]
    pub metrics_addr: Option<String>,
    /// Pass-through librdkafka properties for every Kafka client of this consumer (TLS, SASL, timeouts), e.g.
    /// `security.protocol=SASL_SSL`; the ones dbsync sets itself are refused ([`crate::kafka::RESERVED_PROPERTIES`]).
    #[serde(default)]
    pub kafka_properties: KafkaProperties,
}

fn default_dlq_topic() -> String {
    DEFAULT_DLQ_TOPIC.to_string()
}
fn default_batch_size() -> usize {
    DEFAULT_BATCH_SIZE
}
fn default_batch_linger_ms() -> u64 {
    DEFAULT_BATCH_LINGER_MS
}
fn default_max_retries() -> u32 {
    DEFAULT_MAX_RETRIES
}
fn default_retry_backoff_ms() -> u64 {
    DEFAULT_RETRY_BACKOFF_MS
}
fn default_parent_wait_ms() -> u64 {
    DEFAULT_PARENT_WAIT_MS
}
fn default_ledger_retention_hours() -> u64 {
    DEFAULT_LEDGER_RETENTION_HOURS
}

impl SyncConfig {
    /// The `group.instance.id` to use: the configured one, or `<hostname>-<direction>-0`. A second process of one
    /// direction on the same host must set its own (e.g. `-1`), or the broker fences one of them.
    pub fn instance_id(&self) -> String {
        if let Some(id) = self
            .instance_id
            .as_deref()
            .filter(|id| !id.trim().is_empty())
        {
            return id.to_string();
        }
        let host = gethostname::gethostname().to_string_lossy().into_owned();
        let direction = match self.direction {
            Direction::LegacyToRevamp => "legacy-to-revamp",
            Direction::RevampToLegacy => "revamp-to-legacy",
        };
        format!("{host}-{direction}-0")
    }

    /// Builds and validates a config from a JSON object; the error names the offending field.
    pub fn from_json(value: serde_json::Value) -> Result<Self, ConfigError> {
        let config: SyncConfig = from_json(value)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values serde cannot: empty strings, numbers outside their documented ranges (`*_RANGE`; a value
    /// outside would overflow a timer or a date, or make no sense), DSN scheme against direction.
    pub fn validate(&self) -> Result<(), ConfigError> {
        require_set(&[
            ("brokers", self.brokers.as_str()),
            ("group_id", self.group_id.as_str()),
            ("topic", self.topic.as_str()),
            ("dlq_topic", self.dlq_topic.as_str()),
        ])?;
        for (field, value, range) in [
            ("batch_size", self.batch_size as u64, BATCH_SIZE_RANGE),
            (
                "batch_linger_ms",
                self.batch_linger_ms,
                BATCH_LINGER_MS_RANGE,
            ),
            (
                "max_retries",
                u64::from(self.max_retries),
                MAX_RETRIES_RANGE,
            ),
            (
                "retry_backoff_ms",
                self.retry_backoff_ms,
                RETRY_BACKOFF_MS_RANGE,
            ),
            ("parent_wait_ms", self.parent_wait_ms, PARENT_WAIT_MS_RANGE),
            (
                "ledger_retention_hours",
                self.ledger_retention_hours,
                LEDGER_RETENTION_HOURS_RANGE,
            ),
            (
                "conflict_window_ms",
                self.conflict_window_ms,
                CONFLICT_WINDOW_MS_RANGE,
            ),
        ] {
            in_range(field, value, range)?;
        }
        self.kafka_properties.validate()?;
        let expected = match self.direction {
            Direction::LegacyToRevamp => "mysql://",
            Direction::RevampToLegacy => "postgres",
        };
        if !self.target_dsn.starts_with(expected) {
            return Err(invalid(
                "target_dsn",
                &format!(
                    "must start with `{expected}` for direction {:?}",
                    self.direction
                ),
            ));
        }
        if !self.mapping_path.is_file() {
            return Err(invalid(
                "mapping_path",
                &format!("no file at {}", self.mapping_path.display()),
            ));
        }
        self.metrics_socket()?;
        Ok(())
    }

    /// The parsed `metrics_addr`, if set.
    pub fn metrics_socket(&self) -> Result<Option<std::net::SocketAddr>, ConfigError> {
        let Some(addr) = self.metrics_addr.as_deref() else {
            return Ok(None);
        };
        addr.trim().parse().map(Some).map_err(|_| {
            invalid(
                "metrics_addr",
                &format!("`{addr}` is no host:port address (e.g. 127.0.0.1:9464)"),
            )
        })
    }
}

/// Deserializes a settings object (a PHP array as JSON); the error names the offending field.
pub(crate) fn from_json<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let reason = e.into_inner().to_string();
        // A missing or unknown field is reported at the object itself; serde names it in backticks.
        let field = if path == "." {
            reason.split('`').nth(1).unwrap_or("config").to_string()
        } else {
            path
        };
        ConfigError::Invalid { field, reason }
    })
}

/// `Ok` when every one of `fields` (name, value) holds more than blanks, else `Missing` naming the first that
/// does not.
pub(crate) fn require_set(fields: &[(&'static str, &str)]) -> Result<(), ConfigError> {
    match fields.iter().find(|(_, value)| value.trim().is_empty()) {
        Some((field, _)) => Err(ConfigError::Missing { field }),
        None => Ok(()),
    }
}

/// `Ok` when `value` lies in `range`, else an error naming `field` and the range.
pub(crate) fn in_range(
    field: &str,
    value: u64,
    range: RangeInclusive<u64>,
) -> Result<(), ConfigError> {
    if range.contains(&value) {
        return Ok(());
    }
    Err(invalid(
        field,
        &format!(
            "must be between {} and {}, got {value}",
            range.start(),
            range.end()
        ),
    ))
}

pub(crate) fn invalid(field: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        field: field.to_string(),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn base() -> Value {
        json!({
            "brokers": "127.0.0.1:9092",
            "group_id": "g",
            "topic": "legacy.events",
            "direction": "legacy_to_revamp",
            "target_dsn": "mysql://u:p@127.0.0.1/revamp_db",
            "mapping_path": concat!(env!("CARGO_MANIFEST_DIR"), "/mapping/default.toml"),
        })
    }

    fn with(field: &str, value: Value) -> Result<SyncConfig, ConfigError> {
        let mut config = base();
        config[field] = value;
        SyncConfig::from_json(config)
    }

    /// Every numeric field with its range.
    fn ranges() -> [(&'static str, RangeInclusive<u64>); 7] {
        [
            ("batch_size", BATCH_SIZE_RANGE),
            ("batch_linger_ms", BATCH_LINGER_MS_RANGE),
            ("max_retries", MAX_RETRIES_RANGE),
            ("retry_backoff_ms", RETRY_BACKOFF_MS_RANGE),
            ("parent_wait_ms", PARENT_WAIT_MS_RANGE),
            ("ledger_retention_hours", LEDGER_RETENTION_HOURS_RANGE),
            ("conflict_window_ms", CONFLICT_WINDOW_MS_RANGE),
        ]
    }

    #[test]
    fn the_defaults_lie_in_their_ranges() {
        let config = SyncConfig::from_json(base()).unwrap();
        assert_eq!(config.batch_size, DEFAULT_BATCH_SIZE);
        assert!(BATCH_SIZE_RANGE.contains(&(DEFAULT_BATCH_SIZE as u64)));
        assert!(BATCH_LINGER_MS_RANGE.contains(&DEFAULT_BATCH_LINGER_MS));
        assert!(MAX_RETRIES_RANGE.contains(&u64::from(DEFAULT_MAX_RETRIES)));
        assert!(RETRY_BACKOFF_MS_RANGE.contains(&DEFAULT_RETRY_BACKOFF_MS));
        assert!(PARENT_WAIT_MS_RANGE.contains(&DEFAULT_PARENT_WAIT_MS));
        assert!(LEDGER_RETENTION_HOURS_RANGE.contains(&DEFAULT_LEDGER_RETENTION_HOURS));
        assert!(CONFLICT_WINDOW_MS_RANGE.contains(&DEFAULT_CONFLICT_WINDOW_MS));
    }

    #[test]
    fn each_numeric_field_accepts_its_range_edges() {
        for (field, range) in ranges() {
            for value in [*range.start(), *range.end()] {
                assert!(with(field, json!(value)).is_ok(), "{field} = {value}");
            }
        }
    }

    #[test]
    fn each_numeric_field_refuses_values_outside_its_range_naming_the_field() {
        for (field, range) in ranges() {
            let mut outside = vec![range.end() + 1];
            if *range.start() > 0 {
                outside.push(range.start() - 1);
            }
            for value in outside {
                let error = with(field, json!(value)).unwrap_err().to_string();
                assert_eq!(
                    error,
                    format!(
                        "config field `{field}` is invalid: must be between {} and {}, got {value}",
                        range.start(),
                        range.end()
                    )
                );
            }
        }
    }

    #[test]
    fn values_that_would_overflow_a_timer_are_refused() {
        // A backoff of u64::MAX ms overflowed `Instant + Duration` (a panic, and across the PHP boundary an abort).
        for field in [
            "retry_backoff_ms",
            "parent_wait_ms",
            "conflict_window_ms",
            "ledger_retention_hours",
        ] {
            let error = with(field, json!(u64::MAX)).unwrap_err().to_string();
            assert!(error.contains(&format!("`{field}`")), "{error}");
        }
        let error = with("max_retries", json!(u32::MAX))
            .unwrap_err()
            .to_string();
        assert!(error.contains("`max_retries`"), "{error}");
    }

    #[test]
    fn metrics_addr_must_be_a_socket_address() {
        let config = with("metrics_addr", json!("127.0.0.1:9464")).unwrap();
        assert_eq!(
            config.metrics_socket().unwrap(),
            Some(([127, 0, 0, 1], 9464).into())
        );
        assert_eq!(
            SyncConfig::from_json(base())
                .unwrap()
                .metrics_socket()
                .unwrap(),
            None
        );
        let error = with("metrics_addr", json!("localhost"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("`metrics_addr`"), "{error}");
    }

    #[test]
    fn negative_and_fractional_numbers_name_the_field() {
        for (field, value) in [("batch_size", json!(-1)), ("retry_backoff_ms", json!(1.5))] {
            let error = with(field, value).unwrap_err().to_string();
            assert!(error.contains(&format!("`{field}`")), "{error}");
        }
    }
}

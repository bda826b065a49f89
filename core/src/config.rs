//! The consumer's settings. Built from a JSON object (what PHP passes as an array) with errors naming the field.

use crate::error::ConfigError;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::path::PathBuf;

/// Default batch size: a 500-row transaction reaches tens of thousands of rows/s where one per event is fsync-bound.
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
    /// Maximum events per database transaction.
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// How long a partial batch waits for more messages, in milliseconds.
    #[serde(default = "default_batch_linger_ms")]
    pub batch_linger_ms: u64,
    /// Attempts for transient failures before dead-lettering.
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
    /// First retry backoff in milliseconds (doubles per attempt).
    #[serde(default = "default_retry_backoff_ms")]
    pub retry_backoff_ms: u64,
    /// How long a change waits for another row, in milliseconds, before it is dead-lettered: a child for its parent
    /// (`parent_missing`), or a row whose unique key is still held by a row whose delete or rename is on its way
    /// (`constraint_violation`).
    #[serde(default = "default_parent_wait_ms")]
    pub parent_wait_ms: u64,
    /// Age in hours at which ledger rows and tombstones are pruned (keep it above the topics' retention).
    #[serde(default = "default_ledger_retention_hours")]
    pub ledger_retention_hours: u64,
    /// For `legacy_wins` / `revamp_wins` entities: how much newer (ms) the other side's edit must be to win anyway.
    #[serde(default = "default_conflict_window_ms")]
    pub conflict_window_ms: u64,
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
fn default_conflict_window_ms() -> u64 {
    DEFAULT_CONFLICT_WINDOW_MS
}

impl SyncConfig {
    /// Builds and validates a config from a JSON object; the error names the offending field.
    pub fn from_json(value: serde_json::Value) -> Result<Self, ConfigError> {
        let config: SyncConfig = from_json(value)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values serde cannot: empty strings, zero sizes, DSN scheme against direction.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (field, value) in [
            ("brokers", &self.brokers),
            ("group_id", &self.group_id),
            ("topic", &self.topic),
            ("dlq_topic", &self.dlq_topic),
        ] {
            if value.trim().is_empty() {
                return Err(ConfigError::Missing { field });
            }
        }
        if self.batch_size == 0 {
            return Err(invalid("batch_size", "must be at least 1"));
        }
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
        Ok(())
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

pub(crate) fn invalid(field: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        field: field.to_string(),
        reason: reason.to_string(),
    }
}

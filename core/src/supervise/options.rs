//! The supervisor's settings: where Kafka Connect listens and how restarts are paced, validated with errors that
//! name the field.

use crate::config::{from_json, invalid};
use crate::error::ConfigError;
use serde::Deserialize;

/// Where Kafka Connect's REST API listens by default (the development stack's `DBSYNC_CONNECT_URL`).
pub const DEFAULT_CONNECT_URL: &str = "http://127.0.0.1:8083";
/// Upper bound of the millisecond settings (one day), so no deadline computed from them can overflow.
const MAX_MS: u64 = 86_400_000;

/// How the supervisor reaches Kafka Connect and paces its restarts; built from a JSON object (what PHP passes as
/// an array) with errors naming the field.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuperviseOptions {
    /// Kafka Connect's REST API, e.g. `http://127.0.0.1:8083` (http or https; user info is never logged).
    #[serde(default = "default_connect_url")]
    pub connect_url: String,
    /// Longest wait for one REST call.
    #[serde(default = "default_request_timeout_ms")]
    pub request_timeout_ms: u64,
    /// Wait after a connector's first restart before it may be restarted again; doubles per restart.
    #[serde(default = "default_min_backoff_ms")]
    pub min_backoff_ms: u64,
    /// Cap of that wait; a connector running this long has its backoff forgotten.
    #[serde(default = "default_max_backoff_ms")]
    pub max_backoff_ms: u64,
}

fn default_connect_url() -> String {
    DEFAULT_CONNECT_URL.to_string()
}
fn default_request_timeout_ms() -> u64 {
    5_000
}
fn default_min_backoff_ms() -> u64 {
    1_000
}
fn default_max_backoff_ms() -> u64 {
    60_000
}

impl Default for SuperviseOptions {
    fn default() -> Self {
        SuperviseOptions::new(DEFAULT_CONNECT_URL)
    }
}

impl SuperviseOptions {
    /// Every default, for `connect_url`.
    pub fn new(connect_url: impl Into<String>) -> Self {
        SuperviseOptions {
            connect_url: connect_url.into(),
            request_timeout_ms: default_request_timeout_ms(),
            min_backoff_ms: default_min_backoff_ms(),
            max_backoff_ms: default_max_backoff_ms(),
        }
    }

    /// Builds and validates options from a JSON object; errors name the field.
    pub fn from_json(value: serde_json::Value) -> Result<Self, ConfigError> {
        let options: SuperviseOptions = from_json(value)?;
        options.validate()?;
        Ok(options)
    }

    /// Checks what serde cannot: the URL's shape and the ranges of the durations.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let url = self.connect_url.trim();
        if url.is_empty() {
            return Err(ConfigError::Missing {
                field: "connect_url",
            });
        }
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"))
            .ok_or_else(|| invalid("connect_url", "must start with http:// or https://"))?;
        if rest.is_empty() || rest.contains(['?', '#', ' ']) {
            return Err(invalid(
                "connect_url",
                "must be a base URL such as http://127.0.0.1:8083 (no query, no fragment)",
            ));
        }
        for (field, value) in [
            ("request_timeout_ms", self.request_timeout_ms),
            ("min_backoff_ms", self.min_backoff_ms),
            ("max_backoff_ms", self.max_backoff_ms),
        ] {
            if !(1..=MAX_MS).contains(&value) {
                return Err(invalid(
                    field,
                    &format!("must be 1 to {MAX_MS}, got {value}"),
                ));
            }
        }
        if self.min_backoff_ms > self.max_backoff_ms {
            return Err(invalid(
                "min_backoff_ms",
                &format!("must not exceed max_backoff_ms ({})", self.max_backoff_ms),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn options_are_validated() {
        let options = SuperviseOptions::from_json(json!({})).expect("defaults");
        assert_eq!(options.connect_url, DEFAULT_CONNECT_URL);
        for (value, field) in [
            (json!({"connect_url": ""}), "connect_url"),
            (json!({"connect_url": "127.0.0.1:8083"}), "connect_url"),
            (json!({"connect_url": "http://x:8083/?a=1"}), "connect_url"),
            (json!({"request_timeout_ms": 0}), "request_timeout_ms"),
            (json!({"max_backoff_ms": MAX_MS + 1}), "max_backoff_ms"),
            (
                json!({"min_backoff_ms": 5000, "max_backoff_ms": 1000}),
                "min_backoff_ms",
            ),
            (json!({"min_backoff_ms": -1}), "min_backoff_ms"),
            (json!({"brokers": "x"}), "brokers"),
        ] {
            let error = SuperviseOptions::from_json(value.clone()).expect_err(&value.to_string());
            assert!(error.to_string().contains(field), "{value}: {error}");
        }
    }
}

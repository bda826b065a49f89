//! Error types of the library. Expected outcomes (an echo skipped, a duplicate event) are values, not errors.

use thiserror::Error;

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
}

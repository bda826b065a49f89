//! The C ABI's return codes, and how the core's errors map onto them: a code says what kind of failure it was
//! (what a caller can do about it), the message says which and where.

use crate::error::Error;

/// What a `dbsync_*` function reports. Every code but `DBSYNC_STATUS_OK` comes with a message in `*err`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbsyncStatus {
    /// Success.
    Ok = 0,
    /// An argument is NULL, not UTF-8, or out of range (a programming error in the caller).
    InvalidArgument = 1,
    /// The consumer's configuration is unusable: not a JSON object, or a field missing or invalid (the message
    /// names it). Restarting cannot help.
    Config = 2,
    /// The mapping (TOML) is unusable. Restarting cannot help.
    Mapping = 3,
    /// The message cannot be decoded (not JSON, a field missing or mistyped, a table the mapping lacks): the
    /// consumer would dead-letter it as `malformed` or `unmappable`.
    Decode = 4,
    /// The event is well-formed but cannot be expressed on the other side (an unmapped value, a key out of range):
    /// the consumer would dead-letter it.
    Transform = 5,
    /// Consuming failed at run time: Kafka or the target database unreachable, the topic missing, or the consumer
    /// already running on another thread.
    Sync = 6,
    /// A bug: a Rust panic was caught at the boundary. The message carries the panic's text.
    Panic = 7,
}

/// A failure on its way out through the boundary: the code and the message for `*err`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The code returned.
    pub status: DbsyncStatus,
    /// The message written to `*err`.
    pub message: String,
}

impl Failure {
    /// A failure with `status` and `message`.
    pub fn new(status: DbsyncStatus, message: impl Into<String>) -> Self {
        Failure {
            status,
            message: message.into(),
        }
    }

    /// A bad argument named `name`.
    pub fn argument(name: &str, problem: &str) -> Self {
        Failure::new(
            DbsyncStatus::InvalidArgument,
            format!("argument `{name}` {problem}"),
        )
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        let status = match &error {
            Error::Config(_) => DbsyncStatus::Config,
            Error::Mapping(_) => DbsyncStatus::Mapping,
            Error::Decode(_) => DbsyncStatus::Decode,
            Error::Transform(_) => DbsyncStatus::Transform,
            _ => DbsyncStatus::Sync,
        };
        Failure::new(status, error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ConfigError;

    #[test]
    fn config_errors_keep_their_kind_and_field() {
        let failure = Failure::from(Error::Config(ConfigError::Missing { field: "brokers" }));
        assert_eq!(failure.status, DbsyncStatus::Config);
        assert!(failure.message.contains("`brokers`"), "{}", failure.message);
    }

    #[test]
    fn run_time_errors_are_sync_failures() {
        assert_eq!(
            Failure::from(Error::AlreadyRunning).status,
            DbsyncStatus::Sync
        );
    }
}

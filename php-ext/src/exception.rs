//! Exception classes thrown to PHP and the mapping from core errors onto them.
//!
//! `ConfigException` extends `SyncException`, so `catch (SyncException $e)` handles every failure of the
//! extension while callers that care can tell a configuration mistake apart.

use dbsync_core::{ConfigError, Error};
use ext_php_rs::{exception::PhpException, prelude::*, zend::ce};

/// `DbSync\Exception\SyncException`: any failure reported by dbsync-core.
#[php_class]
#[php(name = "DbSync\\Exception\\SyncException")]
#[php(extends(ce = ce::exception, stub = "\\Exception"))]
#[derive(Default)]
pub struct SyncException;

/// `DbSync\Exception\ConfigException`: the configuration is unusable; the message names the field.
#[php_class]
#[php(name = "DbSync\\Exception\\ConfigException")]
#[php(extends(SyncException))]
#[derive(Default)]
pub struct ConfigException;

/// A core config error becomes a `ConfigException`.
pub fn config(error: &ConfigError) -> PhpException {
    PhpException::from_class::<ConfigException>(error.to_string())
}

/// A core error becomes a `ConfigException` when it is about configuration, else a `SyncException`.
pub fn sync(error: &Error) -> PhpException {
    match error {
        Error::Config(inner) => config(inner),
        other => PhpException::from_class::<SyncException>(other.to_string()),
    }
}

/// A bad argument to a method (not a config field): PHP's own `ValueError`.
pub fn value_error(message: String) -> PhpException {
    PhpException::new(message, 0, ce::value_error())
}

/// A config entry PHP cannot hand to the core (an object, a resource, a NaN): a `ConfigException` naming the key.
pub fn unsupported_config_value(key: &str, reason: &str) -> PhpException {
    PhpException::from_class::<ConfigException>(format!("config field `{key}` {reason}"))
}

/// A failure outside the core's error type (e.g. reporting counters), as a `SyncException`.
pub fn sync_message(message: String) -> PhpException {
    PhpException::from_class::<SyncException>(message)
}

//! Exception classes thrown to PHP, the mapping from core errors onto them, and the panic boundary.
//!
//! `ConfigException` extends `SyncException`, so `catch (SyncException $e)` handles every failure of the
//! extension while callers that care can tell a configuration mistake apart.
//!
//! Every function and method PHP can call runs its body through [`guard`] (README, "No panic crosses an FFI
//! boundary"): a Rust panic becomes a `SyncException` carrying the panic message instead of unwinding into PHP's C
//! frames, which aborts the process. ext-php-rs's generated handlers catch panics as well, but throw PHP's generic
//! `\Error`; the guard makes it one of ours, so `catch (SyncException $e)` still handles every failure.

use dbsync_core::{ConfigError, Error};
use ext_php_rs::{exception::PhpException, prelude::*, zend::ce};
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

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

/// A core error becomes a `ConfigException` when it is about configuration (a setting, or the mapping file: retrying
/// cannot help), else a `SyncException`.
pub fn sync(error: &Error) -> PhpException {
    match error {
        Error::Config(inner) => config(inner),
        Error::Mapping(inner) => PhpException::from_class::<ConfigException>(inner.to_string()),
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

/// Runs the body of a PHP-facing function or method; a panic inside it becomes a `SyncException` with the panic's
/// message. The body's state is not used after a panic except to drop it, so asserting unwind safety is sound: a
/// consumer whose `run` panicked may refuse further work, but it cannot be observed half-updated by Rust code.
pub fn guard<T>(body: impl FnOnce() -> PhpResult<T>) -> PhpResult<T> {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| Err(panicked(payload.as_ref())))
}

/// A caught panic as a `SyncException`.
fn panicked(payload: &(dyn Any + Send)) -> PhpException {
    sync_message(format!(
        "dbsync internal error (a Rust panic, please report it): {}",
        panic_message(payload)
    ))
}

/// The message a panic was raised with (`panic!` with a literal or with format arguments).
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message")
}

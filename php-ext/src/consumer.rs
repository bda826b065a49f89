//! `DbSync\Consumer`: a blocking consumer for one direction. Each method converts its arguments, calls
//! dbsync-core and maps errors; the sync logic is the core's.
// PHP's parameter names are the Rust ones, and PHP's convention is camelCase (`$maxEvents`), so named
// arguments match the docs; the attribute must cover the code ext-php-rs generates around the methods.
#![allow(non_snake_case)]

use crate::{convert, exception, signals};
use dbsync_core::{Consumer, RunOptions, SyncConfig};
use ext_php_rs::{exception::PhpResult, prelude::*, types::ZendHashTable, types::Zval};
use std::sync::Arc;
use std::time::Duration;

/// `DbSync\Consumer`. The `Arc` lets `run` hold the core consumer while a signal handler calls `stop` on it.
#[php_class]
#[php(name = "DbSync\\Consumer")]
pub struct PhpConsumer {
    inner: Arc<Consumer>,
}

#[php_impl]
impl PhpConsumer {
    /// Validates `$config` (the keys of dbsync-core's `SyncConfig`) and prepares the consumer.
    ///
    /// @throws \DbSync\Exception\ConfigException when a field is missing or invalid (the message names it)
    /// @throws \DbSync\Exception\SyncException when the consumer cannot start
    pub fn __construct(config: &ZendHashTable) -> PhpResult<Self> {
        exception::guard(|| {
            crate::logging::init_from_env();
            let json = convert::array_to_json(config)
                .map_err(|e| exception::unsupported_config_value(&e.key, &e.reason))?;
            let config = SyncConfig::from_json(json).map_err(|e| exception::config(&e))?;
            let inner = Consumer::new(config).map_err(|e| exception::sync(&e))?;
            Ok(Self {
                inner: Arc::new(inner),
            })
        })
    }

    /// Consumes until `$maxEvents` messages, `$timeoutSeconds` of wall time, `$idleSeconds` without a message, or
    /// `stop()`; returns the counters (`consumed`, `applied`, `skipped_echo`, ..., `per_entity`).
    ///
    /// @throws \DbSync\Exception\SyncException when consuming fails
    /// The parameters are camelCase in Rust because ext-php-rs names PHP's parameters after them: named arguments
    /// (`run(maxEvents: 10)`) use the documented names.
    #[allow(clippy::needless_update)] // `..RunOptions::default()` keeps compiling when the core adds a limit
    #[allow(non_snake_case)]
    pub fn run(
        &self,
        maxEvents: Option<i64>,
        timeoutSeconds: Option<f64>,
        idleSeconds: Option<f64>,
    ) -> PhpResult<Zval> {
        exception::guard(|| {
            let options = RunOptions {
                max_events: maxEvents.map(non_negative("maxEvents")).transpose()?,
                timeout: timeoutSeconds.map(seconds("timeoutSeconds")).transpose()?,
                stop_when_idle: idleSeconds.map(seconds("idleSeconds")).transpose()?,
                // The core may add limits; PHP leaves them at their defaults until it exposes them.
                ..RunOptions::default()
            };
            let consumer = Arc::clone(&self.inner);
            let counters = consumer
                .run(options, &mut signals::tick(|| consumer.stop()))
                .map_err(|e| exception::sync(&e))?;
            let counters = serde_json::to_value(&counters)
                .map_err(|e| exception::sync_message(format!("cannot report counters: {e}")))?;
            Ok(convert::json_to_zval(&counters))
        })
    }

    /// Asks a running `run()` to finish its batch, commit and return. Safe to call from a `pcntl` signal handler.
    pub fn stop(&self) -> PhpResult<()> {
        exception::guard(|| {
            self.inner.stop();
            Ok(())
        })
    }
}

fn non_negative(name: &'static str) -> impl Fn(i64) -> PhpResult<u64> {
    move |value| {
        u64::try_from(value)
            .map_err(|_| exception::value_error(format!("${name} must be 0 or more, got {value}")))
    }
}

fn seconds(name: &'static str) -> impl Fn(f64) -> PhpResult<Duration> {
    move |value| {
        Duration::try_from_secs_f64(value).map_err(|_| {
            exception::value_error(format!(
                "${name} must be a finite number of seconds >= 0, got {value}"
            ))
        })
    }
}

//! `DbSync\Supervisor`: restarts Kafka Connect's FAILED connectors and tasks with backoff. Each method converts its
//! arguments, calls dbsync-core's `supervise` module and maps errors; the logic is the core's.
// PHP's parameter names are the Rust ones, and PHP's convention is camelCase (`$maxEvents`), so named
// arguments match the docs; the attribute must cover the code ext-php-rs generates around the methods.
#![allow(non_snake_case)]

use crate::{convert, exception, signals};
use dbsync_core::supervise::{SuperviseOptions, Supervisor};
use ext_php_rs::{exception::PhpResult, prelude::*, types::ZendHashTable, types::Zval};
use std::sync::Arc;
use std::time::Duration;

/// `DbSync\Supervisor`. The `Arc` lets `run` hold the core supervisor while a signal handler calls `stop` on it.
#[php_class]
#[php(name = "DbSync\\Supervisor")]
pub struct PhpSupervisor {
    inner: Arc<Supervisor>,
}

#[php_impl]
impl PhpSupervisor {
    /// Validates `$options` (`connect_url`, `request_timeout_ms`, `min_backoff_ms`, `max_backoff_ms`; all optional)
    /// and prepares the REST client. Contacts nothing yet.
    ///
    /// @throws \DbSync\Exception\ConfigException when an option is invalid (the message names it)
    pub fn __construct(options: &ZendHashTable) -> PhpResult<Self> {
        exception::guard(|| {
            crate::logging::init_from_env();
            let json = convert::array_to_json(options)
                .map_err(|e| exception::unsupported_config_value(&e.key, &e.reason))?;
            let options = SuperviseOptions::from_json(json).map_err(|e| exception::config(&e))?;
            let inner = Supervisor::new(options).map_err(|e| exception::sync(&e))?;
            Ok(Self {
                inner: Arc::new(inner),
            })
        })
    }

    /// Reads every connector's state once and restarts what failed (when its backoff allows); returns
    /// `['connectors' => [['name', 'state', 'tasks', 'action', 'cause', 'restart_error'], ...]]`.
    ///
    /// @throws \DbSync\Exception\SyncException when Kafka Connect cannot be reached or answers nonsense
    pub fn check_once(&self) -> PhpResult<Zval> {
        exception::guard(|| {
            let report = self.inner.check_once().map_err(|e| exception::sync(&e))?;
            to_zval(serde_json::to_value(&report), "check report")
        })
    }

    /// Checks every `$intervalSeconds` until `stop()` or `$timeoutSeconds`; returns the counters (`checks`,
    /// `unreachable`, `restarts`, `restart_errors`, `per_connector`). An unreachable Connect is logged and retried.
    ///
    /// @throws \ValueError when an interval or timeout is not a usable number of seconds
    /// @throws \DbSync\Exception\ConfigException when the interval is shorter than 0.1 s
    #[allow(non_snake_case)] // PHP's parameter names are the Rust ones: `$intervalSeconds`, `$timeoutSeconds`
    pub fn run(&self, intervalSeconds: f64, timeoutSeconds: Option<f64>) -> PhpResult<Zval> {
        exception::guard(|| {
            let interval = seconds("intervalSeconds", intervalSeconds)?;
            let timeout = timeoutSeconds
                .map(|t| seconds("timeoutSeconds", t))
                .transpose()?;
            let supervisor = Arc::clone(&self.inner);
            let counters = supervisor
                .run(interval, timeout, &mut signals::tick(|| supervisor.stop()))
                .map_err(|e| exception::sync(&e))?;
            to_zval(serde_json::to_value(&counters), "counters")
        })
    }

    /// Asks a running `run()` to return after its current check. Safe to call from a `pcntl` signal handler.
    pub fn stop(&self) -> PhpResult<()> {
        exception::guard(|| {
            self.inner.stop();
            Ok(())
        })
    }

    /// What the supervisor did since it was created (the same array `run()` returns).
    pub fn counters(&self) -> PhpResult<Zval> {
        exception::guard(|| to_zval(serde_json::to_value(self.inner.counters()), "counters"))
    }
}

fn seconds(name: &str, value: f64) -> PhpResult<Duration> {
    Duration::try_from_secs_f64(value).map_err(|_| {
        exception::value_error(format!(
            "${name} must be a finite number of seconds >= 0, got {value}"
        ))
    })
}

fn to_zval(json: serde_json::Result<serde_json::Value>, what: &str) -> PhpResult<Zval> {
    let json =
        json.map_err(|e| exception::sync_message(format!("cannot report the {what}: {e}")))?;
    Ok(convert::json_to_zval(&json))
}

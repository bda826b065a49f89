//! Keeps change capture running: a small Kafka Connect REST client that restarts FAILED connectors and tasks.
//!
//! Kafka Connect never restarts a failed task by itself, and Debezium's own retries give up after a bounded time,
//! so a database or broker outage can leave capture stopped for good. A [`Supervisor`] reads every connector's state
//! (`GET /connectors?expand=status`) and, for each one whose connector or a task is `FAILED`, asks Connect to
//! restart what failed (`POST /connectors/<name>/restart?includeTasks=true&onlyFailed=true`).
//!
//! Restarts of one connector are spaced by exponential backoff (a task whose database is still down fails again
//! at once); the backoff is forgotten once the connector has run for `max_backoff_ms`. Each restart is logged at
//! `error` with the failure's first trace line and counted in [`SuperviseCounters`]. `PAUSED` and `STOPPED`
//! connectors are an operator's choice and are left alone. Logged text never carries credentials: the Connect URL
//! is shown without its user info, and `password=...`-like values in traces are masked.
//!
//! [`Supervisor::run`] loops until [`Supervisor::stop`] (safe from a signal handler's callback), calling `tick`
//! between short sleeps so a host such as PHP can dispatch its signal handlers; [`Supervisor::check_once`] is one
//! step of it.
//!
//! Parts: `options` (settings), `client` (the REST client and [`ConnectError`]), `status` (Connect's states),
//! `policy` (the restart decision and its backoff), `report` (what a check and the counters say), `redact` (what
//! logs may quote), `outage` (logging an unreachable Connect).

mod client;
mod options;
mod outage;
mod policy;
mod redact;
mod report;
mod status;

pub use client::ConnectError;
pub use options::{SuperviseOptions, DEFAULT_CONNECT_URL};
pub use policy::Action;
pub use redact::{redact, trace_headline, trace_root_cause};
pub use report::{CheckReport, ConnectorReport, SuperviseCounters};
pub use status::{parse_statuses, ComponentStatus, ConnectorStatus, State, TaskStatus};

use crate::error::{ConfigError, Error};
use client::Client;
use outage::Outage;
use policy::Policy;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tracing::{debug, error, info, warn};

/// Shortest interval [`Supervisor::run`] accepts between two checks.
pub const MIN_INTERVAL: Duration = Duration::from_millis(100);
/// How often `run` calls `tick` and looks at the stop flag while it waits for the next check.
const TICK: Duration = Duration::from_millis(100);

/// Restarts Kafka Connect's FAILED connectors and tasks with backoff; see the module docs.
pub struct Supervisor {
    client: Client,
    inner: Mutex<Inner>,
    stop: AtomicBool,
}

/// What checks change: the restart decision's state and the counters.
struct Inner {
    policy: Policy,
    counters: SuperviseCounters,
}

impl Supervisor {
    /// Validates `options` and prepares the HTTP client; contacts nothing yet.
    pub fn new(options: SuperviseOptions) -> Result<Self, Error> {
        options.validate()?;
        Ok(Supervisor {
            client: Client::new(&options),
            inner: Mutex::new(Inner {
                policy: Policy::new(
                    Duration::from_millis(options.min_backoff_ms),
                    Duration::from_millis(options.max_backoff_ms),
                ),
                counters: SuperviseCounters::default(),
            }),
            stop: AtomicBool::new(false),
        })
    }

    /// The Connect URL as logs show it (without user info).
    pub fn connect_url(&self) -> &str {
        self.client.shown()
    }

    /// What the supervisor did since it was created.
    pub fn counters(&self) -> SuperviseCounters {
        self.lock().counters.clone()
    }

    /// Asks a running [`run`](Self::run) to return after its current check. Safe from a signal handler's callback.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Reads every connector's state without restarting anything (what `dbsync:status` shows).
    pub fn statuses(&self) -> Result<Vec<ConnectorStatus>, ConnectError> {
        self.client.statuses()
    }

    /// Reads every connector's state once and restarts what failed (when its backoff allows). Fails when Connect
    /// cannot be reached or its answer cannot be read; a refused restart is reported in the connector's entry.
    pub fn check_once(&self) -> Result<CheckReport, Error> {
        let statuses = match self.client.statuses() {
            Ok(statuses) => statuses,
            Err(e) => {
                self.lock().counters.unreachable += 1;
                return Err(e.into());
            }
        };
        let now = Instant::now();
        let actions: Vec<Action> = {
            let mut inner = self.lock();
            inner.counters.checks += 1;
            inner.policy.retain(&statuses);
            statuses
                .iter()
                .map(|s| inner.policy.decide(s, now))
                .collect()
        };
        let mut report = CheckReport::default();
        for (status, action) in statuses.iter().zip(actions) {
            let cause = status.failure_trace().map(trace_headline);
            let mut restart_error = None;
            if action == Action::Restarted {
                restart_error = self.restart(status, cause.as_deref()).err();
            } else if action == Action::Waiting {
                debug!(connector = %status.name, "failed; waiting for its backoff before the next restart");
            }
            report.connectors.push(ConnectorReport::new(
                status,
                action,
                cause,
                restart_error.map(|e| e.to_string()),
            ));
        }
        Ok(report)
    }

    /// Checks every `interval` until [`stop`](Self::stop) is called or `timeout` has passed; `tick` runs about every
    /// 100 ms (PHP uses it to dispatch pending signals). An unreachable Connect is logged and retried, never fatal.
    /// Returns the counters.
    pub fn run(
        &self,
        interval: Duration,
        timeout: Option<Duration>,
        tick: &mut dyn FnMut(),
    ) -> Result<SuperviseCounters, Error> {
        if interval < MIN_INTERVAL {
            return Err(ConfigError::Invalid {
                field: "interval".to_string(),
                reason: format!("must be at least {} ms", MIN_INTERVAL.as_millis()),
            }
            .into());
        }
        info!(connect = %self.connect_url(), interval_ms = interval.as_millis() as u64, "supervisor ready");
        let started = Instant::now();
        let mut next_check = started;
        let mut outage: Option<Outage> = None;
        loop {
            tick();
            if self.stop.load(Ordering::SeqCst) || timeout.is_some_and(|t| started.elapsed() >= t) {
                break;
            }
            let now = Instant::now();
            if now >= next_check {
                match self.check_once() {
                    Ok(_) => {
                        if let Some(gone) = outage.take() {
                            gone.ended(self.connect_url());
                        }
                    }
                    Err(e) => outage.get_or_insert_with(|| Outage::new(now)).failed(&e),
                }
                next_check = Instant::now().checked_add(interval).unwrap_or(now);
            }
            std::thread::sleep(TICK.min(next_check.saturating_duration_since(Instant::now())));
        }
        self.stop.store(false, Ordering::SeqCst);
        Ok(self.counters())
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Asks Connect to restart the connector's failed parts; logs and counts the outcome.
    fn restart(&self, status: &ConnectorStatus, cause: Option<&str>) -> Result<(), ConnectError> {
        let name = &status.name;
        let tasks = status.failed_tasks();
        let root = status.failure_trace().and_then(trace_root_cause);
        error!(
            connector = %name,
            connector_state = %status.connector.state.as_str(),
            failed_tasks = ?tasks,
            cause = cause.unwrap_or("(no trace)"),
            root_cause = root.as_deref().unwrap_or(""),
            "connector failed; restarting it"
        );
        let result = self.client.restart(name);
        let mut inner = self.lock();
        match &result {
            Ok(()) => {
                let restarts = inner.counters.restarted(name);
                info!(connector = %name, restarts, "restart requested");
            }
            Err(e) => {
                inner.counters.restart_errors += 1;
                warn!(connector = %name, error = %e, "restart refused; retrying after backoff");
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_is_shown_without_user_info() {
        let supervisor = Supervisor::new(SuperviseOptions::new(
            "https://admin:pw@connect.example:8083/",
        ))
        .expect("valid");
        assert_eq!(supervisor.connect_url(), "https://***@connect.example:8083");
        assert!(Supervisor::new(SuperviseOptions::new("ftp://x")).is_err());
    }

    #[test]
    fn an_unreachable_connect_is_an_error_and_counted() {
        // Port 9 (discard) on loopback: nothing listens in the test environment, so the connection is refused.
        let mut options = SuperviseOptions::new("http://127.0.0.1:9");
        options.request_timeout_ms = 2_000;
        let supervisor = Supervisor::new(options).expect("valid");
        let error = supervisor.check_once().expect_err("nothing listens");
        assert!(
            error
                .to_string()
                .starts_with("kafka connect at http://127.0.0.1:9: listing"),
            "{error}"
        );
        assert_eq!(supervisor.counters().unreachable, 1);
        assert_eq!(supervisor.counters().checks, 0);
    }

    #[test]
    fn run_stops_on_request_and_rejects_a_busy_interval() {
        let supervisor =
            Supervisor::new(SuperviseOptions::new("http://127.0.0.1:9")).expect("valid");
        assert!(supervisor.run(Duration::ZERO, None, &mut || {}).is_err());
        let mut ticks = 0;
        let counters = supervisor
            .run(Duration::from_secs(60), None, &mut || {
                ticks += 1;
                if ticks == 3 {
                    supervisor.stop();
                }
            })
            .expect("runs");
        assert_eq!(ticks, 3);
        assert_eq!(counters.unreachable, 1, "one check, at once");
    }
}

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

use crate::config::{from_json, invalid};
use crate::error::{ConfigError, Error};
use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tracing::{debug, error, info, warn};

/// Where Kafka Connect's REST API listens by default (the development stack's `DBSYNC_CONNECT_URL`).
pub const DEFAULT_CONNECT_URL: &str = "http://127.0.0.1:8083";
/// Shortest interval [`Supervisor::run`] accepts between two checks.
pub const MIN_INTERVAL: Duration = Duration::from_millis(100);
/// How often `run` calls `tick` and looks at the stop flag while it waits for the next check.
const TICK: Duration = Duration::from_millis(100);
/// An unreachable Connect is logged at `error` at most this often while the outage lasts.
const OUTAGE_LOG_INTERVAL: Duration = Duration::from_secs(60);
/// Longest text quoted from a trace or an answer body in logs and errors.
const MAX_QUOTED_CHARS: usize = 300;
/// Upper bound of the millisecond settings (one day), so no deadline computed from them can overflow.
const MAX_MS: u64 = 86_400_000;
/// Characters kept as they are in a connector name used as a URL path segment (RFC 3986 unreserved).
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

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

/// The Kafka Connect REST API could not be reached or answered something unexpected. `url` is shown without
/// user info.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// No answer: connection refused, timeout, TLS failure.
    #[error("kafka connect at {url}: {action}: {source}")]
    Unreachable {
        /// The REST API's base URL.
        url: String,
        /// What the supervisor was doing.
        action: String,
        /// The HTTP client's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An HTTP status other than the expected ones (e.g. 409 while the workers rebalance, 404 for a connector
    /// deleted meanwhile).
    #[error("kafka connect at {url}: {action}: HTTP {status}: {body}")]
    Status {
        /// The REST API's base URL.
        url: String,
        /// What the supervisor was doing.
        action: String,
        /// The HTTP status code.
        status: u16,
        /// The start of the answer's body.
        body: String,
    },
    /// An answer that does not have the documented shape.
    #[error("kafka connect at {url}: {action}: unexpected answer: {reason}")]
    Answer {
        /// The REST API's base URL.
        url: String,
        /// What the supervisor was doing.
        action: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// A connector's or a task's state as Kafka Connect reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "String")]
pub enum State {
    /// Working.
    Running,
    /// Stopped by an error; Connect will not restart it by itself.
    Failed,
    /// Paused by an operator.
    Paused,
    /// Stopped by an operator (no tasks).
    Stopped,
    /// Being restarted.
    Restarting,
    /// Not yet given to a worker.
    Unassigned,
    /// A state this version does not know.
    Other(String),
}

impl From<String> for State {
    fn from(text: String) -> Self {
        match text.as_str() {
            "RUNNING" => State::Running,
            "FAILED" => State::Failed,
            "PAUSED" => State::Paused,
            "STOPPED" => State::Stopped,
            "RESTARTING" => State::Restarting,
            "UNASSIGNED" => State::Unassigned,
            _ => State::Other(text),
        }
    }
}

impl State {
    /// The state as Connect spells it.
    pub fn as_str(&self) -> &str {
        match self {
            State::Running => "RUNNING",
            State::Failed => "FAILED",
            State::Paused => "PAUSED",
            State::Stopped => "STOPPED",
            State::Restarting => "RESTARTING",
            State::Unassigned => "UNASSIGNED",
            State::Other(text) => text,
        }
    }
}

/// The connector instance's own state (its tasks are separate).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ComponentStatus {
    /// Its state.
    pub state: State,
    /// The Java stack trace of its failure, when `FAILED`.
    #[serde(default)]
    pub trace: Option<String>,
}

/// One task's state.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TaskStatus {
    /// The task number.
    pub id: u32,
    /// Its state.
    pub state: State,
    /// The Java stack trace of its failure, when `FAILED`.
    #[serde(default)]
    pub trace: Option<String>,
}

/// One connector's status (`GET /connectors/<name>/status`, also what `?expand=status` embeds).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ConnectorStatus {
    /// The connector's name.
    pub name: String,
    /// The connector instance's state.
    pub connector: ComponentStatus,
    /// Its tasks' states.
    #[serde(default)]
    pub tasks: Vec<TaskStatus>,
}

impl ConnectorStatus {
    /// The connector or one of its tasks failed: a restart is due.
    pub fn needs_restart(&self) -> bool {
        self.connector.state == State::Failed || self.tasks.iter().any(|t| t.state == State::Failed)
    }

    /// The connector and all its tasks run.
    pub fn is_healthy(&self) -> bool {
        self.connector.state == State::Running
            && self.tasks.iter().all(|t| t.state == State::Running)
    }

    /// The numbers of the failed tasks.
    pub fn failed_tasks(&self) -> Vec<u32> {
        self.tasks
            .iter()
            .filter(|t| t.state == State::Failed)
            .map(|t| t.id)
            .collect()
    }

    /// The trace that explains the failure: the connector's when it failed, else the first failed task's.
    pub fn failure_trace(&self) -> Option<&str> {
        let connector = (self.connector.state == State::Failed)
            .then_some(self.connector.trace.as_deref())
            .flatten();
        connector.or_else(|| {
            self.tasks
                .iter()
                .find(|t| t.state == State::Failed)
                .and_then(|t| t.trace.as_deref())
        })
    }
}

/// Parses the answer of `GET /connectors?expand=status` into statuses sorted by name. A connector listed without a
/// status (created a moment ago) is left out.
pub fn parse_statuses(body: &str) -> Result<Vec<ConnectorStatus>, String> {
    #[derive(Deserialize)]
    struct Expanded {
        #[serde(default)]
        status: Option<ConnectorStatus>,
    }
    let mut deserializer = serde_json::Deserializer::from_str(body);
    let listing: BTreeMap<String, Expanded> = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|e| {
        let path = e.path().to_string();
        format!("at `{path}`: {}", e.into_inner())
    })?;
    Ok(listing.into_values().filter_map(|e| e.status).collect())
}

/// The first line of a Java trace (exception class and message), with credential-like values masked and cut to a
/// loggable length.
pub fn trace_headline(trace: &str) -> String {
    let line = trace.lines().map(str::trim).find(|l| !l.is_empty());
    cut(&redact(line.unwrap_or("")))
}

/// The innermost `Caused by:` line of a Java trace, masked and cut like [`trace_headline`].
pub fn trace_root_cause(trace: &str) -> Option<String> {
    trace
        .lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("Caused by:"))
        .next_back()
        .map(|l| cut(&redact(l.trim())))
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_string(),
    }
}

/// Masks what looks like a credential: the value after `password`, `secret`, `token` or `credential` followed by
/// `=` or `:`, and the user info of a URL (`scheme://user:pass@host`).
pub fn redact(text: &str) -> String {
    const KEYS: [&str; 5] = ["password", "passwd", "secret", "token", "credential"];
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut at = 0;
    while at < bytes.len() {
        // URL user info: "://" then anything but '/', whitespace or '@' up to an '@'.
        if lower[at..].starts_with("://") {
            let start = at + 3;
            let end = text[start..]
                .find(|c: char| c == '/' || c == '@' || c.is_whitespace())
                .map_or(text.len(), |i| start + i);
            if text[end..].starts_with('@') && end > start {
                out.push_str(&text[copied..start]);
                out.push_str("***");
                copied = end;
                at = end;
                continue;
            }
        }
        if let Some(key) = KEYS.iter().find(|k| lower[at..].starts_with(**k)) {
            // The rest of the key's word (`password_file`, `secret.key`), spaces, then `=` or `:`.
            let mut i = at + key.len();
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || b"_.-".contains(&bytes[i]))
            {
                i += 1;
            }
            while i < bytes.len() && bytes[i] == b' ' {
                i += 1;
            }
            if i < bytes.len() && (bytes[i] == b'=' || bytes[i] == b':') {
                i += 1;
                while i < bytes.len() && bytes[i] == b' ' {
                    i += 1;
                }
                while i < bytes.len() && (bytes[i] == b'\'' || bytes[i] == b'"') {
                    i += 1;
                }
                let end = text[i..]
                    .find(|c: char| c.is_whitespace() || ",;&'\")]}".contains(c))
                    .map_or(text.len(), |n| i + n);
                if end > i {
                    out.push_str(&text[copied..i]);
                    out.push_str("***");
                    copied = end;
                }
                at = end.max(at + 1);
                continue;
            }
            at = i.max(at + 1);
            continue;
        }
        at += text[at..].chars().next().map_or(1, char::len_utf8);
    }
    out.push_str(&text[copied..]);
    out
}

/// What the supervisor did about one connector in one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The connector and its tasks run.
    Healthy,
    /// Something failed and a restart was requested.
    Restarted,
    /// Something failed, but the connector's backoff has not elapsed yet.
    Waiting,
    /// Paused, stopped, restarting or unassigned: nothing to do.
    Left,
}

/// One connector in a [`CheckReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectorReport {
    /// The connector's name.
    pub name: String,
    /// The connector instance's state.
    pub state: String,
    /// Its tasks' states, in task order.
    pub tasks: Vec<String>,
    /// What the supervisor did.
    pub action: Action,
    /// For a failure: the first line of its trace (masked).
    pub cause: Option<String>,
    /// For a restart that Connect refused: why.
    pub restart_error: Option<String>,
}

/// What one [`Supervisor::check_once`] saw and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// Every connector, by name.
    pub connectors: Vec<ConnectorReport>,
}

/// What a supervisor did since it was created, readable through the API (and returned to PHP as an array).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SuperviseCounters {
    /// Checks that read the connectors' states.
    pub checks: u64,
    /// Checks that could not reach Kafka Connect (or could not read its answer).
    pub unreachable: u64,
    /// Restarts Kafka Connect accepted.
    pub restarts: u64,
    /// Restarts Kafka Connect refused or did not answer.
    pub restart_errors: u64,
    /// Accepted restarts per connector.
    pub per_connector: BTreeMap<String, u64>,
}

/// The restart decision, free of I/O: per-connector exponential backoff that resets after a healthy stretch.
struct Policy {
    builder: ExponentialBuilder,
    stable_after: Duration,
    pacing: HashMap<String, Pacing>,
}

struct Pacing {
    backoff: ExponentialBackoff,
    next_restart: Instant,
    healthy_since: Option<Instant>,
}

impl Policy {
    fn new(min_backoff: Duration, max_backoff: Duration) -> Self {
        Policy {
            builder: ExponentialBuilder::default()
                .with_min_delay(min_backoff)
                .with_max_delay(max_backoff)
                .with_factor(2.0)
                .without_max_times(),
            stable_after: max_backoff,
            pacing: HashMap::new(),
        }
    }

    /// Decides for one connector at `now`; a `Restarted` verdict books the restart (the next one waits longer).
    fn decide(&mut self, status: &ConnectorStatus, now: Instant) -> Action {
        if status.needs_restart() {
            let builder = &self.builder;
            let pacing = self
                .pacing
                .entry(status.name.clone())
                .or_insert_with(|| Pacing {
                    backoff: builder.build(),
                    next_restart: now,
                    healthy_since: None,
                });
            pacing.healthy_since = None;
            if now < pacing.next_restart {
                return Action::Waiting;
            }
            let delay = pacing.backoff.next().unwrap_or(self.stable_after);
            pacing.next_restart = now.checked_add(delay).unwrap_or(now);
            return Action::Restarted;
        }
        let healthy = status.is_healthy();
        if let Some(pacing) = self.pacing.get_mut(&status.name) {
            if !healthy {
                pacing.healthy_since = None;
            } else if now.saturating_duration_since(*pacing.healthy_since.get_or_insert(now))
                >= self.stable_after
            {
                self.pacing.remove(&status.name);
            }
        }
        if healthy {
            Action::Healthy
        } else {
            Action::Left
        }
    }

    /// Forgets connectors that are no longer listed (deleted, or renamed).
    fn retain(&mut self, statuses: &[ConnectorStatus]) {
        self.pacing
            .retain(|name, _| statuses.iter().any(|s| &s.name == name));
    }
}

/// Restarts Kafka Connect's FAILED connectors and tasks with backoff; see the module docs.
pub struct Supervisor {
    agent: ureq::Agent,
    base: String,
    shown: String,
    inner: Mutex<Inner>,
    stop: AtomicBool,
}

struct Inner {
    policy: Policy,
    counters: SuperviseCounters,
}

impl Supervisor {
    /// Validates `options` and prepares the HTTP client; contacts nothing yet.
    pub fn new(options: SuperviseOptions) -> Result<Self, Error> {
        options.validate()?;
        let base = options.connect_url.trim().trim_end_matches('/').to_string();
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_millis(options.request_timeout_ms)))
            .http_status_as_error(false)
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .provider(ureq::tls::TlsProvider::NativeTls)
                    .build(),
            )
            .build();
        Ok(Supervisor {
            agent: config.into(),
            shown: redact(&base),
            base,
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
        &self.shown
    }

    /// What the supervisor did since it was created.
    pub fn counters(&self) -> SuperviseCounters {
        self.lock().counters.clone()
    }

    /// Asks a running [`run`](Self::run) to return after its current check. Safe from a signal handler's callback.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Reads every connector's state once and restarts what failed (when its backoff allows). Fails when Connect
    /// cannot be reached or its answer cannot be read; a refused restart is reported in the connector's entry.
    pub fn check_once(&self) -> Result<CheckReport, Error> {
        let statuses = match self.statuses() {
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
            report.connectors.push(ConnectorReport {
                name: status.name.clone(),
                state: status.connector.state.as_str().to_string(),
                tasks: status
                    .tasks
                    .iter()
                    .map(|t| t.state.as_str().to_string())
                    .collect(),
                action,
                cause: cause.filter(|_| status.needs_restart()),
                restart_error: restart_error.map(|e| e.to_string()),
            });
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
        info!(connect = %self.shown, interval_ms = interval.as_millis() as u64, "supervisor ready");
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
                            info!(
                                connect = %self.shown,
                                failed_checks = gone.failed_checks,
                                down_secs = gone.since.elapsed().as_secs(),
                                "kafka connect reachable again"
                            );
                        }
                    }
                    Err(e) => {
                        let o = outage.get_or_insert(Outage {
                            since: now,
                            failed_checks: 0,
                            logged: None,
                        });
                        o.failed_checks += 1;
                        if o.logged
                            .is_none_or(|at| at.elapsed() >= OUTAGE_LOG_INTERVAL)
                        {
                            o.logged = Some(Instant::now());
                            error!(
                                failed_checks = o.failed_checks,
                                down_secs = o.since.elapsed().as_secs(),
                                cause = %e,
                                "cannot check the connectors; retrying"
                            );
                        }
                    }
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

    fn statuses(&self) -> Result<Vec<ConnectorStatus>, ConnectError> {
        let action = "listing the connectors' status";
        let url = format!("{}/connectors?expand=status", self.base);
        let (status, body) = self.call(self.agent.get(&url).call(), action)?;
        if status != 200 {
            return Err(self.status_error(action, status, &body));
        }
        parse_statuses(&body).map_err(|reason| ConnectError::Answer {
            url: self.shown.clone(),
            action: action.to_string(),
            reason,
        })
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
        let action = format!("restarting connector `{name}`");
        let url = format!(
            "{}/connectors/{}/restart?includeTasks=true&onlyFailed=true",
            self.base,
            utf8_percent_encode(name, PATH_SEGMENT)
        );
        let result = self
            .call(self.agent.post(&url).send_empty(), &action)
            .and_then(|(code, body)| match code {
                200..=299 => Ok(()),
                _ => Err(self.status_error(&action, code, &body)),
            });
        let mut inner = self.lock();
        match &result {
            Ok(()) => {
                inner.counters.restarts += 1;
                *inner
                    .counters
                    .per_connector
                    .entry(name.clone())
                    .or_default() += 1;
                info!(connector = %name, restarts = inner.counters.per_connector[name], "restart requested");
            }
            Err(e) => {
                inner.counters.restart_errors += 1;
                warn!(connector = %name, error = %e, "restart refused; retrying after backoff");
            }
        }
        result
    }

    fn call(
        &self,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
        action: &str,
    ) -> Result<(u16, String), ConnectError> {
        let unreachable = |source: ureq::Error| ConnectError::Unreachable {
            url: self.shown.clone(),
            action: action.to_string(),
            source: Box::new(source),
        };
        let mut response = result.map_err(unreachable)?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().map_err(unreachable)?;
        Ok((status, body))
    }

    fn status_error(&self, action: &str, status: u16, body: &str) -> ConnectError {
        ConnectError::Status {
            url: self.shown.clone(),
            action: action.to_string(),
            status,
            body: cut(&redact(body.trim())),
        }
    }
}

/// An ongoing failure to reach Connect, for logging it once a minute.
struct Outage {
    since: Instant,
    failed_checks: u64,
    logged: Option<Instant>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const LISTING: &str = r#"{
      "dbsync-revamp": {"status": {"name": "dbsync-revamp",
        "connector": {"state": "RUNNING", "worker_id": "127.0.0.1:8083", "version": "3.5.0.Final"},
        "tasks": [{"id": 0, "state": "FAILED", "worker_id": "127.0.0.1:8083",
          "trace": "org.apache.kafka.connect.errors.ConnectException: An exception occurred in the change event producer. This connector will be stopped.\n\tat io.debezium.pipeline.ErrorHandler.setProducerThrowable(ErrorHandler.java:67)\nCaused by: io.debezium.DebeziumException: Unexpected error while looking at GTID_BINLOG_POS\n\tat x\nCaused by: java.sql.SQLNonTransientConnectionException: Socket fail to connect to host:address=(host=127.0.0.1)(port=3306)(type=primary). Connection refused\n\tat y"}],
        "type": "source"}},
      "dbsync-legacy": {"status": {"name": "dbsync-legacy",
        "connector": {"state": "RUNNING", "worker_id": "127.0.0.1:8083"},
        "tasks": [{"id": 0, "state": "RUNNING", "worker_id": "127.0.0.1:8083"}], "type": "source"}},
      "just-created": {}
    }"#;

    fn status(name: &str, connector: &str, tasks: &[&str]) -> ConnectorStatus {
        serde_json::from_value(json!({
            "name": name,
            "connector": {"state": connector},
            "tasks": tasks.iter().enumerate().map(|(i, s)| json!({"id": i, "state": s})).collect::<Vec<_>>(),
        }))
        .expect("valid status")
    }

    #[test]
    fn parses_the_expanded_listing() {
        let statuses = parse_statuses(LISTING).expect("parses");
        let names: Vec<&str> = statuses.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["dbsync-legacy", "dbsync-revamp"],
            "sorted; no status, no entry"
        );
        let legacy = &statuses[0];
        assert!(legacy.is_healthy() && !legacy.needs_restart());
        let revamp = &statuses[1];
        assert!(revamp.needs_restart() && !revamp.is_healthy());
        assert_eq!(revamp.failed_tasks(), [0]);
        let trace = revamp.failure_trace().expect("the task's trace");
        assert_eq!(
            trace_headline(trace),
            "org.apache.kafka.connect.errors.ConnectException: An exception occurred in the change event \
             producer. This connector will be stopped."
        );
        assert_eq!(
            trace_root_cause(trace).as_deref(),
            Some(
                "java.sql.SQLNonTransientConnectionException: Socket fail to connect to \
                 host:address=(host=127.0.0.1)(port=3306)(type=primary). Connection refused"
            )
        );
    }

    #[test]
    fn parse_errors_name_the_place() {
        let error = parse_statuses(r#"{"a": {"status": {"name": "a", "connector": {}}}}"#)
            .expect_err("state missing");
        assert!(error.contains("a.status.connector"), "{error}");
        assert!(parse_statuses("[]").is_err());
        assert!(parse_statuses("<html>").is_err());
    }

    #[test]
    fn unknown_states_are_kept_not_failed() {
        let s = status("c", "DEGRADED", &["RUNNING"]);
        assert_eq!(s.connector.state, State::Other("DEGRADED".into()));
        assert_eq!(s.connector.state.as_str(), "DEGRADED");
        assert!(!s.needs_restart() && !s.is_healthy());
    }

    #[test]
    fn a_failed_connector_explains_with_its_own_trace() {
        let mut s = status("c", "FAILED", &["FAILED"]);
        s.connector.trace = Some("connector broke\n\tat x".into());
        s.tasks[0].trace = Some("task broke".into());
        assert_eq!(s.failure_trace(), Some("connector broke\n\tat x"));
        s.connector.state = State::Running;
        assert_eq!(s.failure_trace(), Some("task broke"));
    }

    #[test]
    fn only_failures_are_restarted() {
        let mut policy = Policy::new(Duration::from_secs(1), Duration::from_secs(8));
        let now = Instant::now();
        for (connector, tasks, want) in [
            ("RUNNING", vec!["RUNNING"], Action::Healthy),
            ("RUNNING", vec![], Action::Healthy),
            ("PAUSED", vec!["PAUSED"], Action::Left),
            ("STOPPED", vec![], Action::Left),
            ("RUNNING", vec!["UNASSIGNED"], Action::Left),
            ("RESTARTING", vec!["RESTARTING"], Action::Left),
            ("RUNNING", vec!["RUNNING", "FAILED"], Action::Restarted),
            ("FAILED", vec![], Action::Restarted),
            ("PAUSED", vec!["FAILED"], Action::Restarted),
        ] {
            let name = format!("{connector}-{tasks:?}");
            assert_eq!(
                policy.decide(&status(&name, connector, &tasks), now),
                want,
                "{name}"
            );
        }
    }

    #[test]
    fn restarts_back_off_exponentially_per_connector() {
        let mut policy = Policy::new(Duration::from_secs(1), Duration::from_secs(4));
        let failed = status("a", "RUNNING", &["FAILED"]);
        let other = status("b", "RUNNING", &["FAILED"]);
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        // First failure: at once. Then 1 s, 2 s, 4 s, 4 s (capped) between restarts.
        let mut restarts = Vec::new();
        for ms in (0..=16_000).step_by(250) {
            if policy.decide(&failed, at(ms)) == Action::Restarted {
                restarts.push(ms);
            }
        }
        assert_eq!(restarts, [0, 1_000, 3_000, 7_000, 11_000, 15_000]);
        // Another connector has its own pacing.
        assert_eq!(policy.decide(&other, at(15_100)), Action::Restarted);
        assert_eq!(policy.decide(&other, at(15_200)), Action::Waiting);
    }

    #[test]
    fn backoff_resets_after_a_healthy_stretch_only() {
        let mut policy = Policy::new(Duration::from_secs(1), Duration::from_secs(4));
        let failed = status("a", "RUNNING", &["FAILED"]);
        let healthy = status("a", "RUNNING", &["RUNNING"]);
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        assert_eq!(policy.decide(&failed, at(0)), Action::Restarted);
        assert_eq!(policy.decide(&failed, at(1)), Action::Restarted);
        // Healthy for less than the cap, then failed again: still backing off (next allowed at 1 + 2 = 3 s).
        assert_eq!(policy.decide(&healthy, at(2)), Action::Healthy);
        assert_eq!(policy.decide(&failed, at(2)), Action::Waiting);
        assert_eq!(policy.decide(&failed, at(3)), Action::Restarted);
        // Healthy for the whole cap: forgotten, so the next failure restarts at once.
        assert_eq!(policy.decide(&healthy, at(4)), Action::Healthy);
        assert_eq!(policy.decide(&healthy, at(8)), Action::Healthy);
        assert!(policy.pacing.is_empty());
        assert_eq!(policy.decide(&failed, at(8)), Action::Restarted);
        // A connector that disappears is forgotten too.
        policy.retain(&[]);
        assert!(policy.pacing.is_empty());
    }

    #[test]
    fn traces_are_masked_and_cut() {
        assert_eq!(
            redact("Access denied; password=hunter2, user=x"),
            "Access denied; password=***, user=x"
        );
        assert_eq!(
            redact("database.password: 's3cr=t' and Token = abc"),
            "database.password: '***' and Token = ***"
        );
        assert_eq!(
            redact("jdbc:mariadb://dbz:pw@127.0.0.1:3306/x"),
            "jdbc:mariadb://***@127.0.0.1:3306/x"
        );
        assert_eq!(
            redact("http://127.0.0.1:8083/a@b"),
            "http://127.0.0.1:8083/a@b"
        );
        assert_eq!(
            redact("Using password: YES é"),
            "Using password: *** é",
            "MySQL's `(using password: YES)` is masked too; harmless"
        );
        assert_eq!(redact("no secrets here"), "no secrets here");
        assert_eq!(redact("secret"), "secret");
        let long = format!("x: {}", "é".repeat(1000));
        assert_eq!(trace_headline(&long).chars().count(), MAX_QUOTED_CHARS + 3);
        assert_eq!(trace_headline("\n\n  first\nsecond"), "first");
        assert_eq!(trace_root_cause("no cause"), None);
    }

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

//! An ongoing failure to reach Kafka Connect: logged at `error` when it starts and at most once a minute while it
//! lasts, and at `info` when Connect answers again.

use crate::error::Error;
use std::time::{Duration, Instant};
use tracing::{error, info};

/// An unreachable Connect is logged at `error` at most this often while the outage lasts.
const OUTAGE_LOG_INTERVAL: Duration = Duration::from_secs(60);

/// An ongoing failure to reach Connect, for logging it once a minute.
pub(super) struct Outage {
    since: Instant,
    failed_checks: u64,
    logged: Option<Instant>,
}

impl Outage {
    /// An outage that began at `now`, with no failed check counted yet.
    pub(super) fn new(now: Instant) -> Self {
        Outage {
            since: now,
            failed_checks: 0,
            logged: None,
        }
    }

    /// Counts a failed check; logs it unless the outage was logged less than a minute ago.
    pub(super) fn failed(&mut self, cause: &Error) {
        self.failed_checks += 1;
        if self
            .logged
            .is_none_or(|at| at.elapsed() >= OUTAGE_LOG_INTERVAL)
        {
            self.logged = Some(Instant::now());
            error!(
                failed_checks = self.failed_checks,
                down_secs = self.since.elapsed().as_secs(),
                cause = %cause,
                "cannot check the connectors; retrying"
            );
        }
    }

    /// Logs that Connect at `connect` (as logs show it) answers again.
    pub(super) fn ended(self, connect: &str) {
        info!(
            connect = %connect,
            failed_checks = self.failed_checks,
            down_secs = self.since.elapsed().as_secs(),
            "kafka connect reachable again"
        );
    }
}

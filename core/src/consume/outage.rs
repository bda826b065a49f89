//! The target database's outage: an error every write would hit (connection lost, authentication, read-only,
//! disk full, too many connections). While it lasts every partition waits and one batch probes the database after
//! each backoff; nothing is dead-lettered. It logs at `error` when it starts and once a minute while it lasts,
//! with the cause, and at `info` when it ends.

use super::{Consumer, MAX_BACKOFF};
use crate::write::WriteError;
use std::time::{Duration, Instant};
use tracing::{error, info};

/// How often an ongoing outage is logged again.
const REPORT_INTERVAL: Duration = Duration::from_secs(60);

/// The state of an outage, empty when the database answers.
#[derive(Debug, Default)]
pub(crate) struct Outage {
    since: Option<Instant>,
    last_report: Option<Instant>,
    not_before: Option<Instant>,
    attempts: u32,
}

impl Outage {
    /// Records a failure caused by `cause` and schedules the next probe (doubling from `base`, capped).
    fn failed(&mut self, cause: &WriteError, base: Duration, now: Instant) {
        let since = *self.since.get_or_insert(now);
        self.attempts = self.attempts.saturating_add(1);
        let backoff = base
            .saturating_mul(1 << self.attempts.min(16).saturating_sub(1))
            .min(MAX_BACKOFF);
        self.not_before = Some(now + backoff);
        if self
            .last_report
            .is_none_or(|t| now.duration_since(t) >= REPORT_INTERVAL)
        {
            self.last_report = Some(now);
            error!(
                cause = cause.cause().unwrap_or("connection failure"),
                error = %cause,
                down_for_secs = now.duration_since(since).as_secs(),
                attempts = self.attempts,
                "target database unavailable; every partition waits, nothing is dead-lettered"
            );
        }
    }

    /// Whether processing must wait at `now`.
    fn holds(&self, now: Instant) -> bool {
        self.not_before.is_some_and(|t| now < t)
    }

    /// Ends the outage; returns how long it lasted, if there was one.
    fn recovered(&mut self, now: Instant) -> Option<Duration> {
        let since = self.since?;
        *self = Outage::default();
        Some(now.duration_since(since))
    }
}

impl Consumer {
    /// Records that the target database is unavailable.
    pub(super) fn outage_began(&self, cause: &WriteError) {
        if let Ok(mut outage) = self.outage.lock() {
            outage.failed(cause, self.backoff_base(), Instant::now());
        }
        self.metrics.target_unavailable(true);
    }

    /// Records that a write went through.
    pub(super) fn outage_ended(&self) {
        if let Ok(mut outage) = self.outage.lock() {
            if let Some(lasted) = outage.recovered(Instant::now()) {
                self.metrics.target_unavailable(false);
                info!(
                    down_for_secs = lasted.as_secs(),
                    "target database available again"
                );
            }
        }
    }

    /// Whether an outage makes every partition wait at `now`.
    pub(super) fn outage_holds(&self, now: Instant) -> bool {
        self.outage.lock().map(|o| o.holds(now)).unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cause() -> WriteError {
        WriteError::from_sqlx("testing", sqlx::Error::PoolTimedOut)
    }

    #[test]
    fn an_outage_holds_for_a_growing_capped_backoff_and_ends_on_success() {
        let mut outage = Outage::default();
        let t0 = Instant::now();
        assert!(!outage.holds(t0));
        outage.failed(&cause(), Duration::from_millis(100), t0);
        assert!(outage.holds(t0));
        assert!(!outage.holds(t0 + Duration::from_millis(100)));
        for _ in 0..40 {
            outage.failed(&cause(), Duration::from_millis(100), t0);
        }
        assert!(!outage.holds(t0 + MAX_BACKOFF), "backoff is capped");
        assert!(outage.recovered(t0 + Duration::from_secs(3)).is_some());
        assert!(!outage.holds(t0));
        assert!(outage.recovered(t0).is_none(), "no outage, nothing to end");
    }
}

//! The restart decision, free of I/O: what to do about one connector in one check, with per-connector exponential
//! backoff between restarts that is forgotten after a healthy stretch.

use super::status::ConnectorStatus;
use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use serde::Serialize;
use std::collections::HashMap;
use std::time::{Duration, Instant};

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

/// The restart decision, free of I/O: per-connector exponential backoff that resets after a healthy stretch.
pub(super) struct Policy {
    builder: ExponentialBuilder,
    stable_after: Duration,
    pacing: HashMap<String, Pacing>,
}

/// One failing connector's restart pacing.
struct Pacing {
    backoff: ExponentialBackoff,
    next_restart: Instant,
    healthy_since: Option<Instant>,
}

impl Policy {
    /// Restarts wait `min_backoff` at first, doubling up to `max_backoff`; that long healthy forgets the backoff.
    pub(super) fn new(min_backoff: Duration, max_backoff: Duration) -> Self {
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
    pub(super) fn decide(&mut self, status: &ConnectorStatus, now: Instant) -> Action {
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
    pub(super) fn retain(&mut self, statuses: &[ConnectorStatus]) {
        self.pacing
            .retain(|name, _| statuses.iter().any(|s| &s.name == name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supervise::status::status;

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
}

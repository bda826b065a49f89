//! The verdict over all sources, a pure function of the figures: unreachable (exit code 2) when a source could not
//! be read; degraded (1) when a direction's lag exceeds `max_lag`, a connector or task does not run, no connector
//! is registered, the replication slot is missing, or dead letters wait; healthy (0) otherwise. Clock skew above
//! `conflict_window_ms` and an inactive slot are warnings: they do not change the exit code.

use super::Status;
use serde::Serialize;

/// The overall state, with the command's exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Everything answered and nothing is wrong.
    Healthy,
    /// Everything answered, and something needs attention.
    Degraded,
    /// Kafka, a database or Kafka Connect could not be read.
    Unreachable,
}

impl Health {
    /// 0 healthy, 1 degraded, 2 unreachable.
    pub fn exit_code(self) -> i32 {
        match self {
            Health::Healthy => 0,
            Health::Degraded => 1,
            Health::Unreachable => 2,
        }
    }
}

/// The verdict, what makes it so (`problems`) and what deserves a look without changing it (`warnings`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The overall state.
    pub health: Health,
    /// Why it is not healthy, one sentence each.
    pub problems: Vec<String>,
    /// Worth a look, one sentence each.
    pub warnings: Vec<String>,
}

/// Judges a status whose `health`, `problems` and `warnings` are not filled in yet.
pub fn assess(status: &Status) -> Verdict {
    let mut unreachable = Vec::new();
    let mut degraded = Vec::new();
    let mut warnings = Vec::new();
    for direction in &status.directions {
        let name = &direction.direction;
        match (&direction.lag.value, &direction.lag.error) {
            (Some(lag), _) if lag.total > status.max_lag as i64 => degraded.push(format!(
                "{name}: consumer lag {} is above the threshold {}",
                lag.total, status.max_lag
            )),
            (_, Some(error)) => unreachable.push(format!("{name}: lag: {error}")),
            _ => {}
        }
        if let Some(error) = &direction.applied.error {
            unreachable.push(format!("{name}: ledger: {error}"));
        }
    }
    match (&status.dead_letters.value, &status.dead_letters.error) {
        (Some(dlq), _) if dlq.depth > 0 => degraded.push(format!(
            "{} dead letter(s) wait in {} (replay with dbsync:replay-dlq)",
            dlq.depth, dlq.topic
        )),
        (_, Some(error)) => unreachable.push(format!("dead letters: {error}")),
        _ => {}
    }
    match (&status.connectors.value, &status.connectors.error) {
        (Some(list), _) => {
            if list.connectors.is_empty() {
                degraded.push("no connector is registered in Kafka Connect".to_string());
            }
            for c in list.connectors.iter().filter(|c| !c.running) {
                let tasks: Vec<&str> = c.tasks.iter().map(|t| t.state.as_str()).collect();
                degraded.push(format!(
                    "connector {} is not running ({}, tasks: {})",
                    c.name,
                    c.state,
                    if tasks.is_empty() {
                        "none".to_string()
                    } else {
                        tasks.join(",")
                    }
                ));
            }
        }
        (None, Some(error)) => unreachable.push(format!("connectors: {error}")),
        (None, None) => {}
    }
    match (
        &status.replication_slot.value,
        &status.replication_slot.error,
    ) {
        (Some(slot), _) if !slot.exists => {
            degraded.push(format!("replication slot {} does not exist", slot.slot))
        }
        (Some(slot), _) if slot.active == Some(false) => {
            warnings.push(format!("replication slot {} is not active", slot.slot))
        }
        (_, Some(error)) => unreachable.push(format!("replication slot: {error}")),
        _ => {}
    }
    match (&status.clock_skew.value, &status.clock_skew.error) {
        (Some(skew), _) if skew.above_conflict_window => warnings.push(format!(
            "clock skew {} ms between the databases exceeds conflict_window_ms {}: last-writer-wins may pick the \
             wrong edit",
            skew.skew_ms, skew.conflict_window_ms
        )),
        (_, Some(error)) => unreachable.push(format!("clock skew: {error}")),
        _ => {}
    }
    let health = if !unreachable.is_empty() {
        Health::Unreachable
    } else if !degraded.is_empty() {
        Health::Degraded
    } else {
        Health::Healthy
    };
    unreachable.extend(degraded);
    Verdict {
        health,
        problems: unreachable,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Side;
    use crate::status::clock::ClockSkew;
    use crate::status::connectors::{Connector, Connectors, Task};
    use crate::status::consumer_lag::GroupLag;
    use crate::status::dead_letters::DeadLetters;
    use crate::status::ledger::figures;
    use crate::status::probe::{Probe, ProbeError};
    use crate::status::slot::Slot;
    use crate::status::DirectionStatus;
    use chrono::Utc;
    use std::collections::BTreeMap;

    fn healthy() -> Status {
        let direction = |name: &str, target| DirectionStatus {
            direction: name.to_string(),
            topic: "t".into(),
            group: "g".into(),
            lag: Probe::of(Ok(GroupLag {
                total: 3,
                partitions: vec![],
            })),
            applied: Probe::of(Ok(figures(target, Utc::now(), None, None, 0))),
        };
        Status {
            health: Health::Healthy,
            exit_code: 0,
            problems: vec![],
            warnings: vec![],
            checked_at: Utc::now(),
            max_lag: 10,
            directions: vec![
                direction("legacy_to_revamp", Side::Revamp),
                direction("revamp_to_legacy", Side::Legacy),
            ],
            dead_letters: Probe::of(Ok(DeadLetters {
                topic: "sync.dlq".into(),
                replay_group: "dbsync-dlq-replay".into(),
                since: None,
                depth: 0,
                by_reason: BTreeMap::new(),
                reasons_complete: true,
            })),
            connectors: Probe::of(Ok(Connectors {
                connect_url: "http://127.0.0.1:8083".into(),
                connectors: vec![Connector {
                    name: "dbsync-legacy".into(),
                    state: "RUNNING".into(),
                    tasks: vec![Task {
                        id: 0,
                        state: "RUNNING".into(),
                    }],
                    running: true,
                }],
            })),
            replication_slot: Probe::of(Ok(Slot {
                slot: "dbsync_legacy".into(),
                exists: true,
                active: Some(true),
                lag_bytes: Some(56),
            })),
            clock_skew: Probe::of(Ok(ClockSkew {
                skew_ms: 2,
                uncertainty_ms: 1,
                legacy_round_trip_ms: 1,
                revamp_round_trip_ms: 1,
                conflict_window_ms: 1_000,
                above_conflict_window: false,
            })),
            consumer_counters: super::super::CONSUMER_COUNTERS,
        }
    }

    #[test]
    fn all_well_is_healthy() {
        let verdict = assess(&healthy());
        assert_eq!(verdict.health, Health::Healthy);
        assert!(verdict.problems.is_empty() && verdict.warnings.is_empty());
        assert_eq!(verdict.health.exit_code(), 0);
    }

    #[test]
    fn lag_above_the_threshold_degrades() {
        let mut status = healthy();
        if let Some(lag) = status.directions[0].lag.value.as_mut() {
            lag.total = 11;
        }
        let verdict = assess(&status);
        assert_eq!(verdict.health.exit_code(), 1);
        assert!(
            verdict.problems[0].contains("consumer lag 11"),
            "{:?}",
            verdict.problems
        );
    }

    #[test]
    fn a_stopped_task_or_a_dead_letter_degrades() {
        let mut status = healthy();
        if let Some(list) = status.connectors.value.as_mut() {
            list.connectors[0].running = false;
            list.connectors[0].tasks[0].state = "FAILED".into();
        }
        if let Some(dlq) = status.dead_letters.value.as_mut() {
            dlq.depth = 2;
        }
        let verdict = assess(&status);
        assert_eq!(verdict.health, Health::Degraded);
        assert_eq!(verdict.problems.len(), 2, "{:?}", verdict.problems);
    }

    #[test]
    fn an_unreadable_source_wins_over_everything() {
        let mut status = healthy();
        if let Some(dlq) = status.dead_letters.value.as_mut() {
            dlq.depth = 2;
        }
        status.connectors = Probe::of(Err(ProbeError::Timeout {
            what: "kafka connect".into(),
            ms: 5,
        }));
        let verdict = assess(&status);
        assert_eq!(verdict.health.exit_code(), 2);
        assert!(
            verdict.problems[0].starts_with("connectors:"),
            "{:?}",
            verdict.problems
        );
    }

    #[test]
    fn clock_skew_only_warns() {
        let mut status = healthy();
        if let Some(skew) = status.clock_skew.value.as_mut() {
            skew.skew_ms = -1_500;
            skew.above_conflict_window = true;
        }
        let verdict = assess(&status);
        assert_eq!(verdict.health, Health::Healthy);
        assert!(
            verdict.warnings[0].contains("-1500 ms"),
            "{:?}",
            verdict.warnings
        );
    }
}

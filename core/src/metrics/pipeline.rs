//! The consumer's Prometheus metrics: their names (all `dbsync_`), help texts, histogram buckets, and the calls the
//! pipeline makes. Every series carries `direction` (`legacy_to_revamp`, `revamp_to_legacy`) and `topic`; the ones
//! that differ per partition also carry `partition`. README "Operating dbsync: Metrics" documents each.

use crate::config::Direction;
use crate::error::DeadLetterReason;
use chrono::{DateTime, Utc};
use metrics::{
    counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Unit,
};
use std::time::Duration;

/// How often librdkafka reports its statistics (the source of the consumer lag) when metrics are on, in ms.
pub(crate) const KAFKA_STATS_INTERVAL_MS: &str = "5000";

/// The metric names.
pub mod names {
    /// Counter: messages settled, by `outcome` (see [`Outcome`](super::Outcome)).
    pub const EVENTS: &str = "dbsync_events_total";
    /// Counter: messages dead-lettered, by `reason` (the `dbsync.reason` header).
    pub const DEAD_LETTERS: &str = "dbsync_dead_letters_total";
    /// Counter: batch attempts that failed and were put back to be tried again (transient errors, outages).
    pub const BATCH_RETRIES: &str = "dbsync_batch_retries_total";
    /// Histogram: time of one batch's database transaction, in seconds.
    pub const BATCH_APPLY: &str = "dbsync_batch_apply_seconds";
    /// Histogram: source commit (`source.ts_ms`) to target commit of each applied event, in seconds.
    pub const END_TO_END_LAG: &str = "dbsync_end_to_end_lag_seconds";
    /// Gauge: the same delay for the last applied event of a partition, in seconds.
    pub const LAST_END_TO_END_LAG: &str = "dbsync_last_end_to_end_lag_seconds";
    /// Gauge: source commit time of the last applied event of a partition (Unix seconds).
    pub const LAST_APPLIED_SOURCE_TIME: &str = "dbsync_last_applied_source_timestamp_seconds";
    /// Gauge: messages on the partition not yet committed by this consumer group (librdkafka's `consumer_lag`).
    pub const CONSUMER_LAG: &str = "dbsync_consumer_lag_messages";
    /// Gauge: messages parked on the partition (their row waits for a parent or a unique key).
    pub const PARKED: &str = "dbsync_parked_messages";
    /// Gauge: 1 while the target database is unavailable (every partition waits), else 0.
    pub const TARGET_UNAVAILABLE: &str = "dbsync_target_unavailable";
}

/// Histogram buckets, in seconds: a batch takes milliseconds to seconds; end-to-end lag spans the sync's 5-second
/// promise up to a backlog of many minutes.
pub(crate) const BUCKETS: [(&str, &[f64]); 2] = [
    (
        names::BATCH_APPLY,
        &[
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ],
    ),
    (
        names::END_TO_END_LAG,
        &[
            0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
        ],
    ),
];

/// How a message was settled (the `outcome` label of [`names::EVENTS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Written to the target.
    Applied,
    /// Written by the sync service itself (an echo): skipped.
    SkippedEcho,
    /// Already in the ledger (a replay): skipped.
    Duplicate,
    /// Lost to a newer version on the target (or its parent was deleted there).
    ConflictLost,
    /// Nothing to apply (a Kafka tombstone, a pruned dbsync tombstone).
    Skipped,
    /// Sent to the dead-letter topic.
    DeadLettered,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::SkippedEcho => "skipped_echo",
            Outcome::Duplicate => "duplicate",
            Outcome::ConflictLost => "conflict_lost",
            Outcome::Skipped => "skipped",
            Outcome::DeadLettered => "dead_lettered",
        }
    }
}

/// Registers the help texts and units (called once, when the recorder is installed).
pub(crate) fn describe() {
    describe_counter!(names::EVENTS, "Messages settled, by outcome.");
    describe_counter!(
        names::DEAD_LETTERS,
        "Messages sent to the dead-letter topic, by reason."
    );
    describe_counter!(
        names::BATCH_RETRIES,
        "Batch attempts that failed and were tried again."
    );
    describe_histogram!(
        names::BATCH_APPLY,
        Unit::Seconds,
        "Duration of one batch's database transaction."
    );
    describe_histogram!(
        names::END_TO_END_LAG,
        Unit::Seconds,
        "Source commit to target commit of each applied event."
    );
    describe_gauge!(
        names::LAST_END_TO_END_LAG,
        Unit::Seconds,
        "Source commit to target commit of the partition's last applied event."
    );
    describe_gauge!(
        names::LAST_APPLIED_SOURCE_TIME,
        Unit::Seconds,
        "Source commit time (Unix) of the partition's last applied event."
    );
    describe_gauge!(
        names::CONSUMER_LAG,
        "Messages of the partition not yet committed by the consumer group."
    );
    describe_gauge!(
        names::PARKED,
        "Messages parked on the partition, waiting for another row."
    );
    describe_gauge!(
        names::TARGET_UNAVAILABLE,
        "1 while the target database is unavailable, else 0."
    );
}

/// The recording calls of one consumer, with its `direction` and `topic` labels.
#[derive(Debug, Clone)]
pub(crate) struct PipelineMetrics {
    direction: &'static str,
    topic: String,
}

impl PipelineMetrics {
    /// Labels for a consumer of `topic` moving changes `direction`. Registers the series that alerts watch (dead
    /// letters by reason, the outage gauge) at zero, so their first increase shows.
    pub(crate) fn new(direction: Direction, topic: &str) -> Self {
        let metrics = PipelineMetrics {
            direction: match direction {
                Direction::LegacyToRevamp => "legacy_to_revamp",
                Direction::RevampToLegacy => "revamp_to_legacy",
            },
            topic: topic.to_string(),
        };
        for reason in DeadLetterReason::ALL {
            metrics.dead_letters(reason).increment(0);
        }
        metrics.target_unavailable(false);
        metrics
    }

    /// Counts one settled message of `partition`.
    pub(crate) fn event(&self, partition: i32, outcome: Outcome) {
        self.events(partition, outcome, 1);
    }

    /// Counts `n` settled messages of `partition`.
    pub(crate) fn events(&self, partition: i32, outcome: Outcome, n: u64) {
        counter!(names::EVENTS, "direction" => self.direction, "topic" => self.topic.clone(),
            "partition" => partition.to_string(), "outcome" => outcome.as_str())
        .increment(n);
    }

    /// Counts one dead letter of `partition` for `reason`.
    pub(crate) fn dead_lettered(&self, partition: i32, reason: DeadLetterReason) {
        self.event(partition, Outcome::DeadLettered);
        self.dead_letters(reason).increment(1);
    }

    fn dead_letters(&self, reason: DeadLetterReason) -> metrics::Counter {
        counter!(names::DEAD_LETTERS, "direction" => self.direction, "topic" => self.topic.clone(),
            "reason" => reason.as_str())
    }

    /// Counts a failed batch attempt of `partition` that will be tried again.
    pub(crate) fn batch_retried(&self, partition: i32) {
        counter!(names::BATCH_RETRIES, "direction" => self.direction, "topic" => self.topic.clone(),
            "partition" => partition.to_string())
        .increment(1);
    }

    /// Records one batch transaction's duration.
    pub(crate) fn batch_applied(&self, elapsed: Duration) {
        histogram!(names::BATCH_APPLY, "direction" => self.direction, "topic" => self.topic.clone())
            .record(elapsed.as_secs_f64());
    }

    /// Records the end-to-end delay of events of `partition` committed on the source at `sources` (in offset
    /// order) and on the target at `target`. A source clock ahead of this host's counts as no delay.
    pub(crate) fn applied(&self, partition: i32, sources: &[DateTime<Utc>], target: DateTime<Utc>) {
        let Some(last) = sources.last() else {
            return;
        };
        let delay = |source: &DateTime<Utc>| {
            (target - *source).num_microseconds().unwrap_or(0).max(0) as f64 / 1e6
        };
        let lag = histogram!(names::END_TO_END_LAG, "direction" => self.direction, "topic" => self.topic.clone());
        for source in sources {
            lag.record(delay(source));
        }
        let partition = partition.to_string();
        gauge!(names::LAST_END_TO_END_LAG, "direction" => self.direction, "topic" => self.topic.clone(),
            "partition" => partition.clone())
        .set(delay(last));
        gauge!(names::LAST_APPLIED_SOURCE_TIME, "direction" => self.direction, "topic" => self.topic.clone(),
            "partition" => partition)
        .set(last.timestamp_micros() as f64 / 1e6);
    }

    /// Sets the consumer group's lag on `partition`.
    pub(crate) fn consumer_lag(&self, partition: i32, messages: i64) {
        gauge!(names::CONSUMER_LAG, "direction" => self.direction, "topic" => self.topic.clone(),
            "partition" => partition.to_string())
        .set(messages as f64);
    }

    /// Sets how many messages of `partition` are parked.
    pub(crate) fn parked(&self, partition: i32, messages: usize) {
        gauge!(names::PARKED, "direction" => self.direction, "topic" => self.topic.clone(),
            "partition" => partition.to_string())
        .set(messages as f64);
    }

    /// Sets whether the target database is unavailable.
    pub(crate) fn target_unavailable(&self, down: bool) {
        gauge!(names::TARGET_UNAVAILABLE, "direction" => self.direction, "topic" => self.topic.clone())
            .set(if down { 1.0 } else { 0.0 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics_exporter_prometheus::PrometheusBuilder;

    /// Renders what `record` records, through a local recorder (the global one stays untouched).
    fn render(record: impl FnOnce(&PipelineMetrics)) -> String {
        let mut builder = PrometheusBuilder::new();
        for (name, buckets) in BUCKETS {
            builder = builder
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Full(name.into()),
                    buckets,
                )
                .unwrap();
        }
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            describe();
            record(&PipelineMetrics::new(
                Direction::LegacyToRevamp,
                "legacy.events",
            ));
        });
        handle.render()
    }

    #[test]
    fn outcomes_dead_letters_and_gauges_carry_their_labels() {
        let text = render(|m| {
            m.event(2, Outcome::Applied);
            m.events(2, Outcome::Duplicate, 3);
            m.dead_lettered(1, DeadLetterReason::ParentMissing);
            m.consumer_lag(0, 42);
            m.parked(1, 2);
            m.target_unavailable(true);
        });
        for line in [
            r#"dbsync_events_total{direction="legacy_to_revamp",topic="legacy.events",partition="2",outcome="applied"} 1"#,
            r#"dbsync_events_total{direction="legacy_to_revamp",topic="legacy.events",partition="2",outcome="duplicate"} 3"#,
            r#"dbsync_events_total{direction="legacy_to_revamp",topic="legacy.events",partition="1",outcome="dead_lettered"} 1"#,
            r#"dbsync_dead_letters_total{direction="legacy_to_revamp",topic="legacy.events",reason="parent_missing"} 1"#,
            r#"dbsync_dead_letters_total{direction="legacy_to_revamp",topic="legacy.events",reason="malformed"} 0"#,
            r#"dbsync_consumer_lag_messages{direction="legacy_to_revamp",topic="legacy.events",partition="0"} 42"#,
            r#"dbsync_parked_messages{direction="legacy_to_revamp",topic="legacy.events",partition="1"} 2"#,
            r#"dbsync_target_unavailable{direction="legacy_to_revamp",topic="legacy.events"} 1"#,
            "# TYPE dbsync_events_total counter",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing `{line}` in\n{text}"
            );
        }
    }

    #[test]
    fn end_to_end_lag_is_a_histogram_and_a_gauge_never_negative() {
        let target = Utc::now();
        let sources = [
            target - chrono::TimeDelta::seconds(3),
            target + chrono::TimeDelta::seconds(1),
        ];
        let text = render(|m| {
            m.applied(0, &sources, target);
            m.applied(1, &[], target);
            m.batch_applied(Duration::from_millis(20));
        });
        let labels = r#"direction="legacy_to_revamp",topic="legacy.events""#;
        for line in [
            format!("dbsync_end_to_end_lag_seconds_count{{{labels}}} 2"),
            format!("dbsync_end_to_end_lag_seconds_sum{{{labels}}} 3"),
            format!(r#"dbsync_end_to_end_lag_seconds_bucket{{{labels},le="0.05"}} 1"#),
            format!(r#"dbsync_end_to_end_lag_seconds_bucket{{{labels},le="5"}} 2"#),
            format!(r#"dbsync_last_end_to_end_lag_seconds{{{labels},partition="0"}} 0"#),
            format!(r#"dbsync_batch_apply_seconds_bucket{{{labels},le="0.025"}} 1"#),
            "# TYPE dbsync_end_to_end_lag_seconds histogram".to_string(),
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing `{line}` in\n{text}"
            );
        }
        assert!(
            !text.contains(r#"partition="1""#),
            "no events, no gauge:\n{text}"
        );
    }
}

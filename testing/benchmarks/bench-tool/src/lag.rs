//! Delay percentiles of the events whose source transaction committed inside a window, per direction:
//! - end to end, from the target's ledger: `applied_at` (the time of the ledger write, inside the batch's
//!   transaction just before its commit) minus `source_committed_at` (Debezium's `source.ts_ms`; MariaDB stamps
//!   whole seconds, which the consumer narrows by the row's own `updated_at`);
//! - Debezium's capture, from the topic: the message's Kafka timestamp minus the same source commit.
//!
//! End to end is also given as the p99 of each 10-s slice of the window, by source commit: flat when the sync keeps
//! up with the load, rising when its backlog grows.
//!
//! Every process runs on one host here, so the clocks agree.

use crate::cli::{Databases, LagArgs, Side};
use crate::db;
use crate::stats::{p99_by_slice, summary, SLICE_SECS};
use anyhow::{Context, Result};
use chrono::DateTime;
use dbsync_core::commit_estimate;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(10);

pub async fn run(databases: &Databases, args: &LagArgs) -> Result<()> {
    let (since, until) = (args.since_ms as f64 / 1000.0, args.until_ms as f64 / 1000.0);
    // legacy -> revamp lands in the revamp ledger; revamp -> legacy in the legacy one.
    let revamp = db::pool(databases, Side::Revamp, false, 1).await?;
    let into_revamp = revamp
        .float_pairs(format!(
            "SELECT CAST(UNIX_TIMESTAMP(source_committed_at) AS DOUBLE), \
             CAST(TIMESTAMPDIFF(MICROSECOND, source_committed_at, applied_at) AS DOUBLE) / 1000 FROM dbsync_applied_events WHERE source_committed_at BETWEEN FROM_UNIXTIME({since}) AND FROM_UNIXTIME({until})"
        ))
        .await?;
    let legacy = db::pool(databases, Side::Legacy, false, 1).await?;
    let into_legacy = legacy
        .float_pairs(format!(
            "SELECT EXTRACT(EPOCH FROM source_committed_at)::float8, \
             (EXTRACT(EPOCH FROM applied_at - source_committed_at) * 1000)::float8 FROM dbsync_applied_events WHERE source_committed_at BETWEEN to_timestamp({since}) AND to_timestamp({until})"
        ))
        .await?;
    let capture_legacy = capture(
        &args.brokers,
        &args.legacy_topic,
        args.since_ms,
        args.until_ms,
    )?;
    let capture_revamp = capture(
        &args.brokers,
        &args.revamp_topic,
        args.since_ms,
        args.until_ms,
    )?;
    for (direction, applied, captured) in [
        ("legacy_to_revamp", into_revamp, capture_legacy),
        ("revamp_to_legacy", into_legacy, capture_revamp),
    ] {
        println!(
            "{direction} {} {} {}",
            summary("e2e_ms", applied.iter().map(|&(_, ms)| ms).collect()),
            p99_by_slice("e2e_ms", &applied, since, SLICE_SECS),
            summary("capture_ms", captured)
        );
    }
    Ok(())
}

/// The source commit of one Debezium envelope, in epoch ms: `source.ts_ms`, narrowed within its second by the row's
/// `updated_at` (epoch microseconds on MariaDB), as the consumer does for the ledger ([`commit_estimate`]).
fn committed_ms(envelope: &serde_json::Value) -> Option<i64> {
    let reported =
        DateTime::from_timestamp_millis(envelope.get("source")?.get("ts_ms")?.as_i64()?)?;
    let stamped = envelope
        .get("after")
        .and_then(|after| after.get("updated_at"))
        .and_then(serde_json::Value::as_i64)
        .and_then(DateTime::from_timestamp_micros);
    Some(
        stamped
            .map_or(reported, |at| commit_estimate(reported, at))
            .timestamp_millis(),
    )
}

/// Kafka timestamp minus the source commit (`committed_ms`) of every message on `topic` whose source commit is in the window.
fn capture(brokers: &str, topic: &str, since_ms: i64, until_ms: i64) -> Result<Vec<f64>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "dbsync-bench-lag")
        .set("enable.auto.commit", "false")
        .create()
        .context("creating a Kafka reader")?;
    let metadata = consumer.fetch_metadata(Some(topic), TIMEOUT)?;
    let mut wanted = TopicPartitionList::new();
    let mut ends = Vec::new();
    for partition in metadata.topics().iter().flat_map(|t| t.partitions()) {
        wanted.add_partition_offset(topic, partition.id(), Offset::Offset(since_ms))?;
        ends.push((
            partition.id(),
            consumer.fetch_watermarks(topic, partition.id(), TIMEOUT)?.1,
        ));
    }
    // Messages are written after their source commit, so nothing of the window comes before `since_ms`.
    let start = consumer.offsets_for_times(wanted, TIMEOUT)?;
    consumer.assign(&start)?;
    let mut remaining: i64 = start
        .elements()
        .iter()
        .map(|e| {
            let end = ends
                .iter()
                .find(|(p, _)| *p == e.partition())
                .map_or(0, |(_, h)| *h);
            match e.offset() {
                Offset::Offset(o) => (end - o).max(0),
                _ => 0,
            }
        })
        .sum();
    let mut delays = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while remaining > 0 && Instant::now() < deadline {
        let Some(message) = consumer.poll(Duration::from_millis(500)) else {
            continue;
        };
        let message = message?;
        remaining -= 1;
        let Some(kafka_ms) = message.timestamp().to_millis() else {
            continue;
        };
        let source_ms = message
            .payload()
            .and_then(|p| serde_json::from_slice::<serde_json::Value>(p).ok())
            .and_then(|v| committed_ms(v.get("payload").unwrap_or(&v)));
        if let Some(source_ms) = source_ms.filter(|ms| (since_ms..=until_ms).contains(ms)) {
            delays.push((kafka_ms - source_ms) as f64);
        }
    }
    Ok(delays)
}

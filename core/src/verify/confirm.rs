//! Waiting before a difference is looked at again (Veridata's "confirm out-of-sync"): first the confirmation delay,
//! so that what committed before the difference was seen has reached its topic; then, when brokers are configured,
//! until both directions' consumer groups have committed past the end offsets read at that moment, so every change
//! published by then has been applied. A row still different afterwards, and unchanged since it was seen, is drift.
//!
//! The consumer-offset wait gives up at `confirm_timeout_ms` (a stopped consumer must not hang verify); the report
//! says whether the consumers caught up.

use super::error::VerifyError;
use super::options::VerifyOptions;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::{Offset, TopicPartitionList};
use std::time::{Duration, Instant};

/// Longest wait for one answer from Kafka.
const KAFKA_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the committed offsets are read while waiting.
const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// One direction: its topic and its consumer group, with the end offsets to pass.
struct Direction {
    topic: String,
    consumer: BaseConsumer,
    ends: Vec<(i32, i64)>,
}

/// Blocks until both consumer groups committed past the topics' current end offsets (true), or `deadline`
/// passes (false). Runs Kafka's blocking client: call it from a blocking thread.
pub(crate) fn consumers_caught_up(
    options: &VerifyOptions,
    brokers: &str,
    deadline: Instant,
) -> Result<bool, VerifyError> {
    let mut directions = Vec::with_capacity(2);
    for (topic, suffix) in [
        (&options.legacy_topic, "legacy-to-revamp"),
        (&options.revamp_topic, "revamp-to-legacy"),
    ] {
        let group = options.group(suffix);
        let consumer: BaseConsumer = crate::kafka::client_config(
            brokers,
            &options.kafka_properties,
            &crate::kafka::client_id("verify", &group),
        )
        .set("group.id", &group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .create()
        .map_err(kafka("creating the offsets client"))?;
        let ends = end_offsets(&consumer, topic)?;
        directions.push(Direction {
            topic: topic.clone(),
            consumer,
            ends,
        });
    }
    loop {
        let mut behind = false;
        for direction in &directions {
            behind |= !passed(direction)?;
        }
        if !behind {
            return Ok(true);
        }
        if Instant::now() + POLL_INTERVAL > deadline {
            return Ok(false);
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

fn kafka(context: &'static str) -> impl Fn(rdkafka::error::KafkaError) -> VerifyError {
    move |source| VerifyError::Kafka {
        context: context.to_string(),
        source,
    }
}

/// Each partition's end offset (high watermark) now.
fn end_offsets(consumer: &BaseConsumer, topic: &str) -> Result<Vec<(i32, i64)>, VerifyError> {
    let metadata = consumer
        .fetch_metadata(Some(topic), KAFKA_TIMEOUT)
        .map_err(kafka("reading the topic's metadata"))?;
    let mut ends = Vec::new();
    for found in metadata.topics().iter().filter(|t| t.name() == topic) {
        for partition in found.partitions() {
            let (_, high) = consumer
                .fetch_watermarks(topic, partition.id(), KAFKA_TIMEOUT)
                .map_err(kafka("reading the end offsets"))?;
            ends.push((partition.id(), high));
        }
    }
    Ok(ends)
}

/// Whether the group committed at or past every recorded end offset (an empty partition counts as passed).
fn passed(direction: &Direction) -> Result<bool, VerifyError> {
    let mut list = TopicPartitionList::new();
    for (partition, _) in &direction.ends {
        list.add_partition(&direction.topic, *partition);
    }
    let committed = direction
        .consumer
        .committed_offsets(list, KAFKA_TIMEOUT)
        .map_err(kafka("reading the committed offsets"))?;
    Ok(direction.ends.iter().all(|(partition, end)| {
        let at = match committed
            .find_partition(&direction.topic, *partition)
            .map(|e| e.offset())
        {
            Some(Offset::Offset(offset)) => offset,
            _ => 0,
        };
        at >= *end
    }))
}

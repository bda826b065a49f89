//! Consumer-group lag, read from Kafka and not from the consumers: per partition, the topic's end offset (high
//! watermark) minus the group's committed offset (what kafka-lag-exporter calls the group lag). A partition the
//! group never committed counts from its earliest retained offset, where the consumers would start.

use super::options::StatusOptions;
use super::probe::ProbeError;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::{Offset, TopicPartitionList};
use serde::Serialize;
use std::time::Duration;

/// One partition's lag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartitionLag {
    /// The partition number.
    pub partition: i32,
    /// The group's committed offset (the next message it will read), if it committed one.
    pub committed: Option<i64>,
    /// The partition's end offset.
    pub end: i64,
    /// Messages the group has not committed yet.
    pub lag: i64,
}

/// One consumer group's lag on its topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupLag {
    /// The sum over the partitions.
    pub total: i64,
    /// Per partition, in partition order.
    pub partitions: Vec<PartitionLag>,
}

/// A consumer that only reads metadata, offsets and (assigned, never committing) messages with `group`'s id: it
/// never joins the group, so the group's members are not disturbed.
pub(super) fn consumer(options: &StatusOptions, group: &str) -> Result<BaseConsumer, ProbeError> {
    let client_id = crate::kafka::client_id("status", group);
    crate::kafka::client_config(&options.brokers, &options.kafka_properties, &client_id)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false")
        .create()
        .map_err(ProbeError::kafka("creating the status client"))
}

/// The topic's partition numbers; [`ProbeError::TopicMissing`] when the broker does not know it.
pub(super) fn partitions(
    consumer: &BaseConsumer,
    topic: &str,
    timeout: Duration,
) -> Result<Vec<i32>, ProbeError> {
    let metadata = consumer
        .fetch_metadata(Some(topic), timeout)
        .map_err(ProbeError::kafka(format!(
            "reading the metadata of `{topic}`"
        )))?;
    let found = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic && t.error().is_none() && !t.partitions().is_empty())
        .ok_or_else(|| ProbeError::TopicMissing {
            topic: topic.to_string(),
        })?;
    let mut numbers: Vec<i32> = found.partitions().iter().map(|p| p.id()).collect();
    numbers.sort_unstable();
    Ok(numbers)
}

/// The committed offset of `consumer`'s group for each of `partitions` (`None`: never committed).
pub(super) fn committed(
    consumer: &BaseConsumer,
    topic: &str,
    partitions: &[i32],
    timeout: Duration,
) -> Result<Vec<Option<i64>>, ProbeError> {
    let mut list = TopicPartitionList::new();
    for partition in partitions {
        list.add_partition(topic, *partition);
    }
    let committed = consumer
        .committed_offsets(list, timeout)
        .map_err(ProbeError::kafka(format!(
            "reading the committed offsets on `{topic}`"
        )))?;
    Ok(per_partition(&committed, topic, partitions))
}

/// The offset `answer` holds for each of `partitions` (`None`: no offset, e.g. never committed or no such message).
pub(super) fn per_partition(
    answer: &TopicPartitionList,
    topic: &str,
    partitions: &[i32],
) -> Vec<Option<i64>> {
    let offset = |p: &i32| match answer.find_partition(topic, *p).map(|e| e.offset()) {
        Some(Offset::Offset(offset)) => Some(offset),
        _ => None,
    };
    partitions.iter().map(offset).collect()
}

/// Reads `group`'s lag on `topic`.
pub fn read(options: &StatusOptions, topic: &str, group: &str) -> Result<GroupLag, ProbeError> {
    let timeout = Duration::from_millis(options.timeout_ms);
    let consumer = consumer(options, group)?;
    let numbers = partitions(&consumer, topic, timeout)?;
    let committed = committed(&consumer, topic, &numbers, timeout)?;
    let mut lag = GroupLag {
        total: 0,
        partitions: Vec::with_capacity(numbers.len()),
    };
    for (partition, committed) in numbers.into_iter().zip(committed) {
        let (low, end) = consumer
            .fetch_watermarks(topic, partition, timeout)
            .map_err(ProbeError::kafka(format!(
                "reading the offsets of {topic}/{partition}"
            )))?;
        let behind = partition_lag(committed, low, end);
        lag.total += behind;
        lag.partitions.push(PartitionLag {
            partition,
            committed,
            end,
            lag: behind,
        });
    }
    Ok(lag)
}

/// Messages between where the group resumes (its commit, or the earliest retained offset) and the end.
pub fn partition_lag(committed: Option<i64>, low: i64, end: i64) -> i64 {
    let resume = committed.map_or(low, |c| c.max(low));
    (end - resume).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_counts_from_the_commit_or_the_earliest_offset() {
        assert_eq!(partition_lag(Some(40), 0, 100), 60);
        assert_eq!(partition_lag(Some(100), 0, 100), 0);
        assert_eq!(partition_lag(None, 20, 100), 80);
        // A commit below the retained range resumes at the earliest offset.
        assert_eq!(partition_lag(Some(5), 20, 100), 80);
        // Never negative, even if the end was read before the commit.
        assert_eq!(partition_lag(Some(101), 0, 100), 0);
    }
}

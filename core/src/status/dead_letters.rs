//! Dead-letter depth: letters in the dead-letter topic that still need an operator, counted by `dbsync.reason`.
//!
//! A letter counts when it lies past the replay group's committed offset (`dbsync:replay-dlq` has not sent it
//! back yet) and, with `dlq_since`, was written at or after that time. The depth comes from offsets and is exact;
//! the per-reason counts read the letters' headers (the replay's [`Letter`]), up to [`MAX_LETTERS_READ`] letters.

use super::consumer_lag::{committed, consumer, partitions, per_partition};
use super::options::StatusOptions;
use super::probe::ProbeError;
use crate::replay::letter::Letter;
use chrono::{DateTime, Utc};
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Most letters whose headers one status reads; past it, `reasons_complete` is false.
pub const MAX_LETTERS_READ: u64 = 10_000;

/// The dead letters that still need an operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadLetters {
    /// The dead-letter topic.
    pub topic: String,
    /// The replay group whose committed offsets mark what was replayed.
    pub replay_group: String,
    /// Only letters written at or after this time count (`dlq_since`).
    pub since: Option<DateTime<Utc>>,
    /// Letters that count.
    pub depth: u64,
    /// Letters read, per `dbsync.reason` (`unknown` for a letter without one).
    pub by_reason: BTreeMap<String, u64>,
    /// Whether every counted letter was read (false past [`MAX_LETTERS_READ`] or the timeout).
    pub reasons_complete: bool,
}

/// Counts the dead letters that still need an operator.
pub fn read(options: &StatusOptions) -> Result<DeadLetters, ProbeError> {
    let timeout = Duration::from_millis(options.timeout_ms);
    let topic = options.dlq_topic.as_str();
    let replay_group = options.group("dlq-replay");
    let since = options.dlq_since().ok().flatten();
    let consumer = consumer(options, &replay_group)?;
    let numbers = partitions(&consumer, topic, timeout)?;
    let replayed = committed(&consumer, topic, &numbers, timeout)?;
    let written_since = match since {
        Some(at) => Some(offsets_at(&consumer, topic, &numbers, at, timeout)?),
        None => None,
    };
    let mut ranges = BTreeMap::new();
    for (index, partition) in numbers.iter().enumerate() {
        let (low, end) = consumer
            .fetch_watermarks(topic, *partition, timeout)
            .map_err(ProbeError::kafka(format!(
                "reading the offsets of {topic}/{partition}"
            )))?;
        let first_since = written_since
            .as_ref()
            .and_then(|o| o[index])
            .map(|o| o.min(end));
        let start = first_counted(low, replayed[index], first_since, since.is_some(), end);
        if start < end {
            ranges.insert(*partition, (start, end));
        }
    }
    let depth = ranges.values().map(|(s, e)| (e - s) as u64).sum();
    let (by_reason, reasons_complete) = reasons(&consumer, topic, &ranges, depth, timeout)?;
    Ok(DeadLetters {
        topic: topic.to_string(),
        replay_group,
        since,
        depth,
        by_reason,
        reasons_complete,
    })
}

/// The first offset that counts: past the earliest retained one, the replay group's commit and, with a `since`
/// time, the first letter written at or after it (`None` then means no such letter: nothing counts).
pub fn first_counted(
    low: i64,
    replayed: Option<i64>,
    first_since: Option<i64>,
    has_since: bool,
    end: i64,
) -> i64 {
    let mut start = replayed.map_or(low, |r| r.max(low));
    if has_since {
        start = start.max(first_since.unwrap_or(end));
    }
    start
}

/// Per partition, the offset of the first message written at or after `at` (`None`: none is).
fn offsets_at(
    consumer: &BaseConsumer,
    topic: &str,
    partitions: &[i32],
    at: DateTime<Utc>,
    timeout: Duration,
) -> Result<Vec<Option<i64>>, ProbeError> {
    let mut list = TopicPartitionList::new();
    for partition in partitions {
        list.add_partition_offset(topic, *partition, Offset::Offset(at.timestamp_millis()))
            .map_err(ProbeError::kafka("building the time lookup"))?;
    }
    let found = consumer
        .offsets_for_times(list, timeout)
        .map_err(ProbeError::kafka(format!(
            "looking up offsets by time on `{topic}`"
        )))?;
    Ok(per_partition(&found, topic, partitions))
}

/// Reads the counted letters' `dbsync.reason` headers, within `MAX_LETTERS_READ` and `timeout`.
fn reasons(
    consumer: &BaseConsumer,
    topic: &str,
    ranges: &BTreeMap<i32, (i64, i64)>,
    depth: u64,
    timeout: Duration,
) -> Result<(BTreeMap<String, u64>, bool), ProbeError> {
    let mut by_reason = BTreeMap::new();
    if ranges.is_empty() {
        return Ok((by_reason, true));
    }
    let mut assignment = TopicPartitionList::new();
    for (partition, (start, _)) in ranges {
        assignment
            .add_partition_offset(topic, *partition, Offset::Offset(*start))
            .map_err(ProbeError::kafka("building the assignment"))?;
    }
    consumer
        .assign(&assignment)
        .map_err(ProbeError::kafka(format!("assigning `{topic}`")))?;
    let mut pending: BTreeMap<i32, i64> = ranges.iter().map(|(p, (_, e))| (*p, *e)).collect();
    let mut read = 0;
    let deadline = Instant::now() + timeout;
    while !pending.is_empty() && read < MAX_LETTERS_READ.min(depth) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let message = match consumer.poll(left.min(Duration::from_millis(200))) {
            None => continue,
            // librdkafka reconnects by itself; the deadline bounds how long it may try.
            Some(Err(error)) => {
                tracing::debug!(%error, "kafka error while reading dead letters for the status");
                continue;
            }
            Some(Ok(message)) => message,
        };
        let Some(&end) = pending.get(&message.partition()) else {
            continue;
        };
        if message.offset() < end {
            *by_reason.entry(Letter::of(&message).reason).or_default() += 1;
            read += 1;
        }
        if message.offset() + 1 >= end {
            pending.remove(&message.partition());
        }
    }
    Ok((by_reason, read == depth))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_count_past_the_replay_commit() {
        // Never replayed: from the earliest retained letter.
        assert_eq!(first_counted(3, None, None, false, 10), 3);
        // Replayed up to 8: two letters left.
        assert_eq!(first_counted(3, Some(8), None, false, 10), 8);
    }

    #[test]
    fn since_leaves_out_older_letters() {
        // The first letter written since is at 6, the replay commit at 4: from 6.
        assert_eq!(first_counted(0, Some(4), Some(6), true, 10), 6);
        // The replay commit is further: from there.
        assert_eq!(first_counted(0, Some(9), Some(6), true, 10), 9);
        // No letter written since: nothing counts.
        assert_eq!(first_counted(0, None, None, true, 10), 10);
    }
}

//! The parent watermark: may a child whose parent is missing give up waiting? The parent was committed on the
//! source before the child (a foreign key), so Debezium published it first and stamped it no later than the child.
//! Once every partition of the topic has been consumed past the child's timestamp, a parent that is still missing
//! is not late but absent (an event-time watermark, as stream processors use). Wall-clock patience alone is the
//! wrong test: a partition held up by a rebalance or a slow member would dead-letter children whose parents are
//! only late.
//!
//! Progress comes from the queues for this member's partitions (parked rows stamped after the child, and the
//! child's own row, do not hold it back) and from the group's committed offsets for the others.

use super::partition::{PartitionQueue, Queues};
use super::Consumer;
use rdkafka::consumer::Consumer as _;
use rdkafka::error::KafkaResult;
use rdkafka::{Offset, TopicPartitionList};
use std::time::Duration;
use tracing::{debug, warn};

/// How long each broker query of the check may take.
const QUERY_TIMEOUT: Duration = Duration::from_secs(5);

/// The partition being processed and the member's other queues.
pub(super) struct OwnQueues<'a> {
    pub partition: i32,
    pub queue: &'a PartitionQueue,
    pub others: &'a Queues,
}

impl Consumer {
    /// Whether every partition of the topic is consumed past `timestamp_ms`, leaving out `row`'s own messages.
    /// A broker that does not answer means "not yet".
    pub(super) fn consumed_past(
        &self,
        timestamp_ms: i64,
        row: Option<&(String, i64)>,
        own: &OwnQueues<'_>,
    ) -> bool {
        match self.try_consumed_past(timestamp_ms, row, own) {
            Ok(passed) => passed,
            Err(error) => {
                warn!(%error, "could not read the topic's progress; the child keeps waiting");
                false
            }
        }
    }

    fn try_consumed_past(
        &self,
        timestamp_ms: i64,
        row: Option<&(String, i64)>,
        own: &OwnQueues<'_>,
    ) -> KafkaResult<bool> {
        let topic = self.config.topic.as_str();
        let metadata = self.kafka.fetch_metadata(Some(topic), QUERY_TIMEOUT)?;
        let partitions: Vec<i32> = metadata
            .topics()
            .iter()
            .filter(|t| t.name() == topic)
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect();
        let mut by_time = TopicPartitionList::new();
        let mut all = TopicPartitionList::new();
        for partition in &partitions {
            by_time.add_partition_offset(topic, *partition, Offset::Offset(timestamp_ms + 1))?;
            all.add_partition(topic, *partition);
        }
        // The first offset stamped after the child, per partition: everything before it must be done.
        let targets = self.kafka.offsets_for_times(by_time, QUERY_TIMEOUT)?;
        let committed = self.kafka.committed_offsets(all, QUERY_TIMEOUT)?;
        for partition in partitions {
            let target = match targets.find_partition(topic, partition).map(|e| e.offset()) {
                Some(Offset::Offset(offset)) => offset,
                // Nothing stamped later: every message there now must be done.
                _ => {
                    self.kafka
                        .fetch_watermarks(topic, partition, QUERY_TIMEOUT)?
                        .1
                }
            };
            let queued = if partition == own.partition {
                own.queue.done_through(timestamp_ms, row)
            } else {
                // The loop holds no borrow while a step runs; were one held, the committed offset stands in.
                own.others.try_borrow().ok().and_then(|queues| {
                    queues
                        .get(&partition)
                        .and_then(|q| q.done_through(timestamp_ms, None))
                })
            };
            let done = queued.or_else(|| {
                match committed
                    .find_partition(topic, partition)
                    .map(|e| e.offset())
                {
                    Some(Offset::Offset(offset)) => Some(offset),
                    _ => None,
                }
            });
            if target > 0 && done.is_none_or(|done| done < target) {
                debug!(partition, ?done, target, "not consumed past the child yet");
                return Ok(false);
            }
        }
        Ok(true)
    }
}

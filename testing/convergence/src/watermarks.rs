//! Kafka offsets: a topic's end offsets (high watermarks, every partition) and what a consumer group has committed.
//! The difference of end offsets before and after the run is the number of events published meanwhile; a group whose
//! committed offsets equal the end offsets has applied (or dead-lettered) everything.

use anyhow::{bail, Context, Result};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(10);

/// Offsets per partition.
pub type Offsets = BTreeMap<i32, i64>;

/// The sum over partitions.
pub fn total(offsets: &Offsets) -> i64 {
    offsets.values().sum()
}

/// Reads offsets from one broker, as one group (the group is only named, never joined).
pub struct Kafka {
    consumer: BaseConsumer,
}

impl Kafka {
    /// A client that reads `group`'s committed offsets (and any topic's end offsets).
    pub fn new(brokers: &str, group: &str) -> Result<Self> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .create()
            .with_context(|| format!("connecting to Kafka at {brokers}"))?;
        Ok(Kafka { consumer })
    }

    fn partitions(&self, topic: &str) -> Result<Vec<i32>> {
        let metadata = self
            .consumer
            .fetch_metadata(Some(topic), TIMEOUT)
            .with_context(|| format!("reading the metadata of `{topic}`"))?;
        let Some(found) = metadata.topics().iter().find(|t| t.name() == topic) else {
            bail!("topic `{topic}` does not exist");
        };
        if let Some(error) = found.error() {
            bail!("topic `{topic}`: {error:?}");
        }
        Ok(found.partitions().iter().map(|p| p.id()).collect())
    }

    /// End offset (high watermark) of every partition of `topic`.
    pub fn end_offsets(&self, topic: &str) -> Result<Offsets> {
        self.partitions(topic)?
            .into_iter()
            .map(|partition| {
                let (_, high) = self
                    .consumer
                    .fetch_watermarks(topic, partition, TIMEOUT)
                    .with_context(|| format!("reading the end offset of `{topic}`[{partition}]"))?;
                Ok((partition, high))
            })
            .collect()
    }

    /// The group's committed offset on every partition of `topic` (0 where it has committed nothing).
    pub fn committed(&self, topic: &str) -> Result<Offsets> {
        let mut list = TopicPartitionList::new();
        for partition in self.partitions(topic)? {
            list.add_partition(topic, partition);
        }
        let committed = self
            .consumer
            .committed_offsets(list, TIMEOUT)
            .with_context(|| format!("reading committed offsets on `{topic}`"))?;
        Ok(committed
            .elements()
            .iter()
            .map(|element| {
                let offset = match element.offset() {
                    Offset::Offset(n) => n,
                    _ => 0,
                };
                (element.partition(), offset)
            })
            .collect())
    }
}

/// How far `committed` is behind `end`, summed over partitions.
pub fn lag(end: &Offsets, committed: &Offsets) -> i64 {
    end.iter()
        .map(|(partition, high)| (high - committed.get(partition).copied().unwrap_or(0)).max(0))
        .sum()
}

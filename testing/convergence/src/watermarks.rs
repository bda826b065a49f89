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

/// The messages of `topic` between `from` and `to` (per partition), at most `max`, each as one line: partition,
/// offset, key and the headers named in `headers` (e.g. a dead letter's reason and error message).
pub fn read_range(
    brokers: &str,
    topic: &str,
    from: &Offsets,
    to: &Offsets,
    headers: &[&str],
    max: usize,
) -> Result<Vec<String>> {
    use rdkafka::message::{Headers, Message};
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "dbsync-convergence-reader")
        .set("enable.auto.commit", "false")
        .create()
        .context("creating a Kafka reader")?;
    let mut list = TopicPartitionList::new();
    let mut remaining = 0;
    for (partition, end) in to {
        let start = from.get(partition).copied().unwrap_or(0);
        if *end > start {
            list.add_partition_offset(topic, *partition, Offset::Offset(start))?;
            remaining += end - start;
        }
    }
    let mut lines = Vec::new();
    if remaining == 0 {
        return Ok(lines);
    }
    consumer.assign(&list)?;
    let deadline = std::time::Instant::now() + TIMEOUT;
    while remaining > 0 && lines.len() < max && std::time::Instant::now() < deadline {
        let Some(message) = consumer.poll(Duration::from_millis(500)) else {
            continue;
        };
        let message = message?;
        let end = to.get(&message.partition()).copied().unwrap_or(0);
        if message.offset() >= end {
            continue;
        }
        remaining -= 1;
        let mut line = format!(
            "{topic}[{}]@{} key={}",
            message.partition(),
            message.offset(),
            message
                .key()
                .map(String::from_utf8_lossy)
                .unwrap_or_default()
        );
        if let Some(found) = message.headers() {
            for header in found.iter().filter(|h| headers.contains(&h.key)) {
                let value = header
                    .value
                    .map(String::from_utf8_lossy)
                    .unwrap_or_default();
                line.push_str(&format!(" {}={value}", header.key));
            }
        }
        lines.push(line);
    }
    Ok(lines)
}

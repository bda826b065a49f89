//! Dead-letter replay (README, "How it stays correct: Poison does not stop the line"): sends dead letters back to
//! the topic they came from, so the consumers try them again once the cause is fixed (a mapping entry added, a
//! parent row created).
//!
//! # Guarantee
//! At-least-once, like the consumers. The replay reads with its own consumer group, auto-commit off, and commits a
//! dead letter's offset only after the broker acknowledged the re-produced message; a crash in between sends that
//! message again, which the consumers' ledger turns into a no-op. Partitions are assigned, not subscribed: run one
//! replay per group at a time.
//!
//! # What is read
//! From the group's committed offset (the earliest retained one for a new group) up to the end offsets as they
//! were when the replay started, so it terminates even while the consumers dead-letter replayed messages again.
//!
//! # What is sent
//! The original key and value, to `__connect.errors.topic`, into `__connect.errors.partition` while that topic
//! still has it (a key stays beside its other events; otherwise murmur2, Kafka's own key partitioner, chooses),
//! with one header, `dbsync.replayed_from` = `<dead-letter topic>/<partition>/<offset>`. A letter without
//! `__connect.errors.topic` is skipped with a warning and committed past: there is nowhere to send it.
//!
//! A reason filter never moves the group past a letter it leaves out: commits stop at the first left-out letter
//! of each partition, so a later replay (with another filter or none) still finds it. Letters after it that were
//! replayed are replayed again by that later run, which the ledger makes harmless.

pub(crate) mod letter;
mod options;

pub use letter::{NO_REASON, REPLAYED_FROM_HEADER};
pub use options::{ReplayOptions, DEFAULT_GROUP_ID};

use crate::error::Error;
use letter::{replayed_from, Action, Letter};
use rdkafka::consumer::{CommitMode, Consumer as _, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Headers, Message, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};
use tracing::{info, warn};

/// How long the replay waits for the next dead letter before it gives up: the letters exist (they are below the
/// end offsets), so this long without one means the broker is unreachable.
const STALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Budget for metadata, watermark and committed-offset requests.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a re-produced message may wait in a full producer queue (delivery has its own timeout).
const QUEUE_TIMEOUT: Duration = Duration::from_secs(30);

/// What one replay did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReplaySummary {
    /// Dead letters read.
    pub read: u64,
    /// Letters re-produced (with `dry_run`: that would have been).
    pub replayed: u64,
    /// Letters not re-produced: left out by the reason filter, or without a topic to go back to.
    pub skipped: u64,
    /// Letters read, per `dbsync.reason`.
    pub reasons: BTreeMap<String, u64>,
    /// Whether this was a dry run.
    pub dry_run: bool,
}

/// Replays the dead letters `options` select; blocks until the end offsets seen at the start are reached.
pub fn replay_dead_letters(options: ReplayOptions) -> Result<ReplaySummary, Error> {
    options.validate()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    // rdkafka's stream consumer and future producer start their timers inside the runtime's context.
    let _context = runtime.enter();
    let mut replay = Replay::connect(options)?;
    runtime.block_on(replay.run())
}

fn kafka(context: impl Into<String>) -> impl FnOnce(KafkaError) -> Error {
    let context = context.into();
    move |source| Error::Kafka { context, source }
}

/// One replay's clients and progress.
struct Replay {
    options: ReplayOptions,
    consumer: StreamConsumer,
    producer: Option<FutureProducer>,
    /// Partitions still to read, with the end offset each had at the start.
    pending: BTreeMap<i32, i64>,
    /// Partitions with a left-out letter: no more commits for them in this run.
    held: BTreeSet<i32>,
    /// Partition counts of the topics sent to, looked up once each.
    targets: HashMap<String, usize>,
}

impl Replay {
    /// Finds each partition's range (committed or earliest offset up to today's end) and assigns those not done.
    fn connect(options: ReplayOptions) -> Result<Self, Error> {
        let client_id =
            crate::kafka::client_id("replay", &gethostname::gethostname().to_string_lossy());
        let consumer: StreamConsumer =
            crate::kafka::client_config(&options.brokers, &options.kafka_properties, &client_id)
                .set("group.id", &options.group_id)
                .set("enable.auto.commit", "false")
                .set("enable.auto.offset.store", "false")
                .set("auto.offset.reset", "earliest")
                .set("enable.partition.eof", "true")
                .create()
                .map_err(crate::kafka::creation_error(
                    &options.kafka_properties,
                    "creating the dead-letter consumer",
                ))?;
        let topic = options.dlq_topic.as_str();
        let partitions = partition_count(&consumer, topic)?.ok_or_else(|| Error::TopicMissing {
            topic: topic.to_string(),
            brokers: options.brokers.clone(),
        })?;
        let mut all = TopicPartitionList::new();
        for partition in 0..partitions as i32 {
            all.add_partition(topic, partition);
        }
        let committed = consumer
            .committed_offsets(all, REQUEST_TIMEOUT)
            .map_err(kafka("reading the replay group's committed offsets"))?;
        let mut pending = BTreeMap::new();
        let mut assignment = TopicPartitionList::new();
        for element in committed.elements() {
            let partition = element.partition();
            let (low, high) = consumer
                .fetch_watermarks(topic, partition, REQUEST_TIMEOUT)
                .map_err(kafka(format!("reading the offsets of {topic}/{partition}")))?;
            let start = match element.offset() {
                Offset::Offset(committed) => committed.max(low),
                _ => low,
            };
            if start < high {
                pending.insert(partition, high);
                assignment
                    .add_partition_offset(topic, partition, Offset::Offset(start))
                    .map_err(kafka("building the assignment"))?;
            }
        }
        if assignment.count() > 0 {
            consumer
                .assign(&assignment)
                .map_err(kafka("assigning the dead-letter partitions"))?;
        }
        let producer = if options.dry_run {
            None
        } else {
            let producer = crate::kafka::client_config(
                &options.brokers,
                &options.kafka_properties,
                &format!("{client_id}-producer"),
            )
            .set("enable.idempotence", "true")
            .set("partitioner", "murmur2_random")
            .set("message.timeout.ms", "30000")
            .create()
            .map_err(crate::kafka::creation_error(
                &options.kafka_properties,
                "creating the replay producer",
            ))?;
            Some(producer)
        };
        Ok(Replay {
            options,
            consumer,
            producer,
            pending,
            held: BTreeSet::new(),
            targets: HashMap::new(),
        })
    }

    async fn run(&mut self) -> Result<ReplaySummary, Error> {
        let mut summary = ReplaySummary {
            dry_run: self.options.dry_run,
            ..ReplaySummary::default()
        };
        let mut last_progress = Instant::now();
        while !self.pending.is_empty() && self.options.max_messages.is_none_or(|m| summary.read < m)
        {
            let wait = STALL_TIMEOUT.saturating_sub(last_progress.elapsed());
            let message = match tokio::time::timeout(wait, self.consumer.recv()).await {
                Err(_) => return Err(self.stalled()),
                Ok(Err(KafkaError::PartitionEOF(partition))) => {
                    self.pending.remove(&partition);
                    continue;
                }
                Ok(Err(error)) => {
                    // librdkafka reconnects by itself; the stall timeout bounds how long it may try.
                    warn!(%error, "kafka error while reading dead letters");
                    continue;
                }
                Ok(Ok(message)) => message.detach(),
            };
            let partition = message.partition();
            let Some(&end) = self.pending.get(&partition) else {
                continue;
            };
            if message.offset() >= end {
                self.pending.remove(&partition);
                continue;
            }
            last_progress = Instant::now();
            self.handle(&message, &mut summary).await?;
            if message.offset() + 1 >= end {
                self.pending.remove(&partition);
            }
        }
        info!(
            read = summary.read,
            replayed = summary.replayed,
            skipped = summary.skipped,
            dry_run = summary.dry_run,
            "dead-letter replay finished"
        );
        Ok(summary)
    }

    async fn handle(
        &mut self,
        message: &OwnedMessage,
        summary: &mut ReplaySummary,
    ) -> Result<(), Error> {
        let letter = Letter::from_headers(
            message
                .headers()
                .into_iter()
                .flat_map(|headers| headers.iter())
                .map(|header| (header.key, header.value)),
        );
        let from = replayed_from(
            &self.options.dlq_topic,
            message.partition(),
            message.offset(),
        );
        summary.read += 1;
        *summary.reasons.entry(letter.reason.clone()).or_default() += 1;
        match letter.action(&self.options.reasons) {
            Action::LeftOut => {
                summary.skipped += 1;
                self.held.insert(message.partition());
            }
            Action::NoTarget => {
                warn!(letter = %from, reason = %letter.reason, "dead letter names no topic to go back to; skipped");
                summary.skipped += 1;
                self.commit(message)?;
            }
            Action::Replay { topic } => {
                if !self.options.dry_run {
                    let partition = self.partition_for(&topic, &letter)?;
                    self.send(message, &topic, partition, &from).await?;
                    self.commit(message)?;
                }
                summary.replayed += 1;
            }
        }
        Ok(())
    }

    /// The partition to send to, after checking the topic exists (the broker may create topics on first use,
    /// which would swallow a replay to a misspelt or retired topic).
    fn partition_for(&mut self, topic: &str, letter: &Letter) -> Result<Option<i32>, Error> {
        let count = match self.targets.get(topic) {
            Some(count) => *count,
            None => {
                let count =
                    partition_count(&self.consumer, topic)?.ok_or_else(|| Error::TopicMissing {
                        topic: topic.to_string(),
                        brokers: self.options.brokers.clone(),
                    })?;
                self.targets.insert(topic.to_string(), count);
                count
            }
        };
        Ok(letter.partition_within(count))
    }

    /// Sends the letter's key and value with only the `dbsync.replayed_from` header and waits for the
    /// acknowledgement.
    async fn send(
        &self,
        message: &OwnedMessage,
        topic: &str,
        partition: Option<i32>,
        from: &str,
    ) -> Result<(), Error> {
        // No producer is created for a dry run.
        let Some(producer) = &self.producer else {
            return Ok(());
        };
        let headers = OwnedHeaders::new().insert(Header {
            key: REPLAYED_FROM_HEADER,
            value: Some(from.as_bytes()),
        });
        let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic).headers(headers);
        if let Some(key) = message.key() {
            record = record.key(key);
        }
        if let Some(value) = message.payload() {
            record = record.payload(value);
        }
        if let Some(partition) = partition {
            record = record.partition(partition);
        }
        producer
            .send(record, QUEUE_TIMEOUT)
            .await
            .map(|_| ())
            .map_err(|(source, _)| Error::Kafka {
                context: format!("re-producing {from} to `{topic}`"),
                source,
            })
    }

    fn commit(&self, message: &OwnedMessage) -> Result<(), Error> {
        if self.options.dry_run || self.held.contains(&message.partition()) {
            return Ok(());
        }
        let mut offsets = TopicPartitionList::new();
        let (topic, partition, next) = (message.topic(), message.partition(), message.offset() + 1);
        let context = format!("committing {topic}/{partition} at offset {next}");
        offsets
            .add_partition_offset(topic, partition, Offset::Offset(next))
            .map_err(kafka(context.clone()))?;
        self.consumer
            .commit(&offsets, CommitMode::Sync)
            .map_err(kafka(context))
    }

    fn stalled(&self) -> Error {
        let (partition, end) = self.pending.iter().next().map_or((0, 0), |(p, e)| (*p, *e));
        Error::ReplayStalled {
            topic: self.options.dlq_topic.clone(),
            partition,
            end,
            waited_secs: STALL_TIMEOUT.as_secs(),
        }
    }
}

/// The topic's partition count, or `None` when the broker does not know the topic.
fn partition_count(consumer: &StreamConsumer, topic: &str) -> Result<Option<usize>, Error> {
    let metadata = consumer
        .fetch_metadata(Some(topic), REQUEST_TIMEOUT)
        .map_err(kafka(format!("reading the metadata of `{topic}`")))?;
    Ok(metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic && t.error().is_none() && !t.partitions().is_empty())
        .map(|t| t.partitions().len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn summary_serializes_with_stable_names() {
        let summary = ReplaySummary {
            read: 3,
            replayed: 2,
            skipped: 1,
            reasons: BTreeMap::from([("malformed".to_string(), 3)]),
            dry_run: false,
        };
        assert_eq!(
            serde_json::to_value(summary).unwrap(),
            json!({"read": 3, "replayed": 2, "skipped": 1, "reasons": {"malformed": 3}, "dry_run": false})
        );
    }
}

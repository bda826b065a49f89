//! The pipeline: Kafka in, database out, offsets after commit, dead letters for poison.
//!
//! # Guarantee
//! At-least-once delivery with idempotent writes. Auto-commit is off; a partition's offset is committed only after
//! the database transaction holding its messages' writes and ledger rows has committed, and after every dead
//! letter among them has been acknowledged by the broker. A crash between the two replays messages, which the
//! ledger turns into no-ops.
//!
//! # Order
//! Messages are queued per partition and applied in offset order, one transaction per batch (README traps 6 and
//! 9). A child whose parent has not arrived is parked with backoff, holding back only its own row's later changes,
//! until the parent comes or `parent_wait_ms` runs out (then it is dead-lettered as `parent_missing`).
//!
//! # Failures
//! Decode and mapping errors are dead-lettered at once. A lost database connection is retried without limit
//! (nothing is dead-lettered during an outage). Other transient database errors are retried `max_retries` times;
//! then, like constraint violations, the failing message alone is dead-lettered and the rest of its batch applied.

mod batch;

use crate::config::{Direction, SyncConfig};
use crate::dlq::DeadLetters;
use crate::error::Error;
use crate::event::Side;
use crate::mapping::Mapping;
use crate::metrics::Counters;
use crate::partition::{Item, PartitionQueue};
use crate::pipeline::prepare;
use crate::write::{Target, TargetOptions};
use chrono::TimeDelta;
use rdkafka::consumer::{Consumer as _, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::{ClientConfig, ClientContext, TopicPartitionList};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tracing::{debug, info, info_span, warn, Instrument};

/// How long one poll waits for a message before the loop checks its limits and the stop flag.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Backoff cap for retries.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How often ledger rows and tombstones past their retention are pruned.
const PRUNE_INTERVAL: Duration = Duration::from_secs(3600);
/// How long `stop_when_idle` waits for a partition assignment before idle time counts anyway.
const JOIN_GRACE: Duration = Duration::from_secs(30);
/// How often a progress line is logged at info level.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(30);

/// Limits for one `Consumer::run`.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Return after this many messages have been processed (applied, skipped or dead-lettered) and committed.
    pub max_events: Option<u64>,
    /// Return after this much wall time.
    pub timeout: Option<Duration>,
    /// Return once no message arrived for this long and nothing is pending (caught up), e.g. for `--once`.
    pub stop_when_idle: Option<Duration>,
}

/// Remembers partitions taken away by a rebalance, so their queued (uncommitted) messages are dropped: the new
/// owner reads them again from the committed offset.
#[derive(Default)]
struct RebalanceTracker {
    revoked: Mutex<Vec<i32>>,
}

impl ClientContext for RebalanceTracker {}

impl ConsumerContext for RebalanceTracker {
    fn pre_rebalance(
        &self,
        _consumer: &rdkafka::consumer::BaseConsumer<Self>,
        rebalance: &Rebalance<'_>,
    ) {
        if let Rebalance::Revoke(partitions) = rebalance {
            if let Ok(mut revoked) = self.revoked.lock() {
                revoked.extend(partitions.elements().iter().map(|p| p.partition()));
            }
        }
    }
}

impl RebalanceTracker {
    fn take(&self) -> Vec<i32> {
        self.revoked
            .lock()
            .map(|mut revoked| std::mem::take(&mut *revoked))
            .unwrap_or_default()
    }
}

/// A consumer for one direction: one topic in, one database out.
pub struct Consumer {
    runtime: tokio::runtime::Runtime,
    kafka: StreamConsumer<RebalanceTracker>,
    dead_letters: DeadLetters,
    target: Target,
    mapping: Mapping,
    config: SyncConfig,
    origin: Side,
    stop: AtomicBool,
}

impl Consumer {
    /// Loads the mapping, connects to the target database (checking the mapping against its schema) and to Kafka
    /// (checking the topic exists), and subscribes.
    pub fn new(config: SyncConfig) -> Result<Self, Error> {
        config.validate()?;
        let mapping = Mapping::from_path(&config.mapping_path)?;
        let origin = match config.direction {
            Direction::LegacyToRevamp => Side::Legacy,
            Direction::RevampToLegacy => Side::Revamp,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Error::Runtime)?;
        let options = TargetOptions {
            conflict_window: TimeDelta::milliseconds(config.conflict_window_ms as i64),
            ..TargetOptions::default()
        };
        // rdkafka's stream consumer and future producer start their timers inside the runtime's context.
        let _context = runtime.enter();
        let target = runtime.block_on(Target::connect(&config.target_dsn, &mapping, &options))?;
        let kafka_error = |context: &str| {
            let context = context.to_string();
            move |source| Error::Kafka { context, source }
        };
        let kafka: StreamConsumer<RebalanceTracker> = ClientConfig::new()
            .set("bootstrap.servers", &config.brokers)
            .set("group.id", &config.group_id)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .set("enable.partition.eof", "false")
            .set("session.timeout.ms", "10000")
            .create_with_context(RebalanceTracker::default())
            .map_err(kafka_error("creating the consumer"))?;
        let metadata = kafka
            .fetch_metadata(Some(&config.topic), Duration::from_secs(10))
            .map_err(kafka_error("reading topic metadata"))?;
        let exists = metadata
            .topics()
            .iter()
            .any(|t| t.name() == config.topic && t.error().is_none() && !t.partitions().is_empty());
        if !exists {
            return Err(Error::TopicMissing {
                topic: config.topic.clone(),
                brokers: config.brokers.clone(),
            });
        }
        kafka
            .subscribe(&[&config.topic])
            .map_err(kafka_error("subscribing"))?;
        let dead_letters = DeadLetters::new(&config.brokers, &config.dlq_topic, &config.group_id)
            .map_err(kafka_error("creating the dead-letter producer"))?;
        info!(topic = %config.topic, group = %config.group_id, target = %target.side(), "consumer ready");
        Ok(Consumer {
            runtime,
            kafka,
            dead_letters,
            target,
            mapping,
            config,
            origin,
            stop: AtomicBool::new(false),
        })
    }

    /// Consumes until a limit in `options` is reached or `stop` is called; `tick` runs between polls (PHP uses it
    /// to dispatch pending signals). The batch in flight is always finished and committed before returning.
    pub fn run(&self, options: RunOptions, tick: &mut dyn FnMut()) -> Result<Counters, Error> {
        let result = self.runtime.block_on(self.run_loop(options, tick));
        self.stop.store(false, Ordering::SeqCst);
        result
    }

    /// Asks a running `run` to finish its batch, commit and return. Safe to call from a signal handler's callback.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    async fn run_loop(
        &self,
        options: RunOptions,
        tick: &mut dyn FnMut(),
    ) -> Result<Counters, Error> {
        let mut counters = Counters::default();
        let mut queues: BTreeMap<i32, PartitionQueue> = BTreeMap::new();
        let started = Instant::now();
        let mut last_message = Instant::now();
        let mut last_progress = Instant::now();
        let mut last_progress_count = 0;
        let mut last_prune: Option<Instant> = None;
        let linger = Duration::from_millis(self.config.batch_linger_ms);
        loop {
            tick();
            let remaining = options
                .max_events
                .map(|max| max.saturating_sub(counters.consumed));
            if self.stop.load(Ordering::SeqCst)
                || remaining == Some(0)
                || options.timeout.is_some_and(|t| started.elapsed() >= t)
            {
                break;
            }
            if last_prune.is_none_or(|t| t.elapsed() >= PRUNE_INTERVAL) {
                self.prune().await;
                last_prune = Some(Instant::now());
            }
            if self.receive(&mut queues).await > 0 {
                last_message = Instant::now();
            }
            for partition in self.kafka.context().take() {
                queues.remove(&partition);
            }
            let now = Instant::now();
            let ready: Vec<i32> = queues
                .iter()
                .filter(|(_, q)| q.ready(self.config.batch_size, linger, now) || q.parked_due(now))
                .map(|(p, _)| *p)
                .collect();
            for partition in ready {
                let remaining = options
                    .max_events
                    .map(|max| max.saturating_sub(counters.consumed));
                if remaining == Some(0) {
                    break;
                }
                if let Some(queue) = queues.get_mut(&partition) {
                    let limit = remaining.map_or(usize::MAX, |r| r as usize);
                    let span = info_span!("batch", partition, topic = %self.config.topic);
                    self.process(partition, queue, limit, linger, &mut counters)
                        .instrument(span)
                        .await;
                }
            }
            self.pace_partitions(&queues);
            if last_progress.elapsed() >= PROGRESS_INTERVAL
                && counters.consumed != last_progress_count
            {
                last_progress_count = counters.consumed;
                info!(
                    consumed = counters.consumed,
                    applied = counters.applied,
                    skipped_echo = counters.skipped_echo,
                    duplicates = counters.duplicates,
                    dead_lettered = counters.dead_lettered,
                    "progress"
                );
                last_progress = Instant::now();
            }
            if let Some(idle) = options.stop_when_idle {
                // Idle counts only once the group has given us partitions (joining takes a moment; a broker's
                // initial rebalance delay can take seconds), or after a generous grace if it never does.
                let assigned = self.kafka.assignment().is_ok_and(|a| a.count() > 0);
                if !assigned && started.elapsed() < JOIN_GRACE {
                    last_message = Instant::now();
                }
                if queues.values().all(PartitionQueue::is_empty) && last_message.elapsed() >= idle {
                    break;
                }
            }
        }
        Ok(counters)
    }

    /// Receives what Kafka has ready (waiting at most one poll interval for the first message). Returns how many.
    async fn receive(&self, queues: &mut BTreeMap<i32, PartitionQueue>) -> usize {
        let mut received = 0;
        let mut wait = POLL_INTERVAL;
        while received < self.config.batch_size {
            match tokio::time::timeout(wait, self.kafka.recv()).await {
                Ok(Ok(message)) => {
                    let prepared =
                        prepare(message.key(), message.payload(), self.origin, &self.mapping);
                    queues.entry(message.partition()).or_default().push(Item {
                        message: message.detach(),
                        prepared,
                    });
                    received += 1;
                    wait = Duration::from_millis(1);
                }
                Ok(Err(error)) => {
                    // librdkafka reconnects by itself; report and keep polling.
                    warn!(%error, "kafka consumer error");
                    break;
                }
                Err(_) => break,
            }
        }
        received
    }

    /// Pauses partitions whose queue is long (a child waiting for its parent, a slow database) so memory stays
    /// bounded, and resumes them once they drain.
    fn pace_partitions(&self, queues: &BTreeMap<i32, PartitionQueue>) {
        let high = self.config.batch_size * 4;
        for (partition, queue) in queues {
            let mut list = TopicPartitionList::new();
            list.add_partition(&self.config.topic, *partition);
            let result = if queue.len() >= high {
                self.kafka.pause(&list)
            } else if queue.len() < self.config.batch_size {
                self.kafka.resume(&list)
            } else {
                Ok(())
            };
            if let Err(error) = result {
                warn!(%error, partition, "could not pause or resume a partition");
            }
        }
    }

    async fn prune(&self) {
        let age = Duration::from_secs(self.config.ledger_retention_hours * 3600);
        match self.target.prune(age).await {
            Ok(removed) => debug!(removed, "pruned the ledger and tombstones"),
            Err(error) => warn!(%error, "could not prune the ledger"),
        }
    }
}

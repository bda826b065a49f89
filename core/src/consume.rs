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
//! 9). A child whose parent has not arrived holds back its own partition only, with backoff, until the parent
//! comes or `parent_wait_ms` runs out (then it is dead-lettered as `parent_missing`).
//!
//! # Failures
//! Decode and mapping errors are dead-lettered at once. A lost database connection is retried without limit
//! (nothing is dead-lettered during an outage). Other transient database errors are retried `max_retries` times;
//! then, like constraint violations, the failing message alone is dead-lettered and the rest of its batch applied.

use crate::config::{Direction, SyncConfig};
use crate::dlq::{DeadLetters, Failure, Origin};
use crate::error::{reason, Error};
use crate::event::Side;
use crate::mapping::Mapping;
use crate::metrics::Counters;
use crate::partition::PartitionQueue;
use crate::pipeline::{prepare, Prepared};
use crate::row::RowOp;
use crate::write::{BatchError, OpOutcome, Target, TargetOptions, WriteError};
use chrono::{TimeDelta, Utc};
use rdkafka::consumer::{CommitMode, Consumer as _, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::{ClientConfig, ClientContext, Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tracing::{debug, info, info_span, warn, Instrument};

/// How long one poll waits for a message before the loop checks its limits and the stop flag.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Backoff cap for retries.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How often ledger rows and tombstones past their retention are pruned.
const PRUNE_INTERVAL: Duration = Duration::from_secs(3600);
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
                .filter(|(_, q)| q.ready(self.config.batch_size, linger, now))
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
                    self.process(partition, queue, limit, &mut counters)
                        .instrument(span)
                        .await;
                }
            }
            self.pace_partitions(&queues);
            if last_progress.elapsed() >= PROGRESS_INTERVAL {
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
                    queues
                        .entry(message.partition())
                        .or_default()
                        .push(message.detach());
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

    /// Applies one batch from the head of `queue`, dead-letters its poison, commits its offset and advances.
    async fn process(
        &self,
        partition: i32,
        queue: &mut PartitionQueue,
        limit: usize,
        counters: &mut Counters,
    ) {
        let take = queue.len().min(self.config.batch_size).min(limit);
        let messages: Vec<OwnedMessage> = queue.front(take).cloned().collect();
        let prepared: Vec<Prepared> = messages
            .iter()
            .map(|m| prepare(m.key(), m.payload(), self.origin, &self.mapping))
            .collect();
        let mut op_message = Vec::new();
        let mut ops = Vec::new();
        for (index, item) in prepared.iter().enumerate() {
            if let Prepared::Apply(op) = item {
                op_message.push(index);
                ops.push(op.clone());
            }
        }
        let (done, failed) = self.write(queue, &ops, &op_message, counters).await;
        let done = done.min(take);
        // Dead letters before the commit: the offset moves past a message only once it is somewhere safe.
        let mut committed = done;
        for (index, message) in messages.iter().enumerate().take(done) {
            let failure = match (&prepared[index], &failed) {
                (Prepared::Poison { failure, .. }, _) => Some(failure.clone()),
                (_, Some((at, failure))) if *at == index => Some(failure.clone()),
                _ => None,
            };
            let entity = entity_of(&prepared[index], &ops, &op_message, index);
            match failure {
                Some(failure) => {
                    if let Err(error) = self.dead_letter(message, &failure).await {
                        warn!(%error, offset = message.offset(), "dead letter not written; will retry");
                        queue.fail_head(self.backoff_base(), MAX_BACKOFF, None);
                        committed = index;
                        break;
                    }
                    counters.dead_lettered += 1;
                    if let Some(entity) = entity {
                        counters.per_entity.entry(entity).or_default().dead_lettered += 1;
                    }
                }
                None => {
                    if let Prepared::Echo { entity } = &prepared[index] {
                        counters.skipped_echo += 1;
                        counters
                            .per_entity
                            .entry(entity.clone())
                            .or_default()
                            .skipped_echo += 1;
                    }
                }
            }
        }
        if committed == 0 {
            return;
        }
        let last = &messages[committed - 1];
        let mut offsets = TopicPartitionList::new();
        if let Err(error) = offsets.add_partition_offset(
            &self.config.topic,
            partition,
            Offset::Offset(last.offset() + 1),
        ) {
            warn!(%error, "could not build the offset list");
        } else if let Err(error) = self.kafka.commit(&offsets, CommitMode::Sync) {
            // The writes are committed and in the ledger: a redelivery after a restart is a no-op.
            warn!(%error, partition, offset = last.offset(), "offset commit failed");
        }
        counters.consumed += committed as u64;
        queue.advance(committed);
        debug!(partition, messages = committed, "batch committed");
    }

    /// Writes `ops`; returns how many leading messages are done, and the message (index) to dead-letter with why.
    async fn write(
        &self,
        queue: &mut PartitionQueue,
        ops: &[RowOp],
        op_message: &[usize],
        counters: &mut Counters,
    ) -> (usize, Option<(usize, Failure)>) {
        let all = queue.len().min(self.config.batch_size);
        if ops.is_empty() {
            return (usize::MAX, None);
        }
        match self.target.apply(ops).await {
            Ok(outcomes) => {
                count_outcomes(&outcomes, ops, counters);
                match outcomes.last() {
                    Some(OpOutcome::ParentMissing(parent)) => {
                        let at = op_message[outcomes.len() - 1];
                        if at > 0 {
                            return (at, None);
                        }
                        let waited = queue.retry().map(|r| Utc::now() - r.first_failure);
                        let budget = TimeDelta::milliseconds(self.config.parent_wait_ms as i64);
                        if waited.is_some_and(|w| w >= budget) {
                            let attempts = queue.retry().map_or(1, |r| r.attempts + 1);
                            let message = format!(
                                "{} {} references {} {} which did not arrive within {} ms",
                                ops[outcomes.len() - 1].entity(),
                                ops[outcomes.len() - 1].key(),
                                parent.entity,
                                parent.id,
                                self.config.parent_wait_ms
                            );
                            let failure = self.retried_failure(
                                queue,
                                reason::PARENT_MISSING,
                                "write",
                                message,
                                attempts,
                            );
                            return (1, Some((0, failure)));
                        }
                        queue.fail_head(self.backoff_base(), MAX_BACKOFF, None);
                        debug!(entity = %parent.entity, id = parent.id, "parent missing; waiting");
                        (0, None)
                    }
                    _ => (all, None),
                }
            }
            Err(BatchError { index, error }) => {
                let at = op_message.get(index).copied().unwrap_or(0);
                counters.retried += 1;
                if error.is_unavailable() || (error.is_transient() && index >= ops.len()) {
                    warn!(%error, "database unavailable; retrying");
                    queue.fail_head(self.backoff_base(), MAX_BACKOFF, None);
                    return (0, None);
                }
                if error.is_transient() {
                    let budget = Some(self.config.max_retries.max(1));
                    if queue
                        .fail_head(self.backoff_base(), MAX_BACKOFF, budget)
                        .is_some()
                    {
                        warn!(%error, "transient database error; retrying");
                        return (0, None);
                    }
                }
                self.isolate(queue, &ops[..index], at, error, counters)
                    .await
            }
        }
    }

    /// After a permanent failure of the message at `at`: applies what came before it, then dead-letters it.
    async fn isolate(
        &self,
        queue: &mut PartitionQueue,
        before: &[RowOp],
        at: usize,
        error: WriteError,
        counters: &mut Counters,
    ) -> (usize, Option<(usize, Failure)>) {
        if !before.is_empty() {
            match self.target.apply(before).await {
                Ok(outcomes) => {
                    count_outcomes(&outcomes, before, counters);
                    if matches!(outcomes.last(), Some(OpOutcome::ParentMissing(_))) {
                        return (0, None);
                    }
                }
                Err(BatchError { error, .. }) => {
                    warn!(%error, "batch prefix failed; retrying");
                    queue.fail_head(self.backoff_base(), MAX_BACKOFF, None);
                    return (0, None);
                }
            }
        }
        warn!(%error, "dead-lettering a message the database rejects");
        let attempts = queue.retry().map_or(1, |r| r.attempts);
        let failure =
            self.retried_failure(queue, error.reason(), "write", error.to_string(), attempts);
        (at + 1, Some((at, failure)))
    }

    fn retried_failure(
        &self,
        queue: &PartitionQueue,
        reason: &'static str,
        stage: &'static str,
        message: String,
        attempts: u32,
    ) -> Failure {
        let now = Utc::now();
        Failure {
            reason,
            class_name: "dbsync_core::write::WriteError",
            message,
            stage,
            attempts,
            first_failure: queue.retry().map_or(now, |r| r.first_failure),
            last_failure: now,
        }
    }

    fn backoff_base(&self) -> Duration {
        Duration::from_millis(self.config.retry_backoff_ms.max(1))
    }

    async fn dead_letter(
        &self,
        message: &OwnedMessage,
        failure: &Failure,
    ) -> Result<(), crate::dlq::DlqError> {
        let origin = Origin {
            topic: message.topic(),
            partition: message.partition(),
            offset: message.offset(),
        };
        warn!(
            reason = failure.reason,
            topic = origin.topic,
            partition = origin.partition,
            offset = origin.offset,
            "dead-lettering message"
        );
        self.dead_letters
            .send(message.key(), message.payload(), origin, failure)
            .await
    }
}

fn count_outcomes(outcomes: &[OpOutcome], ops: &[RowOp], counters: &mut Counters) {
    for (outcome, op) in outcomes.iter().zip(ops) {
        let entity = counters
            .per_entity
            .entry(op.entity().to_string())
            .or_default();
        match outcome {
            OpOutcome::Applied => {
                counters.applied += 1;
                entity.applied += 1;
            }
            OpOutcome::Duplicate => {
                counters.duplicates += 1;
                entity.duplicates += 1;
            }
            OpOutcome::ConflictLost | OpOutcome::ParentDeleted(_) => {
                counters.conflicts_lost += 1;
                entity.conflicts_lost += 1;
            }
            OpOutcome::ParentMissing(_) => {}
        }
    }
}

fn entity_of(
    prepared: &Prepared,
    ops: &[RowOp],
    op_message: &[usize],
    index: usize,
) -> Option<String> {
    match prepared {
        Prepared::Apply(_) => op_message
            .iter()
            .position(|m| *m == index)
            .and_then(|i| ops.get(i))
            .map(|op| op.entity().to_string()),
        Prepared::Echo { entity } => Some(entity.clone()),
        Prepared::Poison { entity, .. } => entity.clone(),
        Prepared::Skip { .. } => None,
    }
}

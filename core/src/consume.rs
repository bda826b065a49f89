//! The pipeline: Kafka in, database out, offsets after commit, dead letters for poison.
//!
//! # Guarantee
//! At-least-once delivery with idempotent writes. Auto-commit is off; a partition's offset is committed only after
//! the database transaction holding its messages' writes and ledger rows has committed, and after every dead
//! letter among them has been acknowledged by the broker. A crash between the two replays messages, which the
//! ledger turns into no-ops. A failed offset commit is offered again on every loop turn until the broker takes it.
//!
//! # Order
//! Messages are queued per partition and applied in offset order, one transaction per batch (README "Order is
//! per row"). Batches of different partitions are written side by side, as many at once as the target pool has
//! connections (each partition still one batch at a time). Each batch takes a lock per row it writes first
//! (`write::row_lock`), so changes of one row applied by two batches or two group members never decide from stale
//! reads. A child whose parent has not arrived is parked with
//! backoff, holding back only its own row's later changes; it is dead-lettered as `parent_missing` only once it
//! waited `parent_wait_ms` and every partition of the topic was consumed past the child's timestamp (its parent,
//! committed before it on the source, would have arrived), or after [`PARENT_WAIT_CAP`] whatever happens.
//! A turn's poll takes up to a batch per connection, so that the next turn can find as many batches ready as it can
//! write at once. When a batch was ready before the poll, the messages the poll received are decoded and transformed
//! on a blocking thread while the turn's batches are written, and queued once they are done (behind them, in offset
//! order); otherwise they are decoded first, as the turn's batches are made of them.
//!
//! # Group membership
//! Queues outlive one [`Consumer::run`], so a second `run` loses nothing. Assignment changes (recorded by
//! `rebalance`) are applied after every poll, before anything it returned is queued: a revoked partition's queue is
//! dropped with what was received from it before the change, an assigned one starts empty at the committed offset
//! and is resumed. The cooperative-sticky assignor
//! moves only the partitions that must move; static membership (`group.instance.id`) lets a restarted process take
//! its partitions back at once instead of after the session timeout.
//!
//! # Failures
//! Database errors are classified (`write::WriteError::class`): an outage (connection lost, authentication,
//! read-only, disk full, too many connections) pauses every partition and is retried without limit, logging at
//! `error` once a minute, and nothing is dead-lettered; transient errors (deadlock, lock wait timeout,
//! serialization) retry the batch `max_retries` times with backoff; then, like constraint violations, the failing
//! message alone is dead-lettered and the rest of its batch applied. Decode and mapping errors are dead-lettered
//! at once.

mod batch;
mod outage;
mod partition;
mod pipeline;
mod prune;
mod rebalance;
mod watermark;

use crate::config::{Direction, SyncConfig};
use crate::dlq::DeadLetters;
use crate::error::Error;
use crate::event::Side;
use crate::kafka;
use crate::mapping::Mapping;
use crate::metrics::{Counters, PipelineMetrics, KAFKA_STATS_INTERVAL_MS};
use crate::write::{Target, TargetOptions};
use chrono::TimeDelta;
use futures_util::StreamExt as _;
use outage::Outage;
use partition::{Item, PartitionQueue};
use pipeline::prepare;
use prune::PruneSchedule;
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Message, OwnedMessage};
use rdkafka::TopicPartitionList;
use rebalance::{AssignmentChange, RebalanceLog};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tracing::{debug, info, info_span, warn, Instrument};

/// How long one poll waits for a message before the loop checks its limits and the stop flag.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Backoff cap for retries.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long `stop_when_idle` waits for a partition assignment before idle time counts anyway.
const JOIN_GRACE: Duration = Duration::from_secs(30);
/// How often a progress line is logged at info level.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(30);
/// How often a failed offset commit is tried again.
const COMMIT_RETRY_INTERVAL: Duration = Duration::from_secs(1);
/// A child waits for its parent at most this long, even while the topic's other partitions are not consumed past
/// it (a partition stalled for good must not hold a child forever).
pub const PARENT_WAIT_CAP: Duration = Duration::from_secs(600);
/// How long the start waits for the topic's metadata before it gives up on the brokers.
const METADATA_TIMEOUT: Duration = Duration::from_secs(10);
/// One metadata request's wait; between two, the client's reported errors are checked.
const METADATA_SLICE: Duration = Duration::from_millis(500);
/// Session timeout: how long the group waits for a silent member before giving its partitions to others. With
/// static membership a restarted member takes them back at once, so this only delays scale-down.
const SESSION_TIMEOUT_MS: &str = "10000";

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

/// A consumer for one direction: one topic in, one database out.
pub struct Consumer {
    runtime: tokio::runtime::Runtime,
    kafka: StreamConsumer<RebalanceLog>,
    dead_letters: DeadLetters,
    target: Target,
    /// Shared with the thread that decodes the next messages while a batch is written.
    mapping: Arc<Mapping>,
    config: SyncConfig,
    origin: Side,
    stop: AtomicBool,
    /// The partitions' queues, kept across runs; locked by the one `run` in progress.
    queues: Mutex<BTreeMap<i32, PartitionQueue>>,
    /// The target database's outage, if one is going on.
    outage: Mutex<Outage>,
    /// This member's static group membership id.
    instance_id: String,
    /// Prometheus recording calls with this consumer's labels (no-ops without `metrics_addr`).
    metrics: PipelineMetrics,
}

impl Consumer {
    /// Loads the mapping, connects to the target database (checking the mapping against its schema) and to Kafka
    /// (checking the topic exists), and subscribes.
    pub fn new(config: SyncConfig) -> Result<Self, Error> {
        config.validate()?;
        let metrics_addr = config.metrics_socket()?;
        if let Some(addr) = metrics_addr {
            crate::metrics::serve(addr)?;
        }
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
        let target = runtime
            .block_on(Target::connect(&config.target_dsn, &mapping, &options))
            .map_err(|error| {
                if error.is_tls_failure() {
                    return Error::Config(crate::config::invalid(
                        "target_dsn",
                        &format!(
                            "TLS to the target database failed: {error} (check the DSN's CA, `sslrootcert` / \
                             `ssl-ca`, and its `sslmode` / `ssl-mode`)"
                        ),
                    ));
                }
                Error::from(error)
            })?;
        let kafka_error = |context: &str| {
            let context = context.to_string();
            move |source| Error::Kafka { context, source }
        };
        let instance_id = config.instance_id();
        let mut client = kafka::client_config(
            &config.brokers,
            &config.kafka_properties,
            &kafka::client_id("consumer", &instance_id),
        );
        let kafka: StreamConsumer<RebalanceLog> = kafka::with_defaults(
            &mut client,
            &config.kafka_properties,
            &kafka::CONSUMER_PREFETCH,
        )
        .set("group.id", &config.group_id)
        .set("group.instance.id", &instance_id)
        .set("partition.assignment.strategy", "cooperative-sticky")
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        .set("session.timeout.ms", SESSION_TIMEOUT_MS)
        // Statistics feed the consumer-lag metric; 0 turns them off.
        .set(
            "statistics.interval.ms",
            metrics_addr.map_or("0", |_| KAFKA_STATS_INTERVAL_MS),
        )
        .create_with_context(RebalanceLog::default())
        .map_err(kafka::creation_error(
            &config.kafka_properties,
            "creating the consumer",
        ))?;
        // Metadata is asked for in short slices so that a TLS or SASL failure (reported by librdkafka only
        // through its log and error callbacks; the call itself just times out) ends the start at once.
        let deadline = Instant::now() + METADATA_TIMEOUT;
        let metadata = loop {
            match kafka.fetch_metadata(Some(&config.topic), METADATA_SLICE) {
                Ok(metadata) => break metadata,
                Err(source) => {
                    // librdkafka queues its error and log events for the next poll: serve them (a subscription
                    // does not exist yet, so nothing is consumed) to learn what the failure was.
                    let _ = runtime.block_on(tokio::time::timeout(
                        Duration::from_millis(100),
                        kafka.recv(),
                    ));
                    let last = kafka.context().last_error();
                    let blamed = last.as_deref().is_some_and(kafka::blames_a_setting);
                    if blamed || Instant::now() >= deadline {
                        return Err(kafka::connection_error(
                            last.as_deref(),
                            "reading topic metadata",
                            source,
                        ));
                    }
                }
            }
        };
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
        let dead_letters = DeadLetters::new(
            &config.brokers,
            &config.kafka_properties,
            &config.dlq_topic,
            &config.group_id,
            &instance_id,
        )
        .map_err(kafka::creation_error(
            &config.kafka_properties,
            "creating the dead-letter producer",
        ))?;
        info!(topic = %config.topic, group = %config.group_id, instance = %instance_id, target_db = %target.side(), "consumer ready");
        let metrics = PipelineMetrics::new(config.direction, &config.topic);
        Ok(Consumer {
            runtime,
            kafka,
            dead_letters,
            target,
            mapping: Arc::new(mapping),
            config,
            origin,
            stop: AtomicBool::new(false),
            queues: Mutex::new(BTreeMap::new()),
            outage: Mutex::new(Outage::default()),
            instance_id,
            metrics,
        })
    }

    /// Consumes until a limit in `options` is reached or `stop` is called; `tick` runs between polls (PHP uses it
    /// to dispatch pending signals). The batch in flight is always finished and committed before returning; what
    /// was received and not yet done stays queued for the next `run`.
    pub fn run(&self, options: RunOptions, tick: &mut dyn FnMut()) -> Result<Counters, Error> {
        let mut queues = self.queues.try_lock().map_err(|_| Error::AlreadyRunning)?;
        let result = self
            .runtime
            .block_on(self.run_loop(&mut queues, options, tick));
        self.stop.store(false, Ordering::SeqCst);
        result
    }

    /// This member's `group.instance.id`.
    pub fn instance_id(&self) -> &str {
        &self.instance_id
    }

    /// Asks a running `run` to finish its batch, commit and return. Safe to call from a signal handler's callback.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    async fn run_loop(
        &self,
        queues: &mut BTreeMap<i32, PartitionQueue>,
        options: RunOptions,
        tick: &mut dyn FnMut(),
    ) -> Result<Counters, Error> {
        let mut counters = Counters::default();
        let mut last_commit_retry = Instant::now();
        let started = Instant::now();
        let mut last_message = Instant::now();
        let mut last_progress = Instant::now();
        let mut last_progress_count = 0;
        let mut prune_schedule = PruneSchedule::new();
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
            self.prune_if_due(&mut prune_schedule).await;
            // With a batch ready, the poll does not wait: what it receives is decoded beside that batch's writes.
            let busy = !self.ready(queues, linger).is_empty();
            let received = self.receive(queues, busy).await?;
            if !received.is_empty() {
                last_message = Instant::now();
            }
            let mut ready = self.ready(queues, linger);
            let mut decoding = None;
            if ready.is_empty() {
                enqueue(queues, prepare_all(&self.mapping, self.origin, received));
                ready = self.ready(queues, linger);
            } else if !received.is_empty() {
                let (mapping, origin) = (Arc::clone(&self.mapping), self.origin);
                decoding = Some(tokio::task::spawn_blocking(move || {
                    prepare_all(&mapping, origin, received)
                }));
            }
            self.process_side_by_side(queues, ready, &options, linger, &mut counters)
                .await;
            // Queued behind what the batches left: no poll ran meanwhile, so no partition changed hands.
            if let Some(decoding) = decoding {
                enqueue(queues, decoding.await.map_err(Error::Decoding)?);
            }
            if last_commit_retry.elapsed() >= COMMIT_RETRY_INTERVAL {
                for (partition, queue) in queues.iter_mut() {
                    self.commit(queue, *partition);
                }
                self.export_gauges(queues);
                last_commit_retry = Instant::now();
            }
            self.pace_partitions(queues);
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

    /// Runs one step for each of the `ready` partitions, at most as many at once as the target has connections, so
    /// one partition's database round trips overlap another's. Each queue is taken out of `queues` while its step
    /// runs; the parent watermark reads the queues left in (for one taken out it falls back to the group's committed
    /// offset, which lags, so a child only waits longer). Order within a partition holds: one step per partition.
    async fn process_side_by_side(
        &self,
        queues: &mut BTreeMap<i32, PartitionQueue>,
        ready: Vec<i32>,
        options: &RunOptions,
        linger: Duration,
        counters: &mut Counters,
    ) {
        let mut remaining = options
            .max_events
            .map(|max| max.saturating_sub(counters.consumed) as usize);
        let mut taken = Vec::new();
        for partition in ready {
            if remaining == Some(0) || self.outage_holds(Instant::now()) {
                break;
            }
            if let Some(queue) = queues.remove(&partition) {
                let limit = remaining.unwrap_or(usize::MAX);
                remaining =
                    remaining.map(|r| r.saturating_sub(self.config.batch_size.min(queue.len())));
                taken.push((partition, queue, limit));
            }
        }
        let others: &BTreeMap<i32, PartitionQueue> = queues;
        let steps = taken
            .into_iter()
            .map(|(partition, mut queue, limit)| async move {
                let mut step = Counters::default();
                let span = info_span!("batch", partition, topic = %self.config.topic);
                self.process(partition, &mut queue, others, limit, linger, &mut step)
                    .instrument(span)
                    .await;
                (partition, queue, step)
            });
        let done: Vec<_> = futures_util::stream::iter(steps)
            .buffer_unordered(self.target.connections())
            .collect()
            .await;
        let mut applied = false;
        for (partition, queue, step) in done {
            applied |= step.applied > 0;
            counters.add(&step);
            queues.insert(partition, queue);
        }
        if applied {
            // What these batches wrote may be what rows parked in any partition wait for.
            queues.values_mut().for_each(PartitionQueue::wake_parked);
        }
    }

    /// The partitions whose queue has a batch to apply now (none during a database outage).
    fn ready(&self, queues: &BTreeMap<i32, PartitionQueue>, linger: Duration) -> Vec<i32> {
        let now = Instant::now();
        if self.outage_holds(now) {
            return Vec::new();
        }
        queues
            .iter()
            .filter(|(_, q)| q.ready(self.config.batch_size, linger, now) || q.parked_due(now))
            .map(|(p, _)| *p)
            .collect()
    }

    /// Receives what Kafka has ready, up to a batch for each of the target's connections (so that a turn can find as
    /// many batches ready as it can write side by side; waiting at most one poll interval for the first message,
    /// unless `busy`), not yet decoded. Assignment changes that came with a poll are applied to `queues` at once,
    /// and what was received before them from a partition that changed hands is dropped (its new owner reads it
    /// again from the committed offset). A fatal client error (e.g. another process took this
    /// `group.instance.id`) ends the run.
    async fn receive(
        &self,
        queues: &mut BTreeMap<i32, PartitionQueue>,
        busy: bool,
    ) -> Result<Vec<OwnedMessage>, Error> {
        let mut received: Vec<OwnedMessage> = Vec::new();
        let mut wait = if busy {
            Duration::from_millis(1)
        } else {
            POLL_INTERVAL
        };
        let wanted = self.config.batch_size * self.target.connections();
        while received.len() < wanted {
            let polled = tokio::time::timeout(wait, self.kafka.recv()).await;
            let changed = self.apply_assignment_changes(queues);
            if !changed.is_empty() {
                received.retain(|m| !changed.contains(&m.partition()));
            }
            match polled {
                Ok(Ok(message)) => {
                    wait = Duration::from_millis(1);
                    if queues.contains_key(&message.partition()) {
                        received.push(keep(&message));
                    } else {
                        debug!(
                            partition = message.partition(),
                            "message of a partition not assigned; dropped"
                        );
                    }
                }
                Ok(Err(error)) if is_fatal(&error) => {
                    return Err(Error::Kafka {
                        context: format!(
                            "consumer stopped by the broker (is another process using group.instance.id `{}`? \
                             give each consumer process its own DBSYNC_INSTANCE_ID)",
                            self.instance_id
                        ),
                        source: error,
                    });
                }
                Ok(Err(error)) => {
                    // librdkafka reconnects by itself; report and keep polling.
                    warn!(%error, "kafka consumer error");
                    break;
                }
                Err(_) => break,
            }
        }
        Ok(received)
    }

    /// Applies the assignment changes recorded since the last call: revoked partitions' queues go (their new owner
    /// reads them again from the committed offset), assigned ones start empty and are resumed. Returns every
    /// partition that was revoked, lost or (re)assigned.
    fn apply_assignment_changes(&self, queues: &mut BTreeMap<i32, PartitionQueue>) -> Vec<i32> {
        let mut changed = Vec::new();
        for change in self.kafka.context().drain() {
            match change {
                AssignmentChange::Revoked(partitions) => {
                    for partition in partitions {
                        queues.remove(&partition);
                        changed.push(partition);
                    }
                }
                AssignmentChange::Lost => {
                    changed.extend(queues.keys().copied());
                    queues.clear();
                }
                AssignmentChange::Assigned(partitions) => {
                    let mut list = TopicPartitionList::new();
                    for partition in partitions {
                        queues.insert(partition, PartitionQueue::default());
                        list.add_partition(&self.config.topic, partition);
                        changed.push(partition);
                    }
                    if let Err(error) = self.kafka.resume(&list) {
                        warn!(%error, "could not resume assigned partitions");
                    }
                }
            }
        }
        changed
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

    /// Sets the per-partition gauges: consumer lag (from the latest librdkafka statistics) and parked messages.
    fn export_gauges(&self, queues: &BTreeMap<i32, PartitionQueue>) {
        for (partition, lag) in self.kafka.context().lag.take() {
            self.metrics.consumer_lag(partition, lag);
        }
        for (partition, queue) in queues {
            self.metrics.parked(*partition, queue.parked_len());
        }
    }
}

/// Errors after which this client cannot go on (fenced static member, fatal librdkafka error).
fn is_fatal(error: &KafkaError) -> bool {
    use rdkafka::types::RDKafkaErrorCode;
    matches!(
        error.rdkafka_error_code(),
        Some(RDKafkaErrorCode::Fatal | RDKafkaErrorCode::FencedInstanceId)
    )
}

/// What the consumer keeps of a received message until it is done: where it came from, its key and value (a dead
/// letter carries them). Not its headers (e.g. Debezium's `__debezium.context.*`, when a connector sends them):
/// nothing reads them, and copying them took about 180 bytes and nine allocations a message.
fn keep(message: &BorrowedMessage<'_>) -> OwnedMessage {
    OwnedMessage::new(
        message.payload().map(<[u8]>::to_vec),
        message.key().map(<[u8]>::to_vec),
        message.topic().to_string(),
        message.timestamp(),
        message.partition(),
        message.offset(),
        None,
    )
}

/// Decodes, filters and transforms received messages, in their order (`pipeline::prepare`).
fn prepare_all(mapping: &Mapping, origin: Side, messages: Vec<OwnedMessage>) -> Vec<Item> {
    messages
        .into_iter()
        .map(|message| {
            let prepared = prepare(message.key(), message.payload(), origin, mapping);
            Item { message, prepared }
        })
        .collect()
}

/// Queues prepared messages on their partitions; a partition no longer assigned drops its messages.
fn enqueue(queues: &mut BTreeMap<i32, PartitionQueue>, items: Vec<Item>) {
    for item in items {
        match queues.get_mut(&item.message.partition()) {
            Some(queue) => queue.push(item),
            None => debug!(
                partition = item.message.partition(),
                "message of a partition not assigned; dropped"
            ),
        }
    }
}

//! The pipeline: Kafka in, database out, offsets after commit, dead letters for poison.
//!
//! # Guarantee
//! At-least-once delivery with idempotent writes. Auto-commit is off; a partition's offset is committed only after
//! the database transaction holding its messages' writes and ledger rows has committed, and after every dead
//! letter among them has been acknowledged by the broker. A crash between the two replays messages, which the
//! ledger turns into no-ops. A failed offset commit is offered again every second until the broker takes it.
//!
//! # Order
//! Messages are queued per partition and applied in offset order, one transaction per batch (README "Order is
//! per row"). Batches of different partitions are written side by side, as many at once as the target pool has
//! connections, each partition one batch at a time (`event_loop`, `flight`): when a batch lands, the next ready
//! partition's starts at once, longest-waiting first, while messages keep arriving and decoding on a blocking thread
//! (`inbox`). Received, decoding and queued messages together are held to a batch per connection; at that bound a
//! partial batch does not linger (nothing more would come into it). Each batch takes a lock per row it writes first
//! (`write::row_lock`), so changes of one row applied by two batches or two group members never decide from stale
//! reads. A child whose parent has not arrived is parked with
//! backoff, holding back only its own row's later changes; it is dead-lettered as `parent_missing` only once it
//! waited `parent_wait_ms` and every partition of the topic was consumed past the child's timestamp (its parent,
//! committed before it on the source, would have arrived), or after [`PARENT_WAIT_CAP`] whatever happens.
//!
//! # Group membership
//! Queues outlive one [`Consumer::run`], so a second `run` loses nothing. Assignment changes (recorded by
//! `rebalance`) are applied after every poll, before anything it returned is taken: a revoked partition's queue is
//! dropped with what was received from it before the change (waiting, decoding or held for its batch in flight), an
//! assigned one starts empty at the committed offset and is resumed. A batch in flight when its partition is revoked
//! finishes (its rows locked, its repeats no-ops through the ledger) but commits no offset, and its queue is dropped
//! when it lands. The cooperative-sticky assignor
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
mod event_loop;
mod flight;
mod inbox;
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
use outage::Outage;
use partition::{PartitionQueue, Queues};
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Message, OwnedMessage};
use rebalance::RebalanceLog;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tracing::info;

/// Backoff cap for retries.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(5);
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
        let mut kept = self.queues.try_lock().map_err(|_| Error::AlreadyRunning)?;
        let queues: Queues = RefCell::new(std::mem::take(&mut *kept));
        let result = self.runtime.block_on(self.run_loop(&queues, options, tick));
        *kept = queues.into_inner();
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

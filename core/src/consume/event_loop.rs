//! The consumer's loop: receive, decode, write and commit, each as soon as it can. Up to one step per target
//! connection is in flight ([`InFlight`]); when one lands, the longest-waiting ready partition's batch starts at
//! once, while messages keep arriving and decoding ([`Inbox`]) beside the writes. What is received, decoding and
//! queued is held to a batch per connection, so memory stays what the batches in flight and as many queued take.
//! One thread runs the loop and the steps: only `await`s interleave them, so the queue map, shared with the steps
//! for the parent watermark, is never borrowed across one.

use super::flight::{InFlight, Landing, Step};
use super::inbox::Inbox;
use super::partition::{Item, PartitionQueue, Queues};
use super::prune::PruneSchedule;
use super::rebalance::AssignmentChange;
use super::{is_fatal, keep, Consumer, RunOptions};
use crate::error::Error;
use crate::metrics::Counters;
use futures_util::FutureExt as _;
use rdkafka::consumer::Consumer as _;
use rdkafka::error::KafkaError;
use rdkafka::message::{Message as _, OwnedMessage};
use rdkafka::TopicPartitionList;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tracing::{debug, info, info_span, warn, Instrument as _};

/// How long one poll waits for a message at most before the loop checks its limits and the stop flag.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// How long `stop_when_idle` waits for a partition assignment before idle time counts anyway.
const JOIN_GRACE: Duration = Duration::from_secs(30);
/// How often a progress line is logged at info level.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(30);
/// How often a failed offset commit is tried again.
const COMMIT_RETRY_INTERVAL: Duration = Duration::from_secs(1);

/// What woke the loop.
enum Wake {
    /// A step finished.
    Landed(Box<Landing>),
    /// The decoding job finished.
    Decoded(Result<Vec<Item>, Error>),
    /// A poll: a message, an error, or nothing within its wait.
    Polled(Option<Result<OwnedMessage, KafkaError>>),
    /// Nothing to wait for but time (queues full, a partial batch lingering).
    Slept,
}

/// When the loop last did its periodic work.
struct Clocks {
    started: Instant,
    last_message: Instant,
    last_poll: Instant,
    last_commit_retry: Instant,
    last_progress: Instant,
    last_progress_count: u64,
    assigned: bool,
}

impl Clocks {
    fn new() -> Self {
        let now = Instant::now();
        Clocks {
            started: now,
            last_message: now,
            last_poll: now,
            last_commit_retry: now,
            last_progress: now,
            last_progress_count: 0,
            assigned: false,
        }
    }
}

impl Consumer {
    /// Consumes until a limit in `options` is reached, `stop` is called or an error ends the run. Every step in
    /// flight then lands (and commits), and what was received is decoded and queued for the next run.
    pub(super) async fn run_loop(
        &self,
        queues: &Queues,
        options: RunOptions,
        tick: &mut dyn FnMut(),
    ) -> Result<Counters, Error> {
        let mut counters = Counters::default();
        let mut flight = InFlight::default();
        let mut inbox = Inbox::default();
        let mut prune_schedule = PruneSchedule::new();
        let mut clocks = Clocks::new();
        let linger = Duration::from_millis(self.config.batch_linger_ms);
        let bound = self.config.batch_size * self.target.connections();
        let outcome = loop {
            tick();
            let remaining = options
                .max_events
                .map(|max| max.saturating_sub(counters.consumed));
            if self.stop.load(Ordering::SeqCst)
                || remaining == Some(0)
                || options
                    .timeout
                    .is_some_and(|t| clocks.started.elapsed() >= t)
            {
                break Ok(());
            }
            // At the bound nothing more is received until a batch goes: a partial batch lingering would only wait.
            let queued = pending(&queues.borrow()) + flight.held_len() + inbox.len();
            let linger_now = if queued >= bound {
                Duration::ZERO
            } else {
                linger
            };
            if prune_schedule.due() {
                // Pruning waits for the steps in flight: it would stall them, holding their transactions open.
                if flight.is_empty() {
                    self.prune_if_due(&mut prune_schedule).await;
                }
            } else {
                self.launch(queues, &mut flight, remaining, linger_now);
            }
            if inbox.waiting() > 0 && !inbox.decoding() {
                if flight.is_empty() && self.ready(&queues.borrow(), linger).is_empty() {
                    // Nothing to write meanwhile: decode here, and the next batch is made of these at once.
                    let items = inbox.decode_now(&self.mapping, self.origin);
                    enqueue(&mut queues.borrow_mut(), &mut flight, items);
                    self.pace_partitions(&queues.borrow());
                    continue;
                }
                inbox.start(&self.mapping, self.origin);
            }
            let queued = pending(&queues.borrow()) + flight.held_len() + inbox.len();
            // Over the bound, a poll still runs every interval: it serves rebalances and keeps the membership.
            let room = queued < bound || clocks.last_poll.elapsed() >= POLL_INTERVAL;
            let wait = poll_wait(&queues.borrow(), linger);
            let wake = tokio::select! {
                biased;
                Some(landing) = flight.land(), if !flight.is_empty() => Wake::Landed(Box::new(landing)),
                items = inbox.finished(), if inbox.decoding() => Wake::Decoded(items),
                polled = tokio::time::timeout(wait, self.kafka.recv()), if room => {
                    Wake::Polled(polled.ok().map(|received| received.map(|m| keep(&m))))
                }
                else => {
                    tokio::time::sleep(wait.min(POLL_INTERVAL.saturating_sub(clocks.last_poll.elapsed()))).await;
                    Wake::Slept
                }
            };
            let moved = match wake {
                Wake::Landed(landing) => {
                    self.landed(queues, *landing, &mut counters);
                    true
                }
                Wake::Decoded(Ok(items)) => {
                    enqueue(&mut queues.borrow_mut(), &mut flight, items);
                    true
                }
                Wake::Decoded(Err(error)) => break Err(error),
                Wake::Polled(polled) => {
                    clocks.last_poll = Instant::now();
                    let room = bound.saturating_sub(queued).max(1);
                    match self.take_burst(queues, &mut flight, &mut inbox, polled, room) {
                        Ok(0) => false,
                        Ok(_) => {
                            clocks.last_message = Instant::now();
                            false
                        }
                        Err(error) => break Err(error),
                    }
                }
                Wake::Slept => false,
            };
            if moved {
                self.pace_partitions(&queues.borrow());
            }
            self.periodic_work(queues, &mut clocks, &counters);
            if self.idle_enough(queues, &flight, &inbox, &options, &mut clocks) {
                break Ok(());
            }
        };
        // Every step in flight lands and commits; what was received is queued for the next run.
        while let Some(landing) = flight.land().await {
            self.landed(queues, landing, &mut counters);
        }
        let mut outcome = outcome;
        if inbox.decoding() {
            match inbox.finished().await {
                Ok(items) => enqueue(&mut queues.borrow_mut(), &mut flight, items),
                Err(error) => outcome = outcome.and(Err(error)),
            }
        }
        let items = inbox.decode_now(&self.mapping, self.origin);
        enqueue(&mut queues.borrow_mut(), &mut flight, items);
        outcome.map(|()| counters)
    }

    /// Starts a step for each ready partition that has none in flight, longest-waiting first, while the target
    /// has connections free and `remaining` (less what the steps in flight may consume) allows.
    fn launch<'a>(
        &'a self,
        queues: &'a Queues,
        flight: &mut InFlight<'a>,
        remaining: Option<u64>,
        linger: Duration,
    ) {
        let free = self.target.connections().saturating_sub(flight.len());
        if free == 0 {
            return;
        }
        let mut ready: Vec<(Instant, i32)> = {
            let map = queues.borrow();
            let now = Instant::now();
            self.ready(&map, linger)
                .into_iter()
                .filter(|partition| !flight.flying(*partition))
                .map(|partition| {
                    let since = map.get(&partition).and_then(PartitionQueue::waiting_since);
                    (since.unwrap_or(now), partition)
                })
                .collect()
        };
        ready.sort_unstable();
        let mut left = remaining.map(|r| {
            usize::try_from(r)
                .unwrap_or(usize::MAX)
                .saturating_sub(flight.quota())
        });
        for (_, partition) in ready.into_iter().take(free) {
            if left == Some(0) {
                break;
            }
            let Some(mut queue) = queues.borrow_mut().remove(&partition) else {
                continue;
            };
            let limit = left.unwrap_or(usize::MAX);
            let quota = self.config.batch_size.min(queue.len()).min(limit);
            left = left.map(|l| l.saturating_sub(quota));
            let span = info_span!("batch", partition, topic = %self.config.topic);
            let step = async move {
                let mut counters = Counters::default();
                self.process(&mut queue, queues, limit, linger, &mut counters)
                    .instrument(span)
                    .await;
                Step {
                    partition,
                    queue,
                    counters,
                }
            };
            flight.start(partition, quota, Box::pin(step));
        }
    }

    /// Takes a landed step back: counts it, commits its partition's offset and returns its queue to the map,
    /// waking parked rows everywhere if it applied anything (they may wait for what it wrote). A stale step's
    /// queue is dropped.
    fn landed(&self, queues: &Queues, landing: Landing, counters: &mut Counters) {
        let Landing { step, live } = landing;
        let Step {
            partition,
            mut queue,
            counters: counted,
        } = step;
        counters.add(&counted);
        if !live {
            debug!(
                partition,
                "the partition changed hands while its batch was written; its queue is dropped"
            );
            return;
        }
        self.commit(&mut queue, partition);
        let mut map = queues.borrow_mut();
        if counted.applied > 0 {
            queue.wake_parked();
            map.values_mut().for_each(PartitionQueue::wake_parked);
        }
        map.insert(partition, queue);
    }

    /// The partitions whose queue has a batch to apply now (none during a database outage).
    pub(super) fn ready(
        &self,
        queues: &BTreeMap<i32, PartitionQueue>,
        linger: Duration,
    ) -> Vec<i32> {
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

    /// Takes the polled message and whatever else Kafka has ready at once, up to `room` messages, into the inbox.
    /// Assignment changes are applied after every poll, before its message is taken. Returns how many were taken;
    /// a fatal client error (e.g. another process took this `group.instance.id`) ends the run.
    fn take_burst(
        &self,
        queues: &Queues,
        flight: &mut InFlight<'_>,
        inbox: &mut Inbox,
        first: Option<Result<OwnedMessage, KafkaError>>,
        room: usize,
    ) -> Result<usize, Error> {
        let mut polled = first;
        let mut taken = 0;
        loop {
            self.apply_assignment_changes(queues, flight, inbox);
            match polled {
                None => return Ok(taken),
                Some(Ok(message)) => {
                    let partition = message.partition();
                    if queues.borrow().contains_key(&partition) || flight.live(partition) {
                        inbox.push(message);
                        taken += 1;
                    } else {
                        debug!(partition, "message of a partition not assigned; dropped");
                    }
                }
                Some(Err(error)) if is_fatal(&error) => {
                    return Err(Error::Kafka {
                        context: format!(
                            "consumer stopped by the broker (is another process using group.instance.id `{}`? \
                             give each consumer process its own DBSYNC_INSTANCE_ID)",
                            self.instance_id
                        ),
                        source: error,
                    });
                }
                Some(Err(error)) => {
                    // librdkafka reconnects by itself; report and keep polling.
                    warn!(%error, "kafka consumer error");
                    return Ok(taken);
                }
            }
            if taken >= room {
                return Ok(taken);
            }
            polled = self
                .kafka
                .recv()
                .now_or_never()
                .map(|received| received.map(|m| keep(&m)));
        }
    }

    /// Applies the assignment changes recorded since the last call: revoked partitions' queues, messages waiting
    /// or decoding and steps in flight are dropped (their new owner reads them again from the committed offset),
    /// assigned ones start empty and are resumed.
    fn apply_assignment_changes(
        &self,
        queues: &Queues,
        flight: &mut InFlight<'_>,
        inbox: &mut Inbox,
    ) {
        for change in self.kafka.context().drain() {
            match change {
                AssignmentChange::Revoked(partitions) => {
                    let mut map = queues.borrow_mut();
                    for partition in &partitions {
                        map.remove(partition);
                    }
                    flight.changed_hands(&partitions);
                    inbox.changed_hands(&partitions);
                }
                AssignmentChange::Lost => {
                    queues.borrow_mut().clear();
                    flight.all_changed_hands();
                    inbox.all_changed_hands();
                }
                AssignmentChange::Assigned(partitions) => {
                    let mut list = TopicPartitionList::new();
                    let mut map = queues.borrow_mut();
                    for partition in &partitions {
                        map.insert(*partition, PartitionQueue::default());
                        list.add_partition(&self.config.topic, *partition);
                    }
                    flight.changed_hands(&partitions);
                    inbox.changed_hands(&partitions);
                    if let Err(error) = self.kafka.resume(&list) {
                        warn!(%error, "could not resume assigned partitions");
                    }
                }
            }
        }
    }

    /// Offers failed offset commits again, exports the gauges and logs progress, each when due.
    fn periodic_work(&self, queues: &Queues, clocks: &mut Clocks, counters: &Counters) {
        if clocks.last_commit_retry.elapsed() >= COMMIT_RETRY_INTERVAL {
            let mut map = queues.borrow_mut();
            for (partition, queue) in map.iter_mut() {
                self.commit(queue, *partition);
            }
            self.export_gauges(&map);
            clocks.last_commit_retry = Instant::now();
        }
        if clocks.last_progress.elapsed() >= PROGRESS_INTERVAL
            && counters.consumed != clocks.last_progress_count
        {
            clocks.last_progress_count = counters.consumed;
            info!(
                consumed = counters.consumed,
                applied = counters.applied,
                skipped_echo = counters.skipped_echo,
                duplicates = counters.duplicates,
                dead_lettered = counters.dead_lettered,
                "progress"
            );
            clocks.last_progress = Instant::now();
        }
    }

    /// Whether `stop_when_idle` ends the run: nothing in flight, received or queued, and no message for the idle
    /// time. Idle counts only once the group has given us partitions (joining takes a moment; a broker's initial
    /// rebalance delay can take seconds), or after a generous grace if it never does.
    fn idle_enough(
        &self,
        queues: &Queues,
        flight: &InFlight<'_>,
        inbox: &Inbox,
        options: &RunOptions,
        clocks: &mut Clocks,
    ) -> bool {
        let Some(idle) = options.stop_when_idle else {
            return false;
        };
        if !clocks.assigned && clocks.started.elapsed() < JOIN_GRACE {
            clocks.assigned = self.kafka.assignment().is_ok_and(|a| a.count() > 0);
            if !clocks.assigned {
                clocks.last_message = Instant::now();
            }
        }
        flight.is_empty()
            && inbox.is_empty()
            && queues.borrow().values().all(PartitionQueue::is_empty)
            && clocks.last_message.elapsed() >= idle
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

/// Messages queued and not parked, over every partition in the map.
fn pending(queues: &BTreeMap<i32, PartitionQueue>) -> usize {
    queues.values().map(PartitionQueue::pending_len).sum()
}

/// How long a poll may wait: until the first partial batch's linger ends, at most a poll interval, at least 1 ms.
/// Lingers already over are left out (such a batch is ready, or held back by a retry's backoff or an outage).
fn poll_wait(queues: &BTreeMap<i32, PartitionQueue>, linger: Duration) -> Duration {
    let now = Instant::now();
    queues
        .values()
        .filter_map(PartitionQueue::waiting_since)
        .map(|since| since + linger)
        .filter(|end| *end > now)
        .map(|end| end - now)
        .min()
        .unwrap_or(POLL_INTERVAL)
        .clamp(Duration::from_millis(1), POLL_INTERVAL)
}

/// Queues prepared messages on their partitions; those of a partition with a step in flight are held until it
/// lands, and those of a partition no longer assigned are dropped.
fn enqueue(
    queues: &mut BTreeMap<i32, PartitionQueue>,
    flight: &mut InFlight<'_>,
    items: Vec<Item>,
) {
    for item in items {
        let partition = item.message.partition();
        match queues.get_mut(&partition) {
            Some(queue) => queue.push(item),
            None => {
                if flight.hold(item).is_some() {
                    debug!(partition, "message of a partition not assigned; dropped");
                }
            }
        }
    }
}

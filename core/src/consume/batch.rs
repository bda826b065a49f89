//! One step of one partition: retry the parked rows that are due together with the next pending batch, in one
//! transaction; settle each message (done, parked, dead-lettered or put back). The loop commits the partition's
//! offset, up to the first message that is not done, when the step lands. Whatever is put back keeps offset order
//! (`PartitionQueue::requeue`).

use super::partition::{Item, PartitionQueue, Queues, Retry};
use super::pipeline::Prepared;
use super::watermark::OwnQueues;
use super::{Consumer, MAX_BACKOFF, PARENT_WAIT_CAP};
use crate::dlq::{DlqError, Failure, Origin};
use crate::error::{DeadLetterReason, ErrorClass};
use crate::metrics::{Counters, Outcome};
use crate::position::Lane;
use crate::row::RowOp;
use crate::write::{BatchError, OpOutcome, WriteError};
use chrono::{DateTime, TimeDelta, Utc};
use rdkafka::consumer::{CommitMode, Consumer as _};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use std::collections::HashSet;
use std::time::{Duration, Instant};
use tracing::{debug, warn};

/// A message to settle in this step, with its retry state if it was parked.
struct Work {
    item: Item,
    retry: Option<Retry>,
}

impl Consumer {
    /// Runs one step for a partition's `queue`: due parked rows plus up to `limit` pending messages.
    pub(super) async fn process(
        &self,
        queue: &mut PartitionQueue,
        others: &Queues,
        limit: usize,
        linger: Duration,
        counters: &mut Counters,
    ) {
        let now = Instant::now();
        let mut work: Vec<Work> = queue
            .take_due_parked(now)
            .into_iter()
            .map(|p| Work {
                item: p.item,
                retry: p.retry,
            })
            .collect();
        if queue.ready(self.config.batch_size, linger, now) {
            let take = self.config.batch_size.min(limit);
            work.extend(
                queue
                    .take_pending(take)
                    .into_iter()
                    .map(|item| Work { item, retry: None }),
            );
        }
        if !work.is_empty() {
            self.settle(queue, others, work, counters).await;
        }
    }

    /// Settles `work`: skips and dead letters first, then the row operations in one transaction.
    async fn settle(
        &self,
        queue: &mut PartitionQueue,
        others: &Queues,
        work: Vec<Work>,
        counters: &mut Counters,
    ) {
        let mut apply = Vec::new();
        let mut rest = work.into_iter();
        while let Some(w) = rest.next() {
            match &w.item.prepared {
                Prepared::Apply(_) => apply.push(w),
                Prepared::Echo { entity } => {
                    self.metrics
                        .event(w.item.message.partition(), Outcome::SkippedEcho);
                    counters.consumed += 1;
                    counters.skipped_echo += 1;
                    counters
                        .per_entity
                        .entry(entity.clone())
                        .or_default()
                        .skipped_echo += 1;
                }
                Prepared::Skip { reason } => {
                    self.metrics
                        .event(w.item.message.partition(), Outcome::Skipped);
                    counters.consumed += 1;
                    debug!(reason, offset = w.item.message.offset(), "nothing to apply");
                }
                Prepared::Poison { entity, failure } => {
                    let (entity, failure) = (entity.clone(), failure.clone());
                    if self
                        .dead_letter(&w.item, &failure, entity, counters)
                        .await
                        .is_err()
                    {
                        let mut back: Vec<Item> = apply.into_iter().map(|w: Work| w.item).collect();
                        back.push(w.item);
                        back.extend(rest.map(|w| w.item));
                        self.put_back(queue, back, None);
                        return;
                    }
                }
            }
        }
        if !apply.is_empty() {
            self.apply(queue, others, apply, counters).await;
        }
    }

    /// Writes the row operations of `work` in one transaction and settles each by its outcome. Returns false when
    /// the batch was put back to be tried again (nothing of it is done).
    async fn apply(
        &self,
        queue: &mut PartitionQueue,
        others: &Queues,
        work: Vec<Work>,
        counters: &mut Counters,
    ) -> bool {
        let mut work = work;
        let taken = take_ops(&mut work);
        let partition = work.first().map_or(-1, |w| w.item.message.partition());
        let lane = work.first().map(|w| Lane {
            topic: w.item.message.topic().to_string(),
            partition,
        });
        let started = Instant::now();
        let result = self.target.apply_from(lane.as_ref(), &taken.ops).await;
        let applied_ops = taken.ops.len();
        return_ops(&mut work, taken);
        match result {
            Ok(outcomes) => {
                self.metrics.batch_applied(started.elapsed());
                self.record_lag(partition, &work, &outcomes);
                self.outage_ended();
                queue.succeeded();
                self.settle_outcomes(queue, others, work, outcomes, counters)
                    .await;
                true
            }
            Err(BatchError { index, error }) => {
                self.metrics.batch_retried(partition);
                counters.retried += 1;
                // A commit that failed transiently is not pinned on one message: retry without limit.
                let commit_failed = index >= applied_ops;
                let class = error.class();
                if class == ErrorClass::Unavailable
                    || (class == ErrorClass::Transient && commit_failed)
                {
                    self.outage_began(&error);
                    self.put_back(queue, items_of(work), None);
                    return false;
                }
                if class == ErrorClass::Transient {
                    let budget = self.config.max_retries.max(1);
                    let attempts = queue.retry().map_or(0, |r| r.attempts);
                    if attempts + 1 < budget {
                        warn!(%error, attempt = attempts + 1, budget, "transient database error; retrying");
                        self.put_back(queue, items_of(work), Some(budget));
                        return false;
                    }
                    // Budget used up: isolate the failing message like a permanent error.
                }
                Box::pin(self.isolate(queue, others, work, index, error, counters)).await
            }
        }
    }

    /// After the operation at `index` failed for good: applies what came before it, dead-letters it (or parks a
    /// row conflict), and puts what came after it back to be tried again. Returns false when nothing was settled.
    async fn isolate(
        &self,
        queue: &mut PartitionQueue,
        others: &Queues,
        mut work: Vec<Work>,
        index: usize,
        error: WriteError,
        counters: &mut Counters,
    ) -> bool {
        let after = work.split_off((index + 1).min(work.len()));
        let failed = work.pop();
        // Read before the prefix's success resets the partition's retry state.
        let partition_attempts = queue.retry().map(|r| (r.attempts, r.first_failure));
        if !work.is_empty() && !Box::pin(self.apply(queue, others, work, counters)).await {
            // The prefix went back; the failing message and the rest wait behind it, in offset order.
            let mut back: Vec<Item> = failed.into_iter().map(|w| w.item).collect();
            back.extend(items_of(after));
            queue.requeue(back);
            return false;
        }
        if let Some(failed) = failed {
            let budget = TimeDelta::milliseconds(self.config.parent_wait_ms as i64);
            let waited = failed
                .retry
                .as_ref()
                .map_or(TimeDelta::zero(), |r| Utc::now() - r.first_failure);
            if error.is_row_conflict() && waited < budget {
                debug!(%error, offset = failed.item.message.offset(), "row conflict; parked");
                queue.park(failed.item, failed.retry, self.backoff_base(), MAX_BACKOFF);
                queue.requeue(items_of(after));
                return true;
            }
            warn!(%error, offset = failed.item.message.offset(), "the database rejects this message");
            let attempts = failed
                .retry
                .as_ref()
                .map(|r| (r.attempts, r.first_failure))
                .or(partition_attempts);
            let failure = write_failure(error.reason(), error.to_string(), attempts);
            let entity = entity_of(&failed.item);
            if self
                .dead_letter(&failed.item, &failure, entity, counters)
                .await
                .is_err()
            {
                let mut back = vec![failed.item];
                back.extend(items_of(after));
                self.put_back(queue, back, None);
                return false;
            }
        }
        queue.succeeded();
        queue.requeue(items_of(after));
        true
    }

    async fn settle_outcomes(
        &self,
        queue: &mut PartitionQueue,
        others: &Queues,
        work: Vec<Work>,
        outcomes: Vec<OpOutcome>,
        counters: &mut Counters,
    ) {
        let budget = TimeDelta::milliseconds(self.config.parent_wait_ms as i64);
        let mut given_up: HashSet<(String, i64)> = HashSet::new();
        let mut requeue = Vec::new();
        for (w, outcome) in work.into_iter().zip(outcomes) {
            let partition = w.item.message.partition();
            let entity = entity_of(&w.item).unwrap_or_default();
            let tally = counters.per_entity.entry(entity.clone()).or_default();
            match outcome {
                OpOutcome::Applied => {
                    self.metrics.event(partition, Outcome::Applied);
                    counters.applied += 1;
                    tally.applied += 1;
                }
                OpOutcome::Duplicate => {
                    self.metrics.event(partition, Outcome::Duplicate);
                    counters.duplicates += 1;
                    tally.duplicates += 1;
                }
                OpOutcome::ConflictLost | OpOutcome::ParentDeleted(_) => {
                    self.metrics.event(partition, Outcome::ConflictLost);
                    counters.conflicts_lost += 1;
                    tally.conflicts_lost += 1;
                }
                OpOutcome::ParentMissing(parent) => {
                    let waited = w
                        .retry
                        .as_ref()
                        .map_or(TimeDelta::zero(), |r| Utc::now() - r.first_failure);
                    if waited >= budget && self.parent_absent(&w.item, waited, queue, others) {
                        let message = format!(
                            "{entity} {} references {} {} which is absent although every partition was consumed \
                             past the child (waited {} ms)",
                            w.item.row().map_or(0, |(_, key)| key),
                            parent.entity,
                            parent.id,
                            waited.num_milliseconds()
                        );
                        let mut failure = write_failure(
                            DeadLetterReason::ParentMissing,
                            message,
                            w.retry.as_ref().map(|r| (r.attempts, r.first_failure)),
                        );
                        failure.attempts += 1;
                        if let Some(row) = w.item.row() {
                            given_up.insert(row);
                        }
                        if self
                            .dead_letter(&w.item, &failure, Some(entity), counters)
                            .await
                            .is_err()
                        {
                            requeue.push(w.item);
                        }
                    } else {
                        debug!(entity = %parent.entity, id = parent.id, "parent missing; parked");
                        queue.park(w.item, w.retry, self.backoff_base(), MAX_BACKOFF);
                    }
                    continue;
                }
                OpOutcome::Blocked => {
                    // Behind a row that waits: wait with it, or go again if that row was just given up on.
                    if w.item.row().is_some_and(|row| given_up.contains(&row)) {
                        requeue.push(w.item);
                    } else {
                        queue.park_follower(w.item);
                    }
                    continue;
                }
            }
            counters.consumed += 1;
        }
        queue.requeue(requeue);
    }

    /// Records the end-to-end delay (source commit to now, just after the target committed) of the applied events.
    fn record_lag(&self, partition: i32, work: &[Work], outcomes: &[OpOutcome]) {
        let sources: Vec<DateTime<Utc>> = work
            .iter()
            .zip(outcomes)
            .filter_map(|(w, outcome)| match (&w.item.prepared, outcome) {
                (Prepared::Apply(op), OpOutcome::Applied) => Some(op.source_committed_at()),
                _ => None,
            })
            .collect();
        self.metrics.applied(partition, &sources, Utc::now());
    }

    /// Whether a child that waited `waited` may give up on its parent: the topic was consumed past it (see
    /// `watermark`), or it waited [`PARENT_WAIT_CAP`].
    fn parent_absent(
        &self,
        item: &Item,
        waited: TimeDelta,
        queue: &PartitionQueue,
        others: &Queues,
    ) -> bool {
        if waited.to_std().is_ok_and(|w| w >= PARENT_WAIT_CAP) {
            return true;
        }
        let Some(timestamp) = item.message.timestamp().to_millis() else {
            return false;
        };
        let own = OwnQueues {
            partition: item.message.partition(),
            queue,
            others,
        };
        self.consumed_past(timestamp, item.row().as_ref(), &own)
    }

    /// Puts items back to be tried again after backoff; false once `budget` attempts are used up.
    fn put_back(
        &self,
        queue: &mut PartitionQueue,
        mut items: Vec<Item>,
        budget: Option<u32>,
    ) -> bool {
        queue.requeue(std::mem::take(&mut items));
        queue.fail_partition(self.backoff_base(), MAX_BACKOFF, budget)
    }

    /// Commits the partition's offset if it moved; a failed commit is offered again on the next call.
    pub(super) fn commit(&self, queue: &mut PartitionQueue, partition: i32) {
        let Some(offset) = queue.offset_to_commit() else {
            return;
        };
        let mut offsets = TopicPartitionList::new();
        let started = Instant::now();
        let result = offsets
            .add_partition_offset(&self.config.topic, partition, Offset::Offset(offset))
            .and_then(|()| self.kafka.commit(&offsets, CommitMode::Sync));
        match result {
            Ok(()) => {
                queue.committed(offset);
                debug!(
                    partition,
                    offset,
                    commit_us = started.elapsed().as_micros() as u64,
                    "offset committed"
                );
            }
            // The writes are committed and in the ledger: a redelivery after a restart is a no-op.
            Err(error) => warn!(%error, partition, offset, "offset commit failed; will retry"),
        }
    }

    /// The first retry backoff.
    pub(super) fn backoff_base(&self) -> Duration {
        Duration::from_millis(self.config.retry_backoff_ms.max(1))
    }

    /// Sends `item` to the dead-letter topic; counts it as done when the broker acknowledged it.
    async fn dead_letter(
        &self,
        item: &Item,
        failure: &Failure,
        entity: Option<String>,
        counters: &mut Counters,
    ) -> Result<(), DlqError> {
        let message = &item.message;
        let origin = Origin {
            topic: message.topic(),
            partition: message.partition(),
            offset: message.offset(),
        };
        warn!(
            reason = failure.reason.as_str(),
            topic = origin.topic,
            partition = origin.partition,
            offset = origin.offset,
            "dead-lettering message"
        );
        let sent = self
            .dead_letters
            .send(message.key(), message.payload(), origin, failure)
            .await;
        match &sent {
            Ok(()) => {
                self.metrics.dead_lettered(origin.partition, failure.reason);
                counters.consumed += 1;
                counters.dead_lettered += 1;
                if let Some(entity) = entity {
                    counters.per_entity.entry(entity).or_default().dead_lettered += 1;
                }
            }
            Err(error) => warn!(%error, "dead letter not written; will retry"),
        }
        sent
    }
}

fn entity_of(item: &Item) -> Option<String> {
    match &item.prepared {
        Prepared::Apply(op) => Some(op.entity().to_string()),
        Prepared::Echo { entity } => Some(entity.clone()),
        Prepared::Poison { entity, .. } => entity.clone(),
        Prepared::Skip { .. } => None,
    }
}

/// A write failure after `attempts` (count and first failure), or one attempt now.
fn write_failure(
    reason: DeadLetterReason,
    message: String,
    attempts: Option<(u32, DateTime<Utc>)>,
) -> Failure {
    let now = Utc::now();
    Failure {
        reason,
        class_name: "dbsync_core::write::WriteError",
        message,
        stage: "write",
        attempts: attempts.map_or(1, |(n, _)| n.max(1)),
        first_failure: attempts.map_or(now, |(_, first)| first),
        last_failure: now,
    }
}

/// Row operations moved out of their items for the writer (no copy of their rows), with where they came from.
struct TakenOps {
    ops: Vec<RowOp>,
    from: Vec<usize>,
}

/// Moves the row operations out of `work`; [`return_ops`] puts them back.
fn take_ops(work: &mut [Work]) -> TakenOps {
    let mut taken = TakenOps {
        ops: Vec::with_capacity(work.len()),
        from: Vec::with_capacity(work.len()),
    };
    for (index, w) in work.iter_mut().enumerate() {
        match std::mem::replace(&mut w.item.prepared, TAKEN) {
            Prepared::Apply(op) => {
                taken.ops.push(op);
                taken.from.push(index);
            }
            other => w.item.prepared = other,
        }
    }
    taken
}

/// Puts the operations [`take_ops`] moved out back into their items.
fn return_ops(work: &mut [Work], taken: TakenOps) {
    for (index, op) in taken.from.into_iter().zip(taken.ops) {
        work[index].item.prepared = Prepared::Apply(op);
    }
}

/// What an item holds while its operation is with the writer.
const TAKEN: Prepared = Prepared::Skip {
    reason: "with the writer",
};

fn items_of(work: Vec<Work>) -> Vec<Item> {
    work.into_iter().map(|w| w.item).collect()
}

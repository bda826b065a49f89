//! Per-partition state of the consumer (README "Order is per row"): messages received and not yet done, in offset order,
//! and the ones parked because their row waits for a parent row. Order is kept per row, not per partition: a parked
//! row holds back only its own later changes; other rows of the partition go on. The committed offset never passes
//! a message that is not done, so a restart redelivers parked messages (the ledger drops what was already applied).

use super::pipeline::Prepared;
use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use chrono::{DateTime, Utc};
use rdkafka::message::{Message, OwnedMessage};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

/// The consumer loop's partition queues, shared with the steps in flight, which read them for the parent watermark.
/// One thread runs the loop and the steps, and no borrow is held across an `await`.
pub type Queues = RefCell<BTreeMap<i32, PartitionQueue>>;

/// A received message with what the pipeline made of it.
#[derive(Debug, Clone)]
pub struct Item {
    /// The message as received.
    pub message: OwnedMessage,
    /// Decoded, filtered and transformed.
    pub prepared: Prepared,
}

impl Item {
    /// The target row this message changes, if it changes one.
    pub fn row(&self) -> Option<(String, i64)> {
        match &self.prepared {
            Prepared::Apply(op) => Some((op.table().to_string(), op.key())),
            _ => None,
        }
    }
}

/// Retry state: attempts, first failure and when to try next (exponential backoff).
#[derive(Debug)]
pub struct Retry {
    /// Attempts so far.
    pub attempts: u32,
    /// When the first attempt failed.
    pub first_failure: DateTime<Utc>,
    /// Not before this instant.
    pub not_before: Instant,
    backoff: ExponentialBackoff,
}

impl Retry {
    fn new(base: Duration, cap: Duration) -> Self {
        let builder = ExponentialBuilder::default()
            .with_min_delay(base)
            .with_max_delay(cap)
            .with_factor(2.0)
            .without_max_times();
        Retry {
            attempts: 0,
            first_failure: Utc::now(),
            not_before: Instant::now(),
            backoff: builder.build(),
        }
    }

    /// Counts a failed attempt and schedules the next.
    fn failed(&mut self, cap: Duration) {
        self.attempts += 1;
        self.not_before = Instant::now() + self.backoff.next().unwrap_or(cap);
    }
}

/// A message whose row waits: its own retry state when it is the row's first waiting change, none for the row's
/// later changes (they follow it).
#[derive(Debug)]
pub struct Parked {
    /// The message.
    pub item: Item,
    /// Set on the row's first parked change.
    pub retry: Option<Retry>,
}

/// One partition's queue.
#[derive(Debug, Default)]
pub struct PartitionQueue {
    pending: VecDeque<Item>,
    parked: Vec<Parked>,
    oldest_received: Option<Instant>,
    retry: Option<Retry>,
    next_offset: Option<i64>,
    committed: Option<i64>,
}

impl PartitionQueue {
    /// Appends a received message.
    pub fn push(&mut self, item: Item) {
        if self.pending.is_empty() {
            self.oldest_received = Some(Instant::now());
        }
        self.next_offset = Some(item.message.offset() + 1);
        self.pending.push_back(item);
    }

    /// Appends messages received at `since` or later while the queue was out (its batch being written): a partial
    /// batch lingers from when they were received, not from now.
    pub fn push_held(&mut self, items: Vec<Item>, since: Instant) {
        if items.is_empty() {
            return;
        }
        let waited = self
            .waiting_since()
            .map_or(since, |oldest| oldest.min(since));
        for item in items {
            self.push(item);
        }
        self.oldest_received = Some(waited);
    }

    /// Messages not done (pending and parked).
    pub fn len(&self) -> usize {
        self.pending.len() + self.parked.len()
    }

    /// Messages waiting to be taken into a batch (not parked).
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// When the oldest pending message was queued, if one is pending.
    pub fn waiting_since(&self) -> Option<Instant> {
        self.oldest_received.filter(|_| !self.pending.is_empty())
    }

    /// Messages parked (their row waits for another row).
    pub fn parked_len(&self) -> usize {
        self.parked.len()
    }

    /// Nothing left to do.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty() && self.parked.is_empty()
    }

    /// Whether a pending batch should be applied now: a full batch, or a partial one that waited `linger`, and no
    /// partition-wide retry pending.
    pub fn ready(&self, batch_size: usize, linger: Duration, now: Instant) -> bool {
        if self.pending.is_empty() || self.retry.as_ref().is_some_and(|r| now < r.not_before) {
            return false;
        }
        self.pending.len() >= batch_size
            || self.retry.is_some()
            || self
                .oldest_received
                .is_some_and(|t| now.duration_since(t) >= linger)
    }

    /// Takes up to `n` pending messages; those whose row is parked are parked behind it instead.
    pub fn take_pending(&mut self, n: usize) -> Vec<Item> {
        let parked_rows: HashSet<(String, i64)> =
            self.parked.iter().filter_map(|p| p.item.row()).collect();
        let mut taken = Vec::new();
        while taken.len() < n {
            let Some(item) = self.pending.pop_front() else {
                break;
            };
            if item.row().is_some_and(|row| parked_rows.contains(&row)) {
                self.park_follower(item);
            } else {
                taken.push(item);
            }
        }
        taken
    }

    /// Puts messages that were taken but not done back among the pending ones, in offset order (whatever was put
    /// back before them, and in whatever order the caller hands them).
    pub fn requeue(&mut self, items: Vec<Item>) {
        if items.is_empty() {
            return;
        }
        let mut all: Vec<Item> = std::mem::take(&mut self.pending).into();
        all.extend(items);
        all.sort_by_key(|i| i.message.offset());
        self.pending = all.into();
        if self.oldest_received.is_none() {
            self.oldest_received = Some(Instant::now());
        }
    }

    /// Parks the first waiting change of a row (keeping its retry state if it was parked before).
    pub fn park(&mut self, item: Item, retry: Option<Retry>, base: Duration, cap: Duration) {
        let mut retry = retry.unwrap_or_else(|| Retry::new(base, cap));
        retry.failed(cap);
        self.insert_parked(Parked {
            item,
            retry: Some(retry),
        });
    }

    /// Parks a later change of a row that is parked already.
    pub fn park_follower(&mut self, item: Item) {
        self.insert_parked(Parked { item, retry: None });
    }

    fn insert_parked(&mut self, parked: Parked) {
        let offset = parked.item.message.offset();
        let at = self
            .parked
            .iter()
            .position(|p| p.item.message.offset() > offset)
            .unwrap_or(self.parked.len());
        self.parked.insert(at, parked);
    }

    /// Makes every parked row due now (their backoff goes on from where it was): another partition applied a
    /// batch, which may have brought the parent a child waits for, or freed the key a row conflicts on.
    pub fn wake_parked(&mut self) {
        let now = Instant::now();
        for retry in self.parked.iter_mut().filter_map(|p| p.retry.as_mut()) {
            retry.not_before = retry.not_before.min(now);
        }
    }

    /// Whether any parked row is due for another try.
    pub fn parked_due(&self, now: Instant) -> bool {
        self.parked
            .iter()
            .any(|p| p.retry.as_ref().is_some_and(|r| now >= r.not_before))
    }

    /// Takes every parked row that is due, each with its followers, in offset order.
    pub fn take_due_parked(&mut self, now: Instant) -> Vec<Parked> {
        let due_rows: HashSet<(String, i64)> = self
            .parked
            .iter()
            .filter(|p| p.retry.as_ref().is_some_and(|r| now >= r.not_before))
            .filter_map(|p| p.item.row())
            .collect();
        let (due, rest): (Vec<Parked>, Vec<Parked>) = std::mem::take(&mut self.parked)
            .into_iter()
            .partition(|p| p.item.row().is_some_and(|row| due_rows.contains(&row)));
        self.parked = rest;
        due
    }

    /// Records a partition-wide failure (database unavailable, a dead letter not written) and schedules the next
    /// try. Returns false once `max_attempts` is used up.
    pub fn fail_partition(
        &mut self,
        base: Duration,
        cap: Duration,
        max_attempts: Option<u32>,
    ) -> bool {
        let retry = self.retry.get_or_insert_with(|| Retry::new(base, cap));
        retry.failed(cap);
        max_attempts.is_none_or(|max| retry.attempts < max)
    }

    /// The partition-wide retry state.
    pub fn retry(&self) -> Option<&Retry> {
        self.retry.as_ref()
    }

    /// Clears the partition-wide retry state after progress.
    pub fn succeeded(&mut self) {
        self.retry = None;
        self.oldest_received = if self.pending.is_empty() {
            None
        } else {
            Some(Instant::now())
        };
    }

    /// The offset to commit if it moved since the last successful commit: the first message not done, or past the
    /// last one received. Call [`committed`](Self::committed) once the broker took it; until then it is offered again.
    pub fn offset_to_commit(&self) -> Option<i64> {
        let first_open = self
            .pending
            .iter()
            .map(|i| i.message.offset())
            .chain(self.parked.iter().map(|p| p.item.message.offset()))
            .min();
        let offset = first_open.or(self.next_offset)?;
        if self.committed.is_some_and(|c| c >= offset) {
            return None;
        }
        Some(offset)
    }

    /// Records that the broker took a commit of `offset`.
    pub fn committed(&mut self, offset: i64) {
        self.committed = Some(offset);
    }

    /// The first offset below which every message stamped at or before `timestamp_ms` is done, leaving out the
    /// messages of `row` (the child that asks) and parked messages stamped later; `None` when nothing was received
    /// yet. A parked parent stamped earlier holds it back, so a child never gives up on a parent that only waits.
    pub fn done_through(&self, timestamp_ms: i64, row: Option<&(String, i64)>) -> Option<i64> {
        let holds = |item: &Item| item.row().as_ref() != row;
        let stamped_by = |item: &Item| {
            item.message
                .timestamp()
                .to_millis()
                .is_none_or(|t| t <= timestamp_ms)
        };
        self.pending
            .iter()
            .filter(|i| holds(i))
            .chain(
                self.parked
                    .iter()
                    .map(|p| &p.item)
                    .filter(|i| holds(i) && stamped_by(i)),
            )
            .map(|i| i.message.offset())
            .min()
            .or(self.next_offset)
    }
}

/// A message with no key or value, for the consumer's unit tests.
#[cfg(test)]
pub(super) fn test_message(partition: i32, offset: i64) -> OwnedMessage {
    let timestamp = rdkafka::message::Timestamp::NotAvailable;
    OwnedMessage::new(None, None, "t".into(), timestamp, partition, offset, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conflict::Version;
    use crate::event::Side;
    use crate::mapping::ConflictPolicy;
    use crate::row::{Delete, RowOp};
    use uuid::Uuid;

    fn item(offset: i64, row: Option<i64>) -> Item {
        let message = test_message(0, offset);
        let prepared = match row {
            Some(key) => Prepared::Apply(RowOp::Delete(Delete {
                entity: "user".into(),
                table: "users".into(),
                key_column: "id".into(),
                key,
                deleted: Version {
                    updated_at: Utc::now(),
                    origin: Side::Legacy,
                },
                updated_at_column: "updated_at".into(),
                conflict: ConflictPolicy::LastWriterWins,
                event_id: Uuid::nil(),
                source_committed_at: Utc::now(),
                origin: Side::Legacy,
                position: None,
            })),
            None => Prepared::Skip { reason: "test" },
        };
        Item { message, prepared }
    }

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_full_batch_is_ready_at_once_and_a_partial_one_after_linger() {
        let mut q = PartitionQueue::default();
        assert!(!q.ready(2, Duration::from_secs(60), Instant::now()));
        q.push(item(0, None));
        assert!(!q.ready(2, Duration::from_secs(60), Instant::now()));
        assert!(q.ready(2, Duration::ZERO, Instant::now()));
        q.push(item(1, None));
        assert!(q.ready(2, Duration::from_secs(60), Instant::now()));
    }

    #[test]
    fn a_parked_row_holds_back_its_own_changes_only_and_the_commit() {
        let mut q = PartitionQueue::default();
        for (offset, row) in [(0, Some(1)), (1, Some(2)), (2, Some(1)), (3, Some(3))] {
            q.push(item(offset, row));
        }
        let first = q.take_pending(1);
        q.park(
            first.into_iter().next().unwrap(),
            None,
            Duration::from_secs(60),
            Duration::from_secs(60),
        );
        let next: Vec<i64> = q
            .take_pending(10)
            .iter()
            .map(|i| i.message.offset())
            .collect();
        assert_eq!(next, vec![1, 3], "row 1's later change waits behind it");
        assert_eq!(q.len(), 2);
        assert_eq!(
            q.offset_to_commit(),
            Some(0),
            "nothing past the parked message is committed"
        );
        q.committed(0);
        assert!(!q.parked_due(Instant::now()));
        let due = q.take_due_parked(Instant::now() + Duration::from_secs(120));
        assert_eq!(
            due.iter()
                .map(|p| p.item.message.offset())
                .collect::<Vec<_>>(),
            vec![0, 2]
        );
        assert!(due[0].retry.is_some() && due[1].retry.is_none());
        assert_eq!(q.offset_to_commit(), Some(4));
        assert_eq!(
            q.offset_to_commit(),
            Some(4),
            "offered again until the broker took it"
        );
        q.committed(4);
        assert_eq!(q.offset_to_commit(), None, "an offset is committed once");
    }

    #[test]
    fn progress_elsewhere_makes_parked_rows_due_at_once() {
        let mut q = PartitionQueue::default();
        q.push(item(0, Some(1)));
        let first = q.take_pending(1).into_iter().next().unwrap();
        q.park(
            first,
            None,
            Duration::from_secs(60),
            Duration::from_secs(60),
        );
        assert!(!q.parked_due(Instant::now()), "backoff holds it");
        q.wake_parked();
        assert!(q.parked_due(Instant::now()));
        let due = q.take_due_parked(Instant::now());
        assert_eq!(due.len(), 1);
        assert!(
            due[0].retry.as_ref().is_some_and(|r| r.attempts == 1),
            "its attempts are kept"
        );
    }

    #[test]
    fn requeued_messages_merge_by_offset_whatever_the_order_they_come_back_in() {
        let mut q = PartitionQueue::default();
        for offset in 0..6 {
            q.push(item(offset, Some(offset)));
        }
        let mut taken = q.take_pending(4);
        let prefix: Vec<Item> = taken.drain(..2).collect();
        q.requeue(taken); // 2, 3 back first
        q.requeue(prefix); // then 0, 1
        let order: Vec<i64> = q
            .take_pending(10)
            .iter()
            .map(|i| i.message.offset())
            .collect();
        assert_eq!(order, vec![0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn done_through_skips_the_asking_row_and_later_parked_rows_but_not_earlier_ones() {
        let mut q = PartitionQueue::default();
        assert_eq!(q.done_through(0, None), None, "nothing received yet");
        for offset in 0..3 {
            q.push(item(offset, Some(offset)));
        }
        let mut taken = q.take_pending(3).into_iter();
        let (a, b, c) = (
            taken.next().unwrap(),
            taken.next().unwrap(),
            taken.next().unwrap(),
        );
        let cap = Duration::from_secs(60);
        q.park(a, None, cap, cap); // row 0, stamped NotAvailable: counts as early
        q.park(b, None, cap, cap);
        drop(c); // done
        assert_eq!(
            q.done_through(100, Some(&("users".to_string(), 0))),
            Some(1)
        );
        assert_eq!(q.done_through(100, None), Some(0));
    }

    #[test]
    fn requeued_messages_keep_their_order_and_a_partition_retry_waits() {
        let mut q = PartitionQueue::default();
        q.push(item(0, None));
        q.push(item(1, None));
        let taken = q.take_pending(2);
        q.requeue(taken);
        assert!(q.fail_partition(Duration::from_secs(60), Duration::from_secs(60), Some(3)));
        assert!(!q.ready(1, Duration::ZERO, Instant::now()));
        assert!(q.fail_partition(MS, MS, Some(3)));
        assert!(!q.fail_partition(MS, MS, Some(3)), "budget of 3 used up");
        q.succeeded();
        assert!(q.retry().is_none());
        assert_eq!(
            q.take_pending(5)
                .iter()
                .map(|i| i.message.offset())
                .collect::<Vec<_>>(),
            vec![0, 1]
        );
    }
}

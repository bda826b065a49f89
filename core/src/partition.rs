//! Per-partition state of the consumer (README traps 6 and 9): the messages received and not yet committed, in
//! offset order, and the retry state of the message at the head. Each partition advances on its own, so a child
//! waiting for its parent holds back only its own partition.

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use chrono::{DateTime, Utc};
use rdkafka::message::OwnedMessage;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Retry state of a partition's head message.
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

/// One partition's queue.
#[derive(Debug, Default)]
pub struct PartitionQueue {
    messages: VecDeque<OwnedMessage>,
    oldest_received: Option<Instant>,
    retry: Option<Retry>,
}

impl PartitionQueue {
    /// Appends a message received from Kafka.
    pub fn push(&mut self, message: OwnedMessage) {
        if self.messages.is_empty() {
            self.oldest_received = Some(Instant::now());
        }
        self.messages.push_back(message);
    }

    /// Messages waiting.
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// Nothing waiting.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Whether a batch should be applied now: a full batch, or a partial one that has waited `linger`, and no retry
    /// pending.
    pub fn ready(&self, batch_size: usize, linger: Duration, now: Instant) -> bool {
        if self.messages.is_empty() {
            return false;
        }
        if let Some(retry) = &self.retry {
            return now >= retry.not_before;
        }
        self.messages.len() >= batch_size
            || self
                .oldest_received
                .is_some_and(|t| now.duration_since(t) >= linger)
    }

    /// The first `n` messages.
    pub fn front(&self, n: usize) -> impl Iterator<Item = &OwnedMessage> {
        self.messages.iter().take(n)
    }

    /// Drops the first `n` messages (done and committed); the retry state belonged to the old head.
    pub fn advance(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        self.messages.drain(..n.min(self.messages.len()));
        self.retry = None;
        self.oldest_received = if self.messages.is_empty() {
            None
        } else {
            Some(Instant::now())
        };
    }

    /// Records a failed attempt of the head message and schedules the next one with exponential backoff
    /// (`base` doubling up to `cap`). Returns the attempts so far, or None when `max_attempts` is used up.
    pub fn fail_head(
        &mut self,
        base: Duration,
        cap: Duration,
        max_attempts: Option<u32>,
    ) -> Option<&Retry> {
        let retry = self.retry.get_or_insert_with(|| {
            let builder = ExponentialBuilder::default()
                .with_min_delay(base)
                .with_max_delay(cap)
                .with_factor(2.0);
            Retry {
                attempts: 0,
                first_failure: Utc::now(),
                not_before: Instant::now(),
                backoff: builder.without_max_times().build(),
            }
        });
        retry.attempts += 1;
        if max_attempts.is_some_and(|max| retry.attempts >= max) {
            return None;
        }
        let delay = retry.backoff.next().unwrap_or(cap);
        retry.not_before = Instant::now() + delay;
        Some(retry)
    }

    /// The head's retry state, if it failed before.
    pub fn retry(&self) -> Option<&Retry> {
        self.retry.as_ref()
    }

    /// Forgets everything (the partition was revoked; its uncommitted messages will be delivered again).
    pub fn clear(&mut self) {
        *self = PartitionQueue::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::message::Timestamp;

    fn message(offset: i64) -> OwnedMessage {
        OwnedMessage::new(
            None,
            None,
            "t".into(),
            Timestamp::NotAvailable,
            0,
            offset,
            None,
        )
    }

    #[test]
    fn a_full_batch_is_ready_at_once_and_a_partial_one_after_linger() {
        let mut q = PartitionQueue::default();
        let now = Instant::now();
        assert!(!q.ready(2, Duration::from_secs(60), now));
        q.push(message(0));
        assert!(!q.ready(2, Duration::from_secs(60), Instant::now()));
        assert!(q.ready(2, Duration::ZERO, Instant::now()));
        q.push(message(1));
        assert!(q.ready(2, Duration::from_secs(60), Instant::now()));
    }

    #[test]
    fn a_failed_head_waits_then_gives_up_after_the_budget() {
        let mut q = PartitionQueue::default();
        q.push(message(0));
        let base = Duration::from_secs(10);
        assert!(q.fail_head(base, base, Some(3)).is_some());
        assert!(!q.ready(1, Duration::ZERO, Instant::now()));
        assert!(q.fail_head(base, base, Some(3)).is_some());
        assert!(q.fail_head(base, base, Some(3)).is_none());
        q.advance(1);
        assert!(q.retry().is_none());
        assert!(q.is_empty());
    }
}

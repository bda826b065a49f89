//! Rebalance events, recorded by librdkafka's callback and applied by the consumer's loop before it queues any
//! message fetched after them.
//!
//! librdkafka runs the rebalance callback inside a poll (`recv()`): a partition can be revoked, assigned again and
//! re-fetched from the committed offset within one call, so the messages that call returns may belong to a newer
//! assignment than the loop's queues. The loop therefore drains these events after every poll and before queueing
//! what the poll returned: a revoked partition's queue is dropped (its uncommitted messages are read again by
//! whoever owns it next, and the ledger makes repeats no-ops), an assigned one starts empty from the committed
//! offset and is resumed (librdkafka keeps an application's pause across unassign and assign).

use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};
use rdkafka::ClientContext;
use std::sync::Mutex;
use tracing::{info, warn};

/// One change of this member's assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AssignmentChange {
    /// These partitions were added.
    Assigned(Vec<i32>),
    /// These partitions were taken away.
    Revoked(Vec<i32>),
    /// The assignment was lost or reset by an error: every partition is gone.
    Lost,
}

/// The consumer's client context: records assignment changes, in order, for the loop to apply.
#[derive(Default)]
pub(crate) struct RebalanceLog {
    changes: Mutex<Vec<AssignmentChange>>,
    /// Consumer lag from librdkafka's statistics (metrics only).
    pub(crate) lag: crate::metrics::KafkaLag,
}

impl RebalanceLog {
    /// The changes recorded since the last call, oldest first.
    pub(crate) fn drain(&self) -> Vec<AssignmentChange> {
        match self.changes.lock() {
            Ok(mut changes) => std::mem::take(&mut *changes),
            // A panic while holding the lock cannot leave a half-written Vec; keep going with what is there.
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        }
    }

    fn record(&self, change: AssignmentChange) {
        match self.changes.lock() {
            Ok(mut changes) => changes.push(change),
            Err(poisoned) => poisoned.into_inner().push(change),
        }
    }
}

impl ClientContext for RebalanceLog {
    fn stats(&self, statistics: rdkafka::statistics::Statistics) {
        self.lag.update(&statistics);
    }
}

fn partitions(list: &rdkafka::TopicPartitionList) -> Vec<i32> {
    list.elements().iter().map(|p| p.partition()).collect()
}

impl ConsumerContext for RebalanceLog {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Revoke(list) => {
                info!(partitions = ?partitions(list), "partitions revoked");
                self.record(AssignmentChange::Revoked(partitions(list)));
            }
            Rebalance::Error(error) => {
                warn!(%error, "rebalance error; dropping every queued message");
                self.record(AssignmentChange::Lost);
            }
            Rebalance::Assign(_) => {}
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(list) = rebalance {
            info!(partitions = ?partitions(list), "partitions assigned");
            self.record(AssignmentChange::Assigned(partitions(list)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_come_out_in_order_once() {
        let log = RebalanceLog::default();
        log.record(AssignmentChange::Revoked(vec![1]));
        log.record(AssignmentChange::Assigned(vec![1, 2]));
        assert_eq!(
            log.drain(),
            vec![
                AssignmentChange::Revoked(vec![1]),
                AssignmentChange::Assigned(vec![1, 2])
            ]
        );
        assert!(log.drain().is_empty());
    }
}

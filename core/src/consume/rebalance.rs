//! Rebalance events, recorded by librdkafka's callback and applied by the consumer's loop before it queues any
//! message fetched after them.
//!
//! librdkafka runs the rebalance callback inside a poll (`recv()`): a partition can be revoked, assigned again and
//! re-fetched from the committed offset within one call, so the messages that call returns may belong to a newer
//! assignment than the loop's queues. The loop therefore drains these events after every poll and before queueing
//! what the poll returned: a revoked partition's queue is dropped (its uncommitted messages are read again by
//! whoever owns it next, and the ledger makes repeats no-ops), an assigned one starts empty from the committed
//! offset and is resumed (librdkafka keeps an application's pause across unassign and assign).

use rdkafka::config::RDKafkaLogLevel;
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
    /// The last error librdkafka reported through its error callback (e.g. a TLS handshake failure), which a
    /// timed-out start-up call is mapped from.
    last_error: Mutex<Option<String>>,
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

    /// The last error librdkafka reported, as `<error>: <reason>`.
    pub(crate) fn last_error(&self) -> Option<String> {
        match self.last_error.lock() {
            Ok(last) => last.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn keep_error(&self, text: String) {
        match self.last_error.lock() {
            Ok(mut last) => *last = Some(text),
            Err(poisoned) => *poisoned.into_inner() = Some(text),
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

    /// As rdkafka's default (same levels, target `librdkafka`), and a TLS or SASL failure is also kept for
    /// [`RebalanceLog::last_error`]: log lines come from librdkafka's own threads at once, while the error callback
    /// waits for a poll that a start-up call does not make.
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => {
                tracing::error!(target: "librdkafka", "librdkafka: {fac} {message}")
            }
            RDKafkaLogLevel::Warning => {
                tracing::warn!(target: "librdkafka", "librdkafka: {fac} {message}")
            }
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(target: "librdkafka", "librdkafka: {fac} {message}")
            }
            RDKafkaLogLevel::Debug => {
                tracing::debug!(target: "librdkafka", "librdkafka: {fac} {message}")
            }
        }
        if (level as i32) <= (RDKafkaLogLevel::Warning as i32)
            && crate::kafka::blames_a_setting(message)
        {
            self.keep_error(message.to_string());
        }
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        tracing::error!("librdkafka: {error}: {reason}");
        self.keep_error(format!("{error}: {reason}"));
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

//! The batches being written: at most one step per partition, as many as the target has connections. A step's
//! partition queue is out of the loop's map while it runs; messages that arrive for that partition meanwhile are
//! held here and queued behind the step's own when it lands. A partition that changes hands while its step runs
//! lands stale: its queue and held messages are dropped and its offset is not committed (whoever owns the partition
//! next reads them again from the committed offset, and the ledger makes the repeats no-ops).

use super::partition::{Item, PartitionQueue};
use crate::metrics::Counters;
use futures_util::future::LocalBoxFuture;
use futures_util::stream::{FuturesUnordered, StreamExt as _};
use rdkafka::message::Message as _;
use std::collections::BTreeMap;
use std::time::Instant;

/// What a step gives back: its partition's queue and what it counted.
pub(super) struct Step {
    pub partition: i32,
    pub queue: PartitionQueue,
    pub counters: Counters,
}

/// A step that finished.
pub(super) struct Landing {
    /// The step, with the messages held for its partition queued behind its own when it is live.
    pub step: Step,
    /// False when the partition changed hands while the step ran: the queue is not this member's any more.
    pub live: bool,
}

/// One partition's step in flight.
#[derive(Default)]
struct Slot {
    /// Messages this step may consume at most (`max_events` accounting).
    quota: usize,
    /// The partition was revoked, lost or assigned again since the step started.
    stale: bool,
    /// Messages received for the partition while the step runs, in offset order.
    held: Vec<Item>,
    /// When the first of them was held.
    held_since: Option<Instant>,
}

/// The steps in flight.
#[derive(Default)]
pub(super) struct InFlight<'a> {
    steps: FuturesUnordered<LocalBoxFuture<'a, Step>>,
    slots: BTreeMap<i32, Slot>,
}

impl<'a> InFlight<'a> {
    /// Steps in flight.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// No step in flight.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Whether a step of `partition` is in flight (live or stale): its next step must wait for it.
    pub fn flying(&self, partition: i32) -> bool {
        self.slots.contains_key(&partition)
    }

    /// Whether `partition` has a step in flight that is still this member's: its messages are held for it.
    pub fn live(&self, partition: i32) -> bool {
        self.slots.get(&partition).is_some_and(|slot| !slot.stale)
    }

    /// Messages the steps in flight may still consume.
    pub fn quota(&self) -> usize {
        self.slots.values().map(|slot| slot.quota).sum()
    }

    /// Messages held for partitions in flight.
    pub fn held_len(&self) -> usize {
        self.slots.values().map(|slot| slot.held.len()).sum()
    }

    /// Starts `step` for `partition`, which has none in flight.
    pub fn start(&mut self, partition: i32, quota: usize, step: LocalBoxFuture<'a, Step>) {
        self.slots.insert(
            partition,
            Slot {
                quota,
                ..Slot::default()
            },
        );
        self.steps.push(step);
    }

    /// Holds `item` if its partition has a live step in flight; gives it back otherwise.
    pub fn hold(&mut self, item: Item) -> Option<Item> {
        match self.slots.get_mut(&item.message.partition()) {
            Some(slot) if !slot.stale => {
                slot.held_since.get_or_insert_with(Instant::now);
                slot.held.push(item);
                None
            }
            _ => Some(item),
        }
    }

    /// Marks the steps of `partitions` stale and drops what was held for them.
    pub fn changed_hands(&mut self, partitions: &[i32]) {
        for partition in partitions {
            if let Some(slot) = self.slots.get_mut(partition) {
                slot.stale = true;
                slot.held.clear();
                slot.held_since = None;
            }
        }
    }

    /// Marks every step stale (the assignment was lost).
    pub fn all_changed_hands(&mut self) {
        for slot in self.slots.values_mut() {
            slot.stale = true;
            slot.held.clear();
            slot.held_since = None;
        }
    }

    /// Waits for the next step to finish; `None` when none is in flight. Cancel-safe: a step that has not
    /// finished stays in flight.
    pub async fn land(&mut self) -> Option<Landing> {
        let mut step = self.steps.next().await?;
        let slot = self.slots.remove(&step.partition).unwrap_or(Slot {
            stale: true,
            ..Slot::default()
        });
        if let (false, Some(since)) = (slot.stale, slot.held_since) {
            step.queue.push_held(slot.held, since);
        }
        Some(Landing {
            step,
            live: !slot.stale,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consume::partition::test_message;
    use crate::consume::pipeline::Prepared;

    fn item(partition: i32, offset: i64) -> Item {
        Item {
            message: test_message(partition, offset),
            prepared: Prepared::Skip { reason: "test" },
        }
    }

    fn step(partition: i32, offsets: &[i64]) -> LocalBoxFuture<'static, Step> {
        let mut queue = PartitionQueue::default();
        for offset in offsets {
            queue.push(item(partition, *offset));
        }
        Box::pin(async move {
            Step {
                partition,
                queue,
                counters: Counters::default(),
            }
        })
    }

    fn offsets(queue: &mut PartitionQueue) -> Vec<i64> {
        queue
            .take_pending(usize::MAX)
            .iter()
            .map(|i| i.message.offset())
            .collect()
    }

    fn land(flight: &mut InFlight<'_>) -> Landing {
        futures_util::FutureExt::now_or_never(flight.land())
            .flatten()
            .expect("a finished step lands")
    }

    #[test]
    fn messages_held_during_a_step_are_queued_behind_its_own() {
        let mut flight = InFlight::default();
        flight.start(0, 2, step(0, &[5]));
        assert!(flight.flying(0) && !flight.flying(1));
        assert_eq!(flight.quota(), 2);
        assert!(flight.hold(item(0, 6)).is_none());
        assert!(flight.hold(item(0, 7)).is_none());
        assert!(
            flight.hold(item(1, 9)).is_some(),
            "no step of partition 1 in flight"
        );
        assert_eq!(flight.held_len(), 2);
        let mut landing = land(&mut flight);
        assert!(landing.live);
        assert_eq!(offsets(&mut landing.step.queue), vec![5, 6, 7]);
        assert!(flight.is_empty());
    }

    #[test]
    fn a_partition_that_changed_hands_lands_stale_without_its_held_messages() {
        let mut flight = InFlight::default();
        flight.start(0, 1, step(0, &[5]));
        flight.start(1, 1, step(1, &[8]));
        assert!(flight.hold(item(0, 6)).is_none());
        flight.changed_hands(&[0]);
        assert_eq!(flight.held_len(), 0);
        assert!(
            flight.hold(item(0, 7)).is_some(),
            "a stale step holds nothing"
        );
        let mut landed: BTreeMap<i32, Landing> = BTreeMap::new();
        for _ in 0..2 {
            let landing = land(&mut flight);
            landed.insert(landing.step.partition, landing);
        }
        assert!(!landed[&0].live && landed[&1].live);
        flight.start(2, 1, step(2, &[1]));
        flight.all_changed_hands();
        assert!(!land(&mut flight).live);
        assert!(futures_util::FutureExt::now_or_never(flight.land())
            .flatten()
            .is_none());
    }
}

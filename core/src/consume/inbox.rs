//! Messages received and not yet decoded, and the decoding job that turns them into queue items on a blocking
//! thread while batches are written. One job runs at a time, so each partition's items come out in offset order.
//! A partition that changes hands while its messages wait or decode has them dropped: whoever owns it next reads
//! them again from the committed offset.

use super::partition::Item;
use super::pipeline::prepare;
use crate::error::Error;
use crate::event::Side;
use crate::mapping::Mapping;
use rdkafka::message::{Message as _, OwnedMessage};
use std::collections::HashSet;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// The received messages on their way to the queues.
#[derive(Default)]
pub(super) struct Inbox {
    waiting: Vec<OwnedMessage>,
    job: Option<JoinHandle<Vec<Item>>>,
    job_len: usize,
    /// Partitions that changed hands since the job started: their items are dropped when it finishes.
    changed: HashSet<i32>,
    /// Every partition changed hands since the job started.
    all_changed: bool,
}

impl Inbox {
    /// Adds a received message.
    pub fn push(&mut self, message: OwnedMessage) {
        self.waiting.push(message);
    }

    /// Messages waiting or decoding.
    pub fn len(&self) -> usize {
        self.waiting.len() + self.job_len
    }

    /// Nothing waiting or decoding.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Messages waiting for a decoding job.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// A decoding job is running.
    pub fn decoding(&self) -> bool {
        self.job.is_some()
    }

    /// Drops what waits for `partitions`, and what the running job decodes for them once it finishes.
    pub fn changed_hands(&mut self, partitions: &[i32]) {
        self.waiting
            .retain(|m| !partitions.contains(&m.partition()));
        if self.job.is_some() {
            self.changed.extend(partitions);
        }
    }

    /// Drops everything (the assignment was lost).
    pub fn all_changed_hands(&mut self) {
        self.waiting.clear();
        if self.job.is_some() {
            self.all_changed = true;
        }
    }

    /// Starts decoding what waits on a blocking thread, unless a job is running or nothing waits.
    pub fn start(&mut self, mapping: &Arc<Mapping>, origin: Side) {
        if self.job.is_some() || self.waiting.is_empty() {
            return;
        }
        let messages = std::mem::take(&mut self.waiting);
        self.job_len = messages.len();
        let mapping = Arc::clone(mapping);
        self.job = Some(tokio::task::spawn_blocking(move || {
            prepare_all(&mapping, origin, messages)
        }));
    }

    /// Decodes what waits here and now (on this thread), behind a running job's items: only call it with none
    /// running.
    pub fn decode_now(&mut self, mapping: &Mapping, origin: Side) -> Vec<Item> {
        prepare_all(mapping, origin, std::mem::take(&mut self.waiting))
    }

    /// Waits for the running job (forever when none runs) and returns its items, less those of partitions that
    /// changed hands meanwhile. Cancel-safe: a job that has not finished keeps running.
    pub async fn finished(&mut self) -> Result<Vec<Item>, Error> {
        let result = match self.job.as_mut() {
            Some(job) => job.await,
            None => std::future::pending().await,
        };
        self.job = None;
        self.job_len = 0;
        let (changed, all_changed) = (std::mem::take(&mut self.changed), self.all_changed);
        self.all_changed = false;
        let mut items = result.map_err(Error::Decoding)?;
        if all_changed {
            items.clear();
        } else if !changed.is_empty() {
            items.retain(|item| !changed.contains(&item.message.partition()));
        }
        Ok(items)
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consume::partition::test_message;

    fn mapping() -> Arc<Mapping> {
        Arc::new(
            Mapping::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/mapping/default.toml"))
                .unwrap(),
        )
    }

    fn offsets(items: &[Item]) -> Vec<(i32, i64)> {
        items
            .iter()
            .map(|i| (i.message.partition(), i.message.offset()))
            .collect()
    }

    #[tokio::test]
    async fn a_job_decodes_in_order_and_drops_partitions_that_changed_hands_meanwhile() {
        let mapping = mapping();
        let mut inbox = Inbox::default();
        for (partition, offset) in [(0, 1), (1, 1), (0, 2)] {
            inbox.push(test_message(partition, offset));
        }
        inbox.start(&mapping, Side::Legacy);
        assert!(inbox.decoding() && inbox.waiting() == 0 && inbox.len() == 3);
        inbox.push(test_message(1, 2));
        inbox.changed_hands(&[1]);
        assert_eq!(
            inbox.waiting(),
            0,
            "a waiting message of partition 1 is dropped at once"
        );
        let items = inbox.finished().await.unwrap();
        assert_eq!(offsets(&items), vec![(0, 1), (0, 2)]);
        assert!(!inbox.decoding() && inbox.is_empty());

        inbox.push(test_message(2, 1));
        inbox.start(&mapping, Side::Legacy);
        inbox.all_changed_hands();
        assert!(inbox.finished().await.unwrap().is_empty());
        inbox.push(test_message(2, 2));
        assert_eq!(
            offsets(&inbox.decode_now(&mapping, Side::Legacy)),
            vec![(2, 2)]
        );
    }
}

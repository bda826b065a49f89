//! The consumer against the real broker and MariaDB (`make up`): Debezium-shaped legacy messages on a topic of the
//! test's own (never legacy.events, revamp.events or sync.dlq), applied into revamp_db by the sync service's
//! account, with a dead-letter topic and consumer group of its own. Rows and ledger entries are removed at the end.

mod common;

use anyhow::{anyhow, ensure, Context, Result};
use common::{check_eq, Admin, DEADLINE};
use dbsync_core::{decode, Consumer, Counters, Decoded, RunOptions, Side, SyncConfig};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, TopicPartitionList};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A one-partition source topic and a dead-letter topic made for one test (deleted on drop), plus a group name.
struct Topics {
    brokers: String,
    topic: String,
    dlq: String,
    group: String,
    runtime: tokio::runtime::Runtime,
}

/// A dead letter as read back.
#[derive(Debug)]
struct Letter {
    value: Vec<u8>,
    headers: BTreeMap<String, String>,
}

impl Topics {
    fn create() -> Result<Self> {
        Self::create_with(1)
    }

    /// Topics whose source topic has `partitions` partitions.
    fn create_with(partitions: i32) -> Result<Self> {
        let unique = format!("{}-{}", std::process::id(), common::unique_tag());
        let topics = Topics {
            brokers: common::brokers(),
            topic: format!("dbsync-test-consumer-{unique}"),
            dlq: format!("dbsync-test-consumer-dlq-{unique}"),
            group: format!("dbsync-test-consumer-{unique}"),
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?,
        };
        topics.runtime.block_on(async {
            let admin: AdminClient<DefaultClientContext> = topics.client().create()?;
            let new = [
                NewTopic::new(&topics.topic, partitions, TopicReplication::Fixed(1)),
                NewTopic::new(&topics.dlq, 1, TopicReplication::Fixed(1)),
            ];
            for result in admin.create_topics(&new, &AdminOptions::new()).await? {
                result.map_err(|(topic, code)| anyhow!("creating {topic}: {code}"))?;
            }
            anyhow::Ok(())
        })?;
        let reader = topics.reader()?;
        let started = Instant::now();
        while !topics.in_metadata(&reader, partitions)? {
            ensure!(
                started.elapsed() < DEADLINE,
                "topics never showed up in the metadata"
            );
        }
        Ok(topics)
    }

    fn client(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.brokers);
        config
    }

    /// A consumer in a group of its own (it never joins `self.group`; it only assigns or reads offsets).
    fn reader(&self) -> Result<BaseConsumer> {
        Ok(self
            .client()
            .set("group.id", format!("{}-reader", self.group))
            .set("enable.auto.commit", "false")
            .create()?)
    }

    fn in_metadata(&self, reader: &BaseConsumer, partitions: i32) -> Result<bool> {
        let metadata = reader.fetch_metadata(None, Duration::from_secs(5))?;
        Ok([(&self.topic, partitions), (&self.dlq, 1)]
            .iter()
            .all(|(name, n)| {
                metadata
                    .topics()
                    .iter()
                    .any(|t| t.name() == *name && t.partitions().len() == *n as usize)
            }))
    }

    /// Produces `(key, value)` messages in order; returns their offsets.
    fn produce(&self, messages: &[(String, Vec<u8>)]) -> Result<Vec<i64>> {
        self.produce_to(None, messages)
    }

    /// Produces `(key, value)` messages in order, into `partition` or where their key hashes; returns their offsets.
    fn produce_to(
        &self,
        partition: Option<i32>,
        messages: &[(String, Vec<u8>)],
    ) -> Result<Vec<i64>> {
        self.runtime.block_on(async {
            let producer: FutureProducer = self.client().create()?;
            let mut offsets = Vec::new();
            for (key, value) in messages {
                let mut record = FutureRecord::to(&self.topic).key(key).payload(value);
                if let Some(partition) = partition {
                    record = record.partition(partition);
                }
                let delivered = producer
                    .send(record, Duration::from_secs(10))
                    .await
                    .map_err(|(e, _)| e)?;
                offsets.push(delivered.offset);
            }
            anyhow::Ok(offsets)
        })
    }

    /// Reads the dead-letter topic from the beginning until `count` letters arrived.
    fn letters(&self, count: usize) -> Result<Vec<Letter>> {
        let reader = self.reader()?;
        let polled = common::read_from_beginning(&reader, &self.dlq, 1, count, "dead letters")?;
        Ok(polled
            .into_iter()
            .map(|m| Letter {
                value: m.value,
                headers: m.headers.into_iter().collect(),
            })
            .collect())
    }

    /// The offset `self.group` committed on partition 0 of the source topic, if any.
    fn committed(&self) -> Result<Option<i64>> {
        self.committed_on(0)
    }

    /// The offset `self.group` committed on `partition` of the source topic, if any.
    fn committed_on(&self, partition: i32) -> Result<Option<i64>> {
        let reader: BaseConsumer = self
            .client()
            .set("group.id", &self.group)
            .set("enable.auto.commit", "false")
            .create()?;
        let mut list = TopicPartitionList::new();
        list.add_partition(&self.topic, partition);
        let committed = reader.committed_offsets(list, Duration::from_secs(10))?;
        Ok(committed
            .find_partition(&self.topic, partition)
            .and_then(|p| p.offset().to_raw())
            .filter(|offset| *offset >= 0))
    }

    /// How many messages `topic` holds (one partition: its high watermark).
    fn end_offset(&self, topic: &str, partition: i32) -> Result<i64> {
        Ok(self
            .reader()?
            .fetch_watermarks(topic, partition, Duration::from_secs(10))?
            .1)
    }

    /// A consumer of the source topic into MariaDB, parked children retried quickly.
    fn consumer(&self) -> Result<Consumer> {
        self.consumer_with(json!({}))
    }

    /// [`consumer`](Self::consumer) with more settings (e.g. its own `instance_id`).
    fn consumer_with(&self, extra: serde_json::Value) -> Result<Consumer> {
        let mut settings = json!({
            "brokers": self.brokers,
            "group_id": self.group,
            "topic": self.topic,
            "dlq_topic": self.dlq,
            "direction": "legacy_to_revamp",
            "target_dsn": common::sync_dsn(Side::Revamp),
            "mapping_path": common::mapping_path(),
            "batch_linger_ms": 10,
            "retry_backoff_ms": 20,
        });
        if let (Some(settings), Some(extra)) = (settings.as_object_mut(), extra.as_object()) {
            settings.extend(extra.clone());
        }
        Ok(Consumer::new(SyncConfig::from_json(settings)?)?)
    }
}

impl Drop for Topics {
    fn drop(&mut self) {
        if let Ok(admin) = self.client().create::<AdminClient<DefaultClientContext>>() {
            let names = [self.topic.as_str(), self.dlq.as_str()];
            let _ = self
                .runtime
                .block_on(admin.delete_topics(&names, &AdminOptions::new()));
        }
    }
}

/// Debezium-shaped messages from the legacy side about rows of one id block; each gets its own LSN (far above the
/// stack's own, so the derived event ids are new to the ledger).
struct Legacy {
    base: i64,
    tag: String,
    lsn: std::cell::Cell<u64>,
}

impl Legacy {
    /// Messages of ids from `base`, with a unique tag and LSNs from a random start.
    fn new(base: i64) -> Self {
        Legacy {
            base,
            tag: common::unique_tag(),
            lsn: (1_000_000_000_000 + (common::random_u64() % 1_000_000_000) * 100).into(),
        }
    }

    /// A message about row `n` of `table`: its key and PostgreSQL connector envelope.
    fn message(&self, table: &str, op: &str, n: i64, row: serde_json::Value) -> (String, Vec<u8>) {
        let now_ms = chrono::Utc::now().timestamp_millis();
        self.lsn.set(self.lsn.get() + 1);
        let value = json!({"before": null, "after": row, "op": op, "ts_ms": now_ms, "transaction": null,
            "source": {"version": "3.5.0.Final", "connector": "postgresql", "name": "legacy", "ts_ms": now_ms,
                "ts_us": now_ms * 1000, "snapshot": "false", "db": "legacy_db", "schema": "public", "table": table,
                "txId": 1, "lsn": self.lsn.get(), "xmin": null}});
        let key = json!({"id": self.base + n}).to_string();
        (key, value.to_string().into_bytes())
    }

    /// User `n` as the legacy application (or, with `source` `sync_service`, the sync service) wrote it.
    fn user(
        &self,
        op: &str,
        n: i64,
        (status, email, at): (&str, &str, Time),
        source: &str,
    ) -> (String, Vec<u8>) {
        let row = json!({"id": self.base + n, "username": format!("c{}_{n}", self.tag), "email": email,
            "full_name": "Consumer Test", "status": status, "is_admin": false, "created_at": iso(at),
            "updated_at": iso(at), "source": source});
        self.message("legacy_users", op, n, row)
    }

    fn post(&self, n: i64, author: i64, at: Time) -> (String, Vec<u8>) {
        let row = json!({"id": self.base + n, "author_id": self.base + author, "title": "early", "body": "b",
            "state": "published", "created_at": iso(at), "updated_at": iso(at), "source": "legacy"});
        self.message("legacy_posts", "c", n, row)
    }
}

type Time = chrono::DateTime<chrono::Utc>;

/// A runtime and an admin pool on the revamp side, for the tests' checks and clean-up.
fn revamp_admin() -> Result<(tokio::runtime::Runtime, Admin)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let admin = runtime.block_on(Admin::connect(Side::Revamp))?;
    Ok((runtime, admin))
}

/// The event ids of the messages that decode into events.
fn event_ids(messages: &[(String, Vec<u8>)]) -> Result<Vec<uuid::Uuid>> {
    let mapping = common::mapping()?;
    Ok(messages
        .iter()
        .filter_map(
            |(_, value)| match decode(None, Some(value), Side::Legacy, &mapping) {
                Ok(Decoded::Event(event)) => Some(event.event_id),
                _ => None,
            },
        )
        .collect())
}

fn iso(at: Time) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

#[test]
fn applies_skips_and_dead_letters_then_resumes_from_the_committed_offset() -> Result<()> {
    let topics = Topics::create().context("is the stack up (`make up`)?")?;
    let (admin_runtime, admin) = revamp_admin()?;
    let base = common::id_block(Side::Revamp);
    let legacy = Legacy::new(base);
    let (t0, t1) = (
        common::now_micros(),
        common::now_micros() + chrono::TimeDelta::seconds(1),
    );
    let (post, u1, u2, echo, frozen) = (10, 1, 2, 3, 4);
    let u1_create = legacy.user("c", u1, ("active", "one@consumer.test", t0), "legacy");
    let garbage = format!("this is not JSON {}", legacy.tag).into_bytes();
    let messages = vec![
        legacy.post(post, u2, t0), // a child before its parent, on another key
        u1_create.clone(),
        legacy.user("c", u2, ("active", "two@consumer.test", t0), "legacy"),
        legacy.user("u", u1, ("banned", "new@consumer.test", t1), "legacy"),
        legacy.user("c", echo, ("active", "e@consumer.test", t0), "sync_service"),
        u1_create,
        (json!({"id": base + frozen}).to_string(), garbage),
        legacy.user("c", frozen, ("frozen", "f@consumer.test", t0), "legacy"),
    ];
    let event_ids = event_ids(&messages)?;

    let result = (|| -> Result<()> {
        let offsets = topics.produce(&messages)?;
        let started = Instant::now();
        let counters = topics.consumer()?.run(
            RunOptions {
                max_events: Some(messages.len() as u64),
                timeout: Some(Duration::from_secs(60)),
                stop_when_idle: None,
            },
            &mut || {},
        )?;
        eprintln!("first run: {:?} in {:?}", counters, started.elapsed());
        let c = &counters;
        let summary = (
            c.consumed,
            c.applied,
            c.skipped_echo,
            c.duplicates,
            c.dead_lettered,
        );
        check_eq!(summary, (8, 4, 1, 1, 2));
        check_eq!((counters.conflicts_lost, counters.retried), (0, 0));

        let rows = admin_runtime.block_on(async {
            let mut rows = Vec::new();
            for n in [u1, u2, echo, frozen] {
                rows.push(admin.row("revamp_users", "email_address", base + n).await?);
            }
            rows.push(
                admin
                    .row("revamp_posts", "CAST(user_id AS CHAR)", base + post)
                    .await?,
            );
            anyhow::Ok(rows)
        })?;
        let texts: Vec<_> = rows
            .iter()
            .map(|r| r.as_ref().map(|r| r.text.clone()))
            .collect();
        let parent = (base + u2).to_string();
        let expected = [
            Some("new@consumer.test"),
            Some("two@consumer.test"),
            None,
            None,
            Some(&parent),
        ];
        check_eq!(texts, expected.map(|t| t.map(str::to_string)));
        let one = rows[0].as_ref().context("user 1")?;
        check_eq!((one.source.as_str(), one.updated_at), ("sync_service", t1));

        let letters = topics.letters(2)?;
        for (letter, (reason, offset)) in letters.iter().zip([("malformed", 6), ("unmappable", 7)])
        {
            let header = |name: &str| letter.headers.get(name).map(String::as_str);
            check_eq!(header("dbsync.reason"), Some(reason));
            check_eq!(
                header("__connect.errors.topic"),
                Some(topics.topic.as_str())
            );
            check_eq!(header("__connect.errors.partition"), Some("0"));
            let origin_offset = offsets[offset].to_string();
            check_eq!(
                header("__connect.errors.offset"),
                Some(origin_offset.as_str())
            );
            check_eq!(letter.value, messages[offset].1);
        }

        check_eq!(topics.committed()?, Some(offsets[7] + 1));
        let again = topics.consumer()?.run(
            RunOptions {
                max_events: None,
                timeout: Some(DEADLINE),
                stop_when_idle: Some(Duration::from_secs(3)),
            },
            &mut || {},
        )?;
        check_eq!(again, Counters::default());
        Ok(())
    })();
    let cleanup = admin_runtime.block_on(admin.purge(base, &event_ids));
    result?;
    cleanup
}

/// Every batch `run` applied is committed when it returns (here it returns on `max_events`, right after the last
/// of six one-message batches), so a restart does not read them again.
#[test]
fn run_commits_every_applied_batch_before_it_returns() -> Result<()> {
    let topics = Topics::create().context("is the stack up (`make up`)?")?;
    let (admin_runtime, admin) = revamp_admin()?;
    let base = common::id_block(Side::Revamp);
    let legacy = Legacy::new(base);
    let t0 = common::now_micros();
    let messages: Vec<_> = (1..=6)
        .map(|n| {
            legacy.user(
                "c",
                n,
                ("active", &format!("{n}@commit.test"), t0),
                "legacy",
            )
        })
        .collect();
    let event_ids = event_ids(&messages)?;
    let result = (|| -> Result<()> {
        let offsets = topics.produce_to(Some(0), &messages)?;
        // One message a batch: six batches.
        let consumer = topics.consumer_with(json!({"batch_size": 1}))?;
        let counters = consumer.run(
            RunOptions {
                max_events: Some(messages.len() as u64),
                timeout: Some(DEADLINE),
                stop_when_idle: None,
            },
            &mut || {},
        )?;
        check_eq!(counters.applied, messages.len() as u64);
        let last = offsets.last().context("offsets")?;
        check_eq!(topics.committed()?, Some(last + 1));
        Ok(())
    })();
    let cleanup = admin_runtime.block_on(admin.purge(base, &event_ids));
    result?;
    cleanup
}

#[test]
fn stop_from_another_thread_returns_promptly() -> Result<()> {
    let topics = Topics::create().context("is the stack up (`make up`)?")?;
    let consumer = topics.consumer()?;
    let (ticked, first_tick) = mpsc::channel();
    let (finished, done) = mpsc::channel();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut ticked = Some(ticked);
            let mut tick = || {
                if let Some(ticked) = ticked.take() {
                    let _ = ticked.send(());
                }
            };
            let options = RunOptions {
                timeout: Some(Duration::from_secs(60)),
                ..RunOptions::default()
            };
            let _ = finished.send(consumer.run(options, &mut tick));
        });
        first_tick
            .recv_timeout(DEADLINE)
            .context("run() never ticked")?;
        let stopped = Instant::now();
        consumer.stop();
        let counters = done
            .recv_timeout(Duration::from_secs(5))
            .context("run() did not return within 5 s of stop()")??;
        eprintln!("run() returned {:?} after stop()", stopped.elapsed());
        ensure!(
            stopped.elapsed() < Duration::from_secs(2),
            "stop took {:?}",
            stopped.elapsed()
        );
        check_eq!(counters, Counters::default());
        Ok(())
    })
}

/// Children parked behind a missing parent fill two partitions until they are paused; two more members join (each
/// takes a partition from the first, at least one of them paused) and leave again, so the first gets paused
/// partitions back. librdkafka keeps a pause across revoke and assign: unless an assigned partition is resumed, it
/// stalls for good. Then the parent arrives on the third partition and every child must be applied, every
/// partition committed to its end, and nothing dead-lettered.
#[test]
fn a_paused_backlog_drains_through_rebalances() -> Result<()> {
    const CHILDREN: i64 = 80;
    let topics = Topics::create_with(3).context("is the stack up (`make up`)?")?;
    let (admin_runtime, admin) = revamp_admin()?;
    let base = common::id_block(Side::Revamp);
    let legacy = Legacy::new(base);
    let t0 = common::now_micros();
    let author = common::ID_BLOCK - 1;
    let children: Vec<_> = (0..CHILDREN).map(|n| legacy.post(n, author, t0)).collect();
    let parent = legacy.user(
        "c",
        author,
        ("active", "parent@rebalance.test", t0),
        "legacy",
    );
    let mapping = common::mapping()?;
    let event_ids: Vec<_> = children
        .iter()
        .chain([&parent])
        .filter_map(
            |(_, value)| match decode(None, Some(value), Side::Legacy, &mapping) {
                Ok(Decoded::Event(event)) => Some(event.event_id),
                _ => None,
            },
        )
        .collect();
    // A small batch pauses a partition at 4 x 4 queued messages; children wait long enough not to give up.
    let settings = |instance: &str| json!({"batch_size": 4, "parent_wait_ms": 600_000, "instance_id": format!("rebalance-{instance}")});
    let run_for = |secs: u64| RunOptions {
        timeout: Some(Duration::from_secs(secs)),
        ..RunOptions::default()
    };

    let result = (|| -> Result<()> {
        let half = CHILDREN as usize / 2;
        topics.produce_to(Some(0), &children[..half])?;
        topics.produce_to(Some(1), &children[half..])?;
        let first = topics.consumer_with(settings("a"))?;
        let parked = first.run(run_for(4), &mut || {})?;
        check_eq!(parked.consumed, 0);
        std::thread::scope(|scope| -> Result<()> {
            let joiners: Vec<_> = ["b", "c"]
                .map(|name| {
                    let consumer = topics.consumer_with(settings(name));
                    scope.spawn(move || -> Result<Counters> {
                        Ok(consumer?.run(run_for(8), &mut || {})?)
                    })
                })
                .into_iter()
                .collect();
            first.run(run_for(10), &mut || {})?;
            for joiner in joiners {
                let counters = joiner
                    .join()
                    .map_err(|_| anyhow!("a joining member panicked"))??;
                check_eq!(counters.consumed, 0);
            }
            Ok(())
        })?;
        // The joiners are gone (static members leave by session timeout); their partitions return to `first`.
        topics.produce_to(Some(2), &[parent])?;
        std::thread::scope(|scope| -> Result<()> {
            let running = scope.spawn(|| first.run(run_for(120), &mut || {}));
            let started = Instant::now();
            let applied = loop {
                let rows = admin_runtime.block_on(admin.count_rows(
                    "revamp_posts",
                    base,
                    base + CHILDREN - 1,
                ))?;
                if rows == CHILDREN || started.elapsed() > Duration::from_secs(90) {
                    break rows;
                }
                std::thread::sleep(Duration::from_millis(200));
            };
            first.stop();
            let counters = running
                .join()
                .map_err(|_| anyhow!("the consumer panicked"))??;
            check_eq!(applied, CHILDREN);
            check_eq!(counters.dead_lettered, 0);
            Ok(())
        })?;
        for (partition, expected) in [(0, half), (1, half), (2, 1)] {
            check_eq!(topics.committed_on(partition)?, Some(expected as i64));
        }
        check_eq!(topics.end_offset(&topics.dlq, 0)?, 0);
        Ok(())
    })();
    let cleanup = admin_runtime.block_on(admin.purge(base, &event_ids));
    result?;
    cleanup
}

//! Dead-letter replay against the real broker (`make up`; `DBSYNC_BROKERS`, default 127.0.0.1:9092). Every test
//! uses fresh topics and groups of its own, so it never touches legacy.events, revamp.events or sync.dlq.

mod common;

use anyhow::{ensure, Context, Result};
use dbsync_core::{replay_dead_letters, ReplayOptions, ReplaySummary};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::DEADLINE;

/// Header names and values of one dead letter.
type HeaderList<'a> = Vec<(&'a str, &'a str)>;

/// A message as the target topic holds it.
#[derive(Debug, PartialEq, Eq)]
struct Received {
    partition: i32,
    key: String,
    value: String,
    headers: Vec<(String, String)>,
}

/// A dead-letter topic (1 partition) and a target topic (2 partitions) made for one test, deleted on drop.
struct Topics {
    brokers: String,
    dlq: String,
    target: String,
    group: String,
    runtime: tokio::runtime::Runtime,
}

impl Topics {
    fn create() -> Result<Self> {
        let brokers = std::env::var("DBSYNC_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".into());
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos();
        let unique = format!("{}-{nanos}", std::process::id());
        let topics = Topics {
            dlq: format!("dbsync-test-dlq-{unique}"),
            target: format!("dbsync-test-target-{unique}"),
            group: format!("dbsync-test-replay-{unique}"),
            brokers,
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?,
        };
        topics.runtime.block_on(async {
            let admin = topics.admin()?;
            let new = [
                NewTopic::new(&topics.dlq, 1, TopicReplication::Fixed(1)),
                NewTopic::new(&topics.target, 2, TopicReplication::Fixed(1)),
            ];
            for result in admin.create_topics(&new, &AdminOptions::new()).await? {
                result.map_err(|(topic, code)| anyhow::anyhow!("creating {topic}: {code}"))?;
            }
            anyhow::Ok(())
        })?;
        topics.wait_for_metadata()?;
        Ok(topics)
    }

    fn admin(&self) -> Result<AdminClient<DefaultClientContext>> {
        Ok(ClientConfig::new()
            .set("bootstrap.servers", &self.brokers)
            .create()?)
    }

    fn consumer(&self) -> Result<BaseConsumer> {
        Ok(ClientConfig::new()
            .set("bootstrap.servers", &self.brokers)
            .set("group.id", format!("{}-reader", self.group))
            .set("enable.auto.commit", "false")
            .create()?)
    }

    /// Topic creation returns before every broker serves the metadata; poll until it does.
    fn wait_for_metadata(&self) -> Result<()> {
        let consumer = self.consumer()?;
        let started = Instant::now();
        loop {
            let metadata = consumer.fetch_metadata(None, Duration::from_secs(5))?;
            let ready = [(&self.dlq, 1), (&self.target, 2)].iter().all(|(name, n)| {
                metadata
                    .topics()
                    .iter()
                    .any(|t| t.name() == name.as_str() && t.partitions().len() == *n)
            });
            if ready {
                return Ok(());
            }
            ensure!(
                started.elapsed() < DEADLINE,
                "topics never showed up in the metadata"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Writes dead letters as the consumers do: key, value and Kafka Connect's plus dbsync's headers.
    fn dead_letters(&self, letters: &[(&str, &str, HeaderList<'_>)]) -> Result<()> {
        self.runtime.block_on(async {
            let producer: FutureProducer = ClientConfig::new()
                .set("bootstrap.servers", &self.brokers)
                .create()?;
            for (key, value, headers) in letters {
                let mut owned = OwnedHeaders::new();
                for (name, text) in headers {
                    owned = owned.insert(Header {
                        key: name,
                        value: Some(text.as_bytes()),
                    });
                }
                let record = FutureRecord::to(&self.dlq)
                    .key(*key)
                    .payload(*value)
                    .headers(owned);
                producer
                    .send(record, Duration::from_secs(10))
                    .await
                    .map_err(|(e, _)| e)?;
            }
            anyhow::Ok(())
        })
    }

    /// Headers of a letter that goes back to the target topic's partition 1.
    fn headers<'a>(&'a self, reason: &'a str) -> HeaderList<'a> {
        vec![
            ("__connect.errors.topic", self.target.as_str()),
            ("__connect.errors.partition", "1"),
            ("__connect.errors.offset", "7"),
            ("__connect.errors.exception.message", "test letter"),
            ("dbsync.reason", reason),
            ("dbsync.attempts", "1"),
        ]
    }

    fn replay(&self, configure: impl FnOnce(&mut ReplayOptions)) -> Result<ReplaySummary> {
        let mut options = ReplayOptions::new(&self.brokers);
        options.dlq_topic = self.dlq.clone();
        options.group_id = self.group.clone();
        configure(&mut options);
        Ok(replay_dead_letters(options)?)
    }

    /// Reads the target topic from the beginning until `count` messages arrived.
    fn received(&self, count: usize) -> Result<Vec<Received>> {
        let consumer = self.consumer()?;
        let polled =
            common::read_from_beginning(&consumer, &self.target, 2, count, "replayed messages")?;
        Ok(polled
            .into_iter()
            .map(|m| Received {
                partition: m.partition,
                key: m.key,
                value: String::from_utf8_lossy(&m.value).into_owned(),
                headers: m.headers,
            })
            .collect())
    }

    /// Messages on the target topic now (acknowledged sends are below the high watermarks).
    fn target_total(&self) -> Result<i64> {
        let consumer = self.consumer()?;
        let mut total = 0;
        for partition in 0..2 {
            let (low, high) =
                consumer.fetch_watermarks(&self.target, partition, Duration::from_secs(5))?;
            total += high - low;
        }
        Ok(total)
    }
}

impl Drop for Topics {
    fn drop(&mut self) {
        let names = [self.dlq.as_str(), self.target.as_str()];
        if let Ok(admin) = self.admin() {
            let _ = self
                .runtime
                .block_on(admin.delete_topics(&names, &AdminOptions::new()));
        }
    }
}

#[test]
fn replays_each_letter_once_to_its_original_topic_and_partition() -> Result<()> {
    let topics = Topics::create().context("is the stack up (`make up`)?")?;
    topics.dead_letters(&[
        ("k1", r#"{"n":1}"#, topics.headers("malformed")),
        ("k2", r#"{"n":2}"#, topics.headers("parent_missing")),
    ])?;

    let summary = topics.replay(|_| {})?;
    assert_eq!((summary.read, summary.replayed, summary.skipped), (2, 2, 0));
    assert_eq!(
        summary.reasons,
        BTreeMap::from([("malformed".into(), 1), ("parent_missing".into(), 1)])
    );

    let received = topics.received(2)?;
    // Both went back to partition 1 (their original), carrying only the header that says where from.
    let expected = |offset: i64, key: &str, value: &str| Received {
        partition: 1,
        key: key.into(),
        value: value.into(),
        headers: vec![(
            "dbsync.replayed_from".into(),
            format!("{}/0/{offset}", topics.dlq),
        )],
    };
    assert_eq!(
        received,
        vec![
            expected(0, "k1", r#"{"n":1}"#),
            expected(1, "k2", r#"{"n":2}"#),
        ]
    );

    let again = topics.replay(|_| {})?;
    assert_eq!((again.read, again.replayed), (0, 0));
    assert_eq!(topics.target_total()?, 2);
    Ok(())
}

#[test]
fn dry_runs_and_filters_never_lose_a_letter() -> Result<()> {
    let topics = Topics::create().context("is the stack up (`make up`)?")?;
    topics.dead_letters(&[
        ("a", "1", topics.headers("malformed")),
        ("b", "2", topics.headers("parent_missing")),
        // Nowhere to go back to.
        ("c", "3", vec![("dbsync.reason", "parent_missing")]),
    ])?;

    let dry = topics.replay(|o| o.dry_run = true)?;
    assert_eq!(
        (dry.read, dry.replayed, dry.skipped, dry.dry_run),
        (3, 2, 1, true)
    );
    assert_eq!(topics.target_total()?, 0);

    let filtered = topics.replay(|o| o.reasons = vec!["parent_missing".into()])?;
    assert_eq!(
        (filtered.read, filtered.replayed, filtered.skipped),
        (3, 1, 2)
    );
    assert_eq!(topics.target_total()?, 1);

    // The filter left `a` out, so the group did not move past it: the next run still sees all three.
    let rest = topics.replay(|_| {})?;
    assert_eq!((rest.read, rest.replayed, rest.skipped), (3, 2, 1));
    assert_eq!(topics.target_total()?, 3);

    let capped = topics.replay(|o| o.max_messages = Some(1))?;
    assert_eq!(capped.read, 0, "everything was committed past");
    Ok(())
}

#[test]
fn a_missing_dead_letter_topic_is_named() {
    let mut options = ReplayOptions::new(
        std::env::var("DBSYNC_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".into()),
    );
    options.dlq_topic = "dbsync-test-no-such-dlq".into();
    let error = replay_dead_letters(options).unwrap_err();
    assert!(
        error.to_string().contains("dbsync-test-no-such-dlq"),
        "{error}"
    );
}

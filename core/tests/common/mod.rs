//! Helpers shared by the integration tests that need the running stack (`make up`): settings from the
//! environment (defaults as in stack.env), unique ids and names, and admin access to both databases for checks and
//! clean-up. Clean-up runs with the sync service's session marker, so Debezium drops it as an echo and nothing
//! reaches the other side.
#![allow(dead_code, unused_macros, unused_imports)]

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use dbsync_core::{Mapping, Side};
use sqlx::{AssertSqlSafe, Executor, MySqlPool, PgPool, Row};
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use uuid::Uuid;

/// How long any poll waits before the test gives up.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// Ids of one test's rows: `ID_BLOCK` consecutive keys from a random base.
pub const ID_BLOCK: i64 = 100;

/// `anyhow::ensure!` for equality, printing both sides: failures return an error, so clean-up still runs.
macro_rules! check_eq {
    ($left:expr, $right:expr $(,)?) => {{
        let (left, right) = (&$left, &$right);
        anyhow::ensure!(
            left == right,
            "{} == {} failed: {:?} != {:?}",
            stringify!($left),
            stringify!($right),
            left,
            right
        );
    }};
}
pub(crate) use check_eq;

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

pub fn brokers() -> String {
    env_or("DBSYNC_BROKERS", "127.0.0.1:9092")
}

/// The sync service's own (least-privilege) account on `side`.
pub fn sync_dsn(side: Side) -> String {
    match side {
        Side::Legacy => env_or(
            "DBSYNC_LEGACY_DSN",
            "postgres://dbsync_sync:dbsync_sync_dev@127.0.0.1:5432/legacy_db",
        ),
        Side::Revamp => env_or(
            "DBSYNC_REVAMP_DSN",
            "mysql://dbsync_sync:dbsync_sync_dev@127.0.0.1:3306/revamp_db",
        ),
    }
}

/// The admin account on `side` (passwordless on the development stack).
pub fn admin_dsn(side: Side) -> String {
    match side {
        Side::Legacy => env_or(
            "DBSYNC_TEST_LEGACY_ADMIN_DSN",
            "postgres://postgres@127.0.0.1:5432/legacy_db",
        ),
        Side::Revamp => env_or(
            "DBSYNC_TEST_REVAMP_ADMIN_DSN",
            "mysql://root@127.0.0.1:3306/revamp_db",
        ),
    }
}

pub fn mapping_path() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/mapping/default.toml"))
}

pub fn mapping() -> Result<Mapping> {
    Ok(Mapping::from_path(mapping_path())?)
}

/// A random number (std's per-process random hasher keys, plus time and a counter).
pub fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    hasher.finish()
}

/// A short unique tag for names (usernames, topics, groups).
pub fn unique_tag() -> String {
    format!("{:012x}", random_u64() & 0xffff_ffff_ffff)
}

/// A random event id (the ledger only needs uniqueness).
pub fn random_event_id() -> Uuid {
    Uuid::from_u64_pair(random_u64(), random_u64())
}

/// The first of `ID_BLOCK` free keys for rows written INTO `target`: they come from the other side, so they lie
/// high in the other side's range (legacy ids < 1e12, revamp ids >= 1e12), far above what the stack's sequences
/// hand out.
pub fn id_block(target: Side) -> i64 {
    let slot = (random_u64() % 90_000_000) as i64 * ID_BLOCK;
    match target {
        Side::Revamp => 990_000_000_000 + slot % 9_000_000_000,
        Side::Legacy => 9_000_000_000_000_000 + slot,
    }
}

/// Now, cut to microseconds (what both databases store).
pub fn now_micros() -> DateTime<Utc> {
    DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).expect("now is in range")
}

/// A row's version and one text column, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRow {
    pub updated_at: DateTime<Utc>,
    pub source: String,
    pub text: String,
}

/// A tombstone as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTombstone {
    pub row_updated_at: DateTime<Utc>,
    pub row_source: String,
    pub source: String,
}

/// Table names on one side, children first (the order to delete in).
pub fn tables(side: Side) -> [&'static str; 3] {
    match side {
        Side::Legacy => ["legacy_likes", "legacy_posts", "legacy_users"],
        Side::Revamp => ["revamp_post_likes", "revamp_posts", "revamp_users"],
    }
}

/// An admin pool on one side.
pub enum Admin {
    Legacy(PgPool),
    Revamp(MySqlPool),
}

impl Admin {
    pub async fn connect(side: Side) -> Result<Self> {
        let dsn = admin_dsn(side);
        let context = || format!("connecting as admin to {dsn} (is the stack up? `make up`)");
        Ok(match side {
            Side::Legacy => Admin::Legacy(PgPool::connect(&dsn).await.with_context(context)?),
            Side::Revamp => Admin::Revamp(MySqlPool::connect(&dsn).await.with_context(context)?),
        })
    }

    /// `updated_at`, `source` and `text_column` of row `id` of `table`.
    pub async fn row(&self, table: &str, text_column: &str, id: i64) -> Result<Option<StoredRow>> {
        let sql = format!("SELECT updated_at, source, {text_column} FROM {table} WHERE id = ");
        let read = |updated_at, source, text| StoredRow {
            updated_at,
            source,
            text,
        };
        Ok(match self {
            Admin::Legacy(pool) => sqlx::query(AssertSqlSafe(sql + "$1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
                .map(|r| Ok::<_, sqlx::Error>(read(r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
                .transpose()?,
            Admin::Revamp(pool) => sqlx::query(AssertSqlSafe(sql + "?"))
                .bind(id)
                .fetch_optional(pool)
                .await?
                .map(|r| Ok::<_, sqlx::Error>(read(r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
                .transpose()?,
        })
    }

    /// The tombstone of `table` row `id`.
    pub async fn tombstone(&self, table: &str, id: i64) -> Result<Option<StoredTombstone>> {
        const SQL: &str =
            "SELECT row_updated_at, row_source, source FROM dbsync_tombstones WHERE table_name = ";
        let read = |row_updated_at, row_source, source| StoredTombstone {
            row_updated_at,
            row_source,
            source,
        };
        Ok(match self {
            Admin::Legacy(pool) => sqlx::query(AssertSqlSafe(format!("{SQL}$1 AND row_id = $2")))
                .bind(table)
                .bind(id)
                .fetch_optional(pool)
                .await?
                .map(|r| Ok::<_, sqlx::Error>(read(r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
                .transpose()?,
            Admin::Revamp(pool) => sqlx::query(AssertSqlSafe(format!("{SQL}? AND row_id = ?")))
                .bind(table)
                .bind(id)
                .fetch_optional(pool)
                .await?
                .map(|r| Ok::<_, sqlx::Error>(read(r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
                .transpose()?,
        })
    }

    /// How many rows of `table` have ids in `first ..= last`.
    pub async fn count_rows(&self, table: &str, first: i64, last: i64) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE id BETWEEN ");
        Ok(match self {
            Admin::Legacy(pool) => {
                sqlx::query_scalar(AssertSqlSafe(sql + "$1 AND $2"))
                    .bind(first)
                    .bind(last)
                    .fetch_one(pool)
                    .await?
            }
            Admin::Revamp(pool) => {
                sqlx::query_scalar(AssertSqlSafe(sql + "? AND ?"))
                    .bind(first)
                    .bind(last)
                    .fetch_one(pool)
                    .await?
            }
        })
    }

    /// Opens a transaction that holds row `id` of `table` locked (`FOR UPDATE`) until it is dropped or rolled back.
    pub async fn hold_row(&self, table: &str, id: i64) -> Result<Held> {
        let sql = AssertSqlSafe(format!("SELECT id FROM {table} WHERE id = {id} FOR UPDATE"));
        Ok(match self {
            Admin::Legacy(pool) => {
                let mut tx = pool.begin().await?;
                tx.execute(sql).await?;
                Held::Legacy(tx)
            }
            Admin::Revamp(pool) => {
                let mut tx = pool.begin().await?;
                tx.execute(sql).await?;
                Held::Revamp(tx)
            }
        })
    }

    /// How many sessions of this database wait for a lock of `kind` in a statement that names `table`.
    pub async fn lock_waiters(&self, kind: LockWait, table: &str) -> Result<i64> {
        let like = format!("%{table}%");
        Ok(match (self, kind) {
            (Admin::Legacy(pool), kind) => {
                // An advisory lock statement names no table: it binds the keys.
                let (events, like) = match kind {
                    LockWait::Row => ("'transactionid', 'tuple'", like),
                    LockWait::Named => ("'advisory'", "%pg_advisory%".to_string()),
                };
                let sql = format!(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                     AND wait_event_type = 'Lock' AND wait_event IN ({events}) AND query LIKE $1"
                );
                sqlx::query_scalar(AssertSqlSafe(sql))
                    .bind(like)
                    .fetch_one(pool)
                    .await?
            }
            // InnoDB does not list a locking read that waits while the optimizer reads its one row (state
            // "Statistics") as LOCK WAIT, so: a locking read of `table` running for a second or more.
            (Admin::Revamp(pool), LockWait::Row) => {
                sqlx::query_scalar(
                    "SELECT count(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() \
                     AND INFO LIKE ? AND INFO LIKE '%FOR UPDATE' AND TIME >= 1",
                )
                .bind(like)
                .fetch_one(pool)
                .await?
            }
            // MariaDB says "User lock", MySQL "Waiting for user lock".
            (Admin::Revamp(pool), LockWait::Named) => {
                sqlx::query_scalar(
                    "SELECT count(*) FROM information_schema.PROCESSLIST \
                     WHERE DB = DATABASE() AND STATE LIKE '%user lock%' AND INFO LIKE '%GET_LOCK%'",
                )
                .fetch_one(pool)
                .await?
            }
        })
    }

    /// Polls until a session waits for a lock of `kind` (a row lock: in a statement naming `table`), or fails after
    /// [`DEADLINE`] naming `who`.
    pub async fn until_waiting(&self, kind: LockWait, table: &str, who: &str) -> Result<()> {
        let started = std::time::Instant::now();
        while self.lock_waiters(kind, table).await? == 0 {
            anyhow::ensure!(
                started.elapsed() < DEADLINE,
                "{who} never waited for a {kind:?} lock"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// The stored position watermark of a topic partition (`dbsync_source_positions`).
    pub async fn watermark(&self, topic: &str, partition: i32) -> Result<Option<String>> {
        let sql = "SELECT source_position FROM dbsync_source_positions WHERE topic = ";
        macro_rules! read {
            ($pool:expr, $where:literal) => {
                sqlx::query_scalar(AssertSqlSafe(format!("{sql}{}", $where)))
                    .bind(topic)
                    .bind(partition)
                    .fetch_optional($pool)
                    .await?
            };
        }
        Ok(match self {
            Admin::Legacy(pool) => read!(pool, "$1 AND kafka_partition = $2"),
            Admin::Revamp(pool) => read!(pool, "? AND kafka_partition = ?"),
        })
    }

    /// Removes the position watermarks of `topic`.
    pub async fn drop_watermarks(&self, topic: &str) -> Result<()> {
        let sql = "DELETE FROM dbsync_source_positions WHERE topic = ";
        macro_rules! delete {
            ($pool:expr, $placeholder:literal) => {{
                let sql = format!("{sql}{}", $placeholder);
                sqlx::query(AssertSqlSafe(sql))
                    .bind(topic)
                    .execute($pool)
                    .await?;
            }};
        }
        match self {
            Admin::Legacy(pool) => delete!(pool, "$1"),
            Admin::Revamp(pool) => delete!(pool, "?"),
        }
        Ok(())
    }

    /// Adds ledger rows for `event_ids`, applied (and committed at the source) at `applied_at`.
    pub async fn put_ledger(&self, event_ids: &[Uuid], applied_at: DateTime<Utc>) -> Result<()> {
        let ids = serde_json::to_string(event_ids)?;
        match self {
            Admin::Legacy(pool) => {
                sqlx::query(
                    "INSERT INTO dbsync_applied_events (event_id, applied_at, source_committed_at) \
                     SELECT id::uuid, $2, $2 FROM jsonb_array_elements_text($1::jsonb) AS ids(id)",
                )
                .bind(ids)
                .bind(applied_at)
                .execute(pool)
                .await?;
            }
            Admin::Revamp(pool) => {
                sqlx::query(
                    "INSERT INTO dbsync_applied_events (event_id, applied_at, source_committed_at) \
                     SELECT id, ?, ? FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(36) PATH '$')) AS ids",
                )
                .bind(applied_at)
                .bind(applied_at)
                .bind(ids)
                .execute(pool)
                .await?;
            }
        }
        Ok(())
    }

    /// How many of `event_ids` are in the ledger.
    pub async fn count_ledger(&self, event_ids: &[Uuid]) -> Result<i64> {
        let ids: Vec<String> = event_ids.iter().map(Uuid::to_string).collect();
        Ok(match self {
            Admin::Legacy(pool) => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM dbsync_applied_events WHERE event_id = ANY($1::text[]::uuid[])",
                )
                .bind(ids)
                .fetch_one(pool)
                .await?
            }
            Admin::Revamp(pool) => {
                // A list of placeholders: MariaDB joins a JSON_TABLE by scanning the whole ledger.
                let list = vec!["?"; ids.len().max(1)].join(", ");
                let sql = format!("SELECT COUNT(*) FROM dbsync_applied_events WHERE event_id IN ({list})");
                let mut query = sqlx::query_scalar(AssertSqlSafe(sql));
                if ids.is_empty() {
                    query = query.bind("");
                }
                for id in ids {
                    query = query.bind(id);
                }
                query.fetch_one(pool).await?
            }
        })
    }

    /// Adds tombstones of rows `row_ids` of a made-up `table_name`, deleted at `deleted_at` by the sync service
    /// (so Debezium drops them as echoes).
    pub async fn put_tombstones(
        &self,
        table_name: &str,
        row_ids: &[i64],
        deleted_at: DateTime<Utc>,
    ) -> Result<()> {
        let ids = serde_json::to_string(row_ids)?;
        match self {
            Admin::Legacy(pool) => {
                sqlx::query(
                    "INSERT INTO dbsync_tombstones \
                     (table_name, row_id, row_updated_at, row_source, deleted_at, source) \
                     SELECT $1, id::int8, $3, 'sync_service', $3, 'sync_service' \
                     FROM jsonb_array_elements_text($2::jsonb) AS ids(id)",
                )
                .bind(table_name)
                .bind(ids)
                .bind(deleted_at)
                .execute(pool)
                .await?;
            }
            Admin::Revamp(pool) => {
                sqlx::query(
                    "INSERT INTO dbsync_tombstones \
                     (table_name, row_id, row_updated_at, row_source, deleted_at, source) \
                     SELECT ?, id, ?, 'sync_service', ?, 'sync_service' \
                     FROM JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT PATH '$')) AS ids",
                )
                .bind(table_name)
                .bind(deleted_at)
                .bind(deleted_at)
                .bind(ids)
                .execute(pool)
                .await?;
            }
        }
        Ok(())
    }

    /// How many tombstones a made-up `table_name` has.
    pub async fn count_tombstones(&self, table_name: &str) -> Result<i64> {
        let sql = "SELECT COUNT(*) FROM dbsync_tombstones WHERE table_name = ";
        Ok(match self {
            Admin::Legacy(pool) => {
                sqlx::query_scalar(AssertSqlSafe(format!("{sql}$1")))
                    .bind(table_name)
                    .fetch_one(pool)
                    .await?
            }
            Admin::Revamp(pool) => {
                sqlx::query_scalar(AssertSqlSafe(format!("{sql}?")))
                    .bind(table_name)
                    .fetch_one(pool)
                    .await?
            }
        })
    }

    /// Removes the tombstones of a made-up `table_name`.
    pub async fn drop_tombstones(&self, table_name: &str) -> Result<()> {
        let sql = "DELETE FROM dbsync_tombstones WHERE table_name = ";
        match self {
            Admin::Legacy(pool) => {
                sqlx::query(AssertSqlSafe(format!("{sql}$1")))
                    .bind(table_name)
                    .execute(pool)
                    .await?;
            }
            Admin::Revamp(pool) => {
                sqlx::query(AssertSqlSafe(format!("{sql}?")))
                    .bind(table_name)
                    .execute(pool)
                    .await?;
            }
        }
        Ok(())
    }

    /// Removes every row, tombstone and ledger entry a test made: ids `first .. first + ID_BLOCK` in every synced
    /// table, and `event_ids`. Runs as the sync service, so Debezium drops it and nothing reaches the other side.
    pub async fn purge(&self, first: i64, event_ids: &[Uuid]) -> Result<()> {
        let last = first + ID_BLOCK - 1;
        match self {
            Admin::Legacy(pool) => {
                let mut tx = pool.begin().await?;
                tx.execute("SET LOCAL dbsync.origin = 'sync_service'")
                    .await?;
                for table in tables(Side::Legacy) {
                    let sql = format!("DELETE FROM {table} WHERE id BETWEEN $1 AND $2");
                    sqlx::query(AssertSqlSafe(sql))
                        .bind(first)
                        .bind(last)
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query("DELETE FROM dbsync_tombstones WHERE row_id BETWEEN $1 AND $2")
                    .bind(first)
                    .bind(last)
                    .execute(&mut *tx)
                    .await?;
                for id in event_ids {
                    sqlx::query("DELETE FROM dbsync_applied_events WHERE event_id = $1::uuid")
                        .bind(id.to_string())
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            }
            Admin::Revamp(pool) => {
                let mut conn = pool.acquire().await?;
                conn.execute("SET @dbsync_origin = 'sync_service'").await?;
                for table in tables(Side::Revamp) {
                    let sql = format!("DELETE FROM {table} WHERE id BETWEEN ? AND ?");
                    sqlx::query(AssertSqlSafe(sql))
                        .bind(first)
                        .bind(last)
                        .execute(&mut *conn)
                        .await?;
                }
                sqlx::query("DELETE FROM dbsync_tombstones WHERE row_id BETWEEN ? AND ?")
                    .bind(first)
                    .bind(last)
                    .execute(&mut *conn)
                    .await?;
                for id in event_ids {
                    sqlx::query("DELETE FROM dbsync_applied_events WHERE event_id = ?")
                        .bind(id.to_string())
                        .execute(&mut *conn)
                        .await?;
                }
                conn.execute("SET @dbsync_origin = NULL").await?;
            }
        }
        Ok(())
    }
}

/// A message read back from a topic, as text where the tests compare text.
/// A lock a session waits for: an ordinary row lock, or a named one (PostgreSQL's advisory locks, MySQL's
/// `GET_LOCK`).
#[derive(Clone, Copy, Debug)]
pub enum LockWait {
    Row,
    Named,
}

/// An admin transaction holding a row locked ([`Admin::hold_row`]).
pub enum Held {
    Legacy(sqlx::Transaction<'static, sqlx::Postgres>),
    Revamp(sqlx::Transaction<'static, sqlx::MySql>),
}

impl Held {
    /// Rolls the transaction back, releasing the row.
    pub async fn release(self) -> Result<()> {
        match self {
            Held::Legacy(tx) => tx.rollback().await?,
            Held::Revamp(tx) => tx.rollback().await?,
        }
        Ok(())
    }
}

pub struct Polled {
    pub partition: i32,
    pub key: String,
    pub value: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

/// Reads `partitions` partitions of `topic` from the beginning with `reader` until `count` messages arrived, or
/// fails after [`DEADLINE`] naming `what` was missing.
pub fn read_from_beginning(
    reader: &rdkafka::consumer::BaseConsumer,
    topic: &str,
    partitions: i32,
    count: usize,
    what: &str,
) -> Result<Vec<Polled>> {
    use rdkafka::consumer::Consumer as _;
    use rdkafka::message::{Headers, Message};
    let mut assignment = rdkafka::TopicPartitionList::new();
    for partition in 0..partitions {
        assignment.add_partition_offset(topic, partition, rdkafka::Offset::Beginning)?;
    }
    reader.assign(&assignment)?;
    let started = std::time::Instant::now();
    let text =
        |bytes: Option<&[u8]>| String::from_utf8_lossy(bytes.unwrap_or_default()).into_owned();
    let mut polled = Vec::new();
    while polled.len() < count {
        anyhow::ensure!(
            started.elapsed() < DEADLINE,
            "only {} of {count} {what} arrived",
            polled.len()
        );
        let Some(message) = reader.poll(Duration::from_millis(200)) else {
            continue;
        };
        let message = message?;
        let headers = message
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| (h.key.to_string(), text(h.value)))
                    .collect()
            })
            .unwrap_or_default();
        polled.push(Polled {
            partition: message.partition(),
            key: text(message.key()),
            value: message.payload().unwrap_or_default().to_vec(),
            headers,
        });
    }
    Ok(polled)
}

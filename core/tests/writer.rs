//! The target writer against the real databases (`make up`): every case runs once into PostgreSQL (legacy side)
//! and once into MariaDB (revamp side), through the sync service's own account, with row operations built by
//! `transform` from change events of the other side. Each case uses a random block of ids and unique usernames and
//! removes what it wrote at the end (as admin), whether it passed or not.

mod common;

use anyhow::{anyhow, ensure, Context, Result};
use chrono::{DateTime, TimeDelta, Utc};
use common::{check_eq, Admin, LockWait, StoredRow, StoredTombstone};
use dbsync_core::error::DeadLetterReason;
use dbsync_core::position::{Lane, SourcePosition};
use dbsync_core::row::ParentRef;
use dbsync_core::write::{BatchError, OpOutcome, Target, TargetOptions, WriteError};
use dbsync_core::{transform, ChangeEvent, Mapping, Operation, RowOp, Side};
use serde_json::{json, Value};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

use OpOutcome::{Applied, Blocked, ConflictLost, Duplicate};

/// One case's writer, admin access and id block on one target side.
struct Fixture {
    /// The side written into.
    side: Side,
    target: Target,
    admin: Admin,
    mapping: Mapping,
    base: i64,
    tag: String,
    t0: DateTime<Utc>,
    events: Mutex<Vec<Uuid>>,
}

impl Fixture {
    async fn new(side: Side) -> Result<Arc<Self>> {
        let mapping = common::mapping()?;
        let target = Target::connect(&common::sync_dsn(side), &mapping, &TargetOptions::default())
            .await
            .context("connecting the writer (is the stack up? `make up`)")?;
        check_eq!(target.side(), side);
        Ok(Arc::new(Fixture {
            side,
            target,
            admin: Admin::connect(side).await?,
            mapping,
            base: common::id_block(side),
            tag: common::unique_tag(),
            t0: common::now_micros(),
            events: Mutex::new(Vec::new()),
        }))
    }

    /// The side the events come from.
    fn origin(&self) -> Side {
        self.side.other()
    }

    fn id(&self, n: i64) -> i64 {
        self.base + n
    }

    /// `t0` plus `seconds`.
    fn at(&self, seconds: i64) -> DateTime<Utc> {
        self.t0 + TimeDelta::seconds(seconds)
    }

    /// A time as the origin's connector spells it: ISO text from PostgreSQL, epoch microseconds from MariaDB.
    fn time(&self, at: DateTime<Utc>) -> Value {
        match self.origin() {
            Side::Legacy => json!(at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()),
            Side::Revamp => json!(at.timestamp_micros()),
        }
    }

    /// The row operation `transform` makes of an event of the origin side (with a fresh event id).
    fn op(&self, entity: &str, operation: Operation, n: i64, payload: Value) -> Result<RowOp> {
        let event_id = common::random_event_id();
        self.events.lock().unwrap().push(event_id);
        let event = ChangeEvent {
            event_id,
            entity_type: entity.to_string(),
            operation,
            primary_key: self.id(n),
            payload: payload
                .as_object()
                .cloned()
                .context("payload is an object")?,
            source: self.origin().as_str().to_string(),
            event_version: 1,
            timestamp: Utc::now(),
            origin: self.origin(),
            snapshot: false,
            position: None,
        };
        Ok(transform(&event, &self.mapping)?)
    }

    /// User `n` named after `name` (a number, so two users can share a name), at version `at`.
    fn user(&self, n: i64, name: i64, at: DateTime<Utc>, email: &str) -> Result<RowOp> {
        let (id, name, time) = (self.id(n), format!("w{}_{name}", self.tag), self.time(at));
        let payload = match self.origin() {
            Side::Legacy => {
                json!({"id": id, "username": name, "email": email, "full_name": "Writer Test",
                "status": "active", "is_admin": false, "created_at": time, "updated_at": time, "source": "legacy"})
            }
            Side::Revamp => {
                json!({"id": id, "user_name": name, "email_address": email, "first_name": "Writer",
                "last_name": "Test", "status": 1, "is_admin": 0, "created_at": time, "updated_at": time,
                "source": "revamp"})
            }
        };
        self.op("user", Operation::Update, n, payload)
    }

    /// Post `n` by user `author`, at version `at`.
    fn post(&self, n: i64, author: i64, at: DateTime<Utc>) -> Result<RowOp> {
        let (id, author, time) = (self.id(n), self.id(author), self.time(at));
        let payload = match self.origin() {
            Side::Legacy => {
                json!({"id": id, "author_id": author, "title": "t", "body": "b", "state": "published",
                "created_at": time, "updated_at": time, "source": "legacy"})
            }
            Side::Revamp => {
                json!({"id": id, "user_id": author, "headline": "t", "content": "b", "status": "LIVE",
                "created_at": time, "updated_at": time, "source": "revamp"})
            }
        };
        self.op("post", Operation::Create, n, payload)
    }

    /// The origin application's delete of `entity` row `n`, which held version `at` (a decoded tombstone).
    fn delete(&self, entity: &str, n: i64, at: DateTime<Utc>) -> Result<RowOp> {
        let payload = json!({"id": self.id(n), "updated_at": self.time(at), "source": self.origin().as_str()});
        self.op(entity, Operation::Delete, n, payload)
    }

    async fn apply(&self, ops: &[RowOp]) -> Result<Vec<OpOutcome>> {
        self.target
            .apply(ops)
            .await
            .map_err(|BatchError { index, error }| anyhow!("op {index} failed: {error}"))
    }

    fn table(&self, entity: &str) -> &str {
        self.mapping
            .entity(entity)
            .expect("mapped")
            .table(self.side)
    }

    async fn user_row(&self, n: i64) -> Result<Option<StoredRow>> {
        let email = match self.side {
            Side::Legacy => "email",
            Side::Revamp => "email_address",
        };
        self.admin.row(self.table("user"), email, self.id(n)).await
    }

    async fn post_row(&self, n: i64) -> Result<Option<StoredRow>> {
        let title = match self.side {
            Side::Legacy => "title",
            Side::Revamp => "headline",
        };
        self.admin.row(self.table("post"), title, self.id(n)).await
    }

    async fn tombstone(&self, entity: &str, n: i64) -> Result<Option<StoredTombstone>> {
        self.admin.tombstone(self.table(entity), self.id(n)).await
    }

    fn parent_user(&self, n: i64) -> ParentRef {
        ParentRef {
            entity: "user".into(),
            table: self.table("user").into(),
            key_column: "id".into(),
            id: self.id(n),
        }
    }

    async fn cleanup(&self) -> Result<()> {
        let events = self.events.lock().unwrap().clone();
        self.admin.purge(self.base, &events).await
    }
}

/// Runs `case` into PostgreSQL, then into MariaDB, cleaning up after each.
async fn both<F, Fut>(case: F) -> Result<()>
where
    F: Fn(Arc<Fixture>) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    for side in [Side::Legacy, Side::Revamp] {
        let fixture = Fixture::new(side).await?;
        let result = case(fixture.clone()).await;
        let cleanup = fixture.cleanup().await;
        result.with_context(|| format!("writing into the {side} database"))?;
        cleanup.with_context(|| format!("cleaning up the {side} database"))?;
    }
    Ok(())
}

#[tokio::test]
async fn a_replay_is_a_duplicate_and_the_row_keeps_the_incoming_version() -> Result<()> {
    both(|f| async move {
        let create = f.user(0, 0, f.at(0), "a@writer.test")?;
        check_eq!(f.apply(std::slice::from_ref(&create)).await?, vec![Applied]);
        check_eq!(f.apply(&[create]).await?, vec![Duplicate]);
        let row = f.user_row(0).await?.context("row written")?;
        check_eq!(row.source, "sync_service");
        check_eq!(row.updated_at, f.at(0));
        Ok(())
    })
    .await
}

/// `op` as read from the source's log at LSN `lsn`.
fn at_lsn(mut op: RowOp, lsn: u64) -> RowOp {
    let position = Some(SourcePosition::Lsn(lsn));
    match &mut op {
        RowOp::Upsert(upsert) => upsert.position = position,
        RowOp::Delete(delete) => delete.position = position,
    }
    op
}

#[tokio::test]
async fn a_lane_watermark_lets_only_events_above_it_skip_the_ledger() -> Result<()> {
    both(|f| async move {
        let lane = Lane {
            topic: format!("writer-{}", f.tag),
            partition: 3,
        };
        let from_lane = |ops: Vec<RowOp>| {
            let (f, lane) = (f.clone(), lane.clone());
            async move {
                f.target
                    .apply_from(Some(&lane), &ops)
                    .await
                    .map_err(|BatchError { index, error }| anyhow!("op {index} failed: {error}"))
            }
        };
        let result = async {
            // The bulk path (4 operations) raises the watermark to the batch's highest position.
            let users = (0..4)
                .map(|n| {
                    Ok(at_lsn(
                        f.user(n, n, f.at(0), "lane@writer.test")?,
                        13 - n as u64,
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            check_eq!(from_lane(users.clone()).await?, vec![Applied; 4]);
            check_eq!(
                f.admin.watermark(&lane.topic, 3).await?,
                Some("lsn:13".to_string())
            );
            // Redelivered, at or below the watermark: looked up, found, on both paths.
            check_eq!(from_lane(users.clone()).await?, vec![Duplicate; 4]);
            check_eq!(from_lane(users[..1].to_vec()).await?, vec![Duplicate]);
            // The one-by-one path (under 4 operations) raises it too; a lower batch leaves it.
            let fifth = at_lsn(f.user(4, 4, f.at(0), "lane@writer.test")?, 20);
            check_eq!(from_lane(vec![fifth.clone()]).await?, vec![Applied]);
            check_eq!(
                f.admin.watermark(&lane.topic, 3).await?,
                Some("lsn:20".to_string())
            );
            check_eq!(from_lane(users[..1].to_vec()).await?, vec![Duplicate]);
            check_eq!(
                f.admin.watermark(&lane.topic, 3).await?,
                Some("lsn:20".to_string())
            );
            // Above the watermark the bulk path does not read the ledger: applied events claiming higher positions
            // are decided by their versions alone (equal: lost; the one-by-one path's ledger insert would still
            // see them) ...
            let claimed: Vec<RowOp> = users.iter().map(|op| at_lsn(op.clone(), 30)).collect();
            check_eq!(from_lane(claimed.clone()).await?, vec![ConflictLost; 4]);
            check_eq!(
                f.admin.watermark(&lane.topic, 3).await?,
                Some("lsn:30".to_string())
            );
            // ... and without a lane every event is looked up.
            check_eq!(f.apply(&claimed).await?, vec![Duplicate; 4]);
            Ok(())
        }
        .await;
        f.admin.drop_watermarks(&lane.topic).await?;
        result
    })
    .await
}

#[tokio::test]
async fn an_older_update_loses_and_a_newer_one_wins() -> Result<()> {
    both(|f| async move {
        check_eq!(
            f.apply(&[f.user(0, 0, f.at(0), "now@writer.test")?])
                .await?,
            vec![Applied]
        );
        let older = f.user(0, 0, f.at(-1), "older@writer.test")?;
        check_eq!(f.apply(&[older]).await?, vec![ConflictLost]);
        let row = f.user_row(0).await?.context("row kept")?;
        check_eq!(
            (row.text.as_str(), row.updated_at),
            ("now@writer.test", f.at(0))
        );
        let newer = f.user(0, 0, f.at(1), "newer@writer.test")?;
        check_eq!(f.apply(&[newer]).await?, vec![Applied]);
        let row = f.user_row(0).await?.context("row kept")?;
        check_eq!(
            (row.text.as_str(), row.updated_at),
            ("newer@writer.test", f.at(1))
        );
        check_eq!(row.source, "sync_service");
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_delete_leaves_a_tombstone_that_only_a_newer_version_passes() -> Result<()> {
    both(|f| async move {
        check_eq!(
            f.apply(&[f.user(0, 0, f.at(0), "d@writer.test")?]).await?,
            vec![Applied]
        );
        check_eq!(
            f.apply(&[f.delete("user", 0, f.at(0))?]).await?,
            vec![Applied]
        );
        check_eq!(f.user_row(0).await?, None);
        let tomb = f.tombstone("user", 0).await?.context("tombstone written")?;
        check_eq!(
            (tomb.row_updated_at, tomb.source.as_str()),
            (f.at(0), "sync_service")
        );

        let stale = f.user(0, 0, f.at(-1), "stale@writer.test")?;
        check_eq!(f.apply(&[stale]).await?, vec![ConflictLost]);
        check_eq!(f.user_row(0).await?, None);
        ensure!(
            f.tombstone("user", 0).await?.is_some(),
            "the tombstone stays"
        );

        let newer = f.user(0, 0, f.at(1), "back@writer.test")?;
        check_eq!(f.apply(&[newer]).await?, vec![Applied]);
        let row = f.user_row(0).await?.context("row back")?;
        check_eq!(
            (row.text.as_str(), row.updated_at),
            ("back@writer.test", f.at(1))
        );
        check_eq!(f.tombstone("user", 0).await?, None);
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_child_waits_for_its_parent_and_blocks_its_own_later_changes() -> Result<()> {
    both(|f| async move {
        let (create, update) = (f.post(1, 0, f.at(0))?, f.post(1, 0, f.at(1))?);
        let outcomes = f.apply(&[create.clone(), update.clone()]).await?;
        check_eq!(
            outcomes,
            vec![OpOutcome::ParentMissing(f.parent_user(0)), Blocked]
        );
        check_eq!(f.post_row(1).await?, None);

        check_eq!(
            f.apply(&[f.user(0, 0, f.at(0), "p@writer.test")?]).await?,
            vec![Applied]
        );
        // The wait left no ledger entry, so the retry applies rather than counting as a replay.
        check_eq!(f.apply(&[create, update]).await?, vec![Applied, Applied]);
        let post = f.post_row(1).await?.context("post written")?;
        check_eq!(
            (post.updated_at, post.source.as_str()),
            (f.at(1), "sync_service")
        );
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_child_of_a_deleted_parent_is_dropped() -> Result<()> {
    both(|f| async move {
        // The parent's delete arrives before its create ever did: remembered as a tombstone.
        check_eq!(
            f.apply(&[f.delete("user", 0, f.at(0))?]).await?,
            vec![Applied]
        );
        let tomb = f
            .tombstone("user", 0)
            .await?
            .context("tombstone for a row never seen")?;
        check_eq!(tomb.row_updated_at, f.at(0));
        let outcomes = f.apply(&[f.post(1, 0, f.at(1))?]).await?;
        check_eq!(outcomes, vec![OpOutcome::ParentDeleted(f.parent_user(0))]);
        check_eq!(f.post_row(1).await?, None);
        check_eq!(f.user_row(0).await?, None);
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_constraint_violation_fails_the_whole_batch_at_its_index() -> Result<()> {
    both(|f| async move {
        check_eq!(
            f.apply(&[f.user(0, 0, f.at(0), "a@writer.test")?]).await?,
            vec![Applied]
        );
        let fresh = f.user(1, 1, f.at(0), "b@writer.test")?;
        let same_name = f.user(2, 0, f.at(0), "c@writer.test")?;
        let Err(BatchError { index, error }) = f.target.apply(&[fresh.clone(), same_name]).await
        else {
            return Err(anyhow!("a duplicate username with another id was accepted"));
        };
        check_eq!(index, 1);
        check_eq!(error.reason(), DeadLetterReason::ConstraintViolation);
        check_eq!(f.user_row(1).await?, None);
        check_eq!(f.user_row(2).await?, None);
        // The ledger rolled back with the rows: the good op applies when sent again.
        check_eq!(f.apply(&[fresh]).await?, vec![Applied]);
        Ok(())
    })
    .await
}

/// Two consumers' batches that write one row: the second waits for the first's lock on it (a lock of its own, so
/// also on a row that does not exist yet) until the first commits, and a failed batch leaves no lock behind.
#[tokio::test]
async fn a_row_lock_passes_between_writers_at_commit_and_when_a_batch_fails() -> Result<()> {
    both(|f| async move {
        let dsn = common::sync_dsn(f.side);
        let other = Arc::new(Target::connect(&dsn, &f.mapping, &TargetOptions::default()).await?);
        let other_apply = |ops: Vec<RowOp>| {
            let other = other.clone();
            async move {
                other
                    .apply(&ops)
                    .await
                    .map_err(|BatchError { index, error }| anyhow!("op {index} failed: {error}"))
            }
        };
        let users = [
            f.user(0, 0, f.at(0), "a@writer.test")?,
            f.user(1, 1, f.at(0), "b@writer.test")?,
        ];
        check_eq!(f.apply(&users).await?, vec![Applied, Applied]);

        // The first batch takes the locks of new user 5 and of user 1, then waits for an application's lock on 1.
        let held = f.admin.hold_row(f.table("user"), f.id(1)).await?;
        let batch = vec![
            f.user(5, 5, f.at(1), "c@writer.test")?,
            f.user(1, 1, f.at(1), "b@writer.test")?,
        ];
        let first = tokio::spawn({
            let f = f.clone();
            async move { f.apply(&batch).await }
        });
        f.admin
            .until_waiting(LockWait::Row, f.table("user"), "the first batch")
            .await?;
        // The other writer's batch writes user 5 too, newer: it waits for the first batch's lock on that row.
        let second = tokio::spawn(other_apply(vec![f.user(5, 5, f.at(2), "d@writer.test")?]));
        f.admin
            .until_waiting(LockWait::Named, f.table("user"), "the second batch")
            .await?;
        ensure!(
            !first.is_finished() && !second.is_finished(),
            "a batch finished while waiting"
        );
        check_eq!(f.user_row(5).await?, None);
        held.release().await?;
        check_eq!(first.await??, vec![Applied, Applied]);
        check_eq!(second.await??, vec![Applied]);
        check_eq!(
            f.user_row(5).await?.context("user 5 written")?.updated_at,
            f.at(2)
        );

        // A batch that fails (user 6 takes user 0's name) leaves no lock on user 5: the other writer goes ahead at once
        // (a lock left behind would hold it for the whole lock wait, 10 s).
        let failing = [
            f.user(5, 5, f.at(3), "e@writer.test")?,
            f.user(6, 0, f.at(3), "f@writer.test")?,
        ];
        ensure!(
            f.target.apply(&failing).await.is_err(),
            "a duplicate username was accepted"
        );
        let next = other_apply(vec![f.user(5, 5, f.at(4), "g@writer.test")?]);
        let next = tokio::time::timeout(Duration::from_secs(5), next)
            .await
            .context("the failed batch's lock on user 5 was never released")?;
        check_eq!(next?, vec![Applied]);
        check_eq!(
            f.user_row(5).await?.context("user 5 written")?.updated_at,
            f.at(4)
        );
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_mapping_naming_a_missing_column_is_refused_at_connect() -> Result<()> {
    let text = std::fs::read_to_string(common::mapping_path())?;
    let broken = text.replace(
        r#"{ legacy = "email", revamp = "email_address" }"#,
        r#"{ legacy = "no_such_email", revamp = "no_such_email_address" }"#,
    );
    ensure!(
        broken != text,
        "default.toml no longer maps email as expected"
    );
    let path =
        std::env::temp_dir().join(format!("dbsync-writer-test-{}.toml", common::unique_tag()));
    std::fs::write(&path, broken)?;
    let mapping = Mapping::from_path(&path);
    std::fs::remove_file(&path)?;
    let mapping = mapping?;
    for (side, column) in [
        (Side::Legacy, "no_such_email"),
        (Side::Revamp, "no_such_email_address"),
    ] {
        let result =
            Target::connect(&common::sync_dsn(side), &mapping, &TargetOptions::default()).await;
        match result {
            Err(WriteError::Schema { entry, reason }) => {
                check_eq!(
                    entry,
                    format!("entities.user.columns[2] ({side} `{column}`)")
                );
                ensure!(
                    reason.contains(&format!("has no column `{column}`")),
                    "{side}: {reason}"
                );
            }
            Err(other) => return Err(anyhow!("{side}: expected a schema error, got {other}")),
            Ok(_) => {
                return Err(anyhow!(
                    "{side}: connected with a mapping naming a missing column"
                ))
            }
        }
    }
    Ok(())
}

#[tokio::test]
async fn pruning_removes_expired_rows_in_bounded_steps_and_keeps_fresh_ones() -> Result<()> {
    const EXPIRED: usize = 2_500;
    const LIMIT: u32 = 1_000;
    // Stamped long before the 10-year age below, so no other test's or consumer's rows are pruned with them.
    let long_ago = DateTime::parse_from_rfc3339("2001-01-01T00:00:00Z")?.with_timezone(&Utc);
    let age = std::time::Duration::from_secs(10 * 365 * 24 * 3600);
    both(|f| async move {
        let expired: Vec<Uuid> = (0..EXPIRED).map(|_| common::random_event_id()).collect();
        let fresh: Vec<Uuid> = (0..10).map(|_| common::random_event_id()).collect();
        f.events
            .lock()
            .unwrap()
            .extend(expired.iter().chain(&fresh));
        let (old_table, new_table) = (
            format!("prune_old_{}", f.tag),
            format!("prune_new_{}", f.tag),
        );
        let row_ids: Vec<i64> = (1..=EXPIRED as i64).collect();
        let result = async {
            f.admin.put_ledger(&expired, long_ago).await?;
            f.admin.put_ledger(&fresh, Utc::now()).await?;
            f.admin
                .put_tombstones(&old_table, &row_ids, long_ago)
                .await?;
            f.admin
                .put_tombstones(&new_table, &row_ids[..10], Utc::now())
                .await?;
            let mut steps = 0;
            loop {
                let step = f.target.prune(age, LIMIT).await?;
                steps += 1;
                ensure!(
                    step.ledger <= u64::from(LIMIT) && step.tombstones <= u64::from(LIMIT),
                    "step {steps} deleted more than {LIMIT} rows of a kind: {step:?}"
                );
                if !step.filled(LIMIT) {
                    break;
                }
                ensure!(steps < 20, "pruning did not finish in 20 steps");
            }
            ensure!(
                steps >= 3,
                "{EXPIRED} expired rows went in {steps} steps of {LIMIT}"
            );
            check_eq!(f.admin.count_ledger(&expired).await?, 0);
            check_eq!(f.admin.count_tombstones(&old_table).await?, 0);
            check_eq!(f.admin.count_ledger(&fresh).await?, fresh.len() as i64);
            check_eq!(f.admin.count_tombstones(&new_table).await?, 10);
            Ok(())
        }
        .await;
        f.admin.drop_tombstones(&old_table).await?;
        f.admin.drop_tombstones(&new_table).await?;
        result
    })
    .await
}

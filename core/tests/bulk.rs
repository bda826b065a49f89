//! The writer's bulk path (batches of 4 operations or more: one read, decisions in memory, multi-row writes) against
//! its sequential path (smaller batches: one statement at a time), on the real databases (`make up`), into
//! PostgreSQL (legacy side) and MariaDB (revamp side).
//!
//! Each case builds the same logical batch twice, on two disjoint halves of one random id block and with distinct
//! usernames and event ids: once applied as one batch (bulk path), once split into batches of at most 3 operations
//! (sequential path). Outcomes, the final rows of every synced table, the tombstones and the ledger must be equal
//! once ids are taken relative to each half. A tracing layer sees the writer's "bulk path failed" fallback, so a
//! case also proves the bulk path really decided (or, for a constraint violation, that the fallback pinned it).
//! Everything written is removed at the end (as admin, with the sync marker, so Debezium ignores it).

mod common;

use anyhow::{anyhow, ensure, Context, Result};
use chrono::{DateTime, NaiveDateTime, SubsecRound, TimeDelta, Utc};
use common::{check_eq, Admin, ID_BLOCK};
use dbsync_core::error::DeadLetterReason;
use dbsync_core::write::{BatchError, OpOutcome, Target, TargetOptions};
use dbsync_core::{transform, ChangeEvent, Mapping, Operation, RowOp, Side};
use serde_json::{json, Value};
use sqlx::{AssertSqlSafe, Row};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tracing_subscriber::layer::SubscriberExt;
use uuid::Uuid;

/// The sequential run's ids start this far into the block (the bulk run's at 0).
const HALF: i64 = ID_BLOCK / 2;

/// Largest batch the writer still applies one statement at a time (it goes bulk from 4 operations).
const SEQUENTIAL_MAX: usize = 3;

// ---------------------------------------------------------------------------------------------------------------
// Seeing the writer's fallback from the bulk path to the sequential one.

/// Collects the writer's "bulk path failed; applying one by one" debug events on this thread.
#[derive(Clone, Default)]
struct Fallbacks(Arc<Mutex<Vec<String>>>);

#[derive(Default)]
struct Fields {
    message: String,
    error: String,
}

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "error" => self.error = format!("{value:?}"),
            _ => {}
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Fallbacks {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        if fields.message.contains("bulk path failed") {
            self.0.lock().unwrap().push(fields.error);
        }
    }
}

impl Fallbacks {
    /// Starts watching this thread (`#[tokio::test]` runs the test on one thread).
    fn watch() -> (Self, tracing::subscriber::DefaultGuard) {
        let fallbacks = Fallbacks::default();
        let guard = tracing::subscriber::set_default(
            tracing_subscriber::registry().with(fallbacks.clone()),
        );
        (fallbacks, guard)
    }

    /// The fallbacks seen since the last call (their errors).
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

// ---------------------------------------------------------------------------------------------------------------
// One target side, one id block.

struct Fixture {
    side: Side,
    target: Target,
    admin: Admin,
    mapping: Mapping,
    base: i64,
    /// How many consecutive `ID_BLOCK`s from `base` the case uses.
    blocks: i64,
    t0: DateTime<Utc>,
    events: Mutex<Vec<Uuid>>,
    fallbacks: Fallbacks,
}

impl Fixture {
    async fn new(side: Side, blocks: i64, fallbacks: Fallbacks) -> Result<Arc<Self>> {
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
            blocks,
            t0: common::now_micros(),
            events: Mutex::new(Vec::new()),
            fallbacks,
        }))
    }

    /// The side the events come from.
    fn origin(&self) -> Side {
        self.side.other()
    }

    fn table(&self, entity: &str) -> &str {
        self.mapping
            .entity(entity)
            .expect("mapped")
            .table(self.side)
    }

    /// Applies one batch; a failure becomes an error naming the operation.
    async fn apply(&self, ops: &[RowOp]) -> Result<Vec<OpOutcome>> {
        self.target
            .apply(ops)
            .await
            .map_err(|BatchError { index, error }| anyhow!("op {index} failed: {error:?}"))
    }

    async fn cleanup(&self) -> Result<()> {
        let events = self.events.lock().unwrap().clone();
        for block in 0..self.blocks {
            let events: &[Uuid] = if block == 0 { &events } else { &[] };
            // MariaDB's cascade triggers can deadlock with any other writer of these tables (the cases here run
            // one at a time); each statement is idempotent, so the purge simply runs again.
            let mut attempt = 0;
            loop {
                attempt += 1;
                match self.admin.purge(self.base + block * ID_BLOCK, events).await {
                    Err(error) if attempt < 5 && is_deadlock(&error) => {
                        tokio::time::sleep(std::time::Duration::from_millis(100 * attempt)).await
                    }
                    other => break other?,
                }
            }
        }
        Ok(())
    }
}

const BOTH: &[Side] = &[Side::Legacy, Side::Revamp];

/// A deadlock (PostgreSQL 40P01, MySQL/MariaDB 1213 = SQLSTATE 40001).
fn is_deadlock(error: &anyhow::Error) -> bool {
    matches!(
        error.downcast_ref::<sqlx::Error>(),
        Some(sqlx::Error::Database(db)) if matches!(db.code().as_deref(), Some("40001" | "40P01"))
    )
}

/// Held by one case at a time. The cases write disjoint id blocks, but on MariaDB one case's statements could still
/// deadlock with another's running beside it (a clean-up's cascade triggers, an insert's duplicate-key check), and
/// the writer then falls back to the sequential path, which a comparison must not see (seen in CI: "1213 Deadlock
/// found" inserting into revamp_users).
static ONE_CASE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs `case` into each of `sides` (PostgreSQL is the legacy side, MariaDB the revamp side), using `blocks` id
/// blocks, cleaning up after each; one case at a time ([`ONE_CASE_AT_A_TIME`]).
async fn on<F, Fut>(sides: &[Side], blocks: i64, case: F) -> Result<()>
where
    F: Fn(Arc<Fixture>) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let _turn = ONE_CASE_AT_A_TIME.lock().await;
    let (fallbacks, _guard) = Fallbacks::watch();
    for &side in sides {
        let fixture = Fixture::new(side, blocks, fallbacks.clone()).await?;
        let result = case(fixture.clone()).await;
        let cleanup = fixture.cleanup().await;
        result.with_context(|| format!("writing into the {side} database"))?;
        cleanup.with_context(|| format!("cleaning up the {side} database"))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// Building one run's operations: ids relative to the run's first id, event ids by label.

/// A user's status and admin flag, or `None` for an event from before those columns existed (schema evolution:
/// the event lacks them, so an insert takes the target's defaults and an update keeps the stored values).
type Extra = Option<(&'static str, bool)>;
const ACTIVE: Extra = Some(("active", false));
const BANNED_ADMIN: Extra = Some(("banned", true));
const PARTIAL: Extra = None;

struct Run<'a> {
    f: &'a Fixture,
    /// The run's first id.
    first: i64,
    /// Makes the run's usernames unique.
    tag: String,
    /// Event ids by label: one label used twice is one event id (a replay).
    events: BTreeMap<String, Uuid>,
    /// Source commit time by label (the first event of a label), which the ledger must record.
    committed: BTreeMap<String, DateTime<Utc>>,
}

impl<'a> Run<'a> {
    fn new(f: &'a Fixture, offset: i64) -> Self {
        Run {
            f,
            first: f.base + offset,
            tag: common::unique_tag(),
            events: BTreeMap::new(),
            committed: BTreeMap::new(),
        }
    }

    fn id(&self, n: i64) -> i64 {
        self.first + n
    }

    fn at(&self, seconds: i64) -> DateTime<Utc> {
        self.f.t0 + TimeDelta::seconds(seconds)
    }

    /// A time as the origin's connector spells it: ISO text from PostgreSQL, epoch microseconds from MariaDB.
    fn time(&self, seconds: i64) -> Value {
        let at = self.at(seconds);
        match self.f.origin() {
            Side::Legacy => json!(at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()),
            Side::Revamp => json!(at.timestamp_micros()),
        }
    }

    fn event_id(&mut self, label: &str) -> Uuid {
        if let Some(id) = self.events.get(label) {
            return *id;
        }
        let id = common::random_event_id();
        self.events.insert(label.to_string(), id);
        self.f.events.lock().unwrap().push(id);
        id
    }

    /// The row operation `transform` makes of an event of the origin side.
    fn op(
        &mut self,
        label: &str,
        entity: &str,
        operation: Operation,
        n: i64,
        payload: Value,
    ) -> Result<RowOp> {
        // Microseconds, as both ledgers store them. A replay (the same label) is the same message, so it carries
        // its first copy's time, as a redelivered Debezium event does: both are the ledger's key.
        let timestamp = *self
            .committed
            .entry(label.to_string())
            .or_insert_with(|| Utc::now().trunc_subsecs(6));
        let event = ChangeEvent {
            event_id: self.event_id(label),
            entity_type: entity.to_string(),
            operation,
            primary_key: self.id(n),
            payload: payload
                .as_object()
                .cloned()
                .context("payload is an object")?,
            source: self.f.origin().as_str().to_string(),
            event_version: 1,
            timestamp,
            origin: self.f.origin(),
            snapshot: false,
            position: None,
        };
        Ok(transform(&event, &self.f.mapping)?)
    }

    /// User `n` named after `name` (so two users can share a name), at version `at` seconds.
    fn user_named(
        &mut self,
        label: &str,
        n: i64,
        name: i64,
        at: i64,
        email: &str,
        extra: Extra,
    ) -> Result<RowOp> {
        let (id, name, time) = (self.id(n), format!("b{}_{name}", self.tag), self.time(at));
        let mut payload = match self.f.origin() {
            Side::Legacy => {
                json!({"id": id, "username": name, "email": email, "full_name": "Bulk Test",
                "created_at": self.time(0), "updated_at": time, "source": "legacy"})
            }
            Side::Revamp => {
                json!({"id": id, "user_name": name, "email_address": email, "first_name": "Bulk",
                "last_name": "Test", "created_at": self.time(0), "updated_at": time, "source": "revamp"})
            }
        };
        if let Some((status, admin)) = extra {
            let fields = payload.as_object_mut().context("object")?;
            match self.f.origin() {
                Side::Legacy => {
                    fields.insert("status".into(), json!(status));
                    fields.insert("is_admin".into(), json!(admin));
                }
                Side::Revamp => {
                    let code = ["inactive", "active", "banned"]
                        .iter()
                        .position(|s| *s == status)
                        .context("known status")?;
                    fields.insert("status".into(), json!(code));
                    fields.insert("is_admin".into(), json!(i64::from(admin)));
                }
            }
        }
        self.op(label, "user", Operation::Update, n, payload)
    }

    fn user(&mut self, label: &str, n: i64, at: i64, email: &str, extra: Extra) -> Result<RowOp> {
        self.user_named(label, n, n, at, email, extra)
    }

    /// Post `n` by user `author`, at version `at` seconds.
    fn post(&mut self, label: &str, n: i64, author: i64, at: i64, title: &str) -> Result<RowOp> {
        let (id, author, time) = (self.id(n), self.id(author), self.time(at));
        let payload = match self.f.origin() {
            Side::Legacy => json!({"id": id, "author_id": author, "title": title, "body": "b",
                "state": "published", "created_at": self.time(0), "updated_at": time, "source": "legacy"}),
            Side::Revamp => json!({"id": id, "user_id": author, "headline": title, "content": "b",
                "status": "LIVE", "created_at": self.time(0), "updated_at": time, "source": "revamp"}),
        };
        self.op(label, "post", Operation::Create, n, payload)
    }

    /// Like `n` of user `user` on post `post`, at version `at` seconds.
    fn like(&mut self, label: &str, n: i64, user: i64, post: i64, at: i64) -> Result<RowOp> {
        let (id, user, post, time) = (self.id(n), self.id(user), self.id(post), self.time(at));
        let payload = match self.f.origin() {
            Side::Legacy => {
                json!({"id": id, "user_id": user, "post_id": post, "created_at": self.time(0),
                "updated_at": time, "source": "legacy"})
            }
            Side::Revamp => {
                json!({"id": id, "user_id": user, "post_id": post, "liked_at": self.time(0),
                "updated_at": time, "source": "revamp"})
            }
        };
        self.op(label, "like", Operation::Create, n, payload)
    }

    /// The origin's delete of `entity` row `n`, at `at` seconds (a decoded tombstone: when, and by whom).
    fn delete(&mut self, label: &str, entity: &str, n: i64, at: i64) -> Result<RowOp> {
        let payload = json!({"id": self.id(n), "updated_at": self.time(at),
            "source": self.f.origin().as_str()});
        self.op(label, entity, Operation::Delete, n, payload)
    }

    /// An outcome with the parent's id relative to the run.
    fn outcome(&self, outcome: &OpOutcome) -> String {
        match outcome {
            OpOutcome::ParentMissing(p) => {
                format!("ParentMissing({} #{})", p.entity, p.id - self.first)
            }
            OpOutcome::ParentDeleted(p) => {
                format!("ParentDeleted({} #{})", p.entity, p.id - self.first)
            }
            other => format!("{other:?}"),
        }
    }

    /// A stored value with the run's ids relative to its first id and its tag replaced.
    fn normalize(&self, value: Option<String>) -> String {
        match value {
            None => "NULL".to_string(),
            Some(text) => match text.parse::<i64>() {
                Ok(id) if (self.first..self.first + HALF).contains(&id) => {
                    format!("#{}", id - self.first)
                }
                _ => text.replace(&self.tag, "TAG"),
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Reading back, as admin: every column of every synced table, the tombstones and the ledger.

/// Rows as text, every column, one run's ids.
type Rows = Vec<Vec<(String, String)>>;

#[derive(Debug, PartialEq, Eq)]
struct State {
    /// Table → rows (ordered by id).
    tables: BTreeMap<String, Rows>,
    tombstones: Rows,
    /// Event label → in the ledger (with the event's source commit time: true).
    ledger: BTreeMap<String, Option<bool>>,
}

async fn columns(admin: &Admin, table: &str) -> Result<Vec<String>> {
    Ok(match admin {
        Admin::Legacy(pool) => sqlx::query(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        )
        .bind(table)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<Result<_, _>>()?,
        Admin::Revamp(pool) => sqlx::query(
            "SELECT CAST(column_name AS CHAR) FROM information_schema.columns \
             WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position",
        )
        .bind(table)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<Result<_, _>>()?,
    })
}

/// Every column as text of the rows `select` (ending in a WHERE clause with two id bounds) returns.
async fn rows_as_text(
    admin: &Admin,
    names: &[String],
    from_where: &str,
    order_by: &str,
    run: &Run<'_>,
) -> Result<Rows> {
    let (first, last) = (run.first, run.first + HALF - 1);
    let raw: Vec<Vec<Option<String>>> = match admin {
        Admin::Legacy(pool) => {
            let list: Vec<String> = names.iter().map(|c| format!("\"{c}\"::text")).collect();
            let sql = format!(
                "SELECT {} {from_where} ORDER BY {order_by}",
                list.join(", ")
            )
            .replacen('?', "$1", 1)
            .replacen('?', "$2", 1);
            let rows = sqlx::query(AssertSqlSafe(sql))
                .bind(first)
                .bind(last)
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| (0..names.len()).map(|i| r.try_get(i)).collect())
                .collect::<Result<_, _>>()?
        }
        Admin::Revamp(pool) => {
            let list: Vec<String> = names
                .iter()
                .map(|c| format!("CAST(`{c}` AS CHAR)"))
                .collect();
            let sql = format!(
                "SELECT {} {from_where} ORDER BY {order_by}",
                list.join(", ")
            );
            let rows = sqlx::query(AssertSqlSafe(sql))
                .bind(first)
                .bind(last)
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| (0..names.len()).map(|i| r.try_get(i)).collect())
                .collect::<Result<_, _>>()?
        }
    };
    Ok(raw
        .into_iter()
        .map(|row| {
            names
                .iter()
                .cloned()
                .zip(row.into_iter().map(|v| run.normalize(v)))
                .collect()
        })
        .collect())
}

/// The event's ledger row, if any: its recorded source commit time (null for none).
async fn in_ledger(admin: &Admin, id: Uuid) -> Result<Option<Option<DateTime<Utc>>>> {
    Ok(match admin {
        Admin::Legacy(pool) => sqlx::query(
            "SELECT source_committed_at FROM dbsync_applied_events WHERE event_id = $1::uuid",
        )
        .bind(id.to_string())
        .fetch_optional(pool)
        .await?
        .map(|row| row.try_get::<Option<DateTime<Utc>>, _>(0))
        .transpose()?,
        Admin::Revamp(pool) => {
            sqlx::query("SELECT source_committed_at FROM dbsync_applied_events WHERE event_id = ?")
                .bind(id.to_string())
                .fetch_optional(pool)
                .await?
                .map(|row| row.try_get::<Option<NaiveDateTime>, _>(0))
                .transpose()?
                .map(|at| at.map(|at| at.and_utc()))
        }
    })
}

async fn state(run: &Run<'_>) -> Result<State> {
    let admin = &run.f.admin;
    let mut tables = BTreeMap::new();
    for table in common::tables(run.f.side) {
        let names = columns(admin, table).await?;
        ensure!(names.iter().any(|n| n == "id"), "{table} has no id column");
        let from_where = format!("FROM {table} WHERE id BETWEEN ? AND ?");
        tables.insert(
            table.to_string(),
            rows_as_text(admin, &names, &from_where, "id", run).await?,
        );
    }
    let names: Vec<String> = [
        "table_name",
        "row_id",
        "row_updated_at",
        "row_source",
        "deleted_at",
        "source",
    ]
    .map(String::from)
    .to_vec();
    let from_where = "FROM dbsync_tombstones WHERE row_id BETWEEN ? AND ?";
    let tombstones = rows_as_text(admin, &names, from_where, "table_name, row_id", run).await?;
    let mut ledger = BTreeMap::new();
    for (label, id) in &run.events {
        let expected = run.committed.get(label).copied();
        let recorded = in_ledger(admin, *id).await?;
        ledger.insert(
            label.clone(),
            recorded.map(|at| at.is_some() && at == expected),
        );
    }
    Ok(State {
        tables,
        tombstones,
        ledger,
    })
}

// ---------------------------------------------------------------------------------------------------------------
// The comparison.

/// One logical case: rows set up beforehand (in small batches), the batch, how the sequential run splits it, and
/// the outcomes expected (so the case is known to reach the branches it is about).
struct Scenario {
    setup: Vec<Vec<RowOp>>,
    batch: Vec<RowOp>,
    /// Sizes of the sequential run's batches, each at most `SEQUENTIAL_MAX`.
    split: Vec<usize>,
    expected: Vec<&'static str>,
    /// Tombstones (entity, n) the database stamps with its own clock (a cascade's): their `deleted_at` is compared
    /// as present only.
    clock: Vec<(&'static str, i64)>,
}

/// Builds `build`'s scenario twice, applies it bulk on the first half of the id block and split on the second, and
/// compares outcomes and final state.
async fn compare(f: &Fixture, build: fn(&mut Run) -> Result<Scenario>) -> Result<()> {
    let mut bulk = Run::new(f, 0);
    let mut seq = Run::new(f, HALF);
    let (b, s) = (build(&mut bulk)?, build(&mut seq)?);
    ensure!(
        b.batch.len() > SEQUENTIAL_MAX,
        "the batch must take the bulk path"
    );
    ensure!(
        s.split.iter().all(|n| (1..=SEQUENTIAL_MAX).contains(n))
            && s.split.iter().sum::<usize>() == s.batch.len(),
        "the split must cover the batch in batches of at most {SEQUENTIAL_MAX}"
    );
    for (run, scenario) in [(&bulk, &b), (&seq, &s)] {
        for setup in &scenario.setup {
            ensure!(
                setup.len() <= SEQUENTIAL_MAX,
                "set-up batches stay sequential"
            );
            let outcomes = f.apply(setup).await.context("setting up")?;
            ensure!(
                outcomes.iter().all(|o| *o == OpOutcome::Applied),
                "set-up not applied: {outcomes:?} (first id {})",
                run.first
            );
        }
    }
    f.fallbacks.take();

    let outcomes = f.apply(&b.batch).await.context("the bulk run")?;
    let fallbacks = f.fallbacks.take();
    ensure!(
        fallbacks.is_empty(),
        "the bulk path fell back to the sequential one: {fallbacks:?}"
    );
    let bulk_outcomes: Vec<String> = outcomes.iter().map(|o| bulk.outcome(o)).collect();

    let mut seq_outcomes = Vec::new();
    let mut rest = s.batch.as_slice();
    for size in &s.split {
        let (chunk, tail) = rest.split_at(*size);
        let outcomes = f.apply(chunk).await.context("the sequential run")?;
        seq_outcomes.extend(outcomes.iter().map(|o| seq.outcome(o)));
        rest = tail;
    }
    check_eq!(f.fallbacks.take(), Vec::<String>::new());

    check_eq!(bulk_outcomes, seq_outcomes);
    check_eq!(bulk_outcomes, b.expected);
    let (mut bulk_state, mut seq_state) = (state(&bulk).await?, state(&seq).await?);
    for state in [&mut bulk_state, &mut seq_state] {
        for row in &mut state.tombstones {
            let (table, id) = (row[0].1.clone(), row[1].1.clone());
            if b.clock
                .iter()
                .any(|(e, n)| f.table(e) == table && format!("#{n}") == id)
            {
                row[4].1 = "(database clock)".to_string();
            }
        }
    }
    for (table, rows) in &bulk_state.tables {
        check_eq!((table, rows), (table, &seq_state.tables[table]));
    }
    check_eq!(bulk_state.tombstones, seq_state.tombstones);
    check_eq!(bulk_state.ledger, seq_state.ledger);
    ensure!(
        bulk_state.ledger.values().all(|v| v.is_none())
            || bulk_state.ledger.values().any(|v| *v == Some(true)),
        "no ledger row holds its event's source commit time: {:?}",
        bulk_state.ledger
    );
    ensure!(
        bulk_state.tables.values().any(|rows| !rows.is_empty()),
        "the case wrote no rows at all"
    );
    Ok(())
}

/// Runs `build`'s comparison into each of `sides`.
async fn equivalent(sides: &[Side], build: fn(&mut Run) -> Result<Scenario>) -> Result<()> {
    on(sides, 1, |f| async move { compare(&f, build).await }).await
}

// ---------------------------------------------------------------------------------------------------------------
// The scenarios, one branch (or a few) of the writer's decisions each, every batch of 4 operations or more.

/// Parents and children inserted in one batch, each parent before its children.
fn parents_before_children(r: &mut Run) -> Result<Scenario> {
    Ok(Scenario {
        clock: vec![],
        setup: vec![],
        batch: vec![
            r.user("u0", 0, 0, "u0@bulk.test", ACTIVE)?,
            r.post("p1", 1, 0, 0, "first")?,
            r.user("u2", 2, 0, "u2@bulk.test", BANNED_ADMIN)?,
            r.post("p3", 3, 2, 0, "second")?,
            r.like("l4", 4, 2, 1, 0)?,
            r.like("l5", 5, 0, 3, 1)?,
        ],
        split: vec![3, 3],
        expected: vec!["Applied"; 6],
    })
}

/// A child before its parent: it waits (nothing written, no ledger entry), its own later change is blocked, the
/// parent and the parent's other children still apply.
fn child_before_parent(r: &mut Run) -> Result<Scenario> {
    Ok(Scenario {
        clock: vec![],
        setup: vec![],
        batch: vec![
            r.post("p1a", 1, 0, 0, "child before parent")?,
            r.post("p1b", 1, 0, 1, "child before parent, again")?,
            r.user("u0", 0, 0, "u0@bulk.test", ACTIVE)?,
            r.post("p2", 2, 0, 0, "child after parent")?,
            r.like("l3", 3, 0, 1, 0)?,
        ],
        split: vec![3, 2],
        expected: vec![
            "ParentMissing(user #0)",
            "Blocked",
            "Applied",
            "Applied",
            "ParentMissing(post #1)",
        ],
    })
}

/// One new row inserted, updated, deleted and inserted again in one batch (the re-insert beats the delete).
fn insert_update_delete_reinsert(r: &mut Run) -> Result<Scenario> {
    Ok(Scenario {
        clock: vec![],
        setup: vec![],
        batch: vec![
            r.user("u0a", 0, 0, "u0a@bulk.test", ACTIVE)?,
            r.user("u0b", 0, 1, "u0b@bulk.test", BANNED_ADMIN)?,
            r.delete("d0", "user", 0, 2)?,
            r.user("u0c", 0, 3, "u0c@bulk.test", ACTIVE)?,
            r.post("p1", 1, 0, 3, "child of the re-inserted row")?,
        ],
        split: vec![3, 2],
        expected: vec!["Applied"; 5],
    })
}

/// One event twice in the batch, and an event id the ledger already holds: both are duplicates.
fn replays(r: &mut Run) -> Result<Scenario> {
    Ok(Scenario {
        clock: vec![],
        setup: vec![vec![r.user("seeded", 0, 0, "u0@bulk.test", ACTIVE)?]],
        batch: vec![
            r.user("u1", 1, 0, "u1@bulk.test", ACTIVE)?,
            r.user("u1", 1, 0, "u1@bulk.test", ACTIVE)?,
            r.user("seeded", 2, 0, "u2@bulk.test", ACTIVE)?,
            r.post("p3", 3, 1, 0, "after the replays")?,
            r.post("p3", 3, 1, 0, "after the replays")?,
        ],
        split: vec![2, 3],
        expected: vec!["Applied", "Duplicate", "Duplicate", "Applied", "Duplicate"],
    })
}

/// Versions that lose: an update and a delete older than the stored row, an upsert older than a tombstone.
fn conflicts_lost(r: &mut Run) -> Result<Scenario> {
    Ok(Scenario {
        clock: vec![],
        setup: vec![
            vec![r.user("u0", 0, 0, "u0@bulk.test", BANNED_ADMIN)?],
            // A user deleted (at 5 s) before it ever arrived.
            vec![r.delete("d1", "user", 1, 5)?],
        ],
        batch: vec![
            r.user("u0-old", 0, -1, "stale@bulk.test", ACTIVE)?,
            r.delete("d0-old", "user", 0, -5)?,
            r.user("u1-old", 1, 4, "u1@bulk.test", ACTIVE)?,
            r.user("u2", 2, 0, "u2@bulk.test", ACTIVE)?,
        ],
        split: vec![2, 2],
        expected: vec!["ConflictLost", "ConflictLost", "ConflictLost", "Applied"],
    })
}

/// Events lacking mapped columns (from before `status` and `is_admin` existed): a new row takes the target's
/// defaults, an update within the batch keeps what the batch wrote before.
fn partial_columns_on_new_rows(r: &mut Run) -> Result<Scenario> {
    Ok(Scenario {
        clock: vec![],
        setup: vec![],
        batch: vec![
            r.user("u0", 0, 0, "u0@bulk.test", PARTIAL)?,
            r.user("u1", 1, 0, "u1@bulk.test", BANNED_ADMIN)?,
            r.user("u1-partial", 1, 1, "u1partial@bulk.test", PARTIAL)?,
            r.post("p2", 2, 0, 0, "child of a partial row")?,
        ],
        split: vec![3, 1],
        expected: vec!["Applied"; 4],
    })
}

/// Newer updates of stored rows, with every column and with some missing (the stored values stay).
fn stored_rows_updated(r: &mut Run) -> Result<Scenario> {
    Ok(Scenario {
        clock: vec![],
        setup: vec![vec![
            r.user("u0", 0, 0, "u0@bulk.test", BANNED_ADMIN)?,
            r.user("u1", 1, 0, "u1@bulk.test", BANNED_ADMIN)?,
            r.post("p2", 2, 0, 0, "stored post")?,
        ]],
        batch: vec![
            r.user("u0-new", 0, 1, "u0new@bulk.test", ACTIVE)?,
            r.user("u1-partial", 1, 1, "u1partial@bulk.test", PARTIAL)?,
            r.post("p2-new", 2, 1, 1, "moved to another author")?,
            r.user("u3", 3, 0, "u3@bulk.test", ACTIVE)?,
        ],
        split: vec![2, 2],
        expected: vec!["Applied"; 4],
    })
}

/// Deletes and tombstones: a delete of a row that never arrived (tombstone written), deletes of stored rows, a
/// child of a tombstoned parent and a child of a parent deleted earlier in the batch (both dropped).
fn deletes_and_tombstones(r: &mut Run) -> Result<Scenario> {
    Ok(Scenario {
        clock: vec![],
        setup: vec![
            vec![
                r.user("u0", 0, 0, "u0@bulk.test", ACTIVE)?,
                r.user("u1", 1, 0, "u1@bulk.test", ACTIVE)?,
                r.post("p2", 2, 1, 0, "stored post")?,
            ],
            vec![r.delete("d3", "user", 3, 5)?],
        ],
        batch: vec![
            r.delete("d4", "post", 4, 0)?,
            r.delete("d2", "post", 2, 1)?,
            r.delete("d0", "user", 0, 1)?,
            r.post("p5", 5, 0, 2, "child of a parent deleted in the batch")?,
            r.post("p6", 6, 3, 6, "child of a tombstoned parent")?,
            r.user("u7", 7, 0, "u7@bulk.test", ACTIVE)?,
        ],
        split: vec![3, 3],
        expected: vec![
            "Applied",
            "Applied",
            "Applied",
            "ParentDeleted(user #0)",
            "ParentDeleted(user #3)",
            "Applied",
        ],
    })
}

/// Three updates of one shape and three deletes of one table: on MySQL each goes in one statement padded with a
/// repeated row or key to four, which must update and delete each row once (and count it once).
fn padded_updates_and_deletes(r: &mut Run) -> Result<Scenario> {
    let mut setup = vec![Vec::new(), Vec::new()];
    for i in 0..6 {
        let user = r.user(&format!("u{i}"), i, 0, &format!("u{i}@bulk.test"), ACTIVE)?;
        setup[i as usize / 3].push(user);
    }
    Ok(Scenario {
        clock: vec![],
        setup,
        batch: vec![
            r.user("u0-new", 0, 1, "u0new@bulk.test", ACTIVE)?,
            r.user("u1-new", 1, 1, "u1new@bulk.test", ACTIVE)?,
            r.user("u2-new", 2, 1, "u2new@bulk.test", ACTIVE)?,
            r.delete("d3", "user", 3, 1)?,
            r.delete("d4", "user", 4, 1)?,
            r.delete("d5", "user", 5, 1)?,
            r.user("u6", 6, 0, "u6@bulk.test", ACTIVE)?,
        ],
        split: vec![3, 3, 1],
        expected: vec!["Applied"; 7],
    })
}

/// A new row inserted, then deleted in the same batch: the tombstone keeps the deleted row's version.
fn insert_then_delete(r: &mut Run) -> Result<Scenario> {
    Ok(Scenario {
        clock: vec![],
        setup: vec![],
        batch: vec![
            r.user("u0", 0, 0, "u0@bulk.test", ACTIVE)?,
            r.delete("d0", "user", 0, 1)?,
            r.user("u1", 1, 0, "u1@bulk.test", ACTIVE)?,
            r.user("u2", 2, 0, "u2@bulk.test", ACTIVE)?,
        ],
        split: vec![2, 2],
        expected: vec!["Applied"; 4],
    })
}

/// A stored row deleted and inserted again by an event lacking some columns: the new row takes the target's
/// defaults for them, not the deleted row's values.
fn stored_row_reinserted_with_partial_columns(r: &mut Run) -> Result<Scenario> {
    Ok(Scenario {
        clock: vec![],
        setup: vec![vec![r.user("u0", 0, 0, "u0@bulk.test", BANNED_ADMIN)?]],
        batch: vec![
            r.delete("d0", "user", 0, 1)?,
            r.user("u0-again", 0, 2, "again@bulk.test", PARTIAL)?,
            r.user("u1", 1, 0, "u1@bulk.test", ACTIVE)?,
            r.user("u2", 2, 0, "u2@bulk.test", ACTIVE)?,
        ],
        split: vec![2, 2],
        expected: vec!["Applied"; 4],
    })
}

/// A stored parent with a stored child, deleted and inserted again: the delete takes the child with it (ON DELETE
/// CASCADE, leaving the child's tombstone), whatever comes after.
fn stored_parent_reinserted(r: &mut Run) -> Result<Scenario> {
    Ok(Scenario {
        clock: vec![("post", 1)],
        setup: vec![vec![
            r.user("u0", 0, 0, "u0@bulk.test", ACTIVE)?,
            r.post("p1", 1, 0, 0, "stored child")?,
        ]],
        batch: vec![
            r.delete("d0", "user", 0, 1)?,
            r.user("u0-again", 0, 2, "again@bulk.test", ACTIVE)?,
            r.user("u2", 2, 0, "u2@bulk.test", ACTIVE)?,
            r.user("u3", 3, 0, "u3@bulk.test", ACTIVE)?,
        ],
        split: vec![2, 2],
        expected: vec!["Applied"; 4],
    })
}

/// Everything above in one batch of 23 operations.
fn mixed(r: &mut Run) -> Result<Scenario> {
    let setup = vec![
        // A stored row for a stale update; its event id is the one replayed later ("already in the ledger").
        vec![r.user("seeded", 0, 0, "u0@bulk.test", ACTIVE)?],
        vec![r.user("u1", 1, 0, "u1@bulk.test", BANNED_ADMIN)?],
        // The delete of a user that never arrived: a tombstone at 5 s.
        vec![r.delete("d2-setup", "user", 2, 5)?],
        vec![r.user("u19", 19, 0, "u19@bulk.test", ACTIVE)?],
    ];
    let batch = vec![
        // A parent and its child, parent first; an update older than the stored row.
        r.user("u10", 10, 0, "u10@bulk.test", ACTIVE)?,
        r.post("p11", 11, 10, 0, "child after parent")?,
        r.user("u0-old", 0, -1, "stale@bulk.test", ACTIVE)?,
        // A child before its parent: waits, and its own later change is blocked; the parent still applies.
        r.post("p12a", 12, 13, 0, "child before parent")?,
        r.post("p12b", 12, 13, 1, "child before parent, again")?,
        r.user("u13", 13, 0, "u13@bulk.test", ACTIVE)?,
        // One row inserted, updated, deleted and inserted again.
        r.user("u14a", 14, 0, "u14a@bulk.test", ACTIVE)?,
        r.user("u14b", 14, 1, "u14b@bulk.test", BANNED_ADMIN)?,
        r.delete("u14c", "user", 14, 2)?,
        r.user("u14d", 14, 3, "u14d@bulk.test", ACTIVE)?,
        // A newer update of a stored row, replayed in the same batch.
        r.user("u1-new", 1, 1, "u1new@bulk.test", BANNED_ADMIN)?,
        r.user("u1-new", 1, 1, "u1new@bulk.test", BANNED_ADMIN)?,
        // An event id already in the ledger; an upsert older than a tombstone; a delete of a row never seen.
        r.user("seeded", 15, 0, "u15@bulk.test", ACTIVE)?,
        r.user("u2-stale", 2, 4, "u2@bulk.test", ACTIVE)?,
        r.delete("d16", "post", 16, 0)?,
        // A child of a tombstoned parent; partial columns (an event from before status and is_admin existed),
        // for a new row (target defaults) and for a stored one (stored values kept).
        r.post("p17", 17, 2, 6, "orphan")?,
        r.user("u18", 18, 0, "u18@bulk.test", PARTIAL)?,
        r.user("u1-partial", 1, 2, "u1partial@bulk.test", PARTIAL)?,
        // A parent deleted in the batch, then a child of it; a delete older than the stored row.
        r.delete("d19", "user", 19, 1)?,
        r.post("p20", 20, 19, 2, "child of a parent deleted in the batch")?,
        r.delete("d0-old", "user", 0, -5)?,
        // A row inserted and deleted in the batch.
        r.user("u21", 21, 0, "u21@bulk.test", ACTIVE)?,
        r.delete("d21", "user", 21, 1)?,
    ];
    Ok(Scenario {
        clock: vec![],
        setup,
        batch,
        split: vec![3, 3, 3, 3, 3, 3, 3, 2],
        expected: vec![
            "Applied",
            "Applied",
            "ConflictLost",
            "ParentMissing(user #13)",
            "Blocked",
            "Applied",
            "Applied",
            "Applied",
            "Applied",
            "Applied",
            "Applied",
            "Duplicate",
            "Duplicate",
            "ConflictLost",
            "Applied",
            "ParentDeleted(user #2)",
            "Applied",
            "Applied",
            "Applied",
            "ParentDeleted(user #19)",
            "ConflictLost",
            "Applied",
            "Applied",
        ],
    })
}

#[tokio::test]
async fn parents_before_children_in_one_batch() -> Result<()> {
    equivalent(BOTH, parents_before_children).await
}

#[tokio::test]
async fn a_child_before_its_parent_waits_and_blocks_its_row() -> Result<()> {
    equivalent(BOTH, child_before_parent).await
}

#[tokio::test]
async fn one_row_inserted_updated_deleted_and_inserted_again() -> Result<()> {
    equivalent(BOTH, insert_update_delete_reinsert).await
}

#[tokio::test]
async fn replays_within_the_batch_and_from_the_ledger() -> Result<()> {
    equivalent(BOTH, replays).await
}

#[tokio::test]
async fn older_versions_lose_to_stored_rows_and_tombstones() -> Result<()> {
    equivalent(BOTH, conflicts_lost).await
}

#[tokio::test]
async fn partial_columns_take_defaults_on_new_rows() -> Result<()> {
    equivalent(BOTH, partial_columns_on_new_rows).await
}

#[tokio::test]
async fn deletes_tombstones_and_children_of_deleted_parents() -> Result<()> {
    equivalent(BOTH, deletes_and_tombstones).await
}

#[tokio::test]
async fn newer_updates_of_stored_rows() -> Result<()> {
    equivalent(BOTH, stored_rows_updated).await
}

#[tokio::test]
async fn updates_and_deletes_written_by_padded_statements() -> Result<()> {
    equivalent(BOTH, padded_updates_and_deletes).await
}

#[tokio::test]
async fn a_new_row_inserted_and_deleted() -> Result<()> {
    equivalent(BOTH, insert_then_delete).await
}

#[tokio::test]
async fn a_stored_row_reinserted_with_partial_columns() -> Result<()> {
    equivalent(BOTH, stored_row_reinserted_with_partial_columns).await
}

#[tokio::test]
async fn a_stored_parent_deleted_and_reinserted_loses_its_children() -> Result<()> {
    equivalent(BOTH, stored_parent_reinserted).await
}

#[tokio::test]
async fn a_mixed_batch_of_every_case() -> Result<()> {
    equivalent(BOTH, mixed).await
}

/// A duplicate username (another id) in a bulk batch: the bulk path fails, the sequential one pins the failure
/// on that operation, and nothing of the batch is committed. Once against a stored row, once within the batch.
#[tokio::test]
async fn a_unique_violation_in_a_bulk_batch_fails_it_at_its_index_and_commits_nothing() -> Result<()>
{
    on(BOTH, 1, |f| async move {
        let mut r = Run::new(&f, 0);
        check_eq!(
            f.apply(&[r.user("u0", 0, 0, "u0@bulk.test", ACTIVE)?])
                .await?,
            vec![OpOutcome::Applied]
        );
        let batches = [
            (
                vec![
                    r.user("a1", 1, 0, "u1@bulk.test", ACTIVE)?,
                    r.post("a2", 2, 1, 0, "child of a rolled-back parent")?,
                    r.user_named("a3", 3, 0, 0, "taken@bulk.test", ACTIVE)?,
                    r.user("a4", 4, 0, "u4@bulk.test", ACTIVE)?,
                ],
                2,
            ),
            (
                vec![
                    r.user("b5", 5, 0, "u5@bulk.test", ACTIVE)?,
                    r.post("b6", 6, 5, 0, "child of a rolled-back parent")?,
                    r.user("b7", 7, 0, "u7@bulk.test", ACTIVE)?,
                    r.user_named("b8", 8, 5, 0, "taken@bulk.test", ACTIVE)?,
                    r.user("b9", 9, 0, "u9@bulk.test", ACTIVE)?,
                ],
                3,
            ),
        ];
        for (batch, expected) in batches {
            f.fallbacks.take();
            let Err(BatchError { index, error }) = f.target.apply(&batch).await else {
                return Err(anyhow!("a duplicate username with another id was accepted"));
            };
            check_eq!(index, expected);
            check_eq!(error.reason(), DeadLetterReason::ConstraintViolation);
            ensure!(
                error.is_unique_violation(),
                "not a unique violation: {error}"
            );
            check_eq!(f.fallbacks.take().len(), 1);
            let before = state(&r).await?;
            for (table, rows) in &before.tables {
                let ids: Vec<&str> = rows.iter().map(|row| row[0].1.as_str()).collect();
                let kept: &[&str] = if table == f.table("user") {
                    &["#0"]
                } else {
                    &[]
                };
                check_eq!((table, ids.as_slice()), (table, kept));
            }
            check_eq!(before.tombstones, Rows::new());
            let applied: Vec<&String> = before
                .ledger
                .iter()
                .filter_map(|(label, there)| there.is_some().then_some(label))
                .collect();
            check_eq!(applied, vec!["u0"]);
        }
        Ok(())
    })
    .await
}

/// 1,000 operations in one call, on the bulk path: 300 users, 300 posts, 200 likes, and 200 updates of users
/// inserted earlier in the batch.
#[tokio::test]
async fn a_thousand_operations_apply_in_one_call() -> Result<()> {
    on(BOTH, 8, |f| async move {
        let mut r = Run::new(&f, 0);
        let mut batch = Vec::with_capacity(1000);
        for n in 0..300 {
            batch.push(r.user(&format!("u{n}"), n, 0, "many@bulk.test", ACTIVE)?);
        }
        for n in 300..600 {
            batch.push(r.post(&format!("p{n}"), n, n - 300, 0, "many")?);
        }
        for n in 0..200 {
            batch.push(r.user(&format!("v{n}"), n, 1, "updated@bulk.test", BANNED_ADMIN)?);
        }
        for n in 600..800 {
            batch.push(r.like(&format!("l{n}"), n, n - 600, n - 300, 0)?);
        }
        check_eq!(batch.len(), 1000);
        f.fallbacks.take();
        let started = Instant::now();
        let outcomes = f.apply(&batch).await?;
        let elapsed = started.elapsed();
        println!(
            "{}: 1,000 operations applied in one call in {:.1} ms",
            f.side,
            elapsed.as_secs_f64() * 1000.0
        );
        check_eq!(f.fallbacks.take(), Vec::<String>::new());
        ensure!(
            outcomes.iter().all(|o| *o == OpOutcome::Applied),
            "not all applied: {:?}",
            outcomes.iter().find(|o| **o != OpOutcome::Applied)
        );
        let (first, last) = (r.id(0), r.id(799));
        let count = |sql: String| {
            let admin = &f.admin;
            async move {
                Ok::<i64, anyhow::Error>(match admin {
                    Admin::Legacy(pool) => {
                        let sql = sql.replacen('?', "$1", 1).replacen('?', "$2", 1);
                        sqlx::query_scalar(AssertSqlSafe(sql))
                            .bind(first)
                            .bind(last)
                            .fetch_one(pool)
                            .await?
                    }
                    Admin::Revamp(pool) => {
                        sqlx::query_scalar(AssertSqlSafe(sql))
                            .bind(first)
                            .bind(last)
                            .fetch_one(pool)
                            .await?
                    }
                })
            }
        };
        let email = match f.side {
            Side::Legacy => "email",
            Side::Revamp => "email_address",
        };
        for (entity, filter, expected) in [
            ("user", format!("{email} = 'updated@bulk.test'"), 200),
            ("user", "TRUE".to_string(), 300),
            ("post", "TRUE".to_string(), 300),
            ("like", "TRUE".to_string(), 200),
        ] {
            let table = f.table(entity);
            let sql = format!("SELECT COUNT(*) FROM {table} WHERE id BETWEEN ? AND ? AND {filter}");
            check_eq!((table, count(sql).await?), (table, expected));
        }
        let mut in_ledger_count = 0;
        for id in r.events.values() {
            in_ledger_count += i32::from(in_ledger(&f.admin, *id).await?.is_some());
        }
        check_eq!(in_ledger_count, 1000);
        Ok(())
    })
    .await
}

//! The error classifier against real database errors (`make up`): each case provokes one error on PostgreSQL or
//! MariaDB through the sync service's own account (or an account that does not exist) and checks the class
//! `WriteError::from_sqlx` gives it. Nothing is committed: locks are held by transactions on the ledger table that
//! are rolled back, and read-only checks run statements that match no row.

mod common;

use anyhow::{ensure, Context, Result};
use common::check_eq;
use dbsync_core::error::{DeadLetterReason, ErrorClass};
use dbsync_core::write::WriteError;
use dbsync_core::Side;
use sqlx::mysql::MySqlDatabaseError;
use sqlx::pool::{PoolConnection, PoolOptions};
use sqlx::postgres::PgDatabaseError;
use sqlx::query::Query;
use sqlx::{Database, Executor, IntoArguments, MySql, Pool, Postgres};
use std::time::Duration;

/// What differs between the engines in these tests: how messages name it, its side and its ledger insert. The
/// bodies shared by both engines are written once, over this trait.
trait Engine: Database<Arguments: IntoArguments<Self>> {
    /// The engine as messages name it.
    const ENGINE: &'static str;
    /// The side it serves.
    const SIDE: Side;

    /// The insert of ledger row `id`.
    fn insert_ledger(id: &str) -> Query<'static, Self, Self::Arguments>;

    /// `conn` as an executor (sqlx cannot say it for every database at once).
    fn on(conn: &mut Self::Connection) -> impl Executor<'_, Database = Self>;
}

/// Implements [`Engine`] for the sqlx driver `$db`; `$insert` inserts one ledger row, its id bound as text (one
/// source commit time for all, so that the same id is the same key).
macro_rules! engine {
    ($db:ty, $engine:literal, $side:expr, $insert:literal) => {
        impl Engine for $db {
            const ENGINE: &'static str = $engine;
            const SIDE: Side = $side;

            fn insert_ledger(id: &str) -> Query<'static, Self, Self::Arguments> {
                sqlx::query($insert).bind(id.to_string())
            }

            fn on(conn: &mut Self::Connection) -> impl Executor<'_, Database = Self> {
                conn
            }
        }
    };
}

engine!(
    Postgres,
    "PostgreSQL",
    Side::Legacy,
    "INSERT INTO dbsync_applied_events (event_id, source_committed_at) VALUES ($1::uuid, '2026-01-01 00:00:00+00')"
);
engine!(
    MySql,
    "MariaDB",
    Side::Revamp,
    "INSERT INTO dbsync_applied_events (event_id, source_committed_at) VALUES (?, '2026-01-01 00:00:00')"
);

/// A pool of the sync service's account on `DB` (one per test: session settings stay with it).
async fn sync_pool<DB: Engine>() -> Result<Pool<DB>> {
    PoolOptions::<DB>::new()
        .max_connections(2)
        .connect(&common::sync_dsn(DB::SIDE))
        .await
        .with_context(|| {
            format!(
                "connecting as the sync account to {} (is the stack up? `make up`)",
                DB::ENGINE
            )
        })
}

/// A pool of the admin account on `DB`.
async fn admin<DB: Engine>() -> Result<Pool<DB>> {
    let dsn = common::admin_dsn(DB::SIDE);
    Pool::<DB>::connect(&dsn)
        .await
        .with_context(|| format!("connecting as admin to {dsn} (is the stack up? `make up`)"))
}

/// The MariaDB error number and SQLSTATE of `error`.
fn mysql_code(error: &sqlx::Error) -> Option<(u16, String)> {
    let db = error.as_database_error()?;
    let mysql = db.try_downcast_ref::<MySqlDatabaseError>()?;
    Some((mysql.number(), mysql.code().unwrap_or_default().to_string()))
}

/// The PostgreSQL SQLSTATE of `error`.
fn pg_code(error: &sqlx::Error) -> Option<String> {
    let db = error.as_database_error()?;
    Some(db.try_downcast_ref::<PgDatabaseError>()?.code().to_string())
}

/// `error` as the writer wraps it, checked to be of `class`.
fn classified(error: sqlx::Error, class: ErrorClass) -> Result<WriteError> {
    let label = format!("{error:?}");
    let error = WriteError::from_sqlx("test", error);
    ensure!(
        error.class() == class,
        "{label} is {:?}, expected {class:?}",
        error.class()
    );
    check_eq!(error.is_unavailable(), class == ErrorClass::Unavailable);
    check_eq!(error.is_transient(), class != ErrorClass::Poison);
    Ok(error)
}

/// `dsn` with another user and password.
fn with_account(dsn: &str, user: &str, password: &str) -> Result<String> {
    let (scheme, rest) = dsn.split_once("://").context("a DSN has a scheme")?;
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    Ok(format!("{scheme}://{user}:{password}@{host}"))
}

/// An admin transaction holds a new ledger row while a sync session, after `setting`, inserts the same row: the sync
/// session's error, and its connection.
async fn held_row_error<DB: Engine>(
    setting: &'static str,
) -> Result<(sqlx::Error, PoolConnection<DB>)> {
    let (admin, sync) = (admin::<DB>().await?, sync_pool::<DB>().await?);
    let id = common::random_event_id().to_string();
    let mut holder = admin.begin().await?;
    DB::insert_ledger(&id).execute(DB::on(&mut holder)).await?;
    let mut waiter = sync.acquire().await?;
    DB::on(&mut waiter).execute(setting).await?;
    let outcome = DB::insert_ledger(&id).execute(DB::on(&mut waiter)).await;
    holder.rollback().await?;
    let error = outcome
        .err()
        .context("the insert did not wait for the held row")?;
    Ok((error, waiter))
}

/// Two sync sessions insert two ledger rows in opposite orders: the error of the one the database picks as the
/// deadlock victim.
async fn deadlock_victim<DB: Engine>() -> Result<sqlx::Error> {
    let sync = sync_pool::<DB>().await?;
    let (a, b) = (
        common::random_event_id().to_string(),
        common::random_event_id().to_string(),
    );
    let (mut one, mut two) = (sync.begin().await?, sync.begin().await?);
    DB::insert_ledger(&a).execute(DB::on(&mut one)).await?;
    DB::insert_ledger(&b).execute(DB::on(&mut two)).await?;
    let (first, second) = tokio::join!(DB::insert_ledger(&b).execute(DB::on(&mut one)), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        DB::insert_ledger(&a).execute(DB::on(&mut two)).await
    });
    let (first, second) = (first.err(), second.err());
    one.rollback().await?;
    two.rollback().await?;
    first
        .or(second)
        .with_context(|| format!("{} chose no deadlock victim", DB::ENGINE))
}

/// The error of connecting to `DB` as an account that does not exist.
async fn wrong_password_error<DB: Engine>() -> Result<sqlx::Error> {
    let dsn = with_account(&common::sync_dsn(DB::SIDE), "dbsync_no_such_user", "wrong")?;
    PoolOptions::<DB>::new()
        .acquire_timeout(Duration::from_secs(10))
        .connect(&dsn)
        .await
        .err()
        .with_context(|| format!("{} accepted a wrong password", DB::ENGINE))
}

/// A sync session of `DB` that `kill` ends through the admin pool (as an administrator's kill or a failover would):
/// the error of its next statement.
async fn killed_session_error<DB: Engine>(
    kill: impl AsyncFnOnce(&Pool<DB>, &mut DB::Connection) -> Result<()>,
) -> Result<sqlx::Error> {
    let (admin, sync) = (admin::<DB>().await?, sync_pool::<DB>().await?);
    let mut conn = sync.acquire().await?;
    kill(&admin, &mut conn).await?;
    DB::on(&mut conn)
        .execute("SELECT 1")
        .await
        .err()
        .with_context(|| format!("a killed {} session answered", DB::ENGINE))
}

/// One transaction inserts the same new ledger row twice: the second insert's error.
async fn duplicate_key_error<DB: Engine>() -> Result<sqlx::Error> {
    let sync = sync_pool::<DB>().await?;
    let id = common::random_event_id().to_string();
    let mut tx = sync.begin().await?;
    DB::insert_ledger(&id).execute(DB::on(&mut tx)).await?;
    let outcome = DB::insert_ledger(&id).execute(DB::on(&mut tx)).await;
    tx.rollback().await?;
    outcome
        .err()
        .with_context(|| format!("{} took a duplicate key", DB::ENGINE))
}

/// README, "How it stays correct: Poison does not stop the line": 1205 has SQLSTATE HY000 like many unrelated
/// errors; the number makes it transient.
#[tokio::test]
async fn mariadb_lock_wait_timeout_is_transient() -> Result<()> {
    let (error, _) = held_row_error::<MySql>("SET SESSION innodb_lock_wait_timeout = 1").await?;
    check_eq!(mysql_code(&error), Some((1205, "HY000".to_string())));
    let error = classified(error, ErrorClass::Transient)?;
    ensure!(error
        .cause()
        .is_some_and(|c| c.contains("ER_LOCK_WAIT_TIMEOUT")));
    Ok(())
}

#[tokio::test]
async fn postgres_lock_timeout_and_statement_timeout_are_transient() -> Result<()> {
    let (error, mut waiter) = held_row_error::<Postgres>("SET lock_timeout = '300ms'").await?;
    check_eq!(pg_code(&error), Some("55P03".to_string()));
    classified(error, ErrorClass::Transient)?;

    waiter.execute("SET statement_timeout = '100ms'").await?;
    let error = waiter
        .execute("SELECT pg_sleep(5)")
        .await
        .err()
        .context("pg_sleep outlived statement_timeout")?;
    check_eq!(pg_code(&error), Some("57014".to_string()));
    classified(error, ErrorClass::Transient)?;
    Ok(())
}

/// Two sync sessions insert two ledger rows in opposite orders: the database picks a victim, which is transient.
#[tokio::test]
async fn deadlocks_are_transient_on_both_engines() -> Result<()> {
    let victim = deadlock_victim::<MySql>().await?;
    check_eq!(mysql_code(&victim).map(|c| c.0), Some(1213));
    classified(victim, ErrorClass::Transient)?;

    let victim = deadlock_victim::<Postgres>().await?;
    check_eq!(pg_code(&victim), Some("40P01".to_string()));
    classified(victim, ErrorClass::Transient)?;
    Ok(())
}

/// A read-only server (a standby after failover) fails every write: an outage, not poison.
#[tokio::test]
async fn read_only_is_an_outage_on_both_engines() -> Result<()> {
    let sync = sync_pool::<Postgres>().await?;
    let mut conn = sync.acquire().await?;
    conn.execute("SET default_transaction_read_only = on")
        .await?;
    let error = conn
        .execute("UPDATE legacy_users SET source = source WHERE false")
        .await
        .err()
        .context("a read-only session wrote")?;
    check_eq!(pg_code(&error), Some("25006".to_string()));
    let error = classified(error, ErrorClass::Unavailable)?;
    ensure!(matches!(error, WriteError::Unavailable { .. }));
    check_eq!(error.reason(), DeadLetterReason::TargetUnavailable);

    let sync = sync_pool::<MySql>().await?;
    let mut tx = sync.begin_with("START TRANSACTION READ ONLY").await?;
    let error = tx
        .execute("UPDATE revamp_users SET source = source WHERE 1 = 0")
        .await
        .err()
        .context("a read-only transaction wrote")?;
    tx.rollback().await?;
    check_eq!(mysql_code(&error), Some((1792, "25006".to_string())));
    classified(error, ErrorClass::Unavailable)?;
    Ok(())
}

/// A rejected password (a rotated credential) is an outage. An account that does not exist gets the same error as a
/// wrong password on both engines, and trying it cannot lock the shared sync account.
#[tokio::test]
async fn a_rejected_password_is_an_outage_on_both_engines() -> Result<()> {
    let error = wrong_password_error::<Postgres>().await?;
    check_eq!(pg_code(&error), Some("28P01".to_string()));
    let error = classified(error, ErrorClass::Unavailable)?;
    ensure!(error.cause().is_some_and(|c| c.contains("28P01")));

    let error = wrong_password_error::<MySql>().await?;
    check_eq!(mysql_code(&error), Some((1045, "28000".to_string())));
    let error = classified(error, ErrorClass::Unavailable)?;
    ensure!(error
        .cause()
        .is_some_and(|c| c.contains("ER_ACCESS_DENIED_ERROR")));
    Ok(())
}

/// A session the server ends (an administrator's kill, a failover) is an outage whatever form the error takes:
/// PostgreSQL sends 57P01 admin_shutdown, MariaDB closes the socket.
#[tokio::test]
async fn a_killed_session_is_an_outage_on_both_engines() -> Result<()> {
    let error = killed_session_error::<Postgres>(async |admin, conn| {
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut *conn)
            .await?;
        sqlx::query("SELECT pg_terminate_backend($1)")
            .bind(pid)
            .execute(admin)
            .await?;
        Ok(())
    })
    .await?;
    check_eq!(pg_code(&error), Some("57P01".to_string()));
    classified(error, ErrorClass::Unavailable)?;

    let error = killed_session_error::<MySql>(async |admin, conn| {
        let id: u64 = sqlx::query_scalar("SELECT CONNECTION_ID()")
            .fetch_one(&mut *conn)
            .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("KILL {id}")))
            .execute(admin)
            .await?;
        Ok(())
    })
    .await?;
    // MariaDB closes the socket: an I/O error, no error number.
    classified(error, ErrorClass::Unavailable)?;
    Ok(())
}

/// A duplicate key is poison (it is first waited on as a row conflict by the consumer, not retried as transient).
#[tokio::test]
async fn a_duplicate_key_is_poison_on_both_engines() -> Result<()> {
    let error = duplicate_key_error::<Postgres>().await?;
    check_eq!(pg_code(&error), Some("23505".to_string()));
    let error = classified(error, ErrorClass::Poison)?;
    ensure!(error.is_row_conflict());
    check_eq!(error.reason(), DeadLetterReason::ConstraintViolation);

    let error = duplicate_key_error::<MySql>().await?;
    check_eq!(mysql_code(&error).map(|c| c.0), Some(1062));
    let error = classified(error, ErrorClass::Poison)?;
    ensure!(error.is_row_conflict());
    Ok(())
}

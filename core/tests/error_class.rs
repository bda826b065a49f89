//! The error classifier against real database errors (`make up`): each case provokes one error on PostgreSQL or
//! MariaDB through the sync service's own account (or an account that does not exist) and checks the class
//! `WriteError::from_sqlx` gives it. Nothing is committed: locks are held by transactions on the ledger table that
//! are rolled back, and read-only checks run statements that match no row.

mod common;

use anyhow::{bail, ensure, Context, Result};
use common::{check_eq, Admin};
use dbsync_core::error::{DeadLetterReason, ErrorClass};
use dbsync_core::write::WriteError;
use dbsync_core::Side;
use sqlx::mysql::{MySqlDatabaseError, MySqlPoolOptions};
use sqlx::postgres::{PgDatabaseError, PgPoolOptions};
use sqlx::{Executor, MySqlPool, PgPool};
use std::time::Duration;

/// A pool of the sync service's account on `side` (one per test: session settings stay with it).
async fn sync_pool_pg() -> Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(2)
        .connect(&common::sync_dsn(Side::Legacy))
        .await
        .context("connecting as the sync account to PostgreSQL (is the stack up? `make up`)")
}

async fn sync_pool_mysql() -> Result<MySqlPool> {
    MySqlPoolOptions::new()
        .max_connections(2)
        .connect(&common::sync_dsn(Side::Revamp))
        .await
        .context("connecting as the sync account to MariaDB (is the stack up? `make up`)")
}

async fn admin_pg() -> Result<PgPool> {
    match Admin::connect(Side::Legacy).await? {
        Admin::Legacy(pool) => Ok(pool),
        Admin::Revamp(_) => bail!("expected a PostgreSQL admin pool"),
    }
}

async fn admin_mysql() -> Result<MySqlPool> {
    match Admin::connect(Side::Revamp).await? {
        Admin::Revamp(pool) => Ok(pool),
        Admin::Legacy(_) => bail!("expected a MariaDB admin pool"),
    }
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

const LEDGER_INSERT_PG: &str = "INSERT INTO dbsync_applied_events (event_id) VALUES ($1::uuid)";
const LEDGER_INSERT_MYSQL: &str = "INSERT INTO dbsync_applied_events (event_id) VALUES (?)";

/// README, "How it stays correct: Poison does not stop the line": 1205 has SQLSTATE HY000 like many unrelated
/// errors; the number makes it transient.
#[tokio::test]
async fn mariadb_lock_wait_timeout_is_transient() -> Result<()> {
    let (admin, sync) = (admin_mysql().await?, sync_pool_mysql().await?);
    let id = common::random_event_id().to_string();
    let mut holder = admin.begin().await?;
    sqlx::query(LEDGER_INSERT_MYSQL)
        .bind(&id)
        .execute(&mut *holder)
        .await?;
    let mut waiter = sync.acquire().await?;
    waiter
        .execute("SET SESSION innodb_lock_wait_timeout = 1")
        .await?;
    let outcome = sqlx::query(LEDGER_INSERT_MYSQL)
        .bind(&id)
        .execute(&mut *waiter)
        .await;
    holder.rollback().await?;
    let error = outcome
        .err()
        .context("the insert did not wait for the held row")?;
    check_eq!(mysql_code(&error), Some((1205, "HY000".to_string())));
    let error = classified(error, ErrorClass::Transient)?;
    ensure!(error
        .cause()
        .is_some_and(|c| c.contains("ER_LOCK_WAIT_TIMEOUT")));
    Ok(())
}

#[tokio::test]
async fn postgres_lock_timeout_and_statement_timeout_are_transient() -> Result<()> {
    let (admin, sync) = (admin_pg().await?, sync_pool_pg().await?);
    let id = common::random_event_id().to_string();
    let mut holder = admin.begin().await?;
    sqlx::query(LEDGER_INSERT_PG)
        .bind(&id)
        .execute(&mut *holder)
        .await?;
    let mut waiter = sync.acquire().await?;
    waiter.execute("SET lock_timeout = '300ms'").await?;
    let outcome = sqlx::query(LEDGER_INSERT_PG)
        .bind(&id)
        .execute(&mut *waiter)
        .await;
    holder.rollback().await?;
    let error = outcome
        .err()
        .context("the insert did not wait for the held row")?;
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
    let sync = sync_pool_mysql().await?;
    let (a, b) = (
        common::random_event_id().to_string(),
        common::random_event_id().to_string(),
    );
    let (mut one, mut two) = (sync.begin().await?, sync.begin().await?);
    sqlx::query(LEDGER_INSERT_MYSQL)
        .bind(&a)
        .execute(&mut *one)
        .await?;
    sqlx::query(LEDGER_INSERT_MYSQL)
        .bind(&b)
        .execute(&mut *two)
        .await?;
    let (first, second) = tokio::join!(
        sqlx::query(LEDGER_INSERT_MYSQL).bind(&b).execute(&mut *one),
        async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            sqlx::query(LEDGER_INSERT_MYSQL)
                .bind(&a)
                .execute(&mut *two)
                .await
        }
    );
    let (first, second) = (first.err(), second.err());
    one.rollback().await?;
    two.rollback().await?;
    let victim = first
        .or(second)
        .context("MariaDB chose no deadlock victim")?;
    check_eq!(mysql_code(&victim).map(|c| c.0), Some(1213));
    classified(victim, ErrorClass::Transient)?;

    let sync = sync_pool_pg().await?;
    let (a, b) = (
        common::random_event_id().to_string(),
        common::random_event_id().to_string(),
    );
    let (mut one, mut two) = (sync.begin().await?, sync.begin().await?);
    sqlx::query(LEDGER_INSERT_PG)
        .bind(&a)
        .execute(&mut *one)
        .await?;
    sqlx::query(LEDGER_INSERT_PG)
        .bind(&b)
        .execute(&mut *two)
        .await?;
    let (first, second) = tokio::join!(
        sqlx::query(LEDGER_INSERT_PG).bind(&b).execute(&mut *one),
        async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            sqlx::query(LEDGER_INSERT_PG)
                .bind(&a)
                .execute(&mut *two)
                .await
        }
    );
    let (first, second) = (first.err(), second.err());
    one.rollback().await?;
    two.rollback().await?;
    let victim = first
        .or(second)
        .context("PostgreSQL chose no deadlock victim")?;
    check_eq!(pg_code(&victim), Some("40P01".to_string()));
    classified(victim, ErrorClass::Transient)?;
    Ok(())
}

/// A read-only server (a standby after failover) fails every write: an outage, not poison.
#[tokio::test]
async fn read_only_is_an_outage_on_both_engines() -> Result<()> {
    let sync = sync_pool_pg().await?;
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

    let sync = sync_pool_mysql().await?;
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
    let dsn = with_account(
        &common::sync_dsn(Side::Legacy),
        "dbsync_no_such_user",
        "wrong",
    )?;
    let error = PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(10))
        .connect(&dsn)
        .await
        .err()
        .context("PostgreSQL accepted a wrong password")?;
    check_eq!(pg_code(&error), Some("28P01".to_string()));
    let error = classified(error, ErrorClass::Unavailable)?;
    ensure!(error.cause().is_some_and(|c| c.contains("28P01")));

    let dsn = with_account(
        &common::sync_dsn(Side::Revamp),
        "dbsync_no_such_user",
        "wrong",
    )?;
    let error = MySqlPoolOptions::new()
        .acquire_timeout(Duration::from_secs(10))
        .connect(&dsn)
        .await
        .err()
        .context("MariaDB accepted a wrong password")?;
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
    let (admin, sync) = (admin_pg().await?, sync_pool_pg().await?);
    let mut conn = sync.acquire().await?;
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .execute(&admin)
        .await?;
    let error = conn
        .execute("SELECT 1")
        .await
        .err()
        .context("a terminated PostgreSQL session answered")?;
    check_eq!(pg_code(&error), Some("57P01".to_string()));
    classified(error, ErrorClass::Unavailable)?;

    let (admin, sync) = (admin_mysql().await?, sync_pool_mysql().await?);
    let mut conn = sync.acquire().await?;
    let id: u64 = sqlx::query_scalar("SELECT CONNECTION_ID()")
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("KILL {id}")))
        .execute(&admin)
        .await?;
    let error = conn
        .execute("SELECT 1")
        .await
        .err()
        .context("a killed MariaDB session answered")?;
    // MariaDB closes the socket: an I/O error, no error number.
    classified(error, ErrorClass::Unavailable)?;
    Ok(())
}

/// A duplicate key is poison (it is first waited on as a row conflict by the consumer, not retried as transient).
#[tokio::test]
async fn a_duplicate_key_is_poison_on_both_engines() -> Result<()> {
    let sync = sync_pool_pg().await?;
    let id = common::random_event_id().to_string();
    let mut tx = sync.begin().await?;
    sqlx::query(LEDGER_INSERT_PG)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    let outcome = sqlx::query(LEDGER_INSERT_PG)
        .bind(&id)
        .execute(&mut *tx)
        .await;
    tx.rollback().await?;
    let error = outcome.err().context("PostgreSQL took a duplicate key")?;
    check_eq!(pg_code(&error), Some("23505".to_string()));
    let error = classified(error, ErrorClass::Poison)?;
    ensure!(error.is_row_conflict());
    check_eq!(error.reason(), DeadLetterReason::ConstraintViolation);

    let sync = sync_pool_mysql().await?;
    let id = common::random_event_id().to_string();
    let mut tx = sync.begin().await?;
    sqlx::query(LEDGER_INSERT_MYSQL)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    let outcome = sqlx::query(LEDGER_INSERT_MYSQL)
        .bind(&id)
        .execute(&mut *tx)
        .await;
    tx.rollback().await?;
    let error = outcome.err().context("MariaDB took a duplicate key")?;
    check_eq!(mysql_code(&error).map(|c| c.0), Some(1062));
    let error = classified(error, ErrorClass::Poison)?;
    ensure!(error.is_row_conflict());
    Ok(())
}

//! Steady application writes on both sides at fixed rates, open loop: each side's clock starts one single-row
//! autocommit write per tick, whether or not earlier ones have committed, on a pool of `max_connections`
//! connections opened before the clock starts (a database that commits each write in tens of milliseconds needs
//! that many at once to take thousands a second). Four of every five writes insert a new user; the fifth updates
//! the user most recently inserted and committed by this run. When every connection is busy the clock waits and
//! the missed ticks are skipped, so the printed counts are what was done, not what was asked.

use crate::cli::{Databases, LoadArgs, Side};
use crate::db::{self, Pool};
use crate::workload::check_tag;
use anyhow::{Context, Result};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;

pub async fn run(databases: &Databases, args: &LoadArgs) -> Result<()> {
    check_tag(&args.tag)?;
    let connections = args.max_connections.max(1);
    let mut sides = Vec::new();
    for (side, rate) in [
        (Side::Legacy, args.legacy_rate),
        (Side::Revamp, args.revamp_rate),
    ] {
        if rate == 0 {
            continue;
        }
        let pool = Arc::new(db::pool(databases, side, false, connections).await?);
        pool.open(connections).await?;
        let tag = format!("{}-{side:?}", args.tag).to_lowercase();
        let period = Duration::from_secs_f64(1.0 / f64::from(rate));
        let seconds = args.seconds;
        sides.push((
            side,
            tokio::spawn(async move { drive(pool, side, tag, period, seconds, connections).await }),
        ));
    }
    let started = Instant::now();
    let (mut legacy, mut revamp) = (0u64, 0u64);
    for (side, task) in sides {
        let done = task.await.context("a side's writer panicked")??;
        match side {
            Side::Legacy => legacy += done,
            Side::Revamp => revamp += done,
        }
    }
    println!(
        "legacy_writes={legacy} revamp_writes={revamp} seconds={:.3}",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// One side: a write started every `period` for `seconds`, at most `connections` in flight; returns how many
/// were made (every started write is awaited, and the first failure is returned).
async fn drive(
    pool: Arc<Pool>,
    side: Side,
    tag: String,
    period: Duration,
    seconds: u64,
    connections: u32,
) -> Result<u64> {
    let in_flight = Arc::new(Semaphore::new(connections as usize));
    let inserted = Arc::new(Inserted::default());
    let tag = Arc::new(tag);
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut writes = JoinSet::new();
    let mut n: u64 = 0;
    while Instant::now() < end {
        ticks.tick().await;
        let permit = Arc::clone(&in_flight)
            .acquire_owned()
            .await
            .context("the in-flight limit closed")?;
        let (pool, inserted, tag) = (Arc::clone(&pool), Arc::clone(&inserted), Arc::clone(&tag));
        writes.spawn(async move {
            let result = write(&pool, side, &tag, n, &inserted).await;
            drop(permit);
            result
        });
        n += 1;
        while let Some(done) = writes.try_join_next() {
            done.context("a write panicked")??;
        }
    }
    while let Some(done) = writes.join_next().await {
        done.context("a write panicked")??;
    }
    Ok(n)
}

/// The highest write number whose insert has committed (0 = none yet; numbers are stored plus one).
#[derive(Default)]
struct Inserted(AtomicU64);

impl Inserted {
    fn committed(&self, n: u64) {
        self.0.fetch_max(n + 1, Ordering::Relaxed);
    }

    fn latest(&self) -> Option<u64> {
        self.0.load(Ordering::Relaxed).checked_sub(1)
    }
}

/// Write number `n`: an update of the latest committed insert when `n` is the fifth of five (and one exists),
/// otherwise an insert.
async fn write(pool: &Pool, side: Side, tag: &str, n: u64, inserted: &Inserted) -> Result<()> {
    let update_of = if n % 5 == 4 { inserted.latest() } else { None };
    let sql = match (side, update_of) {
        (Side::Legacy, None) => format!(
            "INSERT INTO legacy_users (username, email, full_name) VALUES ('{tag}-{n}', 'l@bench.test', 'Load Writer')"
        ),
        (Side::Legacy, Some(m)) => format!(
            "UPDATE legacy_users SET email = 'updated-{n}@bench.test' WHERE username = '{tag}-{m}'"
        ),
        (Side::Revamp, None) => format!(
            "INSERT INTO revamp_users (user_name, email_address, first_name, last_name) \
             VALUES ('{tag}-{n}', 'r@bench.test', 'Load', 'Writer')"
        ),
        (Side::Revamp, Some(m)) => format!(
            "UPDATE revamp_users SET email_address = 'updated-{n}@bench.test' WHERE user_name = '{tag}-{m}'"
        ),
    };
    pool.execute_unprepared(sql).await?;
    if update_of.is_none() {
        inserted.committed(n);
    }
    Ok(())
}

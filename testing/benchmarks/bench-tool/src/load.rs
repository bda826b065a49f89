//! Steady application writes on both sides at fixed rates, from `workers` connections per side: four of every five
//! writes insert a new user, the fifth updates the one its worker inserted before. A worker that falls behind skips
//! ticks (the printed counts are what was done, not what was asked).

use crate::cli::{Databases, LoadArgs, Side};
use crate::db::{self, Pool};
use crate::workload::check_tag;
use anyhow::{Context, Result};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::time::MissedTickBehavior;

pub async fn run(databases: &Databases, args: &LoadArgs) -> Result<()> {
    check_tag(&args.tag)?;
    let workers = args.workers.max(1);
    let mut tasks = Vec::new();
    for (side, rate) in [
        (Side::Legacy, args.legacy_rate),
        (Side::Revamp, args.revamp_rate),
    ] {
        if rate == 0 {
            continue;
        }
        let pool = Arc::new(db::pool(databases, side, false, workers).await?);
        for worker in 0..workers {
            let pool = Arc::clone(&pool);
            let period = Duration::from_secs_f64(f64::from(workers) / f64::from(rate));
            let tag = format!("{}-{side:?}-w{worker}", args.tag).to_lowercase();
            let seconds = args.seconds;
            tasks.push((
                side,
                tokio::spawn(async move { write(&pool, side, &tag, period, seconds).await }),
            ));
        }
    }
    let started = Instant::now();
    let (mut legacy, mut revamp) = (0u64, 0u64);
    for (side, task) in tasks {
        let done = task.await.context("a writer panicked")??;
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

/// One worker: a write every `period` for `seconds`; returns how many it made.
async fn write(pool: &Pool, side: Side, tag: &str, period: Duration, seconds: u64) -> Result<u64> {
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut n: u64 = 0;
    while Instant::now() < end {
        ticks.tick().await;
        let sql = match (side, n % 5 == 4) {
            (Side::Legacy, false) => format!(
                "INSERT INTO legacy_users (username, email, full_name) VALUES ('{tag}-{n}', 'l@bench.test', 'Load Writer')"
            ),
            (Side::Legacy, true) => format!(
                "UPDATE legacy_users SET email = 'updated@bench.test' WHERE username = '{tag}-{}'",
                n - 1
            ),
            (Side::Revamp, false) => format!(
                "INSERT INTO revamp_users (user_name, email_address, first_name, last_name) \
                 VALUES ('{tag}-{n}', 'r@bench.test', 'Load', 'Writer')"
            ),
            (Side::Revamp, true) => format!(
                "UPDATE revamp_users SET email_address = 'updated@bench.test' WHERE user_name = '{tag}-{}'",
                n - 1
            ),
        };
        pool.execute(sql).await?;
        n += 1;
    }
    Ok(n)
}

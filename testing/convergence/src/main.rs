//! `dbsync-convergence`: a randomized convergence test of the running sync (issue: convergence).
//!
//! 1. Records the end offsets of both change topics and the dead-letter topic.
//! 2. Runs N seeded random application writes (inserts, updates, deletes with cascades, child rows, the same row
//!    edited on both sides back to back) from several connections at once, counting the events they must publish.
//! 3. Waits until both consumer groups have committed up to the topics' ends, the topics stopped growing and the
//!    databases match (or the deadline passes).
//! 4. Compares both databases through the mapping: per table, row counts and a checksum of the mapped rows.
//! 5. Checks the topics gained exactly one event per write (no echo) and the dead-letter topic nothing.
//!
//! It assumes it is the only writer while it runs (other writers' events would be counted as echoes).
//! Modules: [`cli`], [`generate`], [`execute`] (with [`writes`]), [`watermarks`], [`compare`], [`report`].

mod cli;
mod compare;
mod execute;
mod generate;
mod report;
mod watermarks;
mod writes;

use anyhow::{Context, Result};
use clap::Parser;
use cli::{Args, Scope};
use dbsync_core::Mapping;
use sqlx::{Connection, MySqlConnection, PgConnection};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use watermarks::{lag, total, Kafka, Offsets};

/// How long the topics must stay unchanged before the consumers count as idle.
const QUIET: Duration = Duration::from_secs(3);
/// After this long unchanged, the topics are taken as final even if their counts are not the expected ones.
const SETTLE: Duration = Duration::from_secs(15);
/// How long the topics must stay unchanged before the run starts (waits at most `SETTLE`).
const QUIET_BEFORE: Duration = Duration::from_secs(2);
const POLL: Duration = Duration::from_millis(500);
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

#[tokio::main]
async fn main() {
    let args = Args::parse();
    match run(&args).await {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(error) => {
            println!("dbsync-convergence: {error:#}");
            println!("test-convergence: 0 passed, 1 failed");
            std::process::exit(1);
        }
    }
}

async fn run(args: &Args) -> Result<bool> {
    let mapping = Mapping::from_path(&args.mapping)
        .with_context(|| format!("loading the mapping {}", args.mapping.display()))?;
    let legacy_group = args.group_for(true);
    let revamp_group = args.group_for(false);
    let legacy_kafka = Kafka::new(&args.brokers, &legacy_group)?;
    let revamp_kafka = Kafka::new(&args.brokers, &revamp_group)?;
    let mut pg = PgConnection::connect(&args.legacy_dsn)
        .await
        .context("connecting to legacy (PostgreSQL)")?;
    let mut my = MySqlConnection::connect(&args.revamp_dsn)
        .await
        .context("connecting to revamp (MariaDB)")?;

    // Start from quiet topics, so events of writes made before this run are not counted as this run's.
    let settling = Instant::now();
    let mut last = None;
    let mut quiet_since = Instant::now();
    while settling.elapsed() < SETTLE {
        let now = (
            legacy_kafka.end_offsets(&args.legacy_topic)?,
            legacy_kafka.end_offsets(&args.revamp_topic)?,
            legacy_kafka.end_offsets(&args.dlq_topic)?,
        );
        if last.as_ref() != Some(&now) {
            quiet_since = Instant::now();
            last = Some(now);
        } else if quiet_since.elapsed() >= QUIET_BEFORE {
            break;
        }
        tokio::time::sleep(POLL).await;
    }
    let before_legacy = total(&legacy_kafka.end_offsets(&args.legacy_topic)?);
    let before_revamp = total(&legacy_kafka.end_offsets(&args.revamp_topic)?);
    let before_dlq = legacy_kafka.end_offsets(&args.dlq_topic)?;
    let run_tag = format!(
        "{:x}",
        SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() % 0xff_ffff_ffff
    );
    let header = format!(
        "dbsync-convergence: seed {}, {} operations, {} workers, run tag {run_tag} (usernames cv_{run_tag}_<n>)",
        args.seed, args.operations, args.workers
    );
    println!("{header}");

    let plan = generate::plan(args.seed, args.operations);
    let started = Instant::now();
    let (tally, state) = execute::run(
        plan,
        args.workers,
        &run_tag,
        &args.legacy_dsn,
        &args.revamp_dsn,
    )
    .await?;
    let generate_time = started.elapsed();
    println!(
        "generated {} operations in {:.1} s; expecting {} events on {} and {} on {}; waiting for the consumers",
        args.operations,
        generate_time.as_secs_f64(),
        tally.legacy_events,
        args.legacy_topic,
        tally.revamp_events,
        args.revamp_topic
    );

    let filter = match args.scope {
        Scope::Run => Some(&state.created),
        Scope::All => None,
    };
    let waited = Instant::now();
    let deadline = Duration::from_secs(args.deadline_secs);
    let mut last_ends: Option<(Offsets, Offsets)> = None;
    let mut unchanged_since = Instant::now();
    let mut last_progress = Instant::now();
    let mut last_compare: Option<Instant> = None;
    let mut converged = false;
    loop {
        let ends = (
            legacy_kafka.end_offsets(&args.legacy_topic)?,
            revamp_kafka.end_offsets(&args.revamp_topic)?,
        );
        let lags = (
            lag(&ends.0, &legacy_kafka.committed(&args.legacy_topic)?),
            lag(&ends.1, &revamp_kafka.committed(&args.revamp_topic)?),
        );
        let published = (
            total(&ends.0) - before_legacy,
            total(&ends.1) - before_revamp,
        );
        if last_ends.as_ref() != Some(&ends) {
            unchanged_since = Instant::now();
            last_ends = Some(ends);
        }
        let counted = published == (tally.legacy_events as i64, tally.revamp_events as i64);
        let quiet = unchanged_since.elapsed() >= QUIET;
        let idle = quiet && lags == (0, 0) && (counted || unchanged_since.elapsed() >= SETTLE);
        let mut differing = None;
        if idle && last_compare.is_none_or(|at| at.elapsed() >= QUIET) {
            last_compare = Some(Instant::now());
            let tables = compare::compare(&mut pg, &mut my, &mapping, filter, 0).await?;
            let count: usize = tables
                .iter()
                .filter(|t| !t.matches())
                .map(|t| t.differing.max(1))
                .sum();
            if count == 0 {
                converged = true;
                break;
            }
            differing = Some(count);
        }
        if waited.elapsed() >= deadline {
            break;
        }
        if last_progress.elapsed() >= PROGRESS_EVERY || differing.is_some() {
            last_progress = Instant::now();
            println!(
                "  {:>5.1} s: {} +{}/{}, {} +{}/{}; lag {legacy_group}={} {revamp_group}={}{}",
                waited.elapsed().as_secs_f64(),
                args.legacy_topic,
                published.0,
                tally.legacy_events,
                args.revamp_topic,
                published.1,
                tally.revamp_events,
                lags.0,
                lags.1,
                differing
                    .map(|n| format!("; {n} rows differ"))
                    .unwrap_or_default()
            );
        }
        tokio::time::sleep(POLL).await;
    }
    let converge_time = waited.elapsed();

    let after_legacy = total(&legacy_kafka.end_offsets(&args.legacy_topic)?);
    let after_revamp = total(&legacy_kafka.end_offsets(&args.revamp_topic)?);
    let after_dlq = legacy_kafka.end_offsets(&args.dlq_topic)?;
    let dead_letters = watermarks::read_range(
        &args.brokers,
        &args.dlq_topic,
        &before_dlq,
        &after_dlq,
        &["dbsync.reason", "__connect.errors.exception.message"],
        args.show_diffs.max(5),
    )?;
    let tables = compare::compare(&mut pg, &mut my, &mapping, filter, args.show_diffs).await?;
    let all_tables = match args.scope {
        Scope::Run => {
            Some(compare::compare(&mut pg, &mut my, &mapping, None, args.show_diffs).await?)
        }
        Scope::All => None,
    };
    let (users, posts, likes) = state.sizes();
    let made = format!(
        "rows made by this run: {} users, {} posts, {} likes (still known at the end: {users}, {posts}, {likes})",
        state.created.get("user").map_or(0, |s| s.len()),
        state.created.get("post").map_or(0, |s| s.len()),
        state.created.get("like").map_or(0, |s| s.len()),
    );
    let report = report::Report {
        tally: tally.clone(),
        generate_time,
        made,
        converged,
        converge_time,
        deadline,
        topics: vec![
            (
                args.legacy_topic.clone(),
                tally.legacy_events,
                after_legacy - before_legacy,
            ),
            (
                args.revamp_topic.clone(),
                tally.revamp_events,
                after_revamp - before_revamp,
            ),
        ],
        dlq: (
            args.dlq_topic.clone(),
            total(&after_dlq) - total(&before_dlq),
        ),
        dead_letters,
        scope: match args.scope {
            Scope::Run => "rows created by this run".to_string(),
            Scope::All => "every row".to_string(),
        },
        tables,
        all_tables,
    };
    let (passed, failed) = report.print();
    println!("test-convergence: {passed} passed, {failed} failed");
    Ok(failed == 0)
}

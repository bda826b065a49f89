//! A consumer group's progress through a backlog, from its committed offsets (polled every 50 ms): when it first
//! committed past where it stood, and when it reached the given end offsets (or how far it got in `--for-secs`). The same figure for dbsync and for a
//! Kafka Connect sink, whatever they write: both commit only what they applied.

use crate::cli::DrainArgs;
#[path = "../../../convergence/src/watermarks.rs"]
#[allow(dead_code)] // shared with the convergence test, which uses all of it
mod watermarks;
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use watermarks::{Kafka, Offsets};

const POLL: Duration = Duration::from_millis(50);

/// `topic:partition=offset,...` into offsets per topic.
fn parse(specs: &[String]) -> Result<BTreeMap<String, Offsets>> {
    let mut topics: BTreeMap<String, Offsets> = BTreeMap::new();
    for spec in specs
        .iter()
        .flat_map(|s| s.split(','))
        .filter(|s| !s.is_empty())
    {
        let parsed = spec.split_once('=').and_then(|(tp, offset)| {
            let (topic, partition) = tp.rsplit_once(':')?;
            Some((
                topic,
                partition.parse::<i32>().ok()?,
                offset.parse::<i64>().ok()?,
            ))
        });
        let Some((topic, partition, offset)) = parsed else {
            bail!("--until: expected topic:partition=offset, got {spec:?}");
        };
        topics
            .entry(topic.to_string())
            .or_default()
            .insert(partition, offset);
    }
    Ok(topics)
}

/// Events still to commit: the sum over topics and partitions of `end - committed`.
fn behind(kafka: &Kafka, until: &BTreeMap<String, Offsets>) -> Result<i64> {
    let mut lag = 0;
    for (topic, end) in until {
        lag += watermarks::lag(end, &kafka.committed(topic)?);
    }
    Ok(lag)
}

pub async fn run(args: &DrainArgs) -> Result<()> {
    let until = parse(&args.until)?;
    let kafka = Kafka::new(&args.brokers, &args.group).context("watching the group")?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.timeout_secs);
    let initial = behind(&kafka, &until)?;
    eprintln!("drain: watching {} ({initial} events to go)", args.group);
    let mut first: Option<(Instant, i64)> = None;
    let mut last_report = started;
    let mut remaining = initial;
    while remaining > 0 {
        if Instant::now() > deadline {
            bail!(
                "{} still {remaining} events behind after {} s",
                args.group,
                args.timeout_secs
            );
        }
        tokio::time::sleep(POLL).await;
        remaining = behind(&kafka, &until)?;
        let measured_enough = first
            .zip(args.for_secs)
            .is_some_and(|((at, _), secs)| at.elapsed() >= Duration::from_secs(secs));
        if measured_enough {
            break;
        }
        if first.is_none() && remaining < initial {
            first = Some((Instant::now(), remaining));
        }
        if last_report.elapsed() > Duration::from_secs(5) {
            eprintln!("drain: {remaining} events to go");
            last_report = Instant::now();
        }
    }
    let done = Instant::now();
    // The first commit already holds one batch: count the events after it over the time after it.
    let (seconds, after_first) = first.map_or((0.0, 0), |(at, left)| {
        (done.duration_since(at).as_secs_f64(), left - remaining)
    });
    println!(
        "events={} seconds={seconds:.3} events_per_s={:.1} wall_seconds={:.3}",
        initial - remaining,
        if seconds > 0.0 {
            after_first as f64 / seconds
        } else {
            0.0
        },
        done.duration_since(started).as_secs_f64()
    );
    Ok(())
}

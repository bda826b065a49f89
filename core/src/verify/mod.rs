//! `dbsync:verify` and `dbsync:repair`: prove online that the two databases agree through the mapping, and repair
//! what drifted. No table locks, short statements only.
//!
//! 1. **Walk** (`walk`, `narrow`, `hash`): per entity, both sides are read in key order by chunks; each row is
//!    normalized through the mapping (`normalize`: the sync's own transform, time zones and precision normalized)
//!    and hashed; chunk hashes are compared and a differing chunk is narrowed down to its keys.
//! 2. **First look** (`look`): the differing keys are read again by key on both sides (without the `since` filter)
//!    and compared in full; what agrees now was in flight.
//! 3. **Confirm** (`confirm`): once both consumer groups have committed past the end offsets of the moment
//!    (when brokers are configured), each row is looked at again. Still different, unchanged on both sides for
//!    `confirm_delay_ms` and with its newer copy at least that old: drift. Changed meanwhile: looked at again until
//!    `confirm_timeout_ms`, then reported as unsettled (in flight), not as drift.
//! 4. **Report** (`report`): each drifted row's key, which side(s) hold it, the differing columns, both versions
//!    and, for a row on one side only, the other side's tombstone.
//! 5. **Repair** (`repair`): the version the conflict rules choose is written over the other copy, a row on one side
//!    only is created on the other or deleted where a newer tombstone says so, all through the sync's own writer
//!    (`write::Target::repair`: sync-service marker, row locks, ledger), so nothing echoes.
//!
//! `options` holds the settings, `source` and `sql` the read-only database access, `error` the failures.

mod confirm;
mod error;
mod hash;
mod look;
mod narrow;
mod normalize;
mod options;
mod repair;
mod report;
mod source;
mod sql;
mod walk;

pub use error::VerifyError;
pub use normalize::ColumnDiff;
pub use options::{
    VerifyOptions, DEFAULT_CHUNK_SIZE, DEFAULT_CONFIRM_DELAY_MS, DEFAULT_CONFIRM_TIMEOUT_MS,
    DEFAULT_MAX_DIFFERENCES,
};
pub use report::{
    Confirmation, Difference, EntityReport, Phase, Progress, RepairAction, RepairReport, Report,
    Unsettled, VersionView,
};

use crate::conflict::Version;
use crate::event::Side;
use crate::mapping::{Entity, Mapping};
use chrono::Utc;
use look::Look;
use normalize::Normalizer;
use source::{Reader, Scope};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::{debug, info};
use walk::Walk;

/// How often progress is reported at most.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(200);

/// Compares the two databases and reports confirmed drift; `progress` is called a few times a second on the
/// calling thread. Fails only when it cannot run (options, mapping, a database or Kafka unreachable).
pub fn verify(
    options: VerifyOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Report, VerifyError> {
    options.validate()?;
    let runtime = runtime()?;
    let handle = runtime.handle().clone();
    runtime.block_on(async {
        let run = Run::prepare(&options).await?;
        let outcome = run.compare(&options, &handle, progress).await;
        run.close().await;
        Ok(outcome?.report)
    })
}

/// Runs [`verify`], then repairs each confirmed difference (or, with `dry_run`, only says how).
pub fn repair(
    options: VerifyOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<RepairReport, VerifyError> {
    options.validate()?;
    let runtime = runtime()?;
    let handle = runtime.handle().clone();
    runtime.block_on(async {
        let run = Run::prepare(&options).await?;
        let outcome = match run.compare(&options, &handle, progress).await {
            Ok(outcome) => repair::repair(&options, &run.mapping, outcome, progress).await,
            Err(error) => Err(error),
        };
        run.close().await;
        outcome
    })
}

fn runtime() -> Result<tokio::runtime::Runtime, VerifyError> {
    // Two workers: each side's reader normalizes and hashes its rows on its own thread.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(VerifyError::Runtime)
}

/// A row that differs, with its latest look and since when it looked so.
struct Candidate {
    entity: usize,
    key: i64,
    look: Look,
    seen: Instant,
}

/// A confirmed difference, with what repair needs.
pub(crate) struct Confirmed {
    /// The entity's name.
    pub entity: String,
    /// The row's key.
    pub key: i64,
    /// Both copies as last seen.
    pub look: Look,
    /// For a row on one side only: the other side's tombstone.
    pub tombstone: Option<Version>,
}

/// What a comparison found.
pub(crate) struct Outcome {
    pub report: Report,
    pub confirmed: Vec<Confirmed>,
}

/// The connections and mapping of one verify.
struct Run {
    mapping: Arc<Mapping>,
    legacy: Reader,
    revamp: Reader,
}

impl Run {
    async fn prepare(options: &VerifyOptions) -> Result<Self, VerifyError> {
        let mapping = Arc::new(Mapping::from_path(&options.mapping_path)?);
        options.selected(&mapping)?;
        let (legacy, revamp) = tokio::try_join!(
            Reader::connect(Side::Legacy, &options.legacy_dsn),
            Reader::connect(Side::Revamp, &options.revamp_dsn),
        )?;
        Ok(Run {
            mapping,
            legacy,
            revamp,
        })
    }

    async fn close(&self) {
        tokio::join!(self.legacy.close(), self.revamp.close());
    }

    fn normalizer<'a>(&'a self, entity: &'a Entity) -> Normalizer<'a> {
        Normalizer {
            mapping: &self.mapping,
            entity,
        }
    }

    async fn compare(
        &self,
        options: &VerifyOptions,
        runtime: &tokio::runtime::Handle,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<Outcome, VerifyError> {
        let started_at = Utc::now();
        let started = Instant::now();
        let entities = options.selected(&self.mapping)?;
        let (min_key, max_key) = options.key_range();
        let scope = Scope {
            min_key,
            max_key,
            since: options.since()?,
        };
        let mut total = 0;
        for entity in &entities {
            let (l, r) = tokio::try_join!(
                self.legacy.count(entity, &scope),
                self.revamp.count(entity, &scope)
            )?;
            total += l.max(r);
        }
        let mut meter = Meter::new(total);
        let mut reports: Vec<EntityReport> = Vec::with_capacity(entities.len());
        let mut pending: Vec<Candidate> = Vec::new();
        let mut truncated = false;
        let mut last_seen = Instant::now();
        for (index, entity) in entities.iter().enumerate() {
            let mut report = EntityReport {
                entity: entity.name().to_string(),
                ..EntityReport::default()
            };
            let mut walk = Walk::start(
                runtime,
                [self.legacy.clone(), self.revamp.clone()],
                Arc::clone(&self.mapping),
                entity.name(),
                scope,
                i64::try_from(options.chunk_size).unwrap_or(i64::MAX),
            );
            let mut suspects = Vec::new();
            while let Some(chunk) = walk.next().await? {
                report.rows += chunk.rows;
                report.chunks += 1;
                report.chunks_differing += u64::from(chunk.differing);
                report.suspects += chunk.suspects.len() as u64;
                meter.rows += chunk.rows;
                meter.suspects += chunk.suspects.len() as u64;
                suspects.extend(chunk.suspects);
                if suspects.len() as u64 >= options.chunk_size {
                    truncated |= self
                        .first_look(options, index, entity, &mut suspects, &mut pending)
                        .await?;
                }
                meter.tick(Phase::Comparing, entity.name(), progress, false);
            }
            truncated |= self
                .first_look(options, index, entity, &mut suspects, &mut pending)
                .await?;
            last_seen = Instant::now();
            meter.tick(Phase::Comparing, entity.name(), progress, true);
            reports.push(report);
        }
        let walk_secs = started.elapsed().as_secs_f64();
        info!(
            rows = meter.rows,
            suspects = pending.len(),
            secs = walk_secs,
            "verify: walk done"
        );

        let (confirmed, unsettled, confirmation) = self
            .confirm(options, &entities, pending, last_seen, &mut meter, progress)
            .await?;
        let confirmed = self.with_tombstones(&entities, confirmed).await?;
        let differences: Vec<Difference> = confirmed
            .iter()
            .filter_map(|c| {
                let entity = self.mapping.entity(&c.entity)?;
                Some(self.difference(entity, c))
            })
            .collect();
        for report in &mut reports {
            report.drift = differences
                .iter()
                .filter(|d| d.entity == report.entity)
                .count() as u64;
            report.unsettled = unsettled
                .iter()
                .filter(|u| u.entity == report.entity)
                .count() as u64;
        }
        let in_sync = differences.is_empty() && !truncated;
        let report = Report {
            in_sync,
            exit_code: if in_sync { 0 } else { 1 },
            started_at,
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            rows: meter.rows,
            rows_per_second: if walk_secs > 0.0 {
                meter.rows as f64 / walk_secs
            } else {
                0.0
            },
            chunk_size: options.chunk_size,
            since: scope.since,
            entities: reports,
            confirmation,
            differences,
            unsettled,
            truncated,
        };
        Ok(Outcome { report, confirmed })
    }

    /// Looks at `suspects` by key; the ones that still differ join `pending`. True when some were left out
    /// because `max_differences` was reached.
    async fn first_look(
        &self,
        options: &VerifyOptions,
        index: usize,
        entity: &Entity,
        suspects: &mut Vec<i64>,
        pending: &mut Vec<Candidate>,
    ) -> Result<bool, VerifyError> {
        let keys = std::mem::take(suspects);
        if keys.is_empty() {
            return Ok(false);
        }
        let normalizer = self.normalizer(entity);
        let mut truncated = false;
        for batch in keys.chunks(usize::try_from(options.chunk_size).unwrap_or(1000)) {
            let mut looks = look::look(&self.legacy, &self.revamp, entity, batch).await?;
            for key in batch {
                let Some(look) = looks.remove(key) else {
                    continue;
                };
                if !look.differs(&normalizer, *key) {
                    continue;
                }
                if pending.len() as u64 >= options.max_differences {
                    truncated = true;
                    continue;
                }
                pending.push(Candidate {
                    entity: index,
                    key: *key,
                    look,
                    seen: Instant::now(),
                });
            }
        }
        Ok(truncated)
    }

    /// Re-checks `pending` until each is confirmed or resolved, or `confirm_timeout_ms` passes (the rest is
    /// unsettled). A difference is confirmed once the consumers caught up after it was seen and it stayed unchanged
    /// for `confirm_delay_ms`, and its newest copy is at least that old: a change the capture has not published yet
    /// (Debezium lagging) is not taken for drift.
    async fn confirm(
        &self,
        options: &VerifyOptions,
        entities: &[&Entity],
        mut pending: Vec<Candidate>,
        last_seen: Instant,
        meter: &mut Meter,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<(Vec<Confirmed>, Vec<Unsettled>, Confirmation), VerifyError> {
        let mut confirmation = Confirmation::default();
        let mut confirmed = Vec::new();
        let waiting = Instant::now();
        let delay = Duration::from_millis(options.confirm_delay_ms);
        let deadline = waiting + Duration::from_millis(options.confirm_timeout_ms).max(delay);
        let mut wake = last_seen + delay;
        while !pending.is_empty() {
            confirmation.rounds += 1;
            meter.suspects = pending.len() as u64;
            meter.tick(Phase::Confirming, "", progress, true);
            let position = self.legacy.wal_position().await?;
            tokio::time::sleep_until(wake.min(deadline).into()).await;
            // The legacy capture first: what committed before the look must be on Kafka before offsets mean anything.
            if let (Some(position), false) = (position, options.replication_slot.trim().is_empty())
            {
                while !self
                    .legacy
                    .slot_passed(options.replication_slot.trim(), &position)
                    .await?
                    && Instant::now() < deadline
                {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            }
            if let Some(brokers) = options.brokers.clone().filter(|b| !b.trim().is_empty()) {
                let options = options.clone();
                let caught_up = tokio::task::spawn_blocking(move || {
                    confirm::consumers_caught_up(&options, &brokers, deadline)
                })
                .await
                .map_err(|e| VerifyError::Task(e.to_string()))??;
                confirmation.consumers_caught_up =
                    Some(confirmation.consumers_caught_up.unwrap_or(true) && caught_up);
                debug!(
                    caught_up,
                    round = confirmation.rounds,
                    "verify: consumers' offsets"
                );
            }
            let mut still = Vec::new();
            for (index, entity) in entities.iter().enumerate() {
                let normalizer = self.normalizer(entity);
                let (mine, rest): (Vec<Candidate>, Vec<Candidate>) =
                    pending.into_iter().partition(|c| c.entity == index);
                pending = rest;
                for batch in mine.chunks(usize::try_from(options.chunk_size).unwrap_or(1000)) {
                    let keys: Vec<i64> = batch.iter().map(|c| c.key).collect();
                    let mut looks = look::look(&self.legacy, &self.revamp, entity, &keys).await?;
                    for candidate in batch {
                        let Some(now) = looks.remove(&candidate.key) else {
                            continue;
                        };
                        if !now.differs(&normalizer, candidate.key) {
                            confirmation.resolved_in_flight += 1;
                            continue;
                        }
                        let settled = now == candidate.look
                            && candidate.seen.elapsed() >= delay
                            && newest_age(&normalizer, &now).is_none_or(|age| age >= delay);
                        if settled {
                            confirmed.push(Confirmed {
                                entity: entity.name().to_string(),
                                key: candidate.key,
                                look: now,
                                tombstone: None,
                            });
                        } else {
                            let seen = if now == candidate.look {
                                candidate.seen
                            } else {
                                Instant::now()
                            };
                            still.push(Candidate {
                                entity: index,
                                key: candidate.key,
                                look: now,
                                seen,
                            });
                        }
                    }
                }
            }
            pending = still;
            if Instant::now() >= deadline {
                break;
            }
            // The next look when the earliest pending row can settle.
            wake = Instant::now()
                + delay
                    .min(Duration::from_millis(500))
                    .max(Duration::from_millis(100));
        }
        confirmation.waited_ms = u64::try_from(waiting.elapsed().as_millis()).unwrap_or(u64::MAX);
        let unsettled = pending
            .into_iter()
            .filter_map(|c| {
                Some(Unsettled {
                    entity: entities.get(c.entity)?.name().to_string(),
                    key: c.key,
                })
            })
            .collect();
        Ok((confirmed, unsettled, confirmation))
    }

    /// Adds, to each row on one side only, the other side's tombstone.
    async fn with_tombstones(
        &self,
        entities: &[&Entity],
        mut confirmed: Vec<Confirmed>,
    ) -> Result<Vec<Confirmed>, VerifyError> {
        for entity in entities {
            for (absent_on, reader) in [(Side::Legacy, &self.legacy), (Side::Revamp, &self.revamp)]
            {
                let keys: Vec<i64> = confirmed
                    .iter()
                    .filter(|c| {
                        c.entity == entity.name()
                            && holds(&c.look, absent_on.other())
                            && !holds(&c.look, absent_on)
                    })
                    .map(|c| c.key)
                    .collect();
                let tombstones: HashMap<i64, Version> = reader.tombstones(entity, &keys).await?;
                for c in confirmed.iter_mut().filter(|c| c.entity == entity.name()) {
                    if let Some(t) = tombstones.get(&c.key) {
                        if !holds(&c.look, absent_on) {
                            c.tombstone = Some(*t);
                        }
                    }
                }
            }
        }
        Ok(confirmed)
    }

    fn difference(&self, entity: &Entity, c: &Confirmed) -> Difference {
        let normalizer = self.normalizer(entity);
        let legacy = c.look.legacy.as_deref().and_then(look::parse);
        let revamp = c.look.revamp.as_deref().and_then(look::parse);
        let columns = match (&legacy, &revamp) {
            (Some(l), Some(r)) => normalizer.differing_columns(c.key, l, r),
            _ => Vec::new(),
        };
        let held_by = match (&legacy, &revamp) {
            (Some(_), Some(_)) => "both",
            (Some(_), None) => "legacy_only",
            _ => "revamp_only",
        };
        Difference {
            entity: entity.name().to_string(),
            key: c.key,
            held_by: held_by.to_string(),
            columns,
            legacy_version: legacy
                .as_ref()
                .and_then(|p| normalizer.version(Side::Legacy, p))
                .map(Into::into),
            revamp_version: revamp
                .as_ref()
                .and_then(|p| normalizer.version(Side::Revamp, p))
                .map(Into::into),
            tombstone: c.tombstone.map(Into::into),
        }
    }
}

/// How long ago the newer of the two copies was written (`None`: no readable version).
fn newest_age(normalizer: &Normalizer<'_>, look: &Look) -> Option<Duration> {
    let version = |side: Side, json: &Option<String>| {
        json.as_deref()
            .and_then(look::parse)
            .and_then(|payload| normalizer.version(side, &payload))
            .map(|v| v.updated_at)
    };
    let newest = version(Side::Legacy, &look.legacy).max(version(Side::Revamp, &look.revamp))?;
    Some((Utc::now() - newest).to_std().unwrap_or(Duration::ZERO))
}

/// Whether `side` holds a copy in `look`.
fn holds(look: &Look, side: Side) -> bool {
    match side {
        Side::Legacy => look.legacy.is_some(),
        Side::Revamp => look.revamp.is_some(),
    }
}

/// Rows compared and the rate, for the progress callback.
struct Meter {
    started: Instant,
    last: Option<Instant>,
    rows: u64,
    total: u64,
    suspects: u64,
}

impl Meter {
    fn new(total: u64) -> Self {
        Meter {
            started: Instant::now(),
            last: None,
            rows: 0,
            total,
            suspects: 0,
        }
    }

    /// Reports progress when the interval passed (or `now`).
    fn tick(&mut self, phase: Phase, entity: &str, progress: &mut dyn FnMut(&Progress), now: bool) {
        if !now && self.last.is_some_and(|t| t.elapsed() < PROGRESS_INTERVAL) {
            return;
        }
        self.last = Some(Instant::now());
        let secs = self.started.elapsed().as_secs_f64();
        let rate = if secs > 0.0 {
            self.rows as f64 / secs
        } else {
            0.0
        };
        let left = self.total.saturating_sub(self.rows);
        progress(&Progress {
            phase,
            entity: entity.to_string(),
            rows: self.rows,
            total: self.total.max(self.rows),
            rows_per_second: rate,
            eta_seconds: (rate > 0.0).then(|| left as f64 / rate),
            suspects: self.suspects,
        });
    }
}

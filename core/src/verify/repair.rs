//! Repairing confirmed drift. For each difference the conflict rules pick the copy that wins (`plan`, pure): the
//! newer version under the entity's policy (last writer wins by `updated_at`, legacy on an exact tie, or the
//! favoured side within the conflict window); two copies claiming the same version keep the one on the side that
//! wrote it. A row on one side only is created on the other, unless the other side's tombstone beats it: then it is
//! deleted where it is. The writes go through the sync's own writer (`Target::repair`): the sync-service marker (so
//! Debezium drops them: no echo), row locks, the ledger (one deterministic event id per run and row) and the same
//! version checks, so a newer change that arrived meanwhile is not overwritten.

use super::error::VerifyError;
use super::look;
use super::normalize::{Normalizer, Payload};
use super::options::VerifyOptions;
use super::report::{Phase, Progress, RepairAction, RepairReport};
use super::{Confirmed, Outcome};
use crate::conflict::{Resolver, Version};
use crate::event::{ChangeEvent, Operation, Side, EVENT_ID_NAMESPACE};
use crate::mapping::{Entity, Mapping};
use crate::row::{Delete, RowOp};
use crate::write::{OpOutcome, Target, TargetOptions};
use chrono::{DateTime, TimeDelta, Utc};
use std::time::Duration;
use tracing::info;
use uuid::Uuid;

/// What to write for one difference.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Planned {
    /// `insert`, `update` or `delete`.
    pub action: &'static str,
    /// The side written.
    pub side: Side,
    /// The winning version.
    pub version: Version,
    /// The operation for that side's writer.
    pub op: RowOp,
}

/// Which copy wins and what to write; `Err` names what makes the row unrepairable (e.g. no readable version).
pub(crate) fn plan(
    mapping: &Mapping,
    entity: &Entity,
    resolver: Resolver,
    confirmed: &Confirmed,
    run: DateTime<Utc>,
) -> Result<Option<Planned>, String> {
    let normalizer = Normalizer { mapping, entity };
    let parse = |json: &Option<String>| match json {
        None => Ok(None),
        Some(text) => look::parse(text)
            .map(Some)
            .ok_or_else(|| "a copy is not readable JSON".to_string()),
    };
    let legacy = parse(&confirmed.look.legacy)?;
    let revamp = parse(&confirmed.look.revamp)?;
    let version = |side: Side, payload: &Payload| {
        normalizer
            .version(side, payload)
            .ok_or_else(|| format!("the {side} copy has no readable `updated_at` and `source`"))
    };
    let key = confirmed.key;
    let event_id = Uuid::new_v5(
        &EVENT_ID_NAMESPACE,
        format!("repair:{}:{}:{key}", run.timestamp_micros(), entity.name()).as_bytes(),
    );
    match (legacy, revamp) {
        (None, None) => Ok(None),
        (Some(l), Some(r)) => {
            let (vl, vr) = (version(Side::Legacy, &l)?, version(Side::Revamp, &r)?);
            let from = if vl == vr {
                vl.origin
            } else if resolver.beats(vr, vl) {
                Side::Revamp
            } else {
                Side::Legacy
            };
            let (payload, winner) = match from {
                Side::Legacy => (l, vl),
                Side::Revamp => (r, vr),
            };
            upsert(mapping, entity, from, key, payload, winner, event_id, run).map(|op| {
                Some(Planned {
                    action: "update",
                    side: from.other(),
                    version: winner,
                    op,
                })
            })
        }
        (held, other) => {
            let (side, payload) = match (held, other) {
                (Some(l), None) => (Side::Legacy, l),
                (None, Some(r)) => (Side::Revamp, r),
                _ => return Ok(None),
            };
            let current = version(side, &payload)?;
            // The row was deleted on the other side, whoever the tombstone says did it (a marked delete there claims
            // to be a copy); the writer records the delete's tombstone as the other side's.
            let deleted = confirmed.tombstone.map(|t| Version {
                updated_at: t.updated_at,
                origin: side.other(),
            });
            match deleted {
                Some(deleted) if resolver.delete_applies(deleted, current) => Ok(Some(Planned {
                    action: "delete",
                    side,
                    version: deleted,
                    op: RowOp::Delete(Delete {
                        entity: entity.name().to_string(),
                        table: entity.table(side).to_string(),
                        key_column: entity.key().to_string(),
                        key,
                        deleted,
                        updated_at_column: entity.updated_at(side).to_string(),
                        conflict: entity.conflict(),
                        event_id,
                        source_committed_at: run,
                        origin: deleted.origin,
                        position: None,
                    }),
                })),
                _ => {
                    upsert(mapping, entity, side, key, payload, current, event_id, run).map(|op| {
                        Some(Planned {
                            action: "insert",
                            side: side.other(),
                            version: current,
                            op,
                        })
                    })
                }
            }
        }
    }
}

/// The sync's transform of the winning copy (on `from`) into the other side's upsert, carrying the copy's version.
#[allow(clippy::too_many_arguments)]
fn upsert(
    mapping: &Mapping,
    entity: &Entity,
    from: Side,
    key: i64,
    payload: Payload,
    version: Version,
    event_id: Uuid,
    run: DateTime<Utc>,
) -> Result<RowOp, String> {
    let event = ChangeEvent {
        event_id,
        entity_type: entity.name().to_string(),
        operation: Operation::Update,
        primary_key: key,
        payload,
        source: from.as_str().to_string(),
        event_version: 1,
        timestamp: run,
        origin: from,
        snapshot: false,
        position: None,
    };
    match crate::transform::transform(&event, mapping).map_err(|e| e.to_string())? {
        RowOp::Upsert(mut upsert) => {
            // The copy may itself be a synced copy: the version is its origin's, not the side it was read from.
            upsert.origin = version.origin;
            upsert.updated_at = version.updated_at;
            Ok(RowOp::Upsert(upsert))
        }
        other => Ok(other),
    }
}

/// Plans every confirmed difference and, unless `dry_run`, writes each in its own transaction: inserts and updates
/// parents first, deletes children first.
pub(crate) async fn repair(
    options: &VerifyOptions,
    mapping: &Mapping,
    outcome: Outcome,
    progress: &mut dyn FnMut(&Progress),
) -> Result<RepairReport, VerifyError> {
    let run = Utc::now();
    let window =
        TimeDelta::milliseconds(i64::try_from(options.conflict_window_ms).unwrap_or(i64::MAX));
    let mut planned = Vec::new();
    let mut actions = Vec::new();
    for confirmed in &outcome.confirmed {
        let Some(entity) = mapping.entity(&confirmed.entity) else {
            continue;
        };
        let resolver = Resolver {
            policy: entity.conflict(),
            window,
        };
        match plan(mapping, entity, resolver, confirmed, run) {
            Ok(Some(p)) => planned.push((entity, confirmed.key, p)),
            Ok(None) => {}
            Err(reason) => actions.push(RepairAction {
                entity: entity.name().to_string(),
                key: confirmed.key,
                action: "none".to_string(),
                side: Side::Legacy,
                version: Version {
                    updated_at: run,
                    origin: Side::Legacy,
                }
                .into(),
                outcome: format!("unrepairable: {reason}"),
            }),
        }
    }
    // Entities come parents first from the walk; deletes go the other way.
    let order = |name: &str| {
        mapping
            .entities()
            .iter()
            .position(|e| e.name() == name)
            .unwrap_or(usize::MAX)
    };
    planned.sort_by_key(|(entity, key, p)| {
        let rank = order(entity.name());
        if p.action == "delete" {
            (1, usize::MAX - rank, *key)
        } else {
            (0, rank, *key)
        }
    });
    let targets = if options.dry_run || planned.is_empty() {
        None
    } else {
        let target_options = TargetOptions {
            max_connections: 1,
            connect_timeout: Duration::from_secs(10),
            conflict_window: window,
        };
        let connect = |side: Side, dsn: &str| {
            let target_options = target_options.clone();
            let dsn = dsn.to_string();
            async move {
                Target::connect(&dsn, mapping, &target_options)
                    .await
                    .map_err(|source| VerifyError::Write { side, source })
            }
        };
        Some(tokio::try_join!(
            connect(Side::Legacy, &options.legacy_dsn),
            connect(Side::Revamp, &options.revamp_dsn)
        )?)
    };
    let (mut applied, mut not_applied) = (0, 0);
    let total = planned.len() as u64;
    for (done, (entity, key, p)) in planned.into_iter().enumerate() {
        let outcome = match &targets {
            None => "planned".to_string(),
            Some((legacy, revamp)) => {
                let target = match p.side {
                    Side::Legacy => legacy,
                    Side::Revamp => revamp,
                };
                match target.repair(std::slice::from_ref(&p.op)).await {
                    Ok(outcomes) => describe(outcomes.first()),
                    Err(failure) => format!("failed: {}", failure.error),
                }
            }
        };
        match outcome.as_str() {
            "applied" => applied += 1,
            "planned" => {}
            _ => not_applied += 1,
        }
        info!(entity = entity.name(), key, action = p.action, side = %p.side, %outcome, "repair");
        actions.push(RepairAction {
            entity: entity.name().to_string(),
            key,
            action: p.action.to_string(),
            side: p.side,
            version: p.version.into(),
            outcome,
        });
        progress(&Progress {
            phase: Phase::Repairing,
            entity: entity.name().to_string(),
            rows: done as u64 + 1,
            total,
            rows_per_second: 0.0,
            eta_seconds: None,
            suspects: total,
        });
    }
    if let Some((legacy, revamp)) = targets {
        tokio::join!(legacy.close(), revamp.close());
    }
    not_applied += actions.iter().filter(|a| a.action == "none").count() as u64;
    Ok(RepairReport {
        dry_run: options.dry_run,
        verify: outcome.report,
        actions,
        applied,
        not_applied,
        exit_code: if not_applied == 0 { 0 } else { 1 },
    })
}

fn describe(outcome: Option<&OpOutcome>) -> String {
    match outcome {
        Some(OpOutcome::Applied) => "applied".to_string(),
        Some(OpOutcome::Duplicate) => "duplicate".to_string(),
        Some(OpOutcome::ConflictLost) => "conflict_lost".to_string(),
        Some(OpOutcome::ParentMissing(p)) => format!("parent_missing ({} {})", p.entity, p.id),
        Some(OpOutcome::ParentDeleted(p)) => format!("parent_deleted ({} {})", p.entity, p.id),
        Some(OpOutcome::Blocked) => "blocked".to_string(),
        None => "no outcome".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::ConflictPolicy;
    use crate::verify::look::Look;

    fn mapping() -> Mapping {
        Mapping::from_toml_str(include_str!("../../mapping/default.toml")).unwrap()
    }

    fn legacy(email: &str, updated: &str, source: &str) -> String {
        format!(
            r#"{{"id": 5, "username": "u", "email": "{email}", "full_name": "A B", "status": "active",
               "is_admin": true, "created_at": "2026-01-01T00:00:00+00:00", "updated_at": "{updated}",
               "source": "{source}"}}"#
        )
    }

    fn revamp(email: &str, updated: &str, source: &str) -> String {
        format!(
            r#"{{"id": 5, "user_name": "u", "email_address": "{email}", "first_name": "A", "last_name": "B",
               "status": 1, "is_admin": 1, "created_at": "2026-01-01 00:00:00.000000", "updated_at": "{updated}",
               "source": "{source}"}}"#
        )
    }

    fn confirmed(l: Option<String>, r: Option<String>, tombstone: Option<Version>) -> Confirmed {
        Confirmed {
            entity: "user".into(),
            key: 5,
            look: Look {
                legacy: l,
                revamp: r,
            },
            tombstone,
        }
    }

    fn planned(c: &Confirmed) -> Planned {
        let mapping = mapping();
        let resolver = Resolver {
            policy: ConflictPolicy::LastWriterWins,
            window: TimeDelta::seconds(1),
        };
        plan(
            &mapping,
            mapping.entity("user").unwrap(),
            resolver,
            c,
            Utc::now(),
        )
        .unwrap()
        .unwrap()
    }

    #[test]
    fn the_newer_copy_wins_and_keeps_its_version() {
        let c = confirmed(
            Some(legacy("old@x", "2026-01-01T00:00:01+00:00", "legacy")),
            Some(revamp("new@x", "2026-01-01 00:00:02", "revamp")),
            None,
        );
        let p = planned(&c);
        assert_eq!((p.action, p.side), ("update", Side::Legacy));
        let RowOp::Upsert(op) = p.op else {
            panic!("an upsert")
        };
        assert_eq!(op.origin, Side::Revamp);
        assert!(op
            .columns
            .contains(&("email".into(), crate::SqlValue::Text("new@x".into()))));
    }

    #[test]
    fn copies_claiming_one_version_keep_the_writers_copy() {
        // Drifted on revamp with the marker: revamp still claims legacy's version, so legacy's copy is the original.
        let c = confirmed(
            Some(legacy("a@x", "2026-01-01T00:00:01+00:00", "legacy")),
            Some(revamp("drift@x", "2026-01-01 00:00:01", "sync_service")),
            None,
        );
        let p = planned(&c);
        assert_eq!((p.action, p.side), ("update", Side::Revamp));
        // Drifted on legacy with the marker: legacy now claims revamp's version; the tie goes to legacy's version,
        // which revamp's copy holds.
        let c = confirmed(
            Some(legacy(
                "drift@x",
                "2026-01-01T00:00:01+00:00",
                "sync_service",
            )),
            Some(revamp("a@x", "2026-01-01 00:00:01", "sync_service")),
            None,
        );
        let p = planned(&c);
        assert_eq!((p.action, p.side), ("update", Side::Legacy));
        assert_eq!(p.version.origin, Side::Legacy);
    }

    #[test]
    fn one_sided_rows_are_created_or_deleted_by_the_tombstone() {
        let c = confirmed(
            Some(legacy("a@x", "2026-01-01T00:00:01+00:00", "legacy")),
            None,
            None,
        );
        let p = planned(&c);
        assert_eq!((p.action, p.side), ("insert", Side::Revamp));
        let newer_delete = Version {
            updated_at: "2026-01-01T00:00:05Z".parse().unwrap(),
            origin: Side::Legacy,
        };
        let c = confirmed(
            Some(legacy("a@x", "2026-01-01T00:00:01+00:00", "legacy")),
            None,
            Some(newer_delete),
        );
        let p = planned(&c);
        assert_eq!((p.action, p.side), ("delete", Side::Legacy));
        let older_delete = Version {
            updated_at: "2026-01-01T00:00:00Z".parse().unwrap(),
            origin: Side::Revamp,
        };
        let c = confirmed(
            None,
            Some(revamp("a@x", "2026-01-01 00:00:01", "revamp")),
            Some(older_delete),
        );
        let p = planned(&c);
        assert_eq!((p.action, p.side), ("insert", Side::Legacy));
    }
}

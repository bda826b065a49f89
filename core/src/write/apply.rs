//! The writer's decisions, once for both dialects: ledger first, then parents, tombstones and versions decide
//! whether an upsert or delete is written.

use crate::conflict::{Resolver, Version};
use crate::row::{Delete, RowOp, Upsert};
use crate::write::schema::ColumnTypes;
use crate::write::store::RowStore;
use crate::write::{BatchError, OpOutcome, WriteError};
use crate::Side;
use std::collections::{HashMap, HashSet};
use tracing::debug;

/// What the decisions need besides the operation.
pub(crate) struct Context<'a> {
    pub side: Side,
    pub resolvers: &'a HashMap<String, Resolver>,
    pub column_types: &'a ColumnTypes,
    /// A repair (`dbsync:repair`): an incoming version equal to the target's still overwrites it, because the copies
    /// differ although they claim the same version (drift).
    pub repair: bool,
}

impl Context<'_> {
    fn resolver(&self, entity: &str) -> Result<&Resolver, WriteError> {
        self.resolvers
            .get(entity)
            .ok_or_else(|| WriteError::Schema {
                entry: format!("entities.{entity}"),
                reason: "entity is not in the mapping this writer was built from".to_string(),
            })
    }
}

/// Applies `ops` in order, one outcome each. Once a row's operation waits for its parent, the row's later
/// operations are `Blocked` (README, "How it stays correct: Order is per row").
pub(crate) async fn apply_all<S: RowStore>(
    store: &mut S,
    context: &Context<'_>,
    ops: &[RowOp],
) -> Result<Vec<OpOutcome>, BatchError> {
    let mut outcomes = Vec::with_capacity(ops.len());
    let mut waiting: HashSet<(&str, i64)> = HashSet::new();
    for (index, op) in ops.iter().enumerate() {
        if waiting.contains(&(op.table(), op.key())) {
            outcomes.push(OpOutcome::Blocked);
            continue;
        }
        let outcome = match op {
            RowOp::Upsert(upsert) => apply_upsert(store, context, upsert).await,
            RowOp::Delete(delete) => apply_delete(store, context, delete).await,
        }
        .map_err(|error| BatchError { index, error })?;
        if matches!(outcome, OpOutcome::ParentMissing(_)) {
            waiting.insert((op.table(), op.key()));
        }
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

async fn apply_upsert<S: RowStore>(
    store: &mut S,
    context: &Context<'_>,
    op: &Upsert,
) -> Result<OpOutcome, WriteError> {
    // Parents before the ledger: a child that must wait leaves no trace, so its retry is not taken for a replay.
    for parent in &op.parents {
        if !store
            .row_exists(&parent.table, &parent.key_column, parent.id)
            .await?
        {
            if store.tombstone(&parent.table, parent.id).await?.is_some() {
                if !store
                    .record_event(op.event_id, op.source_committed_at)
                    .await?
                {
                    return Ok(OpOutcome::Duplicate);
                }
                // The row goes with its parent: tombstone it too, so its own children are dropped rather than
                // left waiting for it.
                let resolver = context.resolver(&op.entity)?;
                let incoming = Version {
                    updated_at: op.updated_at,
                    origin: op.origin,
                };
                let newer = match store.tombstone(&op.table, op.key).await? {
                    Some(tomb) => !resolver.beats(
                        incoming,
                        Version::stored(context.side, tomb.updated_at, &tomb.source),
                    ),
                    None => false,
                };
                if !newer {
                    store.put_tombstone(&op.table, op.key, incoming).await?;
                }
                return Ok(OpOutcome::ParentDeleted(parent.clone()));
            }
            return Ok(OpOutcome::ParentMissing(parent.clone()));
        }
    }
    if !store
        .record_event(op.event_id, op.source_committed_at)
        .await?
    {
        return Ok(OpOutcome::Duplicate);
    }
    let resolver = context.resolver(&op.entity)?;
    let incoming = Version {
        updated_at: op.updated_at,
        origin: op.origin,
    };
    let current = store
        .lock_version(&op.table, &op.key_column, &op.updated_at_column, op.key)
        .await?;
    match current {
        Some(stored) => {
            let current = Version::stored(context.side, stored.updated_at, &stored.source);
            let repairs_equal = context.repair && incoming == current;
            if !resolver.beats(incoming, current) && !repairs_equal {
                debug!(entity = %op.entity, key = op.key, ?incoming, ?current, "incoming version lost");
                return Ok(OpOutcome::ConflictLost);
            }
            store.update(op, context.column_types).await?;
        }
        None => {
            if let Some(tomb) = store.tombstone(&op.table, op.key).await? {
                let deleted = Version::stored(context.side, tomb.updated_at, &tomb.source);
                if !resolver.beats(incoming, deleted) {
                    debug!(entity = %op.entity, key = op.key, ?incoming, ?deleted, "row stays deleted");
                    return Ok(OpOutcome::ConflictLost);
                }
                store.drop_tombstone(&op.table, op.key).await?;
            }
            store.insert(op, context.column_types).await?;
        }
    }
    Ok(OpOutcome::Applied)
}

async fn apply_delete<S: RowStore>(
    store: &mut S,
    context: &Context<'_>,
    op: &Delete,
) -> Result<OpOutcome, WriteError> {
    if !store
        .record_event(op.event_id, op.source_committed_at)
        .await?
    {
        return Ok(OpOutcome::Duplicate);
    }
    let resolver = context.resolver(&op.entity)?;
    let current = store
        .lock_version(&op.table, &op.key_column, &op.updated_at_column, op.key)
        .await?;
    match current {
        Some(stored) => {
            let current = Version::stored(context.side, stored.updated_at, &stored.source);
            if !resolver.delete_applies(op.deleted, current) {
                debug!(entity = %op.entity, key = op.key, deleted = ?op.deleted, ?current, "delete lost to a newer edit");
                return Ok(OpOutcome::ConflictLost);
            }
            store.delete(op).await?;
            // The trigger stamped the tombstone with now; it must carry the delete's own time.
            store.put_tombstone(&op.table, op.key, op.deleted).await?;
        }
        None => {
            // Never arrived (or already gone): remember the delete so a late create cannot bring the row back.
            let newer_tombstone = match store.tombstone(&op.table, op.key).await? {
                Some(tomb) => {
                    let existing = Version::stored(context.side, tomb.updated_at, &tomb.source);
                    !resolver.beats(op.deleted, existing)
                }
                None => false,
            };
            if !newer_tombstone {
                store.put_tombstone(&op.table, op.key, op.deleted).await?;
            }
        }
    }
    Ok(OpOutcome::Applied)
}

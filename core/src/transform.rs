//! The pure transform: one change event from one side becomes one row operation on the other side, in the other
//! side's table, column names and value spellings. No I/O; the writers apply what this returns.
//!
//! The key comes from the event (decode read it from the row image), `source` is never mapped (the target's
//! trigger stamps it), and columns the mapping does not know are ignored.
//!
//! A delete maps no row values: it carries the key and the delete's own version, read from the event's payload as
//! [`Version::stored`]: for a tombstone, when and by whom the row was deleted (its `deleted_at` and deleter under
//! the origin's `updated_at` column and `source`; a published deleter is never the sync service, so the version is
//! the origin side's), for the event contract's delete of a row its `updated_at` and `source`. The writer deletes
//! the target row unless that row holds a version that beats it (last-writer-wins: an update newer than the delete
//! survives, a delete newer than a concurrent update wins); a payload without that version is
//! [`TransformError::MalformedDelete`].
//!
//! Keys are checked against the sides' key ranges ([`keys`]): a primary or foreign key that no side can hold, or a
//! new revamp row whose key revamp does not mint, is [`TransformError::KeyOutOfRange`] (dead-lettered as
//! `key_out_of_range`), never applied.

mod convert;
pub mod keys;

use crate::conflict::Version;
use crate::error::{quote, DeadLetterReason};
use crate::event::{ChangeEvent, Operation, Side};
use crate::filter::SOURCE_COLUMN;
use crate::mapping::{Entity, Mapping};
use crate::row::{Delete, ParentRef, RowOp, SqlValue, Upsert};
use crate::timestamp;
use serde_json::Value;
use thiserror::Error;

/// The event cannot be expressed on the other side. Retrying will not help: these go to the dead-letter topic.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TransformError {
    /// The event's entity type is not in the mapping.
    #[error("entity `{entity}` is not in the mapping")]
    UnknownEntity {
        /// The entity type the event named.
        entity: String,
    },
    /// A mapped column is absent from the row image.
    #[error("{entity}: mapped column `{column}` is missing from the {side} row")]
    MissingColumn {
        /// The entity name.
        entity: String,
        /// The side whose row image lacks it.
        side: Side,
        /// The column, in that side's name.
        column: String,
    },
    /// A `value_map` column holds a value that no pair maps.
    #[error("{entity}.{column}: value {value} has no counterpart in the mapping")]
    UnmappedValue {
        /// The entity name.
        entity: String,
        /// The column, in the origin side's name.
        column: String,
        /// The value as JSON (shortened).
        value: String,
    },
    /// A value has the wrong type or form for its converter.
    #[error("{entity}.{column}: {value} is not {expected}")]
    InvalidValue {
        /// The entity name.
        entity: String,
        /// The column, in the origin side's name.
        column: String,
        /// The value as JSON (shortened).
        value: String,
        /// What the converter accepts.
        expected: &'static str,
    },
    /// A delete's payload lacks the delete's version (its `updated_at` column or `source`: when and by whom the row
    /// was deleted), or holds an unusable one, so last-writer-wins could not judge it.
    #[error("{entity}: delete from the {side} side has no usable `{column}` (the delete's version): {problem}")]
    MalformedDelete {
        /// The entity name.
        entity: String,
        /// The side the delete came from.
        side: Side,
        /// The payload field, in that side's name.
        column: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A key lies outside the range it must be in ([`keys`]): a primary or foreign key no side can hold (zero or
    /// negative), or a new revamp row whose key is not one revamp mints (keys.rs says why legacy is exempt).
    #[error(
        "{entity}.{column}: key {key} from the {side} side is out of range (expected {expected})"
    )]
    KeyOutOfRange {
        /// The entity name.
        entity: String,
        /// The side the event came from.
        side: Side,
        /// The key column, in the origin side's name.
        column: String,
        /// The key.
        key: i64,
        /// The range it must lie in, e.g. `1 to 999999999999`.
        expected: String,
    },
}

impl TransformError {
    /// The dead-letter reason: `malformed` for [`TransformError::MalformedDelete`] (the event lacks data every delete
    /// must carry), `key_out_of_range` for [`TransformError::KeyOutOfRange`], `unmappable` for the rest (the event
    /// is well-formed but the mapping cannot express it).
    pub fn reason(&self) -> DeadLetterReason {
        match self {
            TransformError::MalformedDelete { .. } => DeadLetterReason::Malformed,
            TransformError::KeyOutOfRange { .. } => DeadLetterReason::KeyOutOfRange,
            _ => DeadLetterReason::Unmappable,
        }
    }
}

/// Maps `event` (a row of its origin side) to the row operation on the other side.
pub fn transform(event: &ChangeEvent, mapping: &Mapping) -> Result<RowOp, TransformError> {
    let entity =
        mapping
            .entity(&event.entity_type)
            .ok_or_else(|| TransformError::UnknownEntity {
                entity: event.entity_type.clone(),
            })?;
    let target = event.origin.other();
    check_key(
        event,
        entity,
        entity.key(),
        event.primary_key,
        keys::primary_key_range(event),
    )?;
    match event.operation {
        Operation::Delete => {
            let deleted = deleted_version(event, entity)?;
            Ok(RowOp::Delete(Delete {
                entity: entity.name().to_string(),
                table: entity.table(target).to_string(),
                key_column: entity.key().to_string(),
                key: event.primary_key,
                deleted,
                updated_at_column: entity.updated_at(target).to_string(),
                conflict: entity.conflict(),
                event_id: event.event_id,
                source_committed_at: timestamp::commit_estimate(
                    event.timestamp,
                    deleted.updated_at,
                ),
                origin: event.origin,
                position: event.position.clone(),
            }))
        }
        Operation::Create | Operation::Update => upsert(event, entity, mapping).map(RowOp::Upsert),
    }
}

/// `key`, the value of `column`, if it lies in `range`; else [`TransformError::KeyOutOfRange`].
fn check_key(
    event: &ChangeEvent,
    entity: &Entity,
    column: &str,
    key: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Result<(), TransformError> {
    if range.contains(&key) {
        return Ok(());
    }
    Err(TransformError::KeyOutOfRange {
        entity: entity.name().to_string(),
        side: event.origin,
        column: column.to_string(),
        key,
        expected: keys::describe(&range),
    })
}

/// The delete's version: the payload's `updated_at` column and `source` at the origin (a tombstone's `deleted_at`
/// and deleter; the event contract's deleted row).
fn deleted_version(event: &ChangeEvent, entity: &Entity) -> Result<Version, TransformError> {
    let malformed = |column: &str, problem: String| TransformError::MalformedDelete {
        entity: entity.name().to_string(),
        side: event.origin,
        column: column.to_string(),
        problem,
    };
    let present = |column: &str| match event.payload.get(column) {
        None | Some(Value::Null) => Err(malformed(column, "missing or null".to_string())),
        Some(value) => Ok(value),
    };
    let column = entity.updated_at(event.origin);
    let value = present(column)?;
    let updated_at = convert::timestamp_of(value).ok_or_else(|| {
        malformed(
            column,
            format!("{} is not {}", quote(value), convert::TIMESTAMP_EXPECTED),
        )
    })?;
    let value = present(SOURCE_COLUMN)?;
    let source = value
        .as_str()
        .ok_or_else(|| malformed(SOURCE_COLUMN, format!("{} is not a string", quote(value))))?;
    Ok(Version::stored(event.origin, updated_at, source))
}

fn upsert(
    event: &ChangeEvent,
    entity: &Entity,
    mapping: &Mapping,
) -> Result<Upsert, TransformError> {
    let (origin, target) = (event.origin, event.origin.other());
    let name = entity.name();
    let mut columns = Vec::with_capacity(entity.column_mappings().len() + 1);
    let mut parents = Vec::new();
    let mut updated_at = None;
    for column in entity.column_mappings() {
        let origin_name = column.names(origin).first().map(String::as_str);
        if origin_name == Some(entity.key()) {
            columns.push((entity.key().to_string(), SqlValue::Int(event.primary_key)));
            continue;
        }
        let is_updated_at = origin_name == Some(entity.updated_at(origin));
        if !is_updated_at
            && column
                .names(origin)
                .iter()
                .all(|n| !event.payload.contains_key(n))
        {
            // An event from before this column existed (schema evolution): the target keeps its own value (its
            // default, for an insert). A column only partly present is still an error.
            continue;
        }
        let converted = convert::convert(name, column, origin, &event.payload)?;
        if is_updated_at {
            updated_at = converted.iter().find_map(|(_, value)| match value {
                SqlValue::Timestamp(at) => Some(*at),
                _ => None,
            });
        }
        if let (Some(parent), [(_, value)]) = (column.references(), converted.as_slice()) {
            let origin_name = origin_name.unwrap_or_default();
            let id = match value {
                SqlValue::Null => None,
                SqlValue::Int(id) => Some(*id),
                _ => {
                    return Err(TransformError::InvalidValue {
                        entity: name.to_string(),
                        column: origin_name.to_string(),
                        value: event
                            .payload
                            .get(origin_name)
                            .map(quote)
                            .unwrap_or_default(),
                        expected: "an integer key",
                    })
                }
            };
            if let Some(id) = id {
                // A foreign key may point at a row of either side (a row keeps its id on both).
                check_key(event, entity, origin_name, id, keys::ANY_KEY)?;
            }
            if let (Some(id), Some(parent)) = (id, mapping.entity(parent)) {
                parents.push(ParentRef {
                    entity: parent.name().to_string(),
                    table: parent.table(target).to_string(),
                    key_column: parent.key().to_string(),
                    id,
                });
            }
        }
        columns.extend(converted);
    }
    let updated_at_column = entity.updated_at(origin);
    let updated_at = updated_at.ok_or_else(|| TransformError::InvalidValue {
        entity: name.to_string(),
        column: updated_at_column.to_string(),
        value: "null".to_string(),
        expected: "a timestamp (last-writer-wins needs it)",
    })?;
    Ok(Upsert {
        entity: name.to_string(),
        table: entity.table(target).to_string(),
        key_column: entity.key().to_string(),
        key: event.primary_key,
        columns,
        updated_at_column: entity.updated_at(target).to_string(),
        updated_at,
        conflict: entity.conflict(),
        parents,
        event_id: event.event_id,
        source_committed_at: timestamp::commit_estimate(event.timestamp, updated_at),
        origin,
        position: event.position.clone(),
    })
}

#[cfg(test)]
mod tests;

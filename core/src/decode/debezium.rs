//! Debezium's change event envelope (`before`, `after`, `source`, `op`), from the PostgreSQL and the MariaDB/MySQL
//! connectors.
//!
//! The event id is a UUIDv5 in [`EVENT_ID_NAMESPACE`] of `"{source.name}|{position}|{source.table}|{key}|{op}"`
//! (README, "How it stays correct: Replays apply nothing"), where the position is `"{lsn}:{txId}"` for PostgreSQL
//! and `"{file}:{pos}:{row}"` (plus `":{gtid}"` when set) for MariaDB/MySQL. Redelivered bytes give the same id;
//! rows of one snapshot, which share a position, differ by key.
//!
//! A row of [`TOMBSTONE_TABLE`] is a delete of the row it names (see the parent module): its id uses the same
//! derivation with the table `dbsync_tombstones` and the key `"{table_name}:{row_id}"`, unique across tables.

use super::{
    invalid, key_value, required, required_object, required_str, DecodeError, Decoded,
    TOMBSTONE_TABLE,
};
use crate::error::quote;
use crate::event::{ChangeEvent, Operation, Side, EVENT_ID_NAMESPACE};
use crate::filter::SOURCE_COLUMN;
use crate::mapping::Mapping;
use crate::position::SourcePosition;
use crate::timestamp;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

/// Debezium envelopes carry no version of their own.
const ENVELOPE_EVENT_VERSION: u32 = 1;

/// [`Decoded::Ignored`]'s reason for the delete of a tombstone row.
const TOMBSTONE_PRUNED: &str = "tombstone pruned";
/// [`Decoded::Ignored`]'s reason for the delete of a synced row (its tombstone carries it).
const RAW_DELETE: &str = "raw delete (deletes travel as tombstones)";

pub(super) fn decode(
    message: &Map<String, Value>,
    side: Side,
    mapping: &Mapping,
) -> Result<Decoded, DecodeError> {
    let op = required_str(message, "op", "op")?;
    let (operation, snapshot) = match op {
        "c" => (Operation::Create, false),
        "r" => (Operation::Create, true),
        "u" => (Operation::Update, false),
        "d" => (Operation::Delete, false),
        other => {
            return Err(DecodeError::UnknownOperation {
                field: "op",
                op: other.chars().take(16).collect(),
            })
        }
    };
    let source = required_object(message, "source", "source")?;
    let table = required_str(source, "table", "source.table")?;
    if table == TOMBSTONE_TABLE {
        return if operation == Operation::Delete {
            Ok(Decoded::Ignored {
                reason: TOMBSTONE_PRUNED,
            })
        } else {
            tombstone(message, source, op, snapshot, side, mapping).map(Decoded::Event)
        };
    }
    let entity = mapping
        .entity_for_table(side, table)
        .ok_or_else(|| DecodeError::Unmappable {
            side,
            what: "table",
            name: table.to_string(),
        })?;
    if operation == Operation::Delete {
        return Ok(Decoded::Ignored { reason: RAW_DELETE });
    }
    let row = required_object(message, "after", "after")?;
    let key = key_value(row.get(entity.key()), &format!("after.{}", entity.key()))?;
    let row_source = required_str(row, SOURCE_COLUMN, &format!("after.{SOURCE_COLUMN}"))?;
    Ok(Decoded::Event(ChangeEvent {
        event_id: event_id(source, table, &key, op)?,
        entity_type: entity.name().to_string(),
        operation,
        primary_key: key,
        payload: row.clone(),
        source: row_source.to_string(),
        event_version: ENVELOPE_EVENT_VERSION,
        timestamp: commit_time(source)?,
        origin: side,
        snapshot,
        position: SourcePosition::from_debezium(source),
    }))
}

/// A tombstone row written (or read by a snapshot): the delete of `after.row_id` in `after.table_name`, whose
/// version is the delete's own (`after.deleted_at` and the deleter `after.source`). `row_updated_at` and `row_source`
/// (the deleted row's version) are not read.
fn tombstone(
    message: &Map<String, Value>,
    source: &Map<String, Value>,
    op: &str,
    snapshot: bool,
    side: Side,
    mapping: &Mapping,
) -> Result<ChangeEvent, DecodeError> {
    let row = required_object(message, "after", "after")?;
    let table = required_str(row, "table_name", "after.table_name")?;
    let entity = mapping
        .entity_for_table(side, table)
        .ok_or_else(|| DecodeError::Unmappable {
            side,
            what: "table",
            name: table.to_string(),
        })?;
    let key = key_value(row.get("row_id"), "after.row_id")?;
    let deleted_at = required(row, "deleted_at", "after.deleted_at")?;
    // Kept as received (ISO text from PostgreSQL, epoch microseconds from MariaDB), but it must be readable.
    let readable = match deleted_at {
        Value::String(text) => timestamp::parse_text(text).is_some(),
        Value::Number(n) => n.as_i64().and_then(timestamp::from_micros).is_some(),
        _ => false,
    };
    if !readable {
        return Err(DecodeError::InvalidTimestamp {
            field: "after.deleted_at".to_string(),
            value: quote(deleted_at),
        });
    }
    let deleter = required_str(row, SOURCE_COLUMN, &format!("after.{SOURCE_COLUMN}"))?;
    let mut payload = Map::with_capacity(3);
    payload.insert(entity.key().to_string(), Value::from(key));
    payload.insert(entity.updated_at(side).to_string(), deleted_at.clone());
    payload.insert(SOURCE_COLUMN.to_string(), Value::from(deleter));
    Ok(ChangeEvent {
        event_id: event_id(source, TOMBSTONE_TABLE, &format!("{table}:{key}"), op)?,
        entity_type: entity.name().to_string(),
        operation: Operation::Delete,
        primary_key: key,
        payload,
        source: deleter.to_string(),
        event_version: ENVELOPE_EVENT_VERSION,
        timestamp: commit_time(source)?,
        origin: side,
        snapshot,
        position: SourcePosition::from_debezium(source),
    })
}

/// The deterministic event id (see the module docs).
fn event_id(
    source: &Map<String, Value>,
    table: &str,
    key: &dyn std::fmt::Display,
    op: &str,
) -> Result<Uuid, DecodeError> {
    let connector = required_str(source, "name", "source.name")?;
    let position = position(source)?;
    let name = format!("{connector}|{position}|{table}|{key}|{op}");
    Ok(Uuid::new_v5(&EVENT_ID_NAMESPACE, name.as_bytes()))
}

/// Where the change sits in the source's log: unique per change, stable across redeliveries.
fn position(source: &Map<String, Value>) -> Result<String, DecodeError> {
    let unsigned = |name: &str, path: &str| {
        let value = required(source, name, path)?;
        value.as_u64().ok_or_else(|| {
            invalid(
                path,
                &format!("not a non-negative integer: {}", quote(value)),
            )
        })
    };
    if source.get("lsn").is_some_and(|lsn| !lsn.is_null()) {
        let lsn = unsigned("lsn", "source.lsn")?;
        let tx = match source.get("txId") {
            None | Some(Value::Null) => String::new(),
            Some(_) => unsigned("txId", "source.txId")?.to_string(),
        };
        return Ok(format!("{lsn}:{tx}"));
    }
    if source.contains_key("file") {
        let file = required_str(source, "file", "source.file")?;
        let pos = unsigned("pos", "source.pos")?;
        let row = unsigned("row", "source.row")?;
        return Ok(match source.get("gtid").and_then(Value::as_str) {
            Some(gtid) => format!("{file}:{pos}:{row}:{gtid}"),
            None => format!("{file}:{pos}:{row}"),
        });
    }
    Err(invalid(
        "source",
        "no position: neither `lsn` (PostgreSQL) nor `file`/`pos`/`row` (MySQL, MariaDB)",
    ))
}

/// The commit time at the source: `ts_us` when the connector sends it (Debezium 2.6+), else `ts_ms`.
fn commit_time(source: &Map<String, Value>) -> Result<DateTime<Utc>, DecodeError> {
    let (field, value, at) = match source.get("ts_us") {
        Some(value) if !value.is_null() => (
            "source.ts_us",
            value,
            value.as_i64().and_then(timestamp::from_micros),
        ),
        _ => {
            let value = required(source, "ts_ms", "source.ts_ms")?;
            (
                "source.ts_ms",
                value,
                value.as_i64().and_then(timestamp::from_millis),
            )
        }
    };
    at.ok_or_else(|| DecodeError::InvalidTimestamp {
        field: field.to_string(),
        value: quote(value),
    })
}

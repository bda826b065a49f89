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
//!
//! Only the fields read here are parsed ([`Envelope`], [`SourceBlock`]): `before`, `transaction` and the rest of
//! `source` are skipped without being built, and the `after` image becomes the event's payload as parsed, not
//! copied. Building the whole message as a `serde_json::Value` tree (and copying `after` out of it) was the largest
//! share of the consumer's CPU in `perf` (38%; README "Benchmarks").

use super::{
    invalid, key_value, present, required, required_str, text, DecodeError, Decoded,
    TOMBSTONE_TABLE,
};
use crate::error::quote;
use crate::event::{ChangeEvent, Operation, Side, EVENT_ID_NAMESPACE};
use crate::filter::SOURCE_COLUMN;
use crate::mapping::Mapping;
use crate::position::SourcePosition;
use crate::timestamp;
use chrono::{DateTime, Utc};
use serde::de::value::MapAccessDeserializer;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use std::fmt;
use std::marker::PhantomData;
use uuid::Uuid;

/// Debezium envelopes carry no version of their own.
const ENVELOPE_EVENT_VERSION: u32 = 1;

/// [`Decoded::Ignored`]'s reason for the delete of a tombstone row.
const TOMBSTONE_PRUNED: &str = "tombstone pruned";
/// [`Decoded::Ignored`]'s reason for the delete of a synced row (its tombstone carries it).
const RAW_DELETE: &str = "raw delete (deletes travel as tombstones)";

/// What decoding reads from a Debezium envelope. A field holds its JSON value as received, `null` included
/// (`None` is absent), so it reads exactly like the parsed object's `get`.
#[derive(Debug)]
pub(super) struct Envelope {
    op: Option<Value>,
    source: Result<SourceBlock, DecodeError>,
    after: Option<Value>,
}

/// The fields of `source` that decoding reads, as [`Envelope`] holds its own; the others are skipped unparsed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct SourceBlock {
    #[serde(deserialize_with = "as_received")]
    name: Option<Value>,
    #[serde(deserialize_with = "as_received")]
    table: Option<Value>,
    #[serde(deserialize_with = "as_received")]
    lsn: Option<Value>,
    #[serde(rename = "txId", deserialize_with = "as_received")]
    tx_id: Option<Value>,
    #[serde(deserialize_with = "as_received")]
    file: Option<Value>,
    #[serde(deserialize_with = "as_received")]
    pos: Option<Value>,
    #[serde(deserialize_with = "as_received")]
    row: Option<Value>,
    #[serde(deserialize_with = "as_received")]
    gtid: Option<Value>,
    #[serde(deserialize_with = "as_received")]
    ts_us: Option<Value>,
    #[serde(deserialize_with = "as_received")]
    ts_ms: Option<Value>,
}

/// The message as read straight from its bytes. It becomes an [`Envelope`] only when it is a plain Debezium
/// envelope: no `event_id` (the seed contract) and no `schema` (JsonConverter's wrapper), and an `op` or `source`.
/// Anything else, duplicate keys and a `source` that is not an object included, fails here or is refused by
/// [`read`], and takes the general path through a parsed object ([`Envelope::from_object`]).
#[derive(Deserialize)]
struct Wire {
    #[serde(default, deserialize_with = "as_received")]
    op: Option<Value>,
    #[serde(default)]
    source: Option<Object<SourceBlock>>,
    #[serde(default, deserialize_with = "as_received")]
    after: Option<Value>,
    #[serde(default)]
    event_id: Present,
    #[serde(default)]
    schema: Present,
}

/// `T` read from a JSON object only. A derived struct also reads from an array (its fields in order), which the
/// general path would refuse.
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Fields<T> {
            type Value = Object<T>;
            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Object<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(Object)
            }
        }
        deserializer.deserialize_map(Fields(PhantomData))
    }
}

/// Whether a field is there at all, whatever its value (`null` included); the value is skipped unparsed.
#[derive(Default)]
struct Present(bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(deserializer).map(|_| Present(true))
    }
}

/// A present field's value as received, `null` included (serde's `Option` would read `null` as absent).
fn as_received<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// The envelope of `value` if it is a plain Debezium one (see [`Wire`]), read straight from the bytes; else `None`,
/// and the caller takes the general path.
pub(super) fn read(value: &[u8]) -> Option<Envelope> {
    let Object(wire) = serde_json::from_slice::<Object<Wire>>(value).ok()?;
    wire.into_envelope()
}

impl Wire {
    /// The envelope, if this message is a plain Debezium one (see [`Wire`]).
    fn into_envelope(self) -> Option<Envelope> {
        if self.event_id.0 || self.schema.0 || (self.op.is_none() && self.source.is_none()) {
            return None;
        }
        Some(Envelope {
            op: self.op,
            source: self.source.map(|Object(block)| block).ok_or_else(|| {
                DecodeError::MissingField {
                    field: "source".to_string(),
                }
            }),
            after: self.after,
        })
    }
}

impl Envelope {
    /// The envelope of an already parsed message (the general path).
    pub(super) fn from_object(mut message: Map<String, Value>) -> Envelope {
        let source = match message.get("source") {
            None | Some(Value::Null) => Err(DecodeError::MissingField {
                field: "source".to_string(),
            }),
            Some(block @ Value::Object(_)) => SourceBlock::deserialize(block)
                .map_err(|error| invalid("source", &error.to_string())),
            Some(_) => Err(invalid("source", "not a JSON object")),
        };
        Envelope {
            op: message.remove("op"),
            source,
            after: message.remove("after"),
        }
    }
}

pub(super) fn decode(
    envelope: Envelope,
    side: Side,
    mapping: &Mapping,
) -> Result<Decoded, DecodeError> {
    let op = text(envelope.op.as_ref(), "op")?;
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
    let source = envelope.source?;
    let table = text(source.table.as_ref(), "source.table")?;
    if table == TOMBSTONE_TABLE {
        return if operation == Operation::Delete {
            Ok(Decoded::Ignored {
                reason: TOMBSTONE_PRUNED,
            })
        } else {
            let row = after(envelope.after)?;
            tombstone(&row, &source, op, snapshot, side, mapping).map(Decoded::Event)
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
    let row = after(envelope.after)?;
    let key = key_value(row.get(entity.key()), &format!("after.{}", entity.key()))?;
    let row_source =
        required_str(&row, SOURCE_COLUMN, &format!("after.{SOURCE_COLUMN}"))?.to_string();
    Ok(Decoded::Event(ChangeEvent {
        event_id: event_id(&source, table, &key, op)?,
        entity_type: entity.name().to_string(),
        operation,
        primary_key: key,
        payload: row,
        source: row_source,
        event_version: ENVELOPE_EVENT_VERSION,
        timestamp: commit_time(&source)?,
        origin: side,
        snapshot,
        position: source_position(&source),
    }))
}

/// The `after` row image, which becomes the event's payload.
fn after(value: Option<Value>) -> Result<Map<String, Value>, DecodeError> {
    match value {
        None | Some(Value::Null) => Err(DecodeError::MissingField {
            field: "after".to_string(),
        }),
        Some(Value::Object(row)) => Ok(row),
        Some(_) => Err(invalid("after", "not a JSON object")),
    }
}
/// A tombstone row written (or read by a snapshot): the delete of `after.row_id` in `after.table_name`, whose
/// version is the delete's own (`after.deleted_at` and the deleter `after.source`). `row_updated_at` and `row_source`
/// (the deleted row's version) are not read.
fn tombstone(
    row: &Map<String, Value>,
    source: &SourceBlock,
    op: &str,
    snapshot: bool,
    side: Side,
    mapping: &Mapping,
) -> Result<ChangeEvent, DecodeError> {
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
        position: source_position(source),
    })
}

/// The deterministic event id (see the module docs).
fn event_id(
    source: &SourceBlock,
    table: &str,
    key: &dyn std::fmt::Display,
    op: &str,
) -> Result<Uuid, DecodeError> {
    let connector = text(source.name.as_ref(), "source.name")?;
    let position = position(source)?;
    let name = format!("{connector}|{position}|{table}|{key}|{op}");
    Ok(Uuid::new_v5(&EVENT_ID_NAMESPACE, name.as_bytes()))
}

/// Where the change sits in the source's log: unique per change, stable across redeliveries.
fn position(source: &SourceBlock) -> Result<String, DecodeError> {
    let unsigned = |value: Option<&Value>, path: &str| {
        let value = present(value, path)?;
        value.as_u64().ok_or_else(|| {
            invalid(
                path,
                &format!("not a non-negative integer: {}", quote(value)),
            )
        })
    };
    if source.lsn.as_ref().is_some_and(|lsn| !lsn.is_null()) {
        let lsn = unsigned(source.lsn.as_ref(), "source.lsn")?;
        let tx = match &source.tx_id {
            None | Some(Value::Null) => String::new(),
            Some(tx) => unsigned(Some(tx), "source.txId")?.to_string(),
        };
        return Ok(format!("{lsn}:{tx}"));
    }
    if source.file.is_some() {
        let file = text(source.file.as_ref(), "source.file")?;
        let pos = unsigned(source.pos.as_ref(), "source.pos")?;
        let row = unsigned(source.row.as_ref(), "source.row")?;
        return Ok(match source.gtid.as_ref().and_then(Value::as_str) {
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
fn commit_time(source: &SourceBlock) -> Result<DateTime<Utc>, DecodeError> {
    let (field, value, at) = match &source.ts_us {
        Some(value) if !value.is_null() => (
            "source.ts_us",
            value,
            value.as_i64().and_then(timestamp::from_micros),
        ),
        _ => {
            let value = present(source.ts_ms.as_ref(), "source.ts_ms")?;
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

/// The position in the `source` block, if it has one [`SourcePosition`] can order: `lsn` (PostgreSQL), or
/// `file`/`pos`/`row` with a numbered file name (MySQL, MariaDB).
fn source_position(source: &SourceBlock) -> Option<SourcePosition> {
    if let Some(lsn) = source.lsn.as_ref().and_then(Value::as_u64) {
        return Some(SourcePosition::Lsn(lsn));
    }
    SourcePosition::binlog(
        source.file.as_ref()?.as_str()?,
        source.pos.as_ref()?.as_u64()?,
        source.row.as_ref()?.as_u64()?,
    )
}

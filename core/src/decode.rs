//! Kafka messages into [`ChangeEvent`]s. Two shapes arrive: Debezium's JSON envelope (JsonConverter with
//! `schemas.enable=false`; a `{"schema", "payload"}` wrapper is unwrapped too) and the seed's event contract
//! (`event_id`, `entity_type`, `operation`, ...). A null value is a Kafka tombstone, which is a value, not an error.
//!
//! # Deletes
//! Deletes travel as rows of [`TOMBSTONE_TABLE`]: an AFTER DELETE trigger on every synced table records
//! `(table_name, row_id, row_updated_at, row_source, deleted_at, source)`, and the connectors' filter drops the
//! tables' raw delete events. A tombstone insert or update (`op` `c`, `u`, or `r` in a snapshot) decodes to a
//! [`Operation::Delete`](crate::event::Operation::Delete) of `table_name`'s entity whose payload is the delete's
//! own version in the origin side's column names (`{key: row_id, <updated_at column>: deleted_at, "source":
//! source}`: when and by whom it was deleted, so last-writer-wins weighs the delete against concurrent updates)
//! and whose `source` is the deleter, so the echo filter drops the sync service's own deletes. `row_updated_at`
//! and `row_source` (the deleted row's version) are not read and may be absent. A tombstone's own delete (pruning)
//! is [`Decoded::Ignored`], and so is a raw `op = d` on a synced table (a connector without the filter): its
//! tombstone, written in the same transaction, carries the delete. Ignoring it is also what makes PostgreSQL's
//! publication row filter safe: an update that stamps `sync_service` on a row the application wrote is published
//! as a delete of the old row (databases/postgres/migrations/0004_publication_row_filters.sql).
//!
//! Every failure is a [`DecodeError`] naming the field; nothing from the input can panic.

mod debezium;
mod seed;

use crate::error::{quote, DeadLetterReason};
use crate::event::{ChangeEvent, Side};
use crate::mapping::Mapping;
use serde_json::{Map, Value};
use thiserror::Error;

/// The table the delete triggers write on both sides; its rows are deletes of synced rows (see the module docs).
pub const TOMBSTONE_TABLE: &str = "dbsync_tombstones";

/// What one message decodes to.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    /// A change of one row.
    Event(ChangeEvent),
    /// A Kafka tombstone (null value): log compaction's marker, nothing to apply.
    Tombstone,
    /// A well-formed message that changes nothing on the other side, e.g. a pruned [`TOMBSTONE_TABLE`] row.
    Ignored {
        /// Why, for logs and counters: a short fixed phrase.
        reason: &'static str,
    },
}

/// The message cannot become a change event. Retrying will not help: these go to the dead-letter topic with
/// [`DecodeError::reason`].
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The value is not UTF-8 JSON.
    #[error("value is not UTF-8 JSON: {source}")]
    NotJson {
        /// The parser's message.
        #[source]
        source: serde_json::Error,
    },
    /// A required field is absent or null.
    #[error("field `{field}` is missing or null")]
    MissingField {
        /// Path of the field, e.g. `source.table`.
        field: String,
    },
    /// A field has the wrong type or an unusable value.
    #[error("field `{field}` is invalid: {problem}")]
    InvalidField {
        /// Path of the field.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The operation is not create, update, delete or snapshot read.
    #[error("field `{field}` has unknown operation {op:?}")]
    UnknownOperation {
        /// `op` (Debezium) or `operation` (seed contract).
        field: &'static str,
        /// The operation as received.
        op: String,
    },
    /// The row image or `primary_key` lacks the entity's key column.
    #[error("key `{field}` is missing or null")]
    MissingKey {
        /// Path of the key, e.g. `after.id`.
        field: String,
    },
    /// The key is not a 64-bit integer.
    #[error("key `{field}` is not an integer: {value}")]
    InvalidKey {
        /// Path of the key.
        field: String,
        /// The value as JSON (shortened).
        value: String,
    },
    /// The seed contract's `event_id` is not a UUID.
    #[error("field `event_id` is not a UUID: {value:?}")]
    InvalidEventId {
        /// The value as received (shortened).
        value: String,
        /// The parser's message.
        #[source]
        source: uuid::Error,
    },
    /// A timestamp is neither ISO-8601 nor epoch milliseconds in range.
    #[error("field `{field}` is not a valid timestamp: {value}")]
    InvalidTimestamp {
        /// Path of the field.
        field: String,
        /// The value as JSON (shortened).
        value: String,
    },
    /// The message is well-formed but its table or entity type is not in the mapping.
    #[error("{what} `{name}` is not in the mapping ({side} side)")]
    Unmappable {
        /// The side the message came from.
        side: Side,
        /// `table` or `entity type`.
        what: &'static str,
        /// The name as received.
        name: String,
    },
}

impl DecodeError {
    /// The dead-letter reason: `unmappable` for [`DecodeError::Unmappable`], `malformed` for the rest.
    pub fn reason(&self) -> DeadLetterReason {
        match self {
            DecodeError::Unmappable { .. } => DeadLetterReason::Unmappable,
            _ => DeadLetterReason::Malformed,
        }
    }
}

/// Decodes one Kafka message from the topic of `side`.
///
/// `key` is accepted for symmetry with the Kafka record but not needed: the primary key is read from the row image
/// (or the seed's `primary_key`), so a message produced without a key decodes the same.
pub fn decode(
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    side: Side,
    mapping: &Mapping,
) -> Result<Decoded, DecodeError> {
    let _ = key;
    let Some(value) = value else {
        return Ok(Decoded::Tombstone);
    };
    // The common case, a plain Debezium envelope, is read straight into the fields decoding needs. Anything else
    // takes the general path, which gives the same result for an envelope, only slower.
    match debezium::read(value) {
        Some(envelope) => debezium::decode(envelope, side, mapping),
        None => decode_object(value, side, mapping),
    }
}

/// The general path: the message parsed as a whole, then dispatched on its fields.
fn decode_object(value: &[u8], side: Side, mapping: &Mapping) -> Result<Decoded, DecodeError> {
    let message: Value =
        serde_json::from_slice(value).map_err(|source| DecodeError::NotJson { source })?;
    let Value::Object(mut message) = message else {
        return Err(invalid("value", "not a JSON object"));
    };
    // JsonConverter with schemas.enable=true wraps the envelope; the values inside are the same.
    if message.len() == 2 && message.contains_key("schema") {
        if let Some(Value::Object(payload)) = message.remove("payload") {
            message = payload;
        }
    }
    if message.contains_key("event_id") {
        seed::decode(&message, side, mapping).map(Decoded::Event)
    } else if message.contains_key("op") || message.get("source").is_some_and(Value::is_object) {
        debezium::decode(debezium::Envelope::from_object(message), side, mapping)
    } else {
        Err(invalid(
            "value",
            "neither a Debezium envelope (no `op`) nor a seed event (no `event_id`)",
        ))
    }
}

fn invalid(field: &str, problem: &str) -> DecodeError {
    DecodeError::InvalidField {
        field: field.to_string(),
        problem: problem.to_string(),
    }
}

/// `object[name]`, required and non-null; `path` is how errors name it.
fn required<'a>(
    object: &'a Map<String, Value>,
    name: &str,
    path: &str,
) -> Result<&'a Value, DecodeError> {
    present(object.get(name), path)
}

/// A field's value, required and non-null; `path` is how errors name it.
fn present<'a>(value: Option<&'a Value>, path: &str) -> Result<&'a Value, DecodeError> {
    match value {
        None | Some(Value::Null) => Err(DecodeError::MissingField {
            field: path.to_string(),
        }),
        Some(value) => Ok(value),
    }
}

fn required_str<'a>(
    object: &'a Map<String, Value>,
    name: &str,
    path: &str,
) -> Result<&'a str, DecodeError> {
    text(object.get(name), path)
}

/// A field's value, required and a string.
fn text<'a>(value: Option<&'a Value>, path: &str) -> Result<&'a str, DecodeError> {
    present(value, path)?
        .as_str()
        .ok_or_else(|| invalid(path, "not a string"))
}

fn required_object<'a>(
    object: &'a Map<String, Value>,
    name: &str,
    path: &str,
) -> Result<&'a Map<String, Value>, DecodeError> {
    required(object, name, path)?
        .as_object()
        .ok_or_else(|| invalid(path, "not a JSON object"))
}

/// The primary key: an integer that fits `i64`.
fn key_value(value: Option<&Value>, path: &str) -> Result<i64, DecodeError> {
    match value {
        None | Some(Value::Null) => Err(DecodeError::MissingKey {
            field: path.to_string(),
        }),
        Some(value) => value.as_i64().ok_or_else(|| DecodeError::InvalidKey {
            field: path.to_string(),
            value: quote(value),
        }),
    }
}

#[cfg(test)]
mod tests;

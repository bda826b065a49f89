//! The seed's event contract: `{"event_id", "entity_type", "operation", "primary_key", "payload", "source",
//! "event_version", "timestamp"}`. The producer chose the event id, so it is taken as given (a replay carries the
//! same id). `primary_key` is the key alone (`5`) or an object holding the key column (`{"id": 5}`); `timestamp`
//! is ISO-8601 or epoch milliseconds; a missing `event_version` counts as 1.

use super::{invalid, key_value, required, required_object, required_str, DecodeError};
use crate::error::quote;
use crate::event::{ChangeEvent, Operation, Side};
use crate::mapping::Mapping;
use crate::timestamp;
use serde_json::{Map, Value};
use uuid::Uuid;

/// `event_version` when the message has none.
const DEFAULT_EVENT_VERSION: u32 = 1;

pub(super) fn decode(
    message: &Map<String, Value>,
    side: Side,
    mapping: &Mapping,
) -> Result<ChangeEvent, DecodeError> {
    let id = required_str(message, "event_id", "event_id")?;
    let event_id = Uuid::parse_str(id).map_err(|source| DecodeError::InvalidEventId {
        value: id.chars().take(64).collect(),
        source,
    })?;
    let entity_type = required_str(message, "entity_type", "entity_type")?;
    let entity = mapping
        .entity(entity_type)
        .ok_or_else(|| DecodeError::Unmappable {
            side,
            what: "entity type",
            name: entity_type.to_string(),
        })?;
    let operation = match required_str(message, "operation", "operation")? {
        "CREATE" => Operation::Create,
        "UPDATE" => Operation::Update,
        "DELETE" => Operation::Delete,
        other => {
            return Err(DecodeError::UnknownOperation {
                field: "operation",
                op: other.chars().take(16).collect(),
            })
        }
    };
    let primary_key = match required(message, "primary_key", "primary_key")? {
        Value::Object(key) => {
            let path = format!("primary_key.{}", entity.key());
            key_value(key.get(entity.key()), &path)?
        }
        other => key_value(Some(other), "primary_key")?,
    };
    let event_version = match message.get("event_version") {
        None | Some(Value::Null) => DEFAULT_EVENT_VERSION,
        Some(value) => value
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| {
                invalid(
                    "event_version",
                    &format!("not a version number: {}", quote(value)),
                )
            })?,
    };
    let at = required(message, "timestamp", "timestamp")?;
    let timestamp = match at {
        Value::String(text) => timestamp::parse_text(text),
        Value::Number(n) => n.as_i64().and_then(timestamp::from_millis),
        _ => None,
    }
    .ok_or_else(|| DecodeError::InvalidTimestamp {
        field: "timestamp".to_string(),
        value: quote(at),
    })?;
    Ok(ChangeEvent {
        event_id,
        entity_type: entity.name().to_string(),
        operation,
        primary_key,
        payload: required_object(message, "payload", "payload")?.clone(),
        source: required_str(message, "source", "source")?.to_string(),
        event_version,
        timestamp,
        origin: side,
        snapshot: false,
        position: None,
    })
}

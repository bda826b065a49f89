//! `dbsync_transform`: what dbsync would write for one Debezium (or seed-contract) message, without I/O. The same
//! three steps as the consumer's pipeline: decode, drop echoes, transform; a reviewer or a test in another language
//! sees exactly the row operation the writer would get.

use super::boundary::{guard, put, read_str};
use super::row_json;
use super::status::{DbsyncStatus, Failure};
use crate::decode::{decode, Decoded};
use crate::event::Side;
use crate::filter::is_echo;
use crate::mapping::Mapping;
use crate::transform::transform;
use std::ffi::{c_char, c_int};

/// Which way a message travels: the side whose topic it came from, and the other side it is written to.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbsyncDirection {
    /// From `legacy.events` (PostgreSQL) to the revamp (MySQL/MariaDB) database.
    LegacyToRevamp = 0,
    /// From `revamp.events` (MySQL/MariaDB) to the legacy (PostgreSQL) database.
    RevampToLegacy = 1,
}

impl DbsyncDirection {
    /// The direction whose code is `code`; anything else is refused (a C enum can carry any integer).
    fn from_code(code: c_int) -> Result<Self, Failure> {
        match code {
            0 => Ok(DbsyncDirection::LegacyToRevamp),
            1 => Ok(DbsyncDirection::RevampToLegacy),
            other => Err(Failure::argument(
                "direction",
                &format!(
                    "is {other}, expected DBSYNC_DIRECTION_LEGACY_TO_REVAMP (0) or \
                          DBSYNC_DIRECTION_REVAMP_TO_LEGACY (1)"
                ),
            )),
        }
    }

    /// The side messages of this direction come from.
    fn origin(self) -> Side {
        match self {
            DbsyncDirection::LegacyToRevamp => Side::Legacy,
            DbsyncDirection::RevampToLegacy => Side::Revamp,
        }
    }
}

/// Decodes, filters and transforms one message as the consumer would, with no I/O.
///
/// - `mapping_toml`: the mapping file's text (e.g. `core/mapping/default.toml`).
/// - `direction`: a `DbsyncDirection` (`DBSYNC_DIRECTION_LEGACY_TO_REVAMP` for a `legacy.events` message).
/// - `message_json`: the Kafka message's value.
/// - `out_json`: on success, an object whose `outcome` is `upsert` or `delete` (the row operation on the other
///   side: table, key, `columns` in the target's names, version, parents), `echo` (written by the sync service
///   itself, so skipped) or `ignored` (well-formed, nothing to do). Free it with `dbsync_string_free`.
/// - `err`: on failure, the message (may be NULL if not wanted). Free it with `dbsync_string_free`.
///
/// Returns `DBSYNC_STATUS_OK`, or `MAPPING`, `DECODE` (malformed or unmappable message), `TRANSFORM`,
/// `INVALID_ARGUMENT` or `PANIC`.
///
/// # Safety
/// The strings are NULL or NUL-terminated; `out_json` and `err` are NULL or valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn dbsync_transform(
    mapping_toml: *const c_char,
    direction: c_int,
    message_json: *const c_char,
    out_json: *mut *mut c_char,
    err: *mut *mut c_char,
) -> DbsyncStatus {
    // SAFETY: the caller's contract on every pointer, passed on.
    unsafe {
        super::boundary::clear(out_json);
        guard(err, || {
            let mapping_toml = read_str(mapping_toml, "mapping_toml")?;
            let message = read_str(message_json, "message_json")?;
            let origin = DbsyncDirection::from_code(direction)?.origin();
            let json = transform_message(mapping_toml, origin, message)?;
            put(out_json, "out_json", json.to_string())
        })
    }
}

/// The outcome of one message from `origin`'s topic, as JSON.
fn transform_message(
    mapping_toml: &str,
    origin: Side,
    message: &str,
) -> Result<serde_json::Value, Failure> {
    let mapping = Mapping::from_toml_str(mapping_toml)
        .map_err(|e| Failure::new(DbsyncStatus::Mapping, format!("mapping: {e}")))?;
    let decoded = decode(None, Some(message.as_bytes()), origin, &mapping)
        .map_err(|e| Failure::new(DbsyncStatus::Decode, format!("{} message: {e}", e.reason())))?;
    let event = match decoded {
        Decoded::Event(event) => event,
        Decoded::Tombstone => return Ok(row_json::ignored("kafka tombstone")),
        Decoded::Ignored { reason } => return Ok(row_json::ignored(reason)),
    };
    if is_echo(&event) {
        return Ok(row_json::echo(&event));
    }
    let op = transform(&event, &mapping).map_err(|e| {
        Failure::new(
            DbsyncStatus::Transform,
            format!("{} event: {e}", e.reason()),
        )
    })?;
    Ok(row_json::row_op(&op))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const MAPPING: &str = include_str!("../../mapping/default.toml");

    fn seed_user(source: &str) -> String {
        json!({"event_id": "2f1c7a4e-5b0d-4c1e-9a8e-0d6f3b2a1c00", "entity_type": "user",
               "operation": "CREATE", "primary_key": 5, "source": source, "timestamp": "2026-11-25T23:18:17Z",
               "payload": {"id": 5, "username": "quicktest", "email": "q@t.com", "full_name": "Quick Test",
                           "status": "active", "is_admin": false, "created_at": "2026-11-24T08:00:00Z",
                           "updated_at": "2026-11-25T23:18:17Z", "source": source}})
        .to_string()
    }

    #[test]
    fn a_legacy_user_becomes_a_revamp_upsert() {
        let json = transform_message(MAPPING, Side::Legacy, &seed_user("legacy")).expect("applies");
        assert_eq!(json["outcome"], "upsert");
        assert_eq!(json["table"], "revamp_users");
        assert_eq!(json["columns"]["user_name"], "quicktest");
        assert_eq!(json["columns"]["email_address"], "q@t.com");
        assert_eq!(json["columns"]["first_name"], "Quick");
        assert_eq!(json["columns"]["last_name"], "Test");
    }

    #[test]
    fn the_sync_services_own_write_is_an_echo() {
        let json =
            transform_message(MAPPING, Side::Legacy, &seed_user("sync_service")).expect("decodes");
        assert_eq!(json["outcome"], "echo");
        assert_eq!(json["key"], 5);
    }

    #[test]
    fn failures_say_which_stage_refused() {
        let bad = transform_message(MAPPING, Side::Legacy, "{not json").unwrap_err();
        assert_eq!(bad.status, DbsyncStatus::Decode);
        assert!(
            bad.message.starts_with("malformed message:"),
            "{}",
            bad.message
        );
        let mapping = transform_message("version = ", Side::Legacy, "{}").unwrap_err();
        assert_eq!(mapping.status, DbsyncStatus::Mapping);
        assert!(DbsyncDirection::from_code(2).is_err());
    }
}

//! One message's way from Kafka bytes to a row operation: decode, drop echoes, transform. Pure (no I/O), so the
//! consumer's loop only moves data between Kafka, this and the writer.

use crate::decode::{decode, Decoded};
use crate::dlq::Failure;
use crate::error::DeadLetterReason;
use crate::event::Side;
use crate::filter::is_echo;
use crate::mapping::Mapping;
use crate::row::RowOp;
use crate::transform::transform;
use chrono::Utc;

/// What to do with one message.
#[derive(Debug, Clone, PartialEq)]
pub enum Prepared {
    /// Write this operation.
    Apply(RowOp),
    /// Written by the sync service itself: skip and count (defence in depth behind Debezium's filter).
    Echo {
        /// The entity, for per-entity counters.
        entity: String,
    },
    /// Nothing to do (a Kafka tombstone, a pruned dbsync tombstone).
    Skip {
        /// Why, for logs.
        reason: &'static str,
    },
    /// Cannot be applied, ever: dead-letter it.
    Poison {
        /// The entity when it was known.
        entity: Option<String>,
        /// Why.
        failure: Failure,
    },
}

/// Decodes, filters and transforms one message from `origin`'s topic.
pub fn prepare(
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    origin: Side,
    mapping: &Mapping,
) -> Prepared {
    let event = match decode(key, value, origin, mapping) {
        Ok(Decoded::Event(event)) => event,
        Ok(Decoded::Tombstone) => {
            return Prepared::Skip {
                reason: "kafka tombstone",
            }
        }
        Ok(Decoded::Ignored { reason }) => return Prepared::Skip { reason },
        Err(error) => {
            return Prepared::Poison {
                entity: None,
                failure: failure(
                    error.reason(),
                    "dbsync_core::decode::DecodeError",
                    error.to_string(),
                    "decode",
                ),
            }
        }
    };
    if is_echo(&event) {
        return Prepared::Echo {
            entity: event.entity_type,
        };
    }
    match transform(&event, mapping) {
        Ok(op) => Prepared::Apply(op),
        Err(error) => Prepared::Poison {
            entity: Some(event.entity_type),
            failure: failure(
                error.reason(),
                "dbsync_core::transform::TransformError",
                error.to_string(),
                "transform",
            ),
        },
    }
}

/// A failure that is not retried: one attempt, now.
pub fn failure(
    reason: DeadLetterReason,
    class_name: &'static str,
    message: String,
    stage: &'static str,
) -> Failure {
    let now = Utc::now();
    Failure {
        reason,
        class_name,
        message,
        stage,
        attempts: 1,
        first_failure: now,
        last_failure: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping() -> Mapping {
        Mapping::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/mapping/default.toml")).unwrap()
    }

    fn legacy_user(source: &str, status: &str) -> String {
        format!(
            r#"{{"before":null,"after":{{"id":7,"username":"u","email":"e","full_name":"A B","status":"{status}","is_admin":false,"created_at":"2026-11-25T10:00:00Z","updated_at":"2026-11-25T10:00:01Z","source":"{source}"}},"source":{{"connector":"postgresql","name":"legacy","ts_ms":1,"ts_us":1000,"snapshot":"false","db":"legacy_db","schema":"public","table":"legacy_users","txId":5,"lsn":77}},"op":"c","ts_ms":2}}"#
        )
    }

    #[test]
    fn a_good_event_becomes_an_operation() {
        let value = legacy_user("legacy", "active");
        match prepare(None, Some(value.as_bytes()), Side::Legacy, &mapping()) {
            Prepared::Apply(op) => assert_eq!((op.table(), op.key()), ("revamp_users", 7)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_echo_is_skipped_with_its_entity() {
        let value = legacy_user("sync_service", "active");
        assert_eq!(
            prepare(None, Some(value.as_bytes()), Side::Legacy, &mapping()),
            Prepared::Echo {
                entity: "user".into()
            }
        );
    }

    #[test]
    fn garbage_is_poison_at_decode_and_an_unknown_status_at_transform() {
        match prepare(None, Some(b"{not json"), Side::Legacy, &mapping()) {
            Prepared::Poison { failure, .. } => {
                assert_eq!(
                    (failure.reason, failure.stage),
                    (DeadLetterReason::Malformed, "decode")
                )
            }
            other => panic!("{other:?}"),
        }
        let value = legacy_user("legacy", "frozen");
        match prepare(None, Some(value.as_bytes()), Side::Legacy, &mapping()) {
            Prepared::Poison { entity, failure } => {
                assert_eq!(entity.as_deref(), Some("user"));
                assert_eq!(
                    (failure.reason, failure.stage),
                    (DeadLetterReason::Unmappable, "transform")
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_null_value_is_skipped() {
        assert!(matches!(
            prepare(None, None, Side::Legacy, &mapping()),
            Prepared::Skip { .. }
        ));
    }
}

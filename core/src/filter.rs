//! Echo filter: a change the sync service wrote itself must not be sent back where it came from.
//!
//! Triggers stamp the `source` column on every write (README, "How it stays correct: No loops"), and deletes travel
//! as tombstones stamped with who deleted (README, "How it stays correct: Deletes travel as tombstones"), so the
//! event alone tells an echo from a real change. Debezium's Filter SMT drops echoes already; this is the second
//! layer.

use crate::event::ChangeEvent;

/// The `source` value triggers stamp on rows written by the sync service.
pub const SYNC_SERVICE_SOURCE: &str = "sync_service";

/// The column, present on every synced table, that the triggers stamp. It is never mapped.
pub const SOURCE_COLUMN: &str = "source";

/// Whether the event is the sync service's own write coming back, which must be skipped.
pub fn is_echo(event: &ChangeEvent) -> bool {
    event.source == SYNC_SERVICE_SOURCE
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Operation, Side};
    use chrono::Utc;
    use uuid::Uuid;

    fn event(source: &str, operation: Operation) -> ChangeEvent {
        ChangeEvent {
            event_id: Uuid::nil(),
            entity_type: "user".into(),
            operation,
            primary_key: 1,
            payload: serde_json::Map::new(),
            source: source.into(),
            event_version: 1,
            timestamp: Utc::now(),
            origin: Side::Legacy,
            snapshot: false,
            position: None,
        }
    }

    #[test]
    fn sync_service_writes_are_echoes_for_every_operation() {
        for op in [Operation::Create, Operation::Update, Operation::Delete] {
            assert!(is_echo(&event(SYNC_SERVICE_SOURCE, op)));
        }
    }

    #[test]
    fn application_writes_are_not_echoes() {
        for source in ["legacy", "revamp", "", "Sync_Service", "sync_service "] {
            assert!(!is_echo(&event(source, Operation::Update)), "{source:?}");
        }
    }
}

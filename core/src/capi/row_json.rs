//! A row operation as the JSON `dbsync_transform` returns: what the writer would do on the target, with names in
//! the target's spelling and timestamps as RFC 3339 UTC with microseconds.
//!
//! ```json
//! {"outcome": "upsert", "entity": "user", "table": "revamp_users", "key_column": "id", "key": 5,
//!  "columns": {"id": 5, "user_name": "quicktest", "first_name": "Quick", "last_name": "Test", ...},
//!  "updated_at_column": "updated_at", "updated_at": "2026-11-25T23:18:17.123456Z",
//!  "conflict": "last_writer_wins", "parents": [], "event_id": "...", "origin": "legacy",
//!  "source_committed_at": "..."}
//! ```
//! A delete has `"outcome": "delete"` and, instead of columns, `deleted` (the delete's version: `updated_at` and
//! `origin`). The other outcomes are `echo` (the sync service's own write: skipped) and `ignored` (nothing to do).

use crate::event::ChangeEvent;
use crate::row::{ParentRef, RowOp, SqlValue};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

/// `op` as JSON.
pub fn row_op(op: &RowOp) -> Value {
    match op {
        RowOp::Upsert(upsert) => {
            let columns: Map<String, Value> = upsert
                .columns
                .iter()
                .map(|(name, value)| (name.clone(), sql_value(value)))
                .collect();
            json!({
                "outcome": "upsert",
                "entity": upsert.entity,
                "table": upsert.table,
                "key_column": upsert.key_column,
                "key": upsert.key,
                "columns": columns,
                "updated_at_column": upsert.updated_at_column,
                "updated_at": timestamp(upsert.updated_at),
                "conflict": upsert.conflict.as_str(),
                "parents": upsert.parents.iter().map(parent).collect::<Vec<_>>(),
                "event_id": upsert.event_id.to_string(),
                "origin": upsert.origin.as_str(),
                "source_committed_at": timestamp(upsert.source_committed_at),
            })
        }
        RowOp::Delete(delete) => json!({
            "outcome": "delete",
            "entity": delete.entity,
            "table": delete.table,
            "key_column": delete.key_column,
            "key": delete.key,
            "deleted": {
                "updated_at": timestamp(delete.deleted.updated_at),
                "origin": delete.deleted.origin.as_str(),
            },
            "updated_at_column": delete.updated_at_column,
            "conflict": delete.conflict.as_str(),
            "event_id": delete.event_id.to_string(),
            "origin": delete.origin.as_str(),
            "source_committed_at": timestamp(delete.source_committed_at),
        }),
    }
}

/// An echo: the event the sync service wrote itself, which the consumer skips.
pub fn echo(event: &ChangeEvent) -> Value {
    json!({
        "outcome": "echo",
        "entity": event.entity_type,
        "key": event.primary_key,
        "operation": event.operation.as_str(),
        "source": event.source,
        "event_id": event.event_id.to_string(),
        "origin": event.origin.as_str(),
    })
}

/// A well-formed message that changes nothing, and why.
pub fn ignored(reason: &str) -> Value {
    json!({"outcome": "ignored", "reason": reason})
}

fn sql_value(value: &SqlValue) -> Value {
    match value {
        SqlValue::Null => Value::Null,
        SqlValue::Bool(b) => Value::Bool(*b),
        SqlValue::Int(i) => Value::from(*i),
        SqlValue::Text(text) => Value::String(text.clone()),
        SqlValue::Timestamp(at) => Value::String(timestamp(*at)),
    }
}

fn parent(parent: &ParentRef) -> Value {
    json!({
        "entity": parent.entity,
        "table": parent.table,
        "key_column": parent.key_column,
        "id": parent.id,
    })
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conflict::Version;
    use crate::event::Side;
    use crate::mapping::ConflictPolicy;
    use crate::row::{Delete, Upsert};
    use chrono::TimeZone;
    use uuid::Uuid;

    fn at() -> DateTime<Utc> {
        Utc.timestamp_micros(1_764_112_697_123_456)
            .single()
            .expect("in range")
    }

    #[test]
    fn an_upsert_lists_columns_by_target_name_with_plain_json_values() {
        let op = RowOp::Upsert(Upsert {
            entity: "user".into(),
            table: "revamp_users".into(),
            key_column: "id".into(),
            key: 5,
            columns: vec![
                ("id".into(), SqlValue::Int(5)),
                ("first_name".into(), SqlValue::Text("Quick".into())),
                ("is_admin".into(), SqlValue::Bool(false)),
                ("deleted_at".into(), SqlValue::Null),
                ("updated_at".into(), SqlValue::Timestamp(at())),
            ],
            updated_at_column: "updated_at".into(),
            updated_at: at(),
            conflict: ConflictPolicy::LastWriterWins,
            parents: vec![],
            event_id: Uuid::nil(),
            source_committed_at: at(),
            origin: Side::Legacy,
            position: None,
        });
        let json = row_op(&op);
        assert_eq!(json["outcome"], "upsert");
        assert_eq!(
            json["columns"],
            json!({"id": 5, "first_name": "Quick", "is_admin": false, "deleted_at": null,
                   "updated_at": "2025-11-25T23:18:17.123456Z"})
        );
        assert_eq!(json["conflict"], "last_writer_wins");
        assert_eq!(json["origin"], "legacy");
    }

    #[test]
    fn a_delete_carries_its_version() {
        let op = RowOp::Delete(Delete {
            entity: "post".into(),
            table: "legacy_posts".into(),
            key_column: "id".into(),
            key: 7,
            deleted: Version {
                updated_at: at(),
                origin: Side::Revamp,
            },
            updated_at_column: "updated_at".into(),
            conflict: ConflictPolicy::RevampWins,
            event_id: Uuid::nil(),
            source_committed_at: at(),
            origin: Side::Revamp,
            position: None,
        });
        let json = row_op(&op);
        assert_eq!(json["outcome"], "delete");
        assert_eq!(
            json["deleted"],
            json!({"updated_at": "2025-11-25T23:18:17.123456Z", "origin": "revamp"})
        );
        assert!(json.get("columns").is_none());
    }
}

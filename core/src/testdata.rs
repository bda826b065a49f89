//! Shared test data: the default mapping, one realistic row image per table, `dbsync_tombstones` row images, and
//! Debezium envelopes around them shaped as the PostgreSQL and MariaDB connectors (3.x, JsonConverter without
//! schemas) emit them.

use crate::event::Side;
use crate::mapping::Mapping;
use serde_json::{json, Map, Value};

/// `source.ts_us` of every built envelope; `source.ts_ms` is the same instant in milliseconds.
pub(crate) const TS_US: i64 = 1_764_112_697_123_456;

pub(crate) fn mapping() -> Mapping {
    Mapping::from_toml_str(include_str!("../mapping/default.toml")).unwrap()
}

/// `(table, entity, key, row image)` for every legacy table.
pub(crate) fn legacy_rows() -> Vec<(&'static str, &'static str, i64, Value)> {
    let at = "2026-11-25T23:18:17.123456Z";
    vec![
        (
            "legacy_users",
            "user",
            5,
            json!({"id": 5, "username": "quicktest", "email": "q@t.com",
            "full_name": "Quick Test", "status": "active", "is_admin": false,
            "created_at": "2026-11-24T08:00:00.000001Z",
            "updated_at": at, "source": "legacy"}),
        ),
        (
            "legacy_posts",
            "post",
            7,
            json!({"id": 7, "author_id": 5, "title": "Hello", "body": "First post",
            "state": "published", "created_at": "2026-11-25T10:00:00Z", "updated_at": at, "source": "legacy"}),
        ),
        (
            "legacy_likes",
            "like",
            9,
            json!({"id": 9, "user_id": 5, "post_id": 7,
            "created_at": "2026-11-25T11:00:00.5Z", "updated_at": at, "source": "legacy"}),
        ),
    ]
}

/// `(table, entity, key, row image)` for every revamp table.
pub(crate) fn revamp_rows() -> Vec<(&'static str, &'static str, i64, Value)> {
    let (user, post, like) = (
        1_000_000_000_001_i64,
        1_000_000_000_002_i64,
        1_000_000_000_003_i64,
    );
    vec![
        (
            "revamp_users",
            "user",
            user,
            json!({"id": user, "user_name": "revuser", "email_address": "r@v.test",
            "first_name": "Rev", "last_name": "User", "status": 1, "is_admin": 1,
            "created_at": 1_764_000_000_000_001_i64,
            "updated_at": TS_US, "source": "revamp"}),
        ),
        (
            "revamp_posts",
            "post",
            post,
            json!({"id": post, "user_id": user, "headline": "Hi", "content": "Body",
            "status": "LIVE", "created_at": 1_764_000_000_000_000_i64, "updated_at": TS_US, "source": "revamp"}),
        ),
        (
            "revamp_post_likes",
            "like",
            like,
            json!({"id": like, "post_id": post, "user_id": user,
            "liked_at": 1_764_000_000_500_000_i64, "updated_at": TS_US, "source": "revamp"}),
        ),
    ]
}

fn images(op: &str, row: Value) -> (Value, Value) {
    match op {
        "d" => (row, Value::Null),
        "u" => (row.clone(), row),
        _ => (Value::Null, row),
    }
}

fn snapshot_flag(op: &str) -> &'static str {
    if op == "r" {
        "true"
    } else {
        "false"
    }
}

/// A PostgreSQL connector envelope.
pub(crate) fn pg_envelope(table: &str, op: &str, row: Value, lsn: u64) -> Value {
    let (before, after) = images(op, row);
    json!({"before": before, "after": after, "source": {"version": "3.5.0.Final", "connector": "postgresql",
        "name": "legacy", "ts_ms": TS_US / 1000, "snapshot": snapshot_flag(op), "db": "legacy_db",
        "sequence": format!("[null,\"{lsn}\"]"), "ts_us": TS_US, "ts_ns": TS_US * 1000, "schema": "public",
        "table": table, "txId": 771, "lsn": lsn, "xmin": null},
        "transaction": null, "op": op, "ts_ms": TS_US / 1000 + 77})
}

/// A MariaDB connector envelope.
pub(crate) fn maria_envelope(table: &str, op: &str, row: Value, pos: u64, row_no: u64) -> Value {
    let (before, after) = images(op, row);
    json!({"before": before, "after": after, "source": {"version": "3.5.0.Final", "connector": "mariadb",
        "name": "revamp", "ts_ms": TS_US / 1000, "snapshot": snapshot_flag(op), "db": "revamp_db", "sequence": null,
        "ts_us": TS_US, "ts_ns": TS_US * 1000, "table": table, "server_id": 1, "gtid": null,
        "file": "mysql-bin.000003", "pos": pos, "row": row_no, "thread": 12, "query": null},
        "transaction": null, "op": op, "ts_ms": TS_US / 1000 + 77})
}

/// The envelope for `side`, at a fixed position.
pub(crate) fn envelope(side: Side, table: &str, op: &str, row: Value) -> Value {
    match side {
        Side::Legacy => pg_envelope(table, op, row, 23_456),
        Side::Revamp => maria_envelope(table, op, row, 1_234, 0),
    }
}

/// A `dbsync_tombstones` row image as `side`'s connector sends it (timestamps as ISO text from PostgreSQL, epoch
/// microseconds from MariaDB): `deleter` deleted row `row_id` of `table` at [`deleted_at`]; the row's version then
/// was [`row_updated_at`] by `row_source` (recorded by the trigger, not read by decode).
pub(crate) fn tombstone_row(
    side: Side,
    table: &str,
    row_id: i64,
    row_source: &str,
    deleter: &str,
) -> Value {
    json!({"table_name": table, "row_id": row_id, "row_updated_at": row_updated_at(side),
        "row_source": row_source, "deleted_at": deleted_at(side), "source": deleter})
}

/// `deleted_at` of every [`tombstone_row`] of `side`, as the connector sends it: later than [`row_updated_at`].
pub(crate) fn deleted_at(side: Side) -> Value {
    match side {
        Side::Legacy => json!("2026-11-25T23:18:18.000001Z"),
        Side::Revamp => json!(TS_US + 876_545),
    }
}

/// `row_updated_at` of every [`tombstone_row`] of `side`, as the connector sends it.
pub(crate) fn row_updated_at(side: Side) -> Value {
    match side {
        Side::Legacy => json!("2026-11-25T23:18:17.123456Z"),
        Side::Revamp => json!(TS_US),
    }
}

/// A row image as a JSON object.
pub(crate) fn object(row: Value) -> Map<String, Value> {
    match row {
        Value::Object(map) => map,
        other => panic!("test row is not an object: {other}"),
    }
}

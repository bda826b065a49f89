use super::*;
use crate::mapping::ConflictPolicy;
use crate::row::SqlValue::{Bool, Int, Null, Text, Timestamp};
use crate::testdata::{legacy_rows, mapping, object, revamp_rows, TS_US};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};
use uuid::Uuid;

fn at(text: &str) -> SqlValue {
    Timestamp(
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc),
    )
}

fn micros(us: i64) -> SqlValue {
    Timestamp(DateTime::from_timestamp_micros(us).unwrap())
}

fn event(origin: Side, entity: &str, operation: Operation, key: i64, row: Value) -> ChangeEvent {
    ChangeEvent {
        event_id: Uuid::from_u128(42),
        entity_type: entity.into(),
        operation,
        primary_key: key,
        payload: object(row),
        source: origin.as_str().into(),
        event_version: 1,
        timestamp: DateTime::from_timestamp_micros(TS_US).unwrap(),
        origin,
        snapshot: false,
        position: None,
    }
}

fn upsert_of(event: &ChangeEvent) -> Upsert {
    match transform(event, &mapping()) {
        Ok(RowOp::Upsert(upsert)) => upsert,
        other => panic!("expected an upsert, got {other:?}"),
    }
}

fn columns(upsert: &Upsert) -> Vec<(&str, SqlValue)> {
    upsert
        .columns
        .iter()
        .map(|(name, value)| (name.as_str(), value.clone()))
        .collect()
}

fn text(s: &str) -> SqlValue {
    Text(s.into())
}

fn row_of(side: Side, entity: &str) -> (i64, Value) {
    let rows = if side == Side::Legacy {
        legacy_rows()
    } else {
        revamp_rows()
    };
    rows.into_iter()
        .find(|row| row.1 == entity)
        .map(|row| (row.2, row.3))
        .unwrap()
}

#[test]
fn user_legacy_to_revamp() {
    let (key, row) = row_of(Side::Legacy, "user");
    let upsert = upsert_of(&event(Side::Legacy, "user", Operation::Create, key, row));
    assert_eq!(
        (
            upsert.table.as_str(),
            upsert.key_column.as_str(),
            upsert.key
        ),
        ("revamp_users", "id", 5)
    );
    assert_eq!(
        columns(&upsert),
        [
            ("id", Int(5)),
            ("user_name", text("quicktest")),
            ("email_address", text("q@t.com")),
            ("first_name", text("Quick")),
            ("last_name", text("Test")),
            ("status", Int(1)),
            ("is_admin", Int(0)),
            ("created_at", at("2026-11-24T08:00:00.000001Z")),
            ("updated_at", at("2026-11-25T23:18:17.123456Z")),
        ]
    );
    assert_eq!(
        Timestamp(upsert.updated_at),
        at("2026-11-25T23:18:17.123456Z")
    );
    assert_eq!(upsert.updated_at_column, "updated_at");
    assert_eq!(
        (upsert.conflict, upsert.origin),
        (ConflictPolicy::LastWriterWins, Side::Legacy)
    );
    assert_eq!(
        (upsert.entity.as_str(), upsert.event_id),
        ("user", Uuid::from_u128(42))
    );
    assert!(upsert.parents.is_empty());
}

#[test]
fn user_revamp_to_legacy() {
    let (key, row) = row_of(Side::Revamp, "user");
    let upsert = upsert_of(&event(Side::Revamp, "user", Operation::Update, key, row));
    assert_eq!((upsert.table.as_str(), upsert.key), ("legacy_users", key));
    assert_eq!(
        columns(&upsert),
        [
            ("id", Int(key)),
            ("username", text("revuser")),
            ("email", text("r@v.test")),
            ("full_name", text("Rev User")),
            ("status", text("active")),
            ("is_admin", Bool(true)),
            ("created_at", micros(1_764_000_000_000_001)),
            ("updated_at", micros(TS_US)),
        ]
    );
}

#[test]
fn post_both_ways_with_parent() {
    let (key, row) = row_of(Side::Legacy, "post");
    let upsert = upsert_of(&event(Side::Legacy, "post", Operation::Create, key, row));
    assert_eq!(upsert.table, "revamp_posts");
    assert_eq!(
        columns(&upsert),
        [
            ("id", Int(7)),
            ("user_id", Int(5)),
            ("headline", text("Hello")),
            ("content", text("First post")),
            ("status", text("LIVE")),
            ("created_at", at("2026-11-25T10:00:00Z")),
            ("updated_at", at("2026-11-25T23:18:17.123456Z")),
        ]
    );
    let parent = ParentRef {
        entity: "user".into(),
        table: "revamp_users".into(),
        key_column: "id".into(),
        id: 5,
    };
    assert_eq!(upsert.parents, [parent]);

    let (key, row) = row_of(Side::Revamp, "post");
    let upsert = upsert_of(&event(Side::Revamp, "post", Operation::Create, key, row));
    assert_eq!(upsert.table, "legacy_posts");
    assert_eq!(
        columns(&upsert),
        [
            ("id", Int(key)),
            ("author_id", Int(1_000_000_000_001)),
            ("title", text("Hi")),
            ("body", text("Body")),
            ("state", text("published")),
            ("created_at", micros(1_764_000_000_000_000)),
            ("updated_at", micros(TS_US)),
        ]
    );
    assert_eq!(upsert.parents[0].table, "legacy_users");
}

#[test]
fn like_both_ways_with_parents() {
    let (key, row) = row_of(Side::Legacy, "like");
    let upsert = upsert_of(&event(Side::Legacy, "like", Operation::Create, key, row));
    assert_eq!(upsert.table, "revamp_post_likes");
    assert_eq!(
        columns(&upsert),
        [
            ("id", Int(9)),
            ("user_id", Int(5)),
            ("post_id", Int(7)),
            ("liked_at", at("2026-11-25T11:00:00.5Z")),
            ("updated_at", at("2026-11-25T23:18:17.123456Z")),
        ]
    );
    let parents: Vec<(&str, &str, i64)> = upsert
        .parents
        .iter()
        .map(|p| (p.entity.as_str(), p.table.as_str(), p.id))
        .collect();
    assert_eq!(
        parents,
        [("user", "revamp_users", 5), ("post", "revamp_posts", 7)]
    );

    let (key, row) = row_of(Side::Revamp, "like");
    let upsert = upsert_of(&event(Side::Revamp, "like", Operation::Update, key, row));
    assert_eq!(upsert.table, "legacy_likes");
    assert_eq!(
        columns(&upsert),
        [
            ("id", Int(key)),
            ("user_id", Int(1_000_000_000_001)),
            ("post_id", Int(1_000_000_000_002)),
            ("created_at", micros(1_764_000_000_500_000)),
            ("updated_at", micros(TS_US)),
        ]
    );
    assert_eq!(upsert.parents.len(), 2);
}

/// The row image Debezium would emit for `upsert` on the side it targets.
fn render(upsert: &Upsert, side: Side) -> Map<String, Value> {
    let value = |v: &SqlValue| match v {
        Null => Value::Null,
        Bool(b) => json!(b),
        Int(n) => json!(n),
        Text(s) => json!(s),
        Timestamp(t) if side == Side::Revamp => json!(t.timestamp_micros()),
        Timestamp(t) => json!(t.to_rfc3339_opts(SecondsFormat::Micros, true)),
    };
    upsert
        .columns
        .iter()
        .map(|(name, v)| (name.clone(), value(v)))
        .collect()
}

/// Timestamps compared as instants: Debezium drops trailing zeros of the fraction, the renderer keeps six digits.
fn normalized(row: &Value) -> Map<String, Value> {
    let mut row = object(row.clone());
    row.remove("source");
    for value in row.values_mut() {
        let instant = value
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok());
        if let Some(instant) = instant {
            *value = json!(instant
                .with_timezone(&Utc)
                .to_rfc3339_opts(SecondsFormat::Micros, true));
        }
    }
    row
}

/// origin row → other side → origin row, compared as the origin's row image.
fn round_trip_from(origin: Side, entity: &str, key: i64, row: Value) {
    let original = normalized(&row);
    let there = upsert_of(&event(origin, entity, Operation::Update, key, row));
    let back_row = Value::Object(render(&there, origin.other()));
    let back = upsert_of(&event(
        origin.other(),
        entity,
        Operation::Update,
        key,
        back_row,
    ));
    assert_eq!(render(&back, origin), original, "{origin} {entity} {key}");
    assert_eq!(back.updated_at, there.updated_at);
}

fn round_trip(entity: &str, key: i64, row: Value) {
    round_trip_from(Side::Legacy, entity, key, row);
}

#[test]
fn legacy_revamp_legacy_is_identity() {
    for (_, entity, key, row) in legacy_rows() {
        round_trip(entity, key, row);
    }
    let (key, user) = row_of(Side::Legacy, "user");
    for (field, value) in [
        ("full_name", Value::Null),
        ("full_name", json!("Cher")),
        ("full_name", json!("Ada King Lovelace")),
        ("full_name", json!("")),
        ("is_admin", json!(true)),
        ("status", json!("inactive")),
        ("status", json!("banned")),
    ] {
        let mut row = user.clone();
        row[field] = value;
        round_trip("user", key, row);
    }
    let (key, post) = row_of(Side::Legacy, "post");
    for state in ["draft", "archived"] {
        let mut row = post.clone();
        row["state"] = json!(state);
        round_trip("post", key, row);
    }
}

#[test]
fn revamp_legacy_revamp_is_identity() {
    for (_, entity, key, row) in revamp_rows() {
        round_trip_from(Side::Revamp, entity, key, row);
    }
}

fn delete_of(event: &ChangeEvent) -> Delete {
    match transform(event, &mapping()) {
        Ok(RowOp::Delete(delete)) => delete,
        other => panic!("expected a delete, got {other:?}"),
    }
}

fn instant(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn deletes_carry_the_key_and_the_deleted_version() {
    for (origin, entity, target_table, updated_at, at) in [
        (
            Side::Legacy,
            "post",
            "revamp_posts",
            json!("2026-11-25T23:18:17.123456Z"),
            instant("2026-11-25T23:18:17.123456Z"),
        ),
        (
            Side::Revamp,
            "like",
            "legacy_likes",
            json!(TS_US),
            DateTime::from_timestamp_micros(TS_US).unwrap(),
        ),
    ] {
        let payload = json!({"id": 77, "updated_at": updated_at, "source": origin.as_str()});
        let event = event(origin, entity, Operation::Delete, 77, payload);
        let delete = delete_of(&event);
        assert_eq!(
            (
                delete.table.as_str(),
                delete.key_column.as_str(),
                delete.key
            ),
            (target_table, "id", 77)
        );
        assert_eq!(
            (delete.deleted, delete.updated_at_column.as_str()),
            (
                Version {
                    updated_at: at,
                    origin
                },
                "updated_at"
            )
        );
        assert_eq!(
            (delete.event_id, delete.origin, delete.entity.as_str()),
            (event.event_id, origin, entity)
        );
        assert_eq!(delete.conflict, ConflictPolicy::LastWriterWins);
    }
}

#[test]
fn tombstone_fixtures_become_deletes_versioned_when_and_by_whom_deleted() {
    let decode = |bytes: &str, side: Side| match crate::decode::decode(
        None,
        Some(bytes.as_bytes()),
        side,
        &mapping(),
    ) {
        Ok(crate::decode::Decoded::Event(event)) => event,
        other => panic!("expected an event, got {other:?}"),
    };
    let legacy = decode(
        include_str!("../../tests/fixtures/legacy_likes_tombstone.json"),
        Side::Legacy,
    );
    let delete = delete_of(&legacy);
    assert_eq!(
        (delete.entity.as_str(), delete.table.as_str(), delete.key),
        ("like", "revamp_post_likes", 2)
    );
    // `deleted_at`, not `row_updated_at` (23:32:15.093677).
    assert_eq!(
        delete.deleted,
        Version {
            updated_at: instant("2026-11-25T23:32:33.783819Z"),
            origin: Side::Legacy
        }
    );
    assert_eq!(
        (delete.event_id, delete.origin),
        (legacy.event_id, Side::Legacy)
    );

    // Revamp deleted a row the sync service had written there (legacy's version): the delete is revamp's, at its
    // `deleted_at`.
    let revamp = decode(
        include_str!("../../tests/fixtures/revamp_posts_tombstone_of_synced_row.json"),
        Side::Revamp,
    );
    let delete = delete_of(&revamp);
    assert_eq!(
        (delete.entity.as_str(), delete.table.as_str(), delete.key),
        ("post", "legacy_posts", 1_000_000_000_002)
    );
    assert_eq!(
        delete.deleted,
        Version {
            updated_at: DateTime::from_timestamp_micros(1_795_649_553_828_428).unwrap(),
            origin: Side::Revamp
        }
    );
    assert_eq!(delete.origin, Side::Revamp);
}

#[test]
fn tombstone_delete_version_is_deleted_at_not_row_updated_at() {
    use crate::decode::{decode, Decoded, TOMBSTONE_TABLE};
    use crate::testdata::{deleted_at, envelope, row_updated_at, tombstone_row};
    // PostgreSQL sends ISO text, MariaDB epoch microseconds.
    for (side, table, entity, deleted, row_version) in [
        (
            Side::Legacy,
            "legacy_posts",
            "post",
            instant("2026-11-25T23:18:18.000001Z"),
            instant("2026-11-25T23:18:17.123456Z"),
        ),
        (
            Side::Revamp,
            "revamp_post_likes",
            "like",
            DateTime::from_timestamp_micros(TS_US + 876_545).unwrap(),
            DateTime::from_timestamp_micros(TS_US).unwrap(),
        ),
    ] {
        assert_eq!(
            (
                deleted_at(side).is_string(),
                row_updated_at(side).is_string()
            ),
            (side == Side::Legacy, side == Side::Legacy)
        );
        // Whoever wrote the deleted row (even the sync service), the delete is the deleter's, at `deleted_at`.
        for row_source in [side.as_str(), side.other().as_str(), "sync_service"] {
            let row = tombstone_row(side, table, 31, row_source, side.as_str());
            let message = serde_json::to_vec(&envelope(side, TOMBSTONE_TABLE, "c", row)).unwrap();
            let event = match decode(None, Some(&message), side, &mapping()) {
                Ok(Decoded::Event(event)) => event,
                other => panic!("expected an event, got {other:?}"),
            };
            let delete = delete_of(&event);
            let at = format!("{side} {row_source}");
            assert_eq!(delete.entity, entity, "{at}");
            assert_eq!(
                delete.deleted,
                Version {
                    updated_at: deleted,
                    origin: side
                },
                "{at}"
            );
            assert_ne!(delete.deleted.updated_at, row_version, "{at}");
        }
    }
}

#[test]
fn a_delete_whose_payload_is_the_row_reads_its_version() {
    // The event contract's delete (a seed-format message) carries the deleted row; its `updated_at` and `source`
    // stand in for the delete's version.
    let event = ChangeEvent {
        event_id: Uuid::nil(),
        entity_type: "post".to_string(),
        operation: Operation::Delete,
        primary_key: 7,
        payload: object(json!({"id": 7, "updated_at": "2026-11-25T23:20:00.000001Z",
            "source": "sync_service"})),
        source: "sync_service".to_string(),
        event_version: 1,
        timestamp: instant("2026-11-25T23:20:00.5Z"),
        origin: Side::Legacy,
        snapshot: false,
        position: None,
    };
    assert_eq!(
        delete_of(&event).deleted,
        Version {
            updated_at: instant("2026-11-25T23:20:00.000001Z"),
            origin: Side::Revamp
        }
    );
}

#[test]
fn delete_without_the_deleted_version_is_malformed() {
    let cases = [
        (
            json!({"id": 77, "source": "legacy"}),
            "post: delete from the legacy side has no usable `updated_at` (the delete's version): missing or null",
        ),
        (
            json!({"id": 77, "updated_at": null, "source": "legacy"}),
            "post: delete from the legacy side has no usable `updated_at` (the delete's version): missing or null",
        ),
        (
            json!({"id": 77, "updated_at": "soon", "source": "legacy"}),
            "post: delete from the legacy side has no usable `updated_at` (the delete's version): \"soon\" is not an ISO-8601 timestamp or epoch microseconds",
        ),
        (
            json!({"id": 77, "updated_at": "2026-11-25T23:18:17Z"}),
            "post: delete from the legacy side has no usable `source` (the delete's version): missing or null",
        ),
        (
            json!({"id": 77, "updated_at": "2026-11-25T23:18:17Z", "source": 1}),
            "post: delete from the legacy side has no usable `source` (the delete's version): 1 is not a string",
        ),
    ];
    for (payload, expected) in cases {
        let err = transform(
            &event(Side::Legacy, "post", Operation::Delete, 77, payload),
            &mapping(),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), expected);
        assert_eq!(err.reason(), DeadLetterReason::Malformed);
    }
}

#[test]
fn unknown_status_value_is_unmappable() {
    let (key, mut row) = row_of(Side::Legacy, "user");
    row["status"] = json!("suspended");
    let err = transform(
        &event(Side::Legacy, "user", Operation::Update, key, row),
        &mapping(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "user.status: value \"suspended\" has no counterpart in the mapping"
    );
    assert_eq!(err.reason(), DeadLetterReason::Unmappable);
    let (key, mut row) = row_of(Side::Revamp, "user");
    row["status"] = json!(9);
    let err = transform(
        &event(Side::Revamp, "user", Operation::Update, key, row),
        &mapping(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "user.status: value 9 has no counterpart in the mapping"
    );
    let (key, mut row) = row_of(Side::Revamp, "post");
    row["status"] = json!("live");
    assert!(transform(
        &event(Side::Revamp, "post", Operation::Create, key, row),
        &mapping()
    )
    .is_err());
}

#[test]
fn missing_and_unknown_columns() {
    let (key, mut row) = row_of(Side::Revamp, "user");
    row.as_object_mut().unwrap().remove("last_name");
    let err = transform(
        &event(Side::Revamp, "user", Operation::Update, key, row),
        &mapping(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "user: mapped column `last_name` is missing from the revamp row"
    );
    assert_eq!(err.reason(), DeadLetterReason::Unmappable);

    // A column wholly absent is an event from an older schema version: it is left out, not an error.
    let (key, mut row) = row_of(Side::Revamp, "user");
    row.as_object_mut().unwrap().remove("last_name");
    row.as_object_mut().unwrap().remove("first_name");
    row.as_object_mut().unwrap().remove("email_address");
    let upsert = upsert_of(&event(Side::Revamp, "user", Operation::Update, key, row));
    assert!(upsert
        .columns
        .iter()
        .all(|(name, _)| name != "full_name" && name != "email"));
    assert!(upsert.columns.iter().any(|(name, _)| name == "username"));

    let (key, mut row) = row_of(Side::Legacy, "post");
    row["legacy_only_flag"] = json!(true);
    row.as_object_mut().unwrap().remove("id");
    let upsert = upsert_of(&event(Side::Legacy, "post", Operation::Update, key, row));
    assert!(upsert
        .columns
        .iter()
        .all(|(name, _)| name != "legacy_only_flag" && name != "source"));
    assert_eq!(upsert.columns[0], ("id".to_string(), Int(key)));
}

#[test]
fn bad_values_name_entity_and_column() {
    let cases = [
        (
            "updated_at",
            Value::Null,
            "user.updated_at: null is not a timestamp (last-writer-wins needs it)",
        ),
        (
            "created_at",
            json!("soon"),
            "user.created_at: \"soon\" is not an ISO-8601 timestamp or epoch microseconds",
        ),
        (
            "is_admin",
            json!("yes"),
            "user.is_admin: \"yes\" is not a boolean or an integer",
        ),
        (
            "email",
            json!({"a": 1}),
            "user.email: {\"a\":1} is not a string, integer, boolean or null",
        ),
        (
            "full_name",
            json!(3),
            "user.full_name: 3 is not a string or null",
        ),
    ];
    for (column, value, expected) in cases {
        let (key, mut row) = row_of(Side::Legacy, "user");
        row[column] = value;
        let err = transform(
            &event(Side::Legacy, "user", Operation::Create, key, row),
            &mapping(),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), expected);
    }
    let (key, mut row) = row_of(Side::Legacy, "post");
    row["author_id"] = json!("5");
    let err = transform(
        &event(Side::Legacy, "post", Operation::Create, key, row),
        &mapping(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "post.author_id: \"5\" is not an integer key"
    );
    let err = transform(
        &event(Side::Legacy, "comment", Operation::Create, 1, json!({})),
        &mapping(),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "entity `comment` is not in the mapping");
}

#[test]
fn seed_contract_timestamps_on_either_side() {
    let (key, mut row) = row_of(Side::Revamp, "like");
    row["liked_at"] = json!("2026-11-25 23:18:17.123456");
    row["updated_at"] = json!("2026-11-25T23:18:17Z");
    let upsert = upsert_of(&event(Side::Revamp, "like", Operation::Create, key, row));
    assert_eq!(upsert.columns[3].1, at("2026-11-25T23:18:17.123456Z"));
    assert_eq!(Timestamp(upsert.updated_at), at("2026-11-25T23:18:17Z"));
    let (key, mut row) = row_of(Side::Legacy, "like");
    row["created_at"] = json!("2026-11-25 23:18:17");
    row["updated_at"] = json!("2026-11-26T01:18:17+02:00");
    let upsert = upsert_of(&event(Side::Legacy, "like", Operation::Create, key, row));
    assert_eq!(upsert.columns[3].1, at("2026-11-25T23:18:17Z"));
    assert_eq!(upsert.columns[4].1, at("2026-11-25T23:18:17Z"));
}

#[test]
fn revamp_booleans_and_nulls() {
    let (key, mut row) = row_of(Side::Revamp, "user");
    row["is_admin"] = json!(false);
    row["first_name"] = Value::Null;
    row["last_name"] = Value::Null;
    let upsert = upsert_of(&event(Side::Revamp, "user", Operation::Update, key, row));
    let find = |name: &str| {
        upsert
            .columns
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(find("is_admin"), Some(Bool(false)));
    assert_eq!(find("full_name"), Some(Null));
}

/// Transforms `row` of `entity` from `origin` with `key` and `operation` (and the snapshot flag); the error if any.
fn key_error(
    origin: Side,
    entity: &str,
    operation: Operation,
    snapshot: bool,
    key: i64,
    mut row: Value,
) -> Option<TransformError> {
    row["id"] = json!(key);
    let mut event = event(origin, entity, operation, key, row);
    event.snapshot = snapshot;
    transform(&event, &mapping()).err()
}

fn delete_payload(origin: Side, key: i64) -> Value {
    json!({"id": key, "updated_at": "2026-11-25T23:18:17Z", "source": origin.as_str()})
}

#[test]
fn a_key_no_side_can_hold_is_out_of_range_for_every_operation() {
    for origin in [Side::Legacy, Side::Revamp] {
        let (_, row) = row_of(origin, "user");
        for key in [-5, 0, i64::MIN] {
            for operation in [Operation::Create, Operation::Update] {
                let err = key_error(origin, "user", operation, false, key, row.clone())
                    .expect("applied an out-of-range key");
                assert!(
                    matches!(err, TransformError::KeyOutOfRange { key: k, .. } if k == key),
                    "{err}"
                );
                assert_eq!(err.reason(), DeadLetterReason::KeyOutOfRange);
            }
            let err = key_error(
                origin,
                "user",
                Operation::Delete,
                false,
                key,
                delete_payload(origin, key),
            )
            .expect("deleted an out-of-range key");
            assert_eq!(err.reason(), DeadLetterReason::KeyOutOfRange, "{err}");
        }
    }
}

#[test]
fn a_legacy_event_with_id_minus_five_names_the_key_and_the_range() {
    let (_, row) = row_of(Side::Legacy, "user");
    let err = key_error(Side::Legacy, "user", Operation::Create, false, -5, row).unwrap();
    assert_eq!(
        err.to_string(),
        "user.id: key -5 from the legacy side is out of range (expected 1 or more)"
    );
}

#[test]
fn a_new_revamp_row_must_carry_a_key_revamp_mints() {
    let (_, revamp) = row_of(Side::Revamp, "user");
    let err = key_error(
        Side::Revamp,
        "user",
        Operation::Create,
        false,
        999_999_999_999,
        revamp.clone(),
    )
    .expect("a revamp insert with a legacy id was applied");
    assert_eq!(
        err.to_string(),
        "user.id: key 999999999999 from the revamp side is out of range (expected 1000000000000 or more)"
    );
    assert_eq!(err.reason(), DeadLetterReason::KeyOutOfRange);
    // The edges of revamp's own range are in.
    for key in [1_000_000_000_000, i64::MAX] {
        assert!(key_error(
            Side::Revamp,
            "user",
            Operation::Create,
            false,
            key,
            revamp.clone()
        )
        .is_none());
    }
}

#[test]
fn a_legacy_insert_may_carry_a_revamp_key_because_row_filters_publish_some_updates_as_inserts() {
    // An application's update of a row the sync wrote last reaches the topic as `op: c` (migration 0004); a row that
    // came from revamp keeps its revamp id.
    let (_, legacy) = row_of(Side::Legacy, "user");
    for key in [1, 999_999_999_999, 1_000_000_000_007, i64::MAX] {
        let err = key_error(
            Side::Legacy,
            "user",
            Operation::Create,
            false,
            key,
            legacy.clone(),
        );
        assert!(err.is_none(), "legacy insert {key}: {err:?}");
    }
}

#[test]
fn rows_from_the_other_side_keep_their_key_in_updates_deletes_and_snapshots() {
    // A row that came from revamp lives on legacy with its revamp id; its legacy edits carry that id.
    let (_, legacy) = row_of(Side::Legacy, "user");
    let (_, revamp) = row_of(Side::Revamp, "user");
    let cases = [
        (
            Side::Legacy,
            Operation::Update,
            false,
            1_000_000_000_007,
            &legacy,
        ),
        (
            Side::Legacy,
            Operation::Create,
            true,
            1_000_000_000_007,
            &legacy,
        ),
        (Side::Revamp, Operation::Update, false, 7, &revamp),
        (Side::Revamp, Operation::Create, true, 7, &revamp),
    ];
    for (origin, operation, snapshot, key, row) in cases {
        let err = key_error(origin, "user", operation, snapshot, key, row.clone());
        assert!(err.is_none(), "{origin} {operation} {key}: {err:?}");
    }
    for (origin, key) in [(Side::Legacy, 1_000_000_000_007), (Side::Revamp, 7)] {
        let payload = delete_payload(origin, key);
        assert!(key_error(origin, "post", Operation::Delete, false, key, payload).is_none());
    }
}

#[test]
fn foreign_keys_must_be_a_key_of_either_side() {
    for (origin, column) in [
        (Side::Legacy, "post_id"),
        (Side::Revamp, "post_id"),
        (Side::Legacy, "user_id"),
    ] {
        let (key, mut row) = row_of(origin, "like");
        for bad in [0, -1] {
            row[column] = json!(bad);
            let err = key_error(origin, "like", Operation::Update, false, key, row.clone())
                .expect("applied a foreign key no side can hold");
            assert_eq!(
                err.to_string(),
                format!("like.{column}: key {bad} from the {origin} side is out of range (expected 1 or more)")
            );
            assert_eq!(err.reason(), DeadLetterReason::KeyOutOfRange);
        }
        // A parent of either side is fine: a like on one side may point at a post that came from the other.
        for good in [1_i64, 999_999_999_999, 1_000_000_000_000] {
            row[column] = json!(good);
            assert!(
                key_error(origin, "like", Operation::Create, false, key, row.clone()).is_none()
            );
        }
    }
}

use super::*;
use crate::event::Operation;
use crate::position::SourcePosition;
use crate::testdata::{
    deleted_at, envelope, legacy_rows, mapping, maria_envelope, object, pg_envelope, revamp_rows,
    tombstone_row, TS_US,
};
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

const LEGACY_USERS_CREATE: &str = include_str!("../../tests/fixtures/legacy_users_create.json");
const REVAMP_USERS_UPDATE: &str = include_str!("../../tests/fixtures/revamp_users_update.json");
const LEGACY_POSTS_DELETE: &str =
    include_str!("../../tests/fixtures/legacy_posts_delete_sync_service.json");
const SEED_USER_CREATE: &str = include_str!("../../tests/fixtures/seed_user_create.json");
const LEGACY_LIKES_TOMBSTONE: &str =
    include_str!("../../tests/fixtures/legacy_likes_tombstone.json");
const REVAMP_POSTS_TOMBSTONE: &str =
    include_str!("../../tests/fixtures/revamp_posts_tombstone_of_synced_row.json");

/// Decodes `bytes`, and checks that the general path gives the same result as `decode` (which takes the fast path
/// for a plain envelope): every test that decodes through here checks both.
fn decoded(bytes: &[u8], side: Side) -> Result<Decoded, DecodeError> {
    let result = decode(None, Some(bytes), side, &mapping());
    let general = decode_object(bytes, side, &mapping());
    assert_eq!(format!("{result:?}"), format!("{general:?}"));
    result
}

/// Whether `bytes` take the fast path (a plain Debezium envelope).
fn fast(bytes: &[u8]) -> bool {
    debezium::read(bytes).is_some()
}

fn event(bytes: &[u8], side: Side) -> ChangeEvent {
    match decoded(bytes, side) {
        Ok(Decoded::Event(event)) => event,
        other => panic!("expected an event, got {other:?}"),
    }
}

fn error(bytes: &[u8], side: Side) -> DecodeError {
    match decoded(bytes, side) {
        Err(e) => e,
        Ok(other) => panic!("expected an error, got {other:?}"),
    }
}

fn json_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

fn micros(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap()
}

#[test]
fn every_op_of_every_table_on_both_sides() {
    let ops = [
        ("c", Operation::Create, false),
        ("u", Operation::Update, false),
        ("r", Operation::Create, true),
    ];
    for (side, rows) in [(Side::Legacy, legacy_rows()), (Side::Revamp, revamp_rows())] {
        for (table, entity, key, row) in rows {
            for (op, operation, snapshot) in ops {
                let bytes = json_bytes(&envelope(side, table, op, row.clone()));
                let event = event(&bytes, side);
                let at = format!("{side} {table} {op}");
                assert_eq!(event.entity_type, entity, "{at}");
                assert_eq!(
                    (event.operation, event.snapshot),
                    (operation, snapshot),
                    "{at}"
                );
                assert_eq!(event.primary_key, key, "{at}");
                assert_eq!(event.payload, object(row.clone()), "{at}");
                assert_eq!(event.source, side.as_str(), "{at}");
                assert_eq!(event.event_version, 1, "{at}");
                assert_eq!(event.timestamp, micros(TS_US), "{at}");
                assert_eq!(event.origin, side, "{at}");
            }
            let raw_delete = json_bytes(&envelope(side, table, "d", row.clone()));
            assert!(
                matches!(
                    decode(None, Some(&raw_delete), side, &mapping()),
                    Ok(Decoded::Ignored { .. })
                ),
                "{side} {table} d"
            );
        }
    }
}

#[test]
fn plain_envelopes_take_the_fast_path_and_the_rest_the_general_one() {
    for fixture in [
        LEGACY_USERS_CREATE,
        REVAMP_USERS_UPDATE,
        LEGACY_LIKES_TOMBSTONE,
    ] {
        assert!(fast(fixture.as_bytes()), "{fixture}");
    }
    let wrapped = format!(r#"{{"schema":{{}},"payload":{LEGACY_USERS_CREATE}}}"#);
    let duplicate = LEGACY_USERS_CREATE.replacen(r#""op":"#, r#""op":"x","op":"#, 1);
    let general = [
        SEED_USER_CREATE.to_string(),
        wrapped,
        duplicate.clone(),
        r#"{"op":"c","source":"legacy"}"#.to_string(),
        r#"{"op":"c","source":["legacy"]}"#.to_string(),
        r#"{"hello":1}"#.to_string(),
        "[1]".to_string(),
    ];
    for message in &general {
        assert!(!fast(message.as_bytes()), "{message}");
        let _ = decoded(message.as_bytes(), Side::Legacy);
    }
    // A duplicate key is not an error: the last one counts, as in the parsed object.
    assert_eq!(
        event(duplicate.as_bytes(), Side::Legacy),
        event(LEGACY_USERS_CREATE.as_bytes(), Side::Legacy)
    );
}

#[test]
fn positions_are_read_from_the_source_block() {
    let row = || legacy_rows()[0].3.clone();
    let pg = json_bytes(&pg_envelope("legacy_users", "c", row(), 77));
    assert_eq!(
        event(&pg, Side::Legacy).position,
        Some(SourcePosition::Lsn(77))
    );
    let maria = |file: &str| {
        let mut message = maria_envelope("revamp_users", "c", revamp_rows()[0].3.clone(), 4096, 2);
        message["source"]["file"] = json!(file);
        json_bytes(&message)
    };
    assert_eq!(
        event(&maria("mysql-bin.000012"), Side::Revamp).position,
        Some(SourcePosition::Binlog {
            base: "mysql-bin".into(),
            file: 12,
            pos: 4096,
            row: 2
        })
    );
    // A file without a number has no order: the event decodes, without a position.
    assert_eq!(event(&maria("binlog"), Side::Revamp).position, None);
}

#[test]
fn postgres_fixture_decodes() {
    let event = event(LEGACY_USERS_CREATE.as_bytes(), Side::Legacy);
    assert_eq!(
        (
            event.entity_type.as_str(),
            event.operation,
            event.primary_key
        ),
        ("user", Operation::Create, 5)
    );
    assert_eq!(event.payload["full_name"], "Quick Test");
    assert_eq!(event.timestamp, micros(1_764_112_697_123_456));
    let name = "legacy|23456:771|legacy_users|5|c";
    assert_eq!(
        event.event_id,
        Uuid::new_v5(&crate::event::EVENT_ID_NAMESPACE, name.as_bytes())
    );
}

#[test]
fn mariadb_fixture_decodes_after_image() {
    let event = event(REVAMP_USERS_UPDATE.as_bytes(), Side::Revamp);
    assert_eq!(
        (event.entity_type.as_str(), event.operation),
        ("user", Operation::Update)
    );
    assert_eq!(event.primary_key, 1_000_000_000_001);
    assert_eq!(event.payload["email_address"], "new@revamp.test");
    assert_eq!(event.payload["is_admin"], true);
    assert_eq!(event.timestamp, micros(1_764_112_697_000_000));
}

#[test]
fn raw_deletes_of_synced_rows_are_ignored() {
    // The sync service's delete, and (as PostgreSQL's row filter publishes a sync update of an application's row)
    // an application's row: either way the tombstone carries the delete, never the raw event.
    let mut app_row: Value = serde_json::from_str(LEGACY_POSTS_DELETE).unwrap();
    app_row["before"]["source"] = json!("legacy");
    for bytes in [
        LEGACY_POSTS_DELETE.as_bytes().to_vec(),
        json_bytes(&app_row),
    ] {
        assert_eq!(
            decode(None, Some(&bytes), Side::Legacy, &mapping()).unwrap(),
            Decoded::Ignored {
                reason: "raw delete (deletes travel as tombstones)"
            }
        );
    }
}

#[test]
fn ts_ms_is_used_without_ts_us() {
    let mut message = envelope(
        Side::Revamp,
        "revamp_users",
        "c",
        revamp_rows()[0].3.clone(),
    );
    message["source"].as_object_mut().unwrap().remove("ts_us");
    assert_eq!(
        event(&json_bytes(&message), Side::Revamp).timestamp,
        micros(TS_US / 1000 * 1000)
    );
}

#[test]
fn schema_wrapped_envelope_decodes() {
    let inner: Value = serde_json::from_str(LEGACY_USERS_CREATE).unwrap();
    let wrapped = json!({"schema": {"type": "struct", "fields": []}, "payload": inner});
    assert_eq!(
        event(&json_bytes(&wrapped), Side::Legacy),
        event(LEGACY_USERS_CREATE.as_bytes(), Side::Legacy)
    );
}

#[test]
fn tombstone_is_a_value() {
    let key = br#"{"id":5,"__dbz__physicalTableIdentifier":"legacy.public.legacy_users"}"#;
    let decoded = decode(Some(key), None, Side::Legacy, &mapping()).unwrap();
    assert_eq!(decoded, Decoded::Tombstone);
}

#[test]
fn event_ids_are_deterministic() {
    let first = event(LEGACY_USERS_CREATE.as_bytes(), Side::Legacy);
    let again = event(LEGACY_USERS_CREATE.as_bytes(), Side::Legacy);
    assert_eq!(first.event_id, again.event_id);
    let key = br#"{"id":5,"__dbz__physicalTableIdentifier":"legacy.public.legacy_users"}"#;
    let with_key = decode(
        Some(key),
        Some(LEGACY_USERS_CREATE.as_bytes()),
        Side::Legacy,
        &mapping(),
    )
    .unwrap();
    assert_eq!(with_key, Decoded::Event(first.clone()));
    // Same fields, different formatting: still the same change.
    let pretty =
        serde_json::to_vec_pretty(&serde_json::from_str::<Value>(LEGACY_USERS_CREATE).unwrap())
            .unwrap();
    assert_eq!(event(&pretty, Side::Legacy).event_id, first.event_id);
}

#[test]
fn snapshot_rows_sharing_a_position_get_distinct_ids() {
    let (table, _, _, row) = legacy_rows().remove(0);
    let mut other = row.clone();
    other["id"] = json!(6);
    let a = event(
        &json_bytes(&pg_envelope(table, "r", row.clone(), 100)),
        Side::Legacy,
    );
    let b = event(
        &json_bytes(&pg_envelope(table, "r", other, 100)),
        Side::Legacy,
    );
    assert_ne!(a.event_id, b.event_id);
    // Two changes of one row differ by position, and a snapshot read differs from a create.
    let later = event(
        &json_bytes(&pg_envelope(table, "r", row.clone(), 101)),
        Side::Legacy,
    );
    let create = event(
        &json_bytes(&pg_envelope(table, "c", row, 100)),
        Side::Legacy,
    );
    assert_ne!(a.event_id, later.event_id);
    assert_ne!(a.event_id, create.event_id);

    let (table, _, _, row) = revamp_rows().remove(0);
    let mut other = row.clone();
    other["id"] = json!(1_000_000_000_009_i64);
    let a = event(
        &json_bytes(&maria_envelope(table, "r", row.clone(), 4, 0)),
        Side::Revamp,
    );
    let b = event(
        &json_bytes(&maria_envelope(table, "r", other, 4, 0)),
        Side::Revamp,
    );
    let next_row = event(
        &json_bytes(&maria_envelope(table, "u", row.clone(), 4, 1)),
        Side::Revamp,
    );
    let next_pos = event(
        &json_bytes(&maria_envelope(table, "u", row, 5, 1)),
        Side::Revamp,
    );
    assert_ne!(a.event_id, b.event_id);
    assert_ne!(next_row.event_id, next_pos.event_id);
}

#[test]
fn gtid_is_part_of_the_position() {
    let row = revamp_rows()[0].3.clone();
    let plain = maria_envelope("revamp_users", "c", row, 4, 0);
    let mut with_gtid = plain.clone();
    with_gtid["source"]["gtid"] = json!("0-1-42");
    let a = event(&json_bytes(&plain), Side::Revamp);
    let b = event(&json_bytes(&with_gtid), Side::Revamp);
    assert_ne!(a.event_id, b.event_id);
}

#[test]
fn seed_contract_all_operations() {
    let create = event(SEED_USER_CREATE.as_bytes(), Side::Legacy);
    assert_eq!(
        create.event_id.to_string(),
        "7d0b3c2e-8f0a-4c57-9a57-2f4b7f0e9c11"
    );
    assert_eq!(
        (
            create.entity_type.as_str(),
            create.operation,
            create.primary_key
        ),
        ("user", Operation::Create, 5)
    );
    assert_eq!(
        (
            create.source.as_str(),
            create.event_version,
            create.snapshot
        ),
        ("legacy", 1, false)
    );
    assert_eq!(create.timestamp, micros(1_795_648_697_000_000));
    assert_eq!(create.payload["username"], "quicktest");

    let mut update: Value = serde_json::from_str(SEED_USER_CREATE).unwrap();
    update["operation"] = json!("UPDATE");
    update["primary_key"] = json!(5);
    update["timestamp"] = json!(1_764_112_697_123_i64);
    update["event_version"] = json!(2);
    let update = event(&json_bytes(&update), Side::Revamp);
    assert_eq!(
        (update.operation, update.primary_key, update.event_version),
        (Operation::Update, 5, 2)
    );
    assert_eq!(
        (update.origin, update.timestamp),
        (Side::Revamp, micros(1_764_112_697_123_000))
    );

    let delete = json!({"event_id": "0b7e1c8a-5a1d-4d2b-8e0f-3c9a7b6d5e4f", "entity_type": "like",
        "operation": "DELETE", "primary_key": {"id": 9}, "payload": {}, "source": "revamp",
        "timestamp": "2026-11-25 23:18:17.5"});
    let delete = event(&json_bytes(&delete), Side::Revamp);
    assert_eq!(
        (
            delete.entity_type.as_str(),
            delete.operation,
            delete.primary_key
        ),
        ("like", Operation::Delete, 9)
    );
    assert_eq!(delete.event_version, 1);
}

fn seed_with(field: &str, value: Value) -> Vec<u8> {
    let mut message: Value = serde_json::from_str(SEED_USER_CREATE).unwrap();
    message[field] = value;
    json_bytes(&message)
}

fn legacy_user_with(path: &[&str], value: Option<Value>) -> Vec<u8> {
    let mut message: Value = serde_json::from_str(LEGACY_USERS_CREATE).unwrap();
    let (last, parents) = path.split_last().unwrap();
    let target = parents
        .iter()
        .fold(&mut message, |node, name| &mut node[*name]);
    let object = target.as_object_mut().unwrap();
    match value {
        Some(value) => object.insert(last.to_string(), value),
        None => object.remove(*last),
    };
    json_bytes(&message)
}

#[test]
fn malformed_input_is_an_error_value() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"not json".to_vec(), "value is not UTF-8 JSON"),
        (vec![0xff, 0xfe, b'{'], "value is not UTF-8 JSON"),
        (b"".to_vec(), "value is not UTF-8 JSON"),
        (
            b"[1,2]".to_vec(),
            "field `value` is invalid: not a JSON object",
        ),
        (
            b"{\"hello\":1}".to_vec(),
            "field `value` is invalid: neither",
        ),
        (
            legacy_user_with(&["op"], None),
            "field `op` is missing or null",
        ),
        (
            legacy_user_with(&["op"], Some(json!("t"))),
            "field `op` has unknown operation \"t\"",
        ),
        (
            legacy_user_with(&["after"], Some(Value::Null)),
            "field `after` is missing or null",
        ),
        (
            legacy_user_with(&["after"], Some(json!("x"))),
            "field `after` is invalid: not a JSON object",
        ),
        (
            legacy_user_with(&["after", "id"], None),
            "key `after.id` is missing or null",
        ),
        (
            legacy_user_with(&["after", "id"], Some(json!("5"))),
            "key `after.id` is not an integer: \"5\"",
        ),
        (
            legacy_user_with(&["after", "id"], Some(json!(5.5))),
            "key `after.id` is not an integer: 5.5",
        ),
        (
            legacy_user_with(&["after", "source"], None),
            "field `after.source` is missing or null",
        ),
        (
            legacy_user_with(&["source", "table"], None),
            "field `source.table` is missing or null",
        ),
        (
            legacy_user_with(&["source", "name"], Some(json!(3))),
            "field `source.name` is invalid: not a string",
        ),
        (
            legacy_user_with(&["source", "lsn"], Some(json!(-1))),
            "field `source.lsn` is invalid",
        ),
        (
            legacy_user_with(&["source", "lsn"], None),
            "field `source` is invalid: no position",
        ),
        (
            legacy_user_with(&["source", "ts_us"], Some(json!("soon"))),
            "field `source.ts_us` is not a valid timestamp",
        ),
        (
            seed_with("event_id", json!("not-a-uuid")),
            "field `event_id` is not a UUID: \"not-a-uuid\"",
        ),
        (
            seed_with("operation", json!("UPSERT")),
            "field `operation` has unknown operation \"UPSERT\"",
        ),
        (
            seed_with("primary_key", json!({"uid": 5})),
            "key `primary_key.id` is missing or null",
        ),
        (
            seed_with("primary_key", json!("five")),
            "key `primary_key` is not an integer",
        ),
        (
            seed_with("timestamp", json!("yesterday")),
            "field `timestamp` is not a valid timestamp: \"yesterday\"",
        ),
        (
            seed_with("timestamp", Value::Null),
            "field `timestamp` is missing or null",
        ),
        (
            seed_with("payload", json!([])),
            "field `payload` is invalid: not a JSON object",
        ),
        (
            seed_with("event_version", json!(-1)),
            "field `event_version` is invalid",
        ),
    ];
    for (bytes, expected) in cases {
        let err = error(&bytes, Side::Legacy);
        assert!(
            err.to_string().starts_with(expected),
            "{err} (expected {expected:?})"
        );
        assert_eq!(err.reason(), DeadLetterReason::Malformed, "{err}");
    }
}

#[test]
fn unknown_table_or_entity_is_unmappable() {
    let err = error(
        &legacy_user_with(&["source", "table"], Some(json!("legacy_comments"))),
        Side::Legacy,
    );
    assert_eq!(
        err.to_string(),
        "table `legacy_comments` is not in the mapping (legacy side)"
    );
    assert_eq!(err.reason(), DeadLetterReason::Unmappable);
    // A legacy table arriving on the revamp topic is not the revamp side's table.
    let err = error(LEGACY_USERS_CREATE.as_bytes(), Side::Revamp);
    assert_eq!(err.reason(), DeadLetterReason::Unmappable);
    let err = error(&seed_with("entity_type", json!("comment")), Side::Legacy);
    assert_eq!(
        err.to_string(),
        "entity type `comment` is not in the mapping (legacy side)"
    );
    assert_eq!(err.reason(), DeadLetterReason::Unmappable);
}

fn id_of(name: &str) -> Uuid {
    Uuid::new_v5(&crate::event::EVENT_ID_NAMESPACE, name.as_bytes())
}

fn tombstone(side: Side, op: &str, row: Value) -> Vec<u8> {
    json_bytes(&envelope(side, TOMBSTONE_TABLE, op, row))
}

#[test]
fn tombstones_of_every_table_on_both_sides_are_deletes() {
    for (side, rows) in [(Side::Legacy, legacy_rows()), (Side::Revamp, revamp_rows())] {
        for (table, entity, key, _) in rows {
            for (op, snapshot) in [("c", false), ("u", false), ("r", true)] {
                // The deleted row was the sync service's; the delete's version is the deleter's.
                let row = tombstone_row(side, table, key, "sync_service", side.as_str());
                let event = event(&tombstone(side, op, row), side);
                let at = format!("{side} {table} {op}");
                assert_eq!(
                    (
                        event.entity_type.as_str(),
                        event.operation,
                        event.primary_key
                    ),
                    (entity, Operation::Delete, key),
                    "{at}"
                );
                let payload =
                    json!({"id": key, "updated_at": deleted_at(side), "source": side.as_str()});
                assert_eq!(event.payload, object(payload), "{at}");
                assert_eq!(event.source, side.as_str(), "{at}");
                assert_eq!(
                    (event.snapshot, event.origin, event.event_version),
                    (snapshot, side, 1),
                    "{at}"
                );
                assert_eq!(event.timestamp, micros(TS_US), "{at}");
                assert!(!crate::filter::is_echo(&event), "{at}");
            }
        }
    }
}

#[test]
fn tombstone_ids_name_the_table_and_row() {
    let row = |table: &str| tombstone_row(Side::Legacy, table, 5, "legacy", "legacy");
    let users = event(
        &tombstone(Side::Legacy, "c", row("legacy_users")),
        Side::Legacy,
    );
    assert_eq!(
        users.event_id,
        id_of("legacy|23456:771|dbsync_tombstones|legacy_users:5|c")
    );
    // Same position and row id, another table; the same row deleted again (`u`); the row's own update.
    let posts = event(
        &tombstone(Side::Legacy, "c", row("legacy_posts")),
        Side::Legacy,
    );
    let again = event(
        &tombstone(Side::Legacy, "u", row("legacy_users")),
        Side::Legacy,
    );
    let update = event(
        &json_bytes(&envelope(
            Side::Legacy,
            "legacy_users",
            "u",
            legacy_rows()[0].3.clone(),
        )),
        Side::Legacy,
    );
    for other in [&posts, &again, &update] {
        assert_ne!(users.event_id, other.event_id);
    }
    let revamp = tombstone_row(Side::Revamp, "revamp_posts", 12, "revamp", "revamp");
    let revamp = event(&tombstone(Side::Revamp, "c", revamp), Side::Revamp);
    assert_eq!(
        revamp.event_id,
        id_of("revamp|mysql-bin.000003:1234:0|dbsync_tombstones|revamp_posts:12|c")
    );
}

#[test]
fn postgres_tombstone_fixture_decodes() {
    let event = event(LEGACY_LIKES_TOMBSTONE.as_bytes(), Side::Legacy);
    assert_eq!(
        (
            event.entity_type.as_str(),
            event.operation,
            event.primary_key
        ),
        ("like", Operation::Delete, 2)
    );
    // The delete's version: `deleted_at` and the deleter, not `row_updated_at` (23:32:15.093677).
    let payload = json!({"id": 2, "updated_at": "2026-11-25T23:32:33.783819Z", "source": "legacy"});
    assert_eq!(event.payload, object(payload));
    assert_eq!((event.source.as_str(), event.snapshot), ("legacy", false));
    assert_eq!(event.timestamp, micros(1_795_649_553_783_899));
    assert_eq!(
        event.event_id,
        id_of("legacy|26566864:767|dbsync_tombstones|legacy_likes:2|c")
    );
}

#[test]
fn mariadb_tombstone_fixture_decodes() {
    let key = br#"{"table_name":"revamp_posts","row_id":1000000000002,"__dbz__physicalTableIdentifier":"revamp.revamp_db.dbsync_tombstones"}"#;
    let decoded = decode(
        Some(key),
        Some(REVAMP_POSTS_TOMBSTONE.as_bytes()),
        Side::Revamp,
        &mapping(),
    )
    .unwrap();
    let Decoded::Event(event) = decoded else {
        panic!("expected an event, got {decoded:?}")
    };
    assert_eq!(
        (
            event.entity_type.as_str(),
            event.operation,
            event.primary_key
        ),
        ("post", Operation::Delete, 1_000_000_000_002)
    );
    // The deleted row was written by the sync service; the delete itself is revamp's, so it is no echo, and its
    // version is `deleted_at` by revamp (not `row_updated_at` by the sync service).
    let payload = json!({"id": 1_000_000_000_002_i64, "updated_at": 1_795_649_553_828_428_i64,
        "source": "revamp"});
    assert_eq!(event.payload, object(payload));
    assert_eq!(event.source, "revamp");
    assert!(!crate::filter::is_echo(&event));
    assert_eq!(event.timestamp, micros(1_795_649_553_000_000));
    assert_eq!(
        event.event_id,
        id_of(
            "revamp|mysql-bin.000001:18726:0:0-1-50|dbsync_tombstones|revamp_posts:1000000000002|c"
        )
    );
}

#[test]
fn sync_service_deletes_are_echoes() {
    for (side, table) in [
        (Side::Legacy, "legacy_posts"),
        (Side::Revamp, "revamp_users"),
    ] {
        let row = tombstone_row(side, table, 3, side.other().as_str(), "sync_service");
        let event = event(&tombstone(side, "c", row), side);
        assert_eq!(event.operation, Operation::Delete);
        assert_eq!(event.source, "sync_service");
        assert_eq!(event.payload["source"], "sync_service");
        assert!(crate::filter::is_echo(&event));
    }
}

#[test]
fn pruned_tombstones_are_ignored() {
    for (side, table) in [
        (Side::Legacy, "legacy_likes"),
        (Side::Revamp, "revamp_post_likes"),
    ] {
        let row = tombstone_row(side, table, 9, side.as_str(), side.as_str());
        let decoded = decode(None, Some(&tombstone(side, "d", row)), side, &mapping()).unwrap();
        assert_eq!(
            decoded,
            Decoded::Ignored {
                reason: "tombstone pruned"
            },
            "{side}"
        );
    }
    // Pruning needs no row image: even a table the mapping does not know is just ignored.
    let mut message = envelope(Side::Legacy, TOMBSTONE_TABLE, "d", Value::Null);
    message["before"] = json!({"table_name": "legacy_comments", "row_id": 1});
    let decoded = decode(None, Some(&json_bytes(&message)), Side::Legacy, &mapping()).unwrap();
    assert!(matches!(decoded, Decoded::Ignored { .. }), "{decoded:?}");
}

#[test]
fn tombstone_of_an_unmapped_table_is_unmappable() {
    let row = tombstone_row(Side::Legacy, "legacy_comments", 1, "legacy", "legacy");
    let err = error(&tombstone(Side::Legacy, "c", row), Side::Legacy);
    assert_eq!(
        err.to_string(),
        "table `legacy_comments` is not in the mapping (legacy side)"
    );
    assert_eq!(err.reason(), DeadLetterReason::Unmappable);
    // A legacy table's tombstone on the revamp topic names no revamp table.
    let row = tombstone_row(Side::Revamp, "legacy_users", 1, "revamp", "revamp");
    let err = error(&tombstone(Side::Revamp, "u", row), Side::Revamp);
    assert_eq!(err.reason(), DeadLetterReason::Unmappable);
}

#[test]
fn malformed_tombstones_are_errors() {
    let with = |field: &str, value: Option<Value>| {
        let mut row = tombstone_row(Side::Revamp, "revamp_users", 4, "revamp", "revamp");
        let object = row.as_object_mut().unwrap();
        match value {
            Some(value) => object.insert(field.to_string(), value),
            None => object.remove(field),
        };
        tombstone(Side::Revamp, "c", row)
    };
    let cases = [
        (
            with("table_name", None),
            "field `after.table_name` is missing or null",
        ),
        (
            with("table_name", Some(json!(1))),
            "field `after.table_name` is invalid: not a string",
        ),
        (
            with("row_id", None),
            "key `after.row_id` is missing or null",
        ),
        (
            with("row_id", Some(json!("4"))),
            "key `after.row_id` is not an integer: \"4\"",
        ),
        (
            with("deleted_at", None),
            "field `after.deleted_at` is missing or null",
        ),
        (
            with("deleted_at", Some(json!("soon"))),
            "field `after.deleted_at` is not a valid timestamp: \"soon\"",
        ),
        (
            with("deleted_at", Some(json!(true))),
            "field `after.deleted_at` is not a valid timestamp: true",
        ),
        (
            with("deleted_at", Some(json!(i64::MAX))),
            "field `after.deleted_at` is not a valid timestamp: 9223372036854775807",
        ),
        (
            with("source", Some(Value::Null)),
            "field `after.source` is missing or null",
        ),
        (
            json_bytes(&envelope(Side::Revamp, TOMBSTONE_TABLE, "c", Value::Null)),
            "field `after` is missing or null",
        ),
    ];
    for (bytes, expected) in cases {
        let err = error(&bytes, Side::Revamp);
        assert_eq!(err.to_string(), expected);
        assert_eq!(err.reason(), DeadLetterReason::Malformed, "{err}");
    }
}

#[test]
fn tombstones_without_the_deleted_rows_version_decode() {
    // `row_updated_at` and `row_source` are the deleted row's version, which a delete no longer carries: absent,
    // null or unreadable, they change nothing.
    for side in [Side::Legacy, Side::Revamp] {
        let table = if side == Side::Legacy {
            "legacy_users"
        } else {
            "revamp_users"
        };
        let expected = event(
            &tombstone(side, "c", tombstone_row(side, table, 4, "legacy", "revamp")),
            side,
        );
        for (row_updated_at, row_source) in [
            (None, None),
            (Some(Value::Null), Some(Value::Null)),
            (Some(json!("soon")), Some(json!(1))),
        ] {
            let mut row = tombstone_row(side, table, 4, "legacy", "revamp");
            let object = row.as_object_mut().unwrap();
            for (field, value) in [
                ("row_updated_at", &row_updated_at),
                ("row_source", &row_source),
            ] {
                match value {
                    Some(value) => object.insert(field.to_string(), value.clone()),
                    None => object.remove(field),
                };
            }
            let at = format!("{side} {row_updated_at:?} {row_source:?}");
            assert_eq!(event(&tombstone(side, "c", row), side), expected, "{at}");
        }
        let payload = json!({"id": 4, "updated_at": deleted_at(side), "source": "revamp"});
        assert_eq!(expected.payload, object(payload), "{side}");
    }
}

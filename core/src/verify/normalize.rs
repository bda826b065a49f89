//! One normalized shape for a row of either side, so that two rows compare equal exactly when the sync would make
//! one from the other. The canonical shape is the revamp side's: a legacy row goes through the sync's own
//! [`transform`](crate::transform()) (names, `value_map`, `split_name`, `bool_int`), a revamp row is typed by its
//! converters. Timestamps become UTC instants at microsecond precision whatever their spelling (an offset, a session
//! time zone, trailing zeros), so a value that differs only in time zone or precision is not a difference.
//!
//! Splitting a name is not one-to-one (`"Ada "` and `"Ada"` both split to `("Ada", "")`), so two rows that differ in
//! the canonical shape are compared once more in the legacy shape (the revamp row through the transform), and count
//! as equal when either shape agrees: the sync would not change either of them.

use crate::conflict::Version;
use crate::event::{ChangeEvent, Operation, Side};
use crate::filter::SOURCE_COLUMN;
use crate::mapping::{Convert, Entity, Mapping};
use crate::row::{RowOp, SqlValue};
use crate::timestamp;
use chrono::Utc;
use serde::Serialize;
use serde_json::{Map, Value};

/// A row as JSON, in its own side's column names (what the readers fetch).
pub(crate) type Payload = Map<String, Value>;

/// A row's values in one shape, or why it could not be normalized.
type Shaped = Result<Vec<SqlValue>, String>;

/// A column that differs, in both sides' names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnDiff {
    /// The legacy column.
    pub legacy: String,
    /// The revamp column(s): two for `split_name`.
    pub revamp: Vec<String>,
}

/// Normalizes rows of one entity.
pub(crate) struct Normalizer<'m> {
    pub mapping: &'m Mapping,
    pub entity: &'m Entity,
}

impl Normalizer<'_> {
    /// The row in the canonical (revamp) shape, one value per revamp column in mapping order.
    pub fn canonical(
        &self,
        side: Side,
        key: i64,
        payload: Payload,
    ) -> Result<Vec<SqlValue>, String> {
        match side {
            Side::Legacy => self.through_transform(side, key, payload),
            Side::Revamp => self.typed(side, &payload),
        }
    }

    /// The row in the legacy shape, one value per column mapping.
    pub fn legacy_shape(
        &self,
        side: Side,
        key: i64,
        payload: Payload,
    ) -> Result<Vec<SqlValue>, String> {
        match side {
            Side::Legacy => self.typed(side, &payload),
            Side::Revamp => self.through_transform(side, key, payload),
        }
    }

    /// Whether the sync would leave the two rows as they are (equal in either shape).
    pub fn equivalent(&self, key: i64, legacy: &Payload, revamp: &Payload) -> bool {
        let same = |l: Result<Vec<SqlValue>, String>, r: Result<Vec<SqlValue>, String>| matches!((l, r), (Ok(l), Ok(r)) if l == r);
        same(
            self.canonical(Side::Legacy, key, legacy.clone()),
            self.canonical(Side::Revamp, key, revamp.clone()),
        ) || same(
            self.legacy_shape(Side::Legacy, key, legacy.clone()),
            self.legacy_shape(Side::Revamp, key, revamp.clone()),
        )
    }

    /// The column mappings whose values differ in both shapes (a row that cannot be normalized differs in all).
    pub fn differing_columns(
        &self,
        key: i64,
        legacy: &Payload,
        revamp: &Payload,
    ) -> Vec<ColumnDiff> {
        let canonical = (
            self.canonical(Side::Legacy, key, legacy.clone()),
            self.canonical(Side::Revamp, key, revamp.clone()),
        );
        let legacy_shape = (
            self.legacy_shape(Side::Legacy, key, legacy.clone()),
            self.legacy_shape(Side::Revamp, key, revamp.clone()),
        );
        let mut offset = 0;
        let mut diffs = Vec::new();
        for (index, column) in self.entity.column_mappings().iter().enumerate() {
            let width = column.names(Side::Revamp).len();
            let differs_in = |pair: &(Shaped, Shaped), from: usize, to: usize| match pair {
                (Ok(l), Ok(r)) => l.get(from..to) != r.get(from..to),
                _ => true,
            };
            if differs_in(&canonical, offset, offset + width)
                && differs_in(&legacy_shape, index, index + 1)
            {
                diffs.push(ColumnDiff {
                    legacy: column.names(Side::Legacy).join("+"),
                    revamp: column.names(Side::Revamp).to_vec(),
                });
            }
            offset += width;
        }
        diffs
    }

    /// The version a row holds (its `updated_at` and who wrote it), if readable.
    pub fn version(&self, side: Side, payload: &Payload) -> Option<Version> {
        let updated_at = instant(payload.get(self.entity.updated_at(side))?)?;
        let source = payload.get(SOURCE_COLUMN)?.as_str()?;
        Some(Version::stored(side, updated_at, source))
    }

    /// The sync's transform of a row of `side` into the other side's values.
    fn through_transform(
        &self,
        side: Side,
        key: i64,
        payload: Payload,
    ) -> Result<Vec<SqlValue>, String> {
        let event = ChangeEvent {
            event_id: uuid::Uuid::nil(),
            entity_type: self.entity.name().to_string(),
            // An update: a row that exists is checked against every key range, not only its own side's.
            operation: Operation::Update,
            primary_key: key,
            payload,
            source: String::new(),
            event_version: 1,
            timestamp: Utc::now(),
            origin: side,
            snapshot: false,
            position: None,
        };
        match crate::transform::transform(&event, self.mapping) {
            Ok(RowOp::Upsert(upsert)) => Ok(upsert.columns.into_iter().map(|(_, v)| v).collect()),
            Ok(RowOp::Delete(_)) => Err("the transform made a delete of a row".to_string()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// A row's own values, typed by the columns' converters, one per column name on `side` in mapping order.
    fn typed(&self, side: Side, payload: &Payload) -> Result<Vec<SqlValue>, String> {
        let mut values = Vec::with_capacity(self.entity.column_mappings().len() + 1);
        for column in self.entity.column_mappings() {
            for name in column.names(side) {
                let value = payload
                    .get(name)
                    .ok_or_else(|| format!("column `{name}` is missing"))?;
                let typed = match column.convert() {
                    Convert::Timestamp => match value {
                        Value::Null => Some(SqlValue::Null),
                        other => instant(other).map(SqlValue::Timestamp),
                    },
                    Convert::BoolInt => flag(value, side),
                    _ => plain(value),
                };
                values
                    .push(typed.ok_or_else(|| format!("column `{name}` has an unexpected value"))?);
            }
        }
        Ok(values)
    }
}

/// A timestamp as either database spells it in JSON: ISO-8601 with or without an offset, or epoch microseconds.
fn instant(value: &Value) -> Option<chrono::DateTime<Utc>> {
    match value {
        Value::String(text) => timestamp::parse_text(text),
        Value::Number(n) => n.as_i64().and_then(timestamp::from_micros),
        _ => None,
    }
}

/// A `bool_int` column on `side`: a boolean on legacy, 0/1 on revamp; either spelling is accepted.
fn flag(value: &Value, side: Side) -> Option<SqlValue> {
    let set = match value {
        Value::Null => return Some(SqlValue::Null),
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_i64()? != 0,
        _ => return None,
    };
    Some(match side {
        Side::Legacy => SqlValue::Bool(set),
        Side::Revamp => SqlValue::Int(i64::from(set)),
    })
}

/// A value copied as it is.
fn plain(value: &Value) -> Option<SqlValue> {
    match value {
        Value::Null => Some(SqlValue::Null),
        Value::Bool(b) => Some(SqlValue::Bool(*b)),
        Value::Number(n) => n.as_i64().map(SqlValue::Int),
        Value::String(s) => Some(SqlValue::Text(s.clone())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mapping() -> Mapping {
        Mapping::from_toml_str(include_str!("../../mapping/default.toml")).unwrap()
    }

    /// The user entity's normalizer over the default mapping, loaded once for all tests.
    fn users() -> Normalizer<'static> {
        static MAPPING: std::sync::LazyLock<Mapping> = std::sync::LazyLock::new(mapping);
        Normalizer {
            mapping: &MAPPING,
            entity: MAPPING.entity("user").unwrap(),
        }
    }

    fn legacy_user() -> Payload {
        json!({
            "id": 7, "username": "ada", "email": "a@x", "full_name": "Ada Lovelace", "status": "active",
            "is_admin": false, "created_at": "2026-01-01T12:00:00.123456+02:00",
            "updated_at": "2026-01-01T10:00:01.5+00:00", "source": "legacy"
        })
        .as_object()
        .cloned()
        .unwrap()
    }

    fn revamp_user() -> Payload {
        json!({
            "id": 7, "user_name": "ada", "email_address": "a@x", "first_name": "Ada", "last_name": "Lovelace",
            "status": 1, "is_admin": 0, "created_at": "2026-01-01 10:00:00.123456",
            "updated_at": "2026-01-01 10:00:01.500000", "source": "sync_service"
        })
        .as_object()
        .cloned()
        .unwrap()
    }

    #[test]
    fn a_synced_pair_is_equal_whatever_the_time_zone_and_precision() {
        let n = users();
        let (l, r) = (legacy_user(), revamp_user());
        assert_eq!(
            n.canonical(Side::Legacy, 7, l.clone()).unwrap(),
            n.canonical(Side::Revamp, 7, r.clone()).unwrap()
        );
        assert!(n.equivalent(7, &l, &r));
        assert!(n.differing_columns(7, &l, &r).is_empty());
    }

    #[test]
    fn a_changed_value_names_its_column_in_both_spellings() {
        let n = users();
        let mut r = revamp_user();
        r.insert("email_address".into(), json!("b@x"));
        r.insert("last_name".into(), json!("King"));
        assert!(!n.equivalent(7, &legacy_user(), &r));
        let diffs = n.differing_columns(7, &legacy_user(), &r);
        assert_eq!(
            diffs,
            [
                ColumnDiff {
                    legacy: "email".into(),
                    revamp: vec!["email_address".into()]
                },
                ColumnDiff {
                    legacy: "full_name".into(),
                    revamp: vec!["first_name".into(), "last_name".into()]
                },
            ]
        );
        // One microsecond is a difference.
        let mut r = revamp_user();
        r.insert("created_at".into(), json!("2026-01-01 10:00:00.123457"));
        assert_eq!(n.differing_columns(7, &legacy_user(), &r).len(), 1);
    }

    #[test]
    fn a_name_that_splits_back_differently_is_still_in_sync() {
        let n = users();
        // Revamp wrote (null, "Lovelace"); legacy got " Lovelace", which splits to ("", "Lovelace").
        let mut r = revamp_user();
        r.insert("first_name".into(), Value::Null);
        let mut l = legacy_user();
        l.insert("full_name".into(), json!(" Lovelace"));
        assert_ne!(
            n.canonical(Side::Legacy, 7, l.clone()).unwrap(),
            n.canonical(Side::Revamp, 7, r.clone()).unwrap()
        );
        assert!(n.equivalent(7, &l, &r));
    }

    #[test]
    fn versions_follow_the_source_column() {
        let n = users();
        let legacy = n.version(Side::Legacy, &legacy_user()).unwrap();
        let revamp = n.version(Side::Revamp, &revamp_user()).unwrap();
        assert_eq!(legacy, revamp, "a synced copy holds the origin's version");
        assert_eq!(legacy.origin, Side::Legacy);
    }
}

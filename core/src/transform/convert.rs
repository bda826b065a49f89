//! The column converters, both ways. Each reads the origin side's value(s) from the row image and returns the
//! target side's `(column, value)` pairs.

use super::TransformError;
use crate::error::quote;
use crate::event::Side;
use crate::mapping::{Column, Convert, MapValue};
use crate::row::SqlValue;
use crate::timestamp;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// Converts one mapped column of `payload` (in `origin`'s names) into the other side's columns.
pub(super) fn convert(
    entity: &str,
    column: &Column,
    origin: Side,
    payload: &Map<String, Value>,
) -> Result<Vec<(String, SqlValue)>, TransformError> {
    let target = origin.other();
    let mut inputs = Vec::with_capacity(2);
    for name in column.names(origin) {
        let value = payload
            .get(name)
            .ok_or_else(|| TransformError::MissingColumn {
                entity: entity.to_string(),
                side: origin,
                column: name.clone(),
            })?;
        inputs.push((name.as_str(), value));
    }
    let outputs: Vec<SqlValue> = match (column.convert(), inputs.as_slice()) {
        (Convert::None, [(name, value)]) => {
            vec![copy(value).map_err(|e| e.at(entity, name, value))?]
        }
        (Convert::BoolInt, [(name, value)]) => {
            vec![bool_int(value, target).map_err(|e| e.at(entity, name, value))?]
        }
        (Convert::Timestamp, [(name, value)]) => {
            vec![instant(value).map_err(|e| e.at(entity, name, value))?]
        }
        (Convert::ValueMap(pairs), [(name, value)]) => vec![value_map(pairs, origin, value)
            .ok_or_else(|| TransformError::UnmappedValue {
                entity: entity.to_string(),
                column: name.to_string(),
                value: quote(value),
            })?],
        (Convert::SplitName, [(name, full)]) => {
            let (first, last) = split_name(full).map_err(|e| e.at(entity, name, full))?;
            vec![first, last]
        }
        (Convert::SplitName, [(first_name, first), (last_name, last)]) => {
            vec![join_name(first, last).map_err(|e| {
                let (name, value) = if text_or_null(first).is_err() {
                    (first_name, first)
                } else {
                    (last_name, last)
                };
                e.at(entity, name, value)
            })?]
        }
        // Validation gives split_name two revamp names and every other converter one.
        (convert, _) => {
            return Err(TransformError::InvalidValue {
                entity: entity.to_string(),
                column: column.label(),
                value: String::new(),
                expected: match convert {
                    Convert::SplitName => "two revamp columns",
                    _ => "one column",
                },
            })
        }
    };
    Ok(column.names(target).iter().cloned().zip(outputs).collect())
}

/// A value that does not fit its converter; `at` adds where it was found.
struct Unfit(&'static str);

impl Unfit {
    fn at(self, entity: &str, column: &str, value: &Value) -> TransformError {
        TransformError::InvalidValue {
            entity: entity.to_string(),
            column: column.to_string(),
            value: quote(value),
            expected: self.0,
        }
    }
}

fn copy(value: &Value) -> Result<SqlValue, Unfit> {
    const EXPECTED: &str = "a string, integer, boolean or null";
    Ok(match value {
        Value::Null => SqlValue::Null,
        Value::Bool(b) => SqlValue::Bool(*b),
        Value::String(s) => SqlValue::Text(s.clone()),
        Value::Number(n) => SqlValue::Int(n.as_i64().ok_or(Unfit(EXPECTED))?),
        Value::Array(_) | Value::Object(_) => return Err(Unfit(EXPECTED)),
    })
}

/// Legacy booleans and revamp TINYINT(1) (0/1, or true/false when the connector maps it so), either way round.
fn bool_int(value: &Value, target: Side) -> Result<SqlValue, Unfit> {
    let flag = match value {
        Value::Null => return Ok(SqlValue::Null),
        Value::Bool(b) => *b,
        // MySQL reads any non-zero TINYINT as true.
        Value::Number(n) => n.as_i64().ok_or(Unfit("a boolean or an integer"))? != 0,
        _ => return Err(Unfit("a boolean or an integer")),
    };
    Ok(match target {
        Side::Legacy => SqlValue::Bool(flag),
        Side::Revamp => SqlValue::Int(i64::from(flag)),
    })
}

/// ISO-8601 text (with offset, or without as UTC) or epoch microseconds, on either side.
fn instant(value: &Value) -> Result<SqlValue, Unfit> {
    if value.is_null() {
        return Ok(SqlValue::Null);
    }
    timestamp_of(value)
        .map(SqlValue::Timestamp)
        .ok_or(Unfit(TIMESTAMP_EXPECTED))
}

/// What [`timestamp_of`] accepts, as errors name it.
pub(super) const TIMESTAMP_EXPECTED: &str = "an ISO-8601 timestamp or epoch microseconds";

/// A timestamp value as either side sends it: ISO-8601 text or epoch microseconds; `None` for anything else.
pub(super) fn timestamp_of(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::String(text) => timestamp::parse_text(text),
        Value::Number(n) => n.as_i64().and_then(timestamp::from_micros),
        _ => None,
    }
}

/// The other side's value of the pair whose `origin` value equals `value`; `None` if no pair has it.
fn value_map(pairs: &[(MapValue, MapValue)], origin: Side, value: &Value) -> Option<SqlValue> {
    if value.is_null() {
        return Some(SqlValue::Null);
    }
    let matches = |candidate: &MapValue| match (candidate, value) {
        (MapValue::Int(n), Value::Number(m)) => m.as_i64() == Some(*n),
        (MapValue::Text(s), Value::String(t)) => s == t,
        _ => false,
    };
    let found = pairs.iter().find_map(|(legacy, revamp)| match origin {
        Side::Legacy => matches(legacy).then_some(revamp),
        Side::Revamp => matches(revamp).then_some(legacy),
    })?;
    Some(match found {
        MapValue::Int(n) => SqlValue::Int(*n),
        MapValue::Text(s) => SqlValue::Text(s.clone()),
    })
}

fn text_or_null(value: &Value) -> Result<Option<&str>, Unfit> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        _ => Err(Unfit("a string or null")),
    }
}

/// `"Ada King Lovelace"` → (`"Ada"`, `"King Lovelace"`); no space → last name `""`; null → both null.
fn split_name(full: &Value) -> Result<(SqlValue, SqlValue), Unfit> {
    Ok(match text_or_null(full)? {
        None => (SqlValue::Null, SqlValue::Null),
        Some(full) => {
            let (first, last) = full.split_once(' ').unwrap_or((full, ""));
            (SqlValue::Text(first.into()), SqlValue::Text(last.into()))
        }
    })
}

/// The inverse of [`split_name`]: `first + " " + last`, or `first` alone when `last` is empty; both null → null.
/// A null first name with a last name gives `" last"`, which splits back to the same last name.
fn join_name(first: &Value, last: &Value) -> Result<SqlValue, Unfit> {
    Ok(match (text_or_null(first)?, text_or_null(last)?) {
        (None, None) => SqlValue::Null,
        (first, None | Some("")) => SqlValue::Text(first.unwrap_or_default().to_string()),
        (first, Some(last)) => SqlValue::Text(format!("{} {last}", first.unwrap_or_default())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(s: &str) -> SqlValue {
        SqlValue::Text(s.into())
    }

    #[test]
    fn split_name_edge_cases() {
        let split = |v: Value| split_name(&v).ok().unwrap();
        assert_eq!(split(json!("Quick Test")), (text("Quick"), text("Test")));
        assert_eq!(
            split(json!("Ada King Lovelace")),
            (text("Ada"), text("King Lovelace"))
        );
        assert_eq!(split(json!("Cher")), (text("Cher"), text("")));
        assert_eq!(split(json!("")), (text(""), text("")));
        assert_eq!(split(json!(" Lovelace")), (text(""), text("Lovelace")));
        assert_eq!(split(json!("Ada ")), (text("Ada"), text("")));
        assert_eq!(split(json!("Zoë  Ünal")), (text("Zoë"), text(" Ünal")));
        assert_eq!(split(Value::Null), (SqlValue::Null, SqlValue::Null));
        assert!(split_name(&json!(5)).is_err());
    }

    #[test]
    fn join_name_edge_cases() {
        let join = |f: Value, l: Value| join_name(&f, &l).ok().unwrap();
        assert_eq!(join(json!("Quick"), json!("Test")), text("Quick Test"));
        assert_eq!(join(json!("Cher"), json!("")), text("Cher"));
        assert_eq!(join(json!("Cher"), Value::Null), text("Cher"));
        assert_eq!(join(Value::Null, json!("Lovelace")), text(" Lovelace"));
        assert_eq!(join(Value::Null, json!("")), text(""));
        assert_eq!(join(json!(""), json!("")), text(""));
        assert_eq!(join(Value::Null, Value::Null), SqlValue::Null);
        assert!(join_name(&json!(1), &json!("x")).is_err());
    }

    #[test]
    fn bool_int_accepts_both_spellings() {
        assert_eq!(
            bool_int(&json!(true), Side::Revamp).ok(),
            Some(SqlValue::Int(1))
        );
        assert_eq!(
            bool_int(&json!(false), Side::Revamp).ok(),
            Some(SqlValue::Int(0))
        );
        assert_eq!(
            bool_int(&json!(1), Side::Legacy).ok(),
            Some(SqlValue::Bool(true))
        );
        assert_eq!(
            bool_int(&json!(0), Side::Legacy).ok(),
            Some(SqlValue::Bool(false))
        );
        assert_eq!(
            bool_int(&json!(true), Side::Legacy).ok(),
            Some(SqlValue::Bool(true))
        );
        assert_eq!(
            bool_int(&Value::Null, Side::Legacy).ok(),
            Some(SqlValue::Null)
        );
        assert!(bool_int(&json!("yes"), Side::Legacy).is_err());
    }

    #[test]
    fn copy_keeps_json_types() {
        assert_eq!(copy(&json!("x")).ok(), Some(text("x")));
        assert_eq!(copy(&json!(-7)).ok(), Some(SqlValue::Int(-7)));
        assert_eq!(copy(&json!(false)).ok(), Some(SqlValue::Bool(false)));
        assert_eq!(copy(&Value::Null).ok(), Some(SqlValue::Null));
        for bad in [json!(1.5), json!(u64::MAX), json!([1]), json!({"a": 1})] {
            assert!(copy(&bad).is_err(), "{bad}");
        }
    }
}

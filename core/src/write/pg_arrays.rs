//! PostgreSQL's multi-row writes with one array parameter per column (`INSERT ... SELECT ... FROM unnest($1::int8[],
//! ...)`) instead of a VALUES list with one parameter per cell: any number of rows is one statement of one shape, so
//! a batch's writes to a table are one round trip and one cached statement, where the row-wise form needs a
//! statement per power-of-two chunk, each with thousands of parameters to bind and plan.

use crate::row::SqlValue;
use crate::write::schema::ColumnTypes;
use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::postgres::{PgArguments, Postgres};
use sqlx::query::Query;

/// One column's values, as the array PostgreSQL receives.
#[derive(Debug, PartialEq)]
pub(crate) enum ColumnArray {
    Int(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
    Timestamp(Vec<Option<DateTime<Utc>>>),
    Text(Vec<Option<String>>),
}

impl ColumnArray {
    /// The column's array: typed when its non-null values are all of one kind, text otherwise (each value's text,
    /// which the statement's cast to the column type reads back, as it would read a literal).
    pub fn of(values: &[&SqlValue]) -> Self {
        let mut present = values.iter().filter(|v| !matches!(v, SqlValue::Null));
        let first = present.next();
        let one_kind = first.is_some_and(|first| {
            present.all(|v| std::mem::discriminant(*v) == std::mem::discriminant(*first))
        });
        match first {
            Some(SqlValue::Int(_)) if one_kind => {
                Self::Int(values.iter().map(|v| int(v)).collect())
            }
            Some(SqlValue::Bool(_)) if one_kind => {
                Self::Bool(values.iter().map(|v| boolean(v)).collect())
            }
            Some(SqlValue::Timestamp(_)) if one_kind => {
                Self::Timestamp(values.iter().map(|v| timestamp(v)).collect())
            }
            _ => Self::Text(values.iter().map(|v| text(v)).collect()),
        }
    }

    /// The array's SQL type, for the parameter's cast.
    pub fn sql_type(&self) -> &'static str {
        match self {
            Self::Int(_) => "int8[]",
            Self::Bool(_) => "bool[]",
            Self::Timestamp(_) => "timestamptz[]",
            Self::Text(_) => "text[]",
        }
    }

    /// Binds the array as the query's next parameter.
    pub fn bind(self, query: Query<'_, Postgres, PgArguments>) -> Query<'_, Postgres, PgArguments> {
        match self {
            Self::Int(v) => query.bind(v),
            Self::Bool(v) => query.bind(v),
            Self::Timestamp(v) => query.bind(v),
            Self::Text(v) => query.bind(v),
        }
    }
}

fn int(value: &SqlValue) -> Option<i64> {
    match value {
        SqlValue::Int(v) => Some(*v),
        _ => None,
    }
}

fn boolean(value: &SqlValue) -> Option<bool> {
    match value {
        SqlValue::Bool(v) => Some(*v),
        _ => None,
    }
}

fn timestamp(value: &SqlValue) -> Option<DateTime<Utc>> {
    match value {
        SqlValue::Timestamp(v) => Some(*v),
        _ => None,
    }
}

fn text(value: &SqlValue) -> Option<String> {
    match value {
        SqlValue::Null => None,
        SqlValue::Bool(v) => Some(v.to_string()),
        SqlValue::Int(v) => Some(v.to_string()),
        SqlValue::Text(v) => Some(v.clone()),
        SqlValue::Timestamp(v) => Some(v.to_rfc3339_opts(SecondsFormat::Micros, true)),
    }
}

/// `rows` (each `width` values wide) as one array per column.
pub(crate) fn columns(rows: &[Vec<&SqlValue>], width: usize) -> Vec<ColumnArray> {
    (0..width)
        .map(|c| ColumnArray::of(&rows.iter().map(|r| r[c]).collect::<Vec<_>>()))
        .collect()
}

fn ident(name: &str) -> String {
    format!("\"{name}\"")
}

/// `unnest($1::int8[], $2::text[], ...) AS v(c0, c1, ...)`, and the select list casting each to its column's type.
fn unnest(
    table: &str,
    columns: &[&str],
    arrays: &[ColumnArray],
    types: &ColumnTypes,
) -> (String, Vec<String>) {
    let params: Vec<String> = arrays
        .iter()
        .enumerate()
        .map(|(i, a)| format!("${}::{}", i + 1, a.sql_type()))
        .collect();
    let aliases: Vec<String> = (0..arrays.len()).map(|i| format!("c{i}")).collect();
    let values = columns
        .iter()
        .enumerate()
        .map(|(i, c)| match types.get(table, c) {
            Some(ty) => format!("v.c{i}::{ty}"),
            None => format!("v.c{i}"),
        })
        .collect();
    (
        format!("unnest({}) AS v({})", params.join(", "), aliases.join(", ")),
        values,
    )
}

/// INSERT of the rows whose `columns` the arrays hold, one array per column in order.
pub(crate) fn insert(
    table: &str,
    columns: &[&str],
    arrays: &[ColumnArray],
    types: &ColumnTypes,
) -> String {
    let (from, values) = unnest(table, columns, arrays, types);
    let names: Vec<String> = columns.iter().map(|c| ident(c)).collect();
    format!(
        "INSERT INTO {} ({}) SELECT {} FROM {from}",
        ident(table),
        names.join(", "),
        values.join(", ")
    )
}

/// UPDATE of rows by key: the arrays hold the key, then `columns`.
pub(crate) fn update(
    table: &str,
    key_column: &str,
    columns: &[&str],
    arrays: &[ColumnArray],
    types: &ColumnTypes,
) -> String {
    let all: Vec<&str> = std::iter::once(key_column)
        .chain(columns.iter().copied())
        .collect();
    let (from, values) = unnest(table, &all, arrays, types);
    let sets: Vec<String> = columns
        .iter()
        .zip(&values[1..])
        .map(|(c, v)| format!("{} = {v}", ident(c)))
        .collect();
    format!(
        "UPDATE {t} AS t SET {sets} FROM {from} WHERE t.{k} = {key}",
        t = ident(table),
        sets = sets.join(", "),
        k = ident(key_column),
        key = values[0]
    )
}

/// Records event ids (text, cast to uuid) with their source commit times; affects 0 rows for known ids.
pub(crate) const RECORD_EVENTS: &str =
    "INSERT INTO dbsync_applied_events (event_id, source_committed_at) \
     SELECT * FROM unnest($1::text[]::uuid[], $2::timestamptz[]) ON CONFLICT DO NOTHING";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_of_one_kind_is_a_typed_array_and_nulls_stay_null() {
        let (a, b) = (SqlValue::Int(1), SqlValue::Null);
        assert_eq!(
            ColumnArray::of(&[&a, &b]),
            ColumnArray::Int(vec![Some(1), None])
        );
        let at =
            DateTime::parse_from_rfc3339("2026-11-30T12:00:00.5Z").map(|t| t.with_timezone(&Utc));
        let at = SqlValue::Timestamp(at.expect("a valid time"));
        assert_eq!(ColumnArray::of(&[&b, &at]).sql_type(), "timestamptz[]");
        assert_eq!(
            ColumnArray::of(&[&b, &b]),
            ColumnArray::Text(vec![None, None])
        );
    }

    #[test]
    fn a_column_of_mixed_kinds_is_text() {
        let (a, t) = (SqlValue::Int(7), SqlValue::Bool(true));
        assert_eq!(
            ColumnArray::of(&[&a, &t, &SqlValue::Null]),
            ColumnArray::Text(vec![Some("7".into()), Some("true".into()), None])
        );
    }

    #[test]
    fn inserts_and_updates_read_one_array_per_column_and_cast_to_the_live_type() {
        let mut types = ColumnTypes::default();
        types.insert("t", "id", "int8");
        types.insert("t", "state", "post_state");
        let arrays = [
            ColumnArray::Int(vec![Some(1)]),
            ColumnArray::Text(vec![Some("x".into())]),
        ];
        assert_eq!(
            insert("t", &["id", "state"], &arrays, &types),
            r#"INSERT INTO "t" ("id", "state") SELECT v.c0::int8, v.c1::post_state FROM unnest($1::int8[], $2::text[]) AS v(c0, c1)"#
        );
        assert_eq!(
            update("t", "id", &["state"], &arrays, &types),
            r#"UPDATE "t" AS t SET "state" = v.c1::post_state FROM unnest($1::int8[], $2::text[]) AS v(c0, c1) WHERE t."id" = v.c0::int8"#
        );
    }
}

//! Both databases compared through the mapping. Every revamp row becomes the legacy shape exactly as the consumer
//! would write it, by `dbsync_core::transform` of a synthetic revamp update event (revamp rows are read with
//! `JSON_OBJECT`, so DATETIME(6) arrives as `YYYY-MM-DD HH:MM:SS.ffffff` UTC text and TINYINTs as numbers, the
//! spellings the transform accepts); every legacy row (`row_to_json`) becomes the same typed values column by column,
//! by the column's converter. Rows are then canonical text (mapped columns only, in mapping order; `source` is not
//! mapped: it legitimately differs), compared by id, counted and summed into an order-independent checksum.

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDateTime, Utc};
use dbsync_core::mapping::{Convert, Entity};
use dbsync_core::{transform, ChangeEvent, Mapping, Operation, RowOp, Side, SqlValue};
use serde_json::{Map, Value};
use sqlx::{AssertSqlSafe, MySqlConnection, PgConnection, Row};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// Which ids of each entity to compare (`None`: every row).
pub type Filter<'a> = Option<&'a BTreeMap<&'static str, HashSet<i64>>>;

/// One row that differs: its canonical form on each side (`None`: absent).
#[derive(Debug, Clone)]
pub struct Diff {
    /// The row's id.
    pub id: i64,
    /// Legacy's row, mapped.
    pub legacy: Option<String>,
    /// Revamp's row, mapped to the legacy shape.
    pub revamp: Option<String>,
}

/// The figures of one entity.
#[derive(Debug, Clone)]
pub struct Table {
    /// The entity name.
    pub entity: String,
    /// `legacy_table / revamp_table`.
    pub tables: String,
    /// Rows on legacy.
    pub legacy_rows: usize,
    /// Rows on revamp.
    pub revamp_rows: usize,
    /// Checksum of legacy's mapped rows.
    pub legacy_sum: u64,
    /// Checksum of revamp's mapped rows.
    pub revamp_sum: u64,
    /// How many ids differ (missing on one side, or different values).
    pub differing: usize,
    /// The first differing rows, by id.
    pub diffs: Vec<Diff>,
}

impl Table {
    /// Whether both sides hold the same rows.
    pub fn matches(&self) -> bool {
        self.differing == 0
            && self.legacy_rows == self.revamp_rows
            && self.legacy_sum == self.revamp_sum
    }
}

/// Compares every entity of `mapping`; `filter` restricts the ids; keeps up to `show` differing rows per entity.
pub async fn compare(
    pg: &mut PgConnection,
    my: &mut MySqlConnection,
    mapping: &Mapping,
    filter: Filter<'_>,
    show: usize,
) -> Result<Vec<Table>> {
    let mut tables = Vec::new();
    for entity in mapping.topological_order() {
        let keep = |id: &i64| match filter {
            None => true,
            Some(ids) => ids.get(entity.name()).is_some_and(|set| set.contains(id)),
        };
        let mut legacy = legacy_rows(pg, entity).await?;
        let mut revamp = revamp_rows(my, entity, mapping).await?;
        legacy.retain(|id, _| keep(id));
        revamp.retain(|id, _| keep(id));
        let ids: BTreeSet<i64> = legacy.keys().chain(revamp.keys()).copied().collect();
        let mut differing = 0;
        let mut diffs = Vec::new();
        for id in ids {
            let (l, r) = (legacy.get(&id), revamp.get(&id));
            if l != r {
                differing += 1;
                if diffs.len() < show {
                    diffs.push(Diff {
                        id,
                        legacy: l.cloned(),
                        revamp: r.cloned(),
                    });
                }
            }
        }
        tables.push(Table {
            entity: entity.name().to_string(),
            tables: format!(
                "{} / {}",
                entity.table(Side::Legacy),
                entity.table(Side::Revamp)
            ),
            legacy_rows: legacy.len(),
            revamp_rows: revamp.len(),
            legacy_sum: checksum(legacy.values()),
            revamp_sum: checksum(revamp.values()),
            differing,
            diffs,
        });
    }
    Ok(tables)
}

/// Sum of the rows' FNV-1a hashes: independent of order.
fn checksum<'a>(rows: impl Iterator<Item = &'a String>) -> u64 {
    rows.map(|row| {
        row.bytes().fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        })
    })
    .fold(0u64, u64::wrapping_add)
}

/// Canonical text of a mapped row: `column=value` in mapping order.
fn canonical(columns: &[(String, SqlValue)]) -> String {
    columns
        .iter()
        .map(|(name, value)| {
            let value = match value {
                SqlValue::Null => "null".to_string(),
                SqlValue::Bool(b) => b.to_string(),
                SqlValue::Int(n) => n.to_string(),
                SqlValue::Text(s) => Value::String(s.clone()).to_string(),
                SqlValue::Timestamp(at) => at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            };
            format!("{name}={value}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

async fn legacy_rows(pg: &mut PgConnection, entity: &Entity) -> Result<BTreeMap<i64, String>> {
    let table = entity.table(Side::Legacy);
    // Table and column names come from the validated mapping.
    let sql = format!("SELECT row_to_json(t)::text FROM {table} t");
    let rows = sqlx::query(AssertSqlSafe(sql))
        .fetch_all(pg)
        .await
        .with_context(|| format!("reading {table}"))?;
    let mut out = BTreeMap::new();
    for row in rows {
        let text: String = row.try_get(0)?;
        let object: Map<String, Value> = serde_json::from_str(&text)?;
        let id = object
            .get(entity.key())
            .and_then(Value::as_i64)
            .with_context(|| format!("{table}: row without an integer key: {text}"))?;
        let columns = legacy_values(entity, &object)
            .with_context(|| format!("{table} id {id}: cannot read {text}"))?;
        out.insert(id, canonical(&columns));
    }
    Ok(out)
}

/// A legacy row's mapped columns as the typed values the transform would produce on legacy.
fn legacy_values(entity: &Entity, row: &Map<String, Value>) -> Result<Vec<(String, SqlValue)>> {
    entity
        .column_mappings()
        .iter()
        .map(|column| {
            let name = &column.names(Side::Legacy)[0];
            let value = row.get(name).cloned().unwrap_or(Value::Null);
            let typed = match (column.convert(), &value) {
                (_, Value::Null) => SqlValue::Null,
                (Convert::Timestamp, Value::String(text)) => SqlValue::Timestamp(
                    parse_timestamp(text).with_context(|| format!("{name}: {text}"))?,
                ),
                (_, Value::Bool(b)) => SqlValue::Bool(*b),
                (_, Value::Number(n)) => SqlValue::Int(
                    n.as_i64()
                        .with_context(|| format!("{name}: {n} is not an integer"))?,
                ),
                (_, Value::String(s)) => SqlValue::Text(s.clone()),
                (_, other) => anyhow::bail!("{name}: unexpected {other}"),
            };
            Ok((name.clone(), typed))
        })
        .collect()
}

fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|naive| naive.and_utc())
        })
}

async fn revamp_rows(
    my: &mut MySqlConnection,
    entity: &Entity,
    mapping: &Mapping,
) -> Result<BTreeMap<i64, String>> {
    let table = entity.table(Side::Revamp);
    let mut names: Vec<&str> = entity.columns(Side::Revamp);
    names.push("source");
    let pairs = names
        .iter()
        .map(|name| format!("'{name}', `{name}`"))
        .collect::<Vec<_>>()
        .join(", ");
    // Table and column names come from the validated mapping.
    let sql = format!("SELECT CAST(JSON_OBJECT({pairs}) AS CHAR) FROM `{table}`");
    let rows = sqlx::query(AssertSqlSafe(sql))
        .fetch_all(my)
        .await
        .with_context(|| format!("reading {table}"))?;
    let mut out = BTreeMap::new();
    for row in rows {
        let text: String = row.try_get(0)?;
        let payload: Map<String, Value> = serde_json::from_str(&text)?;
        let id = payload
            .get(entity.key())
            .and_then(Value::as_i64)
            .with_context(|| format!("{table}: row without an integer key: {text}"))?;
        let event = ChangeEvent {
            event_id: uuid::Uuid::nil(),
            entity_type: entity.name().to_string(),
            operation: Operation::Update,
            primary_key: id,
            source: "revamp".to_string(),
            payload,
            event_version: 1,
            timestamp: Utc::now(),
            origin: Side::Revamp,
            snapshot: false,
            position: None,
        };
        let canonical_row = match transform(&event, mapping) {
            Ok(RowOp::Upsert(upsert)) => canonical(&upsert.columns),
            Ok(other) => format!("(transform gave {other:?})"),
            Err(error) => format!("(not mappable: {error})"),
        };
        out.insert(id, canonical_row);
    }
    Ok(out)
}

//! The file's serde shape and the rules that turn it into a [`Mapping`]. Each error names the entry as the file
//! spells it (`entities.user.columns[3]`, 0-based), so a typo is found without reading code.

use super::MAPPING_FORMAT_VERSION;
use super::{Column, ConflictPolicy, Convert, Entity, MapValue, Mapping, MappingError};
use crate::filter::SOURCE_COLUMN;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// PostgreSQL truncates longer identifiers (MySQL allows 64), which would silently name another column.
const MAX_IDENTIFIER_LEN: usize = 63;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    version: Option<i64>,
    #[serde(default)]
    entities: BTreeMap<String, RawEntity>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntity {
    legacy_table: String,
    revamp_table: String,
    key: String,
    updated_at: RawPair,
    conflict: Option<String>,
    #[serde(default)]
    parents: Vec<String>,
    #[serde(default)]
    columns: Vec<RawColumn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPair {
    legacy: String,
    revamp: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumn {
    legacy: String,
    revamp: RawNames,
    convert: Option<String>,
    values: Option<Vec<Vec<toml::Value>>>,
    references: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawNames {
    One(String),
    Many(Vec<String>),
}

fn invalid(at: impl Into<String>, reason: impl Into<String>) -> MappingError {
    MappingError::Invalid {
        at: at.into(),
        reason: reason.into(),
    }
}

/// Parses and validates mapping text.
pub(super) fn parse(text: &str) -> Result<Mapping, MappingError> {
    let raw: RawMapping = toml::from_str(text).map_err(|source| MappingError::Parse { source })?;
    let version = match raw.version {
        Some(v) if v == i64::from(MAPPING_FORMAT_VERSION) => MAPPING_FORMAT_VERSION,
        Some(v) => {
            return Err(invalid(
                "version",
                format!(
                "mapping format version {v} is not supported (expected {MAPPING_FORMAT_VERSION})"
            ),
            ))
        }
        None => {
            return Err(invalid(
                "version",
                format!("required: the mapping format version, {MAPPING_FORMAT_VERSION}"),
            ))
        }
    };
    if raw.entities.is_empty() {
        return Err(invalid("entities", "at least one entity is required"));
    }
    let names: BTreeSet<&str> = raw.entities.keys().map(String::as_str).collect();
    let mut entities = Vec::with_capacity(raw.entities.len());
    for (name, entity) in &raw.entities {
        entities.push(entity_from_raw(name, entity, &names)?);
    }
    check_tables_unique(&entities)?;
    let entities = parents_first(entities)?;
    Ok(Mapping { version, entities })
}

fn identifier(at: &str, name: &str) -> Result<(), MappingError> {
    let mut chars = name.chars();
    let starts_well = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !starts_well || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(invalid(
            at,
            format!("`{name}` is not a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*)"),
        ));
    }
    if name.len() > MAX_IDENTIFIER_LEN {
        return Err(invalid(
            at,
            format!("`{name}` is longer than {MAX_IDENTIFIER_LEN} characters"),
        ));
    }
    Ok(())
}

fn entity_from_raw(
    name: &str,
    raw: &RawEntity,
    names: &BTreeSet<&str>,
) -> Result<Entity, MappingError> {
    let at = format!("entities.{name}");
    identifier(&at, name)?;
    identifier(&format!("{at}.legacy_table"), &raw.legacy_table)?;
    identifier(&format!("{at}.revamp_table"), &raw.revamp_table)?;
    identifier(&format!("{at}.key"), &raw.key)?;
    identifier(&format!("{at}.updated_at.legacy"), &raw.updated_at.legacy)?;
    identifier(&format!("{at}.updated_at.revamp"), &raw.updated_at.revamp)?;
    let conflict = match &raw.conflict {
        None => ConflictPolicy::default(),
        Some(text) => ConflictPolicy::parse(text).ok_or_else(|| {
            invalid(
                format!("{at}.conflict"),
                format!("`{text}` is not one of last_writer_wins, legacy_wins, revamp_wins"),
            )
        })?,
    };
    let mut seen = HashSet::new();
    for (i, parent) in raw.parents.iter().enumerate() {
        let at = format!("{at}.parents[{i}]");
        if parent == name {
            return Err(invalid(at, "an entity cannot be its own parent"));
        }
        if !names.contains(parent.as_str()) {
            return Err(invalid(at, format!("no entity named `{parent}`")));
        }
        if !seen.insert(parent) {
            return Err(invalid(at, format!("`{parent}` is listed twice")));
        }
    }
    if raw.columns.is_empty() {
        return Err(invalid(
            format!("{at}.columns"),
            "at least one column is required",
        ));
    }
    let mut columns = Vec::with_capacity(raw.columns.len());
    let (mut legacy_seen, mut revamp_seen) = (HashSet::new(), HashSet::new());
    for (i, raw_column) in raw.columns.iter().enumerate() {
        let at = format!("{at}.columns[{i}]");
        let column = column_from_raw(&at, raw_column, names, &raw.parents)?;
        for (side_seen, side_names) in [
            (&mut legacy_seen, std::slice::from_ref(&column.legacy)),
            (&mut revamp_seen, column.revamp.as_slice()),
        ] {
            for column_name in side_names {
                if !side_seen.insert(column_name.clone()) {
                    return Err(invalid(
                        &at,
                        format!("column `{column_name}` is mapped twice"),
                    ));
                }
            }
        }
        columns.push(column);
    }
    let single = |column: &Column, legacy: &str, revamp: &str| {
        column.legacy == legacy && column.revamp.len() == 1 && column.revamp[0] == revamp
    };
    match columns.iter().find(|c| single(c, &raw.key, &raw.key)) {
        Some(column) if column.convert == Convert::None => {}
        Some(_) => {
            return Err(invalid(
                format!("{at}.key"),
                "the key column must use convert = none",
            ))
        }
        None => {
            return Err(invalid(
                format!("{at}.key"),
                format!(
                    "key `{}` must be mapped as {{ legacy = \"{0}\", revamp = \"{0}\" }}",
                    raw.key
                ),
            ))
        }
    }
    let (ua_legacy, ua_revamp) = (&raw.updated_at.legacy, &raw.updated_at.revamp);
    match columns.iter().find(|c| single(c, ua_legacy, ua_revamp)) {
        Some(column) if column.convert == Convert::Timestamp => {}
        Some(_) => {
            return Err(invalid(
                format!("{at}.updated_at"),
                "the updated_at column must use convert = timestamp",
            ))
        }
        None => {
            return Err(invalid(
                format!("{at}.updated_at"),
                format!("`{ua_legacy}` -> `{ua_revamp}` must be one of the entity's columns"),
            ))
        }
    }
    Ok(Entity {
        name: name.to_string(),
        legacy_table: raw.legacy_table.clone(),
        revamp_table: raw.revamp_table.clone(),
        key: raw.key.clone(),
        updated_at: [ua_legacy.clone(), ua_revamp.clone()],
        conflict,
        parents: raw.parents.clone(),
        columns,
    })
}

fn column_from_raw(
    at: &str,
    raw: &RawColumn,
    names: &BTreeSet<&str>,
    parents: &[String],
) -> Result<Column, MappingError> {
    identifier(&format!("{at}.legacy"), &raw.legacy)?;
    let revamp = match &raw.revamp {
        RawNames::One(name) => vec![name.clone()],
        RawNames::Many(names) => names.clone(),
    };
    for (j, name) in revamp.iter().enumerate() {
        identifier(&format!("{at}.revamp[{j}]"), name)?;
    }
    if raw.legacy == SOURCE_COLUMN || revamp.iter().any(|name| name == SOURCE_COLUMN) {
        return Err(invalid(
            at,
            "the `source` column is stamped by triggers and must not be mapped",
        ));
    }
    let convert = match raw.convert.as_deref().unwrap_or("none") {
        "none" => Convert::None,
        "bool_int" => Convert::BoolInt,
        "timestamp" => Convert::Timestamp,
        "split_name" => Convert::SplitName,
        "value_map" => Convert::ValueMap(value_pairs(at, raw.values.as_deref())?),
        other => {
            return Err(invalid(
                format!("{at}.convert"),
                format!("`{other}` is not one of none, bool_int, timestamp, value_map, split_name"),
            ))
        }
    };
    if raw.values.is_some() && !matches!(convert, Convert::ValueMap(_)) {
        return Err(invalid(
            at,
            format!(
                "`values` needs convert = value_map, not {}",
                convert.as_str()
            ),
        ));
    }
    match (&convert, revamp.len()) {
        (Convert::SplitName, 2) => {}
        (Convert::SplitName, n) => {
            return Err(invalid(
                at,
                format!(
                    "convert = split_name needs exactly two revamp columns [first, last], got {n}"
                ),
            ))
        }
        (_, 1) => {}
        (convert, n) => {
            return Err(invalid(
                at,
                format!(
                    "convert = {} needs one revamp column, got {n}",
                    convert.as_str()
                ),
            ))
        }
    }
    if let Some(parent) = &raw.references {
        if !names.contains(parent.as_str()) {
            return Err(invalid(
                format!("{at}.references"),
                format!("no entity named `{parent}`"),
            ));
        }
        if !parents.contains(parent) {
            return Err(invalid(
                format!("{at}.references"),
                format!("`{parent}` must also be listed in the entity's `parents`"),
            ));
        }
        if convert != Convert::None {
            return Err(invalid(at, "a foreign key column must use convert = none"));
        }
    }
    Ok(Column {
        legacy: raw.legacy.clone(),
        revamp,
        convert,
        references: raw.references.clone(),
    })
}

fn value_pairs(
    at: &str,
    values: Option<&[Vec<toml::Value>]>,
) -> Result<Vec<(MapValue, MapValue)>, MappingError> {
    let values = match values {
        Some(values) if !values.is_empty() => values,
        _ => {
            return Err(invalid(
                at,
                "convert = value_map needs `values` = [[legacy, revamp], ...]",
            ))
        }
    };
    let scalar = |at: String, value: &toml::Value| match value {
        toml::Value::Integer(n) => Ok(MapValue::Int(*n)),
        toml::Value::String(s) => Ok(MapValue::Text(s.clone())),
        other => Err(invalid(
            at,
            format!("{other} is neither an integer nor a string"),
        )),
    };
    let (mut legacy_seen, mut revamp_seen) = (HashSet::new(), HashSet::new());
    let mut pairs = Vec::with_capacity(values.len());
    for (k, pair) in values.iter().enumerate() {
        let at = format!("{at}.values[{k}]");
        let [legacy, revamp] = pair.as_slice() else {
            return Err(invalid(
                at,
                format!(
                    "a pair needs two values [legacy, revamp], got {}",
                    pair.len()
                ),
            ));
        };
        let legacy = scalar(format!("{at}[0]"), legacy)?;
        let revamp = scalar(format!("{at}[1]"), revamp)?;
        if !legacy_seen.insert(legacy.clone()) {
            return Err(invalid(at, format!("legacy value {legacy} appears twice")));
        }
        if !revamp_seen.insert(revamp.clone()) {
            return Err(invalid(at, format!("revamp value {revamp} appears twice")));
        }
        pairs.push((legacy, revamp));
    }
    Ok(pairs)
}

fn check_tables_unique(entities: &[Entity]) -> Result<(), MappingError> {
    let mut owners: BTreeMap<(&str, &str), &str> = BTreeMap::new();
    for entity in entities {
        for (field, side, table) in [
            ("legacy_table", "legacy", entity.legacy_table.as_str()),
            ("revamp_table", "revamp", entity.revamp_table.as_str()),
        ] {
            if let Some(owner) = owners.insert((side, table), &entity.name) {
                return Err(invalid(
                    format!("entities.{}.{field}", entity.name),
                    format!("table `{table}` is already used by entity `{owner}`"),
                ));
            }
        }
    }
    Ok(())
}

/// Orders entities parents first (Kahn's algorithm, ties by name so the order is stable), rejecting cycles.
fn parents_first(entities: Vec<Entity>) -> Result<Vec<Entity>, MappingError> {
    let mut pending: BTreeMap<String, Entity> =
        entities.into_iter().map(|e| (e.name.clone(), e)).collect();
    let mut ordered: Vec<Entity> = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let ready = pending
            .values()
            .find(|e| e.parents.iter().all(|p| !pending.contains_key(p)))
            .map(|e| e.name.clone());
        let Some(name) = ready else {
            let stuck: Vec<&str> = pending.keys().map(String::as_str).collect();
            return Err(invalid(
                format!(
                    "entities.{}.parents",
                    stuck.first().copied().unwrap_or_default()
                ),
                format!("the parents of {} form a cycle", stuck.join(", ")),
            ));
        };
        if let Some(entity) = pending.remove(&name) {
            ordered.push(entity);
        }
    }
    Ok(ordered)
}

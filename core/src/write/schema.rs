//! Start-up check of the mapping against the live target schema (every mapped table and column must exist, plus
//! `source`, the ledger and the tombstones), and the column types PostgreSQL parameters are cast to.

use crate::conflict::Version;
use crate::event::Side;
use crate::mapping::Mapping;
use crate::write::error::WriteError;
use std::collections::HashMap;

/// Column types of the target tables, `(table, column) -> type name` (PostgreSQL `udt_name`, MySQL `data_type`).
#[derive(Debug, Default, Clone)]
pub(crate) struct ColumnTypes(HashMap<(String, String), String>);

impl ColumnTypes {
    pub fn get(&self, table: &str, column: &str) -> Option<&str> {
        self.0
            .get(&(table.to_string(), column.to_string()))
            .map(String::as_str)
    }

    pub fn insert(&mut self, table: &str, column: &str, ty: &str) {
        self.0
            .insert((table.to_string(), column.to_string()), ty.to_string());
    }
}

/// The `row_source` a tombstone on `side` stores so that it reads back as `version` (see `Version::stored`).
pub(crate) fn row_source_for(side: Side, version: Version) -> &'static str {
    if version.origin == side {
        side.as_str()
    } else {
        crate::filter::SYNC_SERVICE_SOURCE
    }
}

/// The mapping's demands on `side`'s schema, with the entry each one comes from.
fn required(mapping: &Mapping, side: Side) -> Vec<(String, String, String)> {
    let mut needs = Vec::new();
    for entity in mapping.entities() {
        let table = entity.table(side).to_string();
        for (index, column) in entity.column_mappings().iter().enumerate() {
            for name in column.names(side) {
                let entry = format!(
                    "entities.{}.columns[{index}] ({side} `{name}`)",
                    entity.name()
                );
                needs.push((entry, table.clone(), name.clone()));
            }
        }
        let entry = format!("entities.{} ({side} table `{table}`)", entity.name());
        needs.push((entry, table, "source".to_string()));
    }
    for (table, column) in [
        ("dbsync_applied_events", "event_id"),
        ("dbsync_applied_events", "source_committed_at"),
        ("dbsync_tombstones", "row_updated_at"),
        ("dbsync_source_positions", "source_position"),
    ] {
        let entry =
            format!("dbsync bookkeeping table `{table}` (databases/*/schema.sql and migrations/)");
        needs.push((entry, table.to_string(), column.to_string()));
    }
    needs
}

fn check(
    mapping: &Mapping,
    side: Side,
    live: Vec<(String, String, String)>,
) -> Result<ColumnTypes, WriteError> {
    let mut types = ColumnTypes::default();
    for (table, column, ty) in live {
        types.insert(&table, &column, &ty);
    }
    for (entry, table, column) in required(mapping, side) {
        if types.get(&table, &column).is_none() {
            let table_known = types.0.keys().any(|(t, _)| *t == table);
            let reason = if table_known {
                format!("table `{table}` has no column `{column}`")
            } else {
                format!("no table `{table}` in the target database")
            };
            return Err(WriteError::Schema { entry, reason });
        }
    }
    Ok(types)
}

pub(crate) async fn check_postgres(
    pool: &sqlx::PgPool,
    mapping: &Mapping,
) -> Result<ColumnTypes, WriteError> {
    let live: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, udt_name::text FROM information_schema.columns \
         WHERE table_schema = current_schema()",
    )
    .fetch_all(pool)
    .await
    .map_err(|e| WriteError::from_sqlx("reading the legacy schema", e))?;
    check(mapping, Side::Legacy, live)
}

pub(crate) async fn check_mysql(
    pool: &sqlx::MySqlPool,
    mapping: &Mapping,
) -> Result<ColumnTypes, WriteError> {
    let live: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT CAST(table_name AS CHAR), CAST(column_name AS CHAR), CAST(data_type AS CHAR) \
         FROM information_schema.columns WHERE table_schema = DATABASE()",
    )
    .fetch_all(pool)
    .await
    .map_err(|e| WriteError::from_sqlx("reading the revamp schema", e))?;
    check(mapping, Side::Revamp, live)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_mapping() -> Mapping {
        Mapping::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/mapping/default.toml")).unwrap()
    }

    fn live_revamp() -> Vec<(String, String, String)> {
        let mut live = Vec::new();
        for (table, columns) in [
            (
                "revamp_users",
                &[
                    "id",
                    "user_name",
                    "email_address",
                    "first_name",
                    "last_name",
                    "status",
                    "is_admin",
                    "created_at",
                    "updated_at",
                    "source",
                ][..],
            ),
            (
                "revamp_posts",
                &[
                    "id",
                    "user_id",
                    "headline",
                    "content",
                    "status",
                    "created_at",
                    "updated_at",
                    "source",
                ][..],
            ),
            (
                "revamp_post_likes",
                &[
                    "id",
                    "post_id",
                    "user_id",
                    "liked_at",
                    "updated_at",
                    "source",
                ][..],
            ),
            (
                "dbsync_applied_events",
                &["event_id", "source_committed_at"][..],
            ),
            ("dbsync_tombstones", &["row_updated_at"][..]),
            ("dbsync_source_positions", &["source_position"][..]),
        ] {
            for column in columns {
                live.push((table.to_string(), column.to_string(), "varchar".to_string()));
            }
        }
        live
    }

    #[test]
    fn the_demo_schema_satisfies_the_default_mapping() {
        assert!(check(&default_mapping(), Side::Revamp, live_revamp()).is_ok());
    }

    #[test]
    fn a_missing_column_names_the_mapping_entry() {
        let live: Vec<_> = live_revamp()
            .into_iter()
            .filter(|(_, c, _)| c != "email_address")
            .collect();
        let err = check(&default_mapping(), Side::Revamp, live)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("entities.user.columns[2] (revamp `email_address`)"),
            "{err}"
        );
        assert!(
            err.contains("table `revamp_users` has no column `email_address`"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_table_is_named() {
        let live: Vec<_> = live_revamp()
            .into_iter()
            .filter(|(t, _, _)| t != "revamp_posts")
            .collect();
        let err = check(&default_mapping(), Side::Revamp, live)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no table `revamp_posts`"), "{err}");
    }

    #[test]
    fn tombstones_store_the_version_they_read_back() {
        let t = chrono::Utc::now();
        for side in [Side::Legacy, Side::Revamp] {
            for origin in [Side::Legacy, Side::Revamp] {
                let v = Version {
                    updated_at: t,
                    origin,
                };
                assert_eq!(Version::stored(side, t, row_source_for(side, v)), v);
            }
        }
    }
}

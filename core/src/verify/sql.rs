//! The read-only SQL verify runs, one builder per dialect: a page of rows in key order as JSON objects in the
//! side's own column names, the same for a list of keys, a count, and tombstones. Each statement runs alone
//! (autocommit): no table locks, no long transactions. Names come only from the validated mapping and are quoted;
//! values are always bound. The MySQL spellings run on MariaDB 10.11 and MySQL 8 alike.

use crate::event::Side;
use crate::filter::SOURCE_COLUMN;
use crate::mapping::Entity;

/// Which rows of a table a walk reads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Filter {
    /// Only rows whose `updated_at` is at or after this.
    pub since: bool,
}

/// The columns read on `side`: every mapped one, the `updated_at` column and `source`, once each.
fn columns(entity: &Entity, side: Side) -> Vec<&str> {
    let mut names = entity.columns(side);
    for extra in [entity.updated_at(side), SOURCE_COLUMN] {
        if !names.contains(&extra) {
            names.push(extra);
        }
    }
    names
}

/// ` AND <updated_at> >= <placeholder>` when `filter` has a `since` time, else nothing.
fn since_clause(filter: Filter, column: String, placeholder: &str) -> String {
    if filter.since {
        format!(" AND {column} >= {placeholder}")
    } else {
        String::new()
    }
}

fn pg_ident(name: &str) -> String {
    format!("\"{name}\"")
}

fn my_ident(name: &str) -> String {
    format!("`{name}`")
}

/// PostgreSQL: the key and the row as JSON. Parameters: `$1` first key, `$2` last key, `$3` limit, then `$4` since.
pub(crate) fn pg_page(entity: &Entity, filter: Filter) -> String {
    let key = pg_ident(entity.key());
    let since = since_clause(filter, pg_ident(entity.updated_at(Side::Legacy)), "$4");
    format!(
        "SELECT t.{key}, row_to_json(t)::text FROM (SELECT {cols} FROM {table} WHERE {key} BETWEEN $1 AND $2{since} \
         ORDER BY {key} LIMIT $3) AS t ORDER BY t.{key}",
        cols = pg_columns(entity),
        table = pg_ident(entity.table(Side::Legacy)),
    )
}

/// PostgreSQL: the rows of a list of keys (`$1`, a bigint array).
pub(crate) fn pg_by_keys(entity: &Entity) -> String {
    let key = pg_ident(entity.key());
    format!(
        "SELECT t.{key}, row_to_json(t)::text FROM (SELECT {cols} FROM {table} WHERE {key} = ANY($1)) AS t",
        cols = pg_columns(entity),
        table = pg_ident(entity.table(Side::Legacy)),
    )
}

fn pg_columns(entity: &Entity) -> String {
    columns(entity, Side::Legacy)
        .into_iter()
        .map(pg_ident)
        .collect::<Vec<_>>()
        .join(", ")
}

/// PostgreSQL: rows in the key range (`$1`, `$2`), and since `$3` when filtered.
pub(crate) fn pg_count(entity: &Entity, filter: Filter) -> String {
    let key = pg_ident(entity.key());
    let since = since_clause(filter, pg_ident(entity.updated_at(Side::Legacy)), "$3");
    format!(
        "SELECT COUNT(*) FROM {} WHERE {key} BETWEEN $1 AND $2{since}",
        pg_ident(entity.table(Side::Legacy))
    )
}

/// PostgreSQL: tombstones of one table (`$1`) for a list of keys (`$2`).
pub(crate) const PG_TOMBSTONES: &str = "SELECT row_id, deleted_at, source FROM dbsync_tombstones \
     WHERE table_name = $1 AND row_id = ANY($2)";

/// MySQL: the key and the row as JSON. Parameters: first key, last key, then since when filtered, then the limit.
pub(crate) fn my_page(entity: &Entity, filter: Filter) -> String {
    let key = my_ident(entity.key());
    let since = since_clause(filter, my_ident(entity.updated_at(Side::Revamp)), "?");
    format!(
        "SELECT {key}, {json} FROM {table} WHERE {key} BETWEEN ? AND ?{since} ORDER BY {key} LIMIT ?",
        json = my_json(entity),
        table = my_ident(entity.table(Side::Revamp)),
    )
}

/// MySQL: the rows of `n` keys.
pub(crate) fn my_by_keys(entity: &Entity, n: usize) -> String {
    let key = my_ident(entity.key());
    format!(
        "SELECT {key}, {json} FROM {table} WHERE {key} IN ({marks})",
        json = my_json(entity),
        table = my_ident(entity.table(Side::Revamp)),
        marks = vec!["?"; n.max(1)].join(", "),
    )
}

/// MySQL: rows in the key range, and since when filtered.
pub(crate) fn my_count(entity: &Entity, filter: Filter) -> String {
    let key = my_ident(entity.key());
    let since = since_clause(filter, my_ident(entity.updated_at(Side::Revamp)), "?");
    format!(
        "SELECT COUNT(*) FROM {} WHERE {key} BETWEEN ? AND ?{since}",
        my_ident(entity.table(Side::Revamp))
    )
}

/// MySQL: tombstones of one table for `n` keys.
pub(crate) fn my_tombstones(n: usize) -> String {
    format!(
        "SELECT row_id, deleted_at, source FROM dbsync_tombstones WHERE table_name = ? AND row_id IN ({})",
        vec!["?"; n.max(1)].join(", ")
    )
}

/// `JSON_OBJECT('a', `a`, ...)` as text (MySQL 8 returns the JSON type, MariaDB text; CHAR reads alike on both).
fn my_json(entity: &Entity) -> String {
    let pairs: Vec<String> = columns(entity, Side::Revamp)
        .into_iter()
        .map(|name| format!("'{name}', {}", my_ident(name)))
        .collect();
    format!("CAST(JSON_OBJECT({}) AS CHAR)", pairs.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::Mapping;

    #[test]
    fn statements_read_every_mapped_column_plus_source() {
        let mapping = Mapping::from_toml_str(include_str!("../../mapping/default.toml")).unwrap();
        let user = mapping.entity("user").unwrap();
        let page = pg_page(user, Filter { since: true });
        assert!(page.contains("\"full_name\", \"status\""), "{page}");
        assert!(page.ends_with("ORDER BY t.\"id\""), "{page}");
        assert!(page.contains("\"updated_at\" >= $4"), "{page}");
        assert_eq!(page.matches("\"source\"").count(), 1, "{page}");
        let page = my_page(user, Filter { since: false });
        assert!(
            page.contains("'first_name', `first_name`, 'last_name', `last_name`"),
            "{page}"
        );
        assert!(!page.contains(">= ?"), "{page}");
        assert!(my_by_keys(user, 3).ends_with("IN (?, ?, ?)"));
        assert!(my_tombstones(2).ends_with("IN (?, ?)"));
        assert!(pg_count(user, Filter { since: false }).ends_with("BETWEEN $1 AND $2"));
    }
}

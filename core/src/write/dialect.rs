//! The SQL text that differs between PostgreSQL (legacy side) and MySQL/MariaDB (revamp side). Identifiers come
//! only from the mapping, which validation limits to `[A-Za-z_][A-Za-z0-9_]*`, and are quoted; values are always
//! bound. MySQL statements use no 8.0-only syntax, so they run on MariaDB 10.11 as well.

use crate::event::Side;
use crate::row::Upsert;
use crate::write::row_lock::LOCK_WAIT_SECONDS;
use crate::write::schema::ColumnTypes;

/// One dialect's spelling of the writer's statements.
pub(crate) struct Dialect {
    /// The database's side.
    pub side: Side,
    quote: char,
    numbered_placeholders: bool,
    /// Locks a read row against deletion until the transaction ends (MySQL 8 and MariaDB both know this spelling).
    share_lock: &'static str,
    /// Records an event id and its source commit time (text, timestamp); affects 0 rows for a replay.
    pub record_event: &'static str,
    /// Removes a tombstone: table name, row id.
    pub drop_tombstone: &'static str,
    /// Writes the tombstone of a delete applied by the sync service, with the delete's own time: table name, row id,
    /// deleted_at. `source` says sync_service, i.e. the other side deleted (see `Version::stored`); for a row that
    /// never arrived the row version is unknown and recorded as the delete's time.
    pub put_tombstone: &'static str,
    /// Ledger and tombstone pruning, oldest first, each bounded: a cutoff timestamp, then the most rows to delete.
    pub prune: [&'static str; 2],
    /// The lane's position watermark, locked: topic, partition.
    pub select_watermark: &'static str,
    /// Sets the lane's position watermark: topic, partition, position.
    pub write_watermark: &'static str,
}

/// `n` rows of two MySQL parameters each, `(?, ?), (?, ?), ...`: the ledger's rows and lookup keys.
fn pair_rows(n: usize) -> String {
    vec!["(?, ?)"; n].join(", ")
}

pub(crate) const POSTGRES: Dialect = Dialect {
    side: Side::Legacy,
    quote: '"',
    numbered_placeholders: true,
    share_lock: "FOR KEY SHARE",
    record_event: "INSERT INTO dbsync_applied_events (event_id, source_committed_at) \
         VALUES ($1::uuid, $2::timestamptz) ON CONFLICT DO NOTHING",
    drop_tombstone: "DELETE FROM dbsync_tombstones WHERE table_name = $1 AND row_id = $2",
    put_tombstone: "INSERT INTO dbsync_tombstones (table_name, row_id, row_updated_at, row_source, deleted_at, source) \
         VALUES ($1, $2, $3, 'sync_service', $3, 'sync_service') ON CONFLICT (table_name, row_id) DO UPDATE \
         SET deleted_at = EXCLUDED.deleted_at, source = EXCLUDED.source",
    prune: [
        // The subquery runs once (an array), then a TID scan deletes: no plan can rescan it per row.
        "DELETE FROM dbsync_applied_events WHERE ctid = ANY(ARRAY(SELECT ctid FROM dbsync_applied_events \
         WHERE applied_at < $1 ORDER BY applied_at LIMIT $2))",
        "DELETE FROM dbsync_tombstones WHERE ctid = ANY(ARRAY(SELECT ctid FROM dbsync_tombstones \
         WHERE deleted_at < $1 ORDER BY deleted_at LIMIT $2))",
    ],
    select_watermark: "SELECT source_position FROM dbsync_source_positions \
         WHERE topic = $1 AND kafka_partition = $2::int4 FOR UPDATE",
    write_watermark: "INSERT INTO dbsync_source_positions (topic, kafka_partition, source_position, updated_at) \
         VALUES ($1, $2::int4, $3, now()) ON CONFLICT (topic, kafka_partition) DO UPDATE \
         SET source_position = EXCLUDED.source_position, updated_at = EXCLUDED.updated_at",
};

pub(crate) const MYSQL: Dialect = Dialect {
    side: Side::Revamp,
    quote: '`',
    numbered_placeholders: false,
    share_lock: "LOCK IN SHARE MODE",
    // INSERT IGNORE affects 0 rows for a duplicate even with CLIENT_FOUND_ROWS (which sqlx sets).
    record_event: "INSERT IGNORE INTO dbsync_applied_events (event_id, source_committed_at) VALUES (?, ?)",
    drop_tombstone: "DELETE FROM dbsync_tombstones WHERE table_name = ? AND row_id = ?",
    put_tombstone: "INSERT INTO dbsync_tombstones (table_name, row_id, row_updated_at, row_source, deleted_at, source) \
         VALUES (?, ?, ?, 'sync_service', ?, 'sync_service') ON DUPLICATE KEY UPDATE \
         deleted_at = VALUES(deleted_at), source = VALUES(source)",
    prune: [
        "DELETE FROM dbsync_applied_events WHERE applied_at < ? ORDER BY applied_at LIMIT ?",
        "DELETE FROM dbsync_tombstones WHERE deleted_at < ? ORDER BY deleted_at LIMIT ?",
    ],
    select_watermark: "SELECT source_position FROM dbsync_source_positions \
         WHERE topic = ? AND kafka_partition = ? FOR UPDATE",
    write_watermark: "INSERT INTO dbsync_source_positions (topic, kafka_partition, source_position, updated_at) \
         VALUES (?, ?, ?, UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE \
         source_position = VALUES(source_position), updated_at = VALUES(updated_at)",
};

impl Dialect {
    /// PostgreSQL's `$n` placeholders (and its advisory locks) rather than MySQL's `?` (and lock rows).
    pub fn numbered_placeholders(&self) -> bool {
        self.numbered_placeholders
    }

    /// PostgreSQL's lookups and bulk writes bind one array per column (`= ANY($1::int8[])`, `unnest`), MySQL's one
    /// parameter per value.
    pub fn binds_arrays(&self) -> bool {
        self.numbered_placeholders
    }

    fn ident(&self, name: &str) -> String {
        format!("{q}{name}{q}", q = self.quote)
    }

    /// The n-th (1-based) parameter, cast to the live column type where the dialect is strict about types.
    fn param(&self, n: usize, cast: Option<&str>) -> String {
        match (self.numbered_placeholders, cast) {
            (true, Some(ty)) => format!("${n}::{ty}"),
            (true, None) => format!("${n}"),
            (false, _) => "?".to_string(),
        }
    }

    /// `SELECT 1 ... WHERE key = ?`, share-locked like `select_existing`.
    pub fn exists(&self, table: &str, key_column: &str) -> String {
        format!(
            "SELECT 1 FROM {} WHERE {} = {} {}",
            self.ident(table),
            self.ident(key_column),
            self.param(1, None),
            self.share_lock
        )
    }

    /// INSERT of every column of `op`, parameters in column order.
    pub fn insert(&self, op: &Upsert, types: &ColumnTypes) -> String {
        let names: Vec<String> = op.columns.iter().map(|(c, _)| self.ident(c)).collect();
        let params: Vec<String> = op
            .columns
            .iter()
            .enumerate()
            .map(|(i, (c, _))| self.param(i + 1, types.get(&op.table, c)))
            .collect();
        format!(
            "INSERT INTO {} ({}) VALUES ({})",
            self.ident(&op.table),
            names.join(", "),
            params.join(", ")
        )
    }

    /// UPDATE of every column of `op`, parameters in column order, then the key.
    pub fn update(&self, op: &Upsert, types: &ColumnTypes) -> String {
        let sets: Vec<String> = op
            .columns
            .iter()
            .enumerate()
            .map(|(i, (c, _))| {
                format!(
                    "{} = {}",
                    self.ident(c),
                    self.param(i + 1, types.get(&op.table, c))
                )
            })
            .collect();
        format!(
            "UPDATE {} SET {} WHERE {} = {}",
            self.ident(&op.table),
            sets.join(", "),
            self.ident(&op.key_column),
            self.param(op.columns.len() + 1, None)
        )
    }

    /// DELETE by key.
    pub fn delete(&self, table: &str, key_column: &str) -> String {
        format!(
            "DELETE FROM {} WHERE {} = {}",
            self.ident(table),
            self.ident(key_column),
            self.param(1, None)
        )
    }
}

/// Multi-row statements of the bulk path. Parameters are numbered from 1 in the order the caller binds them.
impl Dialect {
    /// The list of `n` keys starting at parameter `first`: one `int8[]` array on PostgreSQL (`= ANY(...)`), `n`
    /// parameters on MySQL (`IN (...)`).
    fn key_list(&self, first: usize, n: usize) -> String {
        if self.binds_arrays() {
            format!("= ANY(${first}::int8[])")
        } else {
            format!("IN ({})", self.params(first, n, None))
        }
    }

    fn params(&self, first: usize, n: usize, cast: Option<&str>) -> String {
        (first..first + n)
            .map(|i| self.param(i, cast))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Takes the batch's row locks (`row_lock`), `n` sorted keys: advisory locks on PostgreSQL (one `int8[]`, taken
    /// in the array's order); on MySQL one row, 1 when every named lock was granted (taken left to right, the
    /// first one not granted within the wait ending the chain with 0).
    pub fn lock_rows(&self, n: usize) -> String {
        if self.numbered_placeholders {
            "SELECT pg_advisory_xact_lock(k) FROM unnest($1::int8[]) WITH ORDINALITY AS t(k, i) ORDER BY i"
                .to_string()
        } else {
            let one = format!(
                "GET_LOCK(CONCAT('dbsync:', LEFT(DATABASE(), 30), ':', ?), {LOCK_WAIT_SECONDS})"
            );
            format!("SELECT {}", vec![one; n.max(1)].join(" AND "))
        }
    }

    /// Versions of the rows with these `n` keys, locked: key, updated_at, source.
    pub fn select_versions(
        &self,
        table: &str,
        key_column: &str,
        updated_at_column: &str,
        n: usize,
    ) -> String {
        format!(
            "SELECT {k}, {u}, source FROM {t} WHERE {k} {p} FOR UPDATE",
            k = self.ident(key_column),
            u = self.ident(updated_at_column),
            t = self.ident(table),
            p = self.key_list(1, n)
        )
    }

    /// Which of these `n` parent keys exist, share-locked so that no one deletes them before the batch commits.
    pub fn select_existing(&self, table: &str, key_column: &str, n: usize) -> String {
        format!(
            "SELECT {k} FROM {t} WHERE {k} {p} {lock}",
            k = self.ident(key_column),
            t = self.ident(table),
            p = self.key_list(1, n),
            lock = self.share_lock
        )
    }

    /// Tombstones of one table: the table name, then `n` keys. Returns row_id, deleted_at, source.
    pub fn select_tombstones(&self, n: usize) -> String {
        format!(
            "SELECT row_id, deleted_at, source FROM dbsync_tombstones WHERE table_name = {} AND row_id {}",
            self.param(1, None),
            self.key_list(2, n)
        )
    }

    /// Which of these `n` events the ledger holds, by its key (source commit time, event id as text): one
    /// `timestamptz[]` and one `text[]` on PostgreSQL, `n` pairs of parameters on MySQL.
    pub fn select_known_events(&self, n: usize) -> String {
        if self.binds_arrays() {
            return "SELECT event_id::text FROM dbsync_applied_events WHERE (source_committed_at, event_id) IN \
                    (SELECT * FROM unnest($1::timestamptz[], $2::text[]::uuid[]))"
                .to_string();
        }
        format!(
            "SELECT event_id FROM dbsync_applied_events WHERE (source_committed_at, event_id) IN ({})",
            pair_rows(n.max(1))
        )
    }

    /// Records `n` event ids with their source commit times (text, timestamp per row). MySQL's bulk path only:
    /// PostgreSQL's binds one array per column (`pg_arrays::RECORD_EVENTS`).
    pub fn record_events(&self, n: usize) -> String {
        format!(
            "INSERT IGNORE INTO dbsync_applied_events (event_id, source_committed_at) VALUES {}",
            pair_rows(n)
        )
    }

    /// DELETE of `n` keys.
    pub fn delete_many(&self, table: &str, key_column: &str, n: usize) -> String {
        format!(
            "DELETE FROM {} WHERE {} IN ({})",
            self.ident(table),
            self.ident(key_column),
            self.params(1, n, None)
        )
    }

    /// Tombstones of deletes applied by the sync service: `n` rows of (table name, row id, the deleted row's
    /// updated_at, deleted_at). On a tombstone the table's trigger already wrote, only the delete's time and
    /// deleter change.
    pub fn put_tombstones(&self, n: usize) -> String {
        let rows: Vec<String> = (0..n)
            .map(|i| {
                let [t, k, row_at, at] = [1, 2, 3, 4].map(|p| self.param(4 * i + p, None));
                format!("({t}, {k}, {row_at}, 'sync_service', {at}, 'sync_service')")
            })
            .collect();
        let head = "INSERT INTO dbsync_tombstones (table_name, row_id, row_updated_at, row_source, deleted_at, source) VALUES";
        if self.numbered_placeholders {
            format!(
                "{head} {} ON CONFLICT (table_name, row_id) DO UPDATE SET deleted_at = EXCLUDED.deleted_at, \
                 source = EXCLUDED.source",
                rows.join(", ")
            )
        } else {
            format!(
                "{head} {} ON DUPLICATE KEY UPDATE deleted_at = VALUES(deleted_at), source = VALUES(source)",
                rows.join(", ")
            )
        }
    }

    /// Drops tombstones of one table: the table name, then `n` keys.
    pub fn drop_tombstones(&self, n: usize) -> String {
        format!(
            "DELETE FROM dbsync_tombstones WHERE table_name = {} AND row_id IN ({})",
            self.param(1, None),
            self.params(2, n, None)
        )
    }

    /// INSERT of `rows` rows with these columns, parameters row by row.
    pub fn insert_many(
        &self,
        table: &str,
        columns: &[&str],
        rows: usize,
        types: &ColumnTypes,
    ) -> String {
        let names: Vec<String> = columns.iter().map(|c| self.ident(c)).collect();
        let values: Vec<String> = (0..rows)
            .map(|r| {
                let params: Vec<String> = columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| self.param(r * columns.len() + i + 1, types.get(table, c)))
                    .collect();
                format!("({})", params.join(", "))
            })
            .collect();
        format!(
            "INSERT INTO {} ({}) VALUES {}",
            self.ident(table),
            names.join(", "),
            values.join(", ")
        )
    }

    /// UPDATE of `rows` rows by key: parameters row by row, the key first, then `columns`. MySQL's bulk path only
    /// (PostgreSQL's: `pg_arrays::update`): the rows are a derived table of SELECTs joined on the key.
    pub fn update_many(
        &self,
        table: &str,
        key_column: &str,
        columns: &[&str],
        rows: usize,
    ) -> String {
        let all: Vec<&str> = std::iter::once(key_column)
            .chain(columns.iter().copied())
            .collect();
        let selects: Vec<String> = (0..rows)
            .map(|r| {
                let params: Vec<String> = all
                    .iter()
                    .map(|c| {
                        if r == 0 {
                            format!("? AS {}", self.ident(c))
                        } else {
                            "?".to_string()
                        }
                    })
                    .collect();
                format!("SELECT {}", params.join(", "))
            })
            .collect();
        let sets: Vec<String> = columns
            .iter()
            .map(|c| format!("t.{q}{c}{q} = v.{q}{c}{q}", q = self.quote))
            .collect();
        format!(
            "UPDATE {t} AS t JOIN ({selects}) AS v ON t.{k} = v.{k} SET {sets}",
            t = self.ident(table),
            selects = selects.join(" UNION ALL "),
            k = self.ident(key_column),
            sets = sets.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::ConflictPolicy;
    use crate::row::SqlValue;
    use chrono::Utc;
    use uuid::Uuid;

    fn upsert() -> Upsert {
        Upsert {
            entity: "user".into(),
            table: "t".into(),
            key_column: "id".into(),
            key: 5,
            columns: vec![
                ("id".into(), SqlValue::Int(5)),
                ("name".into(), SqlValue::Null),
            ],
            updated_at_column: "updated_at".into(),
            updated_at: Utc::now(),
            conflict: ConflictPolicy::LastWriterWins,
            parents: vec![],
            event_id: Uuid::nil(),
            source_committed_at: Utc::now(),
            origin: Side::Legacy,
            position: None,
        }
    }

    #[test]
    fn postgres_numbers_and_casts_parameters() {
        let mut types = ColumnTypes::default();
        types.insert("t", "id", "int8");
        let sql = POSTGRES.update(&upsert(), &types);
        assert_eq!(
            sql,
            r#"UPDATE "t" SET "id" = $1::int8, "name" = $2 WHERE "id" = $3"#
        );
        assert_eq!(
            POSTGRES.insert(&upsert(), &types),
            r#"INSERT INTO "t" ("id", "name") VALUES ($1::int8, $2)"#
        );
    }

    #[test]
    fn mysql_uses_backticks_and_question_marks() {
        let types = ColumnTypes::default();
        assert_eq!(
            MYSQL.update(&upsert(), &types),
            "UPDATE `t` SET `id` = ?, `name` = ? WHERE `id` = ?"
        );
        assert_eq!(
            MYSQL.select_versions("t", "id", "updated_at", 2),
            "SELECT `id`, `updated_at`, source FROM `t` WHERE `id` IN (?, ?) FOR UPDATE"
        );
        assert_eq!(
            POSTGRES.select_versions("t", "id", "updated_at", 2),
            r#"SELECT "id", "updated_at", source FROM "t" WHERE "id" = ANY($1::int8[]) FOR UPDATE"#
        );
    }

    #[test]
    fn mysql_row_locks_are_a_chain_of_named_locks_scoped_to_the_database() {
        let one = "GET_LOCK(CONCAT('dbsync:', LEFT(DATABASE(), 30), ':', ?), 10)";
        assert_eq!(MYSQL.lock_rows(2), format!("SELECT {one} AND {one}"));
        assert!(POSTGRES.lock_rows(2).contains("pg_advisory_xact_lock"));
    }

    #[test]
    fn the_ledger_is_looked_up_by_its_whole_key_time_first() {
        assert_eq!(
            MYSQL.select_known_events(2),
            "SELECT event_id FROM dbsync_applied_events WHERE (source_committed_at, event_id) IN ((?, ?), (?, ?))"
        );
        let postgres = POSTGRES.select_known_events(2);
        assert!(postgres.contains("(source_committed_at, event_id) IN"));
        assert!(postgres.contains("unnest($1::timestamptz[], $2::text[]::uuid[])"));
    }

    #[test]
    fn the_ledger_records_each_event_with_its_source_commit_time() {
        assert_eq!(
            MYSQL.record_events(2),
            "INSERT IGNORE INTO dbsync_applied_events (event_id, source_committed_at) VALUES (?, ?), (?, ?)"
        );
    }
}

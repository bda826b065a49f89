//! The database ceiling: the rows a workload left on the source, written into the target as multi-row upserts of
//! `batch` rows (one statement, one transaction each) by a minimal loop: no Kafka, no ledger, no conflict rules,
//! the column conversions done by the source's SELECT. Rows updated by the workload are written a second time, so
//! the row writes match the workload's events. Written as the sync service, so nothing is captured.

use crate::cli::{CeilingArgs, Databases, Kind, Side};
use crate::db::{self, Pool};
use crate::workload::check_tag;
use anyhow::Result;
use std::time::Instant;

/// One table: how to read its rows on the source (every column as text, target order) and where they go.
struct Table {
    select: &'static str,
    target: &'static str,
    columns: &'static [&'static str],
}

const LEGACY_TO_REVAMP: [Table; 3] = [
    Table {
        select: "SELECT id::text, username, email, split_part(coalesce(full_name, ''), ' ', 1), \
                 nullif(substr(full_name, strpos(full_name, ' ') + 1), ''), \
                 CASE status WHEN 'inactive' THEN '0' WHEN 'banned' THEN '2' ELSE '1' END, is_admin::int::text, \
                 to_char(created_at, 'YYYY-MM-DD HH24:MI:SS.US'), to_char(updated_at, 'YYYY-MM-DD HH24:MI:SS.US') \
                 FROM legacy_users WHERE username LIKE '{tag}-%' ORDER BY id",
        target: "revamp_users",
        columns: &["id", "user_name", "email_address", "first_name", "last_name", "status", "is_admin", "created_at", "updated_at"],
    },
    Table {
        select: "SELECT p.id::text, p.author_id::text, p.title, p.body, upper(replace(p.state, 'published', 'live')), \
                 to_char(p.created_at, 'YYYY-MM-DD HH24:MI:SS.US'), to_char(p.updated_at, 'YYYY-MM-DD HH24:MI:SS.US') \
                 FROM legacy_posts p JOIN legacy_users u ON u.id = p.author_id WHERE u.username LIKE '{tag}-%' ORDER BY p.id",
        target: "revamp_posts",
        columns: &["id", "user_id", "headline", "content", "status", "created_at", "updated_at"],
    },
    Table {
        select: "SELECT l.id::text, l.post_id::text, l.user_id::text, to_char(l.created_at, 'YYYY-MM-DD HH24:MI:SS.US'), \
                 to_char(l.updated_at, 'YYYY-MM-DD HH24:MI:SS.US') \
                 FROM legacy_likes l JOIN legacy_users u ON u.id = l.user_id WHERE u.username LIKE '{tag}-%' ORDER BY l.id",
        target: "revamp_post_likes",
        columns: &["id", "post_id", "user_id", "liked_at", "updated_at"],
    },
];

const REVAMP_TO_LEGACY: [Table; 3] = [
    Table {
        select: "SELECT CAST(id AS CHAR), user_name, email_address, TRIM(CONCAT_WS(' ', first_name, last_name)), \
                 CASE status WHEN 0 THEN 'inactive' WHEN 2 THEN 'banned' ELSE 'active' END, \
                 IF(is_admin, 'true', 'false'), DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s.%f'), \
                 DATE_FORMAT(updated_at, '%Y-%m-%d %H:%i:%s.%f') \
                 FROM revamp_users WHERE user_name LIKE '{tag}-%' ORDER BY id",
        target: "legacy_users",
        columns: &["id", "username", "email", "full_name", "status", "is_admin", "created_at", "updated_at"],
    },
    Table {
        select: "SELECT CAST(p.id AS CHAR), CAST(p.user_id AS CHAR), p.headline, p.content, \
                 LOWER(REPLACE(p.status, 'LIVE', 'published')), DATE_FORMAT(p.created_at, '%Y-%m-%d %H:%i:%s.%f'), \
                 DATE_FORMAT(p.updated_at, '%Y-%m-%d %H:%i:%s.%f') \
                 FROM revamp_posts p JOIN revamp_users u ON u.id = p.user_id WHERE u.user_name LIKE '{tag}-%' ORDER BY p.id",
        target: "legacy_posts",
        columns: &["id", "author_id", "title", "body", "state", "created_at", "updated_at"],
    },
    Table {
        select: "SELECT CAST(l.id AS CHAR), CAST(l.user_id AS CHAR), CAST(l.post_id AS CHAR), \
                 DATE_FORMAT(l.liked_at, '%Y-%m-%d %H:%i:%s.%f'), DATE_FORMAT(l.updated_at, '%Y-%m-%d %H:%i:%s.%f') \
                 FROM revamp_post_likes l JOIN revamp_users u ON u.id = l.user_id WHERE u.user_name LIKE '{tag}-%' ORDER BY l.id",
        target: "legacy_likes",
        columns: &["id", "user_id", "post_id", "created_at", "updated_at"],
    },
];

pub async fn run(databases: &Databases, args: &CeilingArgs) -> Result<()> {
    check_tag(&args.tag)?;
    let source = db::pool(databases, args.source, false, 1).await?;
    let target_side = args.source.other();
    let target = db::pool(databases, target_side, true, 1).await?;
    let tables = match (args.source, args.kind) {
        (Side::Legacy, Kind::Users) => &LEGACY_TO_REVAMP[..1],
        (Side::Legacy, Kind::Mixed) => &LEGACY_TO_REVAMP[..],
        (Side::Revamp, Kind::Users) => &REVAMP_TO_LEGACY[..1],
        (Side::Revamp, Kind::Mixed) => &REVAMP_TO_LEGACY[..],
    };
    // Read everything first: the figure is the target's write rate alone.
    let mut work = Vec::new();
    for table in tables {
        let rows = read(&source, &table.select.replace("{tag}", &args.tag)).await?;
        eprintln!("ceiling: {} rows of {} to write", rows.len(), table.target);
        work.push((table, rows));
    }
    // The second pass: the updated rows again (users only, or split between users and posts like the workload).
    let half = args.updates / 2;
    let again = match args.kind {
        Kind::Users => vec![args.updates, 0, 0],
        Kind::Mixed => vec![half, args.updates - half, 0],
    };
    let started = Instant::now();
    let mut written = 0;
    for (table, rows) in &work {
        written += upsert(&target, target_side, table, rows, args.batch).await?;
    }
    for ((table, rows), n) in work.iter().zip(again) {
        written += upsert(
            &target,
            target_side,
            table,
            &rows[..n.min(rows.len())],
            args.batch,
        )
        .await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "rows={written} seconds={seconds:.3} rows_per_s={:.1}",
        written as f64 / seconds
    );
    Ok(())
}

async fn read(pool: &Pool, sql: &str) -> Result<Vec<Vec<Option<String>>>> {
    use sqlx::Row;
    // Every column as text; the two drivers' rows differ in type only.
    macro_rules! texts {
        ($pool:expr) => {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                .fetch_all($pool)
                .await?
                .iter()
                .map(|row| {
                    (0..row.len())
                        .map(|i| row.try_get(i))
                        .collect::<Result<_, _>>()
                })
                .collect::<Result<_, _>>()?
        };
    }
    Ok(match pool {
        Pool::Pg(p) => texts!(p),
        Pool::My(p) => texts!(p),
    })
}

/// Writes `rows` as upserts of `batch` rows; returns how many rows it wrote.
async fn upsert(
    pool: &Pool,
    side: Side,
    table: &Table,
    rows: &[Vec<Option<String>>],
    batch: usize,
) -> Result<usize> {
    let columns = table.columns.join(", ");
    let update = table
        .columns
        .iter()
        .skip(1)
        .map(|c| match side {
            Side::Revamp => format!("{c} = VALUES({c})"),
            Side::Legacy => format!("{c} = EXCLUDED.{c}"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    for chunk in rows.chunks(batch.max(1)) {
        let values = chunk
            .iter()
            .map(|row| {
                format!(
                    "({})",
                    row.iter()
                        .map(|v| literal(v.as_deref()))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
            .collect::<Vec<_>>()
            .join(",");
        let sql = match side {
            Side::Revamp => format!("INSERT INTO {} ({columns}) VALUES {values} ON DUPLICATE KEY UPDATE {update}", table.target),
            Side::Legacy => format!("INSERT INTO {} ({columns}) VALUES {values} ON CONFLICT (id) DO UPDATE SET {update}", table.target),
        };
        pool.execute(sql).await?;
    }
    Ok(rows.len())
}

/// A SQL string literal both engines read the same way (quotes doubled; the values are the workload's own text,
/// without backslashes), or NULL.
fn literal(value: Option<&str>) -> String {
    match value {
        None => "NULL".into(),
        Some(v) => format!("'{}'", v.replace('\'', "''")),
    }
}

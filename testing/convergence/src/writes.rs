//! The application writes, in each side's SQL, each returning how many change events Debezium must publish for it:
//! one per inserted, updated or deleted row, cascaded children included (legacy: `ON DELETE CASCADE` fires each
//! child's tombstone trigger; revamp: `BEFORE DELETE` triggers delete the children as ordinary deletes, each with
//! its tombstone). A statement that matched no row, or an insert refused because its parent is not there, wrote
//! nothing and publishes nothing.
//!
//! To count a cascade exactly, a delete runs in a transaction that first locks the parent and every descendant
//! (`SELECT ... FOR UPDATE`): a concurrent insert of a child needs a key-share lock on its parent row, so no child
//! can appear or vanish between the count and the delete.

use crate::generate::{Name, Values, LEGACY_STATUS, POST_STATE};
use dbsync_core::Side;
use sqlx::mysql::MySqlDatabaseError;
use sqlx::{AssertSqlSafe, Connection, MySqlConnection, PgConnection, Row};
use std::collections::BTreeSet;

/// One worker's connections, as the applications connect (admin accounts, no sync marker).
pub struct Conns {
    /// Legacy (PostgreSQL).
    pub pg: PgConnection,
    /// Revamp (MariaDB).
    pub my: MySqlConnection,
}

impl Conns {
    /// Opens one connection to each side.
    pub async fn open(legacy_dsn: &str, revamp_dsn: &str) -> anyhow::Result<Self> {
        Ok(Conns {
            pg: PgConnection::connect(legacy_dsn).await?,
            my: MySqlConnection::connect(revamp_dsn).await?,
        })
    }
}

/// Why a write did not happen.
#[derive(Debug)]
pub enum Failure {
    /// A deadlock, lock wait timeout or serialization failure: nothing was written, try again.
    Retry(String),
    /// A foreign key refused the row: its parent is not (or no longer) on this side. Nothing was written.
    ParentMissing,
    /// Anything else (a bug in the generator or the schema): nothing was written.
    Other(String),
}

impl From<sqlx::Error> for Failure {
    fn from(error: sqlx::Error) -> Self {
        if let Some(db) = error.as_database_error() {
            if let Some(my) = db.try_downcast_ref::<MySqlDatabaseError>() {
                return match my.number() {
                    1213 | 1205 => Failure::Retry(error.to_string()),
                    1452 => Failure::ParentMissing,
                    _ => Failure::Other(error.to_string()),
                };
            }
            return match db.code().as_deref() {
                Some("40P01" | "40001" | "55P03") => Failure::Retry(error.to_string()),
                Some("23503") => Failure::ParentMissing,
                _ => Failure::Other(error.to_string()),
            };
        }
        Failure::Other(error.to_string())
    }
}

/// The result of a write.
pub type Written<T> = Result<T, Failure>;

fn name_parts(name: &Name) -> (Option<String>, Option<String>) {
    name.parts()
}

/// Inserts a user; returns its id.
pub async fn insert_user(c: &mut Conns, side: Side, username: &str, v: &Values) -> Written<i64> {
    let email = v.email(username);
    match side {
        Side::Legacy => Ok(sqlx::query(
            "INSERT INTO legacy_users (username, email, full_name, status, is_admin) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(username)
        .bind(&email)
        .bind(v.name.full())
        .bind(LEGACY_STATUS[v.status])
        .bind(v.is_admin)
        .fetch_one(&mut c.pg)
        .await?
        .try_get::<i64, _>(0)?),
        Side::Revamp => {
            let (first, last) = name_parts(&v.name);
            let done = sqlx::query(
                "INSERT INTO revamp_users (user_name, email_address, first_name, last_name, status, is_admin) \
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(username)
            .bind(&email)
            .bind(first)
            .bind(last)
            .bind(v.status as i32)
            .bind(i32::from(v.is_admin))
            .execute(&mut c.my)
            .await?;
            Ok(done.last_insert_id() as i64)
        }
    }
}

/// Updates a user's name, status and admin flag; returns the rows updated (0 or 1).
pub async fn update_user(c: &mut Conns, side: Side, id: i64, v: &Values) -> Written<u64> {
    Ok(match side {
        Side::Legacy => sqlx::query(
            "UPDATE legacy_users SET full_name = $2, status = $3, is_admin = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(v.name.full())
        .bind(LEGACY_STATUS[v.status])
        .bind(v.is_admin)
        .execute(&mut c.pg)
        .await?
        .rows_affected(),
        Side::Revamp => {
            let (first, last) = name_parts(&v.name);
            sqlx::query(
                "UPDATE revamp_users SET first_name = ?, last_name = ?, status = ?, is_admin = ? WHERE id = ?",
            )
            .bind(first)
            .bind(last)
            .bind(v.status as i32)
            .bind(i32::from(v.is_admin))
            .bind(id)
            .execute(&mut c.my)
            .await?
            .rows_affected()
        }
    })
}

/// Inserts a post; returns its id.
pub async fn insert_post(c: &mut Conns, side: Side, author: i64, v: &Values) -> Written<i64> {
    let (legacy_state, revamp_state) = POST_STATE[v.state];
    match side {
        Side::Legacy => Ok(sqlx::query(
            "INSERT INTO legacy_posts (author_id, title, body, state) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(author)
        .bind(v.title())
        .bind(v.body())
        .bind(legacy_state)
        .fetch_one(&mut c.pg)
        .await?
        .try_get::<i64, _>(0)?),
        Side::Revamp => Ok(sqlx::query(
            "INSERT INTO revamp_posts (user_id, headline, content, status) VALUES (?, ?, ?, ?)",
        )
        .bind(author)
        .bind(v.title())
        .bind(v.body())
        .bind(revamp_state)
        .execute(&mut c.my)
        .await?
        .last_insert_id() as i64),
    }
}

/// Updates a post's title, body and state; returns the rows updated (0 or 1).
pub async fn update_post(c: &mut Conns, side: Side, id: i64, v: &Values) -> Written<u64> {
    let (legacy_state, revamp_state) = POST_STATE[v.state];
    Ok(match side {
        Side::Legacy => {
            sqlx::query("UPDATE legacy_posts SET title = $2, body = $3, state = $4 WHERE id = $1")
                .bind(id)
                .bind(v.title())
                .bind(v.body())
                .bind(legacy_state)
                .execute(&mut c.pg)
                .await?
                .rows_affected()
        }
        Side::Revamp => sqlx::query(
            "UPDATE revamp_posts SET headline = ?, content = ?, status = ? WHERE id = ?",
        )
        .bind(v.title())
        .bind(v.body())
        .bind(revamp_state)
        .bind(id)
        .execute(&mut c.my)
        .await?
        .rows_affected(),
    })
}

/// Inserts a like; returns its id.
pub async fn insert_like(c: &mut Conns, side: Side, user: i64, post: i64) -> Written<i64> {
    match side {
        Side::Legacy => Ok(sqlx::query(
            "INSERT INTO legacy_likes (user_id, post_id) VALUES ($1, $2) RETURNING id",
        )
        .bind(user)
        .bind(post)
        .fetch_one(&mut c.pg)
        .await?
        .try_get::<i64, _>(0)?),
        Side::Revamp => Ok(sqlx::query(
            "INSERT INTO revamp_post_likes (post_id, user_id) VALUES (?, ?)",
        )
        .bind(post)
        .bind(user)
        .execute(&mut c.my)
        .await?
        .last_insert_id() as i64),
    }
}

/// Deletes a like; returns the events (0 or 1).
pub async fn delete_like(c: &mut Conns, side: Side, id: i64) -> Written<u64> {
    Ok(match side {
        Side::Legacy => sqlx::query("DELETE FROM legacy_likes WHERE id = $1")
            .bind(id)
            .execute(&mut c.pg)
            .await?
            .rows_affected(),
        Side::Revamp => sqlx::query("DELETE FROM revamp_post_likes WHERE id = ?")
            .bind(id)
            .execute(&mut c.my)
            .await?
            .rows_affected(),
    })
}

/// Deletes a post and (by cascade) its likes; returns the events: 1 + its likes, or 0 if it was not there.
pub async fn delete_post(c: &mut Conns, side: Side, id: i64) -> Written<u64> {
    match side {
        Side::Legacy => {
            let mut tx = c.pg.begin().await?;
            let found = sqlx::query("SELECT id FROM legacy_posts WHERE id = $1 FOR UPDATE")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            if found.is_none() {
                return Ok(0);
            }
            let likes = sqlx::query("SELECT id FROM legacy_likes WHERE post_id = $1 FOR UPDATE")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?
                .len() as u64;
            let deleted = sqlx::query("DELETE FROM legacy_posts WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok(deleted + likes)
        }
        Side::Revamp => {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
                .execute(&mut c.my)
                .await?;
            let mut tx = c.my.begin().await?;
            let found = sqlx::query("SELECT id FROM revamp_posts WHERE id = ? FOR UPDATE")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            if found.is_none() {
                return Ok(0);
            }
            let likes = sqlx::query("SELECT id FROM revamp_post_likes WHERE post_id = ? FOR UPDATE")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?
                .len() as u64;
            let deleted = sqlx::query("DELETE FROM revamp_posts WHERE id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok(deleted + likes)
        }
    }
}

/// Deletes a user and (by cascade) its posts, their likes and the user's likes; returns the events: 1 + the
/// distinct descendants, or 0 if the user was not there.
pub async fn delete_user(c: &mut Conns, side: Side, id: i64) -> Written<u64> {
    let ids = |rows: Vec<sqlx::postgres::PgRow>| -> Result<Vec<i64>, sqlx::Error> {
        rows.iter().map(|row| row.try_get::<i64, _>(0)).collect()
    };
    let my_ids = |rows: Vec<sqlx::mysql::MySqlRow>| -> Result<Vec<i64>, sqlx::Error> {
        rows.iter().map(|row| row.try_get::<i64, _>(0)).collect()
    };
    match side {
        Side::Legacy => {
            let mut tx = c.pg.begin().await?;
            let found = sqlx::query("SELECT id FROM legacy_users WHERE id = $1 FOR UPDATE")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            if found.is_none() {
                return Ok(0);
            }
            let posts = ids(sqlx::query(
                "SELECT id FROM legacy_posts WHERE author_id = $1 FOR UPDATE",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await?)?;
            let mut likes: BTreeSet<i64> = ids(sqlx::query(
                "SELECT id FROM legacy_likes WHERE user_id = $1 FOR UPDATE",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await?)?
            .into_iter()
            .collect();
            likes.extend(ids(sqlx::query(
                "SELECT id FROM legacy_likes WHERE post_id = ANY($1) FOR UPDATE",
            )
            .bind(&posts)
            .fetch_all(&mut *tx)
            .await?)?);
            let deleted = sqlx::query("DELETE FROM legacy_users WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok(deleted + posts.len() as u64 + likes.len() as u64)
        }
        Side::Revamp => {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
                .execute(&mut c.my)
                .await?;
            let mut tx = c.my.begin().await?;
            let found = sqlx::query("SELECT id FROM revamp_users WHERE id = ? FOR UPDATE")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            if found.is_none() {
                return Ok(0);
            }
            let posts = my_ids(
                sqlx::query("SELECT id FROM revamp_posts WHERE user_id = ? FOR UPDATE")
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?,
            )?;
            let mut likes: BTreeSet<i64> = my_ids(
                sqlx::query("SELECT id FROM revamp_post_likes WHERE user_id = ? FOR UPDATE")
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?,
            )?
            .into_iter()
            .collect();
            if !posts.is_empty() {
                // Integers only: safe to inline.
                let list = posts
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(",");
                likes.extend(my_ids(
                    sqlx::query(AssertSqlSafe(format!(
                        "SELECT id FROM revamp_post_likes WHERE post_id IN ({list}) FOR UPDATE"
                    )))
                    .fetch_all(&mut *tx)
                    .await?,
                )?);
            }
            let deleted = sqlx::query("DELETE FROM revamp_users WHERE id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok(deleted + posts.len() as u64 + likes.len() as u64)
        }
    }
}

/// A table whose rows the both-sides edit targets.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// Users.
    User,
    /// Posts.
    Post,
}

/// Whether row `id` of `target` is on `side` now.
pub async fn exists(c: &mut Conns, side: Side, target: Target, id: i64) -> Written<bool> {
    let found = match (side, target) {
        (Side::Legacy, Target::User) => sqlx::query("SELECT 1 FROM legacy_users WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut c.pg)
            .await?
            .is_some(),
        (Side::Legacy, Target::Post) => sqlx::query("SELECT 1 FROM legacy_posts WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut c.pg)
            .await?
            .is_some(),
        (Side::Revamp, Target::User) => sqlx::query("SELECT 1 FROM revamp_users WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut c.my)
            .await?
            .is_some(),
        (Side::Revamp, Target::Post) => sqlx::query("SELECT 1 FROM revamp_posts WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut c.my)
            .await?
            .is_some(),
    };
    Ok(found)
}

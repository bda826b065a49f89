//! Backlog workloads, written as the application on one side: multi-row statements of 1,000 rows, each its own
//! transaction, so Debezium publishes one event per row.
//! - `users`: `inserts` users, then `updates` updates of the first ones.
//! - `mixed`: users, posts and likes in the ratio 1 : 2 : 4 (`inserts` rows in all, parents first), then `updates`
//!   updates split between users and posts, then deletes of likes, 5% of all the writes before them.

use crate::cli::{Databases, Kind, Side, WorkloadArgs};
use crate::db::{self, Pool};
use anyhow::{bail, Result};

/// Rows per statement.
const CHUNK: usize = 1000;

/// The tables and columns the application writes on one side.
struct Names {
    users: &'static str,
    user_name: &'static str,
    posts: &'static str,
    likes: &'static str,
}

impl Names {
    fn of(side: Side) -> Names {
        match side {
            Side::Legacy => Names {
                users: "legacy_users",
                user_name: "username",
                posts: "legacy_posts",
                likes: "legacy_likes",
            },
            Side::Revamp => Names {
                users: "revamp_users",
                user_name: "user_name",
                posts: "revamp_posts",
                likes: "revamp_post_likes",
            },
        }
    }
}

/// A tag is part of SQL literals and user names: letters, digits, `_` and `-` only.
pub fn check_tag(tag: &str) -> Result<()> {
    if tag.is_empty()
        || !tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        bail!("--tag must be letters, digits, '_' or '-', got {tag:?}");
    }
    Ok(())
}

pub async fn run(databases: &Databases, args: &WorkloadArgs) -> Result<()> {
    check_tag(&args.tag)?;
    let pool = db::pool(databases, args.side, false, 1).await?;
    let names = Names::of(args.side);
    let written = match args.kind {
        Kind::Users => {
            let users = insert_users(&pool, args.side, &args.tag, args.inserts).await?;
            update(
                &pool,
                args.side,
                names.users,
                &users[..args.updates.min(users.len())],
            )
            .await?;
            users.len() + args.updates.min(users.len())
        }
        Kind::Mixed => mixed(&pool, args, &names).await?,
    };
    println!("rows_written={written}");
    Ok(())
}

async fn mixed(pool: &Pool, args: &WorkloadArgs, names: &Names) -> Result<usize> {
    let (n_users, n_posts) = (args.inserts / 7, args.inserts * 2 / 7);
    let n_likes = args.inserts - n_users - n_posts;
    let users = insert_users(pool, args.side, &args.tag, n_users).await?;
    let posts = insert_posts(pool, args.side, &users, n_posts).await?;
    let likes = insert_likes(pool, args.side, &users, &posts, n_likes).await?;
    let half = args.updates / 2;
    let updated_users = &users[..half.min(users.len())];
    let updated_posts = &posts[..(args.updates - half).min(posts.len())];
    update(pool, args.side, names.users, updated_users).await?;
    update(pool, args.side, names.posts, updated_posts).await?;
    let deletes = ((args.inserts + args.updates) / 20).min(likes.len());
    for chunk in likes[..deletes].chunks(CHUNK) {
        pool.execute(format!(
            "DELETE FROM {} WHERE id IN ({})",
            names.likes,
            list(chunk)
        ))
        .await?;
    }
    Ok(users.len()
        + posts.len()
        + likes.len()
        + updated_users.len()
        + updated_posts.len()
        + deletes)
}

/// Inserts `n` users of `tag`; returns their ids in order.
async fn insert_users(pool: &Pool, side: Side, tag: &str, n: usize) -> Result<Vec<i64>> {
    let names = Names::of(side);
    for start in (0..n).step_by(CHUNK) {
        let end = (start + CHUNK).min(n);
        let values = (start..end)
            .map(|i| match side {
                Side::Legacy => {
                    format!("('{tag}-{i}', 'u{i}@bench.test', 'Bench User{i}', 'active')")
                }
                Side::Revamp => format!("('{tag}-{i}', 'u{i}@bench.test', 'Bench', 'User{i}', 1)"),
            })
            .collect::<Vec<_>>()
            .join(",");
        let columns = match side {
            Side::Legacy => "username, email, full_name, status",
            Side::Revamp => "user_name, email_address, first_name, last_name, status",
        };
        pool.execute(format!(
            "INSERT INTO {} ({columns}) VALUES {values}",
            names.users
        ))
        .await?;
        eprintln!("workload: {end} of {n} users");
    }
    pool.integers(format!(
        "SELECT id FROM {} WHERE {} LIKE '{tag}-%' ORDER BY id",
        names.users, names.user_name
    ))
    .await
}

/// Inserts `n` posts spread over `authors`; returns their ids in order.
async fn insert_posts(pool: &Pool, side: Side, authors: &[i64], n: usize) -> Result<Vec<i64>> {
    if authors.is_empty() {
        bail!("no users to write posts for");
    }
    let names = Names::of(side);
    let columns = match side {
        Side::Legacy => "author_id, title, body",
        Side::Revamp => "user_id, headline, content",
    };
    for start in (0..n).step_by(CHUNK) {
        let end = (start + CHUNK).min(n);
        let values = (start..end)
            .map(|i| {
                format!(
                    "({}, 'Bench post {i}', 'Body of bench post {i}')",
                    authors[i % authors.len()]
                )
            })
            .collect::<Vec<_>>()
            .join(",");
        pool.execute(format!(
            "INSERT INTO {} ({columns}) VALUES {values}",
            names.posts
        ))
        .await?;
    }
    let first = authors[0];
    let author = match side {
        Side::Legacy => "author_id",
        Side::Revamp => "user_id",
    };
    let ids = pool
        .integers(format!(
            "SELECT id FROM {} WHERE {author} IN ({}) ORDER BY id",
            names.posts,
            list(authors)
        ))
        .await?;
    eprintln!("workload: {} posts (first author {first})", ids.len());
    Ok(ids)
}

/// Inserts `n` likes, each a distinct (user, post) pair while `n <= users × posts`; returns their ids in order.
async fn insert_likes(
    pool: &Pool,
    side: Side,
    users: &[i64],
    posts: &[i64],
    n: usize,
) -> Result<Vec<i64>> {
    if posts.is_empty() || users.len() * posts.len() < n {
        bail!(
            "{n} likes need more users × posts than {} × {}",
            users.len(),
            posts.len()
        );
    }
    let names = Names::of(side);
    for start in (0..n).step_by(CHUNK) {
        let end = (start + CHUNK).min(n);
        let values = (start..end)
            .map(|i| {
                format!(
                    "({}, {})",
                    users[(i / posts.len()) % users.len()],
                    posts[i % posts.len()]
                )
            })
            .collect::<Vec<_>>()
            .join(",");
        pool.execute(format!(
            "INSERT INTO {} (user_id, post_id) VALUES {values}",
            names.likes
        ))
        .await?;
    }
    let ids = pool
        .integers(format!(
            "SELECT id FROM {} WHERE post_id IN ({}) ORDER BY id",
            names.likes,
            list(posts)
        ))
        .await?;
    eprintln!("workload: {} likes", ids.len());
    Ok(ids)
}

/// One application update of each row of `ids` (a changed text column), 1,000 rows per statement.
async fn update(pool: &Pool, side: Side, table: &str, ids: &[i64]) -> Result<()> {
    let set = match (side, table) {
        (Side::Legacy, "legacy_users") => "email = 'updated@bench.test'",
        (Side::Legacy, _) => "title = 'Updated bench post'",
        (Side::Revamp, "revamp_users") => "email_address = 'updated@bench.test'",
        (Side::Revamp, _) => "headline = 'Updated bench post'",
    };
    for chunk in ids.chunks(CHUNK) {
        pool.execute(format!(
            "UPDATE {table} SET {set} WHERE id IN ({})",
            list(chunk)
        ))
        .await?;
    }
    eprintln!("workload: {} updates of {table}", ids.len());
    Ok(())
}

/// `1,2,3`.
pub fn list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

//! The workers: the plan's operations run on `--workers` concurrent tasks (worker `w` takes operations `w`,
//! `w + workers`, ...), each with its own connection to both databases. They share what rows this run has made
//! (`State`), to pick targets from, and count the writes each side's topic must show.
//!
//! The shared state is only a guide: a row may be gone (deleted on the other side, or by a cascade) or not there
//! yet (still on its way), and the write then matches nothing or is refused by a foreign key. Such an operation
//! wrote nothing and is counted as a miss, never as a write; only rows the databases report count.

use crate::generate::{Kind, Op, Values};
use crate::writes::{self, Conns, Failure, Target, Written};
use dbsync_core::Side;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A row older than this has (almost always) crossed to the other side, so writes may target it there; younger
/// rows are written on the side that made them.
const SETTLED: Duration = Duration::from_secs(1);
/// How long a both-sides edit waits for its row to be on both sides.
const BOTH_SIDES_WAIT: Duration = Duration::from_secs(2);
/// Attempts of a write that hit a deadlock or a lock timeout.
const ATTEMPTS: u32 = 5;

/// A row this run knows: its id, the side that made it and its age.
#[derive(Debug, Clone, Copy)]
struct Known {
    id: i64,
    origin: Side,
    age: Duration,
}

impl Known {
    /// `wanted` if the row has had time to cross, else the side that made it.
    fn side_for(&self, wanted: Side) -> Side {
        if self.age >= SETTLED {
            wanted
        } else {
            self.origin
        }
    }
}

/// Rows of one table this run knows about, with O(1) pick and removal.
struct Pool<T> {
    ids: Vec<i64>,
    rows: HashMap<i64, (usize, T, Side, Instant)>,
}

impl<T> Default for Pool<T> {
    fn default() -> Self {
        Pool {
            ids: Vec::new(),
            rows: HashMap::new(),
        }
    }
}

impl<T: Copy> Pool<T> {
    fn insert(&mut self, id: i64, row: T, origin: Side) {
        if !self.rows.contains_key(&id) {
            self.rows
                .insert(id, (self.ids.len(), row, origin, Instant::now()));
            self.ids.push(id);
        }
    }

    fn remove(&mut self, id: i64) -> Option<T> {
        let (at, row, _, _) = self.rows.remove(&id)?;
        self.ids.swap_remove(at);
        if let Some(moved) = self.ids.get(at) {
            if let Some(entry) = self.rows.get_mut(moved) {
                entry.0 = at;
            }
        }
        Some(row)
    }

    fn get(&self, id: i64) -> Option<Known> {
        self.rows.get(&id).map(|(_, _, origin, born)| Known {
            id,
            origin: *origin,
            age: born.elapsed(),
        })
    }

    fn pick(&self, pick: u64) -> Option<Known> {
        if self.ids.is_empty() {
            return None;
        }
        self.get(self.ids[(pick % self.ids.len() as u64) as usize])
    }

    /// Like `pick`, preferring a row that has had time to cross (tries a few).
    fn pick_settled(&self, pick: u64) -> Option<Known> {
        (0..8u64)
            .filter_map(|k| self.pick(pick.wrapping_add(k.wrapping_mul(0x9E37_79B9_7F4A_7C15))))
            .find(|known| known.age >= SETTLED)
            .or_else(|| self.pick(pick))
    }

    fn ids_where(&self, keep: impl Fn(&T) -> bool) -> Vec<i64> {
        self.rows
            .iter()
            .filter(|(_, (_, row, _, _))| keep(row))
            .map(|(id, _)| *id)
            .collect()
    }

    fn len(&self) -> usize {
        self.ids.len()
    }
}

/// What this run has made, shared by the workers.
#[derive(Default)]
pub struct State {
    users: Pool<()>,
    /// Post id → author.
    posts: Pool<i64>,
    /// Like id → (user, post).
    likes: Pool<(i64, i64)>,
    /// Every (user, post) pair a like was ever tried with: never used twice, on either side.
    pairs: HashSet<(i64, i64)>,
    /// Every id this run created, per entity (`user`, `post`, `like`).
    pub created: BTreeMap<&'static str, HashSet<i64>>,
}

impl State {
    fn created(&mut self, entity: &'static str, id: i64) {
        self.created.entry(entity).or_default().insert(id);
    }

    /// Forgets a user and what the cascade takes with it.
    fn forget_user(&mut self, id: i64) {
        self.users.remove(id);
        let posts: HashSet<i64> = self
            .posts
            .ids_where(|author| *author == id)
            .into_iter()
            .collect();
        for post in &posts {
            self.posts.remove(*post);
        }
        for like in self
            .likes
            .ids_where(|(user, post)| *user == id || posts.contains(post))
        {
            self.likes.remove(like);
        }
    }

    fn forget_post(&mut self, id: i64) {
        self.posts.remove(id);
        for like in self.likes.ids_where(|(_, post)| *post == id) {
            self.likes.remove(like);
        }
    }

    /// Rows known at the end (users, posts, likes).
    pub fn sizes(&self) -> (usize, usize, usize) {
        (self.users.len(), self.posts.len(), self.likes.len())
    }
}

/// How one kind of operation went.
#[derive(Debug, Default, Clone)]
pub struct KindTally {
    /// Operations of this kind.
    pub ops: u64,
    /// Events they must have produced (rows written, cascades included).
    pub events: u64,
    /// Operations that found no target in the state (nothing to do yet).
    pub no_target: u64,
    /// Writes that matched no row, or were refused because a parent was missing: nothing written.
    pub missed: u64,
}

/// What the workers did.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Events the legacy side must have published (application writes on legacy).
    pub legacy_events: u64,
    /// Events the revamp side must have published.
    pub revamp_events: u64,
    /// Per kind of operation.
    pub kinds: BTreeMap<Kind, KindTally>,
    /// Writes retried after a deadlock or lock timeout.
    pub retries: u64,
    /// Unexpected errors (each one wrote nothing).
    pub errors: Vec<String>,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.legacy_events += other.legacy_events;
        self.revamp_events += other.revamp_events;
        self.retries += other.retries;
        self.errors.extend(other.errors);
        for (kind, t) in other.kinds {
            let mine = self.kinds.entry(kind).or_default();
            mine.ops += t.ops;
            mine.events += t.events;
            mine.no_target += t.no_target;
            mine.missed += t.missed;
        }
    }

    fn wrote(&mut self, kind: Kind, side: Side, events: u64) {
        match side {
            Side::Legacy => self.legacy_events += events,
            Side::Revamp => self.revamp_events += events,
        }
        let t = self.kinds.entry(kind).or_default();
        t.events += events;
        if events == 0 {
            t.missed += 1;
        }
    }
}

/// Runs `ops` on `workers` tasks; returns the tally and the final state.
pub async fn run(
    ops: Vec<Op>,
    workers: usize,
    run_tag: &str,
    legacy_dsn: &str,
    revamp_dsn: &str,
) -> anyhow::Result<(Tally, State)> {
    let workers = workers.max(1);
    let state = Arc::new(Mutex::new(State::default()));
    let mut shares: Vec<Vec<Op>> = vec![Vec::new(); workers];
    for op in ops {
        shares[op.index % workers].push(op);
    }
    let mut tasks = Vec::new();
    for share in shares {
        let conns = Conns::open(legacy_dsn, revamp_dsn).await?;
        let state = Arc::clone(&state);
        let run_tag = run_tag.to_string();
        tasks.push(tokio::spawn(async move {
            let mut worker = Worker {
                conns,
                state,
                run_tag,
                tally: Tally::default(),
            };
            for op in share {
                worker.run(&op).await;
            }
            worker.tally
        }));
    }
    let mut tally = Tally::default();
    for task in tasks {
        tally.add(task.await?);
    }
    let state = Arc::try_unwrap(state)
        .map_err(|_| anyhow::anyhow!("workers still hold the state"))?
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a worker panicked"))?;
    Ok((tally, state))
}

struct Worker {
    conns: Conns,
    state: Arc<Mutex<State>>,
    run_tag: String,
    tally: Tally,
}

impl Worker {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn run(&mut self, op: &Op) {
        self.tally.kinds.entry(op.kind).or_default().ops += 1;
        match op.kind {
            Kind::InsertUser => self.insert_user(op).await,
            Kind::UpdateUser => {
                let picked = self.state().users.pick(op.pick);
                let Some(user) = picked else {
                    return self.insert_user(op).await;
                };
                let side = user.side_for(op.side);
                let events = self
                    .events(op.kind, Write::UpdateUser(side, user.id, &op.values))
                    .await;
                self.tally.wrote(op.kind, side, events);
            }
            Kind::DeleteUser => {
                let picked = self.state().users.pick(op.pick);
                let Some(user) = picked else {
                    return self.no_target(op.kind);
                };
                self.state().forget_user(user.id);
                let side = user.side_for(op.side);
                let events = self.events(op.kind, Write::DeleteUser(side, user.id)).await;
                self.tally.wrote(op.kind, side, events);
            }
            Kind::InsertPost => {
                let picked = self.state().users.pick(op.pick);
                let Some(author) = picked else {
                    return self.insert_user(op).await;
                };
                let side = author.side_for(op.side);
                let id = self
                    .created(op.kind, Write::InsertPost(side, author.id, &op.values))
                    .await;
                if let Some(id) = id {
                    let mut state = self.state();
                    state.created("post", id);
                    // If the author was deleted meanwhile, the cascade took the post: don't offer it.
                    if state.users.rows.contains_key(&author.id) {
                        state.posts.insert(id, author.id, side);
                    }
                }
            }
            Kind::UpdatePost => {
                let picked = self.state().posts.pick(op.pick);
                let Some(post) = picked else {
                    return self.no_target(op.kind);
                };
                let side = post.side_for(op.side);
                let events = self
                    .events(op.kind, Write::UpdatePost(side, post.id, &op.values))
                    .await;
                self.tally.wrote(op.kind, side, events);
            }
            Kind::DeletePost => {
                let picked = self.state().posts.pick(op.pick);
                let Some(post) = picked else {
                    return self.no_target(op.kind);
                };
                self.state().forget_post(post.id);
                let side = post.side_for(op.side);
                let events = self.events(op.kind, Write::DeletePost(side, post.id)).await;
                self.tally.wrote(op.kind, side, events);
            }
            Kind::InsertLike => self.insert_like(op).await,
            Kind::DeleteLike => {
                let picked = self.state().likes.pick(op.pick);
                let Some(like) = picked else {
                    return self.no_target(op.kind);
                };
                self.state().likes.remove(like.id);
                let side = like.side_for(op.side);
                let events = self.events(op.kind, Write::DeleteLike(side, like.id)).await;
                self.tally.wrote(op.kind, side, events);
            }
            Kind::EditBoth => self.edit_both(op).await,
        }
    }

    async fn insert_user(&mut self, op: &Op) {
        let username = format!("cv_{}_{}", self.run_tag, op.index);
        let id = self
            .created(op.kind, Write::InsertUser(op.side, &username, &op.values))
            .await;
        if let Some(id) = id {
            let mut state = self.state();
            state.created("user", id);
            state.users.insert(id, (), op.side);
        }
    }

    /// A like of a (user, post) pair never tried before, on a side where both are (as far as the state knows).
    async fn insert_like(&mut self, op: &Op) {
        let chosen = {
            let mut state = self.state();
            let found = (0..8u64).find_map(|k| {
                let user = state.users.pick(op.pick.wrapping_add(k))?;
                let post = state
                    .posts
                    .pick(op.pick2.wrapping_add(k.wrapping_mul(7919)))?;
                if state.pairs.contains(&(user.id, post.id)) {
                    return None;
                }
                let (user_side, post_side) = (user.side_for(op.side), post.side_for(op.side));
                let side = if user_side == post_side {
                    user_side
                } else if user.age >= SETTLED {
                    post_side
                } else if post.age >= SETTLED {
                    user_side
                } else {
                    return None;
                };
                Some((user.id, post.id, side))
            });
            if let Some((user, post, _)) = found {
                state.pairs.insert((user, post));
            }
            found
        };
        let Some((user, post, side)) = chosen else {
            return self.no_target(op.kind);
        };
        let id = self
            .created(op.kind, Write::InsertLike(side, user, post))
            .await;
        if let Some(id) = id {
            let mut state = self.state();
            state.created("like", id);
            if state.users.rows.contains_key(&user) && state.posts.rows.contains_key(&post) {
                state.likes.insert(id, (user, post), side);
            }
        }
    }

    /// One row updated on legacy, then at once on revamp (`op.side` legacy: a user, revamp: a post). The row must
    /// be on both sides first: waits up to `BOTH_SIDES_WAIT` for it to cross.
    async fn edit_both(&mut self, op: &Op) {
        let target = match op.side {
            Side::Legacy => Target::User,
            Side::Revamp => Target::Post,
        };
        let picked = {
            let state = self.state();
            match target {
                Target::User => state.users.pick_settled(op.pick).map(|known| known.id),
                Target::Post => state.posts.pick_settled(op.pick).map(|known| known.id),
            }
        };
        let Some(id) = picked else {
            return self.no_target(op.kind);
        };
        let waiting = Instant::now();
        loop {
            let on_both = matches!(
                writes::exists(&mut self.conns, Side::Legacy, target, id).await,
                Ok(true)
            ) && matches!(
                writes::exists(&mut self.conns, Side::Revamp, target, id).await,
                Ok(true)
            );
            if on_both {
                break;
            }
            if waiting.elapsed() >= BOTH_SIDES_WAIT {
                return self.no_target(op.kind);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        for (side, values) in [(Side::Legacy, &op.values), (Side::Revamp, &op.values2)] {
            let write = match target {
                Target::User => Write::UpdateUser(side, id, values),
                Target::Post => Write::UpdatePost(side, id, values),
            };
            let events = self.events(op.kind, write).await;
            self.tally.wrote(op.kind, side, events);
        }
    }

    fn no_target(&mut self, kind: Kind) {
        self.tally.kinds.entry(kind).or_default().no_target += 1;
    }

    /// Runs a write that reports its events, retrying deadlocks; 0 if it wrote nothing.
    async fn events(&mut self, kind: Kind, write: Write<'_>) -> u64 {
        match self.attempt(kind, &write).await {
            Some(Done::Events(events)) => events,
            _ => 0,
        }
    }

    /// Runs an insert, retrying deadlocks; counts its event and returns the new id if it wrote.
    async fn created(&mut self, kind: Kind, write: Write<'_>) -> Option<i64> {
        match self.attempt(kind, &write).await {
            Some(Done::Created(id)) => {
                self.tally.wrote(kind, write.side(), 1);
                Some(id)
            }
            _ => None,
        }
    }

    async fn attempt(&mut self, kind: Kind, write: &Write<'_>) -> Option<Done> {
        for attempt in 1..=ATTEMPTS {
            match write.perform(&mut self.conns).await {
                Ok(done) => return Some(done),
                Err(Failure::Retry(_)) if attempt < ATTEMPTS => {
                    self.tally.retries += 1;
                    tokio::time::sleep(Duration::from_millis(5 * u64::from(attempt))).await;
                }
                Err(Failure::ParentMissing) => {
                    if matches!(
                        write,
                        Write::InsertUser(..) | Write::InsertPost(..) | Write::InsertLike(..)
                    ) {
                        self.tally.kinds.entry(kind).or_default().missed += 1;
                    }
                    return None;
                }
                Err(Failure::Retry(e) | Failure::Other(e)) => {
                    self.tally.errors.push(format!("{}: {e}", kind.name()));
                    return None;
                }
            }
        }
        None
    }
}

/// One write to run (and retry).
enum Write<'a> {
    InsertUser(Side, &'a str, &'a Values),
    UpdateUser(Side, i64, &'a Values),
    DeleteUser(Side, i64),
    InsertPost(Side, i64, &'a Values),
    UpdatePost(Side, i64, &'a Values),
    DeletePost(Side, i64),
    InsertLike(Side, i64, i64),
    DeleteLike(Side, i64),
}

/// What a write did.
enum Done {
    /// Rows written (events due), cascades included.
    Events(u64),
    /// The id of the row inserted (one event due).
    Created(i64),
}

impl Write<'_> {
    fn side(&self) -> Side {
        match self {
            Write::InsertUser(side, ..)
            | Write::UpdateUser(side, ..)
            | Write::DeleteUser(side, ..)
            | Write::InsertPost(side, ..)
            | Write::UpdatePost(side, ..)
            | Write::DeletePost(side, ..)
            | Write::InsertLike(side, ..)
            | Write::DeleteLike(side, ..) => *side,
        }
    }

    async fn perform(&self, c: &mut Conns) -> Written<Done> {
        Ok(match *self {
            Write::InsertUser(side, name, v) => {
                Done::Created(writes::insert_user(c, side, name, v).await?)
            }
            Write::UpdateUser(side, id, v) => {
                Done::Events(writes::update_user(c, side, id, v).await?)
            }
            Write::DeleteUser(side, id) => Done::Events(writes::delete_user(c, side, id).await?),
            Write::InsertPost(side, user, v) => {
                Done::Created(writes::insert_post(c, side, user, v).await?)
            }
            Write::UpdatePost(side, id, v) => {
                Done::Events(writes::update_post(c, side, id, v).await?)
            }
            Write::DeletePost(side, id) => Done::Events(writes::delete_post(c, side, id).await?),
            Write::InsertLike(side, user, post) => {
                Done::Created(writes::insert_like(c, side, user, post).await?)
            }
            Write::DeleteLike(side, id) => Done::Events(writes::delete_like(c, side, id).await?),
        })
    }
}

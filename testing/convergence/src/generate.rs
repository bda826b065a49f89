//! The generator: N abstract operations from a seeded RNG (ChaCha8, so a seed names the same list on every machine).
//! An operation says what to do, on which side and with which values; which row it touches is decided when it
//! runs (`pick` indexes the rows known at that moment), because with several workers the rows that exist depend on
//! timing. Values are chosen so that every one maps to the other side and back unchanged: full names are "First
//! Last", a single word, or null (the `split_name` converter splits at the first space), statuses and post states
//! are those of the mapping's `value_map`s.

use dbsync_core::Side;
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Insert a user (unique username from the run tag and the operation's index).
    InsertUser,
    /// Update a known user's name, status and admin flag.
    UpdateUser,
    /// Delete a known user, cascading to its posts and likes (counted).
    DeleteUser,
    /// Insert a post for a known user.
    InsertPost,
    /// Update a known post's title, body and state.
    UpdatePost,
    /// Delete a known post, cascading to its likes (counted).
    DeletePost,
    /// Insert a like with a (user, post) pair never used before on either side.
    InsertLike,
    /// Delete a known like.
    DeleteLike,
    /// Update one row that exists on both sides on legacy, then at once on revamp (a conflict).
    EditBoth,
}

impl Kind {
    /// Every kind with its weight (percent of the operations).
    pub const WEIGHTS: [(Kind, u32); 9] = [
        (Kind::InsertUser, 14),
        (Kind::UpdateUser, 13),
        (Kind::DeleteUser, 2),
        (Kind::InsertPost, 18),
        (Kind::UpdatePost, 12),
        (Kind::DeletePost, 4),
        (Kind::InsertLike, 17),
        (Kind::DeleteLike, 5),
        (Kind::EditBoth, 15),
    ];

    /// A short name for the report.
    pub fn name(self) -> &'static str {
        match self {
            Kind::InsertUser => "insert user",
            Kind::UpdateUser => "update user",
            Kind::DeleteUser => "delete user",
            Kind::InsertPost => "insert post",
            Kind::UpdatePost => "update post",
            Kind::DeletePost => "delete post",
            Kind::InsertLike => "insert like",
            Kind::DeleteLike => "delete like",
            Kind::EditBoth => "same-row edit, both sides",
        }
    }
}

/// The legacy statuses, indexed by the revamp code (`value_map` of `user.status`).
pub const LEGACY_STATUS: [&str; 3] = ["inactive", "active", "banned"];
/// The legacy post states and their revamp ENUM labels (`value_map` of `post.state`).
pub const POST_STATE: [(&str, &str); 3] = [
    ("draft", "DRAFT"),
    ("published", "LIVE"),
    ("archived", "ARCHIVED"),
];

const FIRST: [&str; 8] = [
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Zoë", "Ken", "Émilie",
];
const LAST: [&str; 8] = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Ünal",
    "Thompson",
    "Châtelet",
];

/// A person's name in a form both sides hold without loss.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Name {
    /// `full_name` null; first and last name null.
    Null,
    /// One word: `full_name` "Cher"; first name "Cher", last name "".
    Single(String),
    /// Two words: `full_name` "Ada Lovelace"; first "Ada", last "Lovelace".
    Full(String, String),
}

impl Name {
    /// The legacy `full_name`.
    pub fn full(&self) -> Option<String> {
        match self {
            Name::Null => None,
            Name::Single(first) => Some(first.clone()),
            Name::Full(first, last) => Some(format!("{first} {last}")),
        }
    }

    /// The revamp `first_name`, `last_name`.
    pub fn parts(&self) -> (Option<String>, Option<String>) {
        match self {
            Name::Null => (None, None),
            Name::Single(first) => (Some(first.clone()), Some(String::new())),
            Name::Full(first, last) => (Some(first.clone()), Some(last.clone())),
        }
    }
}

/// Values one write sets (a user's or a post's, as the kind needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Values {
    /// A user's name.
    pub name: Name,
    /// Index into [`LEGACY_STATUS`] (the revamp code).
    pub status: usize,
    /// A user's admin flag.
    pub is_admin: bool,
    /// Index into [`POST_STATE`].
    pub state: usize,
    /// A number that makes titles, bodies and emails differ.
    pub text: u32,
}

impl Values {
    /// A post title.
    pub fn title(&self) -> String {
        format!("Post {} — “quoted” 'and' \\ escaped", self.text)
    }

    /// A post body (sometimes empty, the legacy default).
    pub fn body(&self) -> String {
        if self.text % 10 < 2 {
            String::new()
        } else {
            format!("Body {}\nsecond line, ünïcödé ✓", self.text)
        }
    }

    /// An email address.
    pub fn email(&self, username: &str) -> String {
        format!("{username}.{}@convergence.test", self.text % 100)
    }
}

/// One operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    /// Position in the list (also makes usernames unique).
    pub index: usize,
    /// What to do.
    pub kind: Kind,
    /// Where to write (for [`Kind::EditBoth`], where the entity is user or post: legacy = user, revamp = post).
    pub side: Side,
    /// Chooses the row among those known when the operation runs.
    pub pick: u64,
    /// Chooses a second row (a like's post).
    pub pick2: u64,
    /// The values written (for [`Kind::EditBoth`], the legacy write's).
    pub values: Values,
    /// For [`Kind::EditBoth`], the revamp write's values.
    pub values2: Values,
}

/// `n` operations from `seed`.
pub fn plan(seed: u64, n: usize) -> Vec<Op> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let total: u32 = Kind::WEIGHTS.iter().map(|(_, weight)| weight).sum();
    (0..n)
        .map(|index| {
            let mut roll = rng.random_range(0..total);
            let kind = Kind::WEIGHTS
                .iter()
                .find(|(_, weight)| {
                    let hit = roll < *weight;
                    roll = roll.saturating_sub(*weight);
                    hit
                })
                .map(|(kind, _)| *kind)
                .unwrap_or(Kind::InsertUser);
            let side = if rng.random_bool(0.5) {
                Side::Legacy
            } else {
                Side::Revamp
            };
            let pick = rng.random();
            let pick2 = rng.random();
            Op {
                index,
                kind,
                side,
                pick,
                pick2,
                values: values(&mut rng),
                values2: values(&mut rng),
            }
        })
        .collect()
}

fn values(rng: &mut ChaCha8Rng) -> Values {
    let name = match rng.random_range(0..10) {
        0 => Name::Null,
        1 | 2 => Name::Single(FIRST[rng.random_range(0..FIRST.len())].to_string()),
        _ => Name::Full(
            FIRST[rng.random_range(0..FIRST.len())].to_string(),
            LAST[rng.random_range(0..LAST.len())].to_string(),
        ),
    };
    Values {
        name,
        status: rng.random_range(0..LEGACY_STATUS.len()),
        is_admin: rng.random_bool(0.2),
        state: rng.random_range(0..POST_STATE.len()),
        text: rng.random_range(0..1_000_000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_names_one_plan() {
        assert_eq!(plan(7, 200), plan(7, 200));
        assert_ne!(plan(7, 200), plan(8, 200));
    }

    #[test]
    fn every_kind_occurs() {
        let ops = plan(42, 2000);
        for (kind, _) in Kind::WEIGHTS {
            assert!(ops.iter().any(|op| op.kind == kind), "{kind:?}");
        }
    }

    #[test]
    fn names_round_trip_through_split_name() {
        for op in plan(1, 500) {
            let name = op.values.name;
            let (first, last) = name.parts();
            let joined = match (first, last) {
                (None, None) => None,
                (Some(first), Some(last)) if last.is_empty() => Some(first),
                (Some(first), Some(last)) => Some(format!("{first} {last}")),
                other => panic!("unexpected {other:?}"),
            };
            assert_eq!(joined, name.full());
        }
    }
}

//! The key ranges of the two sides (README, "Keys never collide"), and the check that keeps an event whose key lies
//! outside them from being applied (it is dead-lettered as `key_out_of_range`).
//!
//! Each side's applications mint ids from their own range: legacy sequences run `1 ..= 999,999,999,999` (capped,
//! `NO CYCLE`, `databases/postgres/schema.sql`), revamp `AUTO_INCREMENT` starts at `1,000,000,000,000`
//! (`databases/mysql/schema.sql`). A row keeps its id on both sides, so each side's tables hold keys of both ranges,
//! and an update or delete of a row that came from the other side carries the other side's key. Hence:
//! - every key an event carries (its primary key, and each foreign key) must be a key of one side, [`ANY_KEY`];
//! - a row revamp newly created (an insert, not a snapshot read) must carry a key revamp mints, [`minted_by`]:
//!   an application that inserts an explicit id from legacy's range would collide with legacy's rows.
//!
//! Legacy inserts are not held to legacy's range. PostgreSQL's publication row filters (migration
//! `0004_publication_row_filters.sql`) publish an application's update of a row the sync service wrote last as an
//! insert, and that row may have come from revamp with a revamp key; nothing in the event tells it from an insert
//! with an explicit revamp id. Such an insert is applied like an update (last-writer-wins against a revamp row with
//! that key), so on legacy the explicit-id misconfiguration is no longer caught here (README, "Keys never collide").

use crate::event::{ChangeEvent, Operation, Side};
use std::ops::RangeInclusive;

/// Ids legacy (PostgreSQL) applications mint: the tables' sequences, capped below the revamp range.
pub const LEGACY_KEYS: RangeInclusive<i64> = 1..=999_999_999_999;
/// Ids revamp (MySQL/MariaDB) applications mint: `AUTO_INCREMENT` from 1,000,000,000,000 up to BIGINT's maximum.
pub const REVAMP_KEYS: RangeInclusive<i64> = 1_000_000_000_000..=i64::MAX;
/// Every key a row can have on either side: both ranges together.
pub const ANY_KEY: RangeInclusive<i64> = 1..=i64::MAX;

/// The ids `side`'s applications mint.
pub fn minted_by(side: Side) -> RangeInclusive<i64> {
    match side {
        Side::Legacy => LEGACY_KEYS,
        Side::Revamp => REVAMP_KEYS,
    }
}

/// The range `event`'s primary key must lie in: revamp's own range for a row revamp newly created, else
/// [`ANY_KEY`] (a legacy insert may be an update in disguise, see the module's doc).
pub fn primary_key_range(event: &ChangeEvent) -> RangeInclusive<i64> {
    if event.operation == Operation::Create && !event.snapshot && event.origin == Side::Revamp {
        minted_by(event.origin)
    } else {
        ANY_KEY
    }
}

/// How errors name a range.
pub fn describe(range: &RangeInclusive<i64>) -> String {
    if *range.end() == i64::MAX {
        format!("{} or more", range.start())
    } else {
        format!("{} to {}", range.start(), range.end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ranges_are_disjoint_and_cover_every_positive_key() {
        assert_eq!(LEGACY_KEYS.end() + 1, *REVAMP_KEYS.start());
        assert_eq!(LEGACY_KEYS.start(), ANY_KEY.start());
        assert_eq!(REVAMP_KEYS.end(), ANY_KEY.end());
        for key in [0, -5, i64::MIN] {
            assert!(!ANY_KEY.contains(&key));
        }
    }

    #[test]
    fn ranges_read_as_the_readme_states_them() {
        assert_eq!(describe(&LEGACY_KEYS), "1 to 999999999999");
        assert_eq!(describe(&REVAMP_KEYS), "1000000000000 or more");
        assert_eq!(describe(&minted_by(Side::Revamp)), "1000000000000 or more");
    }
}

//! Conflict resolution (README, "How it stays correct: Conflicts converge" and "Deletes travel as tombstones"):
//! which of two versions of one row wins. A pure function of the two versions, so both databases pick the same
//! winner whatever order the events arrive in.
//!
//! A version is the row's `updated_at` plus the side whose application wrote it (a row the sync service wrote
//! carries the other side's version). Rules, per entity policy:
//! - same origin: the newer `updated_at` wins (equal means the same version: nothing to do);
//! - `last_writer_wins`: the newer `updated_at` wins; an exact tie goes to legacy;
//! - `legacy_wins` / `revamp_wins`: the favoured side's version wins unless the other one is newer by more than
//!   the conflict window (edits that far apart are not concurrent; the later one is simply newer).
//!
//! A delete's version is when it happened and on which side (the tombstone's `deleted_at` and deleter): it removes
//! the target row unless the target holds a version that beats it (an edit newer than the delete), and its
//! tombstone stops any version that does not beat it from coming back; an exact tie goes to the delete.

use crate::event::Side;
use crate::mapping::ConflictPolicy;
use chrono::{DateTime, TimeDelta, Utc};

/// One version of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    /// The row's `updated_at` in that version.
    pub updated_at: DateTime<Utc>,
    /// The side whose application wrote that version.
    pub origin: Side,
}

impl Version {
    /// The version a stored row holds on `side`, given its `source` column: a row the sync service wrote holds the
    /// other side's version.
    pub fn stored(side: Side, updated_at: DateTime<Utc>, source: &str) -> Self {
        let origin = if source == crate::filter::SYNC_SERVICE_SOURCE {
            side.other()
        } else {
            side
        };
        Version { updated_at, origin }
    }
}

/// How conflicts are settled for one entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolver {
    /// The entity's policy.
    pub policy: ConflictPolicy,
    /// For `legacy_wins`/`revamp_wins`: how much newer the other side's version must be to win anyway.
    pub window: TimeDelta,
}

impl Resolver {
    /// Whether `incoming` replaces `current`.
    pub fn beats(&self, incoming: Version, current: Version) -> bool {
        if incoming.origin == current.origin {
            return incoming.updated_at > current.updated_at;
        }
        let favoured = match self.policy {
            ConflictPolicy::LastWriterWins => {
                return incoming.updated_at > current.updated_at
                    || (incoming.updated_at == current.updated_at
                        && incoming.origin == Side::Legacy);
            }
            ConflictPolicy::LegacyWins => Side::Legacy,
            ConflictPolicy::RevampWins => Side::Revamp,
        };
        let (favoured_version, other_version) = if incoming.origin == favoured {
            (incoming, current)
        } else {
            (current, incoming)
        };
        // Checked: a far-future `updated_at` plus the window can pass chrono's last date (a panic, and across the PHP
        // boundary an abort). Past it, every representable version lies inside the window.
        let favoured_wins = match favoured_version.updated_at.checked_add_signed(self.window) {
            Some(bound) => other_version.updated_at <= bound,
            None => true,
        };
        favoured_wins == (incoming.origin == favoured)
    }

    /// Whether a delete with version `deleted` removes a target row holding `current`.
    pub fn delete_applies(&self, deleted: Version, current: Version) -> bool {
        !self.beats(current, deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(seconds: i64, micros: u32) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + seconds, micros * 1000)
            .single()
            .unwrap()
    }
    fn v(seconds: i64, origin: Side) -> Version {
        Version {
            updated_at: at(seconds, 0),
            origin,
        }
    }
    fn resolver(policy: ConflictPolicy) -> Resolver {
        Resolver {
            policy,
            window: TimeDelta::seconds(5),
        }
    }
    const LWW: ConflictPolicy = ConflictPolicy::LastWriterWins;

    #[test]
    fn same_origin_newer_wins_and_equal_is_a_no_op() {
        let r = resolver(LWW);
        assert!(r.beats(v(2, Side::Legacy), v(1, Side::Legacy)));
        assert!(!r.beats(v(1, Side::Legacy), v(2, Side::Legacy)));
        assert!(!r.beats(v(1, Side::Revamp), v(1, Side::Revamp)));
    }

    #[test]
    fn last_writer_wins_with_legacy_taking_ties() {
        let r = resolver(LWW);
        assert!(r.beats(v(2, Side::Revamp), v(1, Side::Legacy)));
        assert!(!r.beats(v(1, Side::Revamp), v(2, Side::Legacy)));
        assert!(r.beats(v(1, Side::Legacy), v(1, Side::Revamp)));
        assert!(!r.beats(v(1, Side::Revamp), v(1, Side::Legacy)));
    }

    #[test]
    fn both_sides_agree_on_the_winner_whatever_the_arrival_order() {
        for policy in [LWW, ConflictPolicy::LegacyWins, ConflictPolicy::RevampWins] {
            let r = resolver(policy);
            for (l, rv) in [(0, 0), (0, 3), (3, 0), (0, 9), (9, 0)] {
                let legacy = v(l, Side::Legacy);
                let revamp = v(rv, Side::Revamp);
                // Legacy holds its version and receives revamp's; revamp the reverse.
                let legacy_ends_with_revamp = r.beats(revamp, legacy);
                let revamp_keeps_revamp = !r.beats(legacy, revamp);
                assert_eq!(
                    legacy_ends_with_revamp, revamp_keeps_revamp,
                    "{policy:?} legacy@{l} revamp@{rv}"
                );
            }
        }
    }

    #[test]
    fn favoured_side_wins_inside_the_window_only() {
        let r = resolver(ConflictPolicy::LegacyWins);
        assert!(r.beats(v(0, Side::Legacy), v(3, Side::Revamp)));
        assert!(!r.beats(v(3, Side::Revamp), v(0, Side::Legacy)));
        assert!(r.beats(v(9, Side::Revamp), v(0, Side::Legacy)));
        let r = resolver(ConflictPolicy::RevampWins);
        assert!(r.beats(v(0, Side::Revamp), v(3, Side::Legacy)));
        assert!(r.beats(v(9, Side::Legacy), v(0, Side::Revamp)));
    }

    #[test]
    fn a_delete_wins_over_older_edits_and_ties_but_not_over_a_newer_edit() {
        let r = resolver(LWW);
        let seen = v(1, Side::Legacy);
        assert!(r.delete_applies(seen, seen));
        assert!(r.delete_applies(v(2, Side::Revamp), v(1, Side::Legacy)));
        assert!(!r.delete_applies(seen, v(2, Side::Revamp)));
    }

    #[test]
    fn a_far_future_version_does_not_overflow_the_window() {
        let end = DateTime::<Utc>::MAX_UTC;
        for policy in [ConflictPolicy::LegacyWins, ConflictPolicy::RevampWins] {
            let r = Resolver {
                policy,
                window: TimeDelta::days(365),
            };
            let legacy = Version {
                updated_at: end,
                origin: Side::Legacy,
            };
            let revamp = Version {
                updated_at: end,
                origin: Side::Revamp,
            };
            // Equal far-future versions: the favoured side wins, both ways round, without a panic.
            assert_eq!(
                r.beats(legacy, revamp),
                policy == ConflictPolicy::LegacyWins
            );
            assert_eq!(
                r.beats(revamp, legacy),
                policy == ConflictPolicy::RevampWins
            );
            assert!(r.delete_applies(legacy, revamp) || r.delete_applies(revamp, legacy));
        }
        let r = Resolver {
            policy: ConflictPolicy::LegacyWins,
            window: TimeDelta::MAX,
        };
        assert!(r.beats(v(0, Side::Legacy), v(9, Side::Revamp)));
    }

    #[test]
    fn stored_rows_written_by_the_sync_service_hold_the_other_sides_version() {
        let t = at(0, 5);
        assert_eq!(
            Version::stored(Side::Revamp, t, "sync_service").origin,
            Side::Legacy
        );
        assert_eq!(
            Version::stored(Side::Revamp, t, "revamp").origin,
            Side::Revamp
        );
        assert_eq!(
            Version::stored(Side::Legacy, t, "legacy").origin,
            Side::Legacy
        );
    }
}

//! Per-row write serialization across consumers. Two consumers can hold changes of one row at once (a delete
//! keyed apart from the row's updates, a partition moving between group members mid-flight); each would read the
//! row, its tombstone and the ledger, decide, and write, so without a lock one decision rests on a stale read (write
//! skew: a create checks for a tombstone before a concurrent delete commits one). Each batch therefore first takes
//! one lock per row it touches, in one global order (no deadlock between consumers), held until commit:
//! - PostgreSQL: a transaction-scoped advisory lock on a 64-bit key derived from (table, key);
//! - MySQL/MariaDB: `SELECT ... FOR UPDATE` on a row of `dbsync_row_locks`, a fixed table of [`STRIPES`] lock rows;
//!   a stripe is shared by many rows, which only ever makes two unrelated writes wait for each other briefly.

use crate::row::RowOp;

/// Lock rows in MySQL's `dbsync_row_locks` (the schema creates stripes `0 .. STRIPES`).
pub(crate) const STRIPES: i64 = 4096;

/// The 64-bit lock key of one row: FNV-1a over the table name, then the key's bytes. Stable across processes and
/// releases (both consumers of a side must agree), and unlikely to collide (a collision only makes two writes wait).
pub(crate) fn row_lock_key(table: &str, key: i64) -> i64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    for byte in table.bytes().chain([0]).chain(key.to_le_bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(PRIME);
    }
    hash as i64
}

/// The sorted, distinct lock keys of the rows `ops` write (`stripes`: reduced to MySQL's lock rows).
pub(crate) fn lock_keys(ops: &[RowOp], stripes: bool) -> Vec<i64> {
    let mut keys: Vec<i64> = ops
        .iter()
        .map(|op| row_lock_key(op.table(), op.key()))
        .map(|k| if stripes { k.rem_euclid(STRIPES) } else { k })
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_and_tell_tables_and_rows_apart() {
        assert_eq!(row_lock_key("posts", 5), row_lock_key("posts", 5));
        assert_ne!(row_lock_key("posts", 5), row_lock_key("users", 5));
        assert_ne!(row_lock_key("posts", 5), row_lock_key("posts", 6));
        // Pinned: consumers of one side on different releases must agree on the lock of a row.
        assert_eq!(row_lock_key("posts", 5), -1_247_917_352_707_142_287);
    }

    #[test]
    fn stripes_are_in_range_sorted_and_distinct() {
        let keys: Vec<i64> = (0..10_000)
            .map(|k| row_lock_key("t", k).rem_euclid(STRIPES))
            .collect();
        assert!(keys.iter().all(|s| (0..STRIPES).contains(s)));
        let distinct: std::collections::HashSet<_> = keys.iter().collect();
        assert!(
            distinct.len() > (STRIPES as usize) * 9 / 10,
            "stripes spread: {}",
            distinct.len()
        );
    }
}

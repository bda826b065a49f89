//! Per-row write serialization across consumers. Two consumers can hold changes of one row at once (a delete
//! keyed apart from the row's updates, a partition moving between group members mid-flight); each would read the
//! row, its tombstone and the ledger, decide, and write, so without a lock one decision rests on a stale read (write
//! skew: a create checks for a tombstone before a concurrent delete commits one). Each batch therefore first takes
//! one lock per row it touches, in one global order (no deadlock between consumers), held until commit:
//! - PostgreSQL: a transaction-scoped advisory lock on a 64-bit key derived from (table, key);
//! - MySQL/MariaDB: a named lock (`GET_LOCK`) on the same key, scoped to the database. Named locks belong to the
//!   session, not the transaction: the pool releases them (`RELEASE_ALL_LOCKS()`) whenever a connection comes back
//!   from a batch, committed or failed, and the server when a session ends. A lock that is not granted within
//!   [`LOCK_WAIT_SECONDS`] fails the batch with a retryable error, like PostgreSQL's `lock_timeout`.
//!
//! Every row has a lock of its own on both engines, so two batches only wait for each other when they write the same
//! row.

use crate::row::RowOp;

/// How long a batch waits for a row lock another consumer holds before it fails (and is retried): PostgreSQL's
/// `lock_timeout`, MySQL's `GET_LOCK` timeout and `innodb_lock_wait_timeout`.
pub(crate) const LOCK_WAIT_SECONDS: u32 = 10;

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

/// The sorted, distinct lock keys of the rows `ops` write: the order every consumer takes them in.
pub(crate) fn lock_keys(ops: &[RowOp]) -> Vec<i64> {
    let mut keys: Vec<i64> = ops
        .iter()
        .map(|op| row_lock_key(op.table(), op.key()))
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
}

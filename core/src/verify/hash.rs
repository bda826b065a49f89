//! Row and chunk hashes over the normalized shape. Both sides are hashed by the same process, so the hash only has
//! to be stable within one run: std's SipHash with its fixed keys, fed every value with a type tag so that, say,
//! the text `"1"` and the integer 1 never hash alike.

use crate::row::SqlValue;
use std::hash::{DefaultHasher, Hash, Hasher};

/// The hash of one normalized row (its key and values).
pub(crate) fn row(key: i64, values: &[SqlValue]) -> u64 {
    let mut hasher = DefaultHasher::new();
    key.hash(&mut hasher);
    values.len().hash(&mut hasher);
    for value in values {
        match value {
            SqlValue::Null => 0u8.hash(&mut hasher),
            SqlValue::Bool(b) => (1u8, b).hash(&mut hasher),
            SqlValue::Int(n) => (2u8, n).hash(&mut hasher),
            SqlValue::Text(s) => (3u8, s).hash(&mut hasher),
            SqlValue::Timestamp(at) => (4u8, at.timestamp_micros()).hash(&mut hasher),
        }
    }
    hasher.finish()
}

/// The hash of a chunk: its rows' keys and hashes in key order.
pub(crate) fn chunk(rows: &[(i64, u64)]) -> u64 {
    let mut hasher = DefaultHasher::new();
    rows.len().hash(&mut hasher);
    for pair in rows {
        pair.hash(&mut hasher);
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    #[test]
    fn types_and_order_matter() {
        let text = row(1, &[SqlValue::Text("1".into())]);
        let int = row(1, &[SqlValue::Int(1)]);
        assert_ne!(text, int);
        assert_ne!(
            row(1, &[SqlValue::Null, SqlValue::Int(0)]),
            row(1, &[SqlValue::Int(0), SqlValue::Null])
        );
        assert_ne!(row(1, &[SqlValue::Int(5)]), row(2, &[SqlValue::Int(5)]));
    }

    #[test]
    fn equal_instants_hash_alike() {
        let a = DateTime::parse_from_rfc3339("2026-01-01T12:00:00.5+02:00").unwrap();
        let b = DateTime::parse_from_rfc3339("2026-01-01T10:00:00.500000Z").unwrap();
        assert_eq!(
            row(1, &[SqlValue::Timestamp(a.to_utc())]),
            row(1, &[SqlValue::Timestamp(b.to_utc())])
        );
    }

    #[test]
    fn chunks_differ_when_a_row_does() {
        let rows = [(1, 10), (2, 20)];
        assert_eq!(chunk(&rows), chunk(&[(1, 10), (2, 20)]));
        assert_ne!(chunk(&rows), chunk(&[(1, 10), (2, 21)]));
        assert_ne!(chunk(&rows), chunk(&[(1, 10)]));
        assert_ne!(chunk(&rows), chunk(&[(1, 10), (3, 20)]));
    }
}

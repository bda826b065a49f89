//! Lining up the two sides' rows into chunks and narrowing a chunk whose hashes differ down to its rows. Pure: the
//! readers hand in `(key, row hash)` pairs in key order.
//!
//! A chunk ends at the smaller of the two sides' last buffered keys (a side read to its end does not bound it), so
//! each chunk covers the same key range on both sides and a side never buffers more than two pages.

use std::collections::VecDeque;

/// Rows of one side: `(key, row hash)` in key order.
pub(crate) type Rows = Vec<(i64, u64)>;

/// One side's rows not compared yet, in key order.
#[derive(Debug, Default)]
pub(crate) struct Buffer {
    rows: VecDeque<(i64, u64)>,
    /// Whether the side has no rows beyond the buffered ones.
    pub done: bool,
}

impl Buffer {
    /// Whether another page is needed before a chunk can be cut.
    pub fn needs_page(&self) -> bool {
        self.rows.is_empty() && !self.done
    }

    /// Appends a page (keys ascending, above the buffered ones); `last` when the side has nothing more.
    pub fn push(&mut self, page: Vec<(i64, u64)>, last: bool) {
        self.rows.extend(page);
        self.done |= last;
    }

    /// Whether every row was compared and none will come.
    pub fn exhausted(&self) -> bool {
        self.rows.is_empty() && self.done
    }

    /// The highest key a chunk may reach on this side's account.
    fn bound(&self) -> i64 {
        match (self.done, self.rows.back()) {
            (false, Some((key, _))) => *key,
            _ => i64::MAX,
        }
    }

    fn take_through(&mut self, bound: i64) -> Vec<(i64, u64)> {
        let n = self.rows.partition_point(|(key, _)| *key <= bound);
        self.rows.drain(..n).collect()
    }
}

/// Cuts the next chunk off both buffers (call once neither [`Buffer::needs_page`]).
pub(crate) fn next_chunk(legacy: &mut Buffer, revamp: &mut Buffer) -> (Rows, Rows) {
    let bound = legacy.bound().min(revamp.bound());
    (legacy.take_through(bound), revamp.take_through(bound))
}

/// The keys whose rows differ between the sides (a different hash, or present on one side only), in key order;
/// the number of distinct keys is returned too. Both inputs are in key order.
pub(crate) fn differing(legacy: &[(i64, u64)], revamp: &[(i64, u64)]) -> (Vec<i64>, usize) {
    let (mut i, mut j, mut keys) = (0, 0, 0);
    let mut out = Vec::new();
    while i < legacy.len() || j < revamp.len() {
        keys += 1;
        match (legacy.get(i), revamp.get(j)) {
            (Some(l), Some(r)) if l.0 == r.0 => {
                if l.1 != r.1 {
                    out.push(l.0);
                }
                i += 1;
                j += 1;
            }
            (Some(l), Some(r)) if l.0 < r.0 => {
                out.push(l.0);
                i += 1;
            }
            (Some(_), Some(r)) => {
                out.push(r.0);
                j += 1;
            }
            (Some(l), None) => {
                out.push(l.0);
                i += 1;
            }
            (None, Some(r)) => {
                out.push(r.0);
                j += 1;
            }
            (None, None) => break,
        }
    }
    (out, keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrowing_finds_changed_missing_and_extra_rows() {
        let legacy = [(1, 10), (2, 20), (3, 30), (5, 50)];
        let revamp = [(1, 10), (2, 21), (4, 40), (5, 50)];
        assert_eq!(differing(&legacy, &revamp), (vec![2, 3, 4], 5));
        assert_eq!(differing(&legacy, &legacy), (vec![], 4));
        assert_eq!(differing(&[], &revamp), (vec![1, 2, 4, 5], 4));
    }

    #[test]
    fn chunks_cover_the_same_keys_on_both_sides() {
        let mut legacy = Buffer::default();
        let mut revamp = Buffer::default();
        legacy.push(vec![(1, 0), (2, 0), (3, 0)], false);
        revamp.push(vec![(1, 0), (5, 0), (9, 0)], false);
        let (l, r) = next_chunk(&mut legacy, &mut revamp);
        assert_eq!((l.len(), r.len()), (3, 1), "cut at legacy's last key, 3");
        assert!(legacy.needs_page() && !revamp.needs_page());
        legacy.push(vec![(6, 0)], true);
        let (l, r) = next_chunk(&mut legacy, &mut revamp);
        assert_eq!(
            (l, r),
            (vec![(6, 0)], vec![(5, 0), (9, 0)]),
            "legacy done: revamp bounds it"
        );
        assert!(legacy.exhausted() && !revamp.exhausted() && revamp.needs_page());
        revamp.push(vec![], true);
        assert!(revamp.exhausted());
    }
}

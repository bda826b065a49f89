//! Where a change sits in its source database's log (PostgreSQL's LSN, a MySQL/MariaDB binlog coordinate), as a
//! value with one total order, and the watermark the writer keeps of it per topic partition.
//!
//! A redelivered message (a consumer restart, a rebalance, a connector restart that publishes again what it had
//! published) carries the same position as the first copy, and lands in the same partition (the row's key picks
//! it). So an event whose position is above the highest position already applied from its partition cannot be a
//! redelivery, and the writer skips its ledger lookup (README, "Replays apply nothing"). Only that direction is
//! relied on: positions need not grow with offsets (PostgreSQL's LSNs of interleaved transactions do not, a failed
//! over MariaDB starts new binlog files), an event at or below the watermark is simply looked up in the ledger as
//! before. Ledger rows are still written for every applied event.

use std::fmt;
use std::str::FromStr;

/// A change's place in its source's log. The order between the two kinds is arbitrary but fixed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SourcePosition {
    /// PostgreSQL: the change's LSN.
    Lsn(u64),
    /// MySQL/MariaDB: the binlog file (base name and sequence number), the event's position in it and the row
    /// within the event.
    Binlog {
        /// `mysql-bin` of `mysql-bin.000012`.
        base: String,
        /// 12 of `mysql-bin.000012`.
        file: u64,
        /// The event's byte position in the file.
        pos: u64,
        /// The row within the event.
        row: u64,
    },
}

impl SourcePosition {
    /// A binlog position, if the file name is numbered (`mysql-bin.000012`); else `None`, as there is no order.
    pub fn binlog(file_name: &str, pos: u64, row: u64) -> Option<Self> {
        let (base, file) = split_file(file_name)?;
        Some(SourcePosition::Binlog {
            base: base.to_string(),
            file,
            pos,
            row,
        })
    }
}

/// `mysql-bin.000012` → (`mysql-bin`, 12).
fn split_file(name: &str) -> Option<(&str, u64)> {
    let (base, number) = name.rsplit_once('.')?;
    Some((base, number.parse().ok()?))
}

impl fmt::Display for SourcePosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourcePosition::Lsn(lsn) => write!(f, "lsn:{lsn}"),
            SourcePosition::Binlog {
                base,
                file,
                pos,
                row,
            } => write!(f, "binlog:{base}:{file}:{pos}:{row}"),
        }
    }
}

/// A stored position that is not in [`SourcePosition`]'s `Display` form.
#[derive(Debug, thiserror::Error)]
#[error("not a source position: {0:?}")]
pub struct UnknownPosition(String);

impl FromStr for SourcePosition {
    type Err = UnknownPosition;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let unknown = || UnknownPosition(text.to_string());
        if let Some(lsn) = text.strip_prefix("lsn:") {
            return lsn.parse().map(SourcePosition::Lsn).map_err(|_| unknown());
        }
        let rest = text.strip_prefix("binlog:").ok_or_else(unknown)?;
        let mut parts = rest.rsplitn(4, ':');
        let mut number = || -> Result<u64, UnknownPosition> {
            parts
                .next()
                .and_then(|p| p.parse().ok())
                .ok_or_else(unknown)
        };
        let (row, pos, file) = (number()?, number()?, number()?);
        match parts.next() {
            Some(base) if !base.is_empty() => Ok(SourcePosition::Binlog {
                base: base.to_string(),
                file,
                pos,
                row,
            }),
            _ => Err(unknown()),
        }
    }
}

/// The topic partition a batch came from: the writer keeps one position watermark per lane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lane {
    /// The Kafka topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
}

/// Whether the event at `position` may be a redelivery, given the lane's `watermark`: true unless its position is
/// known and above the watermark.
pub fn may_be_redelivered(
    position: Option<&SourcePosition>,
    watermark: Option<&SourcePosition>,
) -> bool {
    match (position, watermark) {
        (Some(position), Some(watermark)) => position <= watermark,
        (Some(_), None) => false,
        (None, _) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binlog_positions_need_a_numbered_file() {
        assert_eq!(
            SourcePosition::binlog("mysql-bin.000012", 4096, 2),
            Some(SourcePosition::Binlog {
                base: "mysql-bin".into(),
                file: 12,
                pos: 4096,
                row: 2
            })
        );
        assert_eq!(SourcePosition::binlog("binlog", 1, 0), None);
    }

    #[test]
    fn binlog_files_order_by_number_not_by_text() {
        let at = |file, pos, row| SourcePosition::Binlog {
            base: "mysql-bin".into(),
            file,
            pos,
            row,
        };
        assert!(at(999_999, 900, 0) < at(1_000_000, 4, 0));
        assert!(at(3, 100, 1) < at(3, 100, 2));
        assert!(at(3, 100, 9) < at(3, 101, 0));
    }

    #[test]
    fn the_stored_form_reads_back() {
        for position in [
            SourcePosition::Lsn(0),
            SourcePosition::Lsn(u64::MAX),
            SourcePosition::Binlog {
                base: "host-1:bin".into(),
                file: 7,
                pos: 123,
                row: 4,
            },
        ] {
            assert_eq!(
                position.to_string().parse::<SourcePosition>().ok(),
                Some(position)
            );
        }
        for bad in [
            "",
            "lsn:",
            "lsn:x",
            "binlog:1:2:3",
            "binlog::1:2:3",
            "gtid:1",
        ] {
            assert!(bad.parse::<SourcePosition>().is_err(), "{bad}");
        }
    }

    #[test]
    fn only_a_known_position_above_the_watermark_skips_the_lookup() {
        let (low, high) = (SourcePosition::Lsn(10), SourcePosition::Lsn(20));
        assert!(!may_be_redelivered(Some(&high), Some(&low)));
        assert!(may_be_redelivered(Some(&low), Some(&high)));
        assert!(may_be_redelivered(Some(&low), Some(&low)));
        assert!(!may_be_redelivered(Some(&low), None));
        assert!(may_be_redelivered(None, Some(&low)));
        assert!(may_be_redelivered(None, None));
    }
}

//! Timestamp spellings met on the wire, all read as UTC instants: ISO-8601 with an offset (PostgreSQL
//! `timestamptz` through Debezium's ZonedTimestamp), ISO or SQL text without an offset (taken as UTC, as the seed
//! contract and the revamp side's DATETIME mean it), epoch milliseconds and epoch microseconds.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};

/// Parses `2026-11-25T23:18:17.123456Z`, `...+02:00`, `2026-11-25 23:18:17+00` or `2026-11-25 23:18:17[.ffffff]`.
pub(crate) fn parse_text(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(at) = DateTime::parse_from_str(text, format) {
            return Some(at.with_timezone(&Utc));
        }
    }
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|naive| naive.and_utc())
}

/// Epoch microseconds, as Debezium sends DATETIME(6) (MicroTimestamp).
pub(crate) fn from_micros(micros: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros)
}

/// Epoch milliseconds, as Debezium's `ts_ms` and the seed contract's numeric `timestamp`.
pub(crate) fn from_millis(millis: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(millis)
}

/// When a change committed at its source, as closely as its event tells. MariaDB's binlog stamps events in whole
/// seconds (`source.ts_ms` ends in 000), so the change's own version time, stamped by the origin's trigger while the
/// statement ran and so before the commit, narrows it within that second. Both are lower bounds of the commit; the
/// later one is kept. A version outside that second (a client-set time) is not trusted.
pub fn commit_estimate(reported: DateTime<Utc>, version: DateTime<Utc>) -> DateTime<Utc> {
    let whole_second = reported.timestamp_subsec_nanos() == 0;
    if whole_second && version > reported && version < reported + TimeDelta::seconds(1) {
        version
    } else {
        reported
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn text_spellings_agree() {
        let expected = at("2026-11-25T23:18:17.123456Z");
        for text in [
            "2026-11-25T23:18:17.123456Z",
            "2026-11-25T23:18:17.123456+00:00",
            "2026-11-26T01:18:17.123456+02:00",
            "2026-11-25 23:18:17.123456+00",
            "2026-11-25 23:18:17.123456",
            "2026-11-25T23:18:17.123456",
        ] {
            assert_eq!(parse_text(text), Some(expected), "{text}");
        }
        assert_eq!(
            parse_text("2026-11-25 23:18:17"),
            Some(at("2026-11-25T23:18:17Z"))
        );
    }

    #[test]
    fn garbage_is_rejected() {
        for text in [
            "",
            "yesterday",
            "2026-13-01 00:00:00",
            "2026-11-25",
            "1764112697",
        ] {
            assert_eq!(parse_text(text), None, "{text}");
        }
    }

    #[test]
    fn epoch_numbers() {
        assert_eq!(
            from_micros(1_764_112_697_123_456),
            Some(at("2025-11-25T23:18:17.123456Z"))
        );
        assert_eq!(
            from_millis(1_764_112_697_123),
            Some(at("2025-11-25T23:18:17.123Z"))
        );
        assert_eq!(from_micros(i64::MAX), None);
    }

    #[test]
    fn a_whole_second_commit_is_narrowed_by_the_version_within_it() {
        let second = at("2026-11-30T10:00:00Z");
        let stamped = at("2026-11-30T10:00:00.257563Z");
        assert_eq!(commit_estimate(second, stamped), stamped);
        // Outside the second (a client-set version) or before it: the reported time stays.
        assert_eq!(commit_estimate(second, at("2026-11-30T10:00:01Z")), second);
        assert_eq!(
            commit_estimate(second, at("2026-11-30T09:59:59.9Z")),
            second
        );
        // A millisecond-precise commit (PostgreSQL) is never moved.
        let precise = at("2026-11-30T10:00:00.120Z");
        assert_eq!(
            commit_estimate(precise, at("2026-11-30T10:00:00.500Z")),
            precise
        );
    }
}

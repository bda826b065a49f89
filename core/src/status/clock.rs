//! Clock skew between the two database servers. Last-writer-wins compares `updated_at` stamped by each server's
//! clock, so a skew near `conflict_window_ms` lets the wrong edit win. Each server's offset from this machine is
//! its time minus the middle of the round trip that read it; the skew is the difference of the two offsets, and
//! half the longer round trip bounds the error.

use super::probe::ProbeError;
use crate::event::Side;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use sqlx::{MySqlConnection, PgConnection, Row};

/// One server's clock read from here: local time before, the server's, local time after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Local time when the query was sent.
    pub sent: DateTime<Utc>,
    /// The server's time.
    pub server: DateTime<Utc>,
    /// Local time when the answer came.
    pub received: DateTime<Utc>,
}

impl Sample {
    /// The server's clock minus this machine's, in microseconds.
    fn offset_us(&self) -> i64 {
        let middle = self.sent + (self.received - self.sent) / 2;
        (self.server - middle)
            .num_microseconds()
            .unwrap_or(i64::MAX)
    }

    fn round_trip_ms(&self) -> i64 {
        (self.received - self.sent).num_milliseconds()
    }
}

/// The skew between the legacy and the revamp server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClockSkew {
    /// The legacy server's clock minus the revamp server's, in milliseconds.
    pub skew_ms: i64,
    /// Half the longer round trip: how far the true skew may lie from `skew_ms`.
    pub uncertainty_ms: i64,
    /// The legacy server's round trip.
    pub legacy_round_trip_ms: i64,
    /// The revamp server's round trip.
    pub revamp_round_trip_ms: i64,
    /// The window last-writer-wins policies use; a skew above it is warned about.
    pub conflict_window_ms: u64,
    /// Whether `|skew_ms|` exceeds `conflict_window_ms`.
    pub above_conflict_window: bool,
}

/// The skew from one sample of each server.
pub fn skew(legacy: Sample, revamp: Sample, conflict_window_ms: u64) -> ClockSkew {
    let skew_ms = (legacy.offset_us() - revamp.offset_us()) / 1_000;
    let (legacy_rt, revamp_rt) = (legacy.round_trip_ms(), revamp.round_trip_ms());
    ClockSkew {
        skew_ms,
        uncertainty_ms: (legacy_rt.max(revamp_rt) + 1) / 2,
        legacy_round_trip_ms: legacy_rt,
        revamp_round_trip_ms: revamp_rt,
        conflict_window_ms,
        above_conflict_window: skew_ms.unsigned_abs() > conflict_window_ms,
    }
}

/// Reads the legacy server's clock.
pub async fn postgres(conn: &mut PgConnection) -> Result<Sample, ProbeError> {
    let sent = Utc::now();
    let row = sqlx::query("SELECT clock_timestamp()")
        .fetch_one(conn)
        .await
        .map_err(ProbeError::database(Side::Legacy, "reading the clock"))?;
    let received = Utc::now();
    let server: DateTime<Utc> = row.try_get(0).map_err(ProbeError::database(
        Side::Legacy,
        "reading the clock's answer",
    ))?;
    Ok(Sample {
        sent,
        server,
        received,
    })
}

/// Reads the revamp server's clock (`SYSDATE(6)` is read when evaluated, `UTC_TIMESTAMP` at the statement's
/// start: both are the moment the server runs the query; UTC whatever the session's zone).
pub async fn mysql(conn: &mut MySqlConnection) -> Result<Sample, ProbeError> {
    let sent = Utc::now();
    let row = sqlx::query("SELECT UTC_TIMESTAMP(6)")
        .fetch_one(conn)
        .await
        .map_err(ProbeError::database(Side::Revamp, "reading the clock"))?;
    let received = Utc::now();
    let server: NaiveDateTime = row.try_get(0).map_err(ProbeError::database(
        Side::Revamp,
        "reading the clock's answer",
    ))?;
    Ok(Sample {
        sent,
        server: server.and_utc(),
        received,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn sample(sent_ms: i64, server_ms: i64, received_ms: i64) -> Sample {
        let base = DateTime::from_timestamp_millis(1_700_000_000_000).unwrap();
        Sample {
            sent: base + TimeDelta::milliseconds(sent_ms),
            server: base + TimeDelta::milliseconds(server_ms),
            received: base + TimeDelta::milliseconds(received_ms),
        }
    }

    #[test]
    fn the_round_trip_is_taken_out() {
        // Legacy answers at the middle of a 10 ms round trip on time; revamp is 1.5 s behind.
        let skew = skew(sample(0, 5, 10), sample(20, 24 - 1_500, 28), 1_000);
        assert_eq!(skew.skew_ms, 1_500);
        assert_eq!(skew.uncertainty_ms, 5);
        assert_eq!(skew.legacy_round_trip_ms, 10);
        assert!(skew.above_conflict_window);
    }

    #[test]
    fn equal_clocks_have_no_skew() {
        let skew = skew(sample(0, 1, 2), sample(2, 3, 4), 1_000);
        assert_eq!(skew.skew_ms, 0);
        assert!(!skew.above_conflict_window);
    }
}

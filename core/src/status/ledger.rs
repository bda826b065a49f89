//! What the target's ledger says about one direction, without the consumer process: the last applied event, its
//! end-to-end delay (source commit to the target's ledger row, written in the applying transaction) and the
//! applied rate over the last minute. Every time is read on the target's clock, so no skew enters the delay but
//! the one between the source's and the target's clocks (see `clock`).

use super::probe::ProbeError;
use crate::event::Side;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use sqlx::{MySqlConnection, PgConnection, Row};

/// The window of the applied rate.
pub const RATE_WINDOW_SECS: i64 = 60;

/// The latest batch's delay: its rows share one `applied_at` (one statement); the worst of them counts.
const POSTGRES: &str = "SELECT clock_timestamp() AS now, l.applied_at, l.source_committed_at, \
     (SELECT count(*) FROM dbsync_applied_events WHERE applied_at > clock_timestamp() - interval '60 seconds') \
     FROM (SELECT 1) AS one LEFT JOIN LATERAL ( \
       SELECT applied_at, min(source_committed_at) AS source_committed_at FROM dbsync_applied_events \
       WHERE applied_at = (SELECT max(applied_at) FROM dbsync_applied_events) GROUP BY applied_at \
     ) AS l ON true";

/// The revamp ledger holds UTC DATETIME(6) values (the writer's sessions run in UTC).
const MYSQL: &str = "SELECT UTC_TIMESTAMP(6) AS now, l.applied_at, l.source_committed_at, \
     (SELECT count(*) FROM dbsync_applied_events WHERE applied_at > UTC_TIMESTAMP(6) - INTERVAL 60 SECOND) \
     FROM (SELECT 1 AS one) AS one LEFT JOIN ( \
       SELECT applied_at, min(source_committed_at) AS source_committed_at FROM dbsync_applied_events \
       WHERE applied_at = (SELECT max(applied_at) FROM dbsync_applied_events) GROUP BY applied_at \
     ) AS l ON true";

/// One direction's applied events, from its target's ledger.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Applied {
    /// The database the direction writes to.
    pub target: Side,
    /// When the latest event was applied (its ledger row's `applied_at`).
    pub last_applied_at: Option<DateTime<Utc>>,
    /// How long ago that was, on the target's clock.
    pub last_applied_age_ms: Option<i64>,
    /// When the latest applied event committed on the source (the oldest of its batch).
    pub last_source_committed_at: Option<DateTime<Utc>>,
    /// End-to-end delay of the latest batch: source commit to target commit.
    pub delay_ms: Option<i64>,
    /// Events applied in the last minute.
    pub applied_last_minute: i64,
    /// The same per second.
    pub events_per_second: f64,
}

/// The legacy ledger (the revamp-to-legacy direction).
pub async fn postgres(conn: &mut PgConnection) -> Result<Applied, ProbeError> {
    let fail = ProbeError::database(Side::Legacy, "reading the ledger dbsync_applied_events");
    let row = sqlx::query(POSTGRES).fetch_one(conn).await.map_err(fail)?;
    let read = |row: &sqlx::postgres::PgRow| -> Result<_, sqlx::Error> {
        Ok((
            row.try_get::<DateTime<Utc>, _>(0)?,
            row.try_get::<Option<DateTime<Utc>>, _>(1)?,
            row.try_get::<Option<DateTime<Utc>>, _>(2)?,
            row.try_get::<i64, _>(3)?,
        ))
    };
    let (now, applied, committed, count) = read(&row).map_err(ProbeError::database(
        Side::Legacy,
        "reading the ledger's answer",
    ))?;
    Ok(figures(Side::Legacy, now, applied, committed, count))
}

/// The revamp ledger (the legacy-to-revamp direction).
pub async fn mysql(conn: &mut MySqlConnection) -> Result<Applied, ProbeError> {
    let fail = ProbeError::database(Side::Revamp, "reading the ledger dbsync_applied_events");
    let row = sqlx::query(MYSQL).fetch_one(conn).await.map_err(fail)?;
    let read = |row: &sqlx::mysql::MySqlRow| -> Result<_, sqlx::Error> {
        Ok((
            row.try_get::<NaiveDateTime, _>(0)?.and_utc(),
            row.try_get::<Option<NaiveDateTime>, _>(1)?
                .map(|t| t.and_utc()),
            row.try_get::<Option<NaiveDateTime>, _>(2)?
                .map(|t| t.and_utc()),
            row.try_get::<i64, _>(3)?,
        ))
    };
    let (now, applied, committed, count) = read(&row).map_err(ProbeError::database(
        Side::Revamp,
        "reading the ledger's answer",
    ))?;
    Ok(figures(Side::Revamp, now, applied, committed, count))
}

/// The figures from the ledger's raw answer.
pub fn figures(
    target: Side,
    now: DateTime<Utc>,
    applied: Option<DateTime<Utc>>,
    committed: Option<DateTime<Utc>>,
    applied_last_minute: i64,
) -> Applied {
    let delay_ms = match (applied, committed) {
        (Some(applied), Some(committed)) => Some((applied - committed).num_milliseconds().max(0)),
        _ => None,
    };
    Applied {
        target,
        last_applied_at: applied,
        last_applied_age_ms: applied.map(|a| (now - a).num_milliseconds().max(0)),
        last_source_committed_at: committed,
        delay_ms,
        applied_last_minute,
        events_per_second: applied_last_minute as f64 / RATE_WINDOW_SECS as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    #[test]
    fn delay_is_source_commit_to_target_commit() {
        let now = Utc::now();
        let applied = now - TimeDelta::milliseconds(2_000);
        let committed = applied - TimeDelta::milliseconds(350);
        let figures = figures(Side::Revamp, now, Some(applied), Some(committed), 120);
        assert_eq!(figures.delay_ms, Some(350));
        assert_eq!(figures.last_applied_age_ms, Some(2_000));
        assert_eq!(figures.events_per_second, 2.0);
    }

    #[test]
    fn an_empty_ledger_has_no_delay() {
        let figures = figures(Side::Legacy, Utc::now(), None, None, 0);
        assert_eq!(figures.delay_ms, None);
        assert_eq!(figures.last_applied_age_ms, None);
        assert_eq!(figures.events_per_second, 0.0);
    }

    #[test]
    fn rows_written_before_the_source_time_was_recorded_have_no_delay() {
        let figures = figures(Side::Legacy, Utc::now(), Some(Utc::now()), None, 1);
        assert_eq!(figures.delay_ms, None);
    }
}

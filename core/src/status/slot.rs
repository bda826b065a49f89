//! PostgreSQL replication slot lag: how much WAL the server keeps for the legacy connector,
//! `pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)` of its slot. It grows while Debezium is stopped
//! or behind; the connector's heartbeat keeps it small on a quiet database.

use super::probe::ProbeError;
use crate::event::Side;
use serde::Serialize;
use sqlx::{PgConnection, Row};

const QUERY: &str = "SELECT active, \
     pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint AS lag_bytes \
     FROM pg_replication_slots WHERE slot_name = $1";

/// The replication slot's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Slot {
    /// The slot's name.
    pub slot: String,
    /// Whether the slot exists (the connector creates it on its first start).
    pub exists: bool,
    /// Whether a connector is reading it now.
    pub active: Option<bool>,
    /// WAL bytes the server keeps for it (null before the connector confirmed anything).
    pub lag_bytes: Option<i64>,
}

/// Reads the slot `name`.
pub async fn read(conn: &mut PgConnection, name: &str) -> Result<Slot, ProbeError> {
    let row = sqlx::query(QUERY)
        .bind(name)
        .fetch_optional(conn)
        .await
        .map_err(ProbeError::database(
            Side::Legacy,
            "reading pg_replication_slots",
        ))?;
    let Some(row) = row else {
        return Ok(Slot {
            slot: name.to_string(),
            exists: false,
            active: None,
            lag_bytes: None,
        });
    };
    let fail = ProbeError::database(Side::Legacy, "reading the slot's row");
    let active: bool = row.try_get(0).map_err(fail)?;
    let fail = ProbeError::database(Side::Legacy, "reading the slot's lag");
    let lag_bytes: Option<i64> = row.try_get(1).map_err(fail)?;
    Ok(Slot {
        slot: name.to_string(),
        exists: true,
        active: Some(active),
        lag_bytes,
    })
}

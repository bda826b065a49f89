//! One short-lived connection per database for the status: the ledger, the replication slot and the clock are read
//! through it. TLS and other options come from the DSN, as for the consumers.

use super::probe::{within, ProbeError};
use crate::event::Side;
use sqlx::{Connection as _, MySqlConnection, PgConnection};
use std::time::Duration;

/// Connects to the legacy (PostgreSQL) database within `limit`.
pub async fn postgres(dsn: &str, limit: Duration) -> Result<PgConnection, ProbeError> {
    within("connecting to the legacy database", limit, async {
        PgConnection::connect(dsn)
            .await
            .map_err(ProbeError::database(Side::Legacy, "connecting"))
    })
    .await
}

/// Connects to the revamp (MySQL/MariaDB) database within `limit`.
pub async fn mysql(dsn: &str, limit: Duration) -> Result<MySqlConnection, ProbeError> {
    within("connecting to the revamp database", limit, async {
        MySqlConnection::connect(dsn)
            .await
            .map_err(ProbeError::database(Side::Revamp, "connecting"))
    })
    .await
}

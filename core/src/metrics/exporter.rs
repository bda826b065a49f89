//! The Prometheus endpoint: installs `metrics-exporter-prometheus` as the process-wide `metrics` recorder and serves
//! `GET /metrics` from its HTTP listener on a thread of its own (with a one-thread tokio runtime), so a scrape is
//! answered whether or not a consumer is inside `run` (during an outage, between two `run` calls).
//!
//! One recorder per process: the first [`serve`] binds; a later call with the same address is a no-op, and one with
//! another address keeps the first endpoint (logged at `warn`), since every consumer of the process records into
//! the same registry anyway.

use super::pipeline::{describe, BUCKETS};
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder};
use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};
use thiserror::Error;
use tracing::{error, info, warn};

/// The address being served, once [`serve`] succeeded.
static SERVING: Mutex<Option<SocketAddr>> = Mutex::new(None);

/// The metrics endpoint could not start.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// The exporter could not be built or its address bound (taken, not local).
    #[error("metrics endpoint on {addr} could not start (is the port taken? set another metrics_addr): {source}")]
    Exporter {
        /// The address asked for.
        addr: SocketAddr,
        /// The exporter's error.
        #[source]
        source: BuildError,
    },
    /// The listener's thread or runtime could not start.
    #[error("metrics endpoint on {addr}: could not start its thread: {source}")]
    Thread {
        /// The address asked for.
        addr: SocketAddr,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
    /// Another `metrics` recorder is installed in this process already (a host's own).
    #[error("metrics endpoint on {addr}: another metrics recorder is installed in this process")]
    RecorderTaken {
        /// The address asked for.
        addr: SocketAddr,
    },
}

/// Serves `/metrics` on `addr` (idempotent per process, see the module doc).
pub fn serve(addr: SocketAddr) -> Result<(), MetricsError> {
    let mut serving = SERVING.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(current) = *serving {
        if current != addr {
            warn!(%current, requested = %addr, "metrics already served on another address; keeping it");
        }
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| MetricsError::Thread { addr, source })?;
    let exporter_error = |source| MetricsError::Exporter { addr, source };
    let mut builder = PrometheusBuilder::new().with_http_listener(addr);
    for (name, buckets) in BUCKETS {
        builder = builder
            .set_buckets_for_metric(Matcher::Full(name.to_string()), buckets)
            .map_err(exporter_error)?;
    }
    // The exporter binds here and spawns its upkeep task on this runtime; both run once the thread drives it.
    let (recorder, exporter) = {
        let _context = runtime.enter();
        builder.build().map_err(exporter_error)?
    };
    metrics::set_global_recorder(recorder).map_err(|_| MetricsError::RecorderTaken { addr })?;
    std::thread::Builder::new()
        .name("dbsync-metrics".into())
        .spawn(move || {
            if let Err(error) = runtime.block_on(exporter) {
                error!(?error, "metrics endpoint stopped");
            }
        })
        .map_err(|source| MetricsError::Thread { addr, source })?;
    describe();
    *serving = Some(addr);
    info!(%addr, "serving Prometheus metrics on /metrics");
    Ok(())
}

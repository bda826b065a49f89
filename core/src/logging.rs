//! Structured logs for hosts that have no `tracing` subscriber of their own (the PHP extension): one line per
//! event on stderr, filtered by `DBSYNC_LOG` (the `RUST_LOG` syntax; default `info`). Idempotent.

use tracing_subscriber::EnvFilter;

/// The variable that sets the log filter, e.g. `DBSYNC_LOG=dbsync_core=debug`.
pub const LOG_ENV: &str = "DBSYNC_LOG";

/// Installs the stderr subscriber once; later calls (or a host's own subscriber) leave it be.
pub fn init_from_env() {
    let filter = EnvFilter::try_from_env(LOG_ENV).unwrap_or_else(|_| EnvFilter::new("info"));
    let _already_set = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

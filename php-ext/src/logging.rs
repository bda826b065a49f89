//! The extension's `tracing` subscriber (the core library installs none): one line per event on stderr, filtered
//! by `DBSYNC_LOG` (the `RUST_LOG` syntax; default `info`), as text or, with `DBSYNC_LOG_FORMAT=json`, one JSON
//! object per line (`timestamp`, `level`, `target`, the event's fields flattened, the current span). Idempotent:
//! the first call installs it, later calls leave it be.

use tracing_subscriber::EnvFilter;

/// The variable that sets the log filter, e.g. `DBSYNC_LOG=dbsync_core=debug`.
pub const LOG_ENV: &str = "DBSYNC_LOG";
/// The variable that picks the format: `text` (default) or `json`.
pub const FORMAT_ENV: &str = "DBSYNC_LOG_FORMAT";

/// Installs the stderr subscriber once; later calls (or a host's own subscriber) leave it be.
pub fn init_from_env() {
    let filter = EnvFilter::try_from_env(LOG_ENV).unwrap_or_else(|_| EnvFilter::new("info"));
    let format = std::env::var(FORMAT_ENV).unwrap_or_default();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    let installed = match format.trim() {
        "json" => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
            .is_ok(),
        _ => builder.try_init().is_ok(),
    };
    if installed && !matches!(format.trim(), "" | "text" | "json") {
        tracing::warn!(value = %format, "unknown {FORMAT_ENV}; writing text (use `text` or `json`)");
    }
}

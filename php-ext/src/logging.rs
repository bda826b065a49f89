//! The extension's `tracing` subscriber (the core library installs none): one line per event on stderr, filtered
//! by `DBSYNC_LOG` (the `RUST_LOG` syntax; default `info`), as text or, with `DBSYNC_LOG_FORMAT=json`, one JSON
//! object per line (`timestamp`, `level`, `target`, the event's fields flattened, the current span). With a log
//! directory (`DBSYNC_LOG_DIR`, or `DbSync\logToDirectory()` from the Laravel bridge's `log_directory`), the same
//! lines also go to a daily file there, `dbsync.YYYY-MM-DD.log` (like Laravel's `daily` channel); the last
//! [`KEPT_FILES`] days are kept. Idempotent: the first installation wins, later calls leave it be.

use std::path::Path;
use tracing::Subscriber;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// The variable that sets the log filter, e.g. `DBSYNC_LOG=dbsync_core=debug`.
pub const LOG_ENV: &str = "DBSYNC_LOG";
/// The variable that picks the format: `text` (default) or `json`.
pub const FORMAT_ENV: &str = "DBSYNC_LOG_FORMAT";
/// The variable that names a directory for the daily log file (e.g. the Laravel app's `storage/logs`).
pub const DIR_ENV: &str = "DBSYNC_LOG_DIR";
/// How many daily files are kept (Laravel's `daily` channel keeps 14 too).
pub const KEPT_FILES: usize = 14;

/// A log directory that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("cannot write logs to {directory}: {source}")]
pub struct LogDirError {
    directory: String,
    source: LogDirSource,
}

/// Why the log directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LogDirSource {
    #[error("cannot create it: {0}")]
    Create(std::io::Error),
    #[error("{0}")]
    Open(tracing_appender::rolling::InitError),
}

/// Installs the subscriber from the environment once (stderr, plus the daily file when `DBSYNC_LOG_DIR` is set).
/// An unusable `DBSYNC_LOG_DIR` is reported on stderr and logging goes on there only: a log file is no reason to
/// stop syncing.
pub fn init_from_env() {
    let directory = std::env::var(DIR_ENV).ok().filter(|d| !d.trim().is_empty());
    if let Err(e) = install(directory.as_deref().map(Path::new)) {
        let _ = install(None);
        tracing::error!(setting = DIR_ENV, "{e}; logging to stderr only");
    }
}

/// Installs the subscriber with a daily file in `directory` (created if missing) besides stderr. Returns whether
/// this call installed it (`false`: one was installed before, and is kept).
pub fn install_with_directory(directory: &Path) -> Result<bool, LogDirError> {
    install(Some(directory))
}

fn install(directory: Option<&Path>) -> Result<bool, LogDirError> {
    let json = std::env::var(FORMAT_ENV).unwrap_or_default();
    let json = json.trim();
    let file = directory
        .map(|dir| {
            let unusable = |source| LogDirError {
                directory: dir.display().to_string(),
                source,
            };
            // The appender prunes old files before it creates the directory; create it first.
            std::fs::create_dir_all(dir).map_err(|e| unusable(LogDirSource::Create(e)))?;
            RollingFileAppender::builder()
                .rotation(Rotation::DAILY)
                .filename_prefix("dbsync")
                .filename_suffix("log")
                .max_log_files(KEPT_FILES)
                .build(dir)
                .map_err(|e| unusable(LogDirSource::Open(e)))
        })
        .transpose()?;
    let filter = EnvFilter::try_from_env(LOG_ENV).unwrap_or_else(|_| EnvFilter::new("info"));
    let as_json = json == "json";
    let installed = Registry::default()
        .with(filter)
        .with(lines(std::io::stderr, as_json))
        .with(file.map(|file| lines(file, as_json)))
        .try_init()
        .is_ok();
    if installed && !matches!(json, "" | "text" | "json") {
        tracing::warn!(value = %json, "unknown {FORMAT_ENV}; writing text (use `text` or `json`)");
    }
    Ok(installed)
}

/// One line per event to `writer`, as text or JSON, without colours.
fn lines<S, W>(writer: W, json: bool) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(false);
    if json {
        layer
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .boxed()
    } else {
        layer.boxed()
    }
}

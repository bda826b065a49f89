//! The consumer's lifecycle through the C ABI: `dbsync_consumer_new` validates the config and connects,
//! `dbsync_consumer_run` consumes until a limit, `dbsync_consumer_stop` asks a running `run` to return (from any
//! thread, or a signal handler: it only sets an atomic flag), `dbsync_consumer_free` releases it. The work is
//! [`Consumer`]'s; these functions convert arguments and errors.

use super::boundary::{clear, guard, put, read_str};
use super::status::{DbsyncStatus, Failure};
use crate::config::SyncConfig;
use crate::consume::{Consumer, RunOptions};
use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

/// How long `stop_when_empty` waits without a message before `run` returns: the same 2 s as artisan's
/// `--stop-when-empty` (`ConsumeCommand::EMPTY_IDLE_SECONDS`).
const EMPTY_IDLE: Duration = Duration::from_secs(2);

/// A consumer for one direction: one topic in, one database out. Opaque to C.
pub struct DbsyncConsumer {
    inner: Consumer,
}

// `run` on one thread and `stop` on another share the consumer, so it must be `Sync` (and `Send` to be freed
// anywhere); this fails to compile if a change to `Consumer` breaks that.
const _: fn() = || {
    fn shareable<T: Send + Sync>() {}
    shareable::<DbsyncConsumer>();
};

/// Validates `config_json` (an object with the keys of dbsync-core's `SyncConfig`: `brokers`, `group_id`, `topic`,
/// `direction` (`legacy_to_revamp` or `revamp_to_legacy`), `target_dsn`, `mapping_path`, and optional tuning),
/// loads the mapping, connects to the target database and to Kafka, and subscribes.
///
/// On success `*out` is the consumer (free it with `dbsync_consumer_free`). On failure `*out` is NULL and `*err`
/// the message: `DBSYNC_STATUS_CONFIG` (the message names the field), `MAPPING`, `SYNC` (a database or the broker
/// unreachable, the topic missing), `INVALID_ARGUMENT` or `PANIC`.
///
/// # Safety
/// `config_json` is NULL or NUL-terminated; `out` and `err` are NULL or valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn dbsync_consumer_new(
    config_json: *const c_char,
    out: *mut *mut DbsyncConsumer,
    err: *mut *mut c_char,
) -> DbsyncStatus {
    if !out.is_null() {
        // SAFETY: checked non-NULL; writable by the caller's contract.
        unsafe { *out = std::ptr::null_mut() };
    }
    // SAFETY: the caller's contract on every pointer, passed on.
    unsafe {
        guard(err, || {
            let text = read_str(config_json, "config_json")?;
            if out.is_null() {
                return Err(Failure::argument("out", "is NULL"));
            }
            let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
                Failure::new(
                    DbsyncStatus::Config,
                    format!("config is not a JSON object: {e}"),
                )
            })?;
            let config = SyncConfig::from_json(value)
                .map_err(|e| Failure::new(DbsyncStatus::Config, e.to_string()))?;
            let inner = Consumer::new(config)?;
            *out = Box::into_raw(Box::new(DbsyncConsumer { inner }));
            Ok(())
        })
    }
}

/// Consumes until `max_events` messages were processed and committed (0: no limit), `max_time_ms` passed (0: no
/// limit), no message arrived for 2 s while nothing is pending (`stop_when_empty`), or `dbsync_consumer_stop`.
/// The batch in flight is always finished and committed before it returns.
///
/// On success `*stats_json` holds the counters: `{"consumed", "applied", "skipped_echo", "duplicates", "retried",
/// "dead_lettered", "conflicts_lost", "per_entity": {...}}` (free it with `dbsync_string_free`). On failure
/// `*err`: `DBSYNC_STATUS_SYNC` (e.g. fenced by another process with the same `instance_id`, or already running on
/// another thread), `INVALID_ARGUMENT` or `PANIC`.
///
/// # Safety
/// `c` is NULL or a live consumer from `dbsync_consumer_new`; `stats_json` and `err` are NULL or valid for writing
/// one pointer.
#[no_mangle]
#[allow(clippy::needless_update)] // `..RunOptions::default()` keeps compiling when the core adds a limit
pub unsafe extern "C" fn dbsync_consumer_run(
    c: *const DbsyncConsumer,
    max_events: u64,
    max_time_ms: u64,
    stop_when_empty: bool,
    stats_json: *mut *mut c_char,
    err: *mut *mut c_char,
) -> DbsyncStatus {
    // SAFETY: the caller's contract on every pointer, passed on.
    unsafe {
        clear(stats_json);
        guard(err, || {
            // SAFETY: NULL or live, by the caller's contract.
            let consumer = c
                .as_ref()
                .ok_or_else(|| Failure::argument("c", "is NULL"))?;
            let options = RunOptions {
                max_events: (max_events > 0).then_some(max_events),
                timeout: (max_time_ms > 0).then(|| Duration::from_millis(max_time_ms)),
                stop_when_idle: stop_when_empty.then_some(EMPTY_IDLE),
                // The core may add limits; C leaves them at their defaults until it exposes them.
                ..RunOptions::default()
            };
            let counters = consumer.inner.run(options, &mut || {})?;
            let json = serde_json::to_string(&counters).map_err(|e| {
                Failure::new(DbsyncStatus::Sync, format!("cannot report counters: {e}"))
            })?;
            put(stats_json, "stats_json", json)
        })
    }
}

/// Asks a running `dbsync_consumer_run` to finish its batch, commit and return (within about a second). Safe to
/// call from another thread or from a signal handler: it sets an atomic flag and allocates nothing. NULL is
/// ignored; a consumer that is not running ignores it too.
///
/// # Safety
/// `c` is NULL or a live consumer from `dbsync_consumer_new` (not yet freed).
#[no_mangle]
pub unsafe extern "C" fn dbsync_consumer_stop(c: *const DbsyncConsumer) {
    // SAFETY: NULL or live, by the caller's contract.
    if let Some(consumer) = unsafe { c.as_ref() } {
        // Setting an atomic cannot panic; the guard is there so a future change cannot unwind into C.
        let _ = catch_unwind(AssertUnwindSafe(|| consumer.inner.stop()));
    }
}

/// Releases a consumer: closes its Kafka clients (leaving the group) and database connections. NULL is ignored.
/// No `dbsync_consumer_run` or `dbsync_consumer_stop` may be in progress or follow.
///
/// # Safety
/// `c` is NULL or a consumer from `dbsync_consumer_new` that has not been freed yet.
#[no_mangle]
pub unsafe extern "C" fn dbsync_consumer_free(c: *mut DbsyncConsumer) {
    if c.is_null() {
        return;
    }
    // SAFETY: from `Box::into_raw` in `dbsync_consumer_new`, freed once by the caller's contract.
    let consumer = unsafe { Box::from_raw(c) };
    if catch_unwind(AssertUnwindSafe(move || drop(consumer))).is_err() {
        tracing::error!("a panic was caught while freeing a consumer");
    }
}

//! The PHP extension `dbsync`: thin glue that exposes dbsync-core to PHP. No sync logic lives here.
//!
//! # What PHP sees
//! - `DbSync\Consumer` ([`consumer`]): `new Consumer(array $config)`, `run(?int $maxEvents, ?float
//!   $timeoutSeconds, ?float $idleSeconds): array` (the counters; named arguments work), `stop(): void`.
//! - `dbsync.stub.php` (next to this crate's `Cargo.toml`) declares all of it for IDEs and PHPStan; `stubs.sh`
//!   regenerates it with `cargo php stubs` and `stubs.sh --check` fails when it is stale.
//! - `DbSync\replayDeadLetters(array $options): array` ([`replay`](mod@replay)): sends dead letters back to their
//!   topics; returns the summary (`read`, `replayed`, `skipped`, `reasons`, `dry_run`).
//! - `DbSync\status(array $options): array` ([`status`](mod@status)): the sync's status as `dbsync:status` shows
//!   it (lag, ledgers, dead letters, connectors, slot, clock skew, verdict and exit code).
//! - `DbSync\verify(array $options, ?callable $progress): array` and `DbSync\repair(...)` ([`verify`](mod@verify)):
//!   compare both databases through the mapping and report confirmed drift; repair it through the sync's writer.
//! - `DbSync\logToDirectory(string $directory): bool` ([`logging`]): also log to a daily file there.
//! - `DbSync\version(): string`: the dbsync-core version.
//! - `DbSync\Testing\panic(string $message)`: debug builds only; panics, to test the panic boundary.
//! - `DbSync\Exception\SyncException` and its subclass `DbSync\Exception\ConfigException` ([`exception`]).
//!
//! # Layout
//! - [`consumer`]: the class; each method converts arguments, calls the core and maps errors.
//! - [`convert`]: PHP values to and from `serde_json::Value`, the core's config and counters format.
//! - [`replay`](mod@replay): the dead-letter replay function's conversions.
//! - [`signals`]: the tick that lets PHP's `pcntl` signal handlers run while the core blocks in `run`.
//! - [`info`]: the `php --ri dbsync` table (version, build, librdkafka features).
//! - [`exception`]: the exception classes, the core-error mapping and [`exception::guard`], the panic boundary every
//!   function and method runs its body in.
//! - [`logging`]: the `tracing` subscriber (text or JSON lines on stderr, and a daily file) installed on first use.

#![cfg_attr(windows, feature(abi_vectorcall))]

mod consumer;
mod convert;
mod exception;
mod info;
mod logging;
mod replay;
mod signals;
mod status;
mod supervise;
mod verify;

use ext_php_rs::{prelude::*, types::ZendCallable, types::ZendHashTable, types::Zval};

/// `DbSync\version()`: the dbsync-core version the extension was built with.
#[php_function]
#[php(name = "DbSync\\version")]
pub fn version() -> PhpResult<&'static str> {
    exception::guard(|| Ok(dbsync_core::VERSION))
}

/// `DbSync\replayDeadLetters(array $options)`: replays the dead letters `$options` select (the keys of
/// dbsync-core's `ReplayOptions`: `brokers`, `dlq_topic`, `group_id`, `reasons`, `dry_run`, `max_messages`).
///
/// @throws \DbSync\Exception\ConfigException when an option is missing or invalid (the message names it)
/// @throws \DbSync\Exception\SyncException when Kafka fails or a topic is missing
#[php_function]
#[php(name = "DbSync\\replayDeadLetters")]
pub fn replay_dead_letters(options: &ZendHashTable) -> PhpResult<Zval> {
    exception::guard(|| replay::replay(options))
}

/// `DbSync\status(array $options): array`: the sync's status as `dbsync:status` shows it (the keys of dbsync-core's
/// `StatusOptions`: `brokers`, `legacy_dsn`, `revamp_dsn`, `connect_url`, `max_lag`, `dlq_since`, ...). Returns
/// `health`, `exit_code`, `problems`, `warnings`, `directions`, `dead_letters`, `connectors`, `replication_slot` and
/// `clock_skew`; an unreachable service is part of the report (`exit_code` 2), not an exception.
///
/// @throws \DbSync\Exception\ConfigException when an option is missing or invalid (the message names it)
#[php_function]
#[php(name = "DbSync\\status")]
pub fn status(options: &ZendHashTable) -> PhpResult<Zval> {
    exception::guard(|| status::status(options))
}

/// `DbSync\verify(array $options, ?callable $progress = null): array`: compares both databases through the mapping
/// (the keys of dbsync-core's `VerifyOptions`: `legacy_dsn`, `revamp_dsn`, `mapping_path`, `entities`, `chunk_size`,
/// `since`, `min_key`, `max_key`, `brokers`, ...) and returns the report: `in_sync`, `exit_code` (0 in sync, 1 drift),
/// `rows`, `rows_per_second`, `entities`, `confirmation`, `differences`, `unsettled`. `$progress` receives an array
/// (`phase`, `entity`, `rows`, `total`, `rows_per_second`, `eta_seconds`, `suspects`) a few times a second.
///
/// @throws \DbSync\Exception\ConfigException when an option is missing or invalid (the message names it)
/// @throws \DbSync\Exception\SyncException when a database or Kafka cannot be read
#[php_function]
#[php(name = "DbSync\\verify")]
pub fn verify_databases(
    options: &ZendHashTable,
    progress: Option<ZendCallable>,
) -> PhpResult<Zval> {
    exception::guard(|| verify::verify(options, progress))
}

/// `DbSync\repair(array $options, ?callable $progress = null): array`: verifies as `DbSync\verify()` does, then writes
/// the version the conflict rules choose for each confirmed difference, as the sync service (`dry_run`: only plans).
/// Returns `dry_run`, `verify` (the verify report), `actions` (entity, key, action, side, version, outcome),
/// `applied`, `not_applied` and `exit_code`.
///
/// @throws \DbSync\Exception\ConfigException when an option is missing or invalid (the message names it)
/// @throws \DbSync\Exception\SyncException when a database or Kafka cannot be read or written
#[php_function]
#[php(name = "DbSync\\repair")]
pub fn repair_databases(
    options: &ZendHashTable,
    progress: Option<ZendCallable>,
) -> PhpResult<Zval> {
    exception::guard(|| verify::repair(options, progress))
}

/// `DbSync\logToDirectory(string $directory): bool`: logs to a daily file `dbsync.YYYY-MM-DD.log` in `$directory`
/// (created if missing) besides stderr. Call it before the first `Consumer`; returns `false` when logging was already
/// set up (the earlier set-up is kept).
///
/// @throws \DbSync\Exception\ConfigException when the directory cannot be created or written
#[php_function]
#[php(name = "DbSync\\logToDirectory")]
pub fn log_to_directory(directory: String) -> PhpResult<bool> {
    exception::guard(|| {
        logging::install_with_directory(std::path::Path::new(&directory)).map_err(|e| {
            exception::unsupported_config_value("log_directory", &format!("is unusable: {e}"))
        })
    })
}

/// `DbSync\Testing\panic(string $message)`, in debug builds only (the ones `testing/scripts/test-php.sh` loads):
/// panics with `$message`, so a test can check that the panic boundary turns it into a `SyncException`.
#[cfg(debug_assertions)]
#[php_function]
#[php(name = "DbSync\\Testing\\panic")]
pub fn test_panic(message: String) -> PhpResult<()> {
    exception::guard(|| panic!("{message}"))
}

/// The single registration point: every class and function PHP can see. The module is named `dbsync` (not the
/// crate's `dbsync-php`) so that `extension_loaded('dbsync')` and `php -m` match the extension's file name.
#[php_module]
pub fn get_module(module: ModuleBuilder) -> ModuleBuilder {
    let module = module
        .name("dbsync")
        .version(dbsync_core::VERSION)
        .info_function(info::module_info)
        .class::<exception::SyncException>()
        .class::<exception::ConfigException>()
        .class::<consumer::PhpConsumer>()
        .class::<supervise::PhpSupervisor>()
        .function(wrap_function!(replay_dead_letters))
        .function(wrap_function!(status))
        .function(wrap_function!(verify_databases))
        .function(wrap_function!(repair_databases))
        .function(wrap_function!(log_to_directory))
        .function(wrap_function!(version));
    #[cfg(debug_assertions)]
    let module = module.function(wrap_function!(test_panic));
    module
}

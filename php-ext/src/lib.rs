//! The PHP extension `dbsync`: thin glue that exposes dbsync-core to PHP. No sync logic lives here.
//!
//! # What PHP sees
//! - `DbSync\Consumer` ([`consumer`]): `new Consumer(array $config)`, `run(?int $maxEvents, ?float
//!   $timeoutSeconds, ?float $idleSeconds): array` (the counters), `stop(): void`.
//! - `DbSync\replayDeadLetters(array $options): array` ([`replay`](mod@replay)): sends dead letters back to their
//!   topics; returns the summary (`read`, `replayed`, `skipped`, `reasons`, `dry_run`).
//! - `DbSync\version(): string`: the dbsync-core version.
//! - `DbSync\Testing\panic(string $message)`: debug builds only; panics, to test the panic boundary.
//! - `DbSync\Exception\SyncException` and its subclass `DbSync\Exception\ConfigException` ([`exception`]).
//!
//! # Layout
//! - [`consumer`]: the class; each method converts arguments, calls the core and maps errors.
//! - [`convert`]: PHP values to and from `serde_json::Value`, the core's config and counters format.
//! - [`replay`](mod@replay): the dead-letter replay function's conversions.
//! - [`signals`]: the tick that lets PHP's `pcntl` signal handlers run while the core blocks in `run`.
//! - [`exception`]: the exception classes, the core-error mapping and [`exception::guard`], the panic boundary every
//!   function and method runs its body in.

#![cfg_attr(windows, feature(abi_vectorcall))]

mod consumer;
mod convert;
mod exception;
mod replay;
mod signals;
mod supervise;

use ext_php_rs::{prelude::*, types::ZendHashTable, types::Zval};

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
        .class::<exception::SyncException>()
        .class::<exception::ConfigException>()
        .class::<consumer::PhpConsumer>()
        .class::<supervise::PhpSupervisor>()
        .function(wrap_function!(replay_dead_letters))
        .function(wrap_function!(version));
    #[cfg(debug_assertions)]
    let module = module.function(wrap_function!(test_panic));
    module
}

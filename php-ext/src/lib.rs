//! The PHP extension `dbsync`: thin glue that exposes dbsync-core to PHP. No sync logic lives here.
//!
//! # What PHP sees
//! - `DbSync\Consumer` ([`consumer`]): `new Consumer(array $config)`, `run(?int $maxEvents, ?float
//!   $timeoutSeconds, ?float $idleSeconds): array` (the counters), `stop(): void`.
//! - `DbSync\version(): string`: the dbsync-core version.
//! - `DbSync\Exception\SyncException` and its subclass `DbSync\Exception\ConfigException` ([`exception`]).
//!
//! # Layout
//! - [`consumer`]: the class; each method converts arguments, calls the core and maps errors.
//! - [`convert`]: PHP values to and from `serde_json::Value`, the core's config and counters format.
//! - [`signals`]: the tick that lets PHP's `pcntl` signal handlers run while the core blocks in `run`.
//! - [`exception`]: the exception classes and the core-error mapping.

#![cfg_attr(windows, feature(abi_vectorcall))]

mod consumer;
mod convert;
mod exception;
mod signals;

use ext_php_rs::prelude::*;

/// `DbSync\version()`: the dbsync-core version the extension was built with.
#[php_function]
#[php(name = "DbSync\\version")]
pub fn version() -> &'static str {
    dbsync_core::VERSION
}

/// The single registration point: every class and function PHP can see. The module is named `dbsync` (not the
/// crate's `dbsync-php`) so that `extension_loaded('dbsync')` and `php -m` match the extension's file name.
#[php_module]
pub fn get_module(module: ModuleBuilder) -> ModuleBuilder {
    module
        .name("dbsync")
        .class::<exception::SyncException>()
        .class::<exception::ConfigException>()
        .class::<consumer::PhpConsumer>()
        .function(wrap_function!(version))
}

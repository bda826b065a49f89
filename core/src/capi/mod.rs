//! The C ABI (cargo feature `capi`): a second front door onto the same engine, for any runtime with a C FFI. The
//! PHP extension does not go through it; it uses the Rust API.
//!
//! `core/include/dbsync.h` is generated from these modules by cbindgen (`make header`; `core/cbindgen.toml`), never
//! edited by hand. cbindgen reads this folder alone, with this file as its root (hence `mod.rs`, unlike the rest of
//! the crate), so the crate's other public items never reach the header. Build the libraries with
//! `cargo rustc -p dbsync-core --release --lib --features capi --crate-type cdylib --crate-type staticlib`
//! (README, "Use from C").
//!
//! # Contract
//! - Every function returns a [`DbsyncStatus`] (or a value that cannot fail) and writes an owned, UTF-8 message
//!   to `*err` on failure; no Rust panic crosses the boundary ([`boundary::guard`]).
//! - Strings handed out are owned by the library until the caller passes them to [`dbsync_string_free`]; output
//!   pointers are set to NULL first, so freeing them is always safe.
//! - A [`DbsyncConsumer`] may be stopped from any thread or a signal handler while another thread runs it.
//!
//! # Layout
//! - [`status`]: the return codes and how core errors map onto them.
//! - [`boundary`]: the panic guard, reading C strings and handing strings out, version and string freeing.
//! - [`transform`](mod@transform): `dbsync_transform`, the pure decode, echo filter and transform of one message.
//! - [`row_json`]: a row operation as the JSON `dbsync_transform` returns.
//! - [`consumer`]: the consumer's lifecycle: new, run, stop, free.

pub mod boundary;
pub mod consumer;
pub mod row_json;
pub mod status;
pub mod transform;

pub use boundary::{dbsync_string_free, dbsync_version};
pub use consumer::{
    dbsync_consumer_free, dbsync_consumer_new, dbsync_consumer_run, dbsync_consumer_stop,
    DbsyncConsumer,
};
pub use status::DbsyncStatus;
pub use transform::{dbsync_transform, DbsyncDirection};

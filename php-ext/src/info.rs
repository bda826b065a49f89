//! What `php --ri dbsync` (and `phpinfo()`) shows: the version, the build profile and what the bundled librdkafka
//! was built with (`ssl`, `sasl_scram`, ...), so an operator can tell whether a build can reach a managed Kafka.

use ext_php_rs::zend::ModuleEntry;
use ext_php_rs::{info_table_end, info_table_row, info_table_start};
use std::panic::catch_unwind;

/// The rows of the table, also what the tests compare `php --ri dbsync` against.
pub fn rows() -> Vec<(&'static str, String)> {
    let (_, librdkafka) = rdkafka::util::get_rdkafka_version();
    // librdkafka reports its compiled-in features as the default of `builtin.features`.
    let features = rdkafka::ClientConfig::new()
        .create_native_config()
        .and_then(|config| config.get("builtin.features"))
        .unwrap_or_else(|e| format!("unknown ({e})"));
    vec![
        ("dbsync support", "enabled".to_string()),
        ("Version", dbsync_core::VERSION.to_string()),
        ("Build", build_profile().to_string()),
        ("librdkafka", librdkafka),
        ("librdkafka features", features),
    ]
}

fn build_profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    }
}

/// The module's info function. A panic must not unwind into PHP (README, "No panic crosses an FFI boundary"): the
/// table is then left short.
pub extern "C" fn module_info(_module: *mut ModuleEntry) {
    let _ = catch_unwind(|| {
        info_table_start!();
        for (name, value) in rows() {
            // NUL bytes cannot reach the C strings the table is printed from.
            info_table_row!(name, value.replace('\0', ""));
        }
        info_table_end!();
    });
}

//! `DbSync\status()`: converts the options array, asks dbsync-core for the sync's status and returns it as an array.
//! Every figure and the verdict are the core's (`dbsync_core::status`); the artisan command only prints them.

use crate::{convert, exception};
use dbsync_core::status::StatusOptions;
use ext_php_rs::{exception::PhpResult, types::ZendHashTable, types::Zval};

/// Validates `$options` (the keys of the core's `StatusOptions`), reads every source and returns the report.
pub fn status(options: &ZendHashTable) -> PhpResult<Zval> {
    crate::logging::init_from_env();
    let json = convert::array_to_json(options)
        .map_err(|e| exception::unsupported_config_value(&e.key, &e.reason))?;
    let options = StatusOptions::from_json(json).map_err(|e| exception::config(&e))?;
    let report = dbsync_core::status::status(options).map_err(|e| exception::sync(&e))?;
    let report = serde_json::to_value(&report)
        .map_err(|e| exception::sync_message(format!("cannot report the status: {e}")))?;
    Ok(convert::json_to_zval(&report))
}

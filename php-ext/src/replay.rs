//! `DbSync\replayDeadLetters()`: converts the options array, calls dbsync-core's dead-letter replay and returns its
//! summary. The replay logic is the core's (`dbsync_core::replay`).

use crate::{convert, exception};
use dbsync_core::ReplayOptions;
use ext_php_rs::{exception::PhpResult, types::ZendHashTable, types::Zval};

/// Validates `$options` (the keys of the core's `ReplayOptions`), replays, and returns the summary (`read`,
/// `replayed`, `skipped`, `reasons`, `dry_run`).
pub fn replay(options: &ZendHashTable) -> PhpResult<Zval> {
    crate::logging::init_from_env();
    let json = convert::array_to_json(options)
        .map_err(|e| exception::unsupported_config_value(&e.key, &e.reason))?;
    let options = ReplayOptions::from_json(json).map_err(|e| exception::config(&e))?;
    let summary = dbsync_core::replay_dead_letters(options).map_err(|e| exception::sync(&e))?;
    let summary = serde_json::to_value(&summary)
        .map_err(|e| exception::sync_message(format!("cannot report the replay summary: {e}")))?;
    Ok(convert::json_to_zval(&summary))
}

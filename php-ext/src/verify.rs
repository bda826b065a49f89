//! `DbSync\verify()` and `DbSync\repair()`: convert the options array, run dbsync-core's verify (or repair) and
//! return its report as an array. Progress goes to an optional PHP callable, called on this thread (PHP values never
//! leave it) with the core's progress figures as an array; the artisan commands draw the bar. No logic here.

use crate::{convert, exception};
use dbsync_core::verify::{Progress, VerifyError, VerifyOptions};
use ext_php_rs::{
    exception::{PhpException, PhpResult},
    types::{ZendCallable, ZendHashTable, Zval},
};

/// Compares both databases (the keys of the core's `VerifyOptions`); returns the report.
pub fn verify(options: &ZendHashTable, progress: Option<ZendCallable>) -> PhpResult<Zval> {
    let options = options_from(options)?;
    let mut report = reporter(progress.as_ref());
    let result = dbsync_core::verify::verify(options, &mut report).map_err(|e| error(&e))?;
    to_zval(serde_json::to_value(&result))
}

/// Verifies, then repairs each confirmed difference (`dry_run` only plans); returns the repair report.
pub fn repair(options: &ZendHashTable, progress: Option<ZendCallable>) -> PhpResult<Zval> {
    let options = options_from(options)?;
    let mut report = reporter(progress.as_ref());
    let result = dbsync_core::verify::repair(options, &mut report).map_err(|e| error(&e))?;
    to_zval(serde_json::to_value(&result))
}

fn options_from(options: &ZendHashTable) -> PhpResult<VerifyOptions> {
    crate::logging::init_from_env();
    let json = convert::array_to_json(options)
        .map_err(|e| exception::unsupported_config_value(&e.key, &e.reason))?;
    VerifyOptions::from_json(json).map_err(|e| exception::config(&e))
}

/// Hands each progress figure to `callable` as an array; a callable that throws is not called again.
fn reporter<'a>(callable: Option<&'a ZendCallable<'a>>) -> impl FnMut(&Progress) + 'a {
    let mut broken = false;
    move |progress: &Progress| {
        let Some(callable) = callable.filter(|_| !broken) else {
            return;
        };
        let Ok(value) = serde_json::to_value(progress) else {
            return;
        };
        let array = convert::json_to_zval(&value);
        broken = callable.try_call(vec![&array]).is_err();
    }
}

fn error(error: &VerifyError) -> PhpException {
    match error {
        VerifyError::Config(inner) => exception::config(inner),
        VerifyError::Mapping(inner) => {
            exception::unsupported_config_value("mapping_path", &format!("is unusable: {inner}"))
        }
        other => exception::sync_message(other.to_string()),
    }
}

fn to_zval(report: serde_json::Result<serde_json::Value>) -> PhpResult<Zval> {
    let value =
        report.map_err(|e| exception::sync_message(format!("cannot return the report: {e}")))?;
    Ok(convert::json_to_zval(&value))
}

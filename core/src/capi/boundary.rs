//! The boundary itself: the panic guard every entry point runs its body in, reading the caller's C strings, handing
//! owned strings out, and the two functions that cannot fail (`dbsync_version`, `dbsync_string_free`).
//!
//! A panic unwinding into C frames aborts the host process (README, "No panic crosses an FFI boundary"), so every
//! function that calls into the core does it inside [`guard`], which turns a panic into `DBSYNC_STATUS_PANIC` and
//! a message. Strings go out as `CString`s released with `into_raw` and come back through `dbsync_string_free`, so
//! the allocator that made a string is the one that frees it.

use super::status::{DbsyncStatus, Failure};
use std::any::Any;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use tracing::error;

/// The crate's version, NUL-terminated for C.
const VERSION_NUL: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The library's version, e.g. `0.1.0`: a static string, valid for the life of the process. Do not free it.
#[no_mangle]
pub extern "C" fn dbsync_version() -> *const c_char {
    VERSION_NUL.as_ptr().cast()
}

/// Frees a string the library handed out (`out_json`, `stats_json`, `err`). NULL is ignored.
///
/// # Safety
/// `s` is NULL or a string from this library that has not been freed yet.
#[no_mangle]
pub unsafe extern "C" fn dbsync_string_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: the caller hands back a pointer from `CString::into_raw`, once.
        drop(unsafe { CString::from_raw(s) });
    }
}

/// Runs `body`, turning its failure or panic into a status and a message in `*err` (when `err` is not NULL).
/// `*err` is set to NULL first, so the caller may free it whatever happened.
///
/// # Safety
/// `err` is NULL or valid for writing one pointer.
pub(crate) unsafe fn guard(
    err: *mut *mut c_char,
    body: impl FnOnce() -> Result<(), Failure>,
) -> DbsyncStatus {
    // SAFETY: the caller's contract on `err`.
    unsafe { clear(err) };
    // The body's state is dropped after a panic, never used again, so asserting unwind safety is sound.
    let failure = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => return DbsyncStatus::Ok,
        Ok(Err(failure)) => failure,
        Err(payload) => {
            let text = panic_text(payload.as_ref());
            error!(panic = %text, "a panic was caught at the C boundary");
            Failure::new(
                DbsyncStatus::Panic,
                format!("dbsync internal error (a Rust panic, please report it): {text}"),
            )
        }
    };
    if !err.is_null() {
        // SAFETY: checked non-NULL; the caller's contract says it is writable.
        unsafe { *err = into_c_string(failure.message) };
    }
    failure.status
}

/// Sets `*out` to NULL when `out` is not NULL.
///
/// # Safety
/// `out` is NULL or valid for writing one pointer.
pub(crate) unsafe fn clear(out: *mut *mut c_char) {
    if !out.is_null() {
        // SAFETY: checked non-NULL; the caller's contract says it is writable.
        unsafe { *out = std::ptr::null_mut() };
    }
}

/// Hands `value` out through `out`, which the caller must provide (`name` says which argument it is).
///
/// # Safety
/// `out` is NULL or valid for writing one pointer.
pub(crate) unsafe fn put(out: *mut *mut c_char, name: &str, value: String) -> Result<(), Failure> {
    if out.is_null() {
        return Err(Failure::argument(name, "is NULL"));
    }
    // SAFETY: checked non-NULL; the caller's contract says it is writable.
    unsafe { *out = into_c_string(value) };
    Ok(())
}

/// Reads the caller's NUL-terminated UTF-8 string `ptr`, named `name` in errors.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that outlives the returned borrow.
pub(crate) unsafe fn read_str<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Failure> {
    if ptr.is_null() {
        return Err(Failure::argument(name, "is NULL"));
    }
    // SAFETY: non-NULL, and NUL-terminated by the caller's contract.
    let text = unsafe { CStr::from_ptr(ptr) };
    text.to_str()
        .map_err(|e| Failure::argument(name, &format!("is not UTF-8: {e}")))
}

/// An owned C string for `text`. A NUL inside (a message quoting input) becomes U+FFFD, so nothing is cut off.
fn into_c_string(text: String) -> *mut c_char {
    let text = if text.contains('\0') {
        text.replace('\0', "\u{FFFD}")
    } else {
        text
    };
    CString::new(text).map_or(std::ptr::null_mut(), CString::into_raw)
}

/// The text a panic was raised with.
fn panic_text(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        return (*text).to_string();
    }
    match payload.downcast_ref::<String>() {
        Some(text) => text.clone(),
        None => "a panic without a message".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes a string the library handed out back, as C would free it.
    fn take(ptr: *mut c_char) -> String {
        assert!(!ptr.is_null());
        // SAFETY: `ptr` came from `into_c_string` and is freed once, here.
        unsafe { CString::from_raw(ptr) }
            .into_string()
            .expect("UTF-8")
    }

    #[test]
    fn a_panic_becomes_a_status_and_a_message() {
        let mut err = std::ptr::null_mut();
        // SAFETY: `err` is a valid out pointer.
        let status = unsafe { guard(&mut err, || panic!("boom {}", 42)) };
        assert_eq!(status, DbsyncStatus::Panic);
        assert!(take(err).contains("boom 42"));
    }

    #[test]
    fn a_failure_keeps_its_status_and_message_and_success_clears_err() {
        let stale = into_c_string("stale".into());
        let mut err = stale;
        // SAFETY: `err` is a valid out pointer (its old value is freed below).
        let status = unsafe {
            guard(&mut err, || {
                Err(Failure::new(DbsyncStatus::Config, "bad\0field"))
            })
        };
        assert_eq!(status, DbsyncStatus::Config);
        assert_eq!(take(err), "bad\u{FFFD}field");
        take(stale);
        // SAFETY: as above.
        let status = unsafe { guard(&mut err, || Ok(())) };
        assert_eq!(status, DbsyncStatus::Ok);
        assert!(err.is_null());
    }

    #[test]
    fn null_and_non_utf8_arguments_are_refused_by_name() {
        // SAFETY: NULL and a NUL-terminated literal.
        let null = unsafe { read_str(std::ptr::null(), "message_json") }.unwrap_err();
        assert_eq!(null.status, DbsyncStatus::InvalidArgument);
        assert!(null.message.contains("`message_json` is NULL"));
        let bytes = b"\xff\xfe\0";
        // SAFETY: NUL-terminated.
        let bad = unsafe { read_str(bytes.as_ptr().cast(), "config_json") }.unwrap_err();
        assert!(bad.message.contains("not UTF-8"), "{}", bad.message);
    }

    #[test]
    fn the_version_is_the_crate_version() {
        // SAFETY: a static NUL-terminated string.
        let version = unsafe { CStr::from_ptr(dbsync_version()) };
        assert_eq!(version.to_str(), Ok(crate::VERSION));
    }
}

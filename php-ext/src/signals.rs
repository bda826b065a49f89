//! The tick the core calls between polls, so PHP's `pcntl` signal handlers run while `run` blocks.
//!
//! Rust-side signal handlers did not give a graceful stop under PHP (the process died with 143). PHP owns the
//! signal instead: `pcntl_async_signals(true)` only queues it while native code runs, so the tick calls
//! `pcntl_signal_dispatch()` and the PHP handler (typically `fn () => $consumer->stop()`) runs on this thread.

use ext_php_rs::zend::{ExecutorGlobals, Function};

/// A tick for a blocking core `run` (`Consumer::run`, `Supervisor::run`): dispatches pending PHP signals when
/// `pcntl` is loaded, and calls `stop` (the running object's own stop) if a handler threw, so the exception reaches
/// the caller instead of being buried under more polls.
pub fn tick<'a>(stop: impl Fn() + 'a) -> impl FnMut() + 'a {
    // Looked up once per run; absent when PHP was built without pcntl, then the tick does nothing.
    let dispatch = Function::try_from_function("pcntl_signal_dispatch");
    move || {
        if let Some(dispatch) = &dispatch {
            let _ = dispatch.try_call(vec![]);
            if ExecutorGlobals::has_exception() {
                stop();
            }
        }
    }
}

//! The pipeline: Kafka in, database out, offsets after commit, DLQ for poison. (Skeleton; filled in next.)

use crate::config::SyncConfig;
use crate::error::Error;
use crate::metrics::Counters;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Limits for one `Consumer::run`.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Return after this many messages have been processed.
    pub max_events: Option<u64>,
    /// Return after this much wall time.
    pub timeout: Option<Duration>,
    /// Return once no message arrived for this long (caught up), e.g. for `--once`.
    pub stop_when_idle: Option<Duration>,
}

/// A consumer for one direction.
pub struct Consumer {
    config: SyncConfig,
    stop: AtomicBool,
}

impl Consumer {
    /// Loads the mapping, connects to the target database and Kafka, validates the mapping against the schema.
    pub fn new(config: SyncConfig) -> Result<Self, Error> {
        config.validate()?;
        Ok(Self {
            config,
            stop: AtomicBool::new(false),
        })
    }

    /// Consumes until a limit in `options` is reached or `stop` is called; `tick` runs between polls (PHP uses it
    /// to dispatch pending signals). Finishes the in-flight batch and commits before returning.
    pub fn run(&self, options: RunOptions, tick: &mut dyn FnMut()) -> Result<Counters, Error> {
        let _ = (&self.config, options);
        tick();
        self.stop.store(false, Ordering::SeqCst);
        Ok(Counters::default())
    }

    /// Asks a running `run` to finish its batch, commit and return. Safe to call from a signal handler's callback.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

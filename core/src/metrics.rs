//! What a consumer reports about itself: the [`Counters`] one `run` returns, and Prometheus metrics served on
//! `metrics_addr` (README "Operating dbsync: Metrics" lists each metric).
//!
//! - `counters`: the per-run counters returned to the caller (and to PHP as an array).
//! - `exporter`: installs the process-wide recorder and serves `GET /metrics` on a thread of its own.
//! - `pipeline`: the metric names and the consumer's recording calls (labels `direction`, `topic`, `partition`).
//! - `kafka_lag`: per-partition consumer lag taken from librdkafka's statistics.
//!
//! Without `metrics_addr` no recorder is installed and every recording call is a no-op of the `metrics` facade.

mod counters;
mod exporter;
mod kafka_lag;
mod pipeline;

pub use counters::{Counters, EntityCounters};
pub use exporter::{serve, MetricsError};
pub(crate) use kafka_lag::KafkaLag;
pub use pipeline::names;
pub(crate) use pipeline::{Outcome, PipelineMetrics, KAFKA_STATS_INTERVAL_MS};

//! Per-partition consumer lag from librdkafka's statistics (emitted every `statistics.interval.ms` while the
//! consumer polls): `consumer_lag` is the partition's last stable offset minus the group's committed offset, what
//! kafka-lag-exporter calls the group lag. The client context stores the latest figures; the consumer's loop
//! turns them into gauges with its labels.

use rdkafka::statistics::Statistics;
use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

/// The latest lag per assigned partition, replaced by each statistics report.
#[derive(Debug, Default)]
pub(crate) struct KafkaLag {
    latest: Mutex<BTreeMap<i32, i64>>,
}

impl KafkaLag {
    /// Keeps the lag of every partition this client consumes (`desired`) whose lag is known (librdkafka reports
    /// -1 until it knows the committed offset and the partition's end).
    pub(crate) fn update(&self, statistics: &Statistics) {
        let lag: BTreeMap<i32, i64> = statistics
            .topics
            .values()
            .flat_map(|topic| topic.partitions.values())
            .filter(|p| p.partition >= 0 && p.desired && p.consumer_lag >= 0)
            .map(|p| (p.partition, p.consumer_lag))
            .collect();
        *self.latest.lock().unwrap_or_else(PoisonError::into_inner) = lag;
    }

    /// The figures of the latest report, taken (a partition no longer reported drops out).
    pub(crate) fn take(&self) -> BTreeMap<i32, i64> {
        std::mem::take(&mut *self.latest.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn partition(id: i32, desired: bool, lag: i64) -> serde_json::Value {
        json!({"partition": id, "broker": 1, "leader": 1, "desired": desired, "unknown": false, "msgq_cnt": 0,
            "msgq_bytes": 0, "xmit_msgq_cnt": 0, "xmit_msgq_bytes": 0, "fetchq_cnt": 0, "fetchq_size": 0,
            "fetch_state": "active", "query_offset": 0, "next_offset": 0, "app_offset": 0, "stored_offset": 0,
            "committed_offset": 5, "eof_offset": 0, "lo_offset": 0, "hi_offset": 5 + lag, "ls_offset": 5 + lag,
            "consumer_lag": lag, "consumer_lag_stored": lag, "txmsgs": 0, "txbytes": 0, "rxmsgs": 0, "rxbytes": 0,
            "msgs": 0, "rx_ver_drops": 0, "msgs_inflight": 0, "next_ack_seq": 0, "next_err_seq": 0,
            "acked_msgid": 0})
    }

    #[test]
    fn keeps_known_lag_of_consumed_partitions_only() {
        let window = json!({"min": 0, "max": 0, "avg": 0, "sum": 0, "stddev": 0, "p50": 0, "p75": 0, "p90": 0,
            "p95": 0, "p99": 0, "p99_99": 0, "outofrange": 0, "hdrsize": 0, "cnt": 0});
        let partitions = json!({"0": partition(0, true, 7), "1": partition(1, false, 3),
            "2": partition(2, true, -1), "-1": partition(-1, false, 0)});
        let topic = json!({"topic": "legacy.events", "age": 0, "metadata_age": 0, "batchsize": window,
            "batchcnt": window, "partitions": partitions});
        let stats = json!({"name": "c", "client_id": "c", "type": "consumer", "ts": 0, "time": 0, "age": 0,
            "replyq": 0, "msg_cnt": 0, "msg_size": 0, "msg_max": 0, "msg_size_max": 0, "simple_cnt": 0,
            "metadata_cache_cnt": 0, "brokers": {}, "tx": 0, "tx_bytes": 0, "rx": 0, "rx_bytes": 0, "txmsgs": 0,
            "txmsg_bytes": 0, "rxmsgs": 0, "rxmsg_bytes": 0, "topics": {"legacy.events": topic}});
        let stats: Statistics = match serde_json::from_value(stats) {
            Ok(stats) => stats,
            Err(error) => panic!("test statistics do not parse: {error}"),
        };
        let lag = KafkaLag::default();
        lag.update(&stats);
        assert_eq!(lag.take(), BTreeMap::from([(0, 7)]));
        assert!(lag.take().is_empty(), "taken once");
    }
}

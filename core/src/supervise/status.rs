//! Kafka Connect's view of its connectors: the states it reports, parsed from `GET /connectors?expand=status`, and
//! what they say about a connector (failed, healthy, which tasks, which trace explains it).

use serde::Deserialize;
use std::collections::BTreeMap;

/// A connector's or a task's state as Kafka Connect reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "String")]
pub enum State {
    /// Working.
    Running,
    /// Stopped by an error; Connect will not restart it by itself.
    Failed,
    /// Paused by an operator.
    Paused,
    /// Stopped by an operator (no tasks).
    Stopped,
    /// Being restarted.
    Restarting,
    /// Not yet given to a worker.
    Unassigned,
    /// A state this version does not know.
    Other(String),
}

impl From<String> for State {
    fn from(text: String) -> Self {
        match text.as_str() {
            "RUNNING" => State::Running,
            "FAILED" => State::Failed,
            "PAUSED" => State::Paused,
            "STOPPED" => State::Stopped,
            "RESTARTING" => State::Restarting,
            "UNASSIGNED" => State::Unassigned,
            _ => State::Other(text),
        }
    }
}

impl State {
    /// The state as Connect spells it.
    pub fn as_str(&self) -> &str {
        match self {
            State::Running => "RUNNING",
            State::Failed => "FAILED",
            State::Paused => "PAUSED",
            State::Stopped => "STOPPED",
            State::Restarting => "RESTARTING",
            State::Unassigned => "UNASSIGNED",
            State::Other(text) => text,
        }
    }
}

/// The connector instance's own state (its tasks are separate).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ComponentStatus {
    /// Its state.
    pub state: State,
    /// The Java stack trace of its failure, when `FAILED`.
    #[serde(default)]
    pub trace: Option<String>,
}

/// One task's state.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TaskStatus {
    /// The task number.
    pub id: u32,
    /// Its state.
    pub state: State,
    /// The Java stack trace of its failure, when `FAILED`.
    #[serde(default)]
    pub trace: Option<String>,
}

/// One connector's status (`GET /connectors/<name>/status`, also what `?expand=status` embeds).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ConnectorStatus {
    /// The connector's name.
    pub name: String,
    /// The connector instance's state.
    pub connector: ComponentStatus,
    /// Its tasks' states.
    #[serde(default)]
    pub tasks: Vec<TaskStatus>,
}

impl ConnectorStatus {
    /// The connector or one of its tasks failed: a restart is due.
    pub fn needs_restart(&self) -> bool {
        self.connector.state == State::Failed || self.tasks.iter().any(|t| t.state == State::Failed)
    }

    /// The connector and all its tasks run.
    pub fn is_healthy(&self) -> bool {
        self.connector.state == State::Running
            && self.tasks.iter().all(|t| t.state == State::Running)
    }

    /// The numbers of the failed tasks.
    pub fn failed_tasks(&self) -> Vec<u32> {
        self.tasks
            .iter()
            .filter(|t| t.state == State::Failed)
            .map(|t| t.id)
            .collect()
    }

    /// The trace that explains the failure: the connector's when it failed, else the first failed task's.
    pub fn failure_trace(&self) -> Option<&str> {
        let connector = (self.connector.state == State::Failed)
            .then_some(self.connector.trace.as_deref())
            .flatten();
        connector.or_else(|| {
            self.tasks
                .iter()
                .find(|t| t.state == State::Failed)
                .and_then(|t| t.trace.as_deref())
        })
    }
}

/// Parses the answer of `GET /connectors?expand=status` into statuses sorted by name. A connector listed without a
/// status (created a moment ago) is left out.
pub fn parse_statuses(body: &str) -> Result<Vec<ConnectorStatus>, String> {
    #[derive(Deserialize)]
    struct Expanded {
        #[serde(default)]
        status: Option<ConnectorStatus>,
    }
    let mut deserializer = serde_json::Deserializer::from_str(body);
    let listing: BTreeMap<String, Expanded> = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|e| {
        let path = e.path().to_string();
        format!("at `{path}`: {}", e.into_inner())
    })?;
    Ok(listing.into_values().filter_map(|e| e.status).collect())
}

/// A status named `name` with the `connector` state and one task per entry of `tasks`, numbered from 0 (for tests).
#[cfg(test)]
pub(super) fn status(name: &str, connector: &str, tasks: &[&str]) -> ConnectorStatus {
    use serde_json::json;
    serde_json::from_value(json!({
        "name": name,
        "connector": {"state": connector},
        "tasks": tasks.iter().enumerate().map(|(i, s)| json!({"id": i, "state": s})).collect::<Vec<_>>(),
    }))
    .expect("valid status")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supervise::redact::{trace_headline, trace_root_cause};

    const LISTING: &str = r#"{
      "dbsync-revamp": {"status": {"name": "dbsync-revamp",
        "connector": {"state": "RUNNING", "worker_id": "127.0.0.1:8083", "version": "3.5.0.Final"},
        "tasks": [{"id": 0, "state": "FAILED", "worker_id": "127.0.0.1:8083",
          "trace": "org.apache.kafka.connect.errors.ConnectException: An exception occurred in the change event producer. This connector will be stopped.\n\tat io.debezium.pipeline.ErrorHandler.setProducerThrowable(ErrorHandler.java:67)\nCaused by: io.debezium.DebeziumException: Unexpected error while looking at GTID_BINLOG_POS\n\tat x\nCaused by: java.sql.SQLNonTransientConnectionException: Socket fail to connect to host:address=(host=127.0.0.1)(port=3306)(type=primary). Connection refused\n\tat y"}],
        "type": "source"}},
      "dbsync-legacy": {"status": {"name": "dbsync-legacy",
        "connector": {"state": "RUNNING", "worker_id": "127.0.0.1:8083"},
        "tasks": [{"id": 0, "state": "RUNNING", "worker_id": "127.0.0.1:8083"}], "type": "source"}},
      "just-created": {}
    }"#;

    #[test]
    fn parses_the_expanded_listing() {
        let statuses = parse_statuses(LISTING).expect("parses");
        let names: Vec<&str> = statuses.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["dbsync-legacy", "dbsync-revamp"],
            "sorted; no status, no entry"
        );
        let legacy = &statuses[0];
        assert!(legacy.is_healthy() && !legacy.needs_restart());
        let revamp = &statuses[1];
        assert!(revamp.needs_restart() && !revamp.is_healthy());
        assert_eq!(revamp.failed_tasks(), [0]);
        let trace = revamp.failure_trace().expect("the task's trace");
        assert_eq!(
            trace_headline(trace),
            "org.apache.kafka.connect.errors.ConnectException: An exception occurred in the change event \
             producer. This connector will be stopped."
        );
        assert_eq!(
            trace_root_cause(trace).as_deref(),
            Some(
                "java.sql.SQLNonTransientConnectionException: Socket fail to connect to \
                 host:address=(host=127.0.0.1)(port=3306)(type=primary). Connection refused"
            )
        );
    }

    #[test]
    fn parse_errors_name_the_place() {
        let error = parse_statuses(r#"{"a": {"status": {"name": "a", "connector": {}}}}"#)
            .expect_err("state missing");
        assert!(error.contains("a.status.connector"), "{error}");
        assert!(parse_statuses("[]").is_err());
        assert!(parse_statuses("<html>").is_err());
    }

    #[test]
    fn unknown_states_are_kept_not_failed() {
        let s = status("c", "DEGRADED", &["RUNNING"]);
        assert_eq!(s.connector.state, State::Other("DEGRADED".into()));
        assert_eq!(s.connector.state.as_str(), "DEGRADED");
        assert!(!s.needs_restart() && !s.is_healthy());
    }

    #[test]
    fn a_failed_connector_explains_with_its_own_trace() {
        let mut s = status("c", "FAILED", &["FAILED"]);
        s.connector.trace = Some("connector broke\n\tat x".into());
        s.tasks[0].trace = Some("task broke".into());
        assert_eq!(s.failure_trace(), Some("connector broke\n\tat x"));
        s.connector.state = State::Running;
        assert_eq!(s.failure_trace(), Some("task broke"));
    }
}

//! What the supervisor reports: one check's view of every connector ([`CheckReport`]) and what it did since it was
//! created ([`SuperviseCounters`]); both serialize to what PHP returns as arrays.

use super::policy::Action;
use super::status::ConnectorStatus;
use serde::Serialize;
use std::collections::BTreeMap;

/// One connector in a [`CheckReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectorReport {
    /// The connector's name.
    pub name: String,
    /// The connector instance's state.
    pub state: String,
    /// Its tasks' states, in task order.
    pub tasks: Vec<String>,
    /// What the supervisor did.
    pub action: Action,
    /// For a failure: the first line of its trace (masked).
    pub cause: Option<String>,
    /// For a restart that Connect refused: why.
    pub restart_error: Option<String>,
}

impl ConnectorReport {
    /// `status` and what was done about it; `cause` (the trace's headline) is kept only while something failed.
    pub(super) fn new(
        status: &ConnectorStatus,
        action: Action,
        cause: Option<String>,
        restart_error: Option<String>,
    ) -> Self {
        ConnectorReport {
            name: status.name.clone(),
            state: status.connector.state.as_str().to_string(),
            tasks: status
                .tasks
                .iter()
                .map(|t| t.state.as_str().to_string())
                .collect(),
            action,
            cause: cause.filter(|_| status.needs_restart()),
            restart_error,
        }
    }
}

/// What one [`Supervisor::check_once`](super::Supervisor::check_once) saw and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// Every connector, by name.
    pub connectors: Vec<ConnectorReport>,
}

/// What a supervisor did since it was created, readable through the API (and returned to PHP as an array).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SuperviseCounters {
    /// Checks that read the connectors' states.
    pub checks: u64,
    /// Checks that could not reach Kafka Connect (or could not read its answer).
    pub unreachable: u64,
    /// Restarts Kafka Connect accepted.
    pub restarts: u64,
    /// Restarts Kafka Connect refused or did not answer.
    pub restart_errors: u64,
    /// Accepted restarts per connector.
    pub per_connector: BTreeMap<String, u64>,
}

impl SuperviseCounters {
    /// Counts a restart Connect accepted; returns how many `name` has had.
    pub(super) fn restarted(&mut self, name: &str) -> u64 {
        self.restarts += 1;
        let per_connector = self.per_connector.entry(name.to_string()).or_default();
        *per_connector += 1;
        *per_connector
    }
}

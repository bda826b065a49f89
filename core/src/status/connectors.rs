//! Each Debezium connector's and task's state, from Kafka Connect's REST API (the supervisor's client, read only:
//! the status never restarts anything).

use super::options::StatusOptions;
use super::probe::ProbeError;
use crate::supervise::{ConnectorStatus, SuperviseOptions, Supervisor};
use serde::Serialize;

/// One task's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Task {
    /// The task number.
    pub id: u32,
    /// Its state as Connect spells it (`RUNNING`, `FAILED`, ...).
    pub state: String,
}

/// One connector's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Connector {
    /// The connector's name.
    pub name: String,
    /// The connector instance's state.
    pub state: String,
    /// Its tasks, in task order.
    pub tasks: Vec<Task>,
    /// The connector and every task run (and it has a task).
    pub running: bool,
}

/// Every connector Kafka Connect knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Connectors {
    /// The REST API's URL (without user info).
    pub connect_url: String,
    /// By name.
    pub connectors: Vec<Connector>,
}

/// Reads every connector's state.
pub fn read(options: &StatusOptions) -> Result<Connectors, ProbeError> {
    let mut supervise = SuperviseOptions::new(options.connect_url.clone());
    supervise.request_timeout_ms = options.timeout_ms;
    let supervisor = Supervisor::new(supervise).map_err(|e| ProbeError::Stopped {
        what: "preparing the Kafka Connect client".to_string(),
        reason: e.to_string(),
    })?;
    let statuses = supervisor.statuses()?;
    Ok(Connectors {
        connect_url: supervisor.connect_url().to_string(),
        connectors: statuses.iter().map(connector).collect(),
    })
}

fn connector(status: &ConnectorStatus) -> Connector {
    let mut tasks: Vec<Task> = status
        .tasks
        .iter()
        .map(|t| Task {
            id: t.id,
            state: t.state.as_str().to_string(),
        })
        .collect();
    tasks.sort_by_key(|t| t.id);
    Connector {
        name: status.name.clone(),
        state: status.connector.state.as_str().to_string(),
        // A connector without tasks captures nothing (yet).
        running: status.is_healthy() && !status.tasks.is_empty(),
        tasks,
    }
}

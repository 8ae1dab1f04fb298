//! A deployment's run as the store keeps it (the resource's lifecycle state): the template and
//! resolved parameters it deploys, who deploys it, and each planned resource's step. The
//! orchestrator moves it on; the document readers see is made from it (`document`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::input::Mode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunState {
    Accepted,
    Running,
    Succeeded,
    Failed,
    Canceled,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Accepted => "Accepted",
            RunState::Running => "Running",
            RunState::Succeeded => "Succeeded",
            RunState::Failed => "Failed",
            RunState::Canceled => "Canceled",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, RunState::Succeeded | RunState::Failed | RunState::Canceled)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepState {
    /// Not started: waits for what it depends on.
    Waiting,
    Running,
    Succeeded,
    Failed,
    /// Not deployed: something it depends on failed, or the deployment was canceled.
    Skipped,
}

/// Who the deployment acts for: its resources are written in their name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OnBehalf {
    pub name: String,
    pub kind: String,
}

/// One planned resource instance and how far its deployment has come.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub id: String,
    pub resource_type: String,
    pub name: String,
    pub api_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbolic: Option<String>,
    /// An `existing` resource: read (and required to be there), never written.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub existing: bool,
    /// Indexes of the steps it waits for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<usize>,
    /// The deployment operation that reports it (`…/operations/{operationId}`).
    pub operation_id: String,
    pub state: StepState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<DateTime<Utc>>,
    /// The HTTP status of the resource's answer, as ARM names it (`OK`, `Created`, `BadRequest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<String>,
    /// The resource's own ARM error, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentRun {
    pub template: Value,
    /// Every parameter's resolved value (secure ones too: the run needs them until it ends).
    pub parameters: Map<String, Value>,
    /// Declared types by parameter name, as ARM answers them (`String`, `SecureString`, …).
    pub parameter_types: Map<String, Value>,
    pub secure: Vec<String>,
    pub mode: Mode,
    /// Options echoed in the document (`debugSetting`, …).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub echoed: Map<String, Value>,
    pub on_behalf: OnBehalf,
    pub correlation_id: String,
    pub template_hash: String,
    pub state: RunState,
    pub started: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<DateTime<Utc>>,
    /// Asked to stop: no resource is started after it.
    #[serde(default)]
    pub cancel_requested: bool,
    pub steps: Vec<Step>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Value>,
    /// Why it failed: ARM's `DeploymentFailed` with a detail per failed resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

impl DeploymentRun {
    /// Whether the run is still going on.
    pub fn is_live(&self) -> bool {
        !self.state.is_terminal()
    }

    /// The steps that may start now: waiting, with everything they depend on deployed.
    pub fn ready(&self) -> Vec<usize> {
        let done = |i: usize| self.steps[i].state == StepState::Succeeded;
        (0..self.steps.len())
            .filter(|&i| self.steps[i].state == StepState::Waiting && self.steps[i].depends_on.iter().all(|&d| done(d)))
            .collect()
    }

    /// Marks as skipped every waiting step that can no longer start (something it depends on
    /// failed or was skipped); true when any was.
    pub fn skip_blocked(&mut self) -> bool {
        let mut any = false;
        loop {
            let blocked: Vec<usize> = (0..self.steps.len())
                .filter(|&i| {
                    self.steps[i].state == StepState::Waiting
                        && self.steps[i]
                            .depends_on
                            .iter()
                            .any(|&d| matches!(self.steps[d].state, StepState::Failed | StepState::Skipped))
                })
                .collect();
            if blocked.is_empty() {
                return any;
            }
            for i in blocked {
                self.steps[i].state = StepState::Skipped;
            }
            any = true;
        }
    }

    pub fn running(&self) -> usize {
        self.steps.iter().filter(|s| s.state == StepState::Running).count()
    }
}

/// A deployment operation's id: 16 upper-case hex digits, the same for a step on every run of
/// the orchestrator (so a resumed deployment reports through the same operations).
pub fn operation_id(deployment_id: &str, index: usize) -> String {
    let hash = crate::templates::hashes::guid(&[&deployment_id.to_ascii_lowercase(), &index.to_string()]);
    hash.replace('-', "")[..16].to_ascii_uppercase()
}

/// ARM's name for an HTTP status in a deployment operation (`OK`, `Created`, `BadRequest`).
pub fn status_name(status: u16) -> String {
    let reason = axum::http::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Unknown");
    reason.split([' ', '-']).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(depends_on: Vec<usize>, state: StepState) -> Step {
        Step {
            id: String::new(),
            resource_type: String::new(),
            name: String::new(),
            api_version: String::new(),
            symbolic: None,
            existing: false,
            depends_on,
            operation_id: String::new(),
            state,
            started: None,
            ended: None,
            status_code: None,
            error: None,
        }
    }

    #[test]
    fn steps_start_after_what_they_need_and_are_skipped_behind_a_failure() {
        let mut run = DeploymentRun {
            template: Value::Null,
            parameters: Map::new(),
            parameter_types: Map::new(),
            secure: Vec::new(),
            mode: Mode::Incremental,
            echoed: Map::new(),
            on_behalf: OnBehalf { name: "u".into(), kind: "User".into() },
            correlation_id: String::new(),
            template_hash: String::new(),
            state: RunState::Running,
            started: Utc::now(),
            ended: None,
            cancel_requested: false,
            steps: vec![
                step(vec![], StepState::Succeeded),
                step(vec![0], StepState::Waiting),
                step(vec![], StepState::Failed),
                step(vec![2], StepState::Waiting),
                step(vec![3], StepState::Waiting),
                step(vec![], StepState::Succeeded),
                step(vec![5], StepState::Waiting),
            ],
            outputs: None,
            error: None,
        };
        assert_eq!(run.ready(), [1, 6]);
        assert!(run.skip_blocked());
        assert_eq!(run.steps[3].state, StepState::Skipped);
        assert_eq!(run.steps[4].state, StepState::Skipped);
        assert!(!run.skip_blocked());
    }

    #[test]
    fn names_and_ids_as_arm_writes_them() {
        assert_eq!(status_name(200), "OK");
        assert_eq!(status_name(201), "Created");
        assert_eq!(status_name(400), "BadRequest");
        assert_eq!(status_name(409), "Conflict");
        let id = operation_id("/subscriptions/s/resourceGroups/g/providers/Microsoft.Resources/deployments/d", 3);
        assert_eq!(id.len(), 16);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()));
        assert_eq!(
            id,
            operation_id("/SUBSCRIPTIONS/s/resourceGroups/g/providers/Microsoft.Resources/deployments/d", 3)
        );
        assert_ne!(
            id,
            operation_id("/subscriptions/s/resourceGroups/g/providers/Microsoft.Resources/deployments/d", 4)
        );
    }
}

//! How a device runs an edge-device job: validation steps, then (unless the mode is `Validate`)
//! deployment steps, then completion; a remote-support session then stays open until it expires
//! or is revoked. Durations are nominal (at `--speed 1`); a whole job takes about four seconds.
//!
//! Every step is a pure function of the job's input and the time it runs at (ids included), so
//! the document at any step can be rebuilt from the accepted job and the step index.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::job_model::*;
use crate::arm::timestamp;
use crate::sim::timeline::Timeline;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Validation,
    Deployment,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStep {
    StartValidation,
    /// Finishes leaf `index` of a phase and starts the next one.
    FinishLeaf(Phase, usize),
    StartDeployment,
    Complete,
}

const QUEUE_DELAY: Duration = Duration::from_millis(500);
const VALIDATION_LEAF: Duration = Duration::from_millis(400);
const PHASE_GAP: Duration = Duration::from_millis(300);
const DEPLOYMENT_LEAF: Duration = Duration::from_millis(500);

/// What decides a job's timeline: its type and mode, and what validation checks.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct JobPlan {
    pub job_type: JobType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_mode: Option<DeploymentMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_type: Option<RemoteSupportType>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "chrono::serde::ts_microseconds_option")]
    pub expiration: Option<DateTime<Utc>>,
    /// A failure a fault rule planted (see `job_faults`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injected: Option<InjectedFailure>,
}

/// Why a step failed: what the job's operation ends with.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StepFailure {
    pub code: String,
    pub message: String,
    /// What the operation-result URL answers with.
    pub status: u16,
}

/// A failure planted by a fault rule when the job was accepted: at a step of the timeline
/// (`failStep`), or at completion (`failOperation`, `step` absent).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InjectedFailure {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    #[serde(flatten)]
    pub failure: StepFailure,
}

impl JobPlan {
    pub fn of(props: &JobProperties) -> JobPlan {
        JobPlan {
            job_type: props.job_type,
            deployment_mode: props.deployment_mode,
            support_type: props.support_type,
            expiration: props.expiration_timestamp,
            injected: None,
        }
    }

    /// An Enable job that deploys opens a session when its deployment finishes.
    pub fn opens_session(&self) -> bool {
        self.job_type == JobType::RemoteSupport
            && self.support_type != Some(RemoteSupportType::Revoke)
            && self.deployment_mode != Some(DeploymentMode::Validate)
    }
}

/// Ids a device makes up, derived from the job so that a replayed step makes the same ones.
fn derived_id(job_id: &str, what: &str, at: &str) -> String {
    const AZEMU_IDS: Uuid = Uuid::from_u128(0x6a7e_6d75_0000_4000_8000_6a6f_6273_0001);
    Uuid::new_v5(&AZEMU_IDS, format!("{job_id}/{what}/{at}").as_bytes()).to_string()
}

pub fn leaves(plan: &JobPlan, phase: Phase) -> &'static [(&'static str, &'static str)] {
    match (plan.job_type, phase, plan.support_type) {
        (JobType::RemoteSupport, Phase::Validation, _) => &[
            ("ValidateArcAgent", "Checks that the Arc agent on the device is connected."),
            ("ValidateRemoteSupportExtension", "Checks that the remote support extension is installed."),
            ("ValidateRemoteSupportRequest", "Checks the requested access level and expiration."),
        ],
        (JobType::RemoteSupport, Phase::Deployment, Some(RemoteSupportType::Revoke)) => &[
            ("RevokeJustInTimeAccess", "Revokes just-in-time access for Microsoft support."),
            ("StopRemoteSupportAgent", "Stops the remote support agent."),
            ("CloseRemoteSupportSessions", "Closes open remote support sessions."),
        ],
        (JobType::RemoteSupport, Phase::Deployment, _) => &[
            ("ConfigureJustInTimeAccess", "Grants just-in-time access at the requested level."),
            ("StartRemoteSupportAgent", "Starts the remote support agent."),
            ("OpenRemoteSupportSession", "Opens the remote support session."),
        ],
        (JobType::CollectLog, Phase::Validation, _) => &[
            ("ValidateArcAgent", "Checks that the Arc agent on the device is connected."),
            ("ValidateLogCollectionExtension", "Checks that the log collection extension is installed."),
            ("ValidateLogTimeRange", "Checks the requested log time range."),
        ],
        (JobType::CollectLog, Phase::Deployment, _) => &[
            ("CollectNodeLogs", "Collects diagnostic logs on the node."),
            ("CompressLogArchive", "Compresses the collected logs."),
            ("UploadLogArchive", "Uploads the log archive."),
        ],
    }
}

pub fn root_name(plan: &JobPlan, phase: Phase) -> &'static str {
    match (plan.job_type, phase) {
        (JobType::RemoteSupport, Phase::Validation) => "RemoteSupportValidation",
        (JobType::RemoteSupport, Phase::Deployment) => "RemoteSupportDeployment",
        (JobType::CollectLog, Phase::Validation) => "LogCollectionValidation",
        (JobType::CollectLog, Phase::Deployment) => "LogCollectionDeployment",
    }
}

pub fn timeline(plan: &JobPlan) -> Timeline<JobStep> {
    let mut steps = vec![(QUEUE_DELAY, JobStep::StartValidation)];
    for i in 0..leaves(plan, Phase::Validation).len() {
        steps.push((VALIDATION_LEAF, JobStep::FinishLeaf(Phase::Validation, i)));
    }
    if plan.deployment_mode != Some(DeploymentMode::Validate) {
        steps.push((PHASE_GAP, JobStep::StartDeployment));
        for i in 0..leaves(plan, Phase::Deployment).len() {
            steps.push((DEPLOYMENT_LEAF, JobStep::FinishLeaf(Phase::Deployment, i)));
        }
    }
    steps.push((PHASE_GAP, JobStep::Complete));
    Timeline::new(steps)
}

/// Index of the `Complete` step: a failed validation jumps there.
pub fn complete_index(line: &Timeline<JobStep>) -> usize {
    line.len() - 1
}

/// One step as a job runs it: where it is in the timeline, and when it happens.
#[derive(Debug, Clone)]
pub struct PathStep {
    pub index: usize,
    pub step: JobStep,
    pub at: DateTime<Utc>,
    /// What went wrong at this step (validation found a problem, or a fault rule made it
    /// fail); the job then completes as Failed.
    pub failure: Option<StepFailure>,
}

/// Every step the job runs, in order, with its time: the timeline, skipping to completion
/// after a failed validation. A pure function of the plan, the start and the speed.
pub fn path(plan: &JobPlan, start: DateTime<Utc>, speed: f64) -> Vec<PathStep> {
    let line = timeline(plan);
    let mut steps = Vec::with_capacity(line.len());
    let (mut index, mut at) = (0, start);
    while let (Some(step), Some(when)) = (line.get(index).copied(), line.due(index, at, speed)) {
        at = when;
        let failure = validation_problem(plan, step, at).or_else(|| {
            let injected = plan.injected.as_ref()?;
            let here = injected.step.unwrap_or(complete_index(&line));
            (here == index).then(|| injected.failure.clone())
        });
        let next = if failure.is_some() { complete_index(&line).max(index + 1) } else { index + 1 };
        steps.push(PathStep { index, step, at, failure });
        index = next;
    }
    steps
}

/// Steps with an effect beyond the job's own document: completion (the operation ends), and
/// the end of a Revoke job's deployment (other jobs' sessions close).
pub fn is_event(plan: &JobPlan, step: JobStep) -> bool {
    let last_deployment_leaf = leaves(plan, Phase::Deployment).len() - 1;
    match step {
        JobStep::Complete => true,
        JobStep::FinishLeaf(Phase::Deployment, i) => {
            plan.support_type == Some(RemoteSupportType::Revoke) && i == last_deployment_leaf
        }
        _ => false,
    }
}

fn new_step(name: &str, description: &str, index: String, at: &str) -> Step {
    Step {
        name: name.into(),
        description: description.into(),
        full_step_index: index,
        start_time_utc: at.into(),
        end_time_utc: None,
        status: "InProgress".into(),
        steps: Vec::new(),
        exception: Vec::new(),
    }
}

fn phase_status(props: &mut JobProperties, phase: Phase) -> &mut Option<EceActionStatus> {
    match phase {
        Phase::Validation => &mut props.reported_properties.validation_status,
        Phase::Deployment => &mut props.reported_properties.deployment_status,
    }
}

fn start_phase(props: &mut JobProperties, phase: Phase, at: &str) {
    let plan = JobPlan::of(props);
    let (first_name, first_description) = leaves(&plan, phase)[0];
    let root_index = if phase == Phase::Validation { "1" } else { "2" };
    let mut root = new_step(root_name(&plan, phase), "", root_index.into(), at);
    root.description = format!(
        "{} of the {:?} job.",
        if phase == Phase::Validation { "Validation" } else { "Deployment" },
        props.job_type
    );
    root.steps.push(new_step(first_name, first_description, format!("{root_index}.1"), at));
    *phase_status(props, phase) = Some(EceActionStatus { status: "InProgress".into(), steps: vec![root] });
}

/// What a validation step finds wrong, if anything.
pub fn validation_problem(plan: &JobPlan, step: JobStep, at: DateTime<Utc>) -> Option<StepFailure> {
    let JobStep::FinishLeaf(Phase::Validation, index) = step else {
        return None;
    };
    let (leaf, _) = leaves(plan, Phase::Validation)[index];
    match (leaf, plan.support_type, plan.expiration) {
        ("ValidateRemoteSupportRequest", Some(RemoteSupportType::Enable), Some(expiry)) if expiry <= at => {
            Some(StepFailure {
                code: "JobValidationFailed".into(),
                message: format!("The remote support expiration timestamp {} is not in the future.", timestamp(expiry)),
                status: 400,
            })
        }
        _ => None,
    }
}

/// The properties the event journal tracks for a job, as its steps change them.
#[derive(Debug, Clone, PartialEq)]
pub struct JobProgress {
    pub status: String,
    pub provisioning_state: String,
    pub percent_complete: i32,
}

impl JobProgress {
    pub fn of(props: &JobProperties) -> JobProgress {
        JobProgress {
            status: props.status.clone(),
            provisioning_state: props.provisioning_state.clone(),
            percent_complete: props.reported_properties.percent_complete,
        }
    }
}

/// What one step does to the tracked properties: the single place their rules live, for the
/// document (`run_step`) and for the journal's plan of a job.
pub fn progress_step(progress: &mut JobProgress, path_step: &PathStep, total: usize, plan: &JobPlan) {
    let PathStep { index: position, step, .. } = *path_step;
    let mut failed = false;
    match step {
        JobStep::StartValidation => {
            progress.status = "ValidationInProgress".into();
            progress.provisioning_state = "Provisioning".into();
        }
        JobStep::StartDeployment => progress.status = "DeploymentInProgress".into(),
        JobStep::FinishLeaf(phase, index) => {
            let is_last = index + 1 == leaves(plan, phase).len();
            if path_step.failure.is_some() {
                progress.status = match phase {
                    Phase::Validation => "ValidationFailed",
                    Phase::Deployment => "DeploymentFailed",
                }
                .into();
                failed = true;
            } else if is_last {
                progress.status = match phase {
                    Phase::Validation => "ValidationSuccess",
                    Phase::Deployment => "DeploymentSuccess",
                }
                .into();
            }
        }
        JobStep::Complete => {
            let failed = progress.status.ends_with("Failed") || path_step.failure.is_some();
            progress.status = if failed { "Failed" } else { "Succeeded" }.into();
            progress.provisioning_state = progress.status.clone();
            if !failed {
                progress.percent_complete = 100;
            }
            return;
        }
    }
    if !failed {
        let reached = ((position + 1) * 100 / total) as i32;
        progress.percent_complete = progress.percent_complete.max(reached.min(99));
    }
}

/// Applies one step to the job's document, at its time.
pub fn run_step(props: &mut JobProperties, path_step: &PathStep, total: usize) {
    let PathStep { step, at, .. } = *path_step;
    let plan = JobPlan::of(props);
    let mut progress = JobProgress::of(props);
    progress_step(&mut progress, path_step, total, &plan);
    props.status = progress.status;
    props.provisioning_state = progress.provisioning_state;
    props.reported_properties.percent_complete = progress.percent_complete;
    let stamp = timestamp(at);
    match step {
        JobStep::StartValidation => {
            props.start_time_utc = Some(stamp.clone());
            start_phase(props, Phase::Validation, &stamp);
        }
        JobStep::StartDeployment => {
            start_phase(props, Phase::Deployment, &stamp);
            if props.job_type == JobType::CollectLog {
                props.reported_properties.log_collection_session_details = Some(vec![LogCollectionSession {
                    correlation_id: derived_id(&props.job_id, "logCollection", &stamp),
                    start_time: stamp.clone(),
                    end_time: None,
                    time_collected: None,
                    log_size: None,
                    status: "Running".into(),
                }]);
            }
        }
        JobStep::FinishLeaf(phase, index) => {
            let names = leaves(&plan, phase);
            let problem = path_step.failure.as_ref().map(|f| f.message.clone());
            let is_last = index + 1 == names.len();
            let root_index = if phase == Phase::Validation { "1" } else { "2" };
            if let Some(status) = phase_status(props, phase) {
                let root = &mut status.steps[0];
                if let Some(current) = root.steps.get_mut(index) {
                    current.end_time_utc = Some(stamp.clone());
                    current.status = if problem.is_some() { "Error" } else { "Success" }.into();
                    if let Some(p) = &problem {
                        current.exception.push(p.clone());
                    }
                }
                if problem.is_some() || is_last {
                    root.end_time_utc = Some(stamp.clone());
                    root.status = if problem.is_some() { "Error" } else { "Success" }.into();
                    status.status = root.status.clone();
                } else {
                    let (next, description) = names[index + 1];
                    root.steps.push(new_step(next, description, format!("{root_index}.{}", index + 2), &stamp));
                }
            }
            if problem.is_none() && is_last && phase == Phase::Deployment {
                finish_deployment(props, at);
            }
        }
        JobStep::Complete => props.end_time_utc = Some(stamp),
    }
}

fn finish_deployment(props: &mut JobProperties, at: DateTime<Utc>) {
    let stamp = timestamp(at);
    match (props.job_type, props.support_type) {
        (JobType::CollectLog, _) => {
            let (from, to) = (props.from_date.unwrap_or(at), props.to_date.unwrap_or(at));
            // About 2 MiB of logs per hour of range, within int32.
            let hours = (to - from).num_minutes().max(1) as f64 / 60.0;
            let size = (hours * 2_097_152.0).min(i32::MAX as f64) as i32;
            if let Some(session) =
                props.reported_properties.log_collection_session_details.as_mut().and_then(|s| s.last_mut())
            {
                let started =
                    DateTime::parse_from_rfc3339(&session.start_time).map(|d| d.with_timezone(&Utc)).unwrap_or(at);
                let took = (at - started).num_milliseconds().max(0) as f64 / 1000.0;
                session.end_time = Some(stamp.clone());
                session.time_collected = Some(format!("PT{took:.3}S"));
                session.log_size = Some(size.max(1));
                session.status = "Succeeded".into();
            }
            props.last_log_generated = Some(stamp);
        }
        (JobType::RemoteSupport, Some(RemoteSupportType::Revoke)) => {
            props.reported_properties.node_settings = Some(NodeSettings {
                state: "Revoked".into(),
                created_at: stamp.clone(),
                updated_at: stamp,
                connection_status: "Disconnected".into(),
                connection_error_message: None,
            });
        }
        (JobType::RemoteSupport, _) => {
            let expires = props.expiration_timestamp.unwrap_or(at);
            let session_id = derived_id(&props.job_id, "remoteSupportSession", &stamp);
            props.reported_properties.session_details = Some(vec![RemoteSupportSession {
                transcript_location: format!("RemoteSupport/Transcripts/{session_id}.txt"),
                session_id,
                session_start_time: stamp.clone(),
                session_end_time: timestamp(expires),
                access_level: props.access_level.unwrap_or(AccessLevel::Diagnostics),
            }]);
            props.reported_properties.node_settings = Some(NodeSettings {
                state: "Active".into(),
                created_at: stamp.clone(),
                updated_at: stamp,
                connection_status: "Connected".into(),
                connection_error_message: None,
            });
        }
    }
}

/// Ends an open remote-support session at `at`: on expiry (`Expired`) or revocation (`Revoked`).
pub fn close_session(props: &mut JobProperties, at: DateTime<Utc>, state: &str) -> bool {
    let Some(node) = props.reported_properties.node_settings.as_mut().filter(|n| n.connection_status == "Connected")
    else {
        return false;
    };
    let stamp = timestamp(at);
    node.state = state.into();
    node.connection_status = "Disconnected".into();
    node.updated_at = stamp.clone();
    if let Some(session) = props.reported_properties.session_details.as_mut().and_then(|s| s.last_mut()) {
        session.session_end_time = stamp;
    }
    true
}

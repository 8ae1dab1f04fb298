//! Edge-device jobs: `{resourceUri}/providers/Microsoft.AzureStackHCI/edgeDevices/{d}/jobs/{j}`,
//! `kind: HCI`, polymorphic on `properties.jobType` (RemoteSupport, CollectLog).

use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::job_lifecycle::{
    close_session, complete_index, run_step, timeline, validation_problem, JobPlan, JobStep, Phase,
};
use super::job_model::*;
use super::{edge_name_rule, require_hci_kind, EDGE_API_VERSIONS, NAMESPACE};
use crate::arm::{ArmError, TypeOwner};
use crate::providers::{
    parse_body, parse_body_at, sim_state, Advance, AdvanceCtx, DeleteMissing, LroHeaders, PutKind, PutOutcome,
    PutRequest, ResourceProvider, ResourceTypeSpec, Written,
};
use crate::sim::timeline::{Cursor, Timeline};
use crate::store::{to_bytes, OperationError, OperationStatus, State, StoredResource, Txn};

static SPEC: ResourceTypeSpec = ResourceTypeSpec {
    namespace: NAMESPACE,
    type_names: &["edgeDevices", "jobs"],
    api_versions: EDGE_API_VERSIONS,
    owner: TypeOwner::Provider,
    name_rule: edge_name_rule,
    put: PutKind::AsyncOperation,
    delete: LroHeaders::Location,
    delete_missing: DeleteMissing::NoContent,
    delete_duration: Duration::from_millis(500),
    actions: &[],
    action_headers: LroHeaders::Location,
    names: OnceLock::new(),
};

#[derive(Deserialize)]
struct JobInput {
    kind: Option<String>,
    properties: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JobTypeInput {
    job_type: JobType,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RemoteSupportInput {
    deployment_mode: Option<DeploymentMode>,
    access_level: AccessLevel,
    expiration_timestamp: DateTime<Utc>,
    #[serde(rename = "type")]
    support_type: RemoteSupportType,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CollectLogInput {
    deployment_mode: Option<DeploymentMode>,
    from_date: DateTime<Utc>,
    to_date: DateTime<Utc>,
}

/// Timestamps are kept (and compared) at the microsecond precision they are written with.
fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

/// Reads `properties` in two steps (the `jobType`, then that type's fields), so that an error
/// names the exact field.
fn desired_from(properties: &Value) -> Result<DesiredJob, ArmError> {
    let JobTypeInput { job_type } = parse_body_at(properties, "properties")?;
    Ok(match job_type {
        JobType::RemoteSupport => {
            let input: RemoteSupportInput = parse_body_at(properties, "properties")?;
            DesiredJob {
                job_type,
                deployment_mode: input.deployment_mode,
                access_level: Some(input.access_level),
                expiration_timestamp: Some(micros(input.expiration_timestamp)),
                support_type: Some(input.support_type),
                from_date: None,
                to_date: None,
            }
        }
        JobType::CollectLog => {
            let input: CollectLogInput = parse_body_at(properties, "properties")?;
            if input.from_date > input.to_date {
                return Err(ArmError::invalid_parameter(
                    "properties.fromDate",
                    "The log collection range is empty: 'fromDate' is later than 'toDate'.",
                ));
            }
            DesiredJob {
                job_type,
                deployment_mode: input.deployment_mode,
                access_level: None,
                expiration_timestamp: None,
                support_type: None,
                from_date: Some(micros(input.from_date)),
                to_date: Some(micros(input.to_date)),
            }
        }
    })
}

fn fresh_properties(desired: DesiredJob, job_id: String) -> JobProperties {
    JobProperties {
        job_type: desired.job_type,
        deployment_mode: desired.deployment_mode,
        provisioning_state: "Accepted".into(),
        job_id,
        start_time_utc: None,
        end_time_utc: None,
        status: "Scheduled".into(),
        access_level: desired.access_level,
        expiration_timestamp: desired.expiration_timestamp,
        support_type: desired.support_type,
        from_date: desired.from_date,
        to_date: desired.to_date,
        last_log_generated: None,
        reported_properties: ReportedProperties::default(),
    }
}

/// The accepted job as stored: the base every later document is rendered from.
#[derive(Serialize, Deserialize)]
struct JobEnvelope {
    id: String,
    name: String,
    #[serde(rename = "type")]
    resource_type: String,
    kind: String,
    properties: JobProperties,
    #[serde(rename = "systemData")]
    system_data: Value,
}

/// A remote-support session that closed after the job finished.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct ClosedSession {
    at: DateTime<Utc>,
    /// `Expired` or `Revoked`.
    state: String,
}

/// The job's lifecycle state: enough to rebuild its document at any step.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct JobSim {
    #[serde(flatten)]
    cursor: Cursor,
    /// When the job was accepted: its timeline counts from here.
    start: DateTime<Utc>,
    plan: JobPlan,
    /// Why validation failed, once it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    failed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    closed: Option<ClosedSession>,
}

impl JobSim {
    /// The session this job opened is still open.
    fn session_open(&self, line: &Timeline<JobStep>) -> bool {
        self.plan.opens_session()
            && self.failed.is_none()
            && self.closed.is_none()
            && self.cursor.next + 1 >= line.len()
    }
}

fn unreadable(e: impl std::fmt::Display) -> ArmError {
    ArmError::new(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "InternalServerError",
        format!("stored job is unreadable: {e}"),
    )
}

/// The job's document as it stands: the accepted job, with every step that has run replayed
/// at the time it ran.
fn render_job(resource: &StoredResource) -> Result<JobEnvelope, ArmError> {
    let mut doc: JobEnvelope = serde_json::from_slice(&resource.body).map_err(unreadable)?;
    let Some(sim) = resource.sim_as::<JobSim>() else {
        return Ok(doc);
    };
    let line = timeline(&sim.plan);
    let (mut index, mut at) = (0, sim.start);
    while index < sim.cursor.next.min(line.len()) {
        let Some(when) = line.due(index, at, sim.cursor.speed) else { break };
        at = when;
        let step = *line.get(index).expect("index is within the timeline");
        let outcome = run_step(&mut doc.properties, step, at, index, line.len());
        index = if outcome.failure.is_some() { complete_index(&line) } else { index + 1 };
    }
    if let Some(closed) = &sim.closed {
        close_session(&mut doc.properties, closed.at, &closed.state);
    }
    Ok(doc)
}

pub struct EdgeDeviceJobs;

impl ResourceProvider for EdgeDeviceJobs {
    fn spec(&self) -> &'static ResourceTypeSpec {
        &SPEC
    }

    fn put(&self, req: &PutRequest, _state: &State) -> Result<PutOutcome, ArmError> {
        let input: JobInput = parse_body(&req.body)?;
        require_hci_kind(input.kind.as_deref())?;
        let desired = desired_from(&input.properties)?;
        let mut job_id = uuid::Uuid::new_v4().to_string();
        if let Some(existing) = req.existing {
            let current = render_job(existing)?.properties;
            if current.job_type != desired.job_type {
                return Err(ArmError::invalid_parameter(
                    "properties.jobType",
                    format!("The job type of '{}' is {:?} and cannot be changed.", req.name, current.job_type),
                ));
            }
            if current.desired() == desired {
                return Ok(PutOutcome::Unchanged);
            }
            if current.is_running() {
                return Err(ArmError::conflict(
                    "AnotherOperationInProgress",
                    format!("Job '{}' is still running; wait for it to finish before changing it.", req.name),
                ));
            }
            job_id = current.job_id;
        }
        let props = fresh_properties(desired, job_id);
        let sim = JobSim {
            cursor: Cursor::start(req.clock),
            start: req.now,
            plan: JobPlan::of(&props),
            failed: None,
            closed: None,
        };
        let due = timeline(&sim.plan).due(0, req.now, sim.cursor.speed);
        let doc = serde_json::to_value(JobDoc { kind: "HCI".into(), properties: props })
            .map_err(|e| ArmError::invalid_content(e.to_string()))?;
        Ok(PutOutcome::Write(Box::new(Written { doc, sim: sim_state(&sim), due, also: Txn::default() })))
    }

    /// Moves the cursor only: the document is rendered from it when someone reads it.
    fn advance(&self, resource: &mut StoredResource, ctx: &AdvanceCtx) -> Result<Advance, ArmError> {
        let mut sim: JobSim = resource.sim_as().ok_or_else(|| unreadable("no lifecycle state"))?;
        let line = timeline(&sim.plan);
        let mut advance = Advance::default();
        let Some(step) = line.get(sim.cursor.next).copied() else {
            // Past the timeline: the open session has reached its expiration.
            if sim.session_open(&line) {
                sim.closed = Some(ClosedSession { at: ctx.at, state: "Expired".into() });
            }
            resource.due = None;
            resource.sim = sim_state(&sim);
            return Ok(advance);
        };
        let failure = validation_problem(&sim.plan, step, ctx.at);
        // A failed validation skips the rest: the job completes (as Failed) next.
        sim.cursor.next = if failure.is_some() { complete_index(&line) } else { sim.cursor.next + 1 };
        if failure.is_some() {
            sim.failed = failure;
        }
        resource.due = line.due(sim.cursor.next, ctx.at, sim.cursor.speed);
        // Revoke closes the other sessions when its deployment finishes.
        let revokes = sim.plan.support_type == Some(RemoteSupportType::Revoke)
            && matches!(step, JobStep::FinishLeaf(Phase::Deployment, _))
            && sim.cursor.next == complete_index(&line);
        if revokes {
            advance.also = revoke_other_sessions(resource, ctx.state, ctx.at);
        }
        if step == JobStep::Complete {
            advance.completes =
                Some(if sim.failed.is_some() { OperationStatus::Failed } else { OperationStatus::Succeeded });
            advance.failure = sim.failed.as_ref().map(|message| OperationError {
                code: "JobValidationFailed".into(),
                message: message.clone(),
                http_status: 400,
            });
            sim.cursor.next = line.len();
            // An open remote-support session closes at its expiration.
            resource.due = sim.session_open(&line).then(|| sim.plan.expiration.unwrap_or(ctx.at).max(ctx.at));
        }
        resource.sim = sim_state(&sim);
        Ok(advance)
    }

    fn render(&self, resource: &StoredResource) -> Result<Option<Bytes>, ArmError> {
        if resource.sim.is_none() {
            return Ok(None);
        }
        Ok(Some(to_bytes(&render_job(resource)?)))
    }
}

/// Revoke closes the sessions other remote-support jobs on the same device hold open.
fn revoke_other_sessions(revoker: &StoredResource, state: &State, at: DateTime<Utc>) -> Txn {
    let mut txn = Txn::default();
    let key = revoker.key();
    let Some(device_key) = key.rfind("/jobs/").map(|i| &key[..i]) else {
        return txn;
    };
    for sibling in state.children(device_key, "/jobs/", SPEC.type_key()) {
        if sibling.key() == key {
            continue;
        }
        let Some(mut sim) = sibling.sim_as::<JobSim>() else { continue };
        if sim.session_open(&timeline(&sim.plan)) {
            sim.closed = Some(ClosedSession { at, state: "Revoked".into() });
            let mut updated = (**sibling).clone();
            updated.due = None;
            updated.sim = sim_state(&sim);
            txn.put(updated);
        }
    }
    txn
}

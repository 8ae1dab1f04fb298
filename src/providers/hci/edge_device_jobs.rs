//! Edge-device jobs: `{resourceUri}/providers/Microsoft.AzureStackHCI/edgeDevices/{d}/jobs/{j}`,
//! `kind: HCI`, polymorphic on `properties.jobType` (RemoteSupport, CollectLog).

use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::job_faults;
use super::job_lifecycle::{
    close_session, is_event, path, progress_step, run_step, timeline, JobPlan, JobProgress, JobStep, PathStep, Phase,
};
use super::job_model::*;
use super::{edge_name_rule, require_hci_kind, NAMESPACE};
use crate::arm::{ArmError, TypeOwner};
use crate::providers::{
    parse_body, parse_body_at, sim_state, Advance, AdvanceCtx, DeleteMissing, ListOrder, LroHeaders, OperationNames,
    PutKind, PutOutcome, PutRequest, Rendered, ResourceProvider, ResourceTypeSpec, TrackedState, Written,
};
use crate::sim::timeline::Cursor;
use crate::store::{to_bytes, OperationError, OperationStatus, OperationUrls, State, StoredResource, Txn};

static SPEC: ResourceTypeSpec = ResourceTypeSpec {
    namespace: NAMESPACE,
    type_names: &["edgeDevices", "jobs"],
    shown_type: None,
    name_levels: 1,
    name_join: "/",
    versions: &super::versions::EDGE_DEVICE_JOBS,
    owner: TypeOwner::Provider,
    extension: true,
    etag_in_body: false,
    expand_only: &[],
    name_rule: edge_name_rule,
    put: PutKind::AsyncOperation,
    patch: false,
    delete: LroHeaders::Location,
    delete_missing: DeleteMissing::NoContent,
    delete_duration: Duration::from_millis(500),
    actions: &[],
    action_headers: LroHeaders::Location,
    // provisioningState last: a follower that stops at a terminal state has seen the rest.
    tracked: &["/properties/status", "/properties/reportedProperties/percentComplete", "/properties/provisioningState"],
    operation_urls: OperationUrls::Arm,
    missing: None,
    views: &[],
    operations: OperationNames {
        group: "EdgeDeviceJobs",
        put: "CreateOrUpdate",
        list: "ListByEdgeDevice",
        list_in_subscription: None,
    },
    list_order: ListOrder::Id,
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

/// A remote-support session that a Revoke job closed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct ClosedSession {
    #[serde(with = "chrono::serde::ts_microseconds")]
    at: DateTime<Utc>,
    /// `Revoked` (or `Expired`).
    state: String,
}

/// The job's lifecycle state: with the time, enough to render its document at any moment.
/// `cursor.next` is the first step whose effects beyond the document are not yet applied.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct JobSim {
    #[serde(flatten)]
    cursor: Cursor,
    /// When the job was accepted: its timeline counts from here.
    #[serde(with = "chrono::serde::ts_microseconds")]
    start: DateTime<Utc>,
    plan: JobPlan,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    closed: Option<ClosedSession>,
}

impl JobSim {
    fn path(&self) -> Vec<PathStep> {
        path(&self.plan, self.start, self.cursor.speed)
    }

    /// When the session this job opens reaches its expiration (`None`: it opens none).
    fn session_expiry(&self, path: &[PathStep]) -> Option<DateTime<Utc>> {
        let complete = path.last().filter(|p| p.step == JobStep::Complete)?;
        let failed = path.iter().any(|p| p.failure.is_some());
        (self.plan.opens_session() && !failed).then(|| self.plan.expiration.unwrap_or(complete.at).max(complete.at))
    }

    /// The session is open at `now`: opened, not yet expired, not revoked.
    fn session_open_at(&self, now: DateTime<Utc>) -> bool {
        let path = self.path();
        let opened = path.iter().rev().find(|p| matches!(p.step, JobStep::FinishLeaf(Phase::Deployment, _)));
        let expiry = self.session_expiry(&path);
        self.closed.is_none() && opened.is_some_and(|p| p.at <= now) && expiry.is_some_and(|e| e > now)
    }

    /// The next step with effects beyond the document, or the session's expiry.
    fn next_event(&self, path: &[PathStep]) -> Option<DateTime<Utc>> {
        let event = path.iter().find(|p| p.index >= self.cursor.next && is_event(&self.plan, p.step));
        match event {
            Some(p) => Some(p.at),
            None => self.session_expiry(path).filter(|_| self.closed.is_none()),
        }
    }
}

fn unreadable(e: impl std::fmt::Display) -> ArmError {
    ArmError::new(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "InternalServerError",
        format!("stored job is unreadable: {e}"),
    )
}

/// The job's document at `now`: the accepted job with every step due by then replayed at its
/// time, and when it next changes (`None`: nothing is left to happen to it).
fn render_job(resource: &StoredResource, now: DateTime<Utc>) -> Result<(JobEnvelope, Option<DateTime<Utc>>), ArmError> {
    let mut doc: JobEnvelope = serde_json::from_slice(&resource.body.json()).map_err(unreadable)?;
    let Some(sim) = resource.sim_as::<JobSim>() else {
        return Ok((doc, None));
    };
    let path = sim.path();
    let total = timeline(&sim.plan).len();
    let done = path.partition_point(|p| p.at <= now);
    for step in &path[..done] {
        run_step(&mut doc.properties, step, total);
    }
    let mut next = path.get(done).map(|p| p.at);
    match (&sim.closed, sim.session_expiry(&path)) {
        (Some(closed), _) => {
            close_session(&mut doc.properties, closed.at, &closed.state);
        }
        (None, Some(expiry)) if expiry <= now => {
            close_session(&mut doc.properties, expiry, "Expired");
        }
        (None, Some(expiry)) => next = Some(next.map_or(expiry, |n| n.min(expiry))),
        (None, None) => {}
    }
    Ok((doc, next))
}

/// The tracked properties as a job's stored document holds them (the rest is skipped unread).
#[derive(Deserialize)]
struct TrackedDoc {
    properties: TrackedProps,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TrackedProps {
    status: String,
    provisioning_state: String,
    #[serde(default)]
    reported_properties: TrackedReported,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct TrackedReported {
    #[serde(default)]
    percent_complete: i32,
}

/// The job's tracked properties at `after` and after each later step (session changes touch
/// none of them): one pass over the path, for the event journal. Only the tracked properties
/// are followed through the steps, not the whole document.
fn tracked_job(resource: &StoredResource, after: DateTime<Utc>) -> Result<Vec<TrackedState>, ArmError> {
    let doc: TrackedDoc = serde_json::from_slice(&resource.body.json_once()).map_err(unreadable)?;
    let mut progress = JobProgress {
        status: doc.properties.status,
        provisioning_state: doc.properties.provisioning_state,
        percent_complete: doc.properties.reported_properties.percent_complete,
    };
    let snapshot = |p: &JobProgress, at| TrackedState {
        at,
        // In the order of `SPEC.tracked`.
        values: vec![
            Value::from(p.status.clone()),
            Value::from(p.percent_complete),
            Value::from(p.provisioning_state.clone()),
        ],
    };
    let Some(sim) = resource.sim_as::<JobSim>() else {
        return Ok(vec![snapshot(&progress, after)]);
    };
    let path = sim.path();
    let total = timeline(&sim.plan).len();
    let (done, ahead) = path.split_at(path.partition_point(|p| p.at <= after));
    for step in done {
        progress_step(&mut progress, step, total, &sim.plan);
    }
    let mut states = vec![snapshot(&progress, after)];
    for step in ahead {
        progress_step(&mut progress, step, total, &sim.plan);
        states.push(snapshot(&progress, step.at));
    }
    Ok(states)
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
            let current = render_job(existing, req.now)?.0.properties;
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
        let cursor = Cursor::start(req.clock);
        let mut plan = JobPlan::of(&props);
        job_faults::plant(&mut plan, req.now, cursor.speed, req.faults);
        let sim = JobSim { cursor, start: req.now, plan, closed: None };
        let due = sim.next_event(&sim.path());
        let doc = serde_json::to_value(JobDoc { kind: "HCI".into(), properties: props })
            .map_err(|e| ArmError::invalid_content(e.to_string()))?;
        Ok(PutOutcome::Write(Box::new(Written { doc, sim: sim_state(&sim), due, also: Txn::default() })))
    }

    /// Runs the job's next event: steps in between only change the document, which is
    /// rendered from the time when someone reads it.
    fn advance(&self, resource: &mut StoredResource, ctx: &AdvanceCtx) -> Result<Advance, ArmError> {
        let mut sim: JobSim = resource.sim_as().ok_or_else(|| unreadable("no lifecycle state"))?;
        let path = sim.path();
        let mut advance = Advance::default();
        let event = path.iter().find(|p| p.index >= sim.cursor.next && is_event(&sim.plan, p.step));
        match event {
            Some(event) if event.step == JobStep::Complete => {
                let failure = path.iter().find_map(|p| p.failure.clone());
                advance.completes =
                    Some(if failure.is_some() { OperationStatus::Failed } else { OperationStatus::Succeeded });
                advance.failure = failure.map(|f| OperationError {
                    code: f.code,
                    message: f.message,
                    http_status: f.status,
                    details: Vec::new(),
                });
                sim.cursor.next = timeline(&sim.plan).len();
            }
            Some(event) => {
                // The end of a Revoke job's deployment: the device closes the other sessions.
                advance.also = revoke_other_sessions(resource, ctx.state, event.at);
                sim.cursor.next = event.index + 1;
            }
            None => {
                // Past the timeline: the open session has reached its expiration.
                if let (None, Some(expiry)) = (&sim.closed, sim.session_expiry(&path)) {
                    sim.closed = Some(ClosedSession { at: expiry, state: "Expired".into() });
                }
            }
        }
        resource.due = sim.next_event(&path);
        resource.sim = sim_state(&sim);
        Ok(advance)
    }

    fn tracked_ahead(&self, resource: &StoredResource, after: DateTime<Utc>) -> Option<Vec<TrackedState>> {
        tracked_job(resource, after).ok()
    }

    fn failure_steps(&self) -> Vec<String> {
        job_faults::failure_points()
    }

    fn render(&self, resource: &StoredResource, now: DateTime<Utc>) -> Result<Option<Rendered>, ArmError> {
        if resource.sim.is_none() {
            return Ok(None);
        }
        let (doc, next) = render_job(resource, now)?;
        Ok(Some(Rendered::until(to_bytes(&doc), next)))
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
        if sim.session_open_at(at) {
            sim.closed = Some(ClosedSession { at, state: "Revoked".into() });
            let mut updated = (**sibling).clone();
            updated.sim = sim_state(&sim);
            updated.due = sim.next_event(&sim.path());
            txn.put(updated);
        }
    }
    txn
}

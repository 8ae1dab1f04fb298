//! Edge-device jobs: `{resourceUri}/providers/Microsoft.AzureStackHCI/edgeDevices/{d}/jobs/{j}`,
//! `kind: HCI`, polymorphic on `properties.jobType` (RemoteSupport, CollectLog).

use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::job_lifecycle::{close_session, complete_index, run_step, timeline, JobStep};
use super::job_model::*;
use super::{edge_name_rule, require_hci_kind, EDGE_API_VERSIONS, NAMESPACE};
use crate::arm::{ArmError, TypeOwner};
use crate::providers::{
    parse_body, parse_body_at, Advance, AdvanceCtx, DeleteMissing, LroHeaders, PutKind, PutOutcome, PutRequest,
    ResourceProvider, ResourceTypeSpec, Written,
};
use crate::sim::timeline::Cursor;
use crate::store::{OperationError, State, StoredResource, Txn};

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

fn load(resource: &StoredResource) -> Result<JobDoc, ArmError> {
    JobDoc::deserialize(&resource.body).map_err(|e| {
        ArmError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            format!("stored job is unreadable: {e}"),
        )
    })
}

fn save(resource: &mut StoredResource, doc: &JobDoc) {
    if let (Some(body), Ok(Value::Object(fields))) = (resource.body.as_object_mut(), serde_json::to_value(doc)) {
        body.extend(fields);
    }
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
            let current = load(existing)?.properties;
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
        let due = timeline(&props).due(0, req.now, req.clock);
        let doc = serde_json::to_value(JobDoc { kind: "HCI".into(), properties: props })
            .map_err(|e| ArmError::invalid_content(e.to_string()))?;
        Ok(PutOutcome::Write(Box::new(Written {
            doc,
            sim: Some(Cursor::default().to_sim()),
            due,
            also: Txn::default(),
        })))
    }

    fn advance(&self, resource: &mut StoredResource, ctx: &AdvanceCtx) -> Result<Advance, ArmError> {
        let mut doc = load(resource)?;
        let line = timeline(&doc.properties);
        let mut cursor = Cursor::from_sim(resource.sim.as_ref());
        let mut advance = Advance::default();
        let Some(step) = line.get(cursor.next).copied() else {
            // Past the timeline: the open session has reached its expiration.
            close_session(&mut doc.properties, ctx.at, "Expired");
            resource.due = None;
            save(resource, &doc);
            return Ok(advance);
        };
        let outcome = run_step(&mut doc.properties, step, ctx.at, cursor.next, line.len());
        // A failed validation skips the rest: the job completes (as Failed) next.
        cursor.next = if outcome.failure.is_some() { complete_index(&line) } else { cursor.next + 1 };
        resource.due = line.due(cursor.next, ctx.at, ctx.clock);
        if outcome.revoke_sessions {
            advance.also = revoke_other_sessions(resource, ctx.state, ctx.at);
        }
        if step == JobStep::Complete {
            advance.failure = failure_of(&doc);
            // An open remote-support session closes at its expiration.
            let reported = &doc.properties.reported_properties;
            let open = reported.node_settings.as_ref().is_some_and(|n| n.connection_status == "Connected");
            resource.due = open.then(|| doc.properties.expiration_timestamp.unwrap_or(ctx.at).max(ctx.at));
            cursor.next = line.len();
        }
        resource.sim = Some(cursor.to_sim());
        save(resource, &doc);
        Ok(advance)
    }
}

/// A job that failed validation ends its operation `Failed`, with the step's exception.
fn failure_of(doc: &JobDoc) -> Option<OperationError> {
    if doc.properties.provisioning_state != "Failed" {
        return None;
    }
    let message = doc
        .properties
        .reported_properties
        .validation_status
        .as_ref()
        .and_then(|s| s.steps.iter().flat_map(|r| r.steps.iter()).flat_map(|s| s.exception.iter()).next().cloned())
        .unwrap_or_else(|| "The job failed.".into());
    Some(OperationError { code: "JobValidationFailed".into(), message, http_status: 400 })
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
        let Ok(mut doc) = load(sibling) else { continue };
        if doc.properties.job_type == JobType::RemoteSupport && close_session(&mut doc.properties, at, "Revoked") {
            let mut updated = (**sibling).clone();
            updated.due = None;
            save(&mut updated, &doc);
            txn.put(updated);
        }
    }
    txn
}

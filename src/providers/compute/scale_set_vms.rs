//! Scale-set VMs: `…/virtualMachineScaleSets/{s}/virtualMachines/{instanceId}`, named
//! `{s}_{instanceId}`, of type `Microsoft.Compute/virtualMachines`. The set makes and removes
//! them; each runs its own power transitions, and its instance view is rendered from them.

use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::instance_view::{provisioning_state, vm_instance_view, ViewFacts, VmInstanceView, VmViewInput};
use super::vm_actions::VM_ONLY_ACTIONS;
use super::vm_power::{Power, VmAction, VmFailure, VmSim};
use super::vm_update::updated_model;
use super::{instance_id_rule, NAMESPACE};
use crate::arm::envelope::{new_resource, revised};
use crate::arm::{ArmError, Caller, TypeOwner};
use crate::faults::Deferred;
use crate::providers::{
    sim_state, ActionName, ActionOutcome, ActionRequest, Advance, AdvanceCtx, DeleteMissing, ListFilter, ListOrder,
    LroHeaders, OperationNames, PutKind, PutOutcome, PutRequest, ReadQuery, Rendered, ResourceProvider,
    ResourceTypeSpec, TrackedState, Written,
};
use crate::store::{to_bytes, OperationError, OperationStatus, OperationUrls, State, StoredResource, Txn};

const fn action(path: &'static str, operation: &'static str) -> ActionName {
    ActionName { path, operation }
}

/// The power actions a VM and a set both take.
pub const POWER_ACTIONS: [ActionName; 8] = [
    action("start", "Start"),
    action("powerOff", "PowerOff"),
    action("restart", "Restart"),
    action("deallocate", "Deallocate"),
    action("reimage", "Reimage"),
    action("reimageall", "ReimageAll"),
    action("redeploy", "Redeploy"),
    action("performMaintenance", "PerformMaintenance"),
];

/// The power actions followed by `own`: what a VM or a set takes (`N` is their sum).
pub const fn with_power_actions<const N: usize>(own: &[ActionName]) -> [ActionName; N] {
    assert!(N == POWER_ACTIONS.len() + own.len(), "N counts the power actions and the type's own");
    let mut all = [POWER_ACTIONS[0]; N];
    let mut i = 0;
    while i < N {
        all[i] = if i < POWER_ACTIONS.len() { POWER_ACTIONS[i] } else { own[i - POWER_ACTIONS.len()] };
        i += 1;
    }
    all
}

/// What a VM takes: the power actions and its own.
const VM_ACTIONS: [ActionName; 12] = with_power_actions(&VM_ONLY_ACTIONS);

static SPEC: ResourceTypeSpec = ResourceTypeSpec {
    namespace: NAMESPACE,
    type_names: &["virtualMachineScaleSets", "virtualMachines"],
    shown_type: Some("Microsoft.Compute/virtualMachines"),
    name_levels: 2,
    name_join: "_",
    versions: &super::versions::SCALE_SET_VMS,
    owner: TypeOwner::Provider,
    extension: false,
    etag_in_body: true,
    expand_only: &[("userData", "/properties/userData")],
    name_rule: instance_id_rule,
    put: PutKind::AsyncOperation,
    patch: false,
    delete: LroHeaders::LocationAndAsyncOperation,
    delete_missing: DeleteMissing::NoContent,
    delete_duration: Duration::from_secs(5),
    actions: &VM_ACTIONS,
    action_headers: LroHeaders::LocationAndAsyncOperation,
    tracked: &["/properties/provisioningState"],
    operation_urls: OperationUrls::Compute,
    missing: Some(("NotFound", "The entity was not found in this Azure location.")),
    views: &[action("instanceView", "GetInstanceView")],
    operations: OperationNames {
        group: "VirtualMachineScaleSetVMs",
        put: "Update",
        list: "List",
        list_in_subscription: None,
    },
    list_order: ListOrder::NumericName,
    names: OnceLock::new(),
};

pub struct ScaleSetVms;

/// Where a VM's set keeps it, as its instance view reports it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Placement {
    pub fault_domains: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub speed: f64,
}

/// What the store keeps for a VM: its power lifecycle, its placement, and what its instance
/// view shows of its model.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VmRecord {
    #[serde(flatten)]
    pub power: VmSim,
    pub placement: Placement,
    pub facts: ViewFacts,
}

fn unreadable(e: impl std::fmt::Display) -> ArmError {
    ArmError::new(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "InternalServerError",
        format!("stored VM is unreadable: {e}"),
    )
}

fn record_of(resource: &StoredResource) -> Result<VmRecord, ArmError> {
    resource.sim_as().ok_or_else(|| unreadable("no lifecycle state"))
}

/// A new VM of a set, being created (and failing with `failure`, when a fault rule planted one).
pub fn new_vm(
    id: String,
    doc: Value,
    placement: Placement,
    now: DateTime<Utc>,
    caller: &Caller,
    failure: Option<VmFailure>,
) -> StoredResource {
    let mut power = VmSim::new(VmAction::Create, Power::Deallocated, now, placement.speed, false);
    power.transition.failure = failure;
    let facts = ViewFacts::of(&doc);
    let mut vm = new_resource(&SPEC, id, doc, caller, now);
    vm.due = Some(power.transition.end);
    vm.sim = sim_state(&VmRecord { power, placement, facts });
    vm
}

/// A new version of the VM with `body`, its instance view following what the body now says
/// (computer name, disks); its power state and lifecycle are untouched.
pub fn with_body(vm: &StoredResource, body: &Value) -> Result<StoredResource, ArmError> {
    let mut record = record_of(vm)?;
    record.facts = ViewFacts::of(body);
    let mut next = revised(vm, body);
    next.sim = sim_state(&record);
    Ok(next)
}

/// The VM with `action` started on it at `now`, or why Compute refuses it.
pub fn start_action(
    vm: &StoredResource,
    action: VmAction,
    now: DateTime<Utc>,
    skip_shutdown: bool,
    failure: Option<VmFailure>,
) -> Result<StoredResource, ArmError> {
    let mut record = record_of(vm)?;
    let name = SPEC.shown_name(&vm.id);
    let state = record.power.at(now);
    if state.busy || vm.deleting {
        let running = if vm.deleting { "delete" } else { record.power.transition.action.name() };
        return Err(ArmError::conflict(
            "OperationNotAllowed",
            format!(
                "Operation '{}' is not allowed on VM '{name}' since the VM is in the middle of operation '{running}'.",
                action.name()
            ),
        ));
    }
    action.allowed_from(state.settled_power).map_err(|why| {
        ArmError::conflict(
            "OperationNotAllowed",
            format!("Operation '{}' is not allowed on VM '{name}' since {why}.", action.name()),
        )
    })?;
    let mut power = VmSim::new(action, state.settled_power, now, record.placement.speed, skip_shutdown);
    power.transition.failure = failure;
    if action == VmAction::Update {
        power.running_since = state.running_since;
    }
    power.maintained = match action {
        VmAction::PerformMaintenance if power.transition.failure.is_none() => Some(power.transition.end),
        _ => record.power.maintained,
    };
    record.power = power;
    let mut next = vm.clone();
    next.due = Some(record.power.transition.end);
    next.sim = sim_state(&record);
    next.failed = false;
    Ok(next)
}

/// A VM's instance id, the last segment of its id.
pub fn instance_of(vm: &StoredResource) -> Option<u64> {
    vm.id.rsplit('/').next().and_then(|i| i.parse().ok())
}

/// The step paths a `failStep` rule names one instance by, in any action or scale-out that
/// reaches it (as `GET /_azemu/faults/points` shows them).
pub const INSTANCE_STEPS: &str = "instances/{instanceId}";

fn instance_step(instance: u64) -> String {
    format!("instances/{instance}")
}

/// The failure a `failStep` rule naming this instance plants in the work on it.
pub fn instance_failure(faults: &Deferred, instance: u64) -> Option<VmFailure> {
    faults.take_step_failure(&[instance_step(instance)]).map(VmFailure::from)
}

/// The failure a `failOperation` rule plants in a request's work, as its VMs will report it.
pub fn operation_failure(faults: &Deferred) -> Option<VmFailure> {
    faults.take_operation_failure().map(VmFailure::from)
}

/// The failure planted in an action on one VM: a `failStep` rule naming the instance, else a
/// `failOperation` rule on the request (which then does not fire).
fn failure_of_vm(faults: &Deferred, vm: &StoredResource) -> Option<VmFailure> {
    match instance_of(vm).and_then(|i| instance_failure(faults, i)) {
        Some(failure) => {
            faults.decline_operation_failure();
            Some(failure)
        }
        None => operation_failure(faults),
    }
}

/// The VM's document at `now`, its provisioning state from its lifecycle.
fn render_vm(resource: &StoredResource, now: DateTime<Utc>) -> Result<Value, ArmError> {
    let mut doc: Value = serde_json::from_slice(&resource.body.json()).map_err(unreadable)?;
    let record = record_of(resource)?;
    doc["properties"]["provisioningState"] = json!(provisioning_state(&record.power.at(now), false));
    Ok(doc)
}

/// Calls `with` on the VM's instance view at `now` (built from its lifecycle record alone) and
/// whether it is settled (see `VmSim::settled_at`).
pub fn with_instance_view<T>(
    resource: &StoredResource,
    now: DateTime<Utc>,
    with: impl FnOnce(&VmInstanceView, bool) -> T,
) -> Result<T, ArmError> {
    let record = record_of(resource)?;
    let state = record.power.at(now);
    let settled = !resource.deleting && record.power.settled_at(now, record.placement.speed);
    let view = vm_instance_view(&VmViewInput {
        facts: &record.facts,
        sim: &record.power,
        state: &state,
        now,
        speed: record.placement.speed,
        deleting: resource.deleting,
        fault_domains: record.placement.fault_domains,
        placement_group: record.placement.group.as_deref(),
    });
    Ok(with(&view, settled))
}

pub fn instance_view(resource: &StoredResource, now: DateTime<Utc>) -> Result<Value, ArmError> {
    with_instance_view(resource, now, |view, _| serde_json::to_value(view).unwrap_or(Value::Null))
}

impl ResourceProvider for ScaleSetVms {
    fn spec(&self) -> &'static ResourceTypeSpec {
        &SPEC
    }

    /// An update of the VM's own model; VMs are made by their set, never by a PUT.
    fn put(&self, req: &PutRequest, _state: &State) -> Result<PutOutcome, ArmError> {
        let Some(existing) = req.existing else {
            return Err(ArmError::not_found("NotFound", "The entity was not found in this Azure location."));
        };
        let mut doc = updated_model(&existing.body_value(), &req.body)?;
        let vm = start_action(existing, VmAction::Update, req.now, false, failure_of_vm(req.faults, existing))?;
        doc["properties"]["provisioningState"] = json!("Updating");
        Ok(PutOutcome::Write(Box::new(Written { doc, sim: vm.sim, due: vm.due, also: Txn::default() })))
    }

    fn action(&self, req: &ActionRequest, state: &State) -> Result<ActionOutcome, ArmError> {
        if let Some(outcome) = super::vm_actions::run(req, state) {
            return outcome;
        }
        let action = VmAction::from_path(req.action).ok_or_else(|| {
            ArmError::bad_request("InvalidAction", format!("The action '{}' is not supported.", req.action))
        })?;
        let skip = req.query("skipShutdown").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let vm = start_action(req.resource, action, req.now, skip, failure_of_vm(req.faults, req.resource))?;
        let key = vm.key();
        let mut also = Txn::default();
        also.put(vm);
        Ok(ActionOutcome { ends_with: Some(key), also, ..ActionOutcome::timed(Duration::ZERO, None) })
    }

    /// A deleted VM leaves its set one instance smaller, as Compute counts it.
    fn deleting(&self, resource: &StoredResource, state: &State, _now: DateTime<Utc>) -> Txn {
        let mut txn = Txn::default();
        let key = resource.key();
        let Some(set) = key.rfind("/virtualmachines/").and_then(|i| state.resource(&key[..i])) else { return txn };
        let mut body = set.body_value();
        if let Some(capacity) = body.pointer("/sku/capacity").and_then(Value::as_u64) {
            body["sku"]["capacity"] = json!(capacity.saturating_sub(1));
            txn.put(revised(set, &body));
        }
        txn
    }

    fn advance(&self, resource: &mut StoredResource, _ctx: &AdvanceCtx) -> Result<Advance, ArmError> {
        let record = record_of(resource)?;
        resource.due = None;
        let failure = record.power.transition.failure.clone();
        Ok(Advance {
            completes: Some(if failure.is_some() { OperationStatus::Failed } else { OperationStatus::Succeeded }),
            failure: failure.map(OperationError::from),
            ..Advance::default()
        })
    }

    fn failure_steps(&self) -> Vec<String> {
        vec![INSTANCE_STEPS.to_string()]
    }

    fn render(&self, resource: &StoredResource, now: DateTime<Utc>) -> Result<Option<Rendered>, ArmError> {
        if resource.sim.is_none() {
            return Ok(None);
        }
        // Never settled: the power lifecycle must stay with the VM for its instance view.
        let doc = render_vm(resource, now)?;
        Ok(Some(Rendered { doc: to_bytes(&doc), settled: false }))
    }

    fn tracked_ahead(&self, resource: &StoredResource, after: DateTime<Utc>) -> Option<Vec<TrackedState>> {
        let record = record_of(resource).ok()?;
        let end = record.power.transition.end;
        let mut moments = vec![after];
        if end > after {
            moments.push(end);
        }
        let states = moments
            .into_iter()
            .map(|at| TrackedState { at, values: vec![json!(provisioning_state(&record.power.at(at), false))] });
        Some(states.collect())
    }

    fn view(
        &self,
        _view: &str,
        resource: &StoredResource,
        _state: &State,
        now: DateTime<Utc>,
    ) -> Result<Rendered, ArmError> {
        with_instance_view(resource, now, |view, settled| Rendered { doc: to_bytes(view), settled })
    }

    /// `$expand=instanceView` adds the instance view; `$select=instanceView/statuses` keeps
    /// only its statuses (the form that lists power states).
    fn expanded(&self, doc: &Value, query: &ReadQuery, resource: &StoredResource, now: DateTime<Utc>) -> Option<Value> {
        let asks = |v: &Option<String>, what: &str| v.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(what));
        let statuses_only = asks(&query.select, "instanceView/statuses");
        if !asks(&query.expand, "instanceView") && !statuses_only && !asks(&query.select, "instanceView") {
            return None;
        }
        let mut view = instance_view(resource, now).ok()?;
        if statuses_only {
            view = json!({ "statuses": view["statuses"].take() });
        }
        let mut doc = doc.clone();
        doc["properties"]["instanceView"] = view;
        Some(doc)
    }

    /// The filters Compute allows on a VM list.
    fn list_filter(&self, filter: &str) -> Result<Option<ListFilter>, ArmError> {
        let normalised: String = filter.split_whitespace().collect::<Vec<_>>().join(" ").replace('"', "'");
        let keep: ListFilter = match normalised.to_ascii_lowercase().as_str() {
            // Every VM reports a power state.
            "startswith(instanceview/statuses/code, 'powerstate') eq true" => Box::new(|_| true),
            "properties/latestmodelapplied eq true" => {
                Box::new(|doc| doc.pointer("/properties/latestModelApplied") == Some(&json!(true)))
            }
            "properties/latestmodelapplied eq false" => {
                Box::new(|doc| doc.pointer("/properties/latestModelApplied") == Some(&json!(false)))
            }
            _ => {
                return Err(ArmError::invalid_parameter(
                    "$filter",
                    format!(
                        "The value '{filter}' of '$filter' is not supported. Allowed values are \
                         'startswith(instanceView/statuses/code, 'PowerState') eq true', \
                         'properties/latestModelApplied eq true', 'properties/latestModelApplied eq false'."
                    ),
                ))
            }
        };
        Ok(Some(keep))
    }
}

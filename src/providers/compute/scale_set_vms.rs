//! Scale-set VMs: `…/virtualMachineScaleSets/{s}/virtualMachines/{instanceId}`, named
//! `{s}_{instanceId}`, of type `Microsoft.Compute/virtualMachines`. The set makes and removes
//! them; each runs its own power transitions, and its instance view is rendered from them.

use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::vm_actions::VM_ONLY_ACTIONS;
use super::vm_lifecycle::{self as lifecycle, start_action, Placement};
use super::vm_power::{VmAction, VmFailure};
use super::vm_update::updated_model;
use super::{instance_id_rule, NAMESPACE};
use crate::arm::envelope::revised;
use crate::arm::{ArmError, Caller, TypeOwner};
use crate::faults::Deferred;
use crate::providers::{
    ActionName, ActionOutcome, ActionRequest, Advance, AdvanceCtx, DeleteMissing, ListFilter, ListOrder, LroHeaders,
    OperationNames, PutKind, PutOutcome, PutRequest, ResourceProvider, ResourceTypeSpec, Written,
};
use crate::store::{OperationUrls, State, StoredResource, Txn};

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

/// A new VM of a set, being created (and failing with `failure`, when a fault rule planted one).
pub fn new_vm(
    id: String,
    doc: Value,
    placement: Placement,
    now: DateTime<Utc>,
    caller: &Caller,
    failure: Option<VmFailure>,
) -> StoredResource {
    lifecycle::new_vm(&SPEC, id, doc, placement, now, caller, failure)
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

    /// A Flexible set lists its member VMs.
    fn list_members(&self, parent_key: &str, state: &State) -> Option<Vec<std::sync::Arc<StoredResource>>> {
        let set = state.resource(parent_key)?;
        let flexible =
            set.body_value().pointer("/properties/orchestrationMode").and_then(Value::as_str) == Some("Flexible");
        flexible.then(|| super::flexible::members(state, &set.id))
    }

    /// A deleted VM leaves its set one instance smaller, as Compute counts it.
    fn deleting(&self, resource: &StoredResource, state: &State, _now: DateTime<Utc>) -> Result<Txn, ArmError> {
        let mut txn = Txn::default();
        let key = resource.key();
        let Some(set) = key.rfind("/virtualmachines/").and_then(|i| state.resource(&key[..i])) else { return Ok(txn) };
        let mut body = set.body_value();
        if let Some(capacity) = body.pointer("/sku/capacity").and_then(Value::as_u64) {
            body["sku"]["capacity"] = json!(capacity.saturating_sub(1));
            txn.put(revised(set, &body));
        }
        Ok(txn)
    }

    fn advance(&self, resource: &mut StoredResource, _ctx: &AdvanceCtx) -> Result<Advance, ArmError> {
        lifecycle::advance(resource)
    }

    fn failure_steps(&self) -> Vec<String> {
        vec![INSTANCE_STEPS.to_string()]
    }

    super::vm_lifecycle::shared_reads!();

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

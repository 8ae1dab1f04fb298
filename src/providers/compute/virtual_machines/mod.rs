//! Virtual machines: `…/resourceGroups/{g}/providers/Microsoft.Compute/virtualMachines/{vm}`.
//! A PUT creates (or updates) the VM and runs its power lifecycle, the one scale-set VMs run
//! (`vm_lifecycle`); the power actions start its transitions; its own actions (patches, run
//! command, reapply, eviction) are in `actions`.

mod actions;
pub mod model;

use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::instance_view::ViewFacts;
use super::keep::{kept_over, same_location};
use super::scale_set_vms::operation_failure;
use super::vm_lifecycle::{self as lifecycle, record_of, start_action, Placement};
use super::vm_power::VmAction;
use super::{scale_set_name_rule, NAMESPACE};
use crate::arm::{timestamp, ArmError, TypeOwner};
use crate::providers::{
    sim_state, ActionName, ActionOutcome, ActionRequest, Advance, AdvanceCtx, DeleteMissing, ListFilter, ListOrder,
    LroHeaders, OperationNames, PutKind, PutOutcome, PutRequest, ResourceProvider, ResourceTypeSpec, Written,
};
use crate::store::{OperationUrls, State, StoredResource, Txn};

const fn action(path: &'static str, operation: &'static str) -> ActionName {
    ActionName { path, operation }
}

const ACTIONS: [ActionName; 15] = [
    action("start", "Start"),
    action("powerOff", "PowerOff"),
    action("restart", "Restart"),
    action("deallocate", "Deallocate"),
    action("reimage", "Reimage"),
    action("redeploy", "Redeploy"),
    action("performMaintenance", "PerformMaintenance"),
    action("reapply", "Reapply"),
    action("simulateEviction", "SimulateEviction"),
    action("assessPatches", "AssessPatches"),
    action("installPatches", "InstallPatches"),
    action("runCommand", "RunCommand"),
    action("retrieveBootDiagnosticsData", "RetrieveBootDiagnosticsData"),
    action("attachDetachDataDisks", "AttachDetachDataDisks"),
    action("generalize", "Generalize"),
];

static SPEC: ResourceTypeSpec = ResourceTypeSpec {
    namespace: NAMESPACE,
    type_names: &["virtualMachines"],
    shown_type: None,
    name_levels: 1,
    name_join: "/",
    versions: &super::versions::VMS,
    owner: TypeOwner::Provider,
    extension: false,
    etag_in_body: true,
    expand_only: &[("userData", "/properties/userData")],
    name_rule: scale_set_name_rule,
    put: PutKind::AsyncOperation,
    patch: true,
    delete: LroHeaders::LocationAndAsyncOperation,
    delete_missing: DeleteMissing::NoContent,
    delete_duration: Duration::from_secs(5),
    actions: &ACTIONS,
    action_headers: LroHeaders::LocationAndAsyncOperation,
    tracked: &["/properties/provisioningState"],
    operation_urls: OperationUrls::Compute,
    missing: None,
    views: &[action("instanceView", "InstanceView"), action("vmSizes", "ListAvailableSizes")],
    operations: OperationNames {
        group: "VirtualMachines",
        put: "CreateOrUpdate",
        list: "List",
        list_in_subscription: Some("ListAll"),
    },
    list_order: ListOrder::Id,
    names: OnceLock::new(),
};

pub struct VirtualMachines;

/// A new VM, being created (and failing with `failure`, when a fault rule planted one).
pub fn new_vm(
    id: String,
    doc: Value,
    now: DateTime<Utc>,
    speed: f64,
    caller: &crate::arm::Caller,
    failure: Option<super::vm_power::VmFailure>,
) -> StoredResource {
    let placement = Placement { fault_domains: 1, group: None, speed };
    lifecycle::new_vm(&SPEC, id, doc, placement, now, caller, failure)
}

/// The clock speed the VM's lifecycle runs at.
fn speed_of(vm: &StoredResource) -> f64 {
    record_of(vm).map_or(1.0, |r| r.placement.speed)
}

/// What marks a VM gone `after` from `now` without a DELETE request (an eviction, a scale-in):
/// the VM, `Deleting`, and its disks released.
pub fn doomed(vm: &StoredResource, state: &State, now: DateTime<Utc>, after: Duration) -> Txn {
    let speed = speed_of(vm);
    let mut txn = super::disks::released(&vm.body_value(), state, now, speed);
    let mut gone = vm.clone();
    gone.deleting = true;
    gone.due = Some(now + crate::sim::scaled(after, speed));
    txn.put(gone);
    txn
}

/// A VM created into a Flexible set makes the set one instance larger; the set must exist and
/// be Flexible.
fn joining(doc: &Value, state: &State) -> Result<Txn, ArmError> {
    let mut txn = Txn::default();
    let Some(set_id) = super::flexible::set_of(doc) else { return Ok(txn) };
    let set = state.resource(&set_id.to_ascii_lowercase()).ok_or_else(|| {
        ArmError::not_found("NotFound", format!("The virtual machine scale set '{set_id}' was not found."))
            .with_target("virtualMachineScaleSet.id")
    })?;
    let mut body = set.body_value();
    let flexible = body.pointer("/properties/orchestrationMode").and_then(Value::as_str) == Some("Flexible");
    if !flexible {
        return Err(ArmError::invalid_parameter(
            "virtualMachineScaleSet.id",
            "Only a scale set in Flexible orchestration mode takes virtual machines.",
        ));
    }
    let capacity = body.pointer("/sku/capacity").and_then(Value::as_u64).unwrap_or(0);
    body["sku"]["capacity"] = json!(capacity + 1);
    txn.put(crate::arm::envelope::revised(set, &body));
    Ok(txn)
}

impl ResourceProvider for VirtualMachines {
    fn spec(&self) -> &'static ResourceTypeSpec {
        &SPEC
    }

    fn put(&self, req: &PutRequest, state: &State) -> Result<PutOutcome, ArmError> {
        let body = match req.existing {
            Some(existing) => {
                let stored = existing.body_value();
                same_location(&stored, &req.body)?;
                kept_over(&stored, &req.body, &["provisioningState", "instanceView"])
            }
            None => req.body.clone(),
        };
        let checked = model::check(&body, req.name, req.existing.is_none())?;
        let created = req
            .existing
            .and_then(|e| e.body_value().pointer("/properties/timeCreated").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| timestamp(req.now));
        let mut doc = model::vm_doc(&body, req.id, req.name, &created, &checked);
        let failure = operation_failure(req.faults);
        let written = match req.existing {
            None => {
                doc["properties"]["provisioningState"] = json!("Creating");
                let vm = new_vm(req.id.to_string(), doc.clone(), req.now, req.clock.speed(), req.caller, failure);
                let mut also = joining(&doc, state)?;
                for disk in super::disks::made_for_vm(&doc, req.id, req.now, req.caller) {
                    also.put(disk);
                }
                Written { doc, sim: vm.sim, due: vm.due, also }
            }
            Some(existing) => {
                doc["properties"]["provisioningState"] = json!("Updating");
                let vm = start_action(existing, VmAction::Update, req.now, false, failure)?;
                let mut record = record_of(&vm)?;
                record.facts = ViewFacts::of(&doc);
                Written { doc, sim: sim_state(&record), due: vm.due, also: Txn::default() }
            }
        };
        Ok(PutOutcome::Write(Box::new(written)))
    }

    fn action(&self, req: &ActionRequest, state: &State) -> Result<ActionOutcome, ArmError> {
        if let Some(outcome) = actions::run(req, state) {
            return outcome;
        }
        let action = VmAction::from_path(req.action).ok_or_else(|| {
            ArmError::bad_request("InvalidAction", format!("The action '{}' is not supported.", req.action))
        })?;
        let skip = req.query("skipShutdown").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let hibernate =
            action == VmAction::Deallocate && req.query("hibernate").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if hibernate
            && req.resource.body_value().pointer("/properties/additionalCapabilities/hibernationEnabled")
                != Some(&json!(true))
        {
            return Err(ArmError::conflict(
                "OperationNotAllowed",
                "Hibernation is not enabled on this VM: set additionalCapabilities.hibernationEnabled.",
            ));
        }
        let mut vm = start_action(req.resource, action, req.now, skip, operation_failure(req.faults))?;
        if hibernate {
            let mut record = record_of(&vm)?;
            record.power.hibernate = true;
            vm.sim = sim_state(&record);
        }
        let key = vm.key();
        let mut also = Txn::default();
        also.put(vm);
        Ok(ActionOutcome { ends_with: Some(key), also, ..ActionOutcome::timed(Duration::ZERO, None) })
    }

    fn advance(&self, resource: &mut StoredResource, _ctx: &AdvanceCtx) -> Result<Advance, ArmError> {
        lifecycle::advance(resource)
    }

    /// A deleted VM deletes or detaches its disks; a deleted member leaves its Flexible set one
    /// instance smaller.
    fn deleting(&self, resource: &StoredResource, state: &State, now: DateTime<Utc>) -> Result<Txn, ArmError> {
        let doc = resource.body_value();
        let mut txn = super::disks::released(&doc, state, now, speed_of(resource));
        let Some(set) = super::flexible::set_of(&doc).and_then(|id| state.resource(&id.to_ascii_lowercase())) else {
            return Ok(txn);
        };
        let mut body = set.body_value();
        if let Some(capacity) = body.pointer("/sku/capacity").and_then(Value::as_u64) {
            body["sku"]["capacity"] = json!(capacity.saturating_sub(1));
            txn.put(crate::arm::envelope::revised(set, &body));
        }
        Ok(txn)
    }

    super::vm_lifecycle::shared_reads!();

    /// The filter Compute allows on a VM list: the members of one Flexible scale set.
    fn list_filter(&self, filter: &str) -> Result<Option<ListFilter>, ArmError> {
        let refused = || {
            ArmError::invalid_parameter(
                "$filter",
                format!(
                    "The value '{filter}' of '$filter' is not supported. Allowed: 'virtualMachineScaleSet/id' eq '{{id}}'."
                ),
            )
        };
        let normalised = filter.trim().replace('"', "'");
        let (field, value) = normalised.split_once(" eq ").ok_or_else(refused)?;
        if !field.trim().trim_matches('\'').eq_ignore_ascii_case("virtualMachineScaleSet/id") {
            return Err(refused());
        }
        let wanted = value.trim().trim_matches('\'').to_ascii_lowercase();
        Ok(Some(Box::new(move |doc: &Value| {
            doc.pointer("/properties/virtualMachineScaleSet/id")
                .and_then(Value::as_str)
                .is_some_and(|id| id.eq_ignore_ascii_case(&wanted))
        })))
    }
}

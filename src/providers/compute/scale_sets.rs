//! Virtual machine scale sets (Uniform orchestration):
//! `…/resourceGroups/{g}/providers/Microsoft.Compute/virtualMachineScaleSets/{s}`. A PUT (or
//! PATCH) makes or removes instances to match `sku.capacity`; set-level actions run a power
//! action on some or all instances; the instance view counts its VMs' states.

use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::flexible;
use super::instance_view::{placement_group, scale_set_instance_view};
use super::keep::kept_over;
use super::model_upgrade::{model_changed, out_of_date, upgraded, upgrades_itself};
use super::scale_set_model::{check, scale_set_doc, vm_doc, Model};
use super::scale_set_vms::{
    instance_failure, instance_of, new_vm, operation_failure, with_power_actions, ScaleSetVms, INSTANCE_STEPS,
};
use super::virtual_machines;
use super::vm_lifecycle::{start_action, with_instance_view, Placement};
use super::vm_power::{VmAction, VmFailure};
use super::vm_update::protected_from_scale_in;
use super::{scale_set_name_rule, NAMESPACE};
use crate::arm::envelope::revised;
use crate::arm::{timestamp, ArmError, TypeOwner};
use crate::providers::{
    parse_body, sim_state, ActionName, ActionOutcome, ActionRequest, Advance, AdvanceCtx, DeleteMissing, ListOrder,
    LroHeaders, OperationNames, PutKind, PutOutcome, PutRequest, Rendered, ResourceProvider, ResourceTypeSpec, Written,
};
use crate::sim::{scaled, Clock};
use crate::store::{to_bytes, OperationStatus, OperationUrls, State, StoredResource, Txn};

const ACTIONS: [ActionName; 10] = with_power_actions(&[
    ActionName { path: "delete", operation: "DeleteInstances" },
    ActionName { path: "manualupgrade", operation: "UpdateInstances" },
]);

/// How long removing an instance takes (as a VM's DELETE).
const REMOVAL: Duration = Duration::from_secs(5);
/// How long a model change with no instances to add or remove takes.
const UPDATE: Duration = Duration::from_secs(2);

static SPEC: ResourceTypeSpec = ResourceTypeSpec {
    namespace: NAMESPACE,
    type_names: &["virtualMachineScaleSets"],
    shown_type: None,
    name_levels: 1,
    name_join: "/",
    versions: &super::versions::SCALE_SETS,
    owner: TypeOwner::Provider,
    extension: false,
    etag_in_body: true,
    expand_only: &[("userData", "/properties/virtualMachineProfile/userData")],
    name_rule: scale_set_name_rule,
    put: PutKind::AsyncOperation,
    patch: true,
    delete: LroHeaders::LocationAndAsyncOperation,
    delete_missing: DeleteMissing::NoContent,
    delete_duration: Duration::from_secs(5),
    actions: &ACTIONS,
    action_headers: LroHeaders::LocationAndAsyncOperation,
    tracked: &["/sku/capacity", "/properties/provisioningState"],
    operation_urls: OperationUrls::Compute,
    missing: None,
    views: &[ActionName { path: "instanceView", operation: "GetInstanceView" }],
    operations: OperationNames {
        group: "VirtualMachineScaleSets",
        put: "CreateOrUpdate",
        list: "List",
        list_in_subscription: Some("ListAll"),
    },
    list_order: ListOrder::Id,
    names: OnceLock::new(),
};

/// The set's own lifecycle state: the next instance id it hands out (ids are never reused),
/// and the failure its running PUT ends with when a fault rule failed one of the instances it
/// makes.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SetSim {
    next_instance: u64,
    speed: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    failure: Option<VmFailure>,
}

pub struct ScaleSets;

/// The set's live instances (not being deleted), by instance id.
fn instances<'a>(state: &'a State, set_key: &str) -> Vec<(u64, &'a std::sync::Arc<StoredResource>)> {
    let vm_type = ScaleSetVms.spec().type_key();
    let mut vms: Vec<_> = state
        .children(set_key, "/virtualmachines/", vm_type)
        .filter(|r| !r.deleting)
        .filter_map(|r| instance_of(r).map(|i| (i, r)))
        .collect();
    vms.sort_by_key(|(i, _)| *i);
    vms
}

fn placement(set_id: &str, model: &Model, clock_speed: f64) -> Placement {
    Placement {
        fault_domains: model.fault_domains,
        group: placement_group(set_id, model.single_placement_group),
        speed: clock_speed,
    }
}

/// Removes instances: they show `Deleting` and are gone after [`REMOVAL`].
fn remove(vm: &StoredResource, now: DateTime<Utc>, clock: &Clock) -> StoredResource {
    let mut doomed = vm.clone();
    doomed.deleting = true;
    doomed.due = Some(now + clock.scaled(REMOVAL));
    doomed
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InstanceIdsInput {
    instance_ids: Option<Vec<String>>,
}

/// The instances an action names (`instanceIds`: instance ids, or VM names in a Flexible set;
/// all, when absent or `*`), from the set's live ones.
fn targets<'a>(
    req: &ActionRequest,
    live: &[(String, &'a StoredResource)],
    required: bool,
) -> Result<Vec<&'a StoredResource>, ArmError> {
    let ids = match &req.body {
        Some(body) => parse_body::<InstanceIdsInput>(body)?.instance_ids,
        None => None,
    };
    let ids = match ids {
        Some(ids) if !(ids.len() == 1 && ids[0] == "*") => ids,
        Some(_) => return Ok(live.iter().map(|(_, r)| *r).collect()),
        None if required => {
            return Err(ArmError::invalid_parameter(
                "instanceIds",
                "Required parameter 'instanceIds' is missing (null).",
            ))
        }
        None => return Ok(live.iter().map(|(_, r)| *r).collect()),
    };
    if ids.is_empty() && required {
        return Err(ArmError::invalid_parameter("instanceIds", "At least one instance id is required."));
    }
    ids.iter()
        .map(|id| {
            live.iter().find(|(i, _)| i.eq_ignore_ascii_case(id)).map(|(_, r)| *r).ok_or_else(|| {
                ArmError::invalid_parameter(
                    "instanceIds",
                    format!("The provided instanceId {id} is not an active Virtual Machine Scale Set VM instanceId."),
                )
            })
        })
        .collect()
}

fn is_flexible(set: &Value) -> bool {
    set.pointer("/properties/orchestrationMode").and_then(Value::as_str) == Some("Flexible")
}

/// The set's live instances, each with the id actions name it by: the instance id, or a
/// Flexible member's VM name.
fn named_instances(state: &State, set: &StoredResource) -> Vec<(String, std::sync::Arc<StoredResource>)> {
    if is_flexible(&set.body_value()) {
        return flexible::members(state, &set.id)
            .into_iter()
            .map(|vm| (vm.id.rsplit('/').next().unwrap_or_default().to_string(), vm))
            .collect();
    }
    instances(state, &set.key()).into_iter().map(|(i, vm)| (i.to_string(), vm.clone())).collect()
}

impl ResourceProvider for ScaleSets {
    fn spec(&self) -> &'static ResourceTypeSpec {
        &SPEC
    }

    fn put(&self, req: &PutRequest, state: &State) -> Result<PutOutcome, ArmError> {
        // An update keeps what the body leaves out (`az vmss scale` sends only `location` and `sku`;
        // `az vmss update` sends the model without its image reference).
        let computed = ["provisioningState", "uniqueId", "timeCreated"];
        let body = req.existing.map_or_else(|| req.body.clone(), |e| kept_over(&e.body_value(), &req.body, &computed));
        let body = &body;
        let model = check(body)?;
        let key = req.id.to_ascii_lowercase();
        let previous = req.existing.map(|e| e.body_value());
        let created = previous
            .as_ref()
            .and_then(|p| p.pointer("/properties/timeCreated").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| timestamp(req.now));
        let provisioning = if req.existing.is_some() { "Updating" } else { "Creating" };
        let doc = scale_set_doc(body, req.id, &created, provisioning, &model);
        let mut sim: SetSim = req.existing.and_then(|e| e.sim_as()).unwrap_or(SetSim {
            next_instance: 0,
            speed: req.clock.speed(),
            failure: None,
        });
        sim.failure = None;
        let live = instances(state, &key);
        let mut also = Txn::default();
        let mut takes = UPDATE;
        let set_name = req.name;
        // The instances there are learn of a new model as the upgrade policy says.
        if previous.as_ref().is_some_and(|p| model_changed(p, &doc)) {
            let upgrade = upgrades_itself(&doc);
            for (_, vm) in &live {
                let next = if upgrade { upgraded(vm, &doc, &model, req.id, set_name)? } else { out_of_date(vm)? };
                also.put(next);
            }
        }
        if model.flexible {
            takes = self.scale_flexible(req, state, &doc, &model, &mut sim, &mut also)?.unwrap_or(takes);
        } else if model.capacity > live.len() {
            for _ in live.len()..model.capacity {
                let instance = sim.next_instance;
                sim.next_instance += 1;
                let vm_id = format!("{}/virtualMachines/{instance}", req.id);
                let vm = vm_doc(&doc, &model, req.id, set_name, instance, &timestamp(req.now));
                let failure = instance_failure(req.faults, instance);
                if sim.failure.is_none() {
                    sim.failure.clone_from(&failure);
                }
                also.put(new_vm(vm_id, vm, placement(req.id, &model, sim.speed), req.now, req.caller, failure));
            }
            takes = VmAction::Create.nominal(false);
        } else if model.capacity < live.len() {
            // Scale-in removes the newest instances first, passing over protected ones.
            let removable = live.iter().rev().filter(|(_, vm)| !protected_from_scale_in(&vm.body_value()));
            for (_, vm) in removable.take(live.len() - model.capacity) {
                also.put(remove(vm, req.now, req.clock));
            }
            takes = REMOVAL;
        }
        let due = req.now + scaled(takes, sim.speed);
        Ok(PutOutcome::Write(Box::new(Written { doc, sim: sim_state(&sim), due: Some(due), also })))
    }

    /// The PUT ends: `Succeeded`, or `Failed` with the error of the first instance it made that
    /// a fault rule failed.
    fn advance(&self, resource: &mut StoredResource, _ctx: &AdvanceCtx) -> Result<Advance, ArmError> {
        let mut sim: Option<SetSim> = resource.sim_as();
        let failure = sim.as_mut().and_then(|s| s.failure.take());
        if let Some(sim) = &sim {
            resource.sim = sim_state(sim);
        }
        let mut body = resource.body_value();
        body["properties"]["provisioningState"] = json!(if failure.is_some() { "Failed" } else { "Succeeded" });
        resource.set_body(&body);
        resource.due = None;
        let completes = if failure.is_some() { OperationStatus::Failed } else { OperationStatus::Succeeded };
        Ok(Advance { completes: Some(completes), failure: failure.map(Into::into), ..Advance::default() })
    }

    fn action(&self, req: &ActionRequest, state: &State) -> Result<ActionOutcome, ArmError> {
        let owned = named_instances(state, req.resource);
        let live: Vec<(String, &StoredResource)> = owned.iter().map(|(i, vm)| (i.clone(), vm.as_ref())).collect();
        let mut also = Txn::default();
        if req.action == "manualupgrade" && is_flexible(&req.resource.body_value()) {
            return Err(ArmError::conflict(
                "OperationNotAllowed",
                "Manual upgrade of instances is not supported for a scale set in Flexible orchestration mode.",
            ));
        }
        if req.action == "manualupgrade" {
            let set = req.resource.body_value();
            let model = check(&set)?;
            let name = req.resource.id.rsplit('/').next().unwrap_or_default();
            for vm in targets(req, &live, true)? {
                also.put(upgraded(vm, &set, &model, &req.resource.id, name)?);
            }
            return Ok(ActionOutcome { also, ..ActionOutcome::timed(UPDATE, None) });
        }
        if req.action == "delete" {
            let doomed = targets(req, &live, true)?;
            let flexible = is_flexible(&req.resource.body_value());
            for vm in &doomed {
                if vm.deleting {
                    continue;
                }
                match flexible {
                    // A member's disks go as its own deletion would take them.
                    true => also.extend(virtual_machines::doomed(vm, state, req.now, REMOVAL)),
                    false => also.put(remove(vm, req.now, req.clock)),
                }
            }
            let mut body = req.resource.body_value();
            let capacity = body.pointer("/sku/capacity").and_then(Value::as_u64).unwrap_or(0);
            body["sku"]["capacity"] = json!(capacity.saturating_sub(doomed.len() as u64));
            also.put(revised(req.resource, &body));
            return Ok(ActionOutcome { also, ..ActionOutcome::timed(REMOVAL, None) });
        }
        let action = VmAction::from_path(req.action).ok_or_else(|| {
            ArmError::bad_request("InvalidAction", format!("The action '{}' is not supported.", req.action))
        })?;
        let skip = req.query("skipShutdown").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let targeted = targets(req, &live, false)?;
        // A `failStep` rule fails the instances it names; a `failOperation` rule, all of them.
        let everywhere = operation_failure(req.faults);
        let mut first_failure = everywhere.clone();
        for vm in targeted {
            let failure = instance_of(vm).and_then(|i| instance_failure(req.faults, i)).or_else(|| everywhere.clone());
            if first_failure.is_none() {
                first_failure.clone_from(&failure);
            }
            also.put(start_action(vm, action, req.now, skip, failure)?);
        }
        let mut outcome = ActionOutcome { also, ..ActionOutcome::timed(action.nominal(skip), None) };
        outcome.planned_failure = first_failure.map(Into::into);
        Ok(outcome)
    }

    fn view(
        &self,
        _view: &str,
        resource: &StoredResource,
        state: &State,
        now: DateTime<Utc>,
    ) -> Result<Rendered, ArmError> {
        let doc = resource.body_value();
        let key = resource.key();
        let vm_type = ScaleSetVms.spec().type_key();
        let vms: Vec<std::sync::Arc<StoredResource>> = match is_flexible(&doc) {
            true => flexible::members(state, &resource.id),
            false => state.children(&key, "/virtualmachines/", vm_type).cloned().collect(),
        };
        let codes = vms.iter().filter_map(|vm| with_instance_view(vm, now, |view, _| view.codes()).ok()).flatten();
        let provisioning = doc.pointer("/properties/provisioningState").and_then(Value::as_str).unwrap_or("Succeeded");
        let time = doc.pointer("/systemData/lastModifiedAt").and_then(Value::as_str).unwrap_or_default();
        // Its VMs change it without a new version of the set.
        Ok(Rendered {
            doc: to_bytes(&scale_set_instance_view(&doc, provisioning, time, vms.len(), codes)),
            holds: crate::providers::Holds::Now,
        })
    }

    fn failure_steps(&self) -> Vec<String> {
        vec![INSTANCE_STEPS.to_string()]
    }

    /// A Flexible set takes its VMs with it (a Uniform set's are its children, deleted with it).
    fn deleting(&self, resource: &StoredResource, state: &State, now: DateTime<Utc>) -> Result<Txn, ArmError> {
        let mut txn = Txn::default();
        if is_flexible(&resource.body_value()) {
            for vm in flexible::members(state, &resource.id) {
                txn.extend(virtual_machines::doomed(&vm, state, now, REMOVAL));
            }
        }
        Ok(txn)
    }
}

impl ScaleSets {
    /// Makes or removes a Flexible set's member VMs to match its capacity; how long that takes,
    /// when it changes anything.
    fn scale_flexible(
        &self,
        req: &PutRequest,
        state: &State,
        doc: &Value,
        model: &Model,
        sim: &mut SetSim,
        also: &mut Txn,
    ) -> Result<Option<Duration>, ArmError> {
        let members = flexible::members(state, req.id);
        if model.capacity > members.len() {
            for _ in members.len()..model.capacity {
                let n = sim.next_instance;
                sim.next_instance += 1;
                let failure = instance_failure(req.faults, n);
                if sim.failure.is_none() {
                    sim.failure.clone_from(&failure);
                }
                let at = (req.now, sim.speed);
                flexible::new_member(also, doc, model, req.id, req.name, n, at, req.caller, failure);
            }
            return Ok(Some(VmAction::Create.nominal(false)));
        }
        if model.capacity < members.len() {
            let removable = members.iter().rev().filter(|vm| !protected_from_scale_in(&vm.body_value()));
            for vm in removable.take(members.len() - model.capacity) {
                also.extend(virtual_machines::doomed(vm, state, req.now, REMOVAL));
            }
            return Ok(Some(REMOVAL));
        }
        Ok(None)
    }
}

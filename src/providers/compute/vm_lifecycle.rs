//! The power-state machine a VM and a scale-set VM share: one lifecycle record, the actions
//! that start its transitions, the document and instance view rendered from it, and the parts
//! of `ResourceProvider` both types answer the same way.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::instance_view::{provisioning_state, vm_instance_view, ViewFacts, VmInstanceView, VmViewInput};
use super::vm_power::{Power, VmAction, VmFailure, VmSim};
use crate::arm::envelope::{new_resource, revised};
use crate::arm::{ArmError, Caller};
use crate::providers::{sim_state, Advance, Holds, ReadQuery, Rendered, ResourceTypeSpec, TrackedState};
use crate::store::{to_bytes, OperationError, OperationStatus, StoredResource};

/// The name a VM's document shows: `{set}_{instanceId}` for a scale set's, its own otherwise.
pub fn shown_name(id: &str) -> String {
    let mut parts = id.rsplit('/');
    let last = parts.next().unwrap_or_default();
    let _kind = parts.next();
    let set = parts.next();
    match (parts.next(), set) {
        (Some(kind), Some(set)) if kind.eq_ignore_ascii_case("virtualMachineScaleSets") => format!("{set}_{last}"),
        _ => last.to_string(),
    }
}

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

pub fn unreadable(e: impl std::fmt::Display) -> ArmError {
    ArmError::new(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "InternalServerError",
        format!("stored VM is unreadable: {e}"),
    )
}

pub fn record_of(resource: &StoredResource) -> Result<VmRecord, ArmError> {
    resource.sim_as().ok_or_else(|| unreadable("no lifecycle state"))
}

/// A new VM of type `spec`, being created (and failing with `failure`, when a fault rule planted one).
pub fn new_vm(
    spec: &'static ResourceTypeSpec,
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
    let mut vm = new_resource(spec, id, doc, caller, now);
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
    let name = shown_name(&vm.id);
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

/// The VM's document at `now`, its provisioning state from its lifecycle.
pub fn render_vm(resource: &StoredResource, now: DateTime<Utc>) -> Result<Value, ArmError> {
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

/// The lifecycle's step: the transition it planned has ended, as it planned.
pub fn advance(resource: &mut StoredResource) -> Result<Advance, ArmError> {
    let record = record_of(resource)?;
    resource.due = None;
    let failure = record.power.transition.failure.clone();
    Ok(Advance {
        completes: Some(if failure.is_some() { OperationStatus::Failed } else { OperationStatus::Succeeded }),
        failure: failure.map(OperationError::from),
        ..Advance::default()
    })
}

/// The document at `now`; never settled, since the power lifecycle must stay with the VM for
/// its instance view.
pub fn render(resource: &StoredResource, now: DateTime<Utc>) -> Result<Option<Rendered>, ArmError> {
    if resource.sim.is_none() {
        return Ok(None);
    }
    let doc = render_vm(resource, now)?;
    // Only the provisioning state follows the time, until the transition ends.
    let end = record_of(resource)?.power.transition.end;
    let holds = if end > now { Holds::Until(end) } else { Holds::UntilNewVersion };
    Ok(Some(Rendered { doc: to_bytes(&doc), holds }))
}

/// The provisioning state now and when the transition ends.
pub fn tracked_ahead(resource: &StoredResource, after: DateTime<Utc>) -> Option<Vec<TrackedState>> {
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

/// A VM's views: its instance view, or (`vmSizes`) the sizes it can be resized to.
pub fn view(name: &str, resource: &StoredResource, now: DateTime<Utc>) -> Result<Rendered, ArmError> {
    if name.eq_ignore_ascii_case("vmSizes") {
        let doc = resource.body_value();
        let sizes = super::catalog::sizes_for(doc.pointer("/properties/storageProfile/imageReference"));
        return Ok(Rendered { doc: to_bytes(&sizes), holds: Holds::UntilNewVersion });
    }
    let record = record_of(resource)?;
    let holds = match record.power.next_change(now, record.placement.speed) {
        _ if resource.deleting => Holds::Now,
        Some(at) => Holds::Until(at),
        None => Holds::UntilNewVersion,
    };
    with_instance_view(resource, now, |view, _| Rendered { doc: to_bytes(view), holds })
}

/// `$expand=instanceView` (or a list's `statusOnly=true`) adds the instance view;
/// `$select=instanceView/statuses` keeps only its statuses (the form that lists power states).
pub fn expanded(doc: &Value, query: &ReadQuery, resource: &StoredResource, now: DateTime<Utc>) -> Option<Value> {
    let asks = |v: &Option<String>, what: &str| v.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(what));
    let statuses_only = asks(&query.select, "instanceView/statuses");
    let whole = asks(&query.expand, "instanceView") || asks(&query.select, "instanceView") || query.status_only;
    if !whole && !statuses_only {
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

/// The `ResourceProvider` methods a VM and a scale-set VM answer alike from their lifecycle:
/// `render`, `tracked_ahead`, `view` and `expanded`, for use inside either's `impl`.
macro_rules! shared_reads {
    () => {
        fn render(
            &self,
            resource: &StoredResource,
            now: DateTime<Utc>,
        ) -> Result<Option<crate::providers::Rendered>, ArmError> {
            super::vm_lifecycle::render(resource, now)
        }

        fn tracked_ahead(
            &self,
            resource: &StoredResource,
            after: DateTime<Utc>,
        ) -> Option<Vec<crate::providers::TrackedState>> {
            super::vm_lifecycle::tracked_ahead(resource, after)
        }

        fn view(
            &self,
            view: &str,
            resource: &StoredResource,
            _state: &State,
            now: DateTime<Utc>,
        ) -> Result<crate::providers::Rendered, ArmError> {
            super::vm_lifecycle::view(view, resource, now)
        }

        fn expanded(
            &self,
            doc: &Value,
            query: &crate::providers::ReadQuery,
            resource: &StoredResource,
            now: DateTime<Utc>,
        ) -> Option<Value> {
            super::vm_lifecycle::expanded(doc, query, resource, now)
        }
    };
}
pub(super) use shared_reads;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_type() {
        let set = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachineScaleSets/web";
        assert_eq!(shown_name(&format!("{set}/virtualMachines/3")), "web_3");
        assert_eq!(
            shown_name("/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm1"),
            "vm1"
        );
    }
}

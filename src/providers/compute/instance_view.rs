//! Instance views as Compute writes them: a VM's (the seed's shape) and a scale set's
//! aggregate, from the stored documents, the VMs' power state and the time.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::scale_set_model::derived;
use super::vm_power::{VmSim, VmState, AGENT_BOOT};
use crate::arm::timestamp;
use crate::sim::scaled;

fn status(code: String, level: &str, display: &str, message: Option<&str>, time: Option<DateTime<Utc>>) -> Value {
    let mut s = Map::new();
    s.insert("code".into(), json!(code));
    s.insert("level".into(), json!(level));
    s.insert("displayStatus".into(), json!(display));
    if let Some(m) = message {
        s.insert("message".into(), json!(m));
    }
    if let Some(t) = time {
        s.insert("time".into(), json!(timestamp(t)));
    }
    Value::Object(s)
}

/// `ProvisioningState/…` as the VM reports it.
pub fn provisioning_status(state: &VmState, deleting: bool) -> Value {
    if deleting {
        return status("ProvisioningState/deleting".into(), "Info", "Deleting", None, None);
    }
    match (&state.failure, state.provisioning) {
        (Some(f), _) => status(
            format!("ProvisioningState/failed/{}", f.code),
            "Error",
            "Provisioning failed",
            Some(&f.message),
            Some(state.provisioning_time),
        ),
        (None, "creating") => status("ProvisioningState/creating".into(), "Info", "Creating", None, None),
        (None, "updating") => status("ProvisioningState/updating".into(), "Info", "Updating", None, None),
        (None, _) => status(
            "ProvisioningState/succeeded".into(),
            "Info",
            "Provisioning succeeded",
            None,
            Some(state.provisioning_time),
        ),
    }
}

pub fn power_status(power: &str) -> Value {
    status(format!("PowerState/{power}"), "Info", &format!("VM {power}"), None, None)
}

/// The `provisioningState` a VM's document shows.
pub fn provisioning_state(state: &VmState, deleting: bool) -> &'static str {
    match (deleting, state.provisioning) {
        (true, _) => "Deleting",
        (false, "creating") => "Creating",
        (false, "updating") => "Updating",
        (false, "failed") => "Failed",
        _ => "Succeeded",
    }
}

fn os_names(vm: &Value) -> (&'static str, &'static str, &'static str) {
    let windows = vm.pointer("/properties/storageProfile/osDisk/osType").and_then(Value::as_str) == Some("Windows");
    if windows {
        ("Windows Server 2022 Datacenter", "10.0.20348.2700", "2.7.41491.1102")
    } else {
        ("ubuntu", "24.04", "2.11.1.12")
    }
}

fn agent(vm: &Value, state: &VmState, now: DateTime<Utc>, speed: f64) -> Option<Value> {
    let (_, _, version) = os_names(vm);
    let since = state.running_since?;
    let ready_at = since + scaled(AGENT_BOOT, speed);
    if now < ready_at || state.busy {
        return Some(json!({
            "vmAgentVersion": "Unknown",
            "statuses": [status("ProvisioningState/Unavailable".into(), "Warning", "Not Ready",
                Some("VM status blob is found but not yet populated."), Some(since))],
            "extensionHandlers": [],
        }));
    }
    Some(json!({
        "vmAgentVersion": version,
        "statuses": [status("ProvisioningState/succeeded".into(), "Info", "Ready",
            Some("GuestAgent is running and processing the extensions."), Some(ready_at))],
        "extensionHandlers": [],
    }))
}

/// A VM's instance view at `now`: `vm` is its document, `instance` its id, `fault_domains`
/// its set's platform fault domain count.
pub struct VmViewInput<'a> {
    pub vm: &'a Value,
    pub sim: &'a VmSim,
    pub now: DateTime<Utc>,
    pub speed: f64,
    pub deleting: bool,
    pub fault_domains: u32,
    pub placement_group: Option<String>,
}

pub fn vm_instance_view(input: &VmViewInput) -> Value {
    let VmViewInput { vm, sim, now, .. } = *input;
    let state = sim.at(now);
    let instance: u64 = vm["instanceId"].as_str().and_then(|i| i.parse().ok()).unwrap_or(0);
    let (os_name, os_version, _) = os_names(vm);
    let props = &vm["properties"];
    let mut view = Map::new();
    // Compute spreads a set's instances round-robin over five update domains and its fault domains.
    view.insert("platformUpdateDomain".into(), json!(instance % 5));
    view.insert("platformFaultDomain".into(), json!(instance % u64::from(input.fault_domains.max(1))));
    view.insert("computerName".into(), props.pointer("/osProfile/computerName").cloned().unwrap_or(Value::Null));
    view.insert("osName".into(), json!(os_name));
    view.insert("osVersion".into(), json!(os_version));
    view.insert("hyperVGeneration".into(), json!("V2"));
    if let Some(agent) = agent(vm, &state, now, input.speed) {
        view.insert("vmAgent".into(), agent);
    }
    let disk_status = status(
        "ProvisioningState/succeeded".into(),
        "Info",
        "Provisioning succeeded",
        None,
        Some(sim.transition.start.min(state.provisioning_time)),
    );
    let mut disks = Vec::new();
    if let Some(name) = props.pointer("/storageProfile/osDisk/name") {
        disks.push(json!({ "name": name, "statuses": [disk_status.clone()] }));
    }
    for disk in props.pointer("/storageProfile/dataDisks").and_then(Value::as_array).into_iter().flatten() {
        if let Some(name) = disk.get("name") {
            disks.push(json!({ "name": name, "statuses": [disk_status.clone()] }));
        }
    }
    view.insert("disks".into(), Value::Array(disks));
    if props.pointer("/diagnosticsProfile/bootDiagnostics/enabled") == Some(&json!(true)) {
        view.insert("bootDiagnostics".into(), json!({}));
    }
    if let Some(at) = sim.maintained {
        view.insert(
            "maintenanceRedeployStatus".into(),
            json!({
                "isCustomerInitiatedMaintenanceAllowed": true,
                "lastOperationResultCode": "MaintenanceCompleted",
                "lastOperationMessage": "Maintenance completed by the customer.",
                "maintenanceWindowStartTime": timestamp(at),
                "maintenanceWindowEndTime": timestamp(at),
            }),
        );
    }
    if let Some(group) = &input.placement_group {
        view.insert("placementGroupId".into(), json!(group));
    }
    view.insert("statuses".into(), json!([provisioning_status(&state, input.deleting), power_status(state.power)]));
    Value::Object(view)
}

/// The placement group a set's instances share, when it keeps them in one.
pub fn placement_group(set_id: &str, single: bool) -> Option<String> {
    single.then(|| derived(set_id, "placementGroup").to_string())
}

/// A scale set's instance view: its own statuses and how many of its VMs are in each state.
pub fn scale_set_instance_view(set_provisioning: &str, set_time: &str, vm_statuses: &[Vec<Value>]) -> Value {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for statuses in vm_statuses {
        for s in statuses {
            if let Some(code) = s["code"].as_str() {
                *counts.entry(code.to_string()).or_default() += 1;
            }
        }
    }
    let summary: Vec<Value> = counts.into_iter().map(|(code, count)| json!({ "code": code, "count": count })).collect();
    let own = match set_provisioning {
        "Succeeded" => {
            json!({"code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Provisioning succeeded", "time": set_time})
        }
        "Failed" => {
            json!({"code": "ProvisioningState/failed", "level": "Error", "displayStatus": "Provisioning failed", "time": set_time})
        }
        other => {
            let lower = other.to_ascii_lowercase();
            json!({"code": format!("ProvisioningState/{lower}"), "level": "Info", "displayStatus": other})
        }
    };
    json!({
        "virtualMachine": { "statusesSummary": summary },
        "extensions": [],
        "statuses": [own],
        "orchestrationServices": [],
    })
}

//! Instance views as Compute writes them: a VM's (the seed's shape) and a scale set's
//! aggregate, from the stored documents, the VMs' power state and the time.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::scale_set_model::derived;
use super::vm_power::{VmSim, VmState, AGENT_BOOT};
use crate::arm::timestamp;
use crate::sim::scaled;

/// One entry of a `statuses` list; a message or time it lacks is an explicit `null`, as Compute
/// writes it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status<'a> {
    code: Cow<'a, str>,
    level: &'static str,
    display_status: Cow<'a, str>,
    message: Option<&'a str>,
    time: Option<String>,
}

fn status<'a>(
    code: impl Into<Cow<'a, str>>,
    level: &'static str,
    display: impl Into<Cow<'a, str>>,
    message: Option<&'a str>,
    time: Option<DateTime<Utc>>,
) -> Status<'a> {
    Status { code: code.into(), level, display_status: display.into(), message, time: time.map(timestamp) }
}

/// `ProvisioningState/…` as the VM reports it.
fn provisioning_status(state: &VmState, deleting: bool) -> Status<'_> {
    if deleting {
        return status("ProvisioningState/deleting", "Info", "Deleting", None, None);
    }
    match (&state.failure, state.provisioning) {
        (Some(f), _) => status(
            format!("ProvisioningState/failed/{}", f.code),
            "Error",
            "Provisioning failed",
            Some(&f.message),
            Some(state.provisioning_time),
        ),
        (None, "creating") => status("ProvisioningState/creating", "Info", "Creating", None, None),
        (None, "updating") => status("ProvisioningState/updating", "Info", "Updating", None, None),
        (None, _) => {
            status("ProvisioningState/succeeded", "Info", "Provisioning succeeded", None, Some(state.provisioning_time))
        }
    }
}

fn power_status(power: &str) -> Status<'static> {
    status(format!("PowerState/{power}"), "Info", format!("VM {power}"), None, None)
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

/// What an instance view shows that comes from the VM's model, kept with its lifecycle so that
/// a view needs no parse of the document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViewFacts {
    pub instance: u64,
    pub computer_name: String,
    pub windows: bool,
    pub disks: Vec<String>,
    #[serde(default)]
    pub boot_diagnostics: bool,
    /// The image's Hyper-V generation, when the catalog knows the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<String>,
}

impl ViewFacts {
    pub fn of(vm: &Value) -> ViewFacts {
        let props = &vm["properties"];
        let mut disks: Vec<String> = props
            .pointer("/storageProfile/osDisk/name")
            .and_then(Value::as_str)
            .map(str::to_string)
            .into_iter()
            .collect();
        for disk in props.pointer("/storageProfile/dataDisks").and_then(Value::as_array).into_iter().flatten() {
            disks.extend(disk.get("name").and_then(Value::as_str).map(str::to_string));
        }
        ViewFacts {
            instance: vm["instanceId"].as_str().and_then(|i| i.parse().ok()).unwrap_or(0),
            computer_name: props
                .pointer("/osProfile/computerName")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            windows: props.pointer("/storageProfile/osDisk/osType").and_then(Value::as_str) == Some("Windows"),
            disks,
            boot_diagnostics: props.pointer("/diagnosticsProfile/bootDiagnostics/enabled") == Some(&json!(true)),
            generation: props
                .pointer("/storageProfile/imageReference")
                .and_then(|r| super::catalog::resolve_image(r, "imageReference").ok().flatten())
                .map(|(image, _)| image.generation.to_string()),
        }
    }

    /// (osName, osVersion, agent version) as the guest reports them.
    fn os(&self) -> (&'static str, &'static str, &'static str) {
        if self.windows {
            ("Windows Server 2022 Datacenter", "10.0.20348.2700", "2.7.41491.1102")
        } else {
            ("ubuntu", "24.04", "2.11.1.12")
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Agent<'a> {
    vm_agent_version: &'static str,
    statuses: [Status<'a>; 1],
    /// No extension handler reports to azemu: `null`, as the seed shows it.
    extension_handlers: Option<[(); 0]>,
}

fn agent(facts: &ViewFacts, state: &VmState, now: DateTime<Utc>, speed: f64) -> Option<Agent<'static>> {
    let since = state.running_since?;
    let ready_at = since + scaled(AGENT_BOOT, speed);
    if now < ready_at || state.guest_busy {
        let waiting = status(
            "ProvisioningState/Unavailable",
            "Warning",
            "Not Ready",
            Some("VM status blob is found but not yet populated."),
            Some(since),
        );
        return Some(Agent { vm_agent_version: "Unknown", statuses: [waiting], extension_handlers: None });
    }
    let ready = status(
        "ProvisioningState/succeeded",
        "Info",
        "Ready",
        Some("GuestAgent is running and processing the extensions."),
        Some(ready_at),
    );
    Some(Agent { vm_agent_version: facts.os().2, statuses: [ready], extension_handlers: None })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Disk<'a> {
    name: &'a str,
    /// Disks are not encrypted in azemu: `null`.
    encryption_settings: Option<()>,
    statuses: [Status<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Maintenance {
    is_customer_initiated_maintenance_allowed: bool,
    last_operation_result_code: &'static str,
    last_operation_message: &'static str,
    maintenance_window_start_time: String,
    maintenance_window_end_time: String,
}

#[derive(Serialize)]
struct Empty {}

impl VmInstanceView<'_> {
    /// Its provisioning and power status codes.
    pub fn codes(&self) -> [String; 2] {
        [self.statuses[0].code.to_string(), self.statuses[1].code.to_string()]
    }
}

/// A VM's instance view, the seed's shape.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VmInstanceView<'a> {
    platform_update_domain: u64,
    platform_fault_domain: u64,
    /// Compute's fields with no value here are explicit `null`s: an RDP thumbprint, the
    /// extensions' views, boot diagnostics when they are off.
    rdp_thumb_print: Option<&'static str>,
    computer_name: &'a str,
    os_name: &'static str,
    os_version: &'static str,
    hyper_v_generation: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    vm_agent: Option<Agent<'a>>,
    disks: Vec<Disk<'a>>,
    extensions: Option<()>,
    boot_diagnostics: Option<Empty>,
    #[serde(skip_serializing_if = "Option::is_none")]
    maintenance_redeploy_status: Option<Maintenance>,
    #[serde(skip_serializing_if = "Option::is_none")]
    placement_group_id: Option<&'a str>,
    /// Provisioning, power, and a hibernated VM's hibernation state.
    pub statuses: Vec<Status<'a>>,
}

/// A VM's instance view at `now`.
pub struct VmViewInput<'a> {
    pub facts: &'a ViewFacts,
    pub sim: &'a VmSim,
    pub state: &'a VmState,
    pub now: DateTime<Utc>,
    pub speed: f64,
    pub deleting: bool,
    pub fault_domains: u32,
    pub placement_group: Option<&'a str>,
}

pub fn vm_instance_view<'a>(input: &VmViewInput<'a>) -> VmInstanceView<'a> {
    let facts = input.facts;
    let state = input.state;
    let (os_name, os_version, _) = facts.os();
    let disk_time = Some(input.sim.transition.start.min(state.provisioning_time));
    let disks = facts
        .disks
        .iter()
        .map(|name| Disk {
            name,
            encryption_settings: None,
            statuses: [status("ProvisioningState/succeeded", "Info", "Provisioning succeeded", None, disk_time)],
        })
        .collect();
    let maintenance = input.sim.maintained.filter(|at| *at <= input.now).map(|at| Maintenance {
        is_customer_initiated_maintenance_allowed: true,
        last_operation_result_code: "MaintenanceCompleted",
        last_operation_message: "Maintenance completed by the customer.",
        maintenance_window_start_time: timestamp(at),
        maintenance_window_end_time: timestamp(at),
    });
    VmInstanceView {
        // Compute spreads a set's instances round-robin over five update domains and its fault domains.
        platform_update_domain: facts.instance % 5,
        platform_fault_domain: facts.instance % u64::from(input.fault_domains.max(1)),
        rdp_thumb_print: None,
        computer_name: &facts.computer_name,
        os_name,
        os_version,
        hyper_v_generation: facts.generation.as_deref().unwrap_or("V2"),
        vm_agent: agent(facts, state, input.now, input.speed),
        disks,
        extensions: None,
        boot_diagnostics: facts.boot_diagnostics.then_some(Empty {}),
        maintenance_redeploy_status: maintenance,
        placement_group_id: input.placement_group,
        statuses: {
            let mut statuses = vec![provisioning_status(state, input.deleting), power_status(state.power)];
            let hibernated = input.sim.hibernate && state.power == "deallocated" && state.failure.is_none();
            if hibernated {
                statuses.push(status("HibernationState/Hibernated", "Info", "VM hibernated", None, None));
            }
            statuses
        },
    }
}

/// The placement group a set's instances share, when it keeps them in one.
pub fn placement_group(set_id: &str, single: bool) -> Option<String> {
    single.then(|| derived(set_id, "placementGroup").to_string())
}

/// A scale set's instance view: its own statuses, how many of its `instances` VMs are in each
/// state, its model's extensions (provisioned on every instance) and its orchestration
/// services (automatic repairs, when its model has a policy for them).
pub fn scale_set_instance_view(
    set: &Value,
    set_provisioning: &str,
    set_time: &str,
    instances: usize,
    codes: impl Iterator<Item = String>,
) -> Value {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for code in codes {
        *counts.entry(code).or_default() += 1;
    }
    let summary: Vec<Value> = counts.into_iter().map(|(code, count)| json!({ "code": code, "count": count })).collect();
    let own = match set_provisioning {
        "Succeeded" => {
            json!({"code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Provisioning succeeded", "message": null, "time": set_time})
        }
        "Failed" => {
            json!({"code": "ProvisioningState/failed", "level": "Error", "displayStatus": "Provisioning failed", "message": null, "time": set_time})
        }
        other => {
            let lower = other.to_ascii_lowercase();
            json!({"code": format!("ProvisioningState/{lower}"), "level": "Info", "displayStatus": other, "message": null, "time": null})
        }
    };
    let extensions: Vec<Value> = set
        .pointer("/properties/virtualMachineProfile/extensionProfile/extensions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|ext| ext["name"].as_str())
        .map(|name| {
            json!({ "name": name, "statusesSummary": [{ "code": "ProvisioningState/succeeded", "count": instances }] })
        })
        .collect();
    let services: Vec<Value> = set
        .pointer("/properties/automaticRepairsPolicy")
        .map(|policy| {
            let running = policy.get("enabled") == Some(&json!(true));
            json!({ "serviceName": "AutomaticRepairs", "serviceState": if running { "Running" } else { "NotRunning" } })
        })
        .into_iter()
        .collect();
    json!({
        "virtualMachine": { "statusesSummary": summary },
        "extensions": extensions,
        "statuses": [own],
        "orchestrationServices": services,
    })
}

//! The actions a scale-set VM takes besides power: approving its deferred upgrade, reading its
//! boot diagnostics, a Spot eviction simulated, and data disks attached and detached.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};

use super::model_upgrade::upgraded;
use super::scale_set_model::check;
use super::scale_set_vms::ScaleSetVms;
use super::vm_lifecycle::{start_action, with_body};
use super::vm_power::VmAction;
use crate::arm::{timestamp, ArmError};
use crate::providers::{parse_body, ActionName, ActionOutcome, ActionRequest, ResourceProvider};
use crate::store::{State, StoredResource, Txn};

pub const VM_ONLY_ACTIONS: [ActionName; 4] = [
    ActionName { path: "approveRollingUpgrade", operation: "ApproveRollingUpgrade" },
    ActionName { path: "retrieveBootDiagnosticsData", operation: "RetrieveBootDiagnosticsData" },
    ActionName { path: "simulateEviction", operation: "SimulateEviction" },
    ActionName { path: "attachDetachDataDisks", operation: "AttachDetachDataDisks" },
];

/// How long approving an upgrade and changing disks take (at `--speed 1`).
const UPGRADE: Duration = Duration::from_secs(10);
const DISKS: Duration = Duration::from_secs(5);

fn not_allowed(message: String) -> ArmError {
    ArmError::conflict("OperationNotAllowed", message)
}

/// The VM's set, as stored.
fn set_of<'a>(state: &'a State, vm: &StoredResource) -> Result<&'a StoredResource, ArmError> {
    let key = vm.key();
    let set_key = key.rfind("/virtualmachines/").map(|i| &key[..i]).unwrap_or_default();
    state
        .resource(set_key)
        .map(|r| r.as_ref())
        .ok_or_else(|| ArmError::not_found("NotFound", "The entity was not found in this Azure location."))
}

/// Runs a VM-only action; `None` for any other action.
pub fn run(req: &ActionRequest, state: &State) -> Option<Result<ActionOutcome, ArmError>> {
    Some(match req.action {
        "approveRollingUpgrade" => approve_upgrade(req, state),
        "retrieveBootDiagnosticsData" => boot_diagnostics(req),
        "simulateEviction" => simulate_eviction(req, state),
        "attachDetachDataDisks" => attach_detach(req),
        _ => return None,
    })
}

/// Approving a deferred upgrade brings the VM to its set's latest model.
fn approve_upgrade(req: &ActionRequest, state: &State) -> Result<ActionOutcome, ArmError> {
    let set = set_of(state, req.resource)?;
    let set_doc = set.body_value();
    let model = check(&set_doc)?;
    let name = set.id.rsplit('/').next().unwrap_or_default();
    let mut also = Txn::default();
    also.put(upgraded(req.resource, &set_doc, &model, &set.id, name)?);
    Ok(ActionOutcome { also, ..ActionOutcome::timed(UPGRADE, None) })
}

/// SAS URIs of the VM's screenshot and serial log, valid for `sasUriExpirationTimeInMinutes`
/// (120 by default, at most 1440); boot diagnostics must be on.
pub(super) fn boot_diagnostics(req: &ActionRequest) -> Result<ActionOutcome, ArmError> {
    let doc = req.resource.body_value();
    if doc.pointer("/properties/diagnosticsProfile/bootDiagnostics/enabled") != Some(&json!(true)) {
        return Err(not_allowed(format!(
            "Boot diagnostics are not enabled on VM '{}': enable them in its diagnosticsProfile.",
            req.resource.id.rsplit('/').next().unwrap_or_default()
        )));
    }
    let minutes = match req.query("sasUriExpirationTimeInMinutes") {
        None => 120,
        Some(text) => text.parse::<i64>().ok().filter(|m| (1..=1440).contains(m)).ok_or_else(|| {
            ArmError::invalid_parameter(
                "sasUriExpirationTimeInMinutes",
                format!("The value '{text}' of 'sasUriExpirationTimeInMinutes' must be 1 to 1440."),
            )
        })?,
    };
    let vm_id = doc.pointer("/properties/vmId").and_then(Value::as_str).unwrap_or_default().to_string();
    let account = format!("md{}", &vm_id.replace('-', "")[..12.min(vm_id.len())]);
    let expiry = timestamp(req.now + chrono::Duration::minutes(minutes));
    let sas = format!("sv=2024-08-04&sr=b&sp=r&se={}&sig=azemu", expiry.replace(':', "%3A"));
    let blob = |file: &str| format!("https://{account}.blob.storage.azure.net/bootdiagnostics/{vm_id}.{file}?{sas}");
    let body = json!({ "consoleScreenshotBlobUri": blob("screenshot.bmp"), "serialConsoleLogBlobUri": blob("serialconsole.log") });
    Ok(ActionOutcome::at_once(200, Some(body), Txn::default()))
}

/// A Spot VM is evicted as its set's policy says: deallocated, or deleted.
fn simulate_eviction(req: &ActionRequest, state: &State) -> Result<ActionOutcome, ArmError> {
    let set_doc = set_of(state, req.resource)?.body_value();
    let profile = &set_doc["properties"]["virtualMachineProfile"];
    let spot = profile["priority"].as_str().is_some_and(|p| p.eq_ignore_ascii_case("Spot"));
    if !spot {
        return Err(not_allowed("Simulate eviction is only supported for Spot VMs.".into()));
    }
    let mut also = Txn::default();
    let delete = profile["evictionPolicy"].as_str().is_some_and(|p| p.eq_ignore_ascii_case("Delete"));
    if delete {
        // Deleted as a DELETE would: gone in 5 s, its set one instance smaller.
        also.extend(ScaleSetVms.deleting(req.resource, state, req.now)?);
        let mut evicted = req.resource.clone();
        evicted.deleting = true;
        evicted.due = Some(req.now + req.clock.scaled(Duration::from_secs(5)));
        also.put(evicted);
    } else {
        also.put(start_action(req.resource, VmAction::Deallocate, req.now, true, None)?);
    }
    Ok(ActionOutcome::at_once(204, None, also))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DiskToAttach {
    disk_id: String,
    lun: Option<u64>,
    caching: Option<String>,
    delete_option: Option<String>,
    write_accelerator_enabled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DiskToDetach {
    disk_id: String,
    #[allow(dead_code)] // Checked, not read: a forced detach ends the same here.
    detach_option: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AttachDetachInput {
    #[serde(default)]
    data_disks_to_attach: Vec<DiskToAttach>,
    #[serde(default)]
    data_disks_to_detach: Vec<DiskToDetach>,
}

fn managed_id(disk: &Value) -> Option<&str> {
    disk.pointer("/managedDisk/id").and_then(Value::as_str)
}

/// Managed disks attached to and detached from the VM; the operation's result is its storage
/// profile as it then is.
pub(super) fn attach_detach(req: &ActionRequest) -> Result<ActionOutcome, ArmError> {
    let body = req.body.clone().unwrap_or_else(|| json!({}));
    let input: AttachDetachInput = parse_body(&body)?;
    if input.data_disks_to_attach.is_empty() && input.data_disks_to_detach.is_empty() {
        return Err(ArmError::invalid_parameter(
            "dataDisksToAttach",
            "At least one disk to attach or to detach is required.",
        ));
    }
    let mut doc = req.resource.body_value();
    let mut disks: Vec<Value> =
        doc.pointer("/properties/storageProfile/dataDisks").and_then(Value::as_array).cloned().unwrap_or_default();
    for detach in &input.data_disks_to_detach {
        let before = disks.len();
        disks.retain(|d| !managed_id(d).is_some_and(|id| id.eq_ignore_ascii_case(&detach.disk_id)));
        if disks.len() == before {
            return Err(ArmError::invalid_parameter(
                "dataDisksToDetach",
                format!("The disk '{}' is not attached to the VM.", detach.disk_id),
            ));
        }
    }
    for attach in input.data_disks_to_attach {
        if disks.iter().any(|d| managed_id(d).is_some_and(|id| id.eq_ignore_ascii_case(&attach.disk_id))) {
            return Err(not_allowed(format!("The disk '{}' is already attached to the VM.", attach.disk_id)));
        }
        let used: Vec<u64> = disks.iter().filter_map(|d| d["lun"].as_u64()).collect();
        let lun = match attach.lun {
            Some(lun) if used.contains(&lun) => {
                return Err(ArmError::invalid_parameter(
                    "dataDisksToAttach.lun",
                    format!("The LUN {lun} is already taken by another data disk of the VM."),
                ))
            }
            Some(lun) => lun,
            None => (0..).find(|l| !used.contains(l)).unwrap_or(0),
        };
        let name = attach.disk_id.rsplit('/').next().unwrap_or_default().to_string();
        disks.push(json!({
            "lun": lun,
            "name": name,
            "createOption": "Attach",
            "caching": attach.caching.unwrap_or_else(|| "None".into()),
            "writeAcceleratorEnabled": attach.write_accelerator_enabled.unwrap_or(false),
            "managedDisk": { "id": attach.disk_id },
            "deleteOption": attach.delete_option.unwrap_or_else(|| "Detach".into()),
            "toBeDetached": false,
        }));
    }
    disks.sort_by_key(|d| d["lun"].as_u64().unwrap_or(0));
    doc["properties"]["storageProfile"]["dataDisks"] = json!(disks);
    let result = doc["properties"]["storageProfile"].clone();
    let mut also = Txn::default();
    also.put(with_body(req.resource, &doc)?);
    Ok(ActionOutcome { also, ..ActionOutcome::timed(DISKS, Some(result)) })
}

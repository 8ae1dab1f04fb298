//! A VM's actions besides power: reapply, a Spot eviction simulated, patch assessment and
//! installation, run command, generalize, and (shared with scale-set VMs) boot diagnostics and
//! data disks. azemu runs nothing in a guest: patch results find nothing to do, and a run command
//! says it ran nothing.

use std::time::Duration;

use serde_json::{json, Value};
use uuid::Uuid;

use super::super::vm_actions::{attach_detach, boot_diagnostics};
use super::super::vm_lifecycle::{record_of, start_action};
use super::super::vm_power::VmAction;
use super::VirtualMachines;
use crate::arm::{timestamp, ArmError};
use crate::providers::{ActionOutcome, ActionRequest, ResourceProvider};
use crate::store::{State, Txn};

/// How long each takes at `--speed 1`.
const REAPPLY: Duration = Duration::from_secs(5);
const ASSESSMENT: Duration = Duration::from_secs(20);
const INSTALLATION: Duration = Duration::from_secs(30);
const RUN_COMMAND: Duration = Duration::from_secs(15);
const EVICTION: Duration = Duration::from_secs(5);

fn not_allowed(req: &ActionRequest, why: &str) -> ArmError {
    let name = req.resource.id.rsplit('/').next().unwrap_or_default();
    ArmError::conflict(
        "OperationNotAllowed",
        format!("Operation '{}' is not allowed on VM '{name}' since {why}.", req.action),
    )
}

/// Runs a VM-only action; `None` for the power actions.
pub fn run(req: &ActionRequest, state: &State) -> Option<Result<ActionOutcome, ArmError>> {
    Some(match req.action {
        "reapply" => Ok(ActionOutcome::timed(REAPPLY, None)),
        "simulateEviction" => simulate_eviction(req, state),
        "assessPatches" => assess_patches(req),
        "installPatches" => install_patches(req),
        "runCommand" => run_command(req),
        "retrieveBootDiagnosticsData" => boot_diagnostics(req),
        "attachDetachDataDisks" => attach_detach(req),
        "generalize" => generalize(req),
        _ => return None,
    })
}

/// The guest must be up for what runs in it.
fn require_running(req: &ActionRequest) -> Result<(), ArmError> {
    let state = record_of(req.resource)?.power.at(req.now);
    match (state.power, state.busy) {
        ("running", false) => Ok(()),
        (_, true) => Err(not_allowed(req, "the VM is in the middle of another operation")),
        _ => Err(not_allowed(req, "the VM is not running")),
    }
}

/// A Spot VM is evicted as its eviction policy says: deallocated (the default), or deleted.
fn simulate_eviction(req: &ActionRequest, state: &State) -> Result<ActionOutcome, ArmError> {
    let doc = req.resource.body_value();
    let props = &doc["properties"];
    if !props["priority"].as_str().is_some_and(|p| p.eq_ignore_ascii_case("Spot")) {
        return Err(not_allowed(req, "simulate eviction is only supported for Spot VMs"));
    }
    let mut also = Txn::default();
    if props["evictionPolicy"].as_str().is_some_and(|p| p.eq_ignore_ascii_case("Delete")) {
        // Deleted as a DELETE would: its disks released, its Flexible set one smaller.
        also.extend(VirtualMachines.deleting(req.resource, state, req.now)?);
        let mut evicted = req.resource.clone();
        evicted.deleting = true;
        evicted.due = Some(req.now + req.clock.scaled(EVICTION));
        also.put(evicted);
    } else {
        also.put(start_action(req.resource, VmAction::Deallocate, req.now, true, None)?);
    }
    Ok(ActionOutcome::at_once(204, None, also))
}

/// An activity id, stable for one VM and moment.
fn activity(req: &ActionRequest, what: &str) -> String {
    let seed = format!("{}/{what}/{}", req.resource.key(), req.now.timestamp_micros());
    Uuid::new_v5(&Uuid::NAMESPACE_URL, seed.as_bytes()).to_string()
}

fn assess_patches(req: &ActionRequest) -> Result<ActionOutcome, ArmError> {
    require_running(req)?;
    let result = json!({
        "status": "Succeeded",
        "assessmentActivityId": activity(req, "assessPatches"),
        "rebootPending": false,
        "criticalAndSecurityPatchCount": 0,
        "otherPatchCount": 0,
        "startDateTime": timestamp(req.now),
        "availablePatches": [],
        "error": null,
    });
    Ok(ActionOutcome::timed(ASSESSMENT, Some(result)))
}

/// `PT4H`, `PT2H30M`, `PT90M`: the seconds an ISO 8601 time duration names.
fn duration_seconds(text: &str) -> Option<u64> {
    let rest = text.strip_prefix("PT").or_else(|| text.strip_prefix("pt"))?;
    let (mut total, mut number) = (0u64, String::new());
    for c in rest.chars() {
        match c.to_ascii_uppercase() {
            '0'..='9' => number.push(c),
            unit @ ('H' | 'M' | 'S') => {
                let n: u64 = number.parse().ok()?;
                number.clear();
                total += n * match unit {
                    'H' => 3600,
                    'M' => 60,
                    _ => 1,
                };
            }
            _ => return None,
        }
    }
    (number.is_empty() && total > 0).then_some(total)
}

fn install_patches(req: &ActionRequest) -> Result<ActionOutcome, ArmError> {
    let body = req.body.clone().unwrap_or(Value::Null);
    let duration = body["maximumDuration"].as_str().ok_or_else(|| {
        ArmError::invalid_parameter("maximumDuration", "Required parameter 'maximumDuration' is missing (null).")
    })?;
    if duration_seconds(duration).is_none_or(|s| s > 4 * 3600) {
        return Err(ArmError::invalid_parameter(
            "maximumDuration",
            format!("The value '{duration}' of 'maximumDuration' must be an ISO 8601 duration of at most PT4H."),
        ));
    }
    let reboot = body["rebootSetting"].as_str().ok_or_else(|| {
        ArmError::invalid_parameter("rebootSetting", "Required parameter 'rebootSetting' is missing (null).")
    })?;
    if !["IfRequired", "Never", "Always"].iter().any(|r| r.eq_ignore_ascii_case(reboot)) {
        return Err(ArmError::invalid_parameter(
            "rebootSetting",
            format!("The value '{reboot}' of 'rebootSetting' is not valid: IfRequired, Never or Always."),
        ));
    }
    require_running(req)?;
    let result = json!({
        "status": "Succeeded",
        "installationActivityId": activity(req, "installPatches"),
        "rebootStatus": "NotNeeded",
        "maintenanceWindowExceeded": false,
        "excludedPatchCount": 0,
        "notSelectedPatchCount": 0,
        "pendingPatchCount": 0,
        "installedPatchCount": 0,
        "failedPatchCount": 0,
        "patches": [],
        "startDateTime": timestamp(req.now),
        "error": null,
    });
    Ok(ActionOutcome::timed(INSTALLATION, Some(result)))
}

fn run_command(req: &ActionRequest) -> Result<ActionOutcome, ArmError> {
    let body = req.body.clone().unwrap_or(Value::Null);
    let command = body["commandId"]
        .as_str()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ArmError::invalid_parameter("commandId", "Required parameter 'commandId' is missing (null)."))?;
    require_running(req)?;
    let message = format!(
        "Enable succeeded: \n[stdout]\nazemu emulates this VM and runs nothing in it: '{command}' was accepted and not run.\n\n[stderr]\n"
    );
    let result = json!({ "value": [{
        "code": "ProvisioningState/succeeded",
        "level": "Info",
        "displayStatus": "Provisioning succeeded",
        "message": message,
    }] });
    Ok(ActionOutcome::timed(RUN_COMMAND, Some(result)))
}

/// Marks the VM generalized (for capture); Compute answers at once and wants it stopped.
fn generalize(req: &ActionRequest) -> Result<ActionOutcome, ArmError> {
    let state = record_of(req.resource)?.power.at(req.now);
    if state.power == "running" || state.busy {
        return Err(not_allowed(req, "the VM is running; stop or deallocate it first"));
    }
    Ok(ActionOutcome::at_once(200, None, Txn::default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_iso_8601() {
        assert_eq!(duration_seconds("PT4H"), Some(14400));
        assert_eq!(duration_seconds("PT2H30M"), Some(9000));
        assert_eq!(duration_seconds("PT90M"), Some(5400));
        for bad in ["4H", "PT", "PT4", "PTXH", "PT0M"] {
            assert_eq!(duration_seconds(bad), None, "{bad}");
        }
    }
}

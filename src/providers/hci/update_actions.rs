//! `apply` and `prepare` on an update: checks that the cluster is free and the update's state
//! allows it, plans the run (which steps an earlier run already did, which one a fault rule
//! makes fail) and starts it as a new update run named with a GUID.

use std::collections::HashSet;

use serde_json::{json, Value};

use super::update_effects::{cluster_key_of, on_run_started};
use super::update_plan::{RunKind, RunTree};
use super::update_run_sim::{properties_at, PlannedFailure, RunSim};
use super::update_runs;
use crate::arm::envelope::new_resource;
use crate::arm::ArmError;
use crate::faults::{Deferred, InjectedError};
use crate::providers::{sim_state, ActionOutcome, ActionRequest, ResourceProvider};
use crate::sim::timeline::Cursor;
use crate::store::{State, StoredResource};

/// States an update can be applied from (none: a published update is Ready).
const APPLICABLE: &[&str] =
    &["Ready", "ReadyToInstall", "InstallationFailed", "HealthCheckFailed", "PreparationFailed", "DownloadFailed"];
const PREPARABLE: &[&str] = &["Ready", "ReadyToInstall", "HealthCheckFailed", "PreparationFailed", "DownloadFailed"];

/// A run azemu drives that has not finished: it holds its cluster.
fn is_running(run: &StoredResource) -> bool {
    run.sim.is_some() && run.due.is_some() && !run.deleting
}

fn runs_under<'a>(state: &'a State, prefix: &'a str) -> impl Iterator<Item = &'a std::sync::Arc<StoredResource>> + 'a {
    let type_key = update_runs::UpdateRuns.spec().type_key();
    state.with_prefix(prefix).filter(move |r| r.type_key == type_key)
}

fn check_cluster_free(state: &State, update: &StoredResource) -> Result<(), ArmError> {
    let cluster_key = cluster_key_of(&update.key()).to_string();
    let prefix = format!("{cluster_key}/updates/");
    if let Some(run) = runs_under(state, &prefix).find(|r| is_running(r)) {
        let names: Vec<&str> = run.id.rsplit('/').step_by(2).take(2).collect();
        let cluster = cluster_key.rsplit('/').next().unwrap_or_default();
        return Err(ArmError::conflict(
            "UpdateRunInProgress",
            format!(
                "Update run '{}/{}' is in progress on cluster '{cluster}'; wait for it to finish before starting another.",
                names[1], names[0]
            ),
        ));
    }
    Ok(())
}

fn check_state(update: &StoredResource, kind: RunKind) -> Result<(), ArmError> {
    let doc = update.body_value();
    let state = doc.pointer("/properties/state").and_then(Value::as_str).unwrap_or("Ready");
    let name = update.id.rsplit('/').next().unwrap_or_default();
    let (allowed, verb) = match kind {
        RunKind::Apply => (APPLICABLE, "applied"),
        RunKind::Prepare => (PREPARABLE, "prepared"),
    };
    if allowed.contains(&state) {
        return Ok(());
    }
    let message = if state == "Installed" {
        format!("Update '{name}' is already Installed; it cannot be {verb} again.")
    } else {
        format!("Update '{name}' is in state '{state}'; it can be {verb} only in state {}.", allowed.join(", "))
    };
    Err(ArmError::bad_request("InvalidUpdateState", message))
}

/// `branch/leaf` paths an earlier run of this update finished (Success or Skipped).
fn done_before(state: &State, update: &StoredResource, now: chrono::DateTime<chrono::Utc>) -> HashSet<String> {
    let prefix = format!("{}/updateruns/", update.key());
    let mut done = HashSet::new();
    for run in runs_under(state, &prefix) {
        let properties = match run.sim_as::<RunSim>() {
            Some(sim) => properties_at(&sim, now),
            None => run.body_value()["properties"].take(),
        };
        let branches = properties.pointer("/progress/steps").and_then(Value::as_array).cloned().unwrap_or_default();
        for branch in &branches {
            let leaves = branch["steps"].as_array().map(Vec::as_slice).unwrap_or_default();
            for leaf in leaves.iter().filter(|l| matches!(l["status"].as_str(), Some("Success" | "Skipped"))) {
                done.insert(format!(
                    "{}/{}",
                    branch["name"].as_str().unwrap_or_default(),
                    leaf["name"].as_str().unwrap_or_default()
                ));
            }
        }
    }
    done
}

fn planned(leaf: usize, error: InjectedError) -> PlannedFailure {
    PlannedFailure { leaf, code: error.code, message: error.message, status: error.status }
}

/// Asks the fault rules about each step the run will run, in order; the first that fires fails
/// it. A `failOperation` rule makes the last step fail.
fn plan_failure(tree: &RunTree, skip: &[usize], faults: &Deferred) -> Option<PlannedFailure> {
    if faults.is_empty() {
        return None;
    }
    let leaves = tree.leaves();
    for (i, leaf) in leaves.iter().enumerate().filter(|(i, _)| !skip.contains(i)) {
        let mut paths = vec![format!("{}/{}", tree.root_name, leaf.path)];
        let first_in_branch = i == 0 || leaves[i - 1].branch != leaf.branch;
        if first_in_branch {
            paths.push(format!("{}/{}", tree.root_name, tree.branches[leaf.branch].name));
        }
        if let Some(error) = faults.take_step_failure(&paths) {
            faults.decline_operation_failure();
            return Some(planned(i, error));
        }
    }
    let last = leaves.len().checked_sub(1)?;
    faults.take_operation_failure().map(|error| planned(last, error))
}

fn node_count(state: &State, update: &StoredResource) -> usize {
    let cluster = state.resource(cluster_key_of(&update.key()));
    let nodes = cluster.and_then(|c| {
        c.body_value().pointer("/properties/reportedProperties/nodes").and_then(Value::as_array).map(Vec::len)
    });
    nodes.filter(|n| *n > 0).unwrap_or(2)
}

/// Starts a run of `kind` on the update `req.resource`; its operation ends with the run.
pub fn start_run(kind: RunKind, req: &ActionRequest, state: &State) -> Result<ActionOutcome, ArmError> {
    let update = req.resource;
    check_cluster_free(state, update)?;
    check_state(update, kind)?;
    let doc = update.body_value();
    let name = update.id.rsplit('/').next().unwrap_or_default();
    let title = ["/properties/displayName", "/properties/version"]
        .iter()
        .find_map(|p| doc.pointer(p).and_then(Value::as_str).filter(|s| !s.is_empty()))
        .unwrap_or(name)
        .to_string();
    let mut sim = RunSim {
        cursor: Cursor::start(req.clock),
        start: req.now,
        kind,
        nodes: node_count(state, update),
        title,
        skip: Vec::new(),
        failure: None,
    };
    let tree = sim.tree();
    if kind == RunKind::Apply {
        let done = done_before(state, update, req.now);
        sim.skip = tree.leaves().iter().enumerate().filter(|(_, l)| done.contains(&l.path)).map(|(i, _)| i).collect();
    }
    sim.failure = plan_failure(&tree, &sim.skip, req.faults);
    let walk = sim.walk();
    let run_id = format!("{}/updateRuns/{}", update.id, uuid::Uuid::new_v4());
    let mut body = json!({ "properties": properties_at(&sim, req.now) });
    if let Some(location) = doc.get("location") {
        body["location"] = location.clone();
    }
    let mut run = new_resource(update_runs::UpdateRuns.spec(), run_id, body, req.caller, req.now);
    run.due = sim.next_event(&walk).map(|(at, _)| at);
    run.sim = sim_state(&sim);
    let run_key = run.key();
    let mut also = on_run_started(state, update, kind);
    also.put(run);
    Ok(ActionOutcome { also, ends_with: Some(run_key), ..ActionOutcome::timed(std::time::Duration::ZERO, None) })
}

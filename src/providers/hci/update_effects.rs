//! What update runs do to the update they run and to the cluster's update summary: the update's
//! `state` (Ready → Preparing → ReadyToInstall, → Installing → Installed, or a failed state),
//! the summary's (UpdateAvailable → UpdateInProgress → AppliedSuccessfully or UpdateFailed),
//! health-check results, versions and dates. The cluster's update service writes these, so they
//! are new versions of stored documents, not rendered.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::update_plan::{RunKind, HEALTH_CHECKS};
use super::update_run_sim::{LeafRun, RunSim};
use crate::arm::envelope::revised;
use crate::arm::timestamp;
use crate::store::{State, StoredResource, Txn};

/// The cluster's update summary: `{cluster}/updateSummaries/default`, lower-case.
pub fn summary_key(cluster_key: &str) -> String {
    format!("{cluster_key}/updatesummaries/default")
}

/// The cluster an update, a run or a summary lies under, as a store key.
pub fn cluster_key_of(key: &str) -> &str {
    let key_len = ["/updates/", "/updatesummaries/"].iter().filter_map(|s| key.find(s)).min().unwrap_or(key.len());
    &key[..key_len]
}

/// The update a run lies under, as a store key.
pub fn update_key_of(run_key: &str) -> &str {
    run_key.find("/updateruns/").map_or(run_key, |i| &run_key[..i])
}

/// The version a summary reports once the cluster runs the solution it was created with.
pub const INITIAL_VERSION: &str = "10.2408.0.29";

/// The summary a newly registered cluster reports: up to date, healthy.
pub fn initial_summary(location: &str, at: DateTime<Utc>) -> Value {
    let stamp = timestamp(at);
    json!({
        "location": location,
        "properties": {
            "provisioningState": "Succeeded",
            "oemFamily": "Contoso",
            "hardwareModel": "HCI-2U-Node",
            "currentOemVersion": "1.0.0",
            "currentSbeVersion": "4.1.2408.1",
            "currentVersion": INITIAL_VERSION,
            "packageVersions": [
                { "packageType": "Solution", "version": INITIAL_VERSION, "lastUpdated": stamp },
                { "packageType": "OEM", "version": "1.0.0", "lastUpdated": stamp },
            ],
            "lastUpdated": stamp,
            "lastChecked": stamp,
            "healthState": "Success",
            "healthCheckDate": stamp,
            "state": "AppliedSuccessfully",
        }
    })
}

/// Changes `properties` of a stored resource into a new version.
fn with_properties(
    resource: &StoredResource,
    change: impl FnOnce(&mut serde_json::Map<String, Value>),
) -> StoredResource {
    let mut body = resource.body_value();
    if !body["properties"].is_object() {
        body["properties"] = json!({});
    }
    if let Some(props) = body["properties"].as_object_mut() {
        change(props);
    }
    revised(resource, &body)
}

/// States an update waits in until someone applies it.
fn is_available(state: Option<&str>) -> bool {
    matches!(state, None | Some("Ready" | "ReadyToInstall"))
}

/// A client (or the cluster's update service) published an update: the summary now has one
/// available and says when it last checked; an update reported `Installed` is among the
/// package versions the summary lists.
pub fn on_update_published(state: &State, update_key: &str, update: &Value, at: DateTime<Utc>) -> Txn {
    let mut txn = Txn::default();
    let Some(summary) = state.resource(&summary_key(cluster_key_of(update_key))) else { return txn };
    let update_state = update.pointer("/properties/state").and_then(Value::as_str);
    let installed = update_state == Some("Installed");
    let version = update.pointer("/properties/version").and_then(Value::as_str);
    let package_type = update.pointer("/properties/packageType").and_then(Value::as_str).unwrap_or("Solution");
    txn.put(with_properties(summary, |p| {
        p.insert("lastChecked".into(), json!(timestamp(at)));
        let current = p.get("state").and_then(Value::as_str);
        if is_available(update_state) && matches!(current, None | Some("AppliedSuccessfully" | "Unknown")) {
            p.insert("state".into(), json!("UpdateAvailable"));
        }
        if let (true, Some(version)) = (installed, version) {
            let when = update.pointer("/properties/installedDate").cloned().unwrap_or_else(|| json!(timestamp(at)));
            record_installed(p, package_type, version, when, false);
        }
    }));
    txn
}

/// Dotted versions in numeric order (`10.2408.0.29` before `10.2411.1.10`).
fn version_order(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |v: &str| v.split('.').map(|p| p.parse::<u64>().unwrap_or(0)).collect::<Vec<_>>();
    parts(a).cmp(&parts(b))
}

/// Lists `version` as the installed version of `package_type` (the cluster's current version for
/// `Solution`); a report of an older one than listed changes nothing unless `newest` says it is.
fn record_installed(
    p: &mut serde_json::Map<String, Value>,
    package_type: &str,
    version: &str,
    when: Value,
    newest: bool,
) {
    let mut packages: Vec<Value> = p.get("packageVersions").and_then(Value::as_array).cloned().unwrap_or_default();
    let listed = packages.iter().find(|v| v.get("packageType").and_then(Value::as_str) == Some(package_type));
    let listed_version = listed.and_then(|v| v.get("version")).and_then(Value::as_str);
    if !newest && listed_version.is_some_and(|old| version_order(old, version).is_ge()) {
        return;
    }
    packages.retain(|v| v.get("packageType").and_then(Value::as_str) != Some(package_type));
    packages.insert(0, json!({ "packageType": package_type, "version": version, "lastUpdated": when }));
    p.insert("packageVersions".into(), Value::Array(packages));
    if package_type == "Solution" {
        p.insert("currentVersion".into(), json!(version));
    }
}

/// A run was accepted: the update is Installing (or Preparing), the summary in progress.
pub fn on_run_started(state: &State, update: &StoredResource, kind: RunKind) -> Txn {
    let mut txn = Txn::default();
    let (update_state, summary_state) = match kind {
        RunKind::Apply => ("Installing", "UpdateInProgress"),
        RunKind::Prepare => ("Preparing", "PreparationInProgress"),
    };
    txn.put(with_properties(update, |p| {
        p.insert("state".into(), json!(update_state));
        p.insert("updateStateProperties".into(), json!({ "progressPercentage": 0 }));
    }));
    if let Some(summary) = state.resource(&summary_key(cluster_key_of(&update.key()))) {
        txn.put(with_properties(summary, |p| {
            p.insert("state".into(), json!(summary_state));
        }));
    }
    txn
}

const CHECKS: [(&str, &str, &str, &str); 3] = [
    ("AzStackHci_Storage_Test_PoolHealth", "Storage pool health", "Storage", "The storage pool is healthy."),
    ("AzStackHci_Cluster_Test_NodeState", "Cluster node state", "Cluster", "Every node is up and in the cluster."),
    (
        "AzStackHci_Network_Test_Connectivity",
        "Connectivity to Azure",
        "Network",
        "The nodes reach the Azure endpoints the update needs.",
    ),
];

/// The results of the pre-update health checks; with `failure`, the first check failed with it.
fn health_results(cluster_id: &str, at: DateTime<Utc>, failure: Option<&str>) -> Value {
    let cluster_name = cluster_id.rsplit('/').next().unwrap_or_default();
    let results: Vec<Value> = CHECKS
        .iter()
        .enumerate()
        .map(|(i, (name, title, group, description))| {
            let failed = i == 0 && failure.is_some();
            json!({
                "name": name,
                "displayName": title,
                "tags": { "key": "Group", "value": group },
                "healthCheckTags": {},
                "title": title,
                "status": if failed { "Failed" } else { "Succeeded" },
                "severity": "Critical",
                "description": if failed { failure.unwrap_or_default() } else { description },
                "remediation": format!("Resolve the {} problem, then run the update again.", group.to_ascii_lowercase()),
                "targetResourceID": cluster_id,
                "targetResourceName": cluster_name,
                "targetResourceType": "Cluster",
                "timestamp": timestamp(at),
                "additionalData": "",
                "healthCheckSource": "PreUpdate",
            })
        })
        .collect();
    Value::Array(results)
}

fn record_health(p: &mut serde_json::Map<String, Value>, cluster_id: &str, at: DateTime<Utc>, failure: Option<&str>) {
    p.insert("healthState".into(), json!(if failure.is_some() { "Failure" } else { "Success" }));
    p.insert("healthCheckDate".into(), json!(timestamp(at)));
    p.insert("healthCheckResult".into(), health_results(cluster_id, at, failure));
}

/// The health checks passed mid-run: their results reach the update and the summary.
pub fn on_health_checked(state: &State, run_key: &str, at: DateTime<Utc>) -> Txn {
    let mut txn = Txn::default();
    let update_key = update_key_of(run_key);
    let cluster_key = cluster_key_of(update_key);
    let Some(cluster) = state.resource(cluster_key) else { return txn };
    for key in [update_key.to_string(), summary_key(cluster_key)] {
        if let Some(resource) = state.resource(&key) {
            txn.put(with_properties(resource, |p| record_health(p, &cluster.id, at, None)));
        }
    }
    txn
}

/// The run ended: the update is Installed (ReadyToInstall after a prepare) or in the failed
/// state of the step that failed; the summary follows, with the new version on success.
pub fn on_run_finished(state: &State, run_key: &str, sim: &RunSim, walk: &[LeafRun], at: DateTime<Utc>) -> Txn {
    let mut txn = Txn::default();
    let update_key = update_key_of(run_key);
    let cluster_key = cluster_key_of(update_key);
    let (Some(update), Some(cluster)) = (state.resource(update_key), state.resource(cluster_key)) else {
        return txn;
    };
    let failed = RunSim::failed_leaf(walk);
    // Health checks that failed, or that end the run (a prepare): no event reported them yet.
    let health = walk
        .iter()
        .find(|l| l.leaf.spec.name == HEALTH_CHECKS && !l.skipped && !l.unreached)
        .filter(|h| h.error.is_some() || h.end >= at);
    let health_failure = health.and_then(|h| h.error.as_deref());
    let update_state = match (failed, sim.kind) {
        (Some(leaf), _) => leaf.leaf.spec.failed_state,
        (None, RunKind::Apply) => "Installed",
        (None, RunKind::Prepare) => "ReadyToInstall",
    };
    let update_doc = update.body_value();
    let version = update_doc
        .pointer("/properties/version")
        .and_then(Value::as_str)
        .map_or_else(|| update.id.rsplit('/').next().unwrap_or_default().to_string(), str::to_string);
    let package_type = update_doc.pointer("/properties/packageType").and_then(Value::as_str).unwrap_or("Solution");
    let stamp = json!(timestamp(at));
    txn.put(with_properties(update, |p| {
        p.insert("state".into(), json!(update_state));
        let percent = if failed.is_some() { 0 } else { 100 };
        p.insert("updateStateProperties".into(), json!({ "progressPercentage": percent }));
        if failed.is_none() && sim.kind == RunKind::Apply {
            p.insert("installedDate".into(), stamp.clone());
        }
        if health.is_some() {
            record_health(p, &cluster.id, at, health_failure);
        }
    }));
    let Some(summary) = state.resource(&summary_key(cluster_key)) else { return txn };
    let others_available = state
        .with_prefix(&format!("{cluster_key}/updates/"))
        .filter(|r| r.key() != update_key && !r.key().contains("/updateruns/") && !r.deleting)
        .any(|r| is_available(r.body_value().pointer("/properties/state").and_then(Value::as_str)));
    txn.put(with_properties(summary, |p| {
        let summary_state = match (failed, sim.kind) {
            (Some(_), RunKind::Apply) => "UpdateFailed",
            (Some(_), RunKind::Prepare) => "PreparationFailed",
            (None, RunKind::Apply) if others_available => "UpdateAvailable",
            (None, RunKind::Apply) => "AppliedSuccessfully",
            (None, RunKind::Prepare) => "UpdateAvailable",
        };
        p.insert("state".into(), json!(summary_state));
        if health.is_some() {
            record_health(p, &cluster.id, at, health_failure);
        }
        if failed.is_none() && sim.kind == RunKind::Apply {
            p.insert("currentVersion".into(), json!(version));
            p.insert("lastUpdated".into(), stamp.clone());
            record_installed(p, package_type, &version, stamp.clone(), true);
        }
    }));
    txn
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_find_their_cluster_and_update() {
        let run =
            "/subscriptions/s/resourcegroups/g/providers/microsoft.azurestackhci/clusters/c/updates/u/updateruns/r";
        assert_eq!(update_key_of(run), &run[..run.find("/updateruns/").unwrap()]);
        assert!(cluster_key_of(run).ends_with("/clusters/c"));
        assert!(cluster_key_of(&summary_key(cluster_key_of(run))).ends_with("/clusters/c"));
    }
}

//! Applying and preparing HCI updates: runs that walk their step tree on the manual clock, the
//! update's and the summary's states following them, the apply LRO ending with the run, 409 while
//! a run holds the cluster, 400 for states that do not allow it, injected step failures and
//! re-runs that skip what was done.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const API: &str = "2026-10-01";
const UPDATE: &str = "Solution10.2411.0.24";

fn cluster(name: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.AzureStackHCI/clusters/{name}")
}

fn update(cluster_name: &str, name: &str) -> String {
    format!("{}/updates/{name}", cluster(cluster_name))
}

fn summary(cluster_name: &str) -> String {
    with_version(&format!("{}/updateSummaries/default", cluster(cluster_name)), API)
}

async fn setup(s: &TestServer, cluster_name: &str, nodes: usize) {
    s.create_group(RG).await;
    let body = json!({"location": "westus", "tags": {"azemu-node-count": nodes.to_string()}});
    let r = s.put(&with_version(&cluster(cluster_name), API), body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

async fn publish(s: &TestServer, cluster_name: &str, name: &str, state: &str) {
    let body = json!({"properties": {"state": state, "version": "10.2411.0.24", "displayName": "Solution 10.2411.0.24", "packageType": "Solution"}});
    let r = s.put(&with_version(&update(cluster_name, name), API), body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

async fn act(s: &TestServer, cluster_name: &str, name: &str, action: &str) -> Reply {
    s.post(&with_version(&format!("{}/{action}", update(cluster_name, name)), API), None).await
}

async fn runs(s: &TestServer, cluster_name: &str, name: &str) -> Vec<Value> {
    let r = s.get(&with_version(&format!("{}/updateRuns", update(cluster_name, name)), API)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["value"].as_array().unwrap().clone()
}

/// The only run azemu started for an update, as GET answers it now.
async fn latest_run(s: &TestServer, cluster_name: &str, name: &str) -> Value {
    let mut all = runs(s, cluster_name, name).await;
    all.sort_by_key(|r| r["properties"]["timeStarted"].as_str().unwrap_or_default().to_string());
    let id = all.last().expect("a run")["id"].as_str().unwrap().to_string();
    s.get(&with_version(&id, API)).await.body
}

fn statuses(step: &Value) -> Vec<(String, String)> {
    step["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap().to_string(), s["status"].as_str().unwrap().to_string()))
        .collect()
}

fn state_of(doc: &Value) -> &str {
    doc["properties"]["state"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn apply_walks_the_step_tree_and_the_update_and_summary_follow() {
    let s = TestServer::start().await;
    setup(&s, "c1", 2).await;
    let before = s.get(&summary("c1")).await.body;
    assert_eq!(
        (state_of(&before), before["properties"]["currentVersion"].as_str()),
        ("AppliedSuccessfully", Some("10.2408.0.29"))
    );
    publish(&s, "c1", UPDATE, "Ready").await;
    assert_eq!(state_of(&s.get(&summary("c1")).await.body), "UpdateAvailable");

    let accepted = act(&s, "c1", UPDATE, "apply").await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.body);
    let status_url = accepted.header("azure-asyncoperation").expect("Azure-AsyncOperation");
    assert!(accepted.header("location").is_some());
    assert_eq!(state_of(&s.get(&with_version(&update("c1", UPDATE), API)).await.body), "Installing");
    assert_eq!(state_of(&s.get(&summary("c1")).await.body), "UpdateInProgress");

    let run = latest_run(&s, "c1", UPDATE).await;
    let run_name = run["name"].as_str().unwrap().to_string();
    let guid = run_name.strip_prefix(&format!("{UPDATE}/")).expect("named {update}/{run}");
    assert!(uuid::Uuid::parse_str(guid).is_ok(), "{run_name}");
    assert_eq!(run["type"], "Microsoft.AzureStackHCI/updates/updateRuns");
    assert_eq!(run["location"], "westus");
    let progress = &run["properties"]["progress"];
    assert_eq!((progress["name"].as_str(), progress["status"].as_str()), (Some("Start update"), Some("InProgress")));
    let names: Vec<String> = statuses(progress).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["Prepare", "Node-1", "Node-2", "Post-update cleanup"]);
    let node = &progress["steps"][1];
    assert_eq!(
        statuses(node).into_iter().map(|(n, _)| n).collect::<Vec<_>>(),
        ["Drain", "Install", "Restart", "Resume"]
    );
    assert_eq!(node["steps"][2]["expectedExecutionTime"], "PT6S");

    // Another run on the same cluster is refused while this one holds it; the message names it.
    for action in ["apply", "prepare"] {
        let again = act(&s, "c1", UPDATE, action).await;
        assert_eq!((again.status, again.error_code()), (StatusCode::CONFLICT, "UpdateRunInProgress"), "{}", again.body);
        assert!(again.body["error"]["message"].as_str().unwrap().contains(&run_name), "{}", again.body);
    }

    s.advance(10.0).await;
    let run = latest_run(&s, "c1", UPDATE).await;
    let progress = &run["properties"]["progress"];
    assert_eq!(
        statuses(progress),
        [
            ("Prepare", "Success"),
            ("Node-1", "InProgress"),
            ("Node-2", "NotStarted"),
            ("Post-update cleanup", "NotStarted")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert_eq!(statuses(&progress["steps"][1])[0].1, "InProgress");
    assert!(progress["steps"][2].get("startTimeUtc").is_none());
    // lastUpdatedTimeUtc bubbles up from the last finished step.
    assert_eq!(progress["lastUpdatedTimeUtc"], progress["steps"][0]["steps"][2]["endTimeUtc"]);
    assert_eq!(run["properties"]["lastUpdatedTime"], progress["lastUpdatedTimeUtc"]);
    assert_eq!(run["properties"]["state"], "InProgress");
    let updated = s.get(&with_version(&update("c1", UPDATE), API)).await.body;
    assert_eq!(updated["properties"]["healthState"], "Success", "the health checks reported: {updated}");
    assert_eq!(updated["properties"]["healthCheckResult"].as_array().unwrap().len(), 3);
    assert_eq!(s.get(&status_url).await.body["status"], "InProgress");

    s.advance(28.0).await;
    let run = latest_run(&s, "c1", UPDATE).await;
    assert_eq!((state_of(&run), run["properties"]["duration"].as_str()), ("Succeeded", Some("PT38S")));
    assert!(statuses(&run["properties"]["progress"]).iter().all(|(_, s)| s == "Success"));
    assert_eq!(s.get(&status_url).await.body["status"], "Succeeded");
    let updated = s.get(&with_version(&update("c1", UPDATE), API)).await.body;
    assert_eq!(state_of(&updated), "Installed");
    assert_eq!(updated["properties"]["installedDate"], run["properties"]["progress"]["endTimeUtc"]);
    let after = s.get(&summary("c1")).await.body;
    assert_eq!(state_of(&after), "AppliedSuccessfully");
    assert_eq!(after["properties"]["currentVersion"], "10.2411.0.24");
    assert_eq!(after["properties"]["lastUpdated"], run["properties"]["progress"]["endTimeUtc"]);
    assert_eq!(after["properties"]["packageVersions"][0]["version"], "10.2411.0.24");

    // Installed: nothing left to apply.
    let again = act(&s, "c1", UPDATE, "apply").await;
    assert_eq!((again.status, again.error_code()), (StatusCode::BAD_REQUEST, "InvalidUpdateState"));
    assert!(again.body["error"]["message"].as_str().unwrap().contains("Installed"), "{}", again.body);
}

#[tokio::test]
async fn a_failed_step_fails_run_update_summary_and_lro_and_a_new_apply_skips_what_was_done() {
    let s = TestServer::start().await;
    setup(&s, "c3", 3).await;
    publish(&s, "c3", UPDATE, "Ready").await;
    s.add_fault(json!({"match": {"step": "Node-2/Restart"}, "action": {"failStep": {"code": "NodeRestartFailed", "message": "Node-2 did not come back after its restart."}}})).await;
    let accepted = act(&s, "c3", UPDATE, "apply").await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.body);
    s.advance(120.0).await;

    let run = latest_run(&s, "c3", UPDATE).await;
    let progress = &run["properties"]["progress"];
    assert_eq!(state_of(&run), "Failed");
    let message = "Node-2 did not come back after its restart.";
    assert_eq!((progress["status"].as_str(), progress["errorMessage"].as_str()), (Some("Error"), Some(message)));
    let node2 = &progress["steps"][2];
    assert_eq!((node2["status"].as_str(), node2["errorMessage"].as_str()), (Some("Error"), Some(message)));
    assert_eq!(
        statuses(node2),
        [("Drain", "Success"), ("Install", "Success"), ("Restart", "Error"), ("Resume", "NotStarted")]
            .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert_eq!(node2["steps"][2]["errorMessage"], message);
    assert_eq!(progress["steps"][3]["status"], "NotStarted", "Node-3 never started");

    let op = s.get(&accepted.header("azure-asyncoperation").unwrap()).await.body;
    assert_eq!((op["status"].as_str(), op["error"]["code"].as_str()), (Some("Failed"), Some("NodeRestartFailed")));
    assert_eq!(op["error"]["message"], message);
    assert_eq!(state_of(&s.get(&with_version(&update("c3", UPDATE), API)).await.body), "InstallationFailed");
    assert_eq!(state_of(&s.get(&summary("c3")).await.body), "UpdateFailed");

    // Again: a fresh run that skips every step the first one finished.
    let again = act(&s, "c3", UPDATE, "apply").await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.body);
    assert_eq!(runs(&s, "c3", UPDATE).await.len(), 2);
    let rerun = latest_run(&s, "c3", UPDATE).await;
    assert_ne!(rerun["name"], run["name"]);
    let progress = &rerun["properties"]["progress"];
    assert_eq!(
        statuses(progress)[..2],
        [("Prepare", "Skipped"), ("Node-1", "Skipped")].map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert_eq!(
        statuses(&progress["steps"][2])[..3],
        [("Drain", "Skipped"), ("Install", "Skipped"), ("Restart", "InProgress")]
            .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    // Restart, Resume on Node-2, Node-3 (13 s), cleanup (3 s).
    s.advance(23.0).await;
    let rerun = latest_run(&s, "c3", UPDATE).await;
    assert_eq!((state_of(&rerun), rerun["properties"]["duration"].as_str()), ("Succeeded", Some("PT23S")));
    assert_eq!(s.get(&again.header("azure-asyncoperation").unwrap()).await.body["status"], "Succeeded");
    assert_eq!(state_of(&s.get(&with_version(&update("c3", UPDATE), API)).await.body), "Installed");
    assert_eq!(state_of(&s.get(&summary("c3")).await.body), "AppliedSuccessfully");
}

#[tokio::test]
async fn prepare_checks_health_and_leaves_the_update_ready_to_install() {
    let s = TestServer::start().await;
    setup(&s, "c1", 2).await;
    publish(&s, "c1", UPDATE, "Ready").await;
    let accepted = act(&s, "c1", UPDATE, "prepare").await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.body);
    assert_eq!(state_of(&s.get(&with_version(&update("c1", UPDATE), API)).await.body), "Preparing");
    assert_eq!(state_of(&s.get(&summary("c1")).await.body), "PreparationInProgress");
    let run = latest_run(&s, "c1", UPDATE).await;
    assert_eq!(run["properties"]["progress"]["name"], "Prepare update");
    assert_eq!(statuses(&run["properties"]["progress"]).len(), 1, "download and health checks only");
    s.advance(9.0).await;
    assert_eq!(state_of(&latest_run(&s, "c1", UPDATE).await), "Succeeded");
    let updated = s.get(&with_version(&update("c1", UPDATE), API)).await.body;
    assert_eq!(state_of(&updated), "ReadyToInstall");
    assert_eq!(updated["properties"]["healthState"], "Success");
    let after = s.get(&summary("c1")).await.body;
    assert_eq!((state_of(&after), after["properties"]["healthState"].as_str()), ("UpdateAvailable", Some("Success")));
    s.get(&accepted.header("location").unwrap()).await.assert_finished_empty();

    // Prepared: the apply skips the download and checks, so it takes 38 - 9 s.
    act(&s, "c1", UPDATE, "apply").await;
    assert_eq!(statuses(&latest_run(&s, "c1", UPDATE).await["properties"]["progress"])[0].1, "Skipped");
    s.advance(29.0).await;
    assert_eq!(state_of(&latest_run(&s, "c1", UPDATE).await), "Succeeded");
}

#[tokio::test]
async fn failed_health_checks_leave_the_update_health_check_failed() {
    let s = TestServer::start().await;
    setup(&s, "c1", 2).await;
    publish(&s, "c1", UPDATE, "Ready").await;
    s.add_fault(json!({"match": {"step": "Prepare/Health checks"}, "action": {"failStep": {"message": "Storage pool is degraded."}}})).await;
    let accepted = act(&s, "c1", UPDATE, "prepare").await;
    s.advance(9.0).await;
    let updated = s.get(&with_version(&update("c1", UPDATE), API)).await.body;
    assert_eq!(
        (state_of(&updated), updated["properties"]["healthState"].as_str()),
        ("HealthCheckFailed", Some("Failure"))
    );
    let failed_check = &updated["properties"]["healthCheckResult"][0];
    assert_eq!(
        (failed_check["status"].as_str(), failed_check["description"].as_str()),
        (Some("Failed"), Some("Storage pool is degraded."))
    );
    let after = s.get(&summary("c1")).await.body;
    assert_eq!((state_of(&after), after["properties"]["healthState"].as_str()), ("PreparationFailed", Some("Failure")));
    let op = s.get(&accepted.header("azure-asyncoperation").unwrap()).await.body;
    assert_eq!((op["status"].as_str(), op["error"]["code"].as_str()), (Some("Failed"), Some("StepFailed")));
    // The rule is used up: preparing again passes.
    act(&s, "c1", UPDATE, "prepare").await;
    s.advance(9.0).await;
    assert_eq!(state_of(&s.get(&with_version(&update("c1", UPDATE), API)).await.body), "ReadyToInstall");
}

#[tokio::test]
async fn a_fail_operation_rule_on_apply_fails_the_run_at_its_last_step() {
    let s = TestServer::start().await;
    setup(&s, "c1", 1).await;
    publish(&s, "c1", UPDATE, "Ready").await;
    s.add_fault(json!({"match": {"operation": "Updates_Post"}, "action": {"failOperation": {"code": "UpdateFailed", "message": "The update failed."}}})).await;
    let accepted = act(&s, "c1", UPDATE, "apply").await;
    s.advance(60.0).await;
    let run = latest_run(&s, "c1", UPDATE).await;
    assert_eq!(state_of(&run), "Failed");
    assert_eq!(run["properties"]["progress"]["steps"][2]["steps"][1]["status"], "Error", "Post-update cleanup/Cleanup");
    let op = s.get(&accepted.header("azure-asyncoperation").unwrap()).await.body;
    assert_eq!((op["status"].as_str(), op["error"]["message"].as_str()), (Some("Failed"), Some("The update failed.")));
    assert_eq!(state_of(&s.get(&with_version(&update("c1", UPDATE), API)).await.body), "InstallationFailed");
}

#[tokio::test]
async fn bad_applies_are_refused_precisely_and_change_nothing() {
    let s = TestServer::start().await;
    setup(&s, "c1", 2).await;
    let missing = act(&s, "c1", "NoSuchUpdate", "apply").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    let no_cluster = act(&s, "nocluster", UPDATE, "apply").await;
    assert_eq!(no_cluster.status, StatusCode::NOT_FOUND, "{}", no_cluster.body);
    publish(&s, "c1", "Obsolete1", "Obsolete").await;
    let obsolete = act(&s, "c1", "Obsolete1", "apply").await;
    assert_eq!((obsolete.status, obsolete.error_code()), (StatusCode::BAD_REQUEST, "InvalidUpdateState"));
    assert!(obsolete.body["error"]["message"].as_str().unwrap().contains("'Obsolete'"), "{}", obsolete.body);
    let prepare_installed = {
        publish(&s, "c1", "Done1", "Installed").await;
        act(&s, "c1", "Done1", "prepare").await
    };
    assert_eq!(prepare_installed.status, StatusCode::BAD_REQUEST);
    assert!(runs(&s, "c1", "Obsolete1").await.is_empty() && runs(&s, "c1", "Done1").await.is_empty());
    assert_eq!(state_of(&s.get(&with_version(&update("c1", "Obsolete1"), API)).await.body), "Obsolete");
    let get_apply = s.get(&with_version(&format!("{}/apply", update("c1", "Obsolete1")), API)).await;
    assert_eq!(get_apply.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn deleting_the_update_mid_run_cancels_the_apply() {
    let s = TestServer::start().await;
    setup(&s, "c1", 2).await;
    publish(&s, "c1", UPDATE, "Ready").await;
    let accepted = act(&s, "c1", UPDATE, "apply").await;
    s.advance(5.0).await;
    let deleting = s.delete(&with_version(&update("c1", UPDATE), API)).await;
    assert_eq!(deleting.status, StatusCode::ACCEPTED);
    s.advance(40.0).await;
    assert_eq!(s.get(&with_version(&update("c1", UPDATE), API)).await.status, StatusCode::NOT_FOUND);
    let op = s.get(&accepted.header("azure-asyncoperation").unwrap()).await.body;
    assert_eq!(op["status"], "Canceled");
    // The cluster is free again.
    publish(&s, "c1", "Next1", "Ready").await;
    assert_eq!(act(&s, "c1", "Next1", "apply").await.status, StatusCode::ACCEPTED);
}

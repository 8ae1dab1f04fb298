//! HCI updates, update runs and update summaries as stored resources: the seed's update-run PUT
//! round-tripped, shapes checked, parents required, a cluster's deletion taking them along.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const SEED: &str = "2024-04-01";
const UPDATE: &str = "Microsoft4.2203.2.32";
const RUN: &str = "23b779ba-0d52-4a80-8571-45ca74664ec3";

fn cluster() -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.AzureStackHCI/clusters/testcluster")
}

fn update(name: &str) -> String {
    format!("{}/updates/{name}", cluster())
}

fn run(update_name: &str, name: &str) -> String {
    format!("{}/updateRuns/{name}", update(update_name))
}

/// The seed's request body: a finished run with one child step, timestamps with offsets.
fn seed_run() -> Value {
    json!({"properties": {"progress": {
        "name": "Unnamed step", "description": "Update Azure Stack.", "errorMessage": "", "status": "Success",
        "startTimeUtc": "2022-04-06T01:36:33.3876751+00:00", "endTimeUtc": "2022-04-06T13:58:42.969006+00:00",
        "lastUpdatedTimeUtc": "2022-04-06T13:58:42.969006+00:00",
        "steps": [{
            "name": "PreUpdate Cloud", "description": "Prepare for SSU update", "errorMessage": "", "status": "Success",
            "startTimeUtc": "2022-04-06T01:36:33.3876751+00:00", "endTimeUtc": "2022-04-06T01:37:16.8728314+00:00",
            "lastUpdatedTimeUtc": "2022-04-06T01:37:16.8728314+00:00", "steps": []
        }]
    }}})
}

fn update_body() -> Value {
    json!({"properties": {
        "installedDate": "2022-04-06T14:08:18.254Z", "description": "AzS Update 4.2203.2.32", "state": "Installed",
        "prerequisites": [{"updateType": "update type", "version": "prerequisite version", "packageName": "update package name"}],
        "packageSizeInMb": 18858, "displayName": "AzS Update - 4.2203.2.32", "version": "4.2203.2.32",
        "publisher": "Microsoft", "availabilityType": "Local", "packageType": "Infrastructure",
        "updateStateProperties": {"notifyMessage": "Brief message", "progressPercentage": 0}
    }})
}

async fn setup(s: &TestServer) {
    s.create_group(RG).await;
    let r = s.put(&with_version(&cluster(), SEED), json!({"location": "West US"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn the_seeds_update_run_put_comes_back_unchanged() {
    let s = TestServer::start().await;
    setup(&s).await;
    let u = s.put(&with_version(&update(UPDATE), SEED), update_body()).await;
    assert_eq!(u.status, StatusCode::OK, "{}", u.body);
    assert_eq!(
        (u.body["name"].as_str(), u.body["type"].as_str()),
        (Some(UPDATE), Some("Microsoft.AzureStackHCI/updates"))
    );
    assert_eq!(u.body["location"], "westus", "ARM stores a location normalized");
    assert_eq!(u.body["properties"]["state"], "Installed");

    let r = s.put(&with_version(&run(UPDATE, RUN), SEED), seed_run()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["id"], run(UPDATE, RUN));
    assert_eq!(r.body["name"], format!("{UPDATE}/{RUN}"));
    assert_eq!(r.body["type"], "Microsoft.AzureStackHCI/updates/updateRuns");
    assert_eq!(r.body["location"], "westus");
    assert_eq!(r.body["properties"]["progress"], seed_run()["properties"]["progress"], "field by field, every level");
    let got = s.get(&with_version(&run(UPDATE, RUN), HCI)).await;
    assert_eq!(got.body, r.body);
    let listed = s.get(&with_version(&format!("{}/updateRuns", update(UPDATE)), HCI)).await;
    assert_eq!(listed.body["value"], json!([r.body]));

    let summary = s
        .put(
            &with_version(&format!("{}/updateSummaries/default", cluster()), SEED),
            json!({"properties": {"state": "AppliedSuccessfully", "currentVersion": "4.2203.2.32"}}),
        )
        .await;
    assert_eq!(summary.status, StatusCode::OK, "{}", summary.body);
    assert_eq!(
        (summary.body["name"].as_str(), summary.body["type"].as_str()),
        (Some("default"), Some("Microsoft.AzureStackHCI/updateSummaries"))
    );
    let summaries = s.get(&with_version(&format!("{}/updateSummaries", cluster()), HCI)).await;
    assert_eq!(summaries.body["value"].as_array().unwrap().len(), 1);

    // Deleting the cluster takes its updates, runs and summary with it.
    assert_eq!(s.delete(&with_version(&cluster(), HCI)).await.status, StatusCode::ACCEPTED);
    s.advance(2.0).await;
    setup(&s).await;
    assert_eq!(s.get(&with_version(&run(UPDATE, RUN), HCI)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(s.get(&with_version(&update(UPDATE), HCI)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bodies_are_checked_against_the_spec_and_parents_are_required() {
    let s = TestServer::start().await;
    setup(&s).await;
    let orphan = s.put(&with_version(&run("nope", RUN), SEED), seed_run()).await;
    assert_eq!((orphan.status, orphan.error_code()), (StatusCode::NOT_FOUND, "ParentResourceNotFound"));
    s.put(&with_version(&update(UPDATE), SEED), update_body()).await;
    let mut bad_status = seed_run();
    bad_status["properties"]["progress"]["steps"][0]["status"] = json!("Done");
    let mut bad_time = seed_run();
    bad_time["properties"]["progress"]["startTimeUtc"] = json!("yesterday");
    let mut not_a_tree = seed_run();
    not_a_tree["properties"]["progress"]["steps"] = json!("none");
    let cases = [
        (run(UPDATE, RUN), bad_status, "properties.progress.steps[0].status"),
        (run(UPDATE, RUN), bad_time, "properties.progress.startTimeUtc"),
        (run(UPDATE, RUN), not_a_tree, "properties.progress.steps"),
        (run(UPDATE, RUN), json!({"properties": {"state": "Sleeping"}}), "properties.state"),
        (update("u2"), json!({"properties": {"state": "Bogus"}}), "properties.state"),
        (update("u2"), json!({"properties": {"packageSizeInMb": "big"}}), "properties.packageSizeInMb"),
        (
            update("u2"),
            json!({"properties": {"healthCheckResult": [{"name": "a", "status": "Succeeded"}, {"name": "b", "status": "Maybe"}]}}),
            "properties.healthCheckResult[1].status",
        ),
        (
            format!("{}/updateSummaries/default", cluster()),
            json!({"properties": {"healthState": "Fine"}}),
            "properties.healthState",
        ),
    ];
    for (path, body, target) in cases {
        // The cluster made its summary; nothing else exists yet.
        let before = s.get(&with_version(&path, SEED)).await;
        let r = s.put(&with_version(&path, SEED), body.clone()).await;
        assert_eq!(
            (r.status, r.error_code()),
            (StatusCode::BAD_REQUEST, "InvalidRequestContent"),
            "{body}: {}",
            r.body
        );
        assert_eq!(r.body["error"]["target"], target, "{}", r.body);
        let after = s.get(&with_version(&path, SEED)).await;
        assert_eq!((after.status, &after.body), (before.status, &before.body), "nothing stored");
    }
    let other =
        s.put(&with_version(&format!("{}/updateSummaries/latest", cluster()), SEED), json!({"properties": {}})).await;
    assert_eq!((other.status, other.error_code()), (StatusCode::BAD_REQUEST, "InvalidResourceName"));
}

#[tokio::test]
async fn installed_updates_are_the_summarys_package_versions() {
    let s = TestServer::start().await;
    setup(&s).await;
    let summary_url = with_version(&format!("{}/updateSummaries/default", cluster()), SEED);
    let summary = || s.get(&summary_url);
    let packages = |doc: &Value| -> Vec<(String, String)> {
        doc["properties"]["packageVersions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["packageType"].as_str().unwrap().to_string(), p["version"].as_str().unwrap().to_string()))
            .collect()
    };
    let before = summary().await.body;
    let solution = before["properties"]["currentVersion"].as_str().unwrap().to_string();

    // The seed's update is an installed Infrastructure package.
    s.put(&with_version(&update(UPDATE), SEED), update_body()).await;
    let mut installed = update_body();
    installed["properties"]["packageType"] = json!("Solution");
    installed["properties"]["version"] = json!("99.2411.1.10");
    s.put(&with_version(&update("Solution99.2411.1.10"), SEED), installed.clone()).await;
    let after = summary().await.body;
    let listed = packages(&after);
    assert!(listed.contains(&("Infrastructure".into(), "4.2203.2.32".into())), "{listed:?}");
    assert!(listed.contains(&("Solution".into(), "99.2411.1.10".into())), "{listed:?}");
    assert_eq!(after["properties"]["currentVersion"], "99.2411.1.10");
    assert_ne!(solution, "99.2411.1.10");

    // An older installed update reported later does not take the version back.
    installed["properties"]["version"] = json!("99.2408.0.1");
    s.put(&with_version(&update("Solution99.2408.0.1"), SEED), installed).await;
    let later = summary().await.body;
    assert!(packages(&later).contains(&("Solution".into(), "99.2411.1.10".into())));
    assert_eq!(later["properties"]["currentVersion"], "99.2411.1.10");
}

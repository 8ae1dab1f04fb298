//! Edge-device jobs over HTTP: both job types walk their lifecycle on the emulator clock.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn ts(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("timestamp expected, got {v}")))
        .unwrap()
        .with_timezone(&Utc)
}

async fn clock_now(s: &TestServer) -> DateTime<Utc> {
    ts(&s.get("/_azemu/clock").await.body["now"])
}

/// Advances in small steps, recording (status, percentComplete) whenever it changes.
async fn walk(s: &TestServer, path: &str, seconds: f64) -> Vec<(String, i64)> {
    let mut seen: Vec<(String, i64)> = Vec::new();
    let steps = (seconds / 0.1).round() as usize;
    for _ in 0..=steps {
        let body = s.get(&with_version(path, HCI)).await.body;
        let entry = (
            body["properties"]["status"].as_str().unwrap().to_string(),
            body["properties"]["reportedProperties"]["percentComplete"].as_i64().unwrap(),
        );
        if seen.last() != Some(&entry) {
            seen.push(entry);
        }
        s.advance(0.1).await;
    }
    seen
}

#[tokio::test]
async fn collect_log_walks_validation_then_deployment() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    let created = s.put(&with_version(&job("dev-1", "collect-1"), HCI), collect_log_body()).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let props = &created.body["properties"];
    assert_eq!((props["status"].as_str(), props["provisioningState"].as_str()), (Some("Scheduled"), Some("Accepted")));
    let job_id = props["jobId"].as_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&job_id).is_ok());
    let op_url = created.header("azure-asyncoperation").unwrap();
    // A job has no location of its own: its operation lives in its resource group's region.
    assert!(op_url.contains("/locations/eastus/operationStatuses/"), "{op_url}");

    let seen = walk(&s, &job("dev-1", "collect-1"), 5.0).await;
    let statuses: Vec<&str> = seen.iter().map(|(st, _)| st.as_str()).collect::<Vec<_>>();
    let mut distinct = statuses.clone();
    distinct.dedup();
    assert_eq!(
        distinct,
        [
            "Scheduled",
            "ValidationInProgress",
            "ValidationSuccess",
            "DeploymentInProgress",
            "DeploymentSuccess",
            "Succeeded"
        ]
    );
    let percents: Vec<i64> = seen.iter().map(|(_, p)| *p).collect();
    assert!(percents.windows(2).all(|w| w[0] <= w[1]), "percentComplete only grows: {percents:?}");
    assert_eq!(*percents.last().unwrap(), 100);

    let done = s.get(&with_version(&job("dev-1", "collect-1"), HCI)).await.body;
    let p = &done["properties"];
    assert_eq!(p["provisioningState"], "Succeeded");
    assert_eq!(p["jobId"], job_id.as_str());
    assert!(ts(&p["startTimeUtc"]) < ts(&p["endTimeUtc"]));
    assert!(ts(&p["endTimeUtc"]) - ts(&p["startTimeUtc"]) < Duration::seconds(5));
    let rp = &p["reportedProperties"];
    assert_eq!(rp["validationStatus"]["status"], "Success");
    assert_eq!(rp["deploymentStatus"]["status"], "Success");
    let leaves = rp["deploymentStatus"]["steps"][0]["steps"].as_array().unwrap();
    assert_eq!(leaves.len(), 3);
    assert!(leaves.iter().all(|l| l["status"] == "Success" && l["endTimeUtc"].is_string()));
    assert_eq!(leaves[1]["fullStepIndex"], "2.2");
    let session = &rp["logCollectionSessionDetails"][0];
    assert_eq!(session["status"], "Succeeded");
    assert!(session["logSize"].as_i64().unwrap() > 0);
    assert!(session["timeCollected"].as_str().unwrap().starts_with("PT"));
    assert!(uuid::Uuid::parse_str(session["correlationId"].as_str().unwrap()).is_ok());
    assert_eq!(p["lastLogGenerated"], session["endTime"]);

    let op = s.get(&op_url).await.body;
    assert_eq!(op["status"], "Succeeded");
    assert_eq!(op["endTime"], p["endTimeUtc"]);
}

#[tokio::test]
async fn validate_mode_stops_after_validation() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    let mut body = collect_log_body();
    body["properties"]["deploymentMode"] = json!("Validate");
    s.put(&with_version(&job("dev-1", "check-1"), HCI), body).await;
    let seen = walk(&s, &job("dev-1", "check-1"), 3.0).await;
    let mut statuses: Vec<&str> = seen.iter().map(|(st, _)| st.as_str()).collect();
    statuses.dedup();
    assert_eq!(statuses, ["Scheduled", "ValidationInProgress", "ValidationSuccess", "Succeeded"]);
    let done = s.get(&with_version(&job("dev-1", "check-1"), HCI)).await.body;
    assert!(done["properties"]["reportedProperties"].get("deploymentStatus").is_none());
    assert_eq!(done["properties"]["deploymentMode"], "Validate");
}

#[tokio::test]
async fn remote_support_enable_opens_a_session_until_expiry() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    let expiry = clock_now(&s).await + Duration::hours(2);
    let created = s
        .put(&with_version(&job("dev-1", "support-1"), HCI), remote_support_body("Enable", &expiry.to_rfc3339()))
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    s.advance(5.0).await;
    let open = s.get(&with_version(&job("dev-1", "support-1"), HCI)).await.body;
    let p = &open["properties"];
    assert_eq!(
        (p["status"].as_str(), p["type"].as_str(), p["accessLevel"].as_str()),
        (Some("Succeeded"), Some("Enable"), Some("Diagnostics"))
    );
    let node = &p["reportedProperties"]["nodeSettings"];
    assert_eq!((node["state"].as_str(), node["connectionStatus"].as_str()), (Some("Active"), Some("Connected")));
    let session = &p["reportedProperties"]["sessionDetails"][0];
    assert_eq!(session["accessLevel"], "Diagnostics");
    assert_eq!(ts(&session["sessionEndTime"]), expiry);
    assert!(session["transcriptLocation"].as_str().unwrap().contains(session["sessionId"].as_str().unwrap()));

    s.advance(2.0 * 3600.0).await;
    let closed = s.get(&with_version(&job("dev-1", "support-1"), HCI)).await.body;
    let node = &closed["properties"]["reportedProperties"]["nodeSettings"];
    assert_eq!((node["state"].as_str(), node["connectionStatus"].as_str()), (Some("Expired"), Some("Disconnected")));
    assert_eq!(ts(&node["updatedAt"]), expiry);
}

#[tokio::test]
async fn remote_support_revoke_closes_open_sessions() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    let expiry = (clock_now(&s).await + Duration::days(1)).to_rfc3339();
    s.put(&with_version(&job("dev-1", "support-1"), HCI), remote_support_body("Enable", &expiry)).await;
    s.advance(5.0).await;
    s.put(&with_version(&job("dev-1", "revoke-1"), HCI), remote_support_body("Revoke", &expiry)).await;
    s.advance(5.0).await;
    let revoker = s.get(&with_version(&job("dev-1", "revoke-1"), HCI)).await.body;
    assert_eq!(revoker["properties"]["status"], "Succeeded");
    assert_eq!(revoker["properties"]["reportedProperties"]["nodeSettings"]["state"], "Revoked");
    let revoked = s.get(&with_version(&job("dev-1", "support-1"), HCI)).await.body;
    let node = &revoked["properties"]["reportedProperties"]["nodeSettings"];
    assert_eq!((node["state"].as_str(), node["connectionStatus"].as_str()), (Some("Revoked"), Some("Disconnected")));
    let end = ts(&revoked["properties"]["reportedProperties"]["sessionDetails"][0]["sessionEndTime"]);
    assert!(end < ts(&Value::String(expiry)));
}

#[tokio::test]
async fn expired_request_fails_validation_and_the_operation() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    let past = (clock_now(&s).await - Duration::hours(1)).to_rfc3339();
    let created = s.put(&with_version(&job("dev-1", "late-1"), HCI), remote_support_body("Enable", &past)).await;
    let op_url = created.header("azure-asyncoperation").unwrap();
    let seen = walk(&s, &job("dev-1", "late-1"), 3.0).await;
    let mut statuses: Vec<&str> = seen.iter().map(|(st, _)| st.as_str()).collect();
    statuses.dedup();
    assert_eq!(statuses, ["Scheduled", "ValidationInProgress", "ValidationFailed", "Failed"]);
    let failed = s.get(&with_version(&job("dev-1", "late-1"), HCI)).await.body;
    assert_eq!(failed["properties"]["provisioningState"], "Failed");
    assert!(failed["properties"]["reportedProperties"]["percentComplete"].as_i64().unwrap() < 100);
    let step = &failed["properties"]["reportedProperties"]["validationStatus"]["steps"][0]["steps"][2];
    assert_eq!(step["status"], "Error");
    assert!(step["exception"][0].as_str().unwrap().contains("not in the future"));
    let op = s.get(&op_url).await.body;
    assert_eq!(op["status"], "Failed");
    assert_eq!(op["error"]["code"], "JobValidationFailed");
}

#[tokio::test]
async fn jobs_need_their_device_and_list_by_device() {
    let s = TestServer::start().await;
    s.create_group(RG).await;
    let orphan = s.put(&with_version(&job("ghost", "job-1"), HCI), collect_log_body()).await;
    assert_eq!((orphan.status, orphan.error_code()), (StatusCode::NOT_FOUND, "ParentResourceNotFound"));
    let orphan_list = s.get(&with_version(&format!("{}/jobs", device("ghost")), HCI)).await;
    assert_eq!(orphan_list.error_code(), "ParentResourceNotFound");
    let orphan_get = s.get(&with_version(&job("ghost", "job-1"), HCI)).await;
    assert_eq!((orphan_get.status, orphan_get.error_code()), (StatusCode::NOT_FOUND, "ParentResourceNotFound"));
    s.create_device("dev-1").await;
    s.create_device("dev-2").await;
    s.put(&with_version(&job("dev-1", "job-1"), HCI), collect_log_body()).await;
    s.put(&with_version(&job("dev-2", "job-2"), HCI), collect_log_body()).await;
    let list = s.get(&with_version(&format!("{}/jobs", device("dev-1")), SEED_HCI)).await;
    let names: Vec<_> =
        list.body["value"].as_array().unwrap().iter().map(|j| j["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["job-1"]);
    assert_eq!(list.body["value"][0]["type"], "Microsoft.AzureStackHCI/edgeDevices/jobs");
}

#[tokio::test]
async fn repeated_put_is_idempotent_and_changes_wait_for_the_job() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    let path = with_version(&job("dev-1", "job-1"), HCI);
    let first = s.put(&path, collect_log_body()).await;
    let again = s.put(&path, collect_log_body()).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.header("azure-asyncoperation"), first.header("azure-asyncoperation"));
    assert_eq!(again.body["properties"]["jobId"], first.body["properties"]["jobId"]);
    let mut changed = collect_log_body();
    changed["properties"]["toDate"] = json!("2024-01-30T00:00:00Z");
    let busy = s.put(&path, changed.clone()).await;
    assert_eq!((busy.status, busy.error_code()), (StatusCode::CONFLICT, "AnotherOperationInProgress"));
    let retyped = s.put(&path, remote_support_body("Enable", "2099-01-01T00:00:00Z")).await;
    assert_eq!((retyped.status, retyped.error_code()), (StatusCode::BAD_REQUEST, "InvalidParameter"));
    s.advance(5.0).await;
    let rerun = s.put(&path, changed).await;
    assert_eq!(rerun.status, StatusCode::OK, "{}", rerun.body);
    assert_eq!(rerun.body["properties"]["status"], "Scheduled");
    assert_eq!(rerun.body["properties"]["jobId"], first.body["properties"]["jobId"]);
    assert_ne!(rerun.header("azure-asyncoperation"), first.header("azure-asyncoperation"));
}

#[tokio::test]
async fn delete_job_is_202_then_200_when_done_and_204_when_absent() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    let path = with_version(&job("dev-1", "job-1"), HCI);
    let created = s.put(&path, collect_log_body()).await;
    let put_op = created.header("azure-asyncoperation").unwrap();
    let accepted = s.delete(&path).await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED);
    let location = accepted.header("location").unwrap();
    s.advance(1.0).await;
    s.get(&location).await.assert_finished_empty();
    assert_eq!(s.get(&put_op).await.body["status"], "Canceled");
    assert_eq!(s.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(s.delete(&path).await.status, StatusCode::NO_CONTENT);
}

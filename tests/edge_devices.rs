//! Edge devices over HTTP: create as a long-running PUT, provisioning, list, validate, delete.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn create_is_an_async_operation_that_completes_with_provisioning() {
    let s = TestServer::start().await;
    let created = s.create_device("dev-1").await;
    assert_eq!(created.body["properties"]["provisioningState"], "Accepted");
    assert_eq!(created.body["kind"], "HCI");
    assert_eq!(created.header("retry-after").as_deref(), Some("1"));
    let status_url = created.header("azure-asyncoperation").expect("Azure-AsyncOperation header");
    assert!(status_url.starts_with(&format!(
        "{}/subscriptions/{SUB}/providers/Microsoft.AzureStackHCI/locations/eastus/operationStatuses/",
        s.base
    )));
    assert!(status_url.ends_with(&format!("?api-version={HCI}")));

    let retried = s.put(&with_version(&device("dev-1"), HCI), device_body()).await;
    assert_eq!(retried.status, StatusCode::OK);
    assert_eq!(retried.header("azure-asyncoperation").as_deref(), Some(status_url.as_str()));
    assert_eq!(retried.header("etag"), created.header("etag"));

    let running = s.get(&status_url).await;
    assert_eq!(running.status, StatusCode::OK);
    assert_eq!(running.body["status"], "InProgress");
    assert!(running.body.get("endTime").is_none());

    s.advance(0.3).await;
    let mid = s.get(&with_version(&device("dev-1"), HCI)).await;
    assert_eq!(mid.body["properties"]["provisioningState"], "Provisioning");

    s.advance(1.0).await;
    let done = s.get(&with_version(&device("dev-1"), HCI)).await;
    let props = &done.body["properties"];
    assert_eq!(props["provisioningState"], "Succeeded");
    assert_eq!(props["reportedProperties"]["deviceState"], "Connected");
    let nic = &props["reportedProperties"]["networkProfile"]["nicDetails"][0];
    assert_eq!(nic["adapterName"], "ethernet");
    assert_eq!(nic["ip4Address"], "10.10.10.10");
    assert!(nic["macAddress"].as_str().unwrap().len() == 17);
    assert_eq!(props["deviceConfiguration"]["nicDetails"][0]["ip4Address"], "10.10.10.10");

    let finished = s.get(&status_url).await;
    assert_eq!(finished.body["status"], "Succeeded");
    assert!(finished.body["endTime"].is_string());
    assert!(finished.header("retry-after").is_none());
}

#[tokio::test]
async fn update_answers_200_and_keeps_created_fields() {
    let s = TestServer::start().await;
    let created = s.create_device("dev-1").await;
    s.advance(2.0).await;
    let body = json!({"kind": "HCI", "properties": {"deviceConfiguration": {"deviceMetadata": "rack-7"}}});
    let updated = s.put(&with_version(&device("dev-1"), SEED_HCI), body.clone()).await;
    assert_eq!(updated.status, StatusCode::OK);
    assert_eq!(updated.body["properties"]["provisioningState"], "Updating");
    assert_eq!(updated.body["systemData"]["createdAt"], created.body["systemData"]["createdAt"]);
    assert!(updated.header("azure-asyncoperation").is_some());
    s.advance(2.0).await;
    let same = s.put(&with_version(&device("dev-1"), SEED_HCI), body).await;
    assert_eq!(same.status, StatusCode::OK);
    assert_eq!(same.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(same.body["properties"]["deviceConfiguration"]["deviceMetadata"], "rack-7");
}

#[tokio::test]
async fn list_shows_devices_under_one_resource_only() {
    let s = TestServer::start().await;
    s.create_device("dev-a").await;
    s.create_device("dev-b").await;
    let other = format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.HybridCompute/machines/Node-2/providers/Microsoft.AzureStackHCI/edgeDevices/dev-c");
    assert_eq!(s.put(&with_version(&other, HCI), json!({"kind": "HCI"})).await.status, StatusCode::CREATED);
    s.put(&with_version(&job("dev-a", "job-1"), HCI), collect_log_body()).await;
    let list = s.get(&with_version(&format!("{}/providers/Microsoft.AzureStackHCI/edgeDevices", machine()), HCI)).await;
    assert_eq!(list.status, StatusCode::OK);
    let names: Vec<_> =
        list.body["value"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["dev-a", "dev-b"]);
    assert!(list.body.get("nextLink").is_none());
}

#[tokio::test]
async fn validate_is_a_location_operation_with_a_result() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    let url = with_version(&format!("{}/validate", device("dev-1")), HCI);
    let body = json!({"edgeDeviceIds": [device("dev-1")], "additionalInfo": "precheck"});
    let early = s.post(&url, Some(body.clone())).await;
    assert_eq!((early.status, early.error_code()), (StatusCode::CONFLICT, "Conflict"));
    s.advance(2.0).await;
    let accepted = s.post(&url, Some(body)).await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.body);
    let location = accepted.header("location").expect("Location header");
    assert!(location.contains("/operationResults/"));
    assert_eq!(accepted.header("retry-after").as_deref(), Some("1"));
    assert_eq!(s.get(&location).await.status, StatusCode::ACCEPTED);
    s.advance(1.5).await;
    let result = s.get(&location).await;
    assert_eq!(result.status, StatusCode::OK);
    assert_eq!(result.body, json!({"status": "Succeeded"}));

    let unknown = s.post(&url, Some(json!({"edgeDeviceIds": [device("ghost")]}))).await;
    assert_eq!((unknown.status, unknown.error_code()), (StatusCode::BAD_REQUEST, "InvalidParameter"));
    let empty = s.post(&url, Some(json!({"edgeDeviceIds": []}))).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    let missing = s.post(&url, None).await;
    assert_eq!(missing.error_code(), "InvalidRequestContent");
    let ghost = s
        .post(
            &with_version(&format!("{}/validate", device("ghost")), HCI),
            Some(json!({"edgeDeviceIds": [device("dev-1")]})),
        )
        .await;
    assert_eq!(ghost.error_code(), "ResourceNotFound");
}

#[tokio::test]
async fn delete_is_202_with_location_then_gone_with_its_jobs() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    s.put(&with_version(&job("dev-1", "job-1"), HCI), collect_log_body()).await;
    let accepted = s.delete(&with_version(&device("dev-1"), HCI)).await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED);
    assert!(accepted.header("azure-asyncoperation").is_none());
    let location = accepted.header("location").unwrap();
    assert_eq!(s.get(&location).await.status, StatusCode::ACCEPTED);
    let deleting = s.get(&with_version(&device("dev-1"), HCI)).await;
    assert_eq!(deleting.body["properties"]["provisioningState"], "Deleting");
    let again = s.delete(&with_version(&device("dev-1"), HCI)).await;
    assert_eq!(again.status, StatusCode::ACCEPTED);
    assert_eq!(again.header("location"), Some(location.clone()));
    s.advance(1.0).await;
    s.get(&location).await.assert_finished_empty();
    let gone = s.get(&with_version(&device("dev-1"), HCI)).await;
    assert_eq!((gone.status, gone.error_code()), (StatusCode::NOT_FOUND, "ResourceNotFound"));
    let job_gone = s.get(&with_version(&job("dev-1", "job-1"), HCI)).await;
    assert_eq!(job_gone.status, StatusCode::NOT_FOUND);
    assert_eq!(s.delete(&with_version(&device("dev-1"), HCI)).await.status, StatusCode::NO_CONTENT);
}

//! Resource groups: PUT, GET, HEAD, list, DELETE (which takes its contents with it).

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn create_read_update_and_list() {
    let s = TestServer::start().await;
    let path = with_version(&format!("/subscriptions/{SUB}/resourceGroups/Group-One"), RESOURCES);
    let created = s.put(&path, json!({"location": "West Europe", "tags": {"env": "dev"}})).await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.body["location"], "westeurope");
    assert_eq!(created.body["tags"]["env"], "dev");
    assert_eq!(created.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(created.body["type"], "Microsoft.Resources/resourceGroups");
    assert!(created.header("azure-asyncoperation").is_none());
    let updated = s.put(&path, json!({"location": "westeurope", "tags": {"env": "prod"}})).await;
    assert_eq!(updated.status, StatusCode::OK);
    assert_eq!(updated.body["tags"]["env"], "prod");
    let patched = s.send(Method::PATCH, &path, Some(json!({"tags": {"team": "ci"}})), &[]).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["tags"], json!({"team": "ci"}), "a PATCH replaces the tags");
    assert_eq!(patched.body["location"], "westeurope");
    let bad_tags = s.send(Method::PATCH, &path, Some(json!({"tags": {"a%b": "c"}})), &[]).await;
    assert_eq!(bad_tags.error_code(), "InvalidTagNameCharacters");
    let moved = s.put(&path, json!({"location": "eastus"})).await;
    assert_eq!((moved.status, moved.error_code()), (StatusCode::CONFLICT, "InvalidResourceGroupLocation"));
    let no_location = s.put(&with_version(&group_path("other"), RESOURCES), json!({"tags": {}})).await;
    assert_eq!((no_location.status, no_location.error_code()), (StatusCode::BAD_REQUEST, "LocationRequired"));
    for version in ["2014-04-01", "2021-04-01", RESOURCES] {
        let r = s.get(&with_version(&group_path("group-one"), version)).await;
        assert_eq!(r.status, StatusCode::OK, "{version}");
        assert_eq!(r.body["name"], "Group-One");
    }
    assert_eq!(s.send(Method::HEAD, &path, None, &[]).await.status, StatusCode::NO_CONTENT);
    assert_eq!(
        s.send(Method::HEAD, &with_version(&group_path("nope"), RESOURCES), None, &[]).await.status,
        StatusCode::NOT_FOUND
    );
    s.create_group("group-two").await;
    let list = s.get(&with_version(&format!("/subscriptions/{SUB}/resourcegroups"), RESOURCES)).await;
    let names: Vec<_> =
        list.body["value"].as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["Group-One", "group-two"]);
    let other_sub =
        s.get(&with_version("/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourcegroups", RESOURCES)).await;
    assert_eq!(other_sub.body["value"], json!([]));
}

#[tokio::test]
async fn invalid_names_are_rejected() {
    let s = TestServer::start().await;
    for name in ["ends-with-dot.", "has%2Fslash", &"x".repeat(91)] {
        let r = s.put(&with_version(&group_path(name), RESOURCES), json!({"location": "eastus"})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name}");
    }
}

#[tokio::test]
async fn delete_takes_everything_inside() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    s.put(&with_version(&job("dev-1", "job-1"), HCI), collect_log_body()).await;
    let accepted = s.delete(&with_version(&group_path(RG), RESOURCES)).await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED);
    let location = accepted.header("location").unwrap();
    assert!(location.contains("/providers/Microsoft.Resources/locations/eastus/operationResults/"));
    s.advance(1.0).await;
    s.get(&location).await.assert_finished_empty();
    assert_eq!(s.get(&with_version(&group_path(RG), RESOURCES)).await.error_code(), "ResourceGroupNotFound");
    s.create_group(RG).await;
    let device_gone = s.get(&with_version(&device("dev-1"), HCI)).await;
    assert_eq!(device_gone.status, StatusCode::NOT_FOUND);
    let absent = s.delete(&with_version(&group_path("never"), RESOURCES)).await;
    assert_eq!((absent.status, absent.error_code()), (StatusCode::NOT_FOUND, "ResourceGroupNotFound"));
}

//! Bad input gets a precise 4xx in the ARM envelope and changes nothing.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn job_count(s: &TestServer) -> usize {
    s.get(&with_version(&format!("{}/jobs", device("dev-1")), HCI)).await.body["value"].as_array().unwrap().len()
}

#[tokio::test]
async fn malformed_job_bodies_are_400_and_store_nothing() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    let path = with_version(&job("dev-1", "job-1"), HCI);
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({"kind": "HCI"}), "InvalidRequestContent", "properties"),
        (
            json!({"properties": {"jobType": "CollectLog", "fromDate": "2024-01-01T00:00:00Z", "toDate": "2024-01-02T00:00:00Z"}}),
            "InvalidRequestContent",
            "kind",
        ),
        (
            json!({"kind": "hci", "properties": {"jobType": "CollectLog", "fromDate": "2024-01-01T00:00:00Z", "toDate": "2024-01-02T00:00:00Z"}}),
            "InvalidParameter",
            "kind",
        ),
        (
            json!({"kind": "HCI", "properties": {"fromDate": "2024-01-01T00:00:00Z"}}),
            "InvalidRequestContent",
            "jobType",
        ),
        (json!({"kind": "HCI", "properties": {"jobType": "Reboot"}}), "InvalidRequestContent", "Reboot"),
        (
            json!({"kind": "HCI", "properties": {"jobType": "CollectLog", "fromDate": "2024-01-01T00:00:00Z"}}),
            "InvalidRequestContent",
            "toDate",
        ),
        (
            json!({"kind": "HCI", "properties": {"jobType": "CollectLog", "fromDate": 42, "toDate": "2024-01-02T00:00:00Z"}}),
            "InvalidRequestContent",
            "fromDate",
        ),
        (
            json!({"kind": "HCI", "properties": {"jobType": "CollectLog", "fromDate": "yesterday", "toDate": "2024-01-02T00:00:00Z"}}),
            "InvalidRequestContent",
            "fromDate",
        ),
        (
            json!({"kind": "HCI", "properties": {"jobType": "CollectLog", "fromDate": "2024-01-03T00:00:00Z", "toDate": "2024-01-02T00:00:00Z"}}),
            "InvalidParameter",
            "fromDate",
        ),
        (
            json!({"kind": "HCI", "properties": {"jobType": "RemoteSupport", "accessLevel": "Everything", "expirationTimestamp": "2099-01-01T00:00:00Z", "type": "Enable"}}),
            "InvalidRequestContent",
            "Everything",
        ),
        (
            json!({"kind": "HCI", "properties": {"jobType": "RemoteSupport", "accessLevel": "Diagnostics", "type": "Enable"}}),
            "InvalidRequestContent",
            "expirationTimestamp",
        ),
        (
            json!({"kind": "HCI", "properties": {"jobType": "RemoteSupport", "accessLevel": "Diagnostics", "expirationTimestamp": "2099-01-01T00:00:00Z", "type": "Open"}}),
            "InvalidRequestContent",
            "Open",
        ),
        (
            json!({"kind": "HCI", "properties": {"jobType": "CollectLog", "deploymentMode": "Maybe", "fromDate": "2024-01-01T00:00:00Z", "toDate": "2024-01-02T00:00:00Z"}}),
            "InvalidRequestContent",
            "Maybe",
        ),
        (json!([1, 2]), "InvalidRequestContent", "object"),
    ];
    for (body, code, mentions) in cases {
        let r = s.put(&path, body.clone()).await;
        assert_eq!((r.status, r.error_code()), (StatusCode::BAD_REQUEST, code), "{body}: {}", r.body);
        let message =
            r.body["error"]["message"].as_str().unwrap().to_string() + r.body["error"]["target"].as_str().unwrap_or("");
        assert!(message.contains(mentions), "{body}: message should mention {mentions}: {message}");
    }
    assert_eq!(job_count(&s).await, 0);
}

#[tokio::test]
async fn unparseable_empty_and_oversize_bodies() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    let url = format!("{}{}", s.base, with_version(&job("dev-1", "job-1"), HCI));
    let client = reqwest::Client::new();
    let send = |body: Vec<u8>| {
        client
            .put(&url)
            .header("authorization", "Bearer t")
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    for raw in [&b"{\"kind\": \"HCI\", "[..], b"not json", b""] {
        let r = send(raw.to_vec()).await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "InvalidRequestContent");
    }
    let huge = format!("{{\"kind\":\"HCI\",\"pad\":\"{}\"}}", "x".repeat(5 * 1024 * 1024));
    let r = send(huge.into_bytes()).await.unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "RequestEntityTooLarge");
    assert_eq!(job_count(&s).await, 0);
    // Still serving.
    assert_eq!(s.get("/_azemu/health").await.status, StatusCode::OK);
}

#[tokio::test]
async fn invalid_names_are_400_on_every_method() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    for name in ["ab", "has_underscore", "waaaaaaaaaaaaaaaaaaaaytoolong", "dot.ted"] {
        for method in [Method::PUT, Method::GET, Method::DELETE] {
            let body = (method == Method::PUT).then(collect_log_body);
            let r = s.send(method.clone(), &with_version(&job("dev-1", name), HCI), body, &[]).await;
            assert_eq!((r.status, r.error_code()), (StatusCode::BAD_REQUEST, "InvalidResourceName"), "{method} {name}");
        }
        let device_put = s.put(&with_version(&device(name), HCI), json!({"kind": "HCI"})).await;
        assert_eq!(device_put.error_code(), "InvalidResourceName", "{name}");
    }
    assert_eq!(job_count(&s).await, 0);
}

#[tokio::test]
async fn edge_device_kind_is_required() {
    let s = TestServer::start().await;
    s.create_group(RG).await;
    let r = s.put(&with_version(&device("dev-1"), HCI), json!({"properties": {}})).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::BAD_REQUEST, "InvalidRequestContent"));
    let r = s.put(&with_version(&device("dev-1"), HCI), json!({"kind": "WindowsServer"})).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::BAD_REQUEST, "InvalidParameter"));
    let r = s
        .put(
            &with_version(&device("dev-1"), HCI),
            json!({"kind": "HCI", "properties": {"deviceConfiguration": {"nicDetails": "eth0"}}}),
        )
        .await;
    assert_eq!((r.status, r.error_code()), (StatusCode::BAD_REQUEST, "InvalidRequestContent"));
    assert_eq!(s.get(&with_version(&device("dev-1"), HCI)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn control_api_rejects_bad_clock_requests() {
    let s = TestServer::start().await;
    let client = reqwest::Client::new();
    let url = format!("{}/_azemu/clock/advance", s.base);
    for body in ["{}", "{\"seconds\": -1}", "{\"seconds\": \"ten\"}", "nope"] {
        let r = client.post(&url).body(body).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    let real = TestServer::start_with(Options { clock: azemu::sim::ClockMode::Real, ..Options::default() }).await;
    let r = client.post(format!("{}/_azemu/clock/advance", real.base)).body("{\"seconds\": 1}").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn reset_wipes_everything() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    let r = reqwest::Client::new().post(format!("{}/_azemu/reset", s.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(s.get(&with_version(&group_path(RG), RESOURCES)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(s.get("/_azemu/health").await.body["resources"], 0);
}

//! The shared ARM layer over HTTP: auth, api-version, routing, headers, ETags, paging.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn every_response_carries_request_ids_and_identity() {
    let s = TestServer::start().await;
    let r = s
        .send(
            Method::GET,
            &with_version(&group_path("nope"), RESOURCES),
            None,
            &[("x-ms-correlation-request-id", "corr-123")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.header("x-ms-correlation-request-id").as_deref(), Some("corr-123"));
    assert!(r.header("x-ms-request-id").is_some_and(|id| id.len() == 36));
    assert!(r.header("server").is_some_and(|v| v.starts_with("azemu/")));
    assert!(r.header("date").is_some());
}

#[tokio::test]
async fn missing_or_malformed_authorization_is_401_with_challenge() {
    let s = TestServer::start().await;
    let client = reqwest::Client::new();
    let url = format!("{}{}", s.base, with_version(&group_path("rg1"), RESOURCES));
    let r = client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "AuthenticationFailed");
    for bad in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer  ", "token"] {
        let r = client.get(&url).header("authorization", bad).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{bad}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "InvalidAuthenticationToken", "{bad}");
    }
}

#[tokio::test]
async fn jwt_claims_fill_system_data() {
    let s = TestServer::start().await;
    // An unsigned JWT is enough: --auth any reads claims without verifying them.
    let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1cG4iOiJhbGljZUBjb250b3NvLmNvbSIsIm9pZCI6IjEyMyJ9.c2ln";
    let auth = format!("Bearer {token}");
    let r = s
        .send(
            Method::PUT,
            &with_version(&group_path("rg1"), RESOURCES),
            Some(json!({"location": "westus"})),
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["systemData"]["createdBy"], "alice@contoso.com");
    assert_eq!(r.body["systemData"]["createdByType"], "User");
}

#[tokio::test]
async fn api_version_is_required_and_checked_per_type() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    let missing = s.get(&device("dev-1")).await;
    assert_eq!((missing.status, missing.error_code()), (StatusCode::BAD_REQUEST, "MissingApiVersionParameter"));
    let unknown = s.get(&with_version(&device("dev-1"), "2019-01-01")).await;
    assert_eq!((unknown.status, unknown.error_code()), (StatusCode::BAD_REQUEST, "NoRegisteredProviderFound"));
    assert!(unknown.body["error"]["message"].as_str().unwrap().contains("2024-09-01-preview"));
    let arm_owned = s.get(&with_version(&group_path(RG), "2001-01-01")).await;
    assert_eq!((arm_owned.status, arm_owned.error_code()), (StatusCode::BAD_REQUEST, "InvalidApiVersionParameter"));
    for version in [SEED_HCI, HCI, "2025-10-01"] {
        assert_eq!(s.get(&with_version(&device("dev-1"), version)).await.status, StatusCode::OK, "{version}");
    }
}

#[tokio::test]
async fn lenient_mode_accepts_any_well_formed_version() {
    let s = TestServer::start_with(Options {
        api_version_check: azemu::arm::ApiVersionCheck::Lenient,
        ..Options::default()
    })
    .await;
    s.create_device("dev-1").await;
    assert_eq!(s.get(&with_version(&device("dev-1"), "2099-01-01-preview")).await.status, StatusCode::OK);
    assert_eq!(s.get(&with_version(&device("dev-1"), "latest")).await.error_code(), "InvalidApiVersionParameter");
}

#[tokio::test]
async fn segments_match_case_insensitively_and_keep_creation_casing() {
    let s = TestServer::start().await;
    s.create_device("Dev-Mixed").await;
    let lower = device("Dev-Mixed").to_ascii_lowercase();
    let r = s.get(&with_version(&lower, HCI)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["id"], device("Dev-Mixed"));
    assert_eq!(r.body["name"], "Dev-Mixed");
    assert_eq!(r.body["type"], "Microsoft.AzureStackHCI/edgeDevices");
}

#[tokio::test]
async fn unknown_routes_and_methods_get_arm_errors() {
    // Without generic resources, a type azemu does not emulate is unknown.
    let s = TestServer::start_with(Options { generic_resources: false, ..Options::default() }).await;
    s.create_group(RG).await;
    let cases = [
        (Method::GET, "/not/arm".to_string(), StatusCode::NOT_FOUND, "InvalidResourceType"),
        (
            Method::GET,
            with_version(&format!("{}/providers/Microsoft.AzureStackHCI/widgets/w1", machine()), HCI),
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
        ),
        (
            Method::GET,
            with_version(&format!("{}/providers/Contoso.Unknown/things/t1", machine()), HCI),
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
        ),
        (Method::PATCH, with_version(&device("dev-1"), HCI), StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed"),
        (
            Method::GET,
            with_version(&format!("{}/validate", device("dev-1")), HCI),
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
        ),
        (
            Method::POST,
            with_version(&format!("{}/reboot", device("dev-1")), HCI),
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
        ),
    ];
    for (method, path, status, code) in cases {
        let r = s.send(method.clone(), &path, None, &[]).await;
        assert_eq!((r.status, r.error_code()), (status, code), "{method} {path}: {}", r.body);
        assert!(r.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

#[tokio::test]
async fn resources_need_their_resource_group() {
    let s = TestServer::start().await;
    let r = s.put(&with_version(&device("dev-1"), HCI), json!({"kind": "HCI", "properties": {}})).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::NOT_FOUND, "ResourceGroupNotFound"));
    let r = s.get(&with_version(&device("dev-1"), HCI)).await;
    assert_eq!(r.error_code(), "ResourceGroupNotFound");
}

#[tokio::test]
async fn etags_change_on_write_and_guard_writes() {
    let s = TestServer::start().await;
    let created = s.create_device("dev-1").await;
    let first = created.header("etag").unwrap();
    let path = with_version(&device("dev-1"), HCI);
    let body = json!({"kind": "HCI", "properties": {"deviceConfiguration": {"deviceMetadata": "v2"}}});
    let stale = s.send(Method::PUT, &path, Some(body.clone()), &[("if-match", "\"stale\"")]).await;
    assert_eq!((stale.status, stale.error_code()), (StatusCode::PRECONDITION_FAILED, "PreconditionFailed"));
    let exists = s.send(Method::PUT, &path, Some(body.clone()), &[("if-none-match", "*")]).await;
    assert_eq!(exists.status, StatusCode::PRECONDITION_FAILED);
    let ok = s.send(Method::PUT, &path, Some(body), &[("if-match", &first)]).await;
    assert_eq!(ok.status, StatusCode::OK);
    let second = ok.header("etag").unwrap();
    assert_ne!(first, second);
    assert_eq!(s.get(&path).await.header("etag").unwrap(), second);
    let not_modified = s.send(Method::GET, &path, None, &[("if-none-match", &second)]).await;
    assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);
    let guarded_delete = s.send(Method::DELETE, &path, None, &[("if-match", &first)]).await;
    assert_eq!(guarded_delete.status, StatusCode::PRECONDITION_FAILED);
    let new_only = s
        .send(Method::PUT, &with_version(&device("dev-2"), HCI), Some(json!({"kind": "HCI"})), &[("if-match", "*")])
        .await;
    assert_eq!(new_only.status, StatusCode::PRECONDITION_FAILED);
}

#[tokio::test]
async fn lists_page_with_top_and_skip_token() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    for i in 0..7 {
        let r = s.put(&with_version(&job("dev-1", &format!("job-{i:02}")), HCI), collect_log_body()).await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let mut url = format!("{}/jobs?api-version={HCI}&$top=3", device("dev-1"));
    let mut names = Vec::new();
    let mut pages = 0;
    loop {
        let r = s.get(&url).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        pages += 1;
        names.extend(r.body["value"].as_array().unwrap().iter().map(|j| j["name"].as_str().unwrap().to_string()));
        match r.body.get("nextLink") {
            Some(serde_json::Value::String(next)) => {
                assert!(next.starts_with(&s.base) && next.contains("api-version="));
                url = next.clone();
            }
            None => break,
            other => panic!("nextLink must be absent or a URL, was {other:?}"),
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names, (0..7).map(|i| format!("job-{i:02}")).collect::<Vec<_>>());
    let bad = s.get(&format!("{}/jobs?api-version={HCI}&$skipToken=zz", device("dev-1"))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let bad_top = s.get(&format!("{}/jobs?api-version={HCI}&$top=-1", device("dev-1"))).await;
    assert_eq!(bad_top.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unknown_operation_is_404_and_needs_api_version() {
    let s = TestServer::start().await;
    let base =
        format!("/subscriptions/{SUB}/providers/Microsoft.AzureStackHCI/locations/eastus/operationStatuses/nope");
    assert_eq!(s.get(&with_version(&base, HCI)).await.error_code(), "OperationNotFound");
    assert_eq!(s.get(&base).await.error_code(), "MissingApiVersionParameter");
}

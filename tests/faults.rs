//! Fault rules over HTTP: every action kind, every match field, the rule API itself.

mod common;

use std::time::Instant;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn rule_id(rule: &Value) -> String {
    rule["id"].as_str().expect("a rule has an id").to_string()
}

async fn hits(s: &TestServer, rule: &Value) -> u64 {
    s.get(&format!("/_azemu/faults/{}", rule_id(rule))).await.body["hits"].as_u64().unwrap()
}

#[tokio::test]
async fn rules_are_added_listed_read_and_removed() {
    let s = TestServer::start().await;
    let one = s.add_fault(json!({"match": {"method": "GET"}, "action": {"latency": {"ms": 1}}, "times": 3})).await;
    assert_eq!((one["hits"].as_u64(), one["active"].as_bool(), one["times"].as_u64()), (Some(0), Some(true), Some(3)));
    let many = s
        .post(
            "/_azemu/faults",
            Some(json!([
                {"action": {"dropConnection": true}, "match": {"path": "/nowhere/**"}},
                {"action": {"error": {"status": 503}}, "match": {"path": "/nowhere/**"}, "probability": 0.5, "seed": 3}
            ])),
        )
        .await;
    assert_eq!(many.status, StatusCode::CREATED);
    assert_eq!(many.body["value"].as_array().unwrap().len(), 2);
    assert_eq!(many.body["value"][1]["seed"], 3);
    assert_eq!(s.get("/_azemu/faults").await.body["value"].as_array().unwrap().len(), 3);
    assert_eq!(s.get(&format!("/_azemu/faults/{}", rule_id(&one))).await.body["match"]["method"], "GET");

    assert_eq!(s.delete(&format!("/_azemu/faults/{}", rule_id(&one))).await.status, StatusCode::NO_CONTENT);
    let gone = s.get(&format!("/_azemu/faults/{}", rule_id(&one))).await;
    assert_eq!((gone.status, gone.error_code()), (StatusCode::NOT_FOUND, "FaultRuleNotFound"));
    assert_eq!(s.delete("/_azemu/faults").await.status, StatusCode::NO_CONTENT);
    assert_eq!(s.get("/_azemu/faults").await.body["value"], json!([]));
}

#[tokio::test]
async fn bad_rules_are_refused_with_the_reason_and_nothing_is_added() {
    let s = TestServer::start().await;
    let cases = [
        json!({"action": {"error": {"status": 302}}}),
        json!({"action": {"failStep": {"code": "X"}}}),
        json!({"action": {"latency": {"ms": 5}}, "match": {"path": "[unclosed"}}),
        json!({"action": {"latency": {"ms": 5}}, "match": {"resource": "x"}}),
        json!({"action": {"latency": {"ms": 5}}, "probability": 0}),
        json!([{"action": {"latency": {"ms": 5}}}, {"action": {}}]),
        json!("not a rule"),
    ];
    for case in cases {
        let r = s.post("/_azemu/faults", Some(case.clone())).await;
        assert_eq!((r.status, r.error_code()), (StatusCode::BAD_REQUEST, "InvalidFaultRule"), "{case}: {}", r.body);
        assert!(!r.body["error"]["message"].as_str().unwrap().is_empty());
    }
    let not_json = reqwest::Client::new().post(format!("{}/_azemu/faults", s.base)).body("{oops").send().await.unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    assert_eq!(s.get("/_azemu/faults").await.body["value"], json!([]), "a refused batch adds nothing");
}

#[tokio::test]
async fn a_throttling_error_changes_nothing_and_carries_arm_headers() {
    let s = TestServer::start().await;
    let rule = s
        .add_fault(json!({
            "match": {"operation": "ResourceGroups_CreateOrUpdate"},
            "action": {"error": {"status": 429, "code": "TooManyRequests", "message": "slow down", "retryAfter": 7}},
            "times": 2
        }))
        .await;
    let path = with_version(&group_path("throttled"), RESOURCES);
    for _ in 0..2 {
        let r = s.put(&path, json!({"location": "eastus"})).await;
        assert_eq!((r.status, r.error_code()), (StatusCode::TOO_MANY_REQUESTS, "TooManyRequests"));
        assert_eq!(r.body["error"]["message"], "slow down");
        assert_eq!(r.header("retry-after").as_deref(), Some("7"));
        assert_eq!(r.header("x-ms-ratelimit-remaining-subscription-writes").as_deref(), Some("0"));
        assert!(r.header("x-ms-correlation-request-id").is_some());
        assert_eq!(s.get(&path).await.status, StatusCode::NOT_FOUND, "a refused write changes nothing");
    }
    let shown = s.get(&format!("/_azemu/faults/{}", rule_id(&rule))).await.body;
    assert_eq!((shown["hits"].as_u64(), shown["active"].as_bool()), (Some(2), Some(false)));
    assert_eq!(s.put(&path, json!({"location": "eastus"})).await.status, StatusCode::CREATED, "the rule retired");
}

#[tokio::test]
async fn server_errors_are_allowed_in_rules_and_reads_get_the_reads_header() {
    let s = TestServer::start().await;
    s.create_group("g1").await;
    let path = with_version(&group_path("g1"), RESOURCES);
    s.add_fault(json!({"match": {"method": "get"}, "action": {"error": {"status": 503}}})).await;
    let r = s.get(&path).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable"));
    assert_eq!(r.header("retry-after").as_deref(), Some("1"));
    s.add_fault(json!({"action": {"error": {"status": 429}}})).await;
    let r = s.get(&path).await;
    assert_eq!(r.header("x-ms-ratelimit-remaining-subscription-reads").as_deref(), Some("0"));
    assert_eq!(s.get(&path).await.status, StatusCode::OK);
}

#[tokio::test]
async fn latency_delays_the_answer_and_the_write_still_happens() {
    let s = TestServer::start().await;
    s.add_fault(json!({"match": {"method": "PUT", "path": "/subscriptions/*/resourcegroups/slow"}, "action": {"latency": {"ms": 400}}}))
        .await;
    let started = Instant::now();
    let r = s.put(&with_version(&group_path("slow"), RESOURCES), json!({"location": "eastus"})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert!(started.elapsed().as_millis() >= 400, "answered after {:?}", started.elapsed());
}

#[tokio::test]
async fn a_dropped_connection_gets_no_answer_and_changes_nothing() {
    let s = TestServer::start().await;
    let rule =
        s.add_fault(json!({"match": {"path": "**/resourceGroups/dropped"}, "action": {"dropConnection": true}})).await;
    let path = with_version(&group_path("dropped"), RESOURCES);
    let sent = s.try_send(Method::PUT, &path, Some(json!({"location": "eastus"})), &[]).await;
    assert!(sent.is_err(), "expected no answer, got {:?}", sent.map(|r| r.status));
    assert_eq!(hits(&s, &rule).await, 1);
    assert_eq!(s.get(&path).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn match_fields_must_all_hold() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    let other_sub = "00000000-0000-0000-0000-0000000000aa";
    let rule = s
        .add_fault(json!({
            "match": {"method": "PUT", "operation": "EdgeDeviceJobs_CreateOrUpdate", "subscription": SUB.to_uppercase(),
                      "path": "/SUBSCRIPTIONS/*/resourceGroups/*/providers/Microsoft.HybridCompute/machines/*/providers/Microsoft.AzureStackHCI/edgeDevices/dev-1/jobs/*"},
            "action": {"error": {"status": 409, "code": "Busy"}},
            "times": 5
        }))
        .await;
    // Another operation, another subscription, another method, another path: no hit.
    assert_eq!(s.get(&with_version(&device("dev-1"), HCI)).await.status, StatusCode::OK);
    let elsewhere = job("dev-1", "job-1").replace(SUB, other_sub);
    assert_ne!(s.put(&with_version(&elsewhere, HCI), collect_log_body()).await.error_code(), "Busy");
    let missing = s.get(&with_version(&job("dev-1", "job-1"), HCI)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    assert_eq!(hits(&s, &rule).await, 0);
    let r = s.put(&with_version(&job("dev-1", "job-1"), HCI), collect_log_body()).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::CONFLICT, "Busy"));
    assert_eq!(hits(&s, &rule).await, 1);
}

#[tokio::test]
async fn a_path_glob_also_matches_the_resource_id_of_an_action() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    s.advance(5.0).await;
    s.add_fault(
        json!({"match": {"path": "**/edgeDevices/dev-1", "method": "POST"}, "action": {"error": {"status": 429}}}),
    )
    .await;
    let validate = format!("{}/validate", device("dev-1"));
    let r = s.post(&with_version(&validate, HCI), Some(json!({"edgeDeviceIds": [device("dev-1")]}))).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_seeded_probability_gives_the_same_answers_every_run() {
    let s = TestServer::start().await;
    s.create_group("g1").await;
    let path = with_version(&group_path("g1"), RESOURCES);
    let mut runs = Vec::new();
    for _ in 0..2 {
        s.delete("/_azemu/faults").await;
        s.add_fault(
            json!({"match": {"method": "GET"}, "action": {"error": {"status": 500}}, "probability": 0.5, "seed": 42}),
        )
        .await;
        let mut statuses = Vec::new();
        for _ in 0..40 {
            statuses.push(s.get(&path).await.status.as_u16());
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    let failed = runs[0].iter().filter(|s| **s == 500).count();
    assert!((5..=35).contains(&failed), "{failed} of 40 failed at p=0.5");
}

async fn operation_status(s: &TestServer, url: &str) -> Value {
    s.get(url).await.body
}

#[tokio::test]
async fn fail_operation_ends_a_job_failed_with_the_rules_error() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    s.advance(5.0).await;
    let rule = s
        .add_fault(json!({"match": {"operation": "EdgeDeviceJobs_CreateOrUpdate"}, "action": {"failOperation": {"code": "LogUploadFailed", "message": "the share is full"}}}))
        .await;
    let created = s.put(&with_version(&job("dev-1", "logs"), HCI), collect_log_body()).await;
    assert_eq!(created.status, StatusCode::CREATED, "the request itself is accepted");
    assert_eq!(hits(&s, &rule).await, 1);
    let op_url = created.header("azure-asyncoperation").unwrap();
    assert_eq!(operation_status(&s, &op_url).await["status"], "InProgress");
    s.advance(6.0).await;
    let op = operation_status(&s, &op_url).await;
    assert_eq!(op["status"], "Failed");
    assert_eq!(
        (op["error"]["code"].as_str(), op["error"]["message"].as_str()),
        (Some("LogUploadFailed"), Some("the share is full"))
    );
    let props = s.get(&with_version(&job("dev-1", "logs"), HCI)).await.body["properties"].clone();
    assert_eq!((props["status"].as_str(), props["provisioningState"].as_str()), (Some("Failed"), Some("Failed")));
    // The next job is not affected: the rule fired once.
    let next = s.put(&with_version(&job("dev-1", "logs-2"), HCI), collect_log_body()).await;
    s.advance(6.0).await;
    assert_eq!(operation_status(&s, &next.header("azure-asyncoperation").unwrap()).await["status"], "Succeeded");
}

#[tokio::test]
async fn fail_step_fails_a_jobs_deployment_where_the_rule_says() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    s.advance(5.0).await;
    let rule = s
        .add_fault(json!({"match": {"step": "DeploymentInProgress"}, "action": {"failStep": {"code": "CollectionFailed", "message": "node unreachable"}}}))
        .await;
    let created = s.put(&with_version(&job("dev-1", "logs"), HCI), collect_log_body()).await;
    let op_url = created.header("azure-asyncoperation").unwrap();
    s.advance(6.0).await;
    let body = s.get(&with_version(&job("dev-1", "logs"), HCI)).await.body;
    let props = &body["properties"];
    assert_eq!((props["status"].as_str(), props["provisioningState"].as_str()), (Some("Failed"), Some("Failed")));
    let deployment = &props["reportedProperties"]["deploymentStatus"];
    assert_eq!(deployment["status"], "Error");
    let first = &deployment["steps"][0]["steps"][0];
    assert_eq!((first["name"].as_str(), first["status"].as_str()), (Some("CollectNodeLogs"), Some("Error")));
    assert_eq!(first["exception"], json!(["node unreachable"]));
    assert_eq!(deployment["steps"][0]["steps"].as_array().unwrap().len(), 1, "no step runs after the failure");
    assert_eq!(props["reportedProperties"]["validationStatus"]["status"], "Success");
    let op = operation_status(&s, &op_url).await;
    assert_eq!((op["status"].as_str(), op["error"]["code"].as_str()), (Some("Failed"), Some("CollectionFailed")));
    assert_eq!(hits(&s, &rule).await, 1);
}

#[tokio::test]
async fn fail_step_by_a_path_of_names_fails_that_validation_step() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    s.advance(5.0).await;
    s.add_fault(json!({"match": {"step": "logcollectionvalidation/ValidateLogTimeRange"}, "action": {"failStep": {}}}))
        .await;
    let other = s.add_fault(json!({"match": {"step": "RemoteSupportDeployment"}, "action": {"failStep": {}}})).await;
    s.put(&with_version(&job("dev-1", "logs"), HCI), collect_log_body()).await;
    s.advance(6.0).await;
    let props = s.get(&with_version(&job("dev-1", "logs"), HCI)).await.body["properties"].clone();
    let validation = &props["reportedProperties"]["validationStatus"]["steps"][0]["steps"];
    let statuses: Vec<&str> = validation.as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["Success", "Success", "Error"]);
    assert_eq!(props["status"], "Failed");
    assert!(props["reportedProperties"]["deploymentStatus"].is_null(), "deployment never starts");
    assert_eq!(hits(&s, &other).await, 0, "a rule for another kind of job does not fire");
}

#[tokio::test]
async fn fail_operation_on_a_device_create_a_delete_and_an_action() {
    let s = TestServer::start().await;
    s.create_group(RG).await;
    s.add_fault(json!({"match": {"operation": "EdgeDevices_CreateOrUpdate"}, "action": {"failOperation": {"code": "DeviceOffline"}}}))
        .await;
    let created = s.put(&with_version(&device("dev-1"), HCI), device_body()).await;
    assert_eq!(created.status, StatusCode::CREATED);
    s.advance(5.0).await;
    let op = operation_status(&s, &created.header("azure-asyncoperation").unwrap()).await;
    assert_eq!((op["status"].as_str(), op["error"]["code"].as_str()), (Some("Failed"), Some("DeviceOffline")));
    let device_doc = s.get(&with_version(&device("dev-1"), HCI)).await.body;
    assert_eq!(device_doc["properties"]["provisioningState"], "Failed");

    // A new PUT replaces the failed version.
    s.put(&with_version(&device("dev-1"), HCI), json!({"kind": "HCI"})).await;
    s.advance(5.0).await;
    assert_eq!(s.get(&with_version(&device("dev-1"), HCI)).await.body["properties"]["provisioningState"], "Succeeded");

    s.add_fault(json!({"match": {"operation": "EdgeDevices_Validate"}, "action": {"failOperation": {"code": "ValidationBroke"}}}))
        .await;
    let validate = format!("{}/validate", device("dev-1"));
    let accepted = s.post(&with_version(&validate, HCI), Some(json!({"edgeDeviceIds": [device("dev-1")]}))).await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED);
    s.advance(5.0).await;
    let result = s.get(&accepted.header("location").unwrap()).await;
    assert_eq!((result.status, result.error_code()), (StatusCode::BAD_REQUEST, "ValidationBroke"));

    s.add_fault(json!({"match": {"method": "DELETE"}, "action": {"failOperation": {"code": "DeleteBlocked"}}})).await;
    let deleting = s.delete(&with_version(&device("dev-1"), HCI)).await;
    assert_eq!(deleting.status, StatusCode::ACCEPTED);
    s.advance(5.0).await;
    let result = s.get(&deleting.header("location").unwrap()).await;
    assert_eq!((result.status, result.error_code()), (StatusCode::BAD_REQUEST, "DeleteBlocked"));
    let kept = s.get(&with_version(&device("dev-1"), HCI)).await;
    assert_eq!((kept.status, kept.body["properties"]["provisioningState"].as_str()), (StatusCode::OK, Some("Failed")));
}

#[tokio::test]
async fn a_failure_planted_in_a_job_survives_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let options = || Options { data_dir: Some(data.path().to_path_buf()), ..Options::default() };
    let op_url = {
        let s = TestServer::start_with(options()).await;
        s.create_device("dev-1").await;
        s.advance(5.0).await;
        s.add_fault(json!({"match": {"step": "CollectNodeLogs"}, "action": {"failStep": {"code": "Planted"}}})).await;
        let created = s.put(&with_version(&job("dev-1", "logs"), HCI), collect_log_body()).await;
        s.advance(1.0).await;
        created.header("azure-asyncoperation").unwrap().replace(&s.base, "")
    };
    let s = TestServer::start_with(options()).await;
    assert_eq!(s.get("/_azemu/faults").await.body["value"], json!([]), "rules belong to a run");
    s.advance(6.0).await;
    let op = operation_status(&s, &op_url).await;
    assert_eq!((op["status"].as_str(), op["error"]["code"].as_str()), (Some("Failed"), Some("Planted")));
}

#[tokio::test]
async fn failure_points_list_operations_and_steps_of_every_type() {
    let s = TestServer::start().await;
    let points = s.get("/_azemu/faults/points").await.body["value"].clone();
    let of = |t: &str| points.as_array().unwrap().iter().find(|p| p["resourceType"] == t).cloned().unwrap();
    let jobs = of("Microsoft.AzureStackHCI/edgeDevices/jobs");
    for op in [
        "EdgeDeviceJobs_CreateOrUpdate",
        "EdgeDeviceJobs_Get",
        "EdgeDeviceJobs_ListByEdgeDevice",
        "EdgeDeviceJobs_Delete",
    ] {
        assert!(jobs["operations"].as_array().unwrap().iter().any(|o| o == op), "{op} in {jobs}");
    }
    for step in
        ["DeploymentInProgress", "LogCollectionDeployment/CollectNodeLogs", "RemoteSupportValidation/ValidateArcAgent"]
    {
        assert!(jobs["steps"].as_array().unwrap().iter().any(|o| o == step), "{step} in {jobs}");
    }
    assert!(of("Microsoft.AzureStackHCI/edgeDevices")["operations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o == "EdgeDevices_Validate"));
    assert!(of("Microsoft.Resources/resourceGroups")["operations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o == "ResourceGroups_List"));
    assert!(of("Microsoft.Resources/tags")["operations"].as_array().unwrap().iter().any(|o| o == "Tags_UpdateAtScope"));
}

#[tokio::test]
async fn rules_match_the_platforms_operations() {
    let s = TestServer::start().await;
    s.create_group(RG).await;
    s.add_fault(
        json!({"match": {"operation": "Tags_UpdateAtScope"}, "action": {"error": {"status": 429}}, "times": 1}),
    )
    .await;
    let tags = with_version(&format!("{}/providers/Microsoft.Resources/tags/default", group_path(RG)), RESOURCES);
    let body = json!({"operation": "Merge", "properties": {"tags": {"a": "b"}}});
    let throttled = s.send(Method::PATCH, &tags, Some(body.clone()), &[]).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(s.get(&tags).await.body["properties"]["tags"], json!({}), "the refused PATCH changed nothing");
    let merged = s.send(Method::PATCH, &tags, Some(body), &[]).await;
    assert_eq!(merged.body["properties"]["tags"], json!({"a": "b"}));
}

#[tokio::test]
async fn rules_can_be_loaded_from_a_file_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("faults.json");
    std::fs::write(
        &file,
        json!([{"match": {"method": "GET"}, "action": {"error": {"status": 429}}, "times": 1}]).to_string(),
    )
    .unwrap();
    let s = TestServer::start_with(Options { faults: Some(file.clone()), ..Options::default() }).await;
    assert_eq!(s.get(&with_version(&group_path("g"), RESOURCES)).await.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(s.get(&with_version(&group_path("g"), RESOURCES)).await.status, StatusCode::NOT_FOUND);

    std::fs::write(&file, r#"{"action": {"error": {"status": 200}}}"#).unwrap();
    let config = azemu::server::ServeConfig { faults: Some(file), ..serve_config(Options::default()) };
    let error = azemu::server::start(config).await.err().expect("a bad rule file stops the start");
    assert!(error.to_string().contains("400-599"), "{error}");
}

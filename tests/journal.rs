//! The event journal over HTTP: requests and state changes, filters, the live stream and its
//! resumption, the bound, and the state dump.

mod common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn events(s: &TestServer, query: &str) -> Vec<Value> {
    let r = s.get(&format!("/_azemu/events{query}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["value"].as_array().unwrap().clone()
}

/// `(property, from, to)` of the change events about one resource.
fn changes_of(events: &[Value], id: &str) -> Vec<(String, Value, Value)> {
    events
        .iter()
        .filter(|e| e["kind"] == "change" && e["resourceId"].as_str().unwrap().eq_ignore_ascii_case(id))
        .map(|e| (e["property"].as_str().unwrap().to_string(), e["from"].clone(), e["to"].clone()))
        .collect()
}

#[tokio::test]
async fn a_job_leaves_its_requests_and_every_status_change() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    s.advance(2.0).await;
    let put = s
        .send(
            reqwest::Method::PUT,
            &with_version(&job("dev-1", "logs"), HCI),
            Some(collect_log_body()),
            &[("x-ms-correlation-request-id", "corr-123")],
        )
        .await;
    assert_eq!(put.status, StatusCode::CREATED);
    s.advance(5.0).await;

    let all = events(&s, "").await;
    let seqs: Vec<u64> = all.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "numbered in order: {seqs:?}");

    let request = all.iter().find(|e| e["correlationId"] == "corr-123").expect("the PUT is journaled");
    assert_eq!(request["kind"], "request");
    assert_eq!(request["method"], "PUT");
    assert_eq!(request["operation"], "EdgeDeviceJobs_CreateOrUpdate");
    assert_eq!(request["status"], 201);
    assert!(request["durationMs"].as_f64().unwrap() >= 0.0);
    assert_eq!(request["caller"], "anonymous");

    let changes = changes_of(&all, &job("dev-1", "logs"));
    let statuses: Vec<&str> =
        changes.iter().filter(|(p, _, _)| p == "properties.status").map(|(_, _, to)| to.as_str().unwrap()).collect();
    assert_eq!(
        statuses,
        [
            "Scheduled",
            "ValidationInProgress",
            "ValidationSuccess",
            "DeploymentInProgress",
            "DeploymentSuccess",
            "Succeeded"
        ]
    );
    assert_eq!(changes[0], ("resource".to_string(), json!("absent"), json!("present")));
    let percent: Vec<i64> = changes
        .iter()
        .filter(|(p, _, _)| p == "properties.reportedProperties.percentComplete")
        .map(|(_, _, to)| to.as_i64().unwrap())
        .collect();
    assert_eq!(percent.first(), Some(&0));
    assert_eq!(percent.last(), Some(&100));
    assert!(percent.windows(2).all(|w| w[0] < w[1]));
    // Each change's `from` is the previous change's `to`.
    let provisioning: Vec<&(String, Value, Value)> =
        changes.iter().filter(|(p, _, _)| p == "properties.provisioningState").collect();
    for pair in provisioning.windows(2) {
        assert_eq!(pair[0].2, pair[1].1);
    }
    // The change times are the emulator times of the steps.
    let times: Vec<&str> = all
        .iter()
        .filter(|e| e["kind"] == "change" && e["property"] == "properties.status")
        .map(|e| e["time"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
}

#[tokio::test]
async fn a_failed_jobs_changes_end_where_its_document_does() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    s.advance(2.0).await;
    s.add_fault(
        json!({"match": {"step": "DeploymentInProgress"}, "action": {"failStep": {"code": "CollectionFailed"}}}),
    )
    .await;
    let put = s.put(&with_version(&job("dev-1", "logs"), HCI), collect_log_body()).await;
    assert_eq!(put.status, StatusCode::CREATED);
    s.advance(6.0).await;
    let document = s.get(&with_version(&job("dev-1", "logs"), HCI)).await.body;
    let changes = changes_of(&events(&s, "").await, &job("dev-1", "logs"));
    let values_of = |property: &str| -> Vec<Value> {
        changes.iter().filter(|(p, _, _)| p == property).map(|(_, _, to)| to.clone()).collect()
    };
    assert_eq!(
        values_of("properties.status"),
        [
            "Scheduled",
            "ValidationInProgress",
            "ValidationSuccess",
            "DeploymentInProgress",
            "DeploymentFailed",
            "Failed"
        ]
    );
    assert_eq!(values_of("properties.provisioningState").last(), Some(&json!("Failed")));
    // The journal's last value of each tracked property is the document's.
    let props = &document["properties"];
    assert_eq!(values_of("properties.status").last(), Some(&props["status"]));
    assert_eq!(values_of("properties.provisioningState").last(), Some(&props["provisioningState"]));
    let percent = values_of("properties.reportedProperties.percentComplete");
    assert_eq!(percent.last(), Some(&props["reportedProperties"]["percentComplete"]));
    assert!(percent.last().and_then(Value::as_i64).is_some_and(|p| p < 100), "a failed job stops short of 100");
}

#[tokio::test]
async fn filters_by_kind_resource_prefix_and_sequence() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    s.create_device("dev-2").await;
    s.advance(2.0).await;
    let requests = events(&s, "?kind=request").await;
    assert!(!requests.is_empty() && requests.iter().all(|e| e["kind"] == "request"));
    let dev1 = events(&s, &format!("?kind=change&resource={}", device("dev-1").to_uppercase())).await;
    assert!(!dev1.is_empty());
    assert!(dev1.iter().all(|e| e["resourceId"].as_str().unwrap().eq_ignore_ascii_case(&device("dev-1"))));
    let all = events(&s, "").await;
    let middle = all[all.len() / 2]["seq"].as_u64().unwrap();
    let after = events(&s, &format!("?since={middle}")).await;
    assert_eq!(after.len(), all.iter().filter(|e| e["seq"].as_u64().unwrap() > middle).count());
    assert!(after.iter().all(|e| e["seq"].as_u64().unwrap() > middle));

    for bad in ["?kind=other", "?since=soon", "?colour=blue"] {
        let r = s.get(&format!("/_azemu/events{bad}")).await;
        assert_eq!((r.status, r.error_code()), (StatusCode::BAD_REQUEST, "InvalidParameter"), "{bad}");
    }
}

#[tokio::test]
async fn the_journal_keeps_only_its_size() {
    let s = TestServer::start_with(Options { journal_size: 5, ..Options::default() }).await;
    for name in ["g1", "g2", "g3", "g4"] {
        s.create_group(name).await;
    }
    let kept = events(&s, "").await;
    assert_eq!(kept.len(), 5);
    let last = s.get("/_azemu/events").await.body["lastSeq"].as_u64().unwrap();
    // The newest five, in order: an evicted event's place is reused for a new one.
    let seqs: Vec<u64> = kept.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (last - 4..=last).collect::<Vec<_>>());
    assert!(last > 5);

    let off = TestServer::start_with(Options { journal_size: 0, ..Options::default() }).await;
    off.create_group("g1").await;
    let r = off.get("/_azemu/events").await;
    assert_eq!((r.status, r.error_code()), (StatusCode::CONFLICT, "JournalDisabled"));
}

/// Reads server-sent events until `count` have arrived; answers (id, event, data).
async fn read_sse(response: &mut reqwest::Response, count: usize) -> Vec<(u64, String, Value)> {
    let mut buffer = String::new();
    let mut out = Vec::new();
    while out.len() < count {
        let chunk = tokio::time::timeout(Duration::from_secs(10), response.chunk())
            .await
            .expect("events arrive")
            .unwrap()
            .expect("the stream stays open");
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let (mut id, mut event, mut data) = (None, String::new(), String::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim().parse().ok();
                } else if let Some(v) = line.strip_prefix("event:") {
                    event = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim());
                }
            }
            if let Some(id) = id {
                out.push((id, event, serde_json::from_str(&data).unwrap()));
            }
        }
    }
    out
}

#[tokio::test]
async fn the_stream_delivers_live_and_resumes_after_the_last_event_id() {
    let s = TestServer::start().await;
    s.create_group("g1").await;
    let client = reqwest::Client::new();
    let url = format!("{}/_azemu/events?kind=change", s.base);
    let mut live = client.get(&url).header("accept", "text/event-stream").send().await.unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    assert!(live.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    // The backlog first: g1's creation.
    let backlog = read_sse(&mut live, 2).await;
    assert_eq!(backlog[0].1, "change");
    assert_eq!(backlog[0].2["resourceId"], group_path("g1").replace("resourcegroups", "resourceGroups"));

    s.create_device("dev-1").await;
    s.advance(2.0).await;
    let fresh = read_sse(&mut live, 3).await;
    assert!(fresh.iter().all(|(id, _, _)| *id > backlog[1].0));
    drop(live);

    // Reconnecting with the last id seen misses nothing still in the journal.
    let seen = fresh[0].0;
    let mut resumed = client
        .get(&url)
        .header("accept", "text/event-stream")
        .header("last-event-id", seen.to_string())
        .send()
        .await
        .unwrap();
    let again = read_sse(&mut resumed, 2).await;
    assert_eq!(again[0].0, fresh[1].0);
    assert_eq!(again[1].0, fresh[2].0);
}

#[tokio::test]
async fn deletion_and_reset_are_journaled_and_the_state_dump_shows_everything() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    s.put(&with_version(&job("dev-1", "logs"), HCI), collect_log_body()).await;
    s.advance(1.0).await;
    let state = s.get("/_azemu/state").await.body;
    assert_eq!(state["clock"]["mode"], "manual");
    let resources = state["resources"].as_array().unwrap();
    assert_eq!(resources.len(), 3);
    let job_entry = resources.iter().find(|r| r["type"] == "microsoft.azurestackhci/edgedevices/jobs").unwrap();
    assert_eq!(job_entry["document"]["properties"]["status"], "ValidationInProgress");
    assert!(job_entry["pendingOperation"].is_string());
    assert!(state["operations"].as_array().unwrap().len() >= 2);

    s.delete(&with_version(&group_path(RG), RESOURCES)).await;
    s.advance(60.0).await;
    let changes = changes_of(&events(&s, "?kind=change").await, &job("dev-1", "logs"));
    assert_eq!(changes.last().unwrap(), &("resource".to_string(), json!("present"), json!("absent")));
    assert_eq!(s.get("/_azemu/state").await.body["resources"], json!([]));

    // A reset forgets the lifecycles it wiped: a job running at the reset records nothing more.
    s.create_device("dev-1").await;
    s.advance(2.0).await;
    s.put(&with_version(&job("dev-1", "again"), HCI), collect_log_body()).await;
    s.advance(1.0).await;
    assert!(!changes_of(&events(&s, "?kind=change").await, &job("dev-1", "again")).is_empty());
    let before_reset = s.get("/_azemu/events").await.body["lastSeq"].as_u64().unwrap();
    assert_eq!(s.post("/_azemu/reset", None).await.status, StatusCode::OK);
    s.advance(6.0).await;
    // Only the advance itself is journaled after it.
    let after = events(&s, &format!("?since={before_reset}")).await;
    let kinds: Vec<&str> = after.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["clock"], "nothing planned before the reset is played out: {after:?}");
}

//! What the store keeps and for how long: finished operations expire, `/_azemu/health` reports
//! the store's size, and a job's document is the same whether it is read while running or after.

mod common;

use common::*;
use reqwest::StatusCode;

#[tokio::test]
async fn finished_operations_expire_after_the_retention_period() {
    let s = TestServer::start_with(Options {
        operation_retention: std::time::Duration::from_secs(60),
        ..Options::default()
    })
    .await;
    s.create_device("dev-1").await;
    let created = s.put(&with_version(&job("dev-1", "job-1"), HCI), collect_log_body()).await;
    let status_url = created.header("azure-asyncoperation").unwrap();
    s.advance(10.0).await;
    let done = s.get(&status_url).await;
    assert_eq!((done.status, done.body["status"].as_str()), (StatusCode::OK, Some("Succeeded")));

    // Kept for the retention period from its end (the job ended about 6 s ago), then gone.
    s.advance(50.0).await;
    assert_eq!(s.get(&status_url).await.status, StatusCode::OK);
    s.advance(5.0).await;
    let expired = s.get(&status_url).await;
    assert_eq!(expired.status, StatusCode::NOT_FOUND, "{}", expired.body);
    assert_eq!(expired.error_code(), "OperationNotFound");
    let result_url = status_url.replace("/operationStatuses/", "/operationResults/");
    assert_eq!(s.get(&result_url).await.status, StatusCode::NOT_FOUND);
    // The job itself stays.
    assert_eq!(s.get(&with_version(&job("dev-1", "job-1"), HCI)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_operation_still_running_does_not_expire() {
    let s = TestServer::start_with(Options {
        operation_retention: std::time::Duration::from_secs(1),
        ..Options::default()
    })
    .await;
    s.create_device("dev-1").await;
    let expiry = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let created = s.put(&with_version(&job("dev-1", "job-1"), HCI), remote_support_body("Enable", &expiry)).await;
    let status_url = created.header("azure-asyncoperation").unwrap();
    // The job completes about 3.8 s after it was accepted; the retention counts from then.
    s.advance(3.0).await;
    assert_eq!(s.get(&status_url).await.body["status"], "InProgress");
    s.advance(1.0).await;
    assert_eq!(s.get(&status_url).await.body["status"], "Succeeded");
    s.advance(2.0).await;
    assert_eq!(s.get(&status_url).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn health_reports_the_store_size() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start_with(Options { data_dir: Some(dir.path().to_path_buf()), ..Options::default() }).await;
    s.create_device("dev-1").await;
    for i in 0..3 {
        s.put(&with_version(&job("dev-1", &format!("job-{i}")), HCI), collect_log_body()).await;
    }
    let health = s.get("/_azemu/health").await.body;
    // The group, the device and three jobs; an operation for the device and for each job.
    assert_eq!(health["resources"], 5);
    assert_eq!(health["operations"], 4);
    assert!(health["databaseBytes"].as_u64().unwrap() > 0, "{health}");
}

#[tokio::test]
async fn a_job_reads_the_same_whether_watched_or_not() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    let expiry = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc3339();
    for name in ["watched", "unwatched"] {
        s.put(&with_version(&job("dev-1", name), HCI), remote_support_body("Enable", &expiry)).await;
    }
    // One is read at every tenth of a second (each read renders it then), the other only at the end.
    for _ in 0..60 {
        s.get(&with_version(&job("dev-1", "watched"), HCI)).await;
        s.advance(0.1).await;
    }
    let watched = s.get(&with_version(&job("dev-1", "watched"), HCI)).await.body;
    let unwatched = s.get(&with_version(&job("dev-1", "unwatched"), HCI)).await.body;
    assert_eq!(watched["properties"]["status"], "Succeeded");
    // Equal but for the ids derived from each job's own id.
    let without_ids = |doc: &serde_json::Value| {
        let mut props = doc["properties"].clone();
        props["jobId"] = serde_json::Value::Null;
        for session in props["reportedProperties"]["sessionDetails"].as_array_mut().unwrap() {
            session["sessionId"] = serde_json::Value::Null;
            session["transcriptLocation"] = serde_json::Value::Null;
        }
        props
    };
    assert_eq!(without_ids(&watched), without_ids(&unwatched));
}

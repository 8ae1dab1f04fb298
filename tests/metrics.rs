//! `GET /metrics`, read back with a Prometheus text parser.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

async fn scrape(s: &TestServer) -> prometheus_parse::Scrape {
    let response = reqwest::get(format!("{}/metrics", s.base)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("Prometheus text")
}

fn value(scrape: &prometheus_parse::Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape.samples.iter().find(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v))).map(
        |s| match &s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => *v,
            prometheus_parse::Value::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
            prometheus_parse::Value::Summary(_) => f64::NAN,
        },
    )
}

#[tokio::test]
async fn requests_lifecycles_faults_and_the_store_are_measured() {
    let data = tempfile::tempdir().unwrap();
    let s = TestServer::start_with(Options { data_dir: Some(data.path().to_path_buf()), ..Options::default() }).await;
    s.create_device("dev-1").await;
    s.add_fault(json!({"match": {"operation": "ResourceGroups_Get"}, "action": {"error": {"status": 429}}})).await;
    assert_eq!(s.get(&with_version(&group_path(RG), RESOURCES)).await.status, StatusCode::TOO_MANY_REQUESTS);
    s.put(&with_version(&job("dev-1", "logs"), HCI), collect_log_body()).await;

    let before = scrape(&s).await;
    let created = [("operation", "ResourceGroups_CreateOrUpdate"), ("status", "201")];
    assert_eq!(value(&before, "azemu_requests_total", &created), Some(1.0));
    assert_eq!(
        value(&before, "azemu_requests_total", &[("operation", "ResourceGroups_Get"), ("status", "429")]),
        Some(1.0)
    );
    let job_put = [("operation", "EdgeDeviceJobs_CreateOrUpdate")];
    assert_eq!(value(&before, "azemu_request_duration_seconds_count", &job_put), Some(1.0));
    let jobs = "Microsoft.AzureStackHCI/edgeDevices/jobs";
    assert_eq!(value(&before, "azemu_lifecycles", &[("resource_type", jobs), ("state", "running")]), Some(1.0));
    assert_eq!(value(&before, "azemu_operations", &[("kind", "put"), ("status", "InProgress")]), Some(2.0));
    assert_eq!(value(&before, "azemu_fault_rule_hits", &[("action", "error")]), Some(1.0));
    assert_eq!(value(&before, "azemu_store_resources", &[]), Some(3.0));
    assert!(value(&before, "azemu_store_database_bytes", &[]).unwrap() > 0.0);
    assert!(value(&before, "azemu_store_commit_duration_seconds_count", &[]).unwrap() >= 3.0);
    assert!(value(&before, "azemu_journal_last_sequence", &[]).unwrap() > 0.0);

    s.advance(6.0).await;
    let after = scrape(&s).await;
    assert_eq!(value(&after, "azemu_lifecycles", &[("resource_type", jobs), ("state", "running")]), None);
    assert_eq!(value(&after, "azemu_lifecycles", &[("resource_type", jobs), ("state", "settled")]), Some(1.0));
    assert_eq!(value(&after, "azemu_operations", &[("kind", "put"), ("status", "Succeeded")]), Some(2.0));
    assert_eq!(value(&after, "azemu_requests_total", &created), Some(1.0));
    // Scrapes and control-API requests (clock, faults) are not counted: every count has an operation.
    assert_eq!(value(&after, "azemu_requests_total", &[("operation", "none")]), None);
    let counted: f64 = after
        .samples
        .iter()
        .filter(|s| s.metric == "azemu_requests_total")
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum();
    assert_eq!(counted, 4.0, "the group, the device, the 429 and the job: ARM requests only");
}

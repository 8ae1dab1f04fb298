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

/// On the real clock, every step the engine runs is measured against its time: a job's steps
/// appear in the lateness histogram, and on an idle server well within a second.
#[tokio::test]
async fn how_late_lifecycle_steps_run_is_measured_on_the_real_clock() {
    let s =
        TestServer::start_with(Options { clock: azemu::sim::ClockMode::Real, speed: 20.0, ..Options::default() }).await;
    s.create_device("dev-1").await;
    let r = s.put(&with_version(&job("dev-1", "logs"), HCI), collect_log_body()).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let op = r.header("azure-asyncoperation").unwrap();
    for _ in 0..100 {
        if s.get(&op).await.body["status"] == "Succeeded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let scraped = scrape(&s).await;
    let steps = value(&scraped, "azemu_sim_step_lateness_seconds_count", &[]).expect("the histogram");
    assert!(steps >= 1.0, "the job's completion was measured: {steps}");
    let within = scraped
        .samples
        .iter()
        .find(|x| x.metric == "azemu_sim_step_lateness_seconds")
        .and_then(|x| match &x.value {
            prometheus_parse::Value::Histogram(buckets) => buckets.iter().find(|b| b.less_than == 1.0).map(|b| b.count),
            _ => None,
        })
        .expect("a bucket at 1 s");
    assert_eq!(within, steps, "every step ran within a second of its time");
}

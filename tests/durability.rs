//! Durability against the real binary: restarts keep everything and resume lifecycles, and
//! `kill -9` in the middle of concurrent writes loses no acknowledged write.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use reqwest::StatusCode;
use serde_json::json;

struct Emulator {
    child: Child,
    base: String,
}

impl Emulator {
    fn start(data: &std::path::Path) -> Emulator {
        let mut child = Command::new(env!("CARGO_BIN_EXE_azemu"))
            .args(["serve", "--port", "0", "--tls", "off", "--log-level", "warn", "--data"])
            .arg(data)
            .stdout(Stdio::piped())
            .spawn()
            .expect("azemu binary starts");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            let line = lines.next().expect("azemu prints its URL").unwrap();
            if let Some(url) = line.strip_prefix("azemu listening on ") {
                break url.trim().to_string();
            }
        };
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Emulator { child, base }
    }

    fn kill9(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().unwrap();
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap()
}

async fn put(
    c: &reqwest::Client,
    base: &str,
    path: &str,
    body: serde_json::Value,
) -> Result<StatusCode, reqwest::Error> {
    c.put(format!("{base}{path}")).bearer_auth("t").json(&body).send().await.map(|r| r.status())
}

async fn get_json(c: &reqwest::Client, base: &str, path: &str) -> (StatusCode, serde_json::Value) {
    let r = c.get(format!("{base}{path}")).bearer_auth("t").send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

async fn create_device(c: &reqwest::Client, base: &str) {
    let group = put(c, base, &with_version(&group_path(RG), RESOURCES), json!({"location": "eastus"})).await;
    assert!(group.unwrap().is_success());
    let device = put(c, base, &with_version(&device("dev-1"), HCI), json!({"kind": "HCI"})).await;
    assert!(device.unwrap().is_success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_state_and_resumes_jobs_in_flight() {
    let data = tempfile::tempdir().unwrap();
    let c = client();
    let first = Emulator::start(data.path());
    let base = first.base.clone();
    create_device(&c, &base).await;
    let job_path = with_version(&job("dev-1", "job-1"), HCI);
    assert_eq!(put(&c, &base, &job_path, collect_log_body()).await.unwrap(), StatusCode::CREATED);
    let (_, before) = get_json(&c, &base, &job_path).await;
    first.kill9();

    let second = Emulator::start(data.path());
    let (status, after) = get_json(&c, &second.base, &job_path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(after["properties"]["jobId"], before["properties"]["jobId"]);
    assert_eq!(after["systemData"], before["systemData"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, now) = get_json(&c, &second.base, &job_path).await;
        if now["properties"]["status"] == "Succeeded" {
            assert_eq!(now["properties"]["reportedProperties"]["percentComplete"], 100);
            break;
        }
        assert!(Instant::now() < deadline, "job did not resume: {now}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, _) = get_json(&c, &second.base, &with_version(&device("dev-1"), HCI)).await;
    assert_eq!(status, StatusCode::OK);
    second.kill9();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_concurrent_writes_loses_no_acknowledged_write() {
    let data = tempfile::tempdir().unwrap();
    let c = client();
    let emulator = Emulator::start(data.path());
    let base = emulator.base.clone();
    create_device(&c, &base).await;

    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut writers = Vec::new();
    for w in 0..16 {
        let (c, base, acknowledged) = (c.clone(), base.clone(), acknowledged.clone());
        writers.push(tokio::spawn(async move {
            // Bounded: stops at 2000 writes or at the first failed request (the kill).
            for i in 0..2000 {
                let path = with_version(&job("dev-1", &format!("w{w}-j{i}")), HCI);
                match put(&c, &base, &path, collect_log_body()).await {
                    Ok(s) if s == StatusCode::CREATED => acknowledged.lock().unwrap().push(path),
                    _ => break,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    emulator.kill9();
    for w in writers {
        w.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() > 50, "the writers got going: {}", acknowledged.len());

    let restarted = Emulator::start(data.path());
    for path in &acknowledged {
        let (status, body) = get_json(&c, &restarted.base, path).await;
        assert_eq!(status, StatusCode::OK, "acknowledged write lost: {path}");
        assert_eq!(body["kind"], "HCI");
    }
    restarted.kill9();
}

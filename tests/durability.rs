//! Durability against the real binary: restarts keep everything and resume lifecycles, and
//! `kill -9` in the middle of concurrent writes loses no acknowledged write. Each test runs on
//! both stores: SQLite in a directory, and a PostgreSQL database.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::process::Served;
use common::stores::Place;
use common::*;
use reqwest::StatusCode;
use serde_json::json;

struct Emulator(Served);

impl Emulator {
    fn start(place: &Place) -> Emulator {
        Emulator::start_with(place, &[])
    }

    fn start_with(place: &Place, args: &[&str]) -> Emulator {
        let mut all = place.args();
        all.extend(args.iter().map(Into::into));
        Emulator(Served::start(all))
    }

    /// SIGKILL (on drop).
    fn kill9(self) {}
}

impl std::ops::Deref for Emulator {
    type Target = Served;
    fn deref(&self) -> &Served {
        &self.0
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

async fn restart_keeps_state_and_resumes_jobs_in_flight(data: Place) {
    let c = client();
    let first = Emulator::start(&data);
    let base = first.base.clone();
    create_device(&c, &base).await;
    let job_path = with_version(&job("dev-1", "job-1"), HCI);
    assert_eq!(put(&c, &base, &job_path, collect_log_body()).await.unwrap(), StatusCode::CREATED);
    let (_, before) = get_json(&c, &base, &job_path).await;
    first.kill9();

    let second = Emulator::start(&data);
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

async fn kill_9_during_concurrent_writes_loses_no_acknowledged_write(data: Place) {
    let c = client();
    let emulator = Emulator::start(&data);
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

    let restarted = Emulator::start(&data);
    for path in &acknowledged {
        let (status, body) = get_json(&c, &restarted.base, path).await;
        assert_eq!(status, StatusCode::OK, "acknowledged write lost: {path}");
        assert_eq!(body["kind"], "HCI");
    }
    restarted.kill9();
}

/// The document a job reached, without what only a later step may add.
fn progress(doc: &serde_json::Value) -> (String, i64) {
    let props = &doc["properties"];
    (
        props["status"].as_str().unwrap_or_default().to_string(),
        props["reportedProperties"]["percentComplete"].as_i64().unwrap_or(-1),
    )
}

async fn kill_9_while_lifecycles_run_takes_back_nothing_a_reader_saw(data: Place) {
    let c = client();
    // Four times faster: a job takes about a second, so many finish while the load runs.
    let emulator = Emulator::start_with(&data, &["--speed", "4"]);
    let base = emulator.base.clone();
    create_device(&c, &base).await;

    let acknowledged = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let mut writers = Vec::new();
    for w in 0..8 {
        let (c, base, acknowledged) = (c.clone(), base.clone(), acknowledged.clone());
        writers.push(tokio::spawn(async move {
            // Bounded: stops at 5000 writes or at the first failed request (the kill).
            for i in 0..5000 {
                let path = with_version(&job("dev-1", &format!("w{w}-j{i}")), HCI);
                let Ok(r) = c.put(format!("{base}{path}")).bearer_auth("t").json(&collect_log_body()).send().await
                else {
                    break;
                };
                let op = r.headers().get("azure-asyncoperation").and_then(|v| v.to_str().ok()).map(str::to_string);
                match (r.status(), op) {
                    (StatusCode::CREATED, Some(op)) => acknowledged.lock().unwrap().push((path, op)),
                    _ => break,
                }
            }
        }));
    }
    // A reader keeps looking at jobs and their operations, and remembers what it saw.
    let seen = Arc::new(Mutex::new(Vec::<(String, serde_json::Value, String, String)>::new()));
    let reader = {
        let (c, base, acknowledged, seen) = (c.clone(), base.clone(), acknowledged.clone(), seen.clone());
        tokio::spawn(async move {
            for round in 0..100_000usize {
                let pick = {
                    let list = acknowledged.lock().unwrap();
                    if list.is_empty() {
                        None
                    } else {
                        Some(list[(round * 7919) % list.len()].clone())
                    }
                };
                let Some((path, op_url)) = pick else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let Ok(doc) = c.get(format!("{base}{path}")).bearer_auth("t").send().await else { break };
                let Ok(doc) = doc.json::<serde_json::Value>().await else { break };
                let Ok(op) = c.get(&op_url).bearer_auth("t").send().await else { break };
                let Ok(op) = op.json::<serde_json::Value>().await else { break };
                let op_status = op["status"].as_str().unwrap_or_default().to_string();
                seen.lock().unwrap().push((path, doc, op_url, op_status));
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(2500)).await;
    emulator.kill9();
    for w in writers {
        w.await.unwrap();
    }
    reader.await.unwrap();
    let acknowledged = acknowledged.lock().unwrap().clone();
    let seen = seen.lock().unwrap().clone();
    let finished_seen = seen.iter().filter(|(_, d, _, _)| progress(d).0 == "Succeeded").count();
    assert!(acknowledged.len() > 200 && seen.len() > 50, "load got going: {} {}", acknowledged.len(), seen.len());
    assert!(finished_seen > 10, "jobs finished while the load ran: {finished_seen}");

    let restarted = Emulator::start_with(&data, &["--speed", "4"]);
    let rebase = |url: &str| url.replacen(&base, &restarted.base, 1);
    for (path, _) in &acknowledged {
        let (status, _) = get_json(&c, &restarted.base, path).await;
        assert_eq!(status, StatusCode::OK, "acknowledged write lost: {path}");
    }
    for (path, before, op_url, op_status) in &seen {
        let (_, after) = get_json(&c, &restarted.base, path).await;
        if progress(before).0 == "Succeeded" {
            assert_eq!(&after, before, "a finished job changed across the crash: {path}");
        } else {
            assert!(progress(&after).1 >= progress(before).1, "{path} went back: {before} then {after}");
            if !before["properties"]["startTimeUtc"].is_null() {
                assert_eq!(after["properties"]["startTimeUtc"], before["properties"]["startTimeUtc"]);
            }
            assert_eq!(after["properties"]["jobId"], before["properties"]["jobId"]);
        }
        if op_status == "Succeeded" {
            let op = c.get(rebase(op_url)).bearer_auth("t").send().await.unwrap();
            let op: serde_json::Value = op.json().await.unwrap();
            assert_eq!(op["status"], "Succeeded", "{op_url} went back to {op}");
        }
    }
    restarted.kill9();
}

async fn a_manual_clock_restarts_where_it_was(data: Place) {
    let c = client();
    let first = Emulator::start_with(&data, &["--clock", "manual"]);
    create_device(&c, &first.base).await;
    let job_path = with_version(&job("dev-1", "job-1"), HCI);
    assert_eq!(put(&c, &first.base, &job_path, collect_log_body()).await.unwrap(), StatusCode::CREATED);
    // An hour ahead of the wall clock: the job has finished at emulator time.
    let advanced: serde_json::Value = c
        .post(format!("{}/_azemu/clock/advance", first.base))
        .json(&json!({"seconds": 3600}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (_, before) = get_json(&c, &first.base, &job_path).await;
    assert_eq!(before["properties"]["status"], "Succeeded");
    first.kill9();

    for mode in ["manual", "real"] {
        let again = Emulator::start_with(&data, &["--clock", mode]);
        let clock: serde_json::Value =
            c.get(format!("{}/_azemu/clock", again.base)).send().await.unwrap().json().await.unwrap();
        assert!(clock["now"].as_str() >= advanced["now"].as_str(), "{mode} clock went back: {clock} {advanced}");
        let (_, after) = get_json(&c, &again.base, &job_path).await;
        assert_eq!(after, before, "{mode} clock");
        again.kill9();
    }
}

async fn clock_now(c: &reqwest::Client, base: &str) -> String {
    let clock: serde_json::Value = c.get(format!("{base}/_azemu/clock")).send().await.unwrap().json().await.unwrap();
    clock["now"].as_str().unwrap().to_string()
}

async fn a_manual_clock_stays_put_while_azemu_is_down(data: Place) {
    let c = client();
    let first = Emulator::start_with(&data, &["--clock", "manual"]);
    let started = clock_now(&c, &first.base).await;
    first.kill9();
    std::thread::sleep(Duration::from_millis(1100));
    let second = Emulator::start_with(&data, &["--clock", "manual"]);
    assert_eq!(clock_now(&c, &second.base).await, started, "never advanced: still where it started");
    advance(&c, &second.base, 2.0).await;
    let advanced = clock_now(&c, &second.base).await;
    second.kill9();
    std::thread::sleep(Duration::from_millis(1100));
    let third = Emulator::start_with(&data, &["--clock", "manual"]);
    assert_eq!(clock_now(&c, &third.base).await, advanced, "where the advance left it");
    third.kill9();

    // A real clock runs on from there; a manual clock after it never starts behind what it showed.
    let real = Emulator::start_with(&data, &["--clock", "real"]);
    std::thread::sleep(Duration::from_millis(300));
    let shown = clock_now(&c, &real.base).await;
    assert!(shown > advanced, "{shown} {advanced}");
    real.kill9();
    let manual = Emulator::start_with(&data, &["--clock", "manual"]);
    let resumed = clock_now(&c, &manual.base).await;
    assert!(resumed >= shown, "manual after real went back: {resumed} < {shown}");
    manual.kill9();
}

async fn advance(c: &reqwest::Client, base: &str, seconds: f64) {
    let r = c.post(format!("{base}/_azemu/clock/advance")).json(&json!({ "seconds": seconds })).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

async fn an_update_run_killed_mid_walk_resumes_at_the_same_step(data: Place) {
    const API: &str = "2026-10-01";
    let c = client();
    let first = Emulator::start_with(&data, &["--clock", "manual"]);
    let group = put(&c, &first.base, &with_version(&group_path(RG), RESOURCES), json!({"location": "eastus"})).await;
    assert!(group.unwrap().is_success());
    let cluster = format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.AzureStackHCI/clusters/c1");
    let update = format!("{cluster}/updates/Solution10.2411.0.24");
    assert_eq!(
        put(&c, &first.base, &with_version(&cluster, API), json!({"location": "eastus"})).await.unwrap(),
        StatusCode::OK
    );
    let published = put(&c, &first.base, &with_version(&update, API), json!({"properties": {"state": "Ready"}})).await;
    assert_eq!(published.unwrap(), StatusCode::OK);
    let accepted = c
        .post(format!("{}{}", first.base, with_version(&format!("{update}/apply"), API)))
        .bearer_auth("t")
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);
    let op_path = accepted.headers()["azure-asyncoperation"].to_str().unwrap().replacen(&first.base, "", 1);
    // Into Node-1's install, past the health-check event.
    advance(&c, &first.base, 12.0).await;
    let (_, runs) = get_json(&c, &first.base, &with_version(&format!("{update}/updateRuns"), API)).await;
    let run_path = with_version(runs["value"][0]["id"].as_str().unwrap(), API);
    let (_, before) = get_json(&c, &first.base, &run_path).await;
    assert_eq!(before["properties"]["progress"]["steps"][1]["steps"][1]["status"], "InProgress", "{before}");
    first.kill9();

    let second = Emulator::start_with(&data, &["--clock", "manual"]);
    let (_, after) = get_json(&c, &second.base, &run_path).await;
    assert_eq!(after, before, "the run reads the same after the crash");
    let (_, updated) = get_json(&c, &second.base, &with_version(&update, API)).await;
    assert_eq!(
        (updated["properties"]["state"].as_str(), updated["properties"]["healthState"].as_str()),
        (Some("Installing"), Some("Success"))
    );
    advance(&c, &second.base, 26.0).await;
    let (_, done) = get_json(&c, &second.base, &run_path).await;
    assert_eq!(done["properties"]["state"], "Succeeded", "{done}");
    assert_eq!(done["properties"]["duration"], "PT38S");
    let (_, op) = get_json(&c, &second.base, &op_path).await;
    assert_eq!(op["status"], "Succeeded");
    let (_, updated) = get_json(&c, &second.base, &with_version(&update, API)).await;
    assert_eq!(updated["properties"]["state"], "Installed");
    second.kill9();
}

async fn a_publish_killed_midway_resumes_at_the_same_step(data: Place) {
    const V: &str = "api-version=2017-10-31";
    let c = client();
    let first = Emulator::start_with(&data, &["--clock", "manual", "--publisher", "contoso"]);
    let offer = "/api/publishers/contoso/offers/ubuntu-hardened";
    let body =
        json!({"offerTypeId": "microsoft-azure-virtualmachines", "definition": {"displayText": "Hardened Ubuntu"}});
    let created = c
        .put(format!("{}{offer}?{V}", first.base))
        .bearer_auth("t")
        .header("if-match", "*")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let accepted = c.post(format!("{}{offer}/publish?{V}", first.base)).bearer_auth("t").send().await.unwrap();
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);
    let location = accepted.headers()["operation-location"].to_str().unwrap().to_string();
    advance(&c, &first.base, 1.0).await;
    let (_, before) = get_json(&c, &first.base, &location).await;
    assert_eq!(before["steps"][1]["status"], "running", "{before}");
    first.kill9();

    let second = Emulator::start_with(&data, &["--clock", "manual", "--publisher", "contoso"]);
    let (_, after) = get_json(&c, &second.base, &location).await;
    assert_eq!(after, before, "the operation reads the same after the crash");
    advance(&c, &second.base, 5.0).await;
    let (_, done) = get_json(&c, &second.base, &location).await;
    assert_eq!(done["status"], "completed", "{done}");
    second.kill9();
}

/// Runs each test on SQLite and on PostgreSQL.
macro_rules! on_both_stores {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::Place::sqlite()).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::Place::postgres()).await
                }
            )*
        }
    };
}

on_both_stores!(
    a_publish_killed_midway_resumes_at_the_same_step,
    an_update_run_killed_mid_walk_resumes_at_the_same_step,
    restart_keeps_state_and_resumes_jobs_in_flight,
    kill_9_during_concurrent_writes_loses_no_acknowledged_write,
    kill_9_while_lifecycles_run_takes_back_nothing_a_reader_saw,
    a_manual_clock_restarts_where_it_was,
    a_manual_clock_stays_put_while_azemu_is_down,
);

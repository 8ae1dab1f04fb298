//! The clock from the control API: pause, resume and speed (`PATCH /_azemu/clock`), kept across
//! a restart so that time never goes back, journaled as `clock` events; and the read-only views
//! `/_azemu/resource?views=true` adds for the dashboard.

mod common;

use chrono::{DateTime, Utc};
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn at(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap().with_timezone(&Utc)
}

async fn patch(s: &TestServer, body: Value) -> Reply {
    s.send(Method::PATCH, "/_azemu/clock", Some(body), &[]).await
}

#[tokio::test]
async fn a_manual_clock_resumes_runs_pauses_and_is_journaled() {
    let s = TestServer::start().await;
    let paused_at = at(&s.get("/_azemu/clock").await.body["now"]);
    let resumed = patch(&s, json!({"mode": "real", "speed": 4})).await;
    assert_eq!(resumed.status, StatusCode::OK, "{}", resumed.body);
    assert_eq!((resumed.body["mode"].as_str(), resumed.body["speed"].as_f64()), (Some("real"), Some(4.0)));
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let running = at(&s.get("/_azemu/clock").await.body["now"]);
    assert!(running > paused_at, "a resumed clock runs on from where it stood");
    assert!(running < paused_at + chrono::Duration::seconds(5));
    // Advancing needs a manual clock.
    let refused = s.post("/_azemu/clock/advance", Some(json!({"seconds": 1}))).await;
    assert_eq!((refused.status, refused.error_code()), (StatusCode::CONFLICT, "ClockNotManual"));

    let paused = patch(&s, json!({"mode": "manual"})).await;
    assert_eq!(paused.body["mode"], "manual");
    let stood = at(&paused.body["now"]);
    assert!(stood >= running);
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    assert_eq!(at(&s.get("/_azemu/clock").await.body["now"]), stood, "a paused clock stands still");
    s.advance(2.0).await;

    let events = s.get("/_azemu/events?kind=clock").await.body;
    let moves: Vec<(&str, f64)> = events["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["mode"].as_str().unwrap(), e["speed"].as_f64().unwrap()))
        .collect();
    assert_eq!(moves, [("real", 4.0), ("manual", 4.0), ("manual", 4.0)]);
    assert_eq!(at(&events["value"][2]["time"]), stood + chrono::Duration::seconds(2));
    // A resource filter is about resources: clock moves are not in it.
    let filtered = s.get("/_azemu/events?resource=/subscriptions").await.body;
    assert!(filtered["value"].as_array().unwrap().iter().all(|e| e["kind"] != "clock"));
}

#[tokio::test]
async fn bad_clock_changes_are_refused_precisely() {
    let s = TestServer::start().await;
    for (body, code) in [
        (json!({"speed": 0}), "InvalidParameter"),
        (json!({"speed": -1}), "InvalidParameter"),
        (json!({"speed": 2_000_000}), "InvalidParameter"),
        (json!({"mode": "frozen"}), "InvalidRequestContent"),
        (json!({"sped": 2}), "InvalidRequestContent"),
        (json!("fast"), "InvalidRequestContent"),
    ] {
        let r = patch(&s, body.clone()).await;
        assert_eq!((r.status, r.error_code()), (StatusCode::BAD_REQUEST, code), "{body}: {}", r.body);
    }
    let clock = s.get("/_azemu/clock").await.body;
    assert_eq!((clock["mode"].as_str(), clock["speed"].as_f64()), (Some("manual"), Some(1.0)), "nothing changed");
    assert_eq!(s.send(Method::PUT, "/_azemu/clock", Some(json!({})), &[]).await.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn a_paused_clock_restarts_no_earlier_than_it_stood() {
    let dir = tempfile::tempdir().unwrap();
    let options = || Options {
        clock: azemu::sim::ClockMode::Real,
        data_dir: Some(dir.path().to_path_buf()),
        ..Options::default()
    };
    let s = TestServer::start_with(options()).await;
    // Ahead of the wall clock by an hour, then paused.
    assert_eq!(patch(&s, json!({"mode": "manual"})).await.status, StatusCode::OK);
    s.advance(3600.0).await;
    let stood = at(&s.get("/_azemu/clock").await.body["now"]);
    drop(s);
    let again = TestServer::start_with(options()).await;
    assert!(at(&again.get("/_azemu/clock").await.body["now"]) >= stood);
}

#[tokio::test]
async fn views_show_a_scale_sets_instances_power_and_when_they_next_change() {
    let s = TestServer::start().await;
    s.create_group(RG).await;
    let body = json!({"location": "westus", "sku": {"name": "Standard_D2s_v3", "tier": "Standard", "capacity": 2},
        "properties": {"upgradePolicy": {"mode": "Manual"}, "virtualMachineProfile": {
            "osProfile": {"computerNamePrefix": "web", "adminUsername": "azureuser", "adminPassword": "P@ssw0rd1234!"},
            "storageProfile": {"imageReference": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}}}}});
    assert_eq!(s.put(&v(&set("web")), body).await.status, StatusCode::CREATED);
    let id = set("web");
    let shown = s.get(&format!("/_azemu/resource?id={id}&children=true&views=true")).await.body;
    let vms: Vec<&Value> = shown["children"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["type"] == "Microsoft.Compute/virtualMachineScaleSets/virtualMachines")
        .collect();
    assert_eq!(vms.len(), 2);
    let codes = |vm: &Value| -> Vec<String> {
        vm["views"]["instanceView"]["statuses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["code"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(codes(vms[0]).contains(&"ProvisioningState/creating".to_string()), "{:?}", codes(vms[0]));
    assert!(vms[0]["nextChange"].is_string(), "a VM being created changes when the creation ends");
    assert!(shown["views"]["instanceView"]["virtualMachine"].is_object(), "the set's own view");
    s.advance(60.0).await;
    let later = s.get(&format!("/_azemu/resource?id={}&views=true", vm("web", "0"))).await.body;
    assert!(codes(&later).contains(&"PowerState/running".to_string()));
    assert!(later.get("nextChange").is_none(), "a settled VM changes only when asked to");
    // Without views=true, none.
    assert!(s.get(&format!("/_azemu/resource?id={id}")).await.body.get("views").is_none());
}

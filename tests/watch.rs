//! `azemu watch` driven against a running azemu: plain lines into a pipe, the progress view in
//! a real terminal (tmux), and its exit codes.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_azemu");

/// Starts `azemu watch` with its output in a pipe.
fn watch(s: &TestServer, id: &str) -> Child {
    Command::new(BIN)
        .args(["watch", id, "--endpoint", &s.base])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("azemu watch starts")
}

/// Waits for the process to end; its exit code and everything it printed.
async fn finish(mut child: Child) -> (i32, String, String) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut out = String::new();
            let mut err = String::new();
            use std::io::Read;
            child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
            child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            return (status.code().unwrap_or(-1), out, err);
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("azemu watch did not end");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Reads the first line (the watch has its starting point), handing the reader back.
fn first_line(child: &mut Child) -> (String, BufReader<std::process::ChildStdout>) {
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    (line, reader)
}

/// Everything the watch prints after its first line, and its exit code, once it ends.
async fn rest_of(mut child: Child, mut reader: BufReader<std::process::ChildStdout>) -> (Option<i32>, String) {
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut out = String::new();
        reader.read_to_string(&mut out).unwrap();
        (child.wait().unwrap().code(), out)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_is_followed_line_by_line_until_it_succeeds() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    s.advance(2.0).await;
    s.put(&with_version(&job("dev-1", "logs"), HCI), collect_log_body()).await;
    let mut child = watch(&s, &job("dev-1", "logs"));
    let (first, reader) = first_line(&mut child);
    assert!(first.starts_with("watching "), "{first}");
    assert!(first.contains("properties.status=Scheduled"), "{first}");
    // Steps happen as the clock moves, after the watch began.
    s.advance(6.0).await;
    let (code, out) = rest_of(child, reader).await;
    assert_eq!(code, Some(0), "{out}");
    let statuses: Vec<&str> =
        out.lines().filter(|l| l.contains("properties.status:")).map(|l| l.rsplit("-> ").next().unwrap()).collect();
    assert_eq!(
        statuses,
        ["ValidationInProgress", "ValidationSuccess", "DeploymentInProgress", "DeploymentSuccess", "Succeeded"]
    );
    assert!(out.contains("percentComplete: 88 -> 100"), "{out}");
    assert!(out.trim_end().ends_with("done: Succeeded"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_job_exits_1_and_says_which_step_failed() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    s.advance(2.0).await;
    s.add_fault(json!({"match": {"step": "UploadLogArchive"}, "action": {"failStep": {"code": "UploadFailed", "message": "share full"}}}))
        .await;
    s.put(&with_version(&job("dev-1", "logs"), HCI), collect_log_body()).await;
    s.advance(6.0).await;
    // Already over when the watch starts: it says how it ended.
    let (code, out, _) = finish(watch(&s, &job("dev-1", "logs"))).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("failed: Failed") && out.contains("UploadLogArchive: share full"), "{out}");
}

/// A 2-node cluster with an update published and applied: the run's id.
async fn applied_update(s: &TestServer) -> String {
    const API: &str = "2026-10-01";
    s.create_group(RG).await;
    let cluster = format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.AzureStackHCI/clusters/c1");
    let update = format!("{cluster}/updates/Solution10.2411.0.24");
    s.put(&with_version(&cluster, API), json!({"location": "eastus"})).await;
    s.put(&with_version(&update, API), json!({"properties": {"state": "Ready"}})).await;
    let accepted = s.post(&with_version(&format!("{update}/apply"), API), None).await;
    assert_eq!(accepted.status, reqwest::StatusCode::ACCEPTED, "{}", accepted.body);
    let runs = s.get(&with_version(&format!("{update}/updateRuns"), API)).await;
    runs.body["value"][0]["id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_run_is_followed_step_by_step_until_it_succeeds() {
    let s = TestServer::start().await;
    let run = applied_update(&s).await;
    let mut child = watch(&s, &run);
    let (first, reader) = first_line(&mut child);
    assert!(first.contains("properties.state=InProgress"), "{first}");
    s.advance(40.0).await;
    let (code, out) = rest_of(child, reader).await;
    assert_eq!(code, Some(0), "{out}");
    // One line per finished step (13 for 2 nodes), each saying where the run stands.
    let steps = out.lines().filter(|l| l.contains("properties.lastUpdatedTime:")).count();
    assert_eq!(steps, 13, "{out}");
    assert!(out.contains("properties.lastUpdatedTime:"), "{out}");
    let first_step = out.lines().find(|l| l.contains("properties.lastUpdatedTime:")).unwrap();
    assert!(first_step.ends_with("[1/13 steps, Prepare/Extract]"), "{out}");
    assert!(out.contains("[7/13 steps, Node-2/Drain]"), "{out}");
    assert!(out.contains("properties.state: InProgress -> Succeeded [13/13 steps, -]"), "{out}");
    assert!(out.trim_end().ends_with("done: Succeeded (13/13)"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_update_run_exits_1_and_names_the_step() {
    let s = TestServer::start().await;
    s.add_fault(json!({"match": {"step": "Node-2/Restart"}, "action": {"failStep": {"message": "no heartbeat"}}}))
        .await;
    let run = applied_update(&s).await;
    s.advance(60.0).await;
    let (code, out, _) = finish(watch(&s, &run)).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("failed: Failed: Node-2/Restart (9/13)") && out.contains("Restart: no heartbeat"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_resource_exits_2_and_a_bad_id_too() {
    let s = TestServer::start().await;
    let (code, _, err) = finish(watch(&s, &job("dev-1", "nowhere"))).await;
    assert_eq!(code, 2);
    assert!(err.contains("there is no resource"), "{err}");
    let (code, _, err) = finish(watch(&s, "jobs/j1")).await;
    assert_eq!(code, 2);
    assert!(err.contains("not a resource id"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guarded_control_api_is_watched_with_a_token() {
    let options = Options {
        control_api: azemu::server::ControlApi::Token,
        control_token: Some("team-secret".into()),
        ..Options::default()
    };
    let s = TestServer::start_with(options).await;
    let (code, _, err) = finish(watch(&s, &job("dev-1", "nowhere"))).await;
    assert!(code == 2 && err.contains("--token"), "{code}: {err}");
    let with_token = Command::new(BIN)
        .args(["watch", &job("dev-1", "nowhere"), "--endpoint", &s.base, "--token", "team-secret"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (code, _, err) = finish(with_token).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("there is no resource"), "{err}");
}

/// A real azemu process over HTTPS, for the tests that need one.
struct Served {
    child: Child,
    endpoint: String,
    ca: String,
    _data: tempfile::TempDir,
}

impl Served {
    fn start() -> Served {
        let data = tempfile::tempdir().unwrap();
        let mut child = Command::new(BIN)
            .args(["serve", "--port", "0", "--clock", "manual", "--log-level", "warn", "--data"])
            .arg(data.path())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let (mut endpoint, mut ca) = (String::new(), String::new());
        for _ in 0..5 {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(path) = line.strip_prefix("azemu TLS certificate authority: ") {
                ca = path.split(" (").next().unwrap().trim().to_string();
            }
            if let Some(url) = line.strip_prefix("azemu listening on ") {
                endpoint = url.trim().to_string();
                break;
            }
        }
        assert!(endpoint.starts_with("https://") && !ca.is_empty());
        Served { child, endpoint, ca, _data: data }
    }

    fn client(&self) -> reqwest::Client {
        let cert = reqwest::Certificate::from_pem(&std::fs::read(&self.ca).unwrap()).unwrap();
        reqwest::Client::builder().add_root_certificate(cert).build().unwrap()
    }

    async fn put(&self, path: &str, body: serde_json::Value) {
        let r =
            self.client().put(format!("{}{path}", self.endpoint)).bearer_auth("t").json(&body).send().await.unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    }

    async fn advance(&self, seconds: f64) {
        let url = format!("{}/_azemu/clock/advance", self.endpoint);
        assert!(self.client().post(url).json(&json!({"seconds": seconds})).send().await.unwrap().status().is_success());
    }

    async fn with_device_and_job(&self) -> String {
        self.put(&with_version(&group_path(RG), RESOURCES), json!({"location": "eastus"})).await;
        self.put(&with_version(&device("dev-1"), HCI), device_body()).await;
        self.advance(2.0).await;
        self.put(&with_version(&job("dev-1", "logs"), HCI), collect_log_body()).await;
        job("dev-1", "logs")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_azemu_mid_watch_exits_3() {
    let mut served = Served::start();
    let id = served.with_device_and_job().await;
    let mut child = Command::new(BIN)
        .args(["watch", &id, "--endpoint", &served.endpoint, "--ca-file", &served.ca])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (first, _reader) = first_line(&mut child);
    assert!(first.starts_with("watching "), "{first}");
    served.child.kill().unwrap();
    served.child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        assert!(Instant::now() < deadline, "the watch did not notice");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(code, Some(3));
}

fn tmux(socket: &str, args: &[&str]) -> String {
    let out = Command::new("tmux")
        .args(["-L", socket])
        .args(args)
        .output()
        .expect("tmux runs (scripts/test.sh installs it; on your machine: apt-get install tmux)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Waits until the pane shows `text`; answers the pane.
async fn pane_showing(socket: &str, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let pane = tmux(socket, &["capture-pane", "-p", "-t", "watch"]);
        if pane.contains(text) {
            return pane;
        }
        assert!(Instant::now() < deadline, "the terminal never showed {text:?}; it shows:\n{pane}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_the_job_is_a_progress_bar() {
    let served = Served::start();
    let id = served.with_device_and_job().await;
    let socket = format!("azemu-watch-test-{}", std::process::id());
    let command =
        format!("{BIN} watch '{id}' --endpoint {} --ca-file {}; echo EXIT=$?; sleep 60", served.endpoint, served.ca);
    tmux(&socket, &["new-session", "-d", "-s", "watch", "-x", "160", "-y", "12", &command]);
    let before = pane_showing(&socket, "Scheduled").await;
    assert!(before.contains("logs") && before.contains("0%"), "{before}");
    assert!(!before.contains("watching "), "a terminal gets the bar, not lines:\n{before}");
    served.advance(6.0).await;
    let after = pane_showing(&socket, "EXIT=").await;
    tmux(&socket, &["kill-server"]);
    assert!(after.contains("EXIT=0"), "{after}");
    assert!(after.contains("100%") && after.contains("✔") && after.contains("Succeeded"), "{after}");
    assert!(after.contains("====="), "the bar is drawn:\n{after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_is_followed_to_provisioned_and_a_deletion_to_its_end() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    let mut child = watch(&s, &device("dev-1"));
    let (first, mut reader) = first_line(&mut child);
    assert!(first.contains("properties.provisioningState=Accepted"), "{first}");
    s.advance(2.0).await;
    let read_rest = move |mut child: Child, mut reader: BufReader<std::process::ChildStdout>| {
        use std::io::Read;
        let mut out = String::new();
        reader.read_to_string(&mut out).unwrap();
        (child.wait().unwrap().code(), out)
    };
    let (code, out) = tokio::task::spawn_blocking(move || read_rest(child, reader)).await.unwrap();
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("deviceState: Processing -> Connected") && out.contains("done: Succeeded"), "{out}");

    s.delete(&with_version(&device("dev-1"), HCI)).await;
    let mut child = watch(&s, &device("dev-1"));
    let (first, rest) = first_line(&mut child);
    assert!(first.contains("provisioningState=Deleting"), "{first}");
    reader = rest;
    s.advance(5.0).await;
    let (code, out) = tokio::task::spawn_blocking(move || read_rest(child, reader)).await.unwrap();
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("resource: present -> absent") && out.contains("done: deleted"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_is_followed_resource_by_resource() {
    let s = TestServer::start().await;
    s.create_group(RG).await;
    let id = format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Resources/deployments/main");
    let template = json!({
        "contentVersion": "1.0.0.0",
        "resources": [
            {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2022-01-01", "name": "net", "location": "westus",
             "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}},
            {"type": "Microsoft.Compute/virtualMachineScaleSets", "apiVersion": "2024-07-01", "name": "web", "location": "westus",
             "dependsOn": ["net"], "sku": {"name": "Standard_D2s_v3", "capacity": 1},
             "properties": {"upgradePolicy": {"mode": "Manual"}, "virtualMachineProfile": {
                "osProfile": {"computerNamePrefix": "web", "adminUsername": "azureuser", "adminPassword": "Secret-123!"},
                "storageProfile": {"imageReference": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}},
                "networkProfile": {"networkInterfaceConfigurations": []}}}}
        ]
    });
    let put = s
        .put(&with_version(&id, RESOURCES), json!({"properties": {"template": template, "mode": "Incremental"}}))
        .await;
    assert_eq!(put.status, reqwest::StatusCode::CREATED, "{}", put.body);
    let mut child = watch(&s, &id);
    let (first, reader) = first_line(&mut child);
    assert!(first.starts_with("watching "), "{first}");
    let rest = tokio::spawn(rest_of(child, reader));
    let deadline = Instant::now() + Duration::from_secs(30);
    while !rest.is_finished() && Instant::now() < deadline {
        s.advance(5.0).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (code, out) = rest.await.unwrap();
    assert_eq!(code, Some(0), "{out}");
    // The network was deployed before the watch began (it counts); the scale set, after.
    let set = "Microsoft.Compute/virtualMachineScaleSets/web:";
    assert!(out.lines().any(|l| l.contains(set) && l.ends_with("Running -> Succeeded")), "{out}");
    assert!(out.trim_end().ends_with("done: Succeeded: 2 of 2 resources deployed"), "{out}");
}

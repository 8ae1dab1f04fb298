//! Starts azemu in-process on an ephemeral port and talks HTTP to it.
#![allow(dead_code)]

pub mod process;
pub mod stores;

use std::path::PathBuf;

use azemu::arm::ApiVersionCheck;
use azemu::server::{self, AuthMode, Running, ServeConfig, TlsMode};
use azemu::sim::ClockMode;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub const SUB: &str = "fd3c3665-1729-4b7b-9a38-238e83b0f98b";
pub const RG: &str = "ArcInstance-rg";
pub const HCI: &str = "2026-10-01";
pub const SEED_HCI: &str = "2024-09-01-preview";
pub const RESOURCES: &str = "2025-04-01";

pub fn machine() -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.HybridCompute/machines/Node-1")
}

pub fn device(name: &str) -> String {
    format!("{}/providers/Microsoft.AzureStackHCI/edgeDevices/{name}", machine())
}

pub fn job(device_name: &str, name: &str) -> String {
    format!("{}/jobs/{name}", device(device_name))
}

/// The api-version the Compute tests speak (the seed's).
pub const COMPUTE: &str = "2024-07-01";

/// A scale set of the test group.
pub fn set(name: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachineScaleSets/{name}")
}

/// Instance `instance` of scale set `set_name`.
pub fn vm(set_name: &str, instance: &str) -> String {
    format!("{}/virtualMachines/{instance}", set(set_name))
}

/// `path` at the Compute tests' api-version.
pub fn v(path: &str) -> String {
    with_version(path, COMPUTE)
}

pub fn group_path(name: &str) -> String {
    format!("/subscriptions/{SUB}/resourcegroups/{name}")
}

pub fn with_version(path: &str, version: &str) -> String {
    format!("{path}?api-version={version}")
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
    }

    /// A finished operation's `Location` URL with nothing to return: 200, empty, `Content-Length: 0`.
    pub fn assert_finished_empty(&self) {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        assert_eq!(self.body, Value::Null);
        assert_eq!(self.header("content-length").as_deref(), Some("0"));
    }

    pub fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("<no error code>")
    }
}

pub struct TestServer {
    pub running: Running,
    pub base: String,
    client: reqwest::Client,
    _data: Option<tempfile::TempDir>,
}

pub struct Options {
    pub clock: ClockMode,
    pub speed: f64,
    pub api_version_check: ApiVersionCheck,
    pub data_dir: Option<PathBuf>,
    pub store_url: Option<String>,
    pub operation_retention: std::time::Duration,
    pub faults: Option<PathBuf>,
    pub journal_size: usize,
    pub publishers: Vec<String>,
    pub auth: AuthMode,
    pub subscriptions: Vec<azemu::identity::DeclaredSubscription>,
    pub connections: azemu::server::ConnectionLimits,
    pub control_api: azemu::server::ControlApi,
    pub control_token: Option<String>,
    pub generic_resources: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            clock: ClockMode::Manual,
            speed: 1.0,
            api_version_check: ApiVersionCheck::Strict,
            data_dir: None,
            store_url: None,
            operation_retention: std::time::Duration::from_secs(86400),
            faults: None,
            journal_size: 10_000,
            publishers: Vec::new(),
            auth: AuthMode::Any,
            subscriptions: Vec::new(),
            connections: Default::default(),
            control_api: azemu::server::ControlApi::Auto,
            control_token: None,
            generic_resources: true,
        }
    }
}

/// The configuration tests start azemu with: loopback, any port, plain HTTP.
pub fn serve_config(options: Options) -> ServeConfig {
    ServeConfig {
        host: "127.0.0.1".into(),
        port: 0,
        data_dir: options.data_dir,
        store_url: options.store_url,
        node_id: None,
        lease_timeout: std::time::Duration::from_secs(5),
        tls: TlsMode::Off,
        cert: None,
        key: None,
        auth: options.auth,
        api_version_check: options.api_version_check,
        speed: options.speed,
        clock: options.clock,
        operation_retention: options.operation_retention,
        faults: options.faults,
        journal_size: options.journal_size,
        publishers: options.publishers,
        subscriptions: options.subscriptions,
        connections: options.connections,
        control_api: options.control_api,
        control_token: options.control_token,
        generic_resources: options.generic_resources,
    }
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> TestServer {
        let running = server::start(serve_config(options)).await.expect("azemu starts");
        let base = running.base_url.clone();
        TestServer { running, base, client: reqwest::Client::new(), _data: None }
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<Value>, headers: &[(&str, &str)]) -> Reply {
        self.try_send(method, path, body, headers).await.expect("request is answered")
    }

    /// [`TestServer::send`], for requests that may go unanswered.
    pub async fn try_send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Result<Reply, reqwest::Error> {
        let url = if path.starts_with("http") { path.to_string() } else { format!("{}{}", self.base, path) };
        let mut request = self.client.request(method, url);
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("authorization")) {
            request = request.header("authorization", "Bearer test-token");
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request.send().await?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await?;
        let body =
            if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("every body is JSON") };
        Ok(Reply { status, headers, body })
    }

    /// Adds a fault rule; answers it as the emulator shows it.
    pub async fn add_fault(&self, rule: Value) -> Value {
        let r = self.post("/_azemu/faults", Some(rule)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, &[]).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PUT, path, Some(body), &[]).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: Option<Value>) -> Reply {
        self.send(Method::POST, path, body, &[]).await
    }

    /// Moves the manual clock forward and waits for everything due to run.
    pub async fn advance(&self, seconds: f64) {
        let r = self
            .client
            .post(format!("{}/_azemu/clock/advance", self.base))
            .json(&json!({ "seconds": seconds }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }

    pub async fn create_group(&self, name: &str) {
        let r = self.put(&with_version(&group_path(name), RESOURCES), json!({ "location": "eastus" })).await;
        assert!(r.status.is_success(), "resource group: {} {}", r.status, r.body);
    }

    pub async fn create_device(&self, name: &str) -> Reply {
        self.create_group(RG).await;
        let r = self.put(&with_version(&device(name), HCI), device_body()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r
    }
}

pub fn device_body() -> Value {
    json!({ "kind": "HCI", "properties": { "deviceConfiguration": {
        "nicDetails": [{ "adapterName": "ethernet", "ip4Address": "10.10.10.10", "subnetMask": "255.255.255.0", "defaultGateway": "10.10.10.1", "dnsServers": ["10.10.10.1"] }],
        "deviceMetadata": "" } } })
}

pub fn remote_support_body(kind: &str, expiry: &str) -> Value {
    json!({ "kind": "HCI", "properties": { "jobType": "RemoteSupport", "accessLevel": "Diagnostics", "expirationTimestamp": expiry, "type": kind } })
}

pub fn collect_log_body() -> Value {
    json!({ "kind": "HCI", "properties": { "jobType": "CollectLog", "fromDate": "2024-01-29T10:43:27.9471574Z", "toDate": "2024-01-29T12:43:27.9471574Z" } })
}

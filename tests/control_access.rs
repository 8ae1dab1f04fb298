//! A shared emulator's control plane: with `--control-api token` (what `auto` means off
//! loopback) the control API and `/metrics` need an admin token or the shared secret; health
//! and the ARM API are unchanged.

mod common;

use azemu::server::{self, ControlApi};
use common::*;
use reqwest::StatusCode;

const SECRET: &str = "shared-secret-for-the-team";

async fn guarded(data: Option<std::path::PathBuf>) -> (server::Running, reqwest::Client) {
    let options = Options {
        data_dir: data,
        control_api: ControlApi::Token,
        control_token: Some(SECRET.into()),
        ..Options::default()
    };
    (server::start(serve_config(options)).await.unwrap(), reqwest::Client::new())
}

async fn status(client: &reqwest::Client, method: reqwest::Method, url: String, token: Option<&str>) -> (u16, String) {
    let mut request = client.request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    (status, body["error"]["code"].as_str().unwrap_or_default().to_string())
}

/// A token `azemu token` prints for a data directory.
fn cli_token(data: &std::path::Path, role: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_azemu"))
        .args(["token", "--role", role, "--data"])
        .arg(data)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[tokio::test]
async fn the_control_api_and_metrics_need_an_admin_token_or_the_shared_secret() {
    let data = tempfile::tempdir().unwrap();
    let admin = cli_token(data.path(), "admin");
    let contributor = cli_token(data.path(), "contributor");
    let (running, client) = guarded(Some(data.path().into())).await;
    let url = |path: &str| format!("{}{path}", running.base_url);
    use reqwest::Method;
    for path in ["/_azemu/state", "/_azemu/events", "/_azemu/faults", "/metrics"] {
        assert_eq!(status(&client, Method::GET, url(path), None).await, (401, "AuthenticationFailed".into()), "{path}");
        assert_eq!(status(&client, Method::GET, url(path), Some("not-signed")).await.0, 401, "{path}");
        assert_eq!(
            status(&client, Method::GET, url(path), Some(&contributor)).await,
            (403, "AuthorizationFailed".into()),
            "{path}"
        );
        assert_eq!(status(&client, Method::GET, url(path), Some(&admin)).await.0, 200, "{path}");
        assert_eq!(status(&client, Method::GET, url(path), Some(SECRET)).await.0, 200, "{path}");
    }
    assert_eq!(status(&client, Method::POST, url("/_azemu/reset"), None).await.0, 401, "reset above all");
    assert_eq!(status(&client, Method::POST, url("/_azemu/reset"), Some(&admin)).await.0, 200);
    // Health stays open for probes; the ARM API is as before (any bearer token here).
    assert_eq!(status(&client, Method::GET, url("/_azemu/health"), None).await.0, 200);
    let groups = url(&format!("/subscriptions/{SUB}/resourcegroups?api-version=2021-04-01"));
    assert_eq!(status(&client, Method::GET, groups, Some("any")).await.0, StatusCode::OK.as_u16());
}

#[tokio::test]
async fn on_loopback_the_control_api_stays_open() {
    let s = TestServer::start().await;
    let reply = reqwest::get(format!("{}/_azemu/state", s.base)).await.unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
}

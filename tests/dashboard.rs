//! `/_azemu/ui/`: the dashboard's files, served from the binary under the control API's access
//! rule.

mod common;

use azemu::server::{self, ControlApi};
use common::*;
use reqwest::{redirect, StatusCode};

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(redirect::Policy::none()).build().unwrap()
}

#[tokio::test]
async fn the_page_and_its_modules_are_served_with_their_types() {
    let s = TestServer::start().await;
    let c = client();
    let r = c.get(format!("{}/_azemu/ui", s.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(r.headers()["location"], "/_azemu/ui/");

    let r = c.get(format!("{}/_azemu/ui/", s.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
    assert!(r.headers()["content-security-policy"].to_str().unwrap().starts_with("default-src 'self'"));
    let page = r.text().await.unwrap();
    assert!(page.contains(r#"<script type="module" src="app.js">"#), "{page}");

    for (name, content_type) in [
        ("style.css", "text/css; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("browser.js", "text/javascript; charset=utf-8"),
    ] {
        let r = c.get(format!("{}/_azemu/ui/{name}", s.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{name}");
        assert_eq!(r.headers()["content-type"], content_type, "{name}");
        assert_eq!(r.headers()["cache-control"], "no-cache", "{name}");
        assert!(!r.bytes().await.unwrap().is_empty(), "{name}");
    }

    let r = c.get(format!("{}/_azemu/ui/missing.js", s.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "NotFound");

    let r = c.post(format!("{}/_azemu/ui/", s.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "MethodNotAllowed", "{body}");
    assert_eq!(body["error"]["message"], "The HTTP method 'POST' is not supported at '/_azemu/ui/'.");
    // Near names are not the dashboard.
    let r = c.get(format!("{}/_azemu/uix", s.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_guarded_control_plane_guards_the_dashboard_too() {
    let options = Options {
        control_api: ControlApi::Token,
        control_token: Some("dashboard-secret".into()),
        ..Options::default()
    };
    let running = server::start(serve_config(options)).await.unwrap();
    let c = client();
    let page = format!("{}/_azemu/ui/", running.base_url);
    let refused = c.get(&page).send().await.unwrap().status();
    let clock_refused = c.get(format!("{}/_azemu/clock", running.base_url)).send().await.unwrap().status();
    assert!(refused.is_client_error(), "{refused}");
    assert_eq!(refused, clock_refused);
    let r = c.get(&page).bearer_auth("dashboard-secret").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

//! `/_azemu/ui/`: the dashboard's files, served from the binary; under a guarded control API
//! the page loads but its data needs a sign-in, which trades a control token for a cookie. The
//! page itself is driven in headless Chromium by tests/js/dashboard.test.mjs.

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
        ("tree.js", "text/javascript; charset=utf-8"),
        ("icon.svg", "image/svg+xml"),
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
async fn a_guarded_control_plane_asks_the_page_to_sign_in_and_takes_its_cookie() {
    let options = Options {
        control_api: ControlApi::Token,
        control_token: Some("dashboard-secret".into()),
        ..Options::default()
    };
    let running = server::start(serve_config(options)).await.unwrap();
    let c = client();
    let base = &running.base_url;
    // The page's files hold no state: they load, so the page can ask for a token.
    assert_eq!(c.get(format!("{base}/_azemu/ui/")).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(c.get(format!("{base}/_azemu/ui/app.js")).send().await.unwrap().status(), StatusCode::OK);
    // Only the dashboard's own paths: a near name is guarded like any other.
    assert_eq!(c.get(format!("{base}/_azemu/uix")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    // What it reads is refused without one.
    let clock = format!("{base}/_azemu/clock");
    assert_eq!(c.get(&clock).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);

    let session = format!("{base}/_azemu/ui/session");
    let wrong = c.post(&session).json(&serde_json::json!({"token": "guess"})).send().await.unwrap();
    assert!(wrong.status().is_client_error(), "{}", wrong.status());
    assert!(wrong.headers().get("set-cookie").is_none());
    let empty = c.post(&session).json(&serde_json::json!({"token": " "})).send().await.unwrap();
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    let malformed = c.post(&session).body("token=x").send().await.unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let read = c.get(&session).bearer_auth("dashboard-secret").send().await.unwrap();
    assert_eq!(read.status(), StatusCode::METHOD_NOT_ALLOWED);

    let signed_in = c.post(&session).json(&serde_json::json!({"token": "dashboard-secret"})).send().await.unwrap();
    assert_eq!(signed_in.status(), StatusCode::NO_CONTENT);
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().to_string();
    for part in ["azemu_control=dashboard-secret", "HttpOnly", "SameSite=Strict", "Path=/_azemu"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    // This server runs with --tls off: a browser would drop a Secure cookie (the browser test
    // checks it is Secure over HTTPS).
    assert!(!cookie.contains("Secure"), "{cookie}");
    let pair = cookie.split(';').next().unwrap();
    let r = c.get(&clock).header("cookie", format!("theme=dark; {pair}")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // The cookie opens the control API only, not ARM.
    let arm =
        c.get(format!("{base}/subscriptions?api-version=2022-12-01")).header("cookie", pair).send().await.unwrap();
    assert_eq!(arm.status(), StatusCode::UNAUTHORIZED);
    let forged = c.get(&clock).header("cookie", "azemu_control=guess").send().await.unwrap();
    assert!(forged.status().is_client_error());

    let out = c.delete(&session).send().await.unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert!(out.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
}

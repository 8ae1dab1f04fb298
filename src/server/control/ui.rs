//! `/_azemu/ui/`: the dashboard. Hand-written HTML, CSS and JavaScript modules, embedded in the
//! binary: no build step, and nothing loaded from anywhere but azemu itself (its
//! Content-Security-Policy says so to the browser too). It reads the same control API as any
//! other client.

use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::app::App;
use crate::arm::ArmError;
use crate::identity::CONTROL_COOKIE;

/// Where the page trades a control token for a cookie (POST) and signs out (DELETE).
const SESSION: &str = "/session";
/// How long a sign-in lasts, in seconds.
const SESSION_SECONDS: u32 = 12 * 3600;

pub const PATH: &str = "ui";

struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const JS: &str = "text/javascript; charset=utf-8";

const ASSETS: &[Asset] = &[
    Asset { name: "", content_type: "text/html; charset=utf-8", bytes: include_bytes!("ui/index.html") },
    Asset { name: "style.css", content_type: "text/css; charset=utf-8", bytes: include_bytes!("ui/style.css") },
    Asset { name: "icon.svg", content_type: "image/svg+xml", bytes: include_bytes!("ui/icon.svg") },
    Asset { name: "app.js", content_type: JS, bytes: include_bytes!("ui/app.js") },
    Asset { name: "api.js", content_type: JS, bytes: include_bytes!("ui/api.js") },
    Asset { name: "model.js", content_type: JS, bytes: include_bytes!("ui/model.js") },
    Asset { name: "tree.js", content_type: JS, bytes: include_bytes!("ui/tree.js") },
    Asset { name: "detail.js", content_type: JS, bytes: include_bytes!("ui/detail.js") },
    Asset { name: "common.js", content_type: JS, bytes: include_bytes!("ui/common.js") },
    Asset { name: "steps.js", content_type: JS, bytes: include_bytes!("ui/steps.js") },
    Asset { name: "hci.js", content_type: JS, bytes: include_bytes!("ui/hci.js") },
    Asset { name: "publishing.js", content_type: JS, bytes: include_bytes!("ui/publishing.js") },
    Asset { name: "compute.js", content_type: JS, bytes: include_bytes!("ui/compute.js") },
    Asset { name: "deployment.js", content_type: JS, bytes: include_bytes!("ui/deployment.js") },
    Asset { name: "operations.js", content_type: JS, bytes: include_bytes!("ui/operations.js") },
    Asset { name: "faults.js", content_type: JS, bytes: include_bytes!("ui/faults.js") },
    Asset { name: "events.js", content_type: JS, bytes: include_bytes!("ui/events.js") },
    Asset { name: "clock.js", content_type: JS, bytes: include_bytes!("ui/clock.js") },
];

/// Whether a request under `/_azemu/ui` needs no control token: the page's own files (the same
/// for everyone, holding no state) and the sign-in.
pub fn is_open(method: &Method, after: &str) -> bool {
    if !(after.is_empty() || after.starts_with('/')) {
        return false;
    }
    (after == SESSION && (method == Method::POST || method == Method::DELETE))
        || ((method == Method::GET || method == Method::HEAD) && after != SESSION)
}

/// Serves `/_azemu/ui` (`after` is what follows it in the path).
pub fn handle(app: &App, method: &Method, after: &str, body: &[u8]) -> Response {
    if after == SESSION {
        return session(app, method, body);
    }
    if method != Method::GET && method != Method::HEAD {
        return ArmError::method_not_allowed(method.as_str(), &format!("/_azemu/ui{after}")).into_response();
    }
    // Module URLs are relative to the page, so the page lives at the directory's address.
    let Some(name) = after.strip_prefix('/') else {
        let mut response = StatusCode::PERMANENT_REDIRECT.into_response();
        response.headers_mut().insert(header::LOCATION, HeaderValue::from_static("/_azemu/ui/"));
        return response;
    };
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return ArmError::not_found("NotFound", format!("The dashboard has no file '{name}'.")).into_response();
    };
    let mut response = (StatusCode::OK, asset.bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    // The files change with the binary: a browser asks again rather than keep a stale page.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:"),
    );
    response
}

/// Over HTTPS the cookie is only ever sent back over HTTPS; under `--tls off` a browser would
/// not keep a `Secure` cookie from a host other than localhost, so it goes without.
fn secure(app: &App) -> &'static str {
    if app.scheme == "https" {
        "; Secure"
    } else {
        ""
    }
}

#[derive(Deserialize)]
struct SignIn {
    token: String,
}

/// `POST /_azemu/ui/session` `{"token"}`: checks the token as the control API would and keeps it
/// in an HTTP-only, same-site cookie; `DELETE` forgets it.
fn session(app: &App, method: &Method, body: &[u8]) -> Response {
    let cookie = match *method {
        Method::POST => {
            let input: SignIn = match serde_json::from_slice(body) {
                Ok(input) => input,
                Err(e) => {
                    return ArmError::invalid_content(format!("Expected {{\"token\": \"…\"}}: {e}.")).into_response()
                }
            };
            let token = input.token.trim();
            // A cookie value holds no separators or spaces; a token never does either.
            if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic() && b != b';' && b != b',') {
                return ArmError::invalid_parameter("token", "The token is empty or not a token.").into_response();
            }
            if let Err(e) = app.identity.check_control_token(&app.control, token) {
                return e.into_response();
            }
            format!(
                "{CONTROL_COOKIE}={token}; Path=/_azemu; Max-Age={SESSION_SECONDS}; HttpOnly{}; SameSite=Strict",
                secure(app)
            )
        }
        Method::DELETE => {
            format!("{CONTROL_COOKIE}=; Path=/_azemu; Max-Age=0; HttpOnly{}; SameSite=Strict", secure(app))
        }
        _ => return ArmError::method_not_allowed(method.as_str(), "/_azemu/ui/session").into_response(),
    };
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_the_page_names_is_served() {
        let page = std::str::from_utf8(ASSETS[0].bytes).unwrap();
        let mut named: Vec<&str> = ["href=\"", "src=\""]
            .iter()
            .flat_map(|attr| page.split(attr).skip(1).map(|rest| rest.split('"').next().unwrap()))
            .collect();
        for module in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
            let text = std::str::from_utf8(module.bytes).unwrap();
            named.extend(text.split("from \"./").skip(1).map(|rest| rest.split('"').next().unwrap()));
        }
        assert!(named.len() >= 5, "{named:?}");
        for name in named {
            assert!(ASSETS.iter().any(|a| a.name == name), "{name} is named but not served");
        }
    }
}

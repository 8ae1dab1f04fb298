//! `/_azemu/ui/`: the dashboard. Hand-written HTML, CSS and JavaScript modules, embedded in the
//! binary: no build step, and nothing loaded from anywhere but azemu itself (its
//! Content-Security-Policy says so to the browser too). It reads the same control API as any
//! other client.

use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::arm::ArmError;

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
    Asset { name: "app.js", content_type: JS, bytes: include_bytes!("ui/app.js") },
    Asset { name: "api.js", content_type: JS, bytes: include_bytes!("ui/api.js") },
    Asset { name: "browser.js", content_type: JS, bytes: include_bytes!("ui/browser.js") },
    Asset { name: "clock.js", content_type: JS, bytes: include_bytes!("ui/clock.js") },
];

/// Serves `/_azemu/ui` (`after` is what follows it in the path).
pub fn handle(method: &Method, after: &str) -> Response {
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

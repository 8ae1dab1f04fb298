//! The emulator's own API under `/_azemu/`: health, reset, clock, fault rules, the dashboard.

mod clock;
mod events;
pub(crate) mod faults;
mod lookup;
mod publishers;
mod state;
mod ui;

use axum::body::Bytes;
use std::sync::Arc;

use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::app::App;
use crate::arm::respond::json_response;
use crate::arm::{timestamp, ArmError};

pub const PREFIX: &str = "/_azemu/";
pub const HEALTH: &str = "/_azemu/health";

/// Control endpoints anyone may reach under a guarded control API.
pub fn is_open(method: &Method, path: &str) -> bool {
    path == HEALTH
        || path
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.strip_prefix(ui::PATH))
            .is_some_and(|after| ui::is_open(method, after))
}

pub async fn handle(app: &Arc<App>, parts: &Parts, body: Bytes) -> Response {
    let (method, path) = (&parts.method, parts.uri.path());
    let rest = path.trim_start_matches(PREFIX);
    if let Some(after) = rest.strip_prefix("faults").filter(|a| a.is_empty() || a.starts_with('/')) {
        return faults::handle(app, method, after, &body).await;
    }
    if let Some(after) = rest.strip_prefix("publishers").filter(|a| a.is_empty() || a.starts_with('/')) {
        return publishers::handle(app, method, after, &body).await;
    }
    if let Some(after) = rest.strip_prefix(ui::PATH).filter(|a| a.is_empty() || a.starts_with('/')) {
        return ui::handle(app, method, after, &body);
    }
    match (method, rest) {
        (&Method::GET, "health") => health(app),
        (&Method::GET, "events") => events::events(app, parts),
        (&Method::GET, "state") => state::state(app, parts),
        (&Method::GET, "resource") => lookup::resource(app, parts),
        (&Method::POST, "reset") => reset(app).await,
        (&Method::GET, "clock") => json_response(StatusCode::OK, &clock_body(app)),
        (&Method::PATCH, "clock") => clock::change(app, &body).await,
        (&Method::POST, "clock/advance") => clock::advance(app, &body).await,
        (_, "health" | "reset" | "clock" | "clock/advance" | "events" | "state" | "resource") => {
            ArmError::method_not_allowed(method.as_str(), path).into_response()
        }
        _ => ArmError::not_found("NotFound", format!("There is no control endpoint '{path}'.")).into_response(),
    }
}

fn health(app: &App) -> Response {
    let size = app.store.size();
    let unavailable = app.store.unavailable();
    let mut body = json!({
        // Reads are served while the disk takes no writes; writes are refused with 503.
        "status": if unavailable.is_some() { "degraded" } else { "ok" },
        "version": env!("CARGO_PKG_VERSION"),
        "store": size.kind,
        "node": app.store.node(),
        "resources": size.resources,
        "operations": size.operations,
        "databaseBytes": size.database_bytes,
        "storeWritable": unavailable.is_none(),
    });
    if let Some(reason) = unavailable {
        body["storeError"] = json!(reason);
    }
    let nodes = app.store.nodes();
    if !nodes.is_empty() {
        body["nodes"] = json!(nodes);
    }
    json_response(StatusCode::OK, &body)
}

async fn reset(app: &App) -> Response {
    let cleared = app.store.clear().await;
    // Lifecycles planned for the cleared resources will not happen.
    app.journal.changes.clear();
    if let Err(e) = cleared {
        return ArmError::from(e).into_response();
    }
    let registrations = app.registrations.clear();
    if let Err(e) = app.store.save_setting(crate::arm::platform::REGISTRATIONS_SETTING, registrations).await {
        return ArmError::from(e).into_response();
    }
    // What `serve` was told to make at start is there again, as after a restart.
    if let Err(e) = crate::partner::publishers::ensure_startup(app).await {
        return ArmError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError", e).into_response();
    }
    json_response(StatusCode::OK, &json!({ "status": "reset" }))
}

fn clock_body(app: &App) -> serde_json::Value {
    json!({ "mode": app.clock.mode(), "now": timestamp(app.clock.now()), "speed": app.clock.speed() })
}

//! The emulator's own API under `/_azemu/`: health, reset, clock. No auth.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::app::App;
use crate::arm::{timestamp, ArmError};
use crate::sim::ClockMode;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/_azemu/health", get(health))
        .route("/_azemu/reset", post(reset))
        .route("/_azemu/clock", get(clock))
        .route("/_azemu/clock/advance", post(advance))
}

async fn health(State(app): State<Arc<App>>) -> Response {
    let resources = app.store.read(|s| s.resource_count());
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION"), "resources": resources }))
        .into_response()
}

async fn reset(State(app): State<Arc<App>>) -> Response {
    match app.store.clear().await {
        Ok(()) => Json(json!({ "status": "reset" })).into_response(),
        Err(e) => ArmError::from(e).into_response(),
    }
}

fn clock_body(app: &App) -> serde_json::Value {
    json!({ "mode": app.clock.mode(), "now": timestamp(app.clock.now()), "speed": app.clock.speed() })
}

async fn clock(State(app): State<Arc<App>>) -> Response {
    Json(clock_body(&app)).into_response()
}

#[derive(Deserialize)]
struct Advance {
    seconds: f64,
}

async fn advance(State(app): State<Arc<App>>, body: axum::body::Bytes) -> Response {
    let input: Advance = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => {
            return ArmError::invalid_content(format!("Expected {{\"seconds\": N}}: {e}."))
                .into_response()
        }
    };
    if !input.seconds.is_finite() || input.seconds < 0.0 || input.seconds > 10.0 * 365.0 * 86400.0 {
        return ArmError::invalid_parameter(
            "seconds",
            "seconds must be a number between 0 and ten years.",
        )
        .into_response();
    }
    if app.clock.mode() != ClockMode::Manual {
        return ArmError::conflict(
            "ClockNotManual",
            "The clock only advances on request when azemu runs with --clock manual.",
        )
        .into_response();
    }
    app.engine.advance(input.seconds).await;
    (StatusCode::OK, Json(clock_body(&app))).into_response()
}

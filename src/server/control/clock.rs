//! The emulator clock from the control API: advance a manual clock, pause or resume it, change
//! its speed. Each change is journaled as a `clock` event, after the changes it caused.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::clock_body;
use crate::app::App;
use crate::arm::respond::json_response;
use crate::arm::ArmError;
use crate::journal::{ClockEvent, EventBody};
use crate::sim::ClockMode;

/// The fastest a clock may run, as `serve --speed` allows.
const MAX_SPEED: f64 = 1_000_000.0;

#[derive(Deserialize)]
struct Advance {
    seconds: f64,
}

pub async fn advance(app: &App, body: &[u8]) -> Response {
    let input: Advance = match serde_json::from_slice(body) {
        Ok(a) => a,
        Err(e) => return ArmError::invalid_content(format!("Expected {{\"seconds\": N}}: {e}.")).into_response(),
    };
    if !input.seconds.is_finite() || input.seconds < 0.0 || input.seconds > 10.0 * 365.0 * 86400.0 {
        return ArmError::invalid_parameter("seconds", "seconds must be a number between 0 and ten years.")
            .into_response();
    }
    if app.clock.mode() != ClockMode::Manual {
        return ArmError::conflict(
            "ClockNotManual",
            "The clock only advances on request when it is manual (--clock manual, or paused).",
        )
        .into_response();
    }
    match app.engine.advance(input.seconds).await {
        Ok(_) => answer(app),
        Err(e) => ArmError::from(e).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Change {
    mode: Option<ClockMode>,
    speed: Option<f64>,
}

/// `PATCH /_azemu/clock` `{"mode": "manual"|"real", "speed": N}`: `manual` pauses a running
/// clock where it stands, `real` lets a manual one run on from there; `speed` applies to work
/// planned from now on.
pub async fn change(app: &App, body: &[u8]) -> Response {
    let input: Change = match serde_json::from_slice(body) {
        Ok(c) => c,
        Err(e) => {
            return ArmError::invalid_content(format!(
                "Expected {{\"mode\": \"real\" or \"manual\", \"speed\": N}}: {e}."
            ))
            .into_response()
        }
    };
    if let Some(speed) = input.speed.filter(|s| !(s.is_finite() && *s > 0.0 && *s <= MAX_SPEED)) {
        return ArmError::invalid_parameter(
            "speed",
            format!("speed must be above 0 and at most {MAX_SPEED}, not {speed}."),
        )
        .into_response();
    }
    match app.engine.set_clock(input.mode, input.speed).await {
        Ok(()) => answer(app),
        Err(e) => ArmError::from(e).into_response(),
    }
}

/// Journals where the clock stands, after the changes up to it, and answers with it.
fn answer(app: &App) -> Response {
    let now = app.clock.now();
    app.journal.changes.catch_up(&app.journal, now);
    app.journal.record(now, EventBody::Clock(ClockEvent { mode: app.clock.mode(), speed: app.clock.speed() }));
    json_response(StatusCode::OK, &clock_body(app))
}

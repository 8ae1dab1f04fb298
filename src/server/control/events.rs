//! `/_azemu/events`: the journal as JSON, or followed live as server-sent events; and
//! `/_azemu/state`, everything stored, for debugging and snapshots.

use std::sync::Arc;
use std::time::Duration;

use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::app::App;
use crate::arm::document;
use crate::arm::lro::status_body;
use crate::arm::respond::json_response;
use crate::arm::ArmError;
use crate::journal::Filter;

fn filter_from(parts: &Parts) -> Result<Filter, ArmError> {
    let mut filter = Filter::default();
    let query = parts.uri.query().unwrap_or_default();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        match name.as_ref() {
            "resource" => filter.resource = Some(value.into_owned()),
            "kind" if value == "request" || value == "change" => filter.kind = Some(value.into_owned()),
            "kind" => return Err(ArmError::invalid_parameter("kind", "kind must be 'request' or 'change'.")),
            "since" => {
                filter.since = value
                    .parse()
                    .map_err(|_| ArmError::invalid_parameter("since", "since must be an event sequence number."))?
            }
            other => {
                return Err(ArmError::invalid_parameter(
                    other,
                    format!("Unknown parameter '{other}': use resource, kind or since."),
                ))
            }
        }
    }
    // A reconnecting follower resumes after the last event it saw.
    if let Some(last) = parts.headers.get("last-event-id").and_then(|v| v.to_str().ok()) {
        filter.since = last
            .trim()
            .parse()
            .map_err(|_| ArmError::bad_request("InvalidHeader", "Last-Event-ID must be a number."))?;
    }
    Ok(filter)
}

pub fn events(app: &Arc<App>, parts: &Parts) -> Response {
    if !app.journal.enabled() {
        return ArmError::conflict("JournalDisabled", "The event journal is off (azemu serve --journal-size 0).")
            .into_response();
    }
    let filter = match filter_from(parts) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let wants_stream = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/event-stream"));
    if wants_stream {
        return stream(app, filter);
    }
    let kept = app.journal.query(&filter, app.clock.now());
    let events: Vec<&crate::journal::Event> = kept.iter().map(|e| &**e).collect();
    json_response(StatusCode::OK, &json!({ "value": events, "lastSeq": app.journal.last_seq() }))
}

fn stream(app: &Arc<App>, filter: Filter) -> Response {
    app.journal.changes.catch_up(&app.journal, app.clock.now());
    let follower = app.journal.follow(filter);
    let events = futures_util::stream::unfold(follower, |mut follower| async move {
        let event = follower.next().await?;
        let data = serde_json::to_string(&*event).unwrap_or_default();
        let sse = SseEvent::default().id(event.seq.to_string()).event(event.kind()).data(data);
        Some((Ok::<_, std::convert::Infallible>(sse), follower))
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(10))).into_response()
}

/// Every resource (its current document and the emulator's state for it) and operation.
pub fn state(app: &App) -> Response {
    let now = app.clock.now();
    let dump = app.store.read(|s| {
        let resources: Vec<Value> = s
            .resources()
            .map(|r| {
                let doc = document::current_unkept(&app.registry, r, now);
                json!({
                    "id": r.id,
                    "type": r.type_key,
                    "etag": r.etag,
                    "document": serde_json::from_slice::<Value>(&doc).unwrap_or(Value::Null),
                    "pendingOperation": r.pending_op,
                    "due": r.due.map(crate::arm::timestamp),
                    "deleting": r.deleting,
                    "failed": r.failed,
                    "lifecycle": r.sim.as_deref().and_then(|s| serde_json::from_str::<Value>(s).ok()),
                })
            })
            .collect();
        let mut operations: Vec<(chrono::DateTime<chrono::Utc>, Value)> = s
            .operations()
            .map(|o| {
                let mut body = status_body(o);
                body["kind"] = json!(o.kind);
                (o.start_time, body)
            })
            .collect();
        operations.sort_by_key(|(start, _)| *start);
        json!({
            "clock": { "mode": app.clock.mode(), "now": crate::arm::timestamp(now), "speed": app.clock.speed() },
            "resources": resources,
            "operations": operations.into_iter().map(|(_, o)| o).collect::<Vec<_>>(),
        })
    });
    json_response(StatusCode::OK, &dump)
}

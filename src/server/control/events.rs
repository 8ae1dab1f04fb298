//! `/_azemu/events`: the journal as JSON, or followed live as server-sent events.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};

use crate::app::App;
use crate::arm::ArmError;
use crate::journal::{Event, Filter};

fn filter_from(parts: &Parts) -> Result<Filter, ArmError> {
    let mut filter = Filter::default();
    let query = parts.uri.query().unwrap_or_default();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        match name.as_ref() {
            "resource" => filter.resource = Some(value.into_owned()),
            "kind" if matches!(&*value, "request" | "change" | "clock") => filter.kind = Some(value.into_owned()),
            "kind" => return Err(ArmError::invalid_parameter("kind", "kind must be 'request', 'change' or 'clock'.")),
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
    let tail = format!("],\"lastSeq\":{}}}", app.journal.last_seq());
    streamed_array("{\"value\":[".into(), kept, tail)
}

/// Events serialized into this many per chunk.
const EVENTS_PER_CHUNK: usize = 256;

/// `head`, the events as a JSON array's elements, then `tail`: serialized a chunk at a time as
/// the answer is sent, so that a large journal is never held as one text.
fn streamed_array(head: String, events: Vec<Arc<Event>>, tail: String) -> Response {
    let start = (Some(head), events.into_iter(), Some(tail), true);
    let chunks = futures_util::stream::unfold(start, |(mut head, mut events, mut tail, mut first)| async move {
        let chunk = match head.take() {
            Some(head) => head.into_bytes(),
            None => {
                let mut out = Vec::new();
                for event in events.by_ref().take(EVENTS_PER_CHUNK) {
                    if !std::mem::take(&mut first) {
                        out.push(b',');
                    }
                    serde_json::to_writer(&mut out, &*event).expect("an event serializes");
                }
                if out.is_empty() {
                    tail.take()?.into_bytes()
                } else {
                    out
                }
            }
        };
        Some((Ok::<_, std::convert::Infallible>(Bytes::from(chunk)), (head, events, tail, first)))
    });
    let mut response = (StatusCode::OK, Body::from_stream(chunks)).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    response
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

//! `/_azemu/state`: everything stored, for debugging and snapshots, streamed a chunk of
//! resources at a time so that neither a large store nor many callers at once multiply memory.
//! `?type=` keeps one resource type, `?limit=` pages (with a `nextLink`), `?after=` resumes.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::app::App;
use crate::arm::document;
use crate::arm::lro::status_body;
use crate::arm::ArmError;
use crate::store::{OperationRecord, StoredResource};

/// Resources (or operations) read under one lock and written as one chunk.
const CHUNK: usize = 128;
const MAX_LIMIT: usize = 100_000;

#[derive(Default)]
struct StateQuery {
    type_key: Option<String>,
    after: Option<String>,
    limit: Option<usize>,
}

fn parse(parts: &Parts) -> Result<StateQuery, ArmError> {
    let mut query = StateQuery::default();
    for (name, value) in form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes()) {
        match name.as_ref() {
            "type" => query.type_key = Some(value.to_ascii_lowercase()),
            "after" => query.after = Some(value.into_owned()),
            "limit" => {
                let limit = value.parse::<usize>().ok().filter(|n| (1..=MAX_LIMIT).contains(n));
                query.limit = Some(limit.ok_or_else(|| {
                    ArmError::invalid_parameter("limit", format!("limit must be a whole number from 1 to {MAX_LIMIT}."))
                })?);
            }
            other => {
                return Err(ArmError::invalid_parameter(
                    other,
                    format!("Unknown parameter '{other}': use type, after or limit."),
                ))
            }
        }
    }
    Ok(query)
}

/// Where the stream stands.
enum Phase {
    Head,
    Resources,
    Operations(std::vec::IntoIter<Arc<OperationRecord>>),
    Tail,
    Done,
}

struct Dump {
    app: Arc<App>,
    now: DateTime<Utc>,
    query: StateQuery,
    /// The key of the last resource written, where the next chunk starts.
    cursor: Option<String>,
    written: usize,
    /// Elements written in the array being written (for the commas between them).
    items: usize,
    /// Whether resources remain past `limit` (the answer then has a `nextLink`).
    more: bool,
    /// `…/_azemu/state`, for the `nextLink`.
    base: String,
    phase: Phase,
}

/// One element of a JSON array, with its separator.
fn element(out: &mut Vec<u8>, first: bool, value: &Value) {
    if !first {
        out.push(b',');
    }
    serde_json::to_writer(&mut *out, value).expect("a JSON value serializes");
}

fn resource_entry(app: &App, r: &StoredResource, now: DateTime<Utc>) -> Value {
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
}

impl Dump {
    /// Operations are listed once, on the first page of an unfiltered dump.
    fn lists_operations(&self) -> bool {
        self.query.type_key.is_none() && self.query.after.is_none()
    }

    fn wanted(&self) -> usize {
        self.query.limit.map_or(CHUNK, |limit| CHUNK.min(limit - self.written))
    }

    /// The next chunk of resources, read under the lock and rendered outside it.
    fn resources_chunk(&mut self) -> Option<Vec<u8>> {
        let wanted = self.wanted();
        if wanted == 0 {
            return None;
        }
        let cursor = self.cursor.clone().or_else(|| self.query.after.clone());
        let type_key = self.query.type_key.as_deref();
        let (chunk, more) = self.app.store.read(|s| {
            let mut matching =
                s.resources_after(cursor.as_deref()).filter(|r| type_key.is_none_or(|t| r.type_key == t));
            let chunk: Vec<Arc<StoredResource>> = matching.by_ref().take(wanted).cloned().collect();
            (chunk, matching.next().is_some())
        });
        let last = chunk.last()?;
        self.cursor = Some(last.key());
        let mut out = Vec::new();
        for r in &chunk {
            element(&mut out, self.items == 0, &resource_entry(&self.app, r, self.now));
            self.items += 1;
            self.written += 1;
        }
        self.more = more && self.query.limit.is_some_and(|limit| self.written >= limit);
        Some(out)
    }

    fn next_chunk(&mut self) -> Option<Vec<u8>> {
        match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Head => {
                let clock = json!({ "mode": self.app.clock.mode(), "now": crate::arm::timestamp(self.now), "speed": self.app.clock.speed() });
                self.phase = Phase::Resources;
                Some(format!("{{\"clock\":{clock},\"resources\":[").into_bytes())
            }
            Phase::Resources => match self.resources_chunk() {
                Some(chunk) => {
                    self.phase = Phase::Resources;
                    Some(chunk)
                }
                None if self.lists_operations() => {
                    let mut operations: Vec<Arc<OperationRecord>> =
                        self.app.store.read(|s| s.operations().cloned().collect());
                    operations.sort_by_key(|o| o.start_time);
                    self.items = 0;
                    self.phase = Phase::Operations(operations.into_iter());
                    Some(b"],\"operations\":[".to_vec())
                }
                None => {
                    self.phase = Phase::Tail;
                    Some(b"]".to_vec())
                }
            },
            Phase::Operations(mut rest) => {
                let mut out = Vec::new();
                for o in rest.by_ref().take(CHUNK) {
                    let mut body = status_body(&o);
                    body["kind"] = json!(o.kind);
                    // Compute's status body does not name its resource; the dump always does.
                    if body.get("resourceId").is_none() {
                        body["resourceId"] = json!(o.resource_id);
                    }
                    element(&mut out, self.items == 0, &body);
                    self.items += 1;
                }
                if out.is_empty() {
                    self.phase = Phase::Tail;
                    Some(b"]".to_vec())
                } else {
                    self.phase = Phase::Operations(rest);
                    Some(out)
                }
            }
            Phase::Tail => {
                let mut tail = Vec::new();
                if self.more {
                    let mut link =
                        format!("{}?after={}", self.base, encode(self.cursor.as_deref().unwrap_or_default()));
                    if let Some(t) = &self.query.type_key {
                        link.push_str(&format!("&type={}", encode(t)));
                    }
                    if let Some(limit) = self.query.limit {
                        link.push_str(&format!("&limit={limit}"));
                    }
                    tail.extend_from_slice(b",\"nextLink\":");
                    serde_json::to_writer(&mut tail, &link).expect("a string serializes");
                }
                tail.push(b'}');
                Some(tail)
            }
            Phase::Done => None,
        }
    }
}

fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Every resource (its current document and the emulator's state for it) and operation.
pub fn state(app: &Arc<App>, parts: &Parts) -> Response {
    let query = match parse(parts) {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    let dump = Dump {
        app: app.clone(),
        now: app.clock.now(),
        query,
        cursor: None,
        written: 0,
        items: 0,
        more: false,
        base: format!("{}/_azemu/state", crate::identity::origin(app.scheme, parts)),
        phase: Phase::Head,
    };
    let chunks = futures_util::stream::unfold(dump, |mut dump| async move {
        let chunk = dump.next_chunk()?;
        Some((Ok::<_, std::convert::Infallible>(Bytes::from(chunk)), dump))
    });
    let mut response = (StatusCode::OK, Body::from_stream(chunks)).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    response
}

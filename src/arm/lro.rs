//! Long-running operations: records, the headers that point at them, and the
//! operation-status / operation-result endpoints.

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::envelope::timestamp;
use super::respond::{json_bytes, json_response, no_content};
use super::ArmError;
use crate::store::{interned, OperationKind, OperationRecord, OperationStatus, OperationUrls};

pub const RETRY_AFTER_SECONDS: &str = "1";

pub struct NewOperation<'a> {
    pub kind: OperationKind,
    pub resource_id: &'a str,
    pub subscription: &'a str,
    pub namespace: &'a str,
    pub location: &'a str,
    pub api_version: &'a str,
    pub urls: OperationUrls,
    pub now: DateTime<Utc>,
}

pub fn new_operation(new: NewOperation) -> OperationRecord {
    OperationRecord {
        oid: 0,
        id: uuid::Uuid::new_v4().to_string().into(),
        kind: new.kind,
        status: OperationStatus::InProgress,
        resource_id: new.resource_id.to_string(),
        subscription: interned(new.subscription),
        namespace: interned(new.namespace),
        location: interned(new.location),
        api_version: interned(new.api_version),
        urls: new.urls,
        start_time: new.now,
        end_time: None,
        error: None,
        result: None,
        planned_failure: None,
        due: None,
        seq: 0,
    }
}

/// What a path segment may not carry raw (a location written before locations were
/// normalized may hold a space, which clients refuse to follow).
const SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::CONTROLS.add(b' ').add(b'"').add(b'#').add(b'%').add(b'/').add(b'?').add(b'<').add(b'>');

fn segment(text: &str) -> percent_encoding::PercentEncode<'_> {
    percent_encoding::utf8_percent_encode(text, SEGMENT)
}

/// The operation's path under the subscription, for its status (`result: false`) or its result.
fn path(op: &OperationRecord, result: bool) -> String {
    let collection = match (op.urls, result) {
        (OperationUrls::Arm, false) => "operationStatuses",
        (OperationUrls::Arm, true) => "operationResults",
        (OperationUrls::Compute, _) => "operations",
    };
    format!(
        "/subscriptions/{}/providers/{}/locations/{}/{collection}/{}",
        segment(&op.subscription),
        op.namespace,
        segment(&op.location),
        op.id
    )
}

pub fn status_url(base: &str, op: &OperationRecord) -> String {
    format!("{base}{}?api-version={}", path(op, false), op.api_version)
}

/// Compute tells its result URL from its status URL by `monitor=true`.
pub fn result_url(base: &str, op: &OperationRecord) -> String {
    let monitor = if op.urls == OperationUrls::Compute { "monitor=true&" } else { "" };
    format!("{base}{}?{monitor}api-version={}", path(op, true), op.api_version)
}

fn header(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Adds `Azure-AsyncOperation` and/or `Location`, with `Retry-After`.
pub fn add_headers(headers: &mut HeaderMap, base: &str, op: &OperationRecord, async_op: bool, location: bool) {
    if async_op {
        headers.insert("azure-asyncoperation", header(&status_url(base, op)));
    }
    if location {
        headers.insert("location", header(&result_url(base, op)));
    }
    headers.insert("retry-after", HeaderValue::from_static(RETRY_AFTER_SECONDS));
}

/// The body of an `Azure-AsyncOperation` URL (Compute's carries no id, resource or percentage).
pub fn status_body(op: &OperationRecord) -> Value {
    let mut body = match op.urls {
        OperationUrls::Arm => json!({
            "id": path(op, false),
            "name": op.id,
            "resourceId": op.resource_id,
            "status": op.status.as_str(),
            "startTime": timestamp(op.start_time),
        }),
        OperationUrls::Compute => json!({
            "startTime": timestamp(op.start_time),
            "status": op.status.as_str(),
            "name": op.id,
        }),
    };
    if let Some(end) = op.end_time {
        body["endTime"] = json!(timestamp(end));
    }
    if op.status == OperationStatus::Succeeded && op.urls == OperationUrls::Arm {
        body["percentComplete"] = json!(100.0);
    }
    if let Some(err) = &op.error {
        body["error"] = json!({ "code": err.code, "message": err.message });
        if !err.details.is_empty() {
            body["error"]["details"] = json!(err.details);
        }
    }
    body
}

/// The answer of an `Azure-AsyncOperation` URL, with its body (see [`status_body`]).
pub fn status_response(op: &OperationRecord, body: Bytes) -> Response {
    let mut response = json_bytes(StatusCode::OK, body);
    if !op.status.is_terminal() {
        response.headers_mut().insert("retry-after", HeaderValue::from_static(RETRY_AFTER_SECONDS));
    }
    response
}

/// A `Location` URL: 202 while running, then 200 with what the operation's final response
/// carries (a resource, an action's result), or empty: Compute and Resources answer a finished
/// operation with 200, and the JavaScript SDK's poller refuses a 204 there.
pub fn result_response(base: &str, op: &OperationRecord, resource: Option<Bytes>) -> Response {
    match op.status {
        OperationStatus::InProgress => {
            let mut response = no_content(StatusCode::ACCEPTED);
            add_headers(response.headers_mut(), base, op, false, true);
            response
        }
        OperationStatus::Succeeded => match (op.kind, &op.result, resource) {
            (OperationKind::Action, Some(result), _) => json_response(StatusCode::OK, result),
            (OperationKind::Put, _, Some(doc)) => json_bytes(StatusCode::OK, doc),
            _ => no_content(StatusCode::OK),
        },
        OperationStatus::Failed | OperationStatus::Canceled => {
            let (status, code, message) = match &op.error {
                Some(e) => (
                    StatusCode::from_u16(e.http_status).unwrap_or(StatusCode::BAD_REQUEST),
                    e.code.as_str(),
                    e.message.clone(),
                ),
                None => (StatusCode::BAD_REQUEST, "OperationCanceled", "The operation was canceled.".to_string()),
            };
            ArmError::new(status, code, message).into_axum()
        }
    }
}

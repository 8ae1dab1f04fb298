//! Small response builders shared by the ARM layer.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// A body that is already JSON.
pub fn json_bytes(status: StatusCode, body: Bytes) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    response
}

pub fn json_response(status: StatusCode, body: &Value) -> Response {
    json_bytes(status, Bytes::from(serde_json::to_vec(body).unwrap_or_default()))
}

pub fn json_with_etag(status: StatusCode, body: Bytes, etag: &str) -> Response {
    let mut response = json_bytes(status, body);
    if let Ok(v) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

pub fn no_content(status: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

impl super::ArmError {
    pub fn into_axum(self) -> Response {
        self.into_response()
    }
}

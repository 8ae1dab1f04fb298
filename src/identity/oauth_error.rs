//! OAuth 2.0 errors as Entra ID writes them: `{error, error_description, error_codes,
//! timestamp, trace_id, correlation_id}`, the description led by its `AADSTS` code.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, Clone, PartialEq)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub code: u32,
    pub description: String,
}

impl OAuthError {
    pub fn new(status: StatusCode, error: &'static str, code: u32, description: impl Into<String>) -> OAuthError {
        OAuthError { status, error, code, description: description.into() }
    }

    pub fn invalid_request(code: u32, description: impl Into<String>) -> OAuthError {
        OAuthError::new(StatusCode::BAD_REQUEST, "invalid_request", code, description)
    }

    pub fn missing(parameter: &str) -> OAuthError {
        OAuthError::invalid_request(
            900144,
            format!("The request body must contain the following parameter: '{parameter}'."),
        )
    }

    /// A client that could not be authenticated: 401, as Entra ID answers it.
    pub fn invalid_client(code: u32, description: impl Into<String>) -> OAuthError {
        OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_client", code, description)
    }

    pub fn invalid_scope(code: u32, description: impl Into<String>) -> OAuthError {
        OAuthError::new(StatusCode::BAD_REQUEST, "invalid_scope", code, description)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let trace = uuid::Uuid::new_v4().to_string();
        let correlation = uuid::Uuid::new_v4().to_string();
        let now = chrono::Utc::now().format("%Y-%m-%d %H:%M:%SZ");
        let body = json!({
            "error": self.error,
            "error_description": format!(
                "AADSTS{}: {} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {now}",
                self.code, self.description
            ),
            "error_codes": [self.code],
            "timestamp": now.to_string(),
            "trace_id": trace,
            "correlation_id": correlation,
        });
        let mut response = (self.status, axum::Json(body)).into_response();
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store, no-cache"));
        response
    }
}

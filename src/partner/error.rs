//! The partner API's errors: `{"error": {"code", "message"}}` with the page's status codes.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::arm::ArmError;

pub const API_VERSION: &str = "2017-10-31";

#[derive(Debug, Clone)]
pub struct PartnerError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
}

impl PartnerError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> PartnerError {
        PartnerError { status, code: code.into(), message: message.into() }
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> PartnerError {
        PartnerError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(what: &str, id: &str) -> PartnerError {
        PartnerError::new(StatusCode::NOT_FOUND, "NotFound", format!("The {what} '{id}' was not found."))
    }

    pub fn api_version(given: Option<&str>) -> PartnerError {
        let given = given.map_or_else(|| "none was given".to_string(), |v| format!("'{v}' was given"));
        PartnerError::bad_request(
            "InvalidAPIVersion",
            format!("Invalid API version ({given}). Allowed values are [{API_VERSION}]"),
        )
    }
}

impl From<crate::store::StoreError> for PartnerError {
    fn from(e: crate::store::StoreError) -> PartnerError {
        ArmError::from(e).into()
    }
}

/// Authentication answers in the partner API's shape.
impl From<ArmError> for PartnerError {
    fn from(e: ArmError) -> PartnerError {
        PartnerError { status: e.status, code: e.detail.code, message: e.detail.message }
    }
}

impl IntoResponse for PartnerError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code, "message": self.message } });
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            let seconds = crate::arm::error::UNAVAILABLE_RETRY_AFTER_SECONDS;
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        }
        response
    }
}

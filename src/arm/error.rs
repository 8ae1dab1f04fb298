//! The ARM error envelope: `{"error":{"code","message","target"?,"details"?}}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::store::StoreError;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<ErrorDetail>,
}

#[derive(Debug, Clone)]
pub struct ArmError {
    pub status: StatusCode,
    pub detail: ErrorDetail,
}

impl ArmError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ArmError {
        ArmError {
            status,
            detail: ErrorDetail { code: code.to_string(), message: message.into(), target: None, details: Vec::new() },
        }
    }

    pub fn with_target(mut self, target: impl Into<String>) -> ArmError {
        self.detail.target = Some(target.into());
        self
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> ArmError {
        ArmError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn invalid_content(message: impl Into<String>) -> ArmError {
        ArmError::bad_request("InvalidRequestContent", message)
    }

    pub fn invalid_parameter(target: &str, message: impl Into<String>) -> ArmError {
        ArmError::bad_request("InvalidParameter", message).with_target(target)
    }

    pub fn not_found(code: &str, message: impl Into<String>) -> ArmError {
        ArmError::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn resource_not_found(type_name: &str, name: &str, rg: Option<&str>) -> ArmError {
        let place = rg.map(|g| format!(" under resource group '{g}'")).unwrap_or_default();
        ArmError::not_found("ResourceNotFound", format!("The Resource '{type_name}/{name}'{place} was not found."))
    }

    pub fn resource_group_not_found(group: &str) -> ArmError {
        ArmError::not_found("ResourceGroupNotFound", format!("Resource group '{group}' could not be found."))
    }

    pub fn conflict(code: &str, message: impl Into<String>) -> ArmError {
        ArmError::new(StatusCode::CONFLICT, code, message)
    }

    pub fn precondition_failed(message: impl Into<String>) -> ArmError {
        ArmError::new(StatusCode::PRECONDITION_FAILED, "PreconditionFailed", message)
    }

    pub fn unauthorized(code: &str, message: impl Into<String>) -> ArmError {
        ArmError::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn forbidden(code: &str, message: impl Into<String>) -> ArmError {
        ArmError::new(StatusCode::FORBIDDEN, code, message)
    }

    pub fn method_not_allowed(method: &str, path: &str) -> ArmError {
        ArmError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("The HTTP method '{method}' is not supported at '{path}'."),
        )
    }

    pub fn code(&self) -> &str {
        &self.detail.code
    }

    /// The envelope as JSON (`{"error": …}`), for an answer that carries it as its body.
    pub fn envelope(&self) -> serde_json::Value {
        serde_json::to_value(Envelope { error: &self.detail }).unwrap_or_default()
    }
}

impl From<StoreError> for ArmError {
    fn from(e: StoreError) -> ArmError {
        match e {
            StoreError::Unavailable(reason) => ArmError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                format!(
                    "azemu cannot write its store ({reason}). The request changed nothing; retry once the disk takes writes again."
                ),
            ),
            StoreError::Unreadable(reason) => ArmError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                format!("azemu cannot read its store ({reason}). The request changed nothing; retry once the database answers."),
            ),
            StoreError::Failed(_) => ArmError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError", e.to_string()),
        }
    }
}

/// How long a client is asked to wait before retrying a 503 azemu answers itself.
pub const UNAVAILABLE_RETRY_AFTER_SECONDS: u32 = 5;

#[derive(Serialize)]
struct Envelope<'a> {
    error: &'a ErrorDetail,
}

impl IntoResponse for ArmError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&Envelope { error: &self.detail }).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(UNAVAILABLE_RETRY_AFTER_SECONDS));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"azemu\", error=\"invalid_token\""),
            );
        }
        response
    }
}

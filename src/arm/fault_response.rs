//! How fault rules show through ARM: an injected error in ARM's envelope with the headers ARM
//! sends with it, and the marker that makes the server close the connection unanswered.

use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::ArmError;
use crate::faults::InjectedError;
use crate::store::OperationError;

/// Put in a response's extensions: the server closes the connection instead of answering.
#[derive(Debug, Clone, Copy)]
pub struct DropConnection;

pub fn dropped() -> Response {
    let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
    response.extensions_mut().insert(DropConnection);
    response
}

/// The answer to a request an `error` rule caught. A throttled request carries `Retry-After`
/// and ARM's remaining-quota header for its kind (reads or writes), at zero.
pub(super) fn injected(error: &InjectedError, method: &Method) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = ArmError::new(status, &error.code, error.message.clone()).into_response();
    let headers = response.headers_mut();
    if let Some(seconds) = error.retry_after {
        headers.insert("retry-after", HeaderValue::from(seconds));
    }
    if error.status == 429 {
        let remaining = if matches!(*method, Method::GET | Method::HEAD) {
            "x-ms-ratelimit-remaining-subscription-reads"
        } else {
            "x-ms-ratelimit-remaining-subscription-writes"
        };
        headers.insert(remaining, HeaderValue::from_static("0"));
    }
    response
}

/// An injected failure as a long-running operation keeps it.
pub fn operation_error(error: InjectedError) -> OperationError {
    OperationError { code: error.code, message: error.message, http_status: error.status, details: Vec::new() }
}

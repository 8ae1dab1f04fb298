//! Headers every response carries: request and correlation ids, and the emulator's identity.

use axum::http::header::SERVER;
use axum::http::{HeaderMap, HeaderName, HeaderValue};

pub const IDENTITY: &str = concat!("azemu/", env!("CARGO_PKG_VERSION"));

// Parsed once rather than on every response.
const CORRELATION_ID: HeaderName = HeaderName::from_static("x-ms-correlation-request-id");
const CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("x-ms-client-request-id");
const REQUEST_ID: HeaderName = HeaderName::from_static("x-ms-request-id");

/// What the response echoes from the request.
pub struct Echo {
    correlation: Option<HeaderValue>,
    client_request_id: Option<HeaderValue>,
}

impl Echo {
    pub fn from_request(headers: &HeaderMap) -> Echo {
        let client_request_id = headers.get(&CLIENT_REQUEST_ID).cloned();
        let correlation = headers.get(&CORRELATION_ID).cloned().or_else(|| client_request_id.clone());
        Echo { correlation, client_request_id }
    }

    /// Adds the headers; answers the correlation id.
    pub fn apply(self, headers: &mut HeaderMap) -> HeaderValue {
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let id = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut text);
        let request_id = HeaderValue::from_str(id).unwrap_or(HeaderValue::from_static(""));
        let correlation = self.correlation.unwrap_or_else(|| request_id.clone());
        headers.insert(CORRELATION_ID, correlation.clone());
        if let Some(id) = self.client_request_id {
            headers.insert(CLIENT_REQUEST_ID, id);
        }
        headers.insert(REQUEST_ID, request_id);
        headers.insert(SERVER, HeaderValue::from_static(IDENTITY));
        correlation
    }
}

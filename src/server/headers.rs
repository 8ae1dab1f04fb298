//! Headers every response carries: request and correlation ids, and the emulator's identity.

use axum::http::{HeaderMap, HeaderValue};

pub const IDENTITY: &str = concat!("azemu/", env!("CARGO_PKG_VERSION"));

/// What the response echoes from the request.
pub struct Echo {
    correlation: Option<HeaderValue>,
    client_request_id: Option<HeaderValue>,
}

impl Echo {
    pub fn from_request(headers: &HeaderMap) -> Echo {
        let client_request_id = headers.get("x-ms-client-request-id").cloned();
        let correlation = headers.get("x-ms-correlation-request-id").cloned().or_else(|| client_request_id.clone());
        Echo { correlation, client_request_id }
    }

    /// Adds the headers; answers the correlation id.
    pub fn apply(self, headers: &mut HeaderMap) -> String {
        let request_id =
            HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()).unwrap_or(HeaderValue::from_static(""));
        let correlation = self.correlation.unwrap_or_else(|| request_id.clone());
        let answer = correlation.to_str().unwrap_or_default().to_string();
        headers.insert("x-ms-correlation-request-id", correlation);
        if let Some(id) = self.client_request_id {
            headers.insert("x-ms-client-request-id", id);
        }
        headers.insert("x-ms-request-id", request_id);
        headers.insert("server", HeaderValue::from_static(IDENTITY));
        answer
    }
}

//! What the ARM layer reads from every request: query, base URL, caller, body.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, Method, StatusCode};
use serde_json::Value;

use super::{ArmError, ArmPath, Caller};

/// ARM refuses request bodies over 4 MiB.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

pub struct ArmRequest {
    pub method: Method,
    pub path: ArmPath,
    pub raw_path: String,
    pub query: Vec<(String, String)>,
    /// `https` or `http`: with the Host header, the base of the URLs handed out.
    pub scheme: &'static str,
    /// The URI's authority, for requests without a Host header (HTTP/2).
    pub authority: Option<String>,
    pub caller: Caller,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl ArmRequest {
    /// `scheme://host[:port]` as the caller reached us; only built when a URL is handed out.
    pub fn base(&self) -> String {
        base_url(self.scheme, &self.headers, self.authority.as_deref())
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn api_version(&self) -> Option<&str> {
        self.query("api-version")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as a JSON object; `Ok(None)` when there is none.
    pub fn json_body(&self) -> Result<Option<Value>, ArmError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        let value: Value = serde_json::from_slice(&self.body).map_err(|e| {
            ArmError::invalid_content(format!("The request content was invalid and could not be deserialized: {e}."))
        })?;
        if !value.is_object() {
            return Err(ArmError::invalid_content("The request content must be a JSON object."));
        }
        Ok(Some(value))
    }

    pub fn required_json_body(&self) -> Result<Value, ArmError> {
        self.json_body()?
            .ok_or_else(|| ArmError::invalid_content("The request content was empty; a JSON object is required."))
    }
}

pub fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    query.map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default()
}

pub fn base_url(scheme: &str, headers: &HeaderMap, authority: Option<&str>) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).or(authority).unwrap_or("localhost");
    format!("{scheme}://{host}")
}

fn too_large() -> ArmError {
    ArmError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "RequestEntityTooLarge",
        format!("The request content exceeds the maximum size of {MAX_BODY_BYTES} bytes."),
    )
}

pub async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, ArmError> {
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| too_large())
}

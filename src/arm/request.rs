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
    pub query: Query,
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

    /// The path as the request sent it.
    pub fn raw_path(&self) -> &str {
        self.path.raw()
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.get(name)
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
        let value: Value = match serde_json::from_slice(&self.body) {
            Ok(value) => value,
            // ARM reads JSON as leniently as its parser does: comments, unquoted names, trailing
            // commas (the Azure CLI sends a template file's text as it is, under `template:`).
            Err(e) => lenient_json(&self.body).ok_or_else(|| {
                ArmError::invalid_content(format!(
                    "The request content was invalid and could not be deserialized: {e}."
                ))
            })?,
        };
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

/// A request's query parameters. Most queries have nothing to decode (`api-version=…`): those
/// are kept as they came and read in place.
#[derive(Debug, Clone)]
pub enum Query {
    Plain(String),
    Decoded(Vec<(String, String)>),
}

impl Query {
    pub fn parse(query: Option<&str>) -> Query {
        match query {
            Some(q) if q.contains(['%', '+']) => Query::Decoded(parse_query(Some(q))),
            Some(q) => Query::Plain(q.to_string()),
            None => Query::Plain(String::new()),
        }
    }

    /// The query as sent, when it is one `api-version` parameter and nothing else.
    pub fn only_api_version(&self) -> Option<&str> {
        match self {
            Query::Plain(raw)
                if !raw.contains('&') && raw.len() > 12 && raw[..12].eq_ignore_ascii_case("api-version=") =>
            {
                Some(raw)
            }
            _ => None,
        }
    }

    /// The first value of parameter `name` (in any casing), as form decoding reads it.
    pub fn get(&self, name: &str) -> Option<&str> {
        match self {
            Query::Plain(raw) => raw
                .split('&')
                .filter(|pair| !pair.is_empty())
                .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v),
            Query::Decoded(pairs) => pairs.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()),
        }
    }
}

/// JSON with what ARM's parser also takes: comments, unquoted property names, single quotes,
/// trailing commas.
fn lenient_json(body: &[u8]) -> Option<Value> {
    json5::from_str(std::str::from_utf8(body).ok()?).ok()
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

pub async fn read_body<B>(headers: &HeaderMap, body: B, timeout: std::time::Duration) -> Result<Bytes, ArmError>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    // A GET has nothing to read: no body to box and collect.
    if body.is_end_stream() {
        return Ok(Bytes::new());
    }
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(too_large());
    }
    match tokio::time::timeout(timeout, axum::body::to_bytes(Body::new(body), MAX_BODY_BYTES)).await {
        Ok(read) => read.map_err(|_| too_large()),
        Err(_) => Err(ArmError::new(
            StatusCode::REQUEST_TIMEOUT,
            "RequestTimeout",
            format!("The request body did not arrive within {} seconds.", timeout.as_secs()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_read_as_leniently_as_arm_reads_them() {
        let body = br#"{"properties": {"mode": "Incremental"}, template:{
            // a comment
            "resources": [ /* none */ ], 'contentVersion': '1.0.0.0',
        }}"#;
        let value = lenient_json(body).unwrap();
        assert_eq!(value["template"]["contentVersion"], "1.0.0.0");
        assert_eq!(value["properties"]["mode"], "Incremental");
        assert!(lenient_json(b"{not json").is_none());
    }

    #[test]
    fn a_query_reads_the_same_with_or_without_escapes() {
        for raw in ["api-version=2024-07-01&$top=5&flag&=x", "api-version=2024-07-01&$top=%35&flag&=x"] {
            let query = Query::parse(Some(raw));
            assert_eq!(query.get("API-Version"), Some("2024-07-01"), "{raw}");
            assert_eq!(query.get("$top"), Some("5"), "{raw}");
            assert_eq!(query.get("flag"), Some(""), "{raw}");
            assert_eq!(query.get("missing"), None, "{raw}");
        }
        assert_eq!(Query::parse(Some("$filter=a+eq+%27b%27")).get("$filter"), Some("a eq 'b'"));
        assert_eq!(Query::parse(None).get("api-version"), None);
    }
}

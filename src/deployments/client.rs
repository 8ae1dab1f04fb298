//! How the orchestrator writes a resource: as a client does, through the same entry a client's
//! request takes (authorization, validation, fault rules, the provider, the journal), on the
//! deployment's caller's behalf, then following the answer's long-running operation to its end.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::response::Response;
use futures_util::future::BoxFuture;
use serde_json::{json, Value};

use crate::identity::{OnBehalfOf, Principal};

/// The entry every ARM request goes through (`crate::server::serve_request`).
pub type Entry = Arc<dyn Fn(Request<Body>) -> BoxFuture<'static, Response> + Send + Sync>;

/// How long to wait between polls: short at first (most operations of the emulator end
/// quickly), then longer, never beyond what the service's `Retry-After` asks.
const FIRST_POLL: Duration = Duration::from_millis(20);
const LONGEST_POLL: Duration = Duration::from_millis(500);

/// How one resource's deployment ended.
#[derive(Debug)]
pub struct Outcome {
    /// The status of the resource's answer (the PUT's, or the failed operation's).
    pub status: u16,
    /// The resource's own ARM error, when it failed.
    pub error: Option<Value>,
}

pub struct Client {
    pub entry: Entry,
    pub principal: Principal,
    pub correlation_id: String,
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

/// The path and query of a URL the service handed out (`https://host/path?query`).
fn path_of(url: &str) -> &str {
    match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |at| &rest[at..]),
        None => url,
    }
}

fn error_of(body: &Value, status: StatusCode) -> Value {
    match body.get("error") {
        Some(error) if error.is_object() => error.clone(),
        _ => {
            json!({ "code": status.canonical_reason().unwrap_or("Failed").replace(' ', ""), "message": format!("The request failed with status {}.", status.as_u16()) })
        }
    }
}

impl Client {
    async fn send(&self, method: Method, path_and_query: &str, body: Option<&Value>) -> Answer {
        let bytes = body.map(|b| serde_json::to_vec(b).unwrap_or_default()).unwrap_or_default();
        let mut request = Request::builder()
            .method(method)
            .uri(path_and_query)
            .header("host", "localhost")
            .header("content-type", "application/json")
            .header("x-ms-correlation-request-id", &self.correlation_id)
            .header("user-agent", "azemu-deployments")
            .body(Body::from(bytes))
            .unwrap_or_default();
        request.extensions_mut().insert(OnBehalfOf(self.principal.clone()));
        let response = (self.entry)(request).await;
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer { status: parts.status, headers: parts.headers, body }
    }

    /// PUTs `body` at `id` and waits for the resource to be provisioned.
    pub async fn put(&self, id: &str, api_version: &str, body: &Value) -> Outcome {
        let path = format!("{id}?api-version={api_version}");
        let answer = self.send(Method::PUT, &path, Some(body)).await;
        self.settled(answer, &path).await
    }

    /// GETs `id`: an `existing` resource must be there.
    pub async fn read(&self, id: &str, api_version: &str) -> Outcome {
        let answer = self.send(Method::GET, &format!("{id}?api-version={api_version}"), None).await;
        let error = (answer.status.as_u16() >= 400).then(|| error_of(&answer.body, answer.status));
        Outcome { status: answer.status.as_u16(), error }
    }

    /// DELETEs `id` and waits for it to be gone.
    pub async fn delete(&self, id: &str, api_version: &str) -> Outcome {
        let path = format!("{id}?api-version={api_version}");
        let answer = self.send(Method::DELETE, &path, None).await;
        self.settled(answer, &path).await
    }

    /// Follows an answer to its end: its `Azure-AsyncOperation`, else its `Location`, else the
    /// resource's own provisioning state.
    async fn settled(&self, first: Answer, path: &str) -> Outcome {
        let status = first.status;
        if status.as_u16() >= 400 {
            return Outcome { status: status.as_u16(), error: Some(error_of(&first.body, status)) };
        }
        let header = |name: &str| first.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let mut wait = FIRST_POLL;
        if let Some(url) = header("azure-asyncoperation") {
            loop {
                let poll = self.send(Method::GET, path_of(&url), None).await;
                match poll.body.get("status").and_then(Value::as_str) {
                    Some("Succeeded") => return Outcome { status: status.as_u16(), error: None },
                    Some("Failed" | "Canceled") => {
                        return Outcome {
                            status: status.as_u16(),
                            error: Some(error_of(&poll.body, StatusCode::BAD_REQUEST)),
                        }
                    }
                    _ if poll.status.as_u16() >= 400 => {
                        return Outcome { status: poll.status.as_u16(), error: Some(error_of(&poll.body, poll.status)) }
                    }
                    _ => wait = pause(wait, &poll.headers).await,
                }
            }
        }
        if let (StatusCode::ACCEPTED, Some(url)) = (status, header("location")) {
            loop {
                let poll = self.send(Method::GET, path_of(&url), None).await;
                match poll.status {
                    StatusCode::ACCEPTED => wait = pause(wait, &poll.headers).await,
                    s if s.as_u16() >= 400 => {
                        return Outcome { status: s.as_u16(), error: Some(error_of(&poll.body, s)) }
                    }
                    _ => return Outcome { status: status.as_u16(), error: None },
                }
            }
        }
        let mut body = first.body;
        loop {
            match body.pointer("/properties/provisioningState").and_then(Value::as_str) {
                None | Some("Succeeded") => return Outcome { status: status.as_u16(), error: None },
                Some(state @ ("Failed" | "Canceled")) => {
                    let error = json!({ "code": format!("Provisioning{state}"), "message": format!("The resource's provisioning state is '{state}'.") });
                    return Outcome { status: status.as_u16(), error: Some(error) };
                }
                Some(_) => {
                    wait = pause(wait, &axum::http::HeaderMap::new()).await;
                    let poll = self.send(Method::GET, path, None).await;
                    if poll.status.as_u16() >= 400 {
                        return Outcome {
                            status: poll.status.as_u16(),
                            error: Some(error_of(&poll.body, poll.status)),
                        };
                    }
                    body = poll.body;
                }
            }
        }
    }
}

/// Sleeps `wait` (no longer than the answer's `Retry-After`), and says how long the next wait is.
async fn pause(wait: Duration, headers: &axum::http::HeaderMap) -> Duration {
    let asked = headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_secs);
    let wait = asked.map_or(wait, |asked| wait.min(asked));
    tokio::time::sleep(wait).await;
    (wait * 2).min(LONGEST_POLL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_followed_by_their_path() {
        assert_eq!(
            path_of("https://localhost:8443/subscriptions/s/x?api-version=1"),
            "/subscriptions/s/x?api-version=1"
        );
        assert_eq!(path_of("http://h/"), "/");
        assert_eq!(path_of("/already/a/path"), "/already/a/path");
    }
}

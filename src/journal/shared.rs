//! Requests as the nodes of a shared store pass them to each other, so that each node's journal
//! holds the requests every node served.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{EventBody, RequestEvent};

#[derive(Serialize)]
struct Outgoing<'a> {
    time: DateTime<Utc>,
    #[serde(flatten)]
    request: &'a RequestEvent,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Incoming {
    time: DateTime<Utc>,
    method: String,
    path: String,
    operation: Option<String>,
    status: u16,
    caller: Option<String>,
    correlation_id: Option<String>,
    duration_ms: f64,
    node: Option<String>,
}

/// A request this node served, as it shares it.
pub fn to_shared(time: DateTime<Utc>, request: &RequestEvent) -> String {
    serde_json::to_string(&Outgoing { time, request }).unwrap_or_default()
}

/// The requests of a batch another node shared (a JSON array of [`to_shared`]'s); a batch that
/// does not read is skipped.
pub fn shared_requests(batch: &str) -> Vec<(DateTime<Utc>, EventBody)> {
    let incoming: Vec<Incoming> = match serde_json::from_str(batch) {
        Ok(incoming) => incoming,
        Err(e) => {
            tracing::warn!(error = %e, "requests another node shared do not read: left out of the journal");
            return Vec::new();
        }
    };
    incoming
        .into_iter()
        .map(|r| {
            let request = RequestEvent {
                method: Cow::Owned(r.method),
                path: r.path.into(),
                operation: r.operation.map(Cow::Owned),
                status: r.status,
                caller: r.caller.map(Arc::from),
                correlation_id: r.correlation_id.and_then(|c| c.parse().ok()),
                duration_ms: r.duration_ms,
                node: r.node.map(Arc::from),
            };
            (r.time, EventBody::Request(request))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_request_reads_back_as_it_was() {
        let time = DateTime::parse_from_rfc3339("2026-12-07T10:00:00.25Z").unwrap().with_timezone(&Utc);
        let request = RequestEvent {
            method: "PUT".into(),
            path: "/subscriptions/s/resourcegroups/g".into(),
            operation: Some("ResourceGroups_CreateOrUpdate".into()),
            status: 201,
            caller: Some(Arc::from("ci-app")),
            correlation_id: Some("c0ffee".parse().unwrap()),
            duration_ms: 1.5,
            node: Some(Arc::from("node-2")),
        };
        let batch = format!("[{},{}]", to_shared(time, &request), to_shared(time, &request));
        let read = shared_requests(&batch);
        assert_eq!(read.len(), 2);
        let (at, EventBody::Request(back)) = &read[1] else { panic!("a request") };
        assert_eq!(*at, time);
        assert_eq!(serde_json::to_value(back).unwrap(), serde_json::to_value(&request).unwrap());
        assert!(shared_requests("[{\"time\": 1}]").is_empty());
    }
}

//! Requests as the nodes of a shared store pass them to each other, so that each node's journal
//! holds the requests every node served.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{EventBody, RequestEvent};

/// One request, as a tuple: time (microseconds since the epoch), method, path, operation,
/// status, caller, correlation id, duration (ms), node. Tuples keep the batches small and quick
/// to read.
type Shared<'a> = (
    i64,
    Cow<'a, str>,
    Cow<'a, str>,
    Option<Cow<'a, str>>,
    u16,
    Option<Cow<'a, str>>,
    Option<Cow<'a, str>>,
    f64,
    Option<Cow<'a, str>>,
);

/// A request this node served, as it shares it.
pub fn to_shared(time: DateTime<Utc>, r: &RequestEvent) -> String {
    let shared: Shared = (
        time.timestamp_micros(),
        Cow::Borrowed(&*r.method),
        Cow::Borrowed(&*r.path),
        r.operation.as_deref().map(Cow::Borrowed),
        r.status,
        r.caller.as_deref().map(Cow::Borrowed),
        r.correlation_id.as_ref().and_then(|c| c.to_str().ok()).map(Cow::Borrowed),
        r.duration_ms,
        r.node.as_deref().map(Cow::Borrowed),
    );
    serde_json::to_string(&shared).unwrap_or_default()
}

/// The requests of a batch another node shared (a JSON array of [`to_shared`]'s); a batch that
/// does not read is skipped.
pub fn shared_requests(batch: &str) -> Vec<(DateTime<Utc>, EventBody)> {
    let incoming: Vec<Shared> = match serde_json::from_str(batch) {
        Ok(incoming) => incoming,
        Err(e) => {
            tracing::warn!(error = %e, "requests another node shared do not read: left out of the journal");
            return Vec::new();
        }
    };
    incoming
        .into_iter()
        .filter_map(|(time, method, path, operation, status, caller, correlation_id, duration_ms, node)| {
            let request = RequestEvent {
                method: Cow::Owned(method.into_owned()),
                path: path.into(),
                operation: operation.map(|o| Cow::Owned(o.into_owned())),
                status,
                caller: caller.map(|c| Arc::from(&*c)),
                correlation_id: correlation_id.and_then(|c| c.parse().ok()),
                duration_ms,
                node: node.map(|n| Arc::from(&*n)),
            };
            Some((DateTime::from_timestamp_micros(time)?, EventBody::Request(request)))
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
        assert!(shared_requests("[[1, \"GET\"]]").is_empty());
    }
}

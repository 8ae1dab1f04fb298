//! The event journal: every request and every change of a tracked property, numbered, in a
//! bounded ring. Readers page through it by sequence number or follow it live.

mod changes;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use smallvec::SmallVec;
use tokio::sync::broadcast;

pub use changes::ChangeTracker;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestEvent {
    /// Static for the standard methods: recording a request copies no method name.
    pub method: std::borrow::Cow<'static, str>,
    /// A `String`, not a `Box<str>`: the slot of the event it evicts lends it its buffer.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<&'static str>,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller: Option<std::sync::Arc<str>>,
    /// The response's header itself: recording it copies nothing.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "header_text")]
    pub correlation_id: Option<axum::http::HeaderValue>,
    pub duration_ms: f64,
}

fn header_text<S: serde::Serializer>(value: &Option<axum::http::HeaderValue>, out: S) -> Result<S::Ok, S::Error> {
    out.serialize_some(value.as_ref().and_then(|v| v.to_str().ok()).unwrap_or_default())
}

/// A request as `Journal::record_request` takes it: its path borrowed, copied only into the
/// ring's slot.
pub struct RequestRecord<'a> {
    pub method: std::borrow::Cow<'static, str>,
    pub path: &'a str,
    pub operation: Option<&'static str>,
    pub status: u16,
    pub caller: Option<Arc<str>>,
    pub correlation_id: Option<axum::http::HeaderValue>,
    pub duration_ms: f64,
}

impl RequestRecord<'_> {
    fn into_event(self) -> RequestEvent {
        RequestEvent {
            method: self.method,
            path: self.path.to_string(),
            operation: self.operation,
            status: self.status,
            caller: self.caller,
            correlation_id: self.correlation_id,
            duration_ms: self.duration_ms,
        }
    }

    /// Writes the request over `event`, reusing its path's buffer; answers what it replaced, to
    /// be let go once the ring is.
    fn write_over(self, event: &mut RequestEvent) -> Released {
        event.method = self.method;
        event.path.clear();
        event.path.push_str(self.path);
        event.operation = self.operation;
        event.status = self.status;
        event.duration_ms = self.duration_ms;
        (
            None,
            std::mem::replace(&mut event.caller, self.caller),
            std::mem::replace(&mut event.correlation_id, self.correlation_id),
        )
    }
}

/// What recording a request took out of the ring, dropped after the ring's lock is let go: an
/// evicted event's body, or the caller and correlation id a request's were written over.
type Released = (Option<EventBody>, Option<Arc<str>>, Option<axum::http::HeaderValue>);

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeEvent {
    /// Shared by all the events of one resource version.
    pub resource_id: Arc<str>,
    pub resource_type: Arc<str>,
    /// The property's path, dotted: `properties.status`; `resource` for creation and deletion.
    pub property: Arc<str>,
    pub from: Value,
    pub to: Value,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum EventBody {
    Request(RequestEvent),
    Change(ChangeEvent),
}

#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub seq: u64,
    /// Emulator time: when the request was answered, or when the change happened.
    #[serde(serialize_with = "crate::arm::envelope::serialize_timestamp")]
    pub time: DateTime<Utc>,
    #[serde(flatten)]
    pub body: EventBody,
}

impl Event {
    pub fn kind(&self) -> &'static str {
        match self.body {
            EventBody::Request(_) => "request",
            EventBody::Change(_) => "change",
        }
    }

    /// Whether the event concerns the resource ids starting with `prefix` (lower case).
    fn concerns(&self, prefix: &str) -> bool {
        let subject = match &self.body {
            EventBody::Request(r) => &*r.path,
            EventBody::Change(c) => &*c.resource_id,
        };
        subject.len() >= prefix.len() && subject.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    }
}

/// Which events a reader wants.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// A resource id prefix, compared case-insensitively (a request's path for requests).
    pub resource: Option<String>,
    /// `request` or `change`.
    pub kind: Option<String>,
    /// Only events numbered after this.
    pub since: u64,
}

impl Filter {
    pub fn accepts(&self, event: &Event) -> bool {
        event.seq > self.since
            && self.kind.as_deref().is_none_or(|k| k == event.kind())
            && self.resource.as_deref().is_none_or(|p| event.concerns(p))
    }
}

pub struct Journal {
    capacity: usize,
    ring: Mutex<VecDeque<Arc<Event>>>,
    next_seq: AtomicU64,
    live: broadcast::Sender<Arc<Event>>,
    /// Turns store commits and lifecycle plans into change events.
    pub changes: ChangeTracker,
}

impl Journal {
    /// A journal keeping the last `capacity` events; 0 keeps none and records nothing.
    pub fn new(capacity: usize, changes: ChangeTracker) -> Journal {
        let (live, _) = broadcast::channel(1024);
        Journal {
            capacity,
            ring: Mutex::new(VecDeque::with_capacity(capacity.min(65536))),
            next_seq: AtomicU64::new(1),
            live,
            changes,
        }
    }

    pub fn enabled(&self) -> bool {
        self.capacity > 0
    }

    /// Records a request. Once the ring is full, the evicted event's allocation and, when it was
    /// a request, its path's buffer are reused: a request that evicts a request is recorded
    /// without allocating (unless a follower still holds the evicted event).
    pub fn record_request(&self, time: DateTime<Utc>, request: RequestRecord<'_>) {
        if !self.enabled() {
            return;
        }
        let followed = self.live.receiver_count() > 0;
        let mut released: Released = (None, None, None);
        let mut ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        let mut oldest = (ring.len() == self.capacity).then(|| ring.pop_front()).flatten();
        let event = match oldest.as_mut().and_then(Arc::get_mut) {
            Some(slot) => {
                slot.seq = seq;
                slot.time = time;
                released = match &mut slot.body {
                    EventBody::Request(kept) => request.write_over(kept),
                    body => (Some(std::mem::replace(body, EventBody::Request(request.into_event()))), None, None),
                };
                oldest.expect("the slot came from it")
            }
            None => Arc::new(Event { seq, time, body: EventBody::Request(request.into_event()) }),
        };
        if followed {
            let _ = self.live.send(event.clone());
        }
        ring.push_back(event);
        drop(ring);
        drop(released);
    }

    /// Records events in order, under one hold of the ring.
    pub fn record_all(&self, events: impl IntoIterator<Item = (DateTime<Utc>, EventBody)>) {
        let mut events = events.into_iter().peekable();
        if !self.enabled() || events.peek().is_none() {
            return;
        }
        let followed = self.live.receiver_count() > 0;
        // Evicted bodies are freed after the lock is let go; room for them is made up front.
        let mut evicted: SmallVec<[EventBody; 1]> = SmallVec::with_capacity(events.size_hint().0);
        let mut ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        for (time, body) in events {
            // Numbered under the lock, so the ring stays in sequence order.
            let event = Event { seq: self.next_seq.fetch_add(1, Ordering::Relaxed), time, body };
            let oldest = (ring.len() == self.capacity).then(|| ring.pop_front()).flatten();
            let event = match oldest {
                // The evicted event's allocation is reused when no reader still holds it.
                Some(mut oldest) => match Arc::get_mut(&mut oldest) {
                    Some(slot) => {
                        evicted.push(std::mem::replace(slot, event).body);
                        oldest
                    }
                    None => Arc::new(event),
                },
                None => Arc::new(event),
            };
            if followed {
                let _ = self.live.send(event.clone());
            }
            ring.push_back(event);
        }
        drop(ring);
        drop(evicted);
    }

    /// The events the filter accepts that are still kept, oldest first; first brings pending
    /// lifecycle changes up to `now`.
    pub fn query(&self, filter: &Filter, now: DateTime<Utc>) -> Vec<Arc<Event>> {
        self.changes.catch_up(self, now);
        self.since(filter)
    }

    fn since(&self, filter: &Filter) -> Vec<Arc<Event>> {
        let ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        let start = ring.partition_point(|e| e.seq <= filter.since);
        ring.range(start..).filter(|e| filter.accepts(e)).cloned().collect()
    }

    /// The newest sequence number handed out (0: none yet).
    pub fn last_seq(&self) -> u64 {
        self.next_seq.load(Ordering::Relaxed) - 1
    }

    /// Follows the journal: what is kept after `filter.since`, then each new event as it is
    /// recorded. A follower that falls too far behind picks up again from the ring.
    pub fn follow(self: &Arc<Self>, filter: Filter) -> Follower {
        let receiver = self.live.subscribe();
        Follower { journal: self.clone(), receiver, backlog: VecDeque::new(), filter, started: false }
    }
}

pub struct Follower {
    journal: Arc<Journal>,
    receiver: broadcast::Receiver<Arc<Event>>,
    backlog: VecDeque<Arc<Event>>,
    filter: Filter,
    started: bool,
}

impl Follower {
    /// The next event the filter accepts; waits for it.
    pub async fn next(&mut self) -> Option<Arc<Event>> {
        loop {
            if !self.started {
                self.started = true;
                self.backlog = self.journal.since(&self.filter).into();
            }
            if let Some(event) = self.backlog.pop_front() {
                self.filter.since = event.seq;
                return Some(event);
            }
            match self.receiver.recv().await {
                Ok(event) if self.filter.accepts(&event) => {
                    self.filter.since = event.seq;
                    return Some(event);
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => self.started = false,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arm::contract::Registry;

    fn journal(capacity: usize) -> Journal {
        Journal::new(capacity, ChangeTracker::new(Arc::new(Registry::new(Vec::new()))))
    }

    fn request<'a>(path: &'a str, correlation: Option<&'static str>) -> RequestRecord<'a> {
        RequestRecord {
            method: "GET".into(),
            path,
            operation: Some("Jobs_Get"),
            status: 200,
            caller: Some(Arc::from("someone")),
            correlation_id: correlation.map(axum::http::HeaderValue::from_static),
            duration_ms: 0.5,
        }
    }

    fn change(id: &str) -> EventBody {
        EventBody::Change(ChangeEvent {
            resource_id: Arc::from(id),
            resource_type: Arc::from("t"),
            property: Arc::from("resource"),
            from: Value::Null,
            to: Value::from("created"),
        })
    }

    /// `(seq, path or id, correlation)` of what the ring keeps.
    fn kept(journal: &Journal) -> Vec<(u64, String, Option<String>)> {
        journal
            .since(&Filter::default())
            .iter()
            .map(|e| match &e.body {
                EventBody::Request(r) => {
                    let correlation = r.correlation_id.as_ref().map(|c| c.to_str().expect("text").to_string());
                    (e.seq, r.path.clone(), correlation)
                }
                EventBody::Change(c) => (e.seq, c.resource_id.to_string(), None),
            })
            .collect()
    }

    #[test]
    fn a_full_ring_writes_requests_over_the_events_it_evicts() {
        let journal = journal(2);
        let now = Utc::now();
        journal.record_all([(now, change("/a"))]);
        journal.record_request(now, request("/first/path/that/is/long", Some("c-1")));
        // Evicts the change: its slot becomes a request.
        journal.record_request(now, request("/second", None));
        let path_buffer = |seq: u64| {
            let events = journal.since(&Filter::default());
            let event = events.iter().find(|e| e.seq == seq).expect("kept");
            match &event.body {
                EventBody::Request(r) => r.path.as_ptr() as usize,
                EventBody::Change(_) => 0,
            }
        };
        let first = path_buffer(2);
        // Evicts the first request: its buffer takes a shorter path.
        journal.record_request(now, request("/third", Some("c-3")));
        assert_eq!(path_buffer(4), first, "the evicted request's path buffer is reused");
        let held = journal.since(&Filter::default());
        // A follower holds the evicted event: it keeps what it read.
        journal.record_request(now, request("/fourth", Some("c-4")));
        assert_eq!(
            kept(&journal),
            vec![
                (4, "/third".to_string(), Some("c-3".to_string())),
                (5, "/fourth".to_string(), Some("c-4".to_string()))
            ]
        );
        let EventBody::Request(second) = &held[0].body else { panic!("a request") };
        assert_eq!((held[0].seq, second.path.as_str(), second.correlation_id.is_none()), (3, "/second", true));
        let event = serde_json::to_value(&*journal.since(&Filter::default())[0]).expect("serialises");
        assert_eq!(event["kind"], "request");
        assert_eq!(event["path"], "/third");
        assert_eq!(event["correlationId"], "c-3");
        assert_eq!(event["caller"], "someone");
    }

    #[test]
    fn a_journal_of_no_events_records_none() {
        let journal = journal(0);
        journal.record_request(Utc::now(), request("/a", None));
        assert!(kept(&journal).is_empty());
        assert_eq!(journal.last_seq(), 0);
    }
}

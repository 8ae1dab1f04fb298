//! The event journal: every request and every change of a tracked property, numbered, in a
//! bounded ring. Readers page through it by sequence number or follow it live.

mod changes;
mod shared;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use smallvec::SmallVec;
use tokio::sync::broadcast;

pub use changes::ChangeTracker;
pub use shared::{shared_requests, to_shared};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestEvent {
    /// Static for the standard methods: recording a request copies no method name.
    pub method: std::borrow::Cow<'static, str>,
    pub path: Box<str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<std::borrow::Cow<'static, str>>,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller: Option<std::sync::Arc<str>>,
    /// The response's header itself: recording it copies nothing.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "header_text")]
    pub correlation_id: Option<axum::http::HeaderValue>,
    pub duration_ms: f64,
    /// The node that served it, on a store several nodes share.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<Arc<str>>,
}

fn header_text<S: serde::Serializer>(value: &Option<axum::http::HeaderValue>, out: S) -> Result<S::Ok, S::Error> {
    out.serialize_some(value.as_ref().and_then(|v| v.to_str().ok()).unwrap_or_default())
}

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

/// The clock was advanced, paused, resumed or sped up; the event's time is where it stands.
#[derive(Debug, Clone, Serialize)]
pub struct ClockEvent {
    pub mode: crate::sim::ClockMode,
    pub speed: f64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum EventBody {
    Request(RequestEvent),
    Change(ChangeEvent),
    Clock(ClockEvent),
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
            EventBody::Clock(_) => "clock",
        }
    }

    /// Whether the event concerns the resource ids starting with `prefix` (lower case).
    fn concerns(&self, prefix: &str) -> bool {
        let subject = match &self.body {
            EventBody::Request(r) => &*r.path,
            EventBody::Change(c) => &*c.resource_id,
            EventBody::Clock(_) => return prefix.is_empty(),
        };
        subject.len() >= prefix.len() && subject.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    }
}

/// Which events a reader wants.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// A resource id prefix, compared case-insensitively (a request's path for requests).
    pub resource: Option<String>,
    /// `request`, `change` or `clock`.
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

    pub fn record(&self, time: DateTime<Utc>, body: EventBody) {
        self.record_all(std::iter::once((time, body)));
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

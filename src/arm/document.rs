//! The document a resource version answers with at a given time: its stored body, or what its
//! provider renders from it, with the `Deleting` state of an accepted DELETE on top. Kept with
//! the version once nothing but a new version can change it.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::contract::{Holds, Registry, Rendered};
use crate::store::{to_bytes, Slot, StoredResource, TimedCache};

/// Documents that hold for a while but are not final (a lifecycle between two steps, a packed
/// body), shared by every reader until they change.
static HOLDING: TimedCache = TimedCache::new(16 * 1024 * 1024);
const DOCUMENT: Slot = 0;

pub fn current(registry: &Registry, resource: &Arc<StoredResource>, now: DateTime<Utc>) -> Bytes {
    current_and_settled(registry, resource, now).0
}

/// [`current`], and whether it is a lifecycle's final document, which may replace the stored
/// body (see `Store::materialize`): the base it was rendered from is then no longer needed.
pub fn current_and_settled(registry: &Registry, resource: &Arc<StoredResource>, now: DateTime<Utc>) -> (Bytes, bool) {
    let (doc, settled, _) = current_served(registry, resource, now);
    (doc, settled)
}

/// How long a document served at some moment stays what is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    /// Until a new version of the resource.
    UntilNewVersion,
    /// Until this moment of emulated time (exclusive), or a new version.
    Until(DateTime<Utc>),
    /// For this moment only.
    Now,
}

/// [`current_and_settled`], and how long the document is what readers are served.
pub fn current_served(
    registry: &Registry,
    resource: &Arc<StoredResource>,
    now: DateTime<Utc>,
) -> (Bytes, bool, Served) {
    let rendered_final = |r: &StoredResource| r.sim.is_some() && r.due.is_none() && !r.deleting;
    if let Some(doc) = resource.rendered.get() {
        return (doc, rendered_final(resource), Served::UntilNewVersion);
    }
    if let Some((doc, until)) = HOLDING.get_with_end(resource, DOCUMENT, now) {
        return (doc, false, until.map_or(Served::UntilNewVersion, Served::Until));
    }
    let (doc, holds) = made(registry, resource, now);
    match holds {
        Holds::Settled => (resource.rendered.keep(doc), rendered_final(resource), Served::UntilNewVersion),
        Holds::UntilNewVersion => {
            HOLDING.keep(resource, DOCUMENT, now, None, doc.clone());
            (doc, false, Served::UntilNewVersion)
        }
        Holds::Until(at) => {
            HOLDING.keep(resource, DOCUMENT, now, Some(at), doc.clone());
            (doc, false, Served::Until(at))
        }
        Holds::Now => (doc, false, Served::Now),
    }
}

/// [`current`] for a reader that is not a polling client (the journal, the state dump, a
/// write's answer): nothing is kept, so that looking at many resources at once does not hold
/// their documents.
pub fn current_unkept(registry: &Registry, resource: &StoredResource, now: DateTime<Utc>) -> Bytes {
    match resource.rendered.get() {
        Some(doc) => doc,
        None => made(registry, resource, now).0,
    }
}

/// The document made anew, and how long it holds.
fn made(registry: &Registry, resource: &StoredResource, now: DateTime<Utc>) -> (Bytes, Holds) {
    let (doc, holds) = match registry.get(&resource.type_key).map(|p| p.render(resource, now)) {
        Some(Ok(Some(Rendered { doc, holds }))) => (doc, holds),
        Some(Err(e)) => {
            tracing::error!(id = %resource.id, error = %e.detail.message, "rendering a resource failed");
            (resource.body.json(), Holds::Now)
        }
        // The stored body is the document. Packed, it is unpacked for a reader, and kept a
        // while, rather than kept beside the packed bytes for good; otherwise sharing it costs
        // nothing.
        Some(Ok(None)) | None if resource.body.is_packed() && !resource.deleting && !resource.failed => {
            (resource.body.json(), Holds::UntilNewVersion)
        }
        Some(Ok(None)) | None => (resource.body.json(), Holds::Settled),
    };
    let doc = if resource.deleting {
        with_provisioning_state(&doc, "Deleting")
    } else if resource.failed {
        with_provisioning_state(&doc, "Failed")
    } else {
        doc
    };
    (doc, holds)
}

fn with_provisioning_state(doc: &Bytes, state: &str) -> Bytes {
    let mut value: Value = serde_json::from_slice(doc).unwrap_or(Value::Null);
    match value.get_mut("properties").and_then(Value::as_object_mut) {
        Some(props) => {
            props.insert("provisioningState".into(), state.into());
            to_bytes(&value)
        }
        None => doc.clone(),
    }
}

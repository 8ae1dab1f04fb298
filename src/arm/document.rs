//! The document a resource version answers with at a given time: its stored body, or what its
//! provider renders from it, with the `Deleting` state of an accepted DELETE on top. Kept with
//! the version once nothing but a new version can change it.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::contract::{Registry, Rendered};
use crate::store::{to_bytes, StoredResource};

pub fn current(registry: &Registry, resource: &StoredResource, now: DateTime<Utc>) -> Bytes {
    current_and_settled(registry, resource, now).0
}

/// [`current`], and whether it is a lifecycle's final document, which may replace the stored
/// body (see `Store::materialize`): the base it was rendered from is then no longer needed.
pub fn current_and_settled(registry: &Registry, resource: &StoredResource, now: DateTime<Utc>) -> (Bytes, bool) {
    let rendered_final = |r: &StoredResource| r.sim.is_some() && r.due.is_none() && !r.deleting;
    if let Some(doc) = resource.rendered.get() {
        return (doc, rendered_final(resource));
    }
    let (doc, settled) = made(registry, resource, now);
    if settled {
        (resource.rendered.keep(doc), rendered_final(resource))
    } else {
        (doc, false)
    }
}

/// [`current`] for a reader that is not a client (the journal, the state dump): a settled
/// document is not kept, so that looking at many resources at once does not hold every
/// document beside its base until a client reads it.
pub fn current_unkept(registry: &Registry, resource: &StoredResource, now: DateTime<Utc>) -> Bytes {
    match resource.rendered.get() {
        Some(doc) => doc,
        None => made(registry, resource, now).0,
    }
}

/// The document made anew, and whether it is settled (the same until a new version).
fn made(registry: &Registry, resource: &StoredResource, now: DateTime<Utc>) -> (Bytes, bool) {
    let (doc, settled) = match registry.get(&resource.type_key).map(|p| p.render(resource, now)) {
        Some(Ok(Some(Rendered { doc, settled }))) => (doc, settled),
        Some(Err(e)) => {
            tracing::error!(id = %resource.id, error = %e.detail.message, "rendering a resource failed");
            (resource.body.json(), false)
        }
        // The stored body is the document. Packed, it is unpacked for each read rather than
        // kept twice; otherwise sharing it costs nothing.
        Some(Ok(None)) | None => {
            (resource.body.json(), !resource.body.is_packed() || resource.deleting || resource.failed)
        }
    };
    let doc = if resource.deleting {
        with_provisioning_state(&doc, "Deleting")
    } else if resource.failed {
        with_provisioning_state(&doc, "Failed")
    } else {
        doc
    };
    (doc, settled)
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

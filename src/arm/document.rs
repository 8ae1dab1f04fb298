//! The document a resource version answers with: its stored body, or what its provider renders
//! from it, with the `Deleting` state of an accepted DELETE on top. Made once per version.

use bytes::Bytes;
use serde_json::Value;

use crate::providers::Registry;
use crate::store::{to_bytes, StoredResource};

pub fn current(registry: &Registry, resource: &StoredResource) -> Bytes {
    resource.rendered.get_or_init(|| {
        let rendered = match registry.get(&resource.type_key).map(|p| p.render(resource)) {
            Some(Ok(Some(doc))) => doc,
            Some(Err(e)) => {
                tracing::error!(id = %resource.id, error = %e.detail.message, "rendering a resource failed");
                resource.body.clone()
            }
            _ => resource.body.clone(),
        };
        if resource.deleting {
            with_provisioning_state(&rendered, "Deleting")
        } else {
            rendered
        }
    })
}

/// The current document as a JSON tree, for write paths that inspect it.
pub fn current_value(registry: &Registry, resource: &StoredResource) -> Value {
    serde_json::from_slice(&current(registry, resource)).unwrap_or(Value::Null)
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

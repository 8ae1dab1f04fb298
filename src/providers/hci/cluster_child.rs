//! What updates, update runs and update summaries share: each lives under a cluster, takes a
//! `location` (the cluster's when absent) and `properties` checked against its shape, and is
//! stored as sent with `provisioningState: Succeeded`.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use std::sync::OnceLock;
use std::time::Duration;

use super::NAMESPACE;
use crate::arm::{ArmError, TypeOwner};
use crate::providers::{
    parse_body, parse_body_at, ActionName, ApiVersions, DeleteMissing, ListOrder, LroHeaders, OperationNames, PutKind,
    PutOutcome, PutRequest, ResourceTypeSpec, Written,
};
use crate::store::{OperationUrls, State, Txn};

/// The spec these types share: PUT answers 200, DELETE is an LRO answered through
/// `Azure-AsyncOperation` (as do actions), the state they track is `properties.state`. `group`
/// names their operationIds (`{group}_Put`, `{group}_List`, …); `versions` is the type's table.
pub const fn spec(
    versions: &'static ApiVersions,
    type_names: &'static [&'static str],
    shown_type: &'static str,
    name_levels: usize,
    name_rule: fn(&str) -> Result<(), &'static str>,
    group: &'static str,
    actions: &'static [ActionName],
) -> ResourceTypeSpec {
    ResourceTypeSpec {
        namespace: NAMESPACE,
        type_names,
        shown_type: Some(shown_type),
        name_levels,
        name_join: "/",
        versions,
        owner: TypeOwner::Provider,
        extension: false,
        etag_in_body: false,
        expand_only: &[],
        name_rule,
        put: PutKind::SyncOk,
        patch: false,
        delete: LroHeaders::LocationAndAsyncOperation,
        delete_missing: DeleteMissing::NoContent,
        delete_duration: Duration::from_millis(500),
        actions,
        action_headers: LroHeaders::LocationAndAsyncOperation,
        tracked: &["/properties/state", "/properties/provisioningState"],
        operation_urls: OperationUrls::Arm,
        missing: None,
        views: &[],
        operations: OperationNames { group, put: "Put", list: "List", list_in_subscription: None },
        list_order: ListOrder::Id,
        names: OnceLock::new(),
    }
}

/// `spec` with other tracked properties.
pub const fn tracking(mut spec: ResourceTypeSpec, tracked: &'static [&'static str]) -> ResourceTypeSpec {
    spec.tracked = tracked;
    spec
}

#[derive(Deserialize)]
struct ChildInput {
    location: Option<String>,
    properties: Option<Value>,
}

/// The location of the cluster a resource id lies under.
pub fn cluster_location(state: &State, id: &str) -> Option<String> {
    let key = id.to_ascii_lowercase();
    let at = key.find("/providers/microsoft.azurestackhci/clusters/")?
        + "/providers/microsoft.azurestackhci/clusters/".len();
    let end = key[at..].find('/').map_or(key.len(), |i| at + i);
    let cluster = state.resource(&key[..end])?;
    cluster.body_value()["location"].as_str().map(str::to_string)
}

/// Checks the body's `properties` as `T` and stores them as sent.
pub fn put_checked<T: DeserializeOwned>(req: &PutRequest, state: &State) -> Result<PutOutcome, ArmError> {
    let input: ChildInput = parse_body(&req.body)?;
    let mut properties = input.properties.unwrap_or_else(|| json!({}));
    if !properties.is_object() {
        return Err(ArmError::invalid_content("'properties' must be a JSON object.").with_target("properties"));
    }
    let _checked: T = parse_body_at(&properties, "properties")?;
    if let Some(existing) = req.existing {
        if existing.body_value().get("properties") == Some(&with_provisioning(&properties)) {
            return Ok(PutOutcome::Unchanged);
        }
    }
    properties = with_provisioning(&properties);
    let location = input.location.or_else(|| cluster_location(state, req.id));
    let mut doc = json!({});
    if let Some(location) = location {
        doc["location"] = json!(location);
    }
    doc["properties"] = properties;
    Ok(PutOutcome::Write(Box::new(Written { doc, sim: None, due: None, also: Txn::default() })))
}

fn with_provisioning(properties: &Value) -> Value {
    let mut out = properties.clone();
    if let Some(map) = out.as_object_mut() {
        map.insert("provisioningState".into(), json!("Succeeded"));
    }
    out
}

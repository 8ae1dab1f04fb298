//! Updates of a cluster: `…/clusters/{c}/updates/{u}`. Stored as a client (or the cluster's
//! update service) writes them; `apply` and `prepare` come with the update lifecycle.

use std::sync::OnceLock;
use std::time::Duration;

use super::cluster_child::put_checked;
use super::clusters::CLUSTER_API_VERSIONS;
use super::update_shapes::UpdateProperties;
use super::NAMESPACE;
use crate::arm::{ArmError, TypeOwner};
use crate::providers::{
    DeleteMissing, LroHeaders, OperationNames, PutKind, PutOutcome, PutRequest, ResourceProvider, ResourceTypeSpec,
};
use crate::store::State;

/// Update names as clusters publish them: `Solution10.2408.0.29`, `Microsoft4.2203.2.32`.
pub fn update_name_rule(name: &str) -> Result<(), &'static str> {
    let ok = (1..=128).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !name.ends_with('.');
    if ok {
        Ok(())
    } else {
        Err("^[a-zA-Z0-9-_.]{1,128}$, not ending in '.'")
    }
}

static SPEC: ResourceTypeSpec = ResourceTypeSpec {
    namespace: NAMESPACE,
    type_names: &["clusters", "updates"],
    shown_type: Some("Microsoft.AzureStackHCI/updates"),
    name_levels: 1,
    api_versions: CLUSTER_API_VERSIONS,
    owner: TypeOwner::Provider,
    name_rule: update_name_rule,
    put: PutKind::SyncOk,
    patch: false,
    delete: LroHeaders::LocationAndAsyncOperation,
    delete_missing: DeleteMissing::NoContent,
    delete_duration: Duration::from_millis(500),
    actions: &[],
    action_headers: LroHeaders::LocationAndAsyncOperation,
    tracked: &["/properties/state", "/properties/provisioningState"],
    operations: OperationNames { group: "Updates", put: "Put", list: "List", list_in_subscription: None },
    names: OnceLock::new(),
};

pub struct Updates;

impl ResourceProvider for Updates {
    fn spec(&self) -> &'static ResourceTypeSpec {
        &SPEC
    }

    fn put(&self, req: &PutRequest, state: &State) -> Result<PutOutcome, ArmError> {
        put_checked::<UpdateProperties>(req, state)
    }
}

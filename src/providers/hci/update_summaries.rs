//! A cluster's update summary: `…/clusters/{c}/updateSummaries/default` (the only name).

use std::sync::OnceLock;
use std::time::Duration;

use super::cluster_child::put_checked;
use super::clusters::CLUSTER_API_VERSIONS;
use super::update_shapes::UpdateSummaryProperties;
use super::NAMESPACE;
use crate::arm::{ArmError, TypeOwner};
use crate::providers::{
    DeleteMissing, LroHeaders, OperationNames, PutKind, PutOutcome, PutRequest, ResourceProvider, ResourceTypeSpec,
};
use crate::store::State;

fn name_rule(name: &str) -> Result<(), &'static str> {
    if name == "default" {
        Ok(())
    } else {
        Err("'default' (a cluster has one update summary)")
    }
}

static SPEC: ResourceTypeSpec = ResourceTypeSpec {
    namespace: NAMESPACE,
    type_names: &["clusters", "updateSummaries"],
    shown_type: Some("Microsoft.AzureStackHCI/updateSummaries"),
    name_levels: 1,
    api_versions: CLUSTER_API_VERSIONS,
    owner: TypeOwner::Provider,
    name_rule,
    put: PutKind::SyncOk,
    patch: false,
    delete: LroHeaders::LocationAndAsyncOperation,
    delete_missing: DeleteMissing::NoContent,
    delete_duration: Duration::from_millis(500),
    actions: &[],
    action_headers: LroHeaders::LocationAndAsyncOperation,
    tracked: &["/properties/state", "/properties/provisioningState"],
    operations: OperationNames { group: "UpdateSummaries", put: "Put", list: "List", list_in_subscription: None },
    names: OnceLock::new(),
};

pub struct UpdateSummaries;

impl ResourceProvider for UpdateSummaries {
    fn spec(&self) -> &'static ResourceTypeSpec {
        &SPEC
    }

    fn put(&self, req: &PutRequest, state: &State) -> Result<PutOutcome, ArmError> {
        put_checked::<UpdateSummaryProperties>(req, state)
    }
}

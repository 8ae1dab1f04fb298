//! Update runs: `…/clusters/{c}/updates/{u}/updateRuns/{r}`. A run a client writes (the seed's
//! PUT) is stored as sent, its `progress` tree at any depth, and answered unchanged; it is not
//! driven by the simulation.

use std::sync::OnceLock;
use std::time::Duration;

use super::cluster_child::put_checked;
use super::clusters::CLUSTER_API_VERSIONS;
use super::update_shapes::UpdateRunProperties;
use super::updates::update_name_rule;
use super::NAMESPACE;
use crate::arm::{ArmError, TypeOwner};
use crate::providers::{
    DeleteMissing, LroHeaders, OperationNames, PutKind, PutOutcome, PutRequest, ResourceProvider, ResourceTypeSpec,
};
use crate::store::State;

static SPEC: ResourceTypeSpec = ResourceTypeSpec {
    namespace: NAMESPACE,
    type_names: &["clusters", "updates", "updateRuns"],
    // As the service answers: `{update}/{run}`, of type `updates/updateRuns`.
    shown_type: Some("Microsoft.AzureStackHCI/updates/updateRuns"),
    name_levels: 2,
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
    operations: OperationNames { group: "UpdateRuns", put: "Put", list: "List", list_in_subscription: None },
    names: OnceLock::new(),
};

pub struct UpdateRuns;

impl ResourceProvider for UpdateRuns {
    fn spec(&self) -> &'static ResourceTypeSpec {
        &SPEC
    }

    fn put(&self, req: &PutRequest, state: &State) -> Result<PutOutcome, ArmError> {
        put_checked::<UpdateRunProperties>(req, state)
    }
}

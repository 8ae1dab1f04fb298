//! Updates of a cluster: `…/clusters/{c}/updates/{u}`. Stored as a client (or the cluster's
//! update service) writes them; `apply` and `prepare` come with the update lifecycle.

use super::cluster_child::{put_checked, spec};
use super::dotted_name;
use super::update_shapes::UpdateProperties;
use crate::arm::ArmError;
use crate::providers::{PutOutcome, PutRequest, ResourceProvider, ResourceTypeSpec};
use crate::store::State;

/// Update names as clusters publish them: `Solution10.2408.0.29`, `Microsoft4.2203.2.32`.
pub fn update_name_rule(name: &str) -> Result<(), &'static str> {
    dotted_name(name, 128).then_some(()).ok_or("^[a-zA-Z0-9-_.]{1,128}$, not ending in '.'")
}

static SPEC: ResourceTypeSpec =
    spec(&["clusters", "updates"], "Microsoft.AzureStackHCI/updates", 1, update_name_rule, "Updates");

pub struct Updates;

impl ResourceProvider for Updates {
    fn spec(&self) -> &'static ResourceTypeSpec {
        &SPEC
    }

    fn put(&self, req: &PutRequest, state: &State) -> Result<PutOutcome, ArmError> {
        put_checked::<UpdateProperties>(req, state)
    }
}

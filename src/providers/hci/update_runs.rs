//! Update runs: `…/clusters/{c}/updates/{u}/updateRuns/{r}`. A run a client writes (the seed's
//! PUT) is stored as sent, its `progress` tree at any depth, and answered unchanged; it is not
//! driven by the simulation.

use super::cluster_child::{put_checked, spec};
use super::update_shapes::UpdateRunProperties;
use super::updates::update_name_rule;
use crate::arm::ArmError;
use crate::providers::{PutOutcome, PutRequest, ResourceProvider, ResourceTypeSpec};
use crate::store::State;

// As the service answers: named `{update}/{run}`, of type `updates/updateRuns`.
static SPEC: ResourceTypeSpec = spec(
    &["clusters", "updates", "updateRuns"],
    "Microsoft.AzureStackHCI/updates/updateRuns",
    2,
    update_name_rule,
    "UpdateRuns",
);

pub struct UpdateRuns;

impl ResourceProvider for UpdateRuns {
    fn spec(&self) -> &'static ResourceTypeSpec {
        &SPEC
    }

    fn put(&self, req: &PutRequest, state: &State) -> Result<PutOutcome, ArmError> {
        put_checked::<UpdateRunProperties>(req, state)
    }
}

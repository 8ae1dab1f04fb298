//! Updates of a cluster: `…/clusters/{c}/updates/{u}`. Stored as a client (or the cluster's
//! update service) writes them; publishing one tells the cluster's summary an update is
//! available. `apply` (`Updates_Post`) and `prepare` start update runs (see `update_actions`).

use super::cluster_child::{put_checked, spec};
use super::dotted_name;
use super::update_actions::start_run;
use super::update_effects::on_update_published;
use super::update_plan::RunKind;
use super::update_shapes::UpdateProperties;
use crate::arm::ArmError;
use crate::providers::{
    ActionName, ActionOutcome, ActionRequest, PutOutcome, PutRequest, ResourceProvider, ResourceTypeSpec,
};
use crate::store::State;

/// Update names as clusters publish them: `Solution10.2408.0.29`, `Microsoft4.2203.2.32`.
pub fn update_name_rule(name: &str) -> Result<(), &'static str> {
    dotted_name(name, 128).then_some(()).ok_or("^[a-zA-Z0-9-_.]{1,128}$, not ending in '.'")
}

static SPEC: ResourceTypeSpec = spec(
    &super::versions::UPDATES,
    &["clusters", "updates"],
    "Microsoft.AzureStackHCI/updates",
    1,
    update_name_rule,
    "Updates",
    &[ActionName { path: "apply", operation: "Post" }, ActionName { path: "prepare", operation: "Prepare" }],
);

pub struct Updates;

impl ResourceProvider for Updates {
    fn spec(&self) -> &'static ResourceTypeSpec {
        &SPEC
    }

    fn put(&self, req: &PutRequest, state: &State) -> Result<PutOutcome, ArmError> {
        let mut outcome = put_checked::<UpdateProperties>(req, state)?;
        if let PutOutcome::Write(written) = &mut outcome {
            written.also = on_update_published(state, &req.id.to_ascii_lowercase(), &written.doc, req.now);
        }
        Ok(outcome)
    }

    fn action(&self, req: &ActionRequest, state: &State) -> Result<ActionOutcome, ArmError> {
        match req.action {
            "apply" => start_run(RunKind::Apply, req, state),
            "prepare" => start_run(RunKind::Prepare, req, state),
            other => Err(ArmError::bad_request("InvalidAction", format!("The action '{other}' is not supported."))),
        }
    }
}

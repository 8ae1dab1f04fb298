//! A cluster's update summary: `…/clusters/{c}/updateSummaries/default` (the only name).

use super::cluster_child::{put_checked, spec};
use super::update_shapes::UpdateSummaryProperties;
use crate::arm::ArmError;
use crate::providers::{PutOutcome, PutRequest, ResourceProvider, ResourceTypeSpec};
use crate::store::State;

fn name_rule(name: &str) -> Result<(), &'static str> {
    if name == "default" {
        Ok(())
    } else {
        Err("'default' (a cluster has one update summary)")
    }
}

static SPEC: ResourceTypeSpec = spec(
    &super::versions::UPDATE_SUMMARIES,
    &["clusters", "updateSummaries"],
    "Microsoft.AzureStackHCI/updateSummaries",
    1,
    name_rule,
    "UpdateSummaries",
    &[],
);

pub struct UpdateSummaries;

impl ResourceProvider for UpdateSummaries {
    fn spec(&self) -> &'static ResourceTypeSpec {
        &SPEC
    }

    /// A summary a client writes keeps what the cluster computes and the body leaves out: the
    /// installed package versions and the current version.
    fn put(&self, req: &PutRequest, state: &State) -> Result<PutOutcome, ArmError> {
        let mut outcome = put_checked::<UpdateSummaryProperties>(req, state)?;
        if let (PutOutcome::Write(written), Some(existing)) = (&mut outcome, req.existing) {
            let existing = existing.body_value();
            for field in ["packageVersions", "currentVersion"] {
                let kept = existing["properties"].get(field).filter(|_| written.doc["properties"].get(field).is_none());
                if let Some(value) = kept {
                    written.doc["properties"][field] = value.clone();
                }
            }
        }
        Ok(outcome)
    }
}

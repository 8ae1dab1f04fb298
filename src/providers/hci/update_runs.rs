//! Update runs: `…/clusters/{c}/updates/{u}/updateRuns/{r}`. Two kinds share the type:
//! - a run a client writes (the seed's PUT) is stored as sent, its `progress` tree at any depth,
//!   and answered unchanged; nothing drives it;
//! - a run an `apply` or `prepare` starts walks its step tree on the emulator clock: the store
//!   keeps its plan, readers see it rendered at the time they read, and its events (health
//!   checks passed, run finished) write the update and the cluster's summary.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::cluster_child::{put_checked, spec, tracking};
use super::update_effects::{on_health_checked, on_run_finished};
use super::update_plan::failure_points;
use super::update_run_sim::{next_change, properties_at, RunEvent, RunSim};
use super::update_shapes::UpdateRunProperties;
use super::updates::update_name_rule;
use crate::arm::ArmError;
use crate::providers::{
    sim_state, Advance, AdvanceCtx, PutOutcome, PutRequest, Rendered, ResourceProvider, ResourceTypeSpec, TrackedState,
};
use crate::store::{to_bytes, OperationError, OperationStatus, State, StoredResource};

// As the service answers: named `{update}/{run}`, of type `updates/updateRuns`. The journal
// records each finished step through `lastUpdatedTime` (before `state`, which a watch stops at).
static SPEC: ResourceTypeSpec = tracking(
    spec(
        &super::versions::UPDATE_RUNS,
        &["clusters", "updates", "updateRuns"],
        "Microsoft.AzureStackHCI/updates/updateRuns",
        2,
        update_name_rule,
        "UpdateRuns",
        &[],
    ),
    &["/properties/lastUpdatedTime", "/properties/state", "/properties/provisioningState"],
);

pub struct UpdateRuns;

fn unreadable(e: impl std::fmt::Display) -> ArmError {
    ArmError::new(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "InternalServerError",
        format!("stored update run is unreadable: {e}"),
    )
}

/// The run's document at `now`: the stored envelope with its properties rendered.
fn render_run(resource: &StoredResource, sim: &RunSim, now: DateTime<Utc>) -> Result<Value, ArmError> {
    let mut doc: Value = serde_json::from_slice(&resource.body.json()).map_err(unreadable)?;
    doc["properties"] = properties_at(sim, now);
    Ok(doc)
}

impl ResourceProvider for UpdateRuns {
    fn spec(&self) -> &'static ResourceTypeSpec {
        &SPEC
    }

    fn put(&self, req: &PutRequest, state: &State) -> Result<PutOutcome, ArmError> {
        put_checked::<UpdateRunProperties>(req, state)
    }

    fn advance(&self, resource: &mut StoredResource, ctx: &AdvanceCtx) -> Result<Advance, ArmError> {
        let mut sim: RunSim = resource.sim_as().ok_or_else(|| unreadable("no lifecycle state"))?;
        let walk = sim.walk();
        let mut advance = Advance::default();
        let key = resource.key();
        match sim.next_event(&walk) {
            Some((at, RunEvent::HealthChecked)) => advance.also = on_health_checked(ctx.state, &key, at),
            Some((at, RunEvent::Finished)) => {
                advance.also = on_run_finished(ctx.state, &key, &sim, &walk, at);
                let failure = sim.failure.as_ref().filter(|_| RunSim::failed_leaf(&walk).is_some());
                advance.completes =
                    Some(if failure.is_some() { OperationStatus::Failed } else { OperationStatus::Succeeded });
                advance.failure = failure.map(|f| OperationError {
                    code: f.code.clone(),
                    message: f.message.clone(),
                    http_status: f.status,
                    details: Vec::new(),
                });
            }
            None => {}
        }
        sim.cursor.next += 1;
        resource.due = sim.next_event(&walk).map(|(at, _)| at);
        resource.sim = sim_state(&sim);
        Ok(advance)
    }

    fn render(&self, resource: &StoredResource, now: DateTime<Utc>) -> Result<Option<Rendered>, ArmError> {
        let Some(sim) = resource.sim_as::<RunSim>() else { return Ok(None) };
        let doc = render_run(resource, &sim, now)?;
        Ok(Some(Rendered::until(to_bytes(&doc), next_change(&sim, now))))
    }

    fn tracked_ahead(&self, resource: &StoredResource, after: DateTime<Utc>) -> Option<Vec<TrackedState>> {
        let sim = resource.sim_as::<RunSim>()?;
        let mut states = Vec::new();
        let mut moments = vec![after];
        moments.extend(sim.walk().iter().flat_map(|l| [l.start, l.end]).filter(|at| *at > after));
        moments.dedup();
        for at in moments {
            let doc = render_run(resource, &sim, at).ok()?;
            let state = TrackedState::of(&SPEC, &doc, at);
            if states.last().is_none_or(|s: &TrackedState| s.values != state.values) {
                states.push(state);
            }
        }
        Some(states)
    }

    fn failure_steps(&self) -> Vec<String> {
        failure_points()
    }
}

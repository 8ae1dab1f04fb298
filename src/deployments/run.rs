//! One deployment's run: its plan rebuilt from the template and parameters it was accepted
//! with, each resource started once what it depends on is deployed (at most `PARALLEL` at once),
//! each step written as it starts and ends, then the outputs, the clean-up of mode `Complete`,
//! and the end of the run.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};
use tokio::task::JoinSet;

use super::client::{Client, Entry, Outcome};
use super::lookups::LiveResources;
use super::record::{save, Saved};
use crate::app::App;
use crate::arm::{ArmPath, Caller};
use crate::identity::token::{Access, Role};
use crate::identity::Principal;
use crate::providers::resources::deployments::document::deployment_failed;
use crate::providers::resources::deployments::input::Mode;
use crate::providers::resources::deployments::prepare::{body_of, prepare, Prepared, Target};
use crate::providers::resources::deployments::run_of;
use crate::providers::resources::deployments::run_state::{status_name, DeploymentRun, RunState, StepState};
use crate::templates::context::Context;
use crate::templates::plan::Planned;

/// Resources of one deployment in flight at once.
const PARALLEL: usize = 32;

fn caller_kind(kind: &str) -> &'static str {
    ["User", "Application", "ManagedIdentity", "Key"]
        .into_iter()
        .find(|k| k.eq_ignore_ascii_case(kind))
        .unwrap_or("User")
}

/// The plan and expression context of a run, as its PUT made them (parameters as resolved then).
fn rebuild(app: &Arc<App>, id: &str, body: &Value, run: &DeploymentRun) -> Result<Prepared, Value> {
    let path = ArmPath::parse(id).map_err(|e| json!(e.detail))?;
    let group = path.resource_group().map(|g| {
        let key = format!("/subscriptions/{}/resourcegroups/{g}", path.subscription()).to_ascii_lowercase();
        app.store.read(|s| s.resource(&key).map(|r| r.body_value())).unwrap_or_else(|| json!({ "name": g }))
    });
    let location = body.get("location").and_then(Value::as_str).filter(|_| group.is_none());
    let target = Target {
        subscription: path.subscription(),
        group: group.as_ref(),
        deployment_name: path.name_at(path.depth().saturating_sub(1)).unwrap_or_default(),
        location,
        tenant_id: crate::identity::token::DEFAULT_TENANT,
        now: run.started,
        lookups: Some(Arc::new(LiveResources::new(app.clone()))),
        raw_body: &[],
    };
    let supplied: Map<String, Value> = run.parameters.iter().map(|(k, v)| (k.clone(), json!({ "value": v }))).collect();
    let prepared = prepare(&target, &run.template, &supplied).map_err(|e| json!(e.detail))?;
    if prepared.plan.len() != run.steps.len() {
        return Err(
            json!({ "code": "InvalidTemplate", "message": "The template plans differently than when it was accepted." }),
        );
    }
    Ok(prepared)
}

struct Running {
    app: Arc<App>,
    key: String,
    id: String,
    caller: Caller,
    client: Arc<Client>,
    plan: Vec<Planned>,
    context: Context,
    run: DeploymentRun,
    in_flight: JoinSet<(usize, Outcome)>,
}

impl Running {
    /// Writes the run; `false` when the deployment is gone (deleted meanwhile), or another node
    /// of a shared store runs it now (its lease moved).
    async fn save(&mut self, changed: &[usize]) -> bool {
        if !super::ours(&self.app, &self.key) {
            tracing::info!(deployment = %self.id, "another node runs this deployment on from here");
            return false;
        }
        loop {
            match save(&self.app, &self.key, &self.run, changed, &self.caller).await {
                Ok(Saved::Gone) => return false,
                Ok(Saved::Kept { cancel_requested }) => {
                    self.run.cancel_requested = cancel_requested;
                    return true;
                }
                // The disk takes no writes: wait for it, as the engine does.
                Err(e) => {
                    tracing::warn!(deployment = %self.id, error = %e, "deployment progress not saved; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// Writes step `i`'s resource (reads it, for an `existing` one).
    fn send(&mut self, i: usize, body: Value) {
        let client = self.client.clone();
        let step = &self.run.steps[i];
        let (id, version, existing) = (step.id.clone(), step.api_version.clone(), step.existing);
        self.in_flight.spawn(async move {
            let outcome = match existing {
                true => client.read(&id, &version).await,
                false => client.put(&id, &version, &body).await,
            };
            (i, outcome)
        });
    }

    /// Starts what may start now; the indexes of the steps it changed.
    fn start_ready(&mut self) -> Vec<usize> {
        let now = self.app.clock.now();
        let mut changed = Vec::new();
        if self.run.cancel_requested {
            for step in self.run.steps.iter_mut().filter(|s| s.state == StepState::Waiting) {
                step.state = StepState::Skipped;
            }
            return changed;
        }
        for i in self.run.ready() {
            if self.in_flight.len() >= PARALLEL {
                break;
            }
            let step = &mut self.run.steps[i];
            step.started = Some(now);
            changed.push(i);
            match body_of(&self.plan[i], &mut self.context) {
                Ok(body) => {
                    step.state = StepState::Running;
                    self.send(i, body);
                }
                Err(e) => {
                    step.state = StepState::Failed;
                    step.ended = Some(now);
                    step.status_code = Some(status_name(400));
                    step.error = Some(json!({
                        "code": "InvalidTemplate",
                        "message": format!("Deployment template validation failed: '{}'.", e.0),
                        "target": step.id,
                    }));
                }
            }
        }
        changed
    }

    fn finished(&mut self, i: usize, outcome: Outcome) {
        let step = &mut self.run.steps[i];
        step.ended = Some(self.app.clock.now());
        step.status_code = Some(status_name(outcome.status));
        step.state = if outcome.error.is_some() { StepState::Failed } else { StepState::Succeeded };
        step.error = outcome.error;
    }

    /// Mode `Complete`: deletes the group's resources the template does not name; the errors
    /// of those that could not be deleted.
    async fn clean_up(&self) -> Vec<Value> {
        let Some(group_prefix) = ArmPath::parse(&self.id).ok().and_then(|p| {
            p.resource_group().map(|g| format!("/subscriptions/{}/resourcegroups/{g}/providers/", p.subscription()))
        }) else {
            return Vec::new();
        };
        let prefix = group_prefix.to_ascii_lowercase();
        let named: Vec<String> = self.run.steps.iter().map(|s| s.id.to_ascii_lowercase()).collect();
        let doomed: Vec<(String, String)> = self.app.store.read(|s| {
            s.with_prefix(&prefix)
                .filter(|r| !r.deleting && !r.type_key.starts_with("microsoft.resources/"))
                .filter(|r| r.key()[prefix.len()..].matches('/').count() == 2 && !named.contains(&r.key()))
                .map(|r| (r.id.clone(), r.type_key.clone()))
                .collect()
        });
        let catalog = crate::providers::resources::deployments::lookups::Catalog::of(self.app.registry.all());
        let mut errors = Vec::new();
        for (id, type_key) in doomed {
            let (namespace, resource_type) = type_key.split_once('/').unwrap_or_default();
            let versions = catalog.provider(namespace, Some(resource_type));
            let version = versions.pointer("/apiVersions/0").and_then(Value::as_str).unwrap_or("2022-01-01");
            if let Some(error) = self.client.delete(&id, version).await.error {
                errors.push(error);
            }
        }
        errors
    }

    async fn finish(&mut self) {
        let failed = self.run.steps.iter().any(|s| s.state == StepState::Failed);
        let canceled = self.run.cancel_requested && !failed;
        let mut state = match (failed, canceled) {
            (true, _) => RunState::Failed,
            (false, true) => RunState::Canceled,
            (false, false) => RunState::Succeeded,
        };
        if state == RunState::Succeeded && self.run.mode == Mode::Complete {
            let errors = self.clean_up().await;
            if !errors.is_empty() {
                state = RunState::Failed;
                self.run.error = Some(json!({
                    "code": "DeploymentFailed",
                    "message": "Resources the template does not name could not be deleted (mode 'Complete').",
                    "details": errors,
                }));
            }
        }
        if state == RunState::Succeeded {
            let declared = self.run.template.get("outputs").and_then(Value::as_object).cloned().unwrap_or_default();
            match crate::templates::outputs::evaluate(&declared, &mut self.context) {
                Ok(outputs) => self.run.outputs = Some(Value::Object(outputs)),
                Err(e) => {
                    state = RunState::Failed;
                    self.run.error = Some(json!({
                        "code": "DeploymentOutputEvaluationFailed",
                        "message": format!("Unable to evaluate the template outputs: {}", e.0),
                    }));
                }
            }
        }
        if failed {
            self.run.error = Some(deployment_failed(&self.run));
        }
        self.run.state = state;
        self.run.ended = Some(self.app.clock.now());
        self.save(&[]).await;
    }
}

/// Runs the deployment stored at `key` to its end (or until it is deleted).
pub async fn run(app: Arc<App>, entry: Entry, key: &str) {
    let loaded = app.store.read(|s| {
        let r = s.resource(key).filter(|r| !r.deleting)?;
        Some((r.id.clone(), r.body_value(), run_of(r)?))
    });
    let Some((id, body, run)) = loaded.filter(|(_, _, run)| run.is_live()) else { return };
    let caller = Caller { name: run.on_behalf.name.as_str().into(), kind: caller_kind(&run.on_behalf.kind) };
    let subscription = ArmPath::parse(&id).map(|p| p.subscription().to_string()).unwrap_or_default();
    // Its resources are written with the caller's name, within the deployment's subscription.
    let principal = Principal {
        caller: caller.clone(),
        object_id: None,
        access: Some(Access { subscriptions: vec![subscription], publishers: Vec::new(), role: Role::Contributor }),
    };
    let client = Arc::new(Client { entry, principal, correlation_id: run.correlation_id.clone() });
    let rebuilt = rebuild(&app, &id, &body, &run);
    let (plan, context, error) = match rebuilt {
        Ok(prepared) => (prepared.plan, prepared.context, None),
        Err(error) => (Vec::new(), Context::default(), Some(error)),
    };
    let mut running =
        Running { app, key: key.to_string(), id, caller, client, plan, context, run, in_flight: JoinSet::new() };
    if let Some(error) = error {
        running.run.state = RunState::Failed;
        running.run.error = Some(error);
        running.run.ended = Some(running.app.clock.now());
        running.save(&[]).await;
        return;
    }
    if running.run.state == RunState::Accepted {
        running.run.state = RunState::Running;
        if !running.save(&[]).await {
            return;
        }
    }
    // Steps running when the last process stopped are sent again: a PUT of the same body
    // changes nothing, and its answer leads to the operation still going.
    let resumed: Vec<usize> =
        (0..running.run.steps.len()).filter(|&i| running.run.steps[i].state == StepState::Running).collect();
    for i in resumed {
        match body_of(&running.plan[i], &mut running.context) {
            Ok(body) => running.send(i, body),
            Err(e) => {
                let step = &mut running.run.steps[i];
                step.state = StepState::Failed;
                step.error = Some(json!({ "code": "InvalidTemplate", "message": e.0 }));
            }
        }
    }
    loop {
        let mut changed = running.start_ready();
        running.run.skip_blocked();
        if !changed.is_empty() && !running.save(&changed).await {
            running.in_flight.abort_all();
            return;
        }
        if running.in_flight.is_empty() {
            if running.run.ready().is_empty() || running.run.cancel_requested {
                break;
            }
            continue;
        }
        changed.clear();
        if let Some(Ok((i, outcome))) = running.in_flight.join_next().await {
            running.finished(i, outcome);
            changed.push(i);
        }
        // Whatever else ended meanwhile is written with it.
        while let Some(Ok((i, outcome))) = running.in_flight.try_join_next() {
            running.finished(i, outcome);
            changed.push(i);
        }
        if !running.save(&changed).await {
            running.in_flight.abort_all();
            return;
        }
    }
    running.finish().await;
}

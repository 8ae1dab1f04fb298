//! What the orchestrator writes as a run moves on: the deployment's new version (its document
//! made from the run, the run as its lifecycle state), the documents of the deployment
//! operations whose steps changed, and, once the run is over, the end of the PUT's operation.

use serde_json::Value;

use crate::app::App;
use crate::arm::envelope::{new_resource, revised, wrap};
use crate::arm::Caller;
use crate::providers::resources::deployments::document::{deployment_doc, operation_doc};
use crate::providers::resources::deployments::operations;
use crate::providers::resources::deployments::run_of;
use crate::providers::resources::deployments::run_state::{DeploymentRun, RunState};
use crate::providers::sim_state;
use crate::store::{OperationError, OperationStatus, StoreError, Txn};

/// `fields` in place of a document's own fields, in the envelope (id, name, type, systemData)
/// it already has.
fn merged(current: Value, fields: Value) -> Value {
    let text = |key: &str| current.get(key).and_then(Value::as_str).unwrap_or_default();
    let system = current.get("systemData").cloned().unwrap_or(Value::Null);
    wrap(text("id"), text("name"), text("type"), fields, system)
}

/// How the run went, as the PUT's operation ends.
fn ending(run: &DeploymentRun) -> (OperationStatus, Option<OperationError>) {
    match run.state {
        RunState::Succeeded => (OperationStatus::Succeeded, None),
        RunState::Canceled => (OperationStatus::Canceled, None),
        _ => {
            let error = run.error.clone().unwrap_or(Value::Null);
            let text = |key: &str| error.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
            let details = error.get("details").and_then(Value::as_array).cloned().unwrap_or_default();
            let failure = OperationError { code: text("code"), message: text("message"), http_status: 400, details };
            (OperationStatus::Failed, Some(failure))
        }
    }
}

/// What the store holds now for the run: whether to go on (`false`: the deployment was deleted
/// meanwhile), and a cancel asked for since the run was read.
pub enum Saved {
    Gone,
    Kept { cancel_requested: bool },
}

/// Writes `run` (and the operation documents of the steps in `changed`).
pub async fn save(
    app: &App,
    key: &str,
    run: &DeploymentRun,
    changed: &[usize],
    caller: &Caller,
) -> Result<Saved, StoreError> {
    app.store
        .write(|state| {
            let Some(current) = state.resource(key).filter(|r| !r.deleting) else {
                return Ok((Txn::default(), Saved::Gone));
            };
            let now = app.clock.now();
            let mut run = run.clone();
            let cancel_requested = run.cancel_requested || run_of(current).is_some_and(|r| r.cancel_requested);
            run.cancel_requested = cancel_requested;
            let body = current.body_value();
            let at_subscription = !current.id.to_ascii_lowercase().contains("/resourcegroups/");
            let location = body.get("location").and_then(Value::as_str).filter(|_| at_subscription);
            let doc = deployment_doc(&run, location, body.get("tags"), now);
            let mut next = revised(current, &merged(body.clone(), doc));
            next.sim = sim_state(&run);
            next.due = None;
            let mut txn = Txn::default();
            if run.state.is_terminal() {
                if let Some(op) = next.pending_op.take().and_then(|id| state.operation(&id).cloned()) {
                    let mut op = (*op).clone();
                    let (status, error) = ending(&run);
                    op.complete(status, now, error);
                    txn.put_operation(op);
                }
            }
            for &i in changed {
                let step = &run.steps[i];
                let id = format!("{}/operations/{}", current.id, step.operation_id);
                let doc = operation_doc(&current.id, step, now);
                let version = match state.resource(&id.to_ascii_lowercase()) {
                    Some(existing) => revised(existing, &merged(existing.body_value(), doc)),
                    None => new_resource(&operations::SPEC, id, doc, caller, now),
                };
                txn.put(version);
            }
            txn.put(next);
            Ok::<_, StoreError>((txn, Saved::Kept { cancel_requested }))
        })
        .await
}

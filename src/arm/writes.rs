//! Answers that write: PUT, DELETE and POST actions, with their long-running operations.

use axum::http::StatusCode;
use axum::response::Response;

use super::contract::{
    ActionName, ActionRequest, CheckRequest, DeleteMissing, LroHeaders, PutKind, PutOutcome, PutRequest,
};
use super::dispatch::{not_found, Provider};
use super::document;
use super::envelope::{check_preconditions, stored, system_data, wrap};
use super::lro::{self, NewOperation};
use super::merge_patch::merge_patch;
use super::request::ArmRequest;
use super::respond::{json_with_etag, no_content};
use super::{operation_error, ArmError};
use crate::app::App;
use crate::faults::Deferred;
use crate::store::{OperationKind, OperationRecord, OperationStatus, State, StoredResource, Txn};

/// Where operation URLs live: the resource's own location, else its resource group's, else `global`.
fn operation_location(state: &State, req: &ArmRequest, own_body: Option<&serde_json::Value>) -> String {
    let own = || own_body?.get("location")?.as_str().map(str::to_string);
    let from_group = || {
        let group = req.path.resource_group()?;
        state.resource(&super::dispatch::group_key(req.path.subscription(), group))?.location()
    };
    // The resource's own region when it has one, as Azure places its operations.
    own().or_else(from_group).unwrap_or_else(|| "global".into())
}

fn new_op(
    state: &State,
    provider: &Provider,
    req: &ArmRequest,
    kind: OperationKind,
    id: &str,
    body: Option<&serde_json::Value>,
    now: chrono::DateTime<chrono::Utc>,
) -> OperationRecord {
    lro::new_operation(NewOperation {
        kind,
        resource_id: id,
        subscription: req.path.subscription(),
        namespace: provider.spec().namespace,
        location: &operation_location(state, req, body),
        api_version: req.api_version().unwrap_or_default(),
        urls: provider.spec().operation_urls,
        now,
    })
}

/// The body's ARM envelope as ARM keeps it: `location` in its normalized form (`West US` →
/// `westus`); a location that is no region, or tags beyond ARM's limits, are refused.
fn checked_envelope(
    mut body: serde_json::Value,
    spec: &super::contract::ResourceTypeSpec,
) -> Result<serde_json::Value, ArmError> {
    super::platform::tags::check(body.get("tags"))?;
    if let Some(location) = body.get_mut("location") {
        // A blank one is the provider's to refuse (`LocationRequired`).
        if let Some(text) = location.as_str().filter(|t| !t.trim().is_empty()) {
            let for_type = (spec.owner == super::TypeOwner::Provider).then(|| spec.full_type());
            *location = super::regions::require(text, for_type)?.name.into();
        }
    }
    Ok(body)
}

enum PutAnswer {
    Written { resource: StoredResource, created: bool, op: Option<OperationRecord> },
    Unchanged { resource: StoredResource, op: Option<OperationRecord> },
}

/// A PUT's body, or a PATCH's, merged into the document when the write happens.
pub(super) enum WriteBody {
    Put(serde_json::Value),
    Patch(serde_json::Value),
}

pub(super) async fn put(
    app: &App,
    provider: &Provider,
    id: &str,
    name: &str,
    req: &ArmRequest,
    faults: &Deferred,
) -> Result<Response, ArmError> {
    let mut body = req.required_json_body()?;
    provider.spec().versions.read_body(req.api_version(), &mut body);
    write(app, provider, id, name, req, faults, WriteBody::Put(body)).await
}

pub(super) async fn patch(
    app: &App,
    provider: &Provider,
    id: &str,
    name: &str,
    req: &ArmRequest,
    faults: &Deferred,
) -> Result<Response, ArmError> {
    if !provider.spec().patch {
        return Err(ArmError::method_not_allowed(req.method.as_str(), req.raw_path()));
    }
    write(app, provider, id, name, req, faults, WriteBody::Patch(req.required_json_body()?)).await
}

async fn write(
    app: &App,
    provider: &Provider,
    id: &str,
    name: &str,
    req: &ArmRequest,
    faults: &Deferred,
    body: WriteBody,
) -> Result<Response, ArmError> {
    let spec = provider.spec();
    let key = id.to_ascii_lowercase();
    let patching = matches!(body, WriteBody::Patch(_));
    let answer = app
        .store
        .write(|state| {
            let existing = state.resource(&key).map(|r| (**r).clone());
            let body = match body {
                WriteBody::Put(body) => body,
                WriteBody::Patch(patch) => {
                    let current = existing.as_ref().ok_or_else(|| not_found(provider, name, req))?;
                    let doc = document::current_unkept(&app.registry, current, app.clock.now());
                    let mut merged: serde_json::Value = serde_json::from_slice(&doc).unwrap_or_default();
                    merge_patch(&mut merged, &patch);
                    // ARM replaces tags as a whole on PATCH: the tags sent are the tags kept.
                    if let Some(tags) = patch.get("tags").filter(|t| t.is_object()) {
                        merged["tags"] = tags.clone();
                    }
                    merged
                }
            };
            let body = checked_envelope(body, spec)?;
            check_preconditions(
                req.header("if-match"),
                req.header("if-none-match"),
                existing.as_ref().map(|r| r.etag.as_str()),
            )?;
            if existing.as_ref().is_some_and(|r| r.deleting) {
                return Err(ArmError::conflict(
                    "Conflict",
                    format!("The resource '{name}' is being deleted; retry when the deletion completes."),
                ));
            }
            let now = app.clock.now();
            let outcome = provider.put(
                &PutRequest {
                    path: &req.path,
                    id,
                    name,
                    body,
                    raw_body: &req.body,
                    existing: existing.as_ref(),
                    now,
                    clock: &app.clock,
                    caller: &req.caller,
                    faults,
                },
                state,
            )?;
            let mut written = match outcome {
                PutOutcome::Unchanged => {
                    let resource = existing.ok_or_else(|| ArmError::conflict("Conflict", "Nothing to update."))?;
                    let op = resource.pending_op.as_ref().and_then(|o| state.operation(o)).map(|o| (**o).clone());
                    return Ok((Txn::default(), PutAnswer::Unchanged { resource, op }));
                }
                PutOutcome::Write(w) => *w,
            };
            let stored_id = existing.as_ref().map_or(id.to_string(), |r| r.id.clone());
            let system = system_data(existing.as_ref().map(|r| r.body_value()).as_ref(), &req.caller, now);
            let provisioning = written.doc.pointer("/properties/provisioningState").and_then(|s| s.as_str());
            let mut status = OperationStatus::from_provisioning_state(provisioning.unwrap_or("Succeeded"));
            // A `failOperation` rule the provider did not take for its lifecycle: a write that is
            // done at once fails at once; otherwise the operation fails when its work completes.
            let injected = match spec.put {
                PutKind::AsyncOperation => faults.take_operation_failure().map(operation_error),
                PutKind::Sync | PutKind::SyncOk => None,
            };
            let mut failed_now = false;
            if let (Some(error), true) = (&injected, status.is_terminal()) {
                status = OperationStatus::Failed;
                failed_now = true;
                if let Some(props) = written.doc.get_mut("properties").and_then(|p| p.as_object_mut()) {
                    props.insert("provisioningState".into(), "Failed".into());
                    failed_now = false;
                }
                tracing::debug!(code = %error.code, "PUT fails by a fault rule");
            }
            let body = wrap(&stored_id, &spec.shown_name(&stored_id), spec.shown_type(), written.doc, system);
            // Operation URLs are placed by the body's own location (see `operation_location`).
            let placed =
                (spec.put == PutKind::AsyncOperation).then(|| serde_json::json!({ "location": body.get("location") }));
            let mut resource = stored(spec, stored_id, body);
            resource.sim = written.sim;
            resource.due = written.due;
            resource.failed = failed_now;
            let mut txn = written.also;
            // A newer write supersedes the operation of an earlier one.
            if let Some(old) = existing.as_ref().and_then(|r| r.pending_op.as_ref()).and_then(|o| state.operation(o)) {
                let mut old = (**old).clone();
                old.complete(OperationStatus::Canceled, now, None);
                txn.put_operation(old);
            }
            let op = (spec.put == PutKind::AsyncOperation).then(|| {
                let mut op = new_op(state, provider, req, OperationKind::Put, &resource.id, placed.as_ref(), now);
                if status.is_terminal() {
                    let error = if status == OperationStatus::Failed { injected.clone() } else { None };
                    op.complete(status, now, error);
                } else {
                    op.planned_failure = injected.clone().map(Box::new);
                    resource.pending_op = Some(op.id.clone());
                }
                txn.put_operation(op.clone());
                op
            });
            txn.put(resource.clone());
            Ok((txn, PutAnswer::Written { resource, created: existing.is_none(), op }))
        })
        .await?;
    let (status, resource, op) = match answer {
        PutAnswer::Written { resource, created, op } => {
            let created = created && !patching && spec.put != PutKind::SyncOk;
            (if created { StatusCode::CREATED } else { StatusCode::OK }, resource, op)
        }
        PutAnswer::Unchanged { resource, op } => {
            // Nothing was written: answer only with what is already on disk.
            app.store.until_durable(resource.seq.max(op.as_ref().map_or(0, |o| o.seq))).await?;
            (StatusCode::OK, resource, op)
        }
    };
    let doc = document::current_unkept(&app.registry, &resource, app.clock.now());
    let doc = super::shown::shown(spec, req.api_version(), None, doc);
    let mut response = json_with_etag(status, doc, &resource.etag);
    if let Some(op) = op {
        lro::add_headers(response.headers_mut(), &req.base(), &op, true, false);
    }
    Ok(response)
}

pub(super) async fn delete(
    app: &App,
    provider: &Provider,
    id: &str,
    name: &str,
    req: &ArmRequest,
    faults: &Deferred,
) -> Result<Response, ArmError> {
    let spec = provider.spec();
    let key = id.to_ascii_lowercase();
    let op = app
        .store
        .write(|state| {
            let Some(existing) = state.resource(&key) else {
                return Ok((Txn::default(), None));
            };
            check_preconditions(req.header("if-match"), req.header("if-none-match"), Some(&existing.etag))?;
            let pending = existing.pending_op.as_ref().and_then(|o| state.operation(o));
            if existing.deleting {
                return Ok((Txn::default(), pending.map(|o| (**o).clone())));
            }
            let now = app.clock.now();
            let mut txn = Txn::default();
            if let Some(old) = pending {
                let mut old = (**old).clone();
                old.complete(OperationStatus::Canceled, now, None);
                txn.put_operation(old);
            }
            let mut op =
                new_op(state, provider, req, OperationKind::Delete, &existing.id, Some(&existing.body_value()), now);
            op.planned_failure = faults.take_operation_failure().map(operation_error).map(Box::new);
            txn.extend(provider.deleting(existing, state, now)?);
            let mut resource = (**existing).clone();
            // The document shows `Deleting` from now on (see `document::current`).
            resource.deleting = true;
            resource.due = Some(now + app.clock.scaled(spec.delete_duration));
            resource.pending_op = Some(op.id.clone());
            txn.put(resource);
            txn.put_operation(op.clone());
            Ok::<_, ArmError>((txn, Some(op)))
        })
        .await?;
    match op {
        // Nothing was written for these answers: they wait for what they saw to be on disk.
        None => {
            app.store.read_durable(|_, latest| ((), latest)).await;
            match spec.delete_missing {
                DeleteMissing::NotFound => Err(not_found(provider, name, req)),
                DeleteMissing::NoContent => Ok(no_content(StatusCode::NO_CONTENT)),
            }
        }
        Some(op) => {
            app.store.until_durable(op.seq).await?;
            let mut response = no_content(StatusCode::ACCEPTED);
            lro::add_headers(
                response.headers_mut(),
                &req.base(),
                &op,
                spec.delete == LroHeaders::LocationAndAsyncOperation,
                true,
            );
            Ok(response)
        }
    }
}

/// What an action leads to: a long-running operation, or an answer at once.
enum Started {
    Operation(Box<OperationRecord>),
    Answered(u16, Option<serde_json::Value>),
}

/// The operation an action's outcome starts on the resource `id` (or its answer at once).
#[allow(clippy::too_many_arguments)]
fn started_by(
    app: &App,
    state: &State,
    provider: &Provider,
    req: &ArmRequest,
    outcome: super::contract::ActionOutcome,
    (id, placed): (&str, Option<&StoredResource>),
    now: chrono::DateTime<chrono::Utc>,
    faults: &Deferred,
) -> Result<(Txn, Started), ArmError> {
    if let Some((status, body)) = outcome.answered {
        return Ok((outcome.also, Started::Answered(status, body)));
    }
    let placed = placed.map(StoredResource::body_value);
    let mut op = new_op(state, provider, req, OperationKind::Action, id, placed.as_ref(), now);
    op.result = outcome.result.map(Box::new);
    op.planned_failure =
        outcome.planned_failure.or_else(|| faults.take_operation_failure().map(operation_error)).map(Box::new);
    let mut txn = outcome.also;
    let follows = outcome.ends_with.and_then(|k| txn.put_resources.iter_mut().find(|r| r.key() == k));
    match follows {
        // The lifecycle's completion ends the operation (see `Engine::step`).
        Some(followed) => followed.pending_op = Some(op.id.clone()),
        None => op.due = Some(now + app.clock.scaled(outcome.duration)),
    }
    txn.put_operation(op.clone());
    Ok((txn, Started::Operation(Box::new(op))))
}

pub(super) async fn action_endpoint(
    app: &App,
    provider: &Provider,
    id: &str,
    action: &'static ActionName,
    req: &ArmRequest,
    faults: &Deferred,
) -> Result<Response, ArmError> {
    let body = req.json_body()?;
    let key = id.to_ascii_lowercase();
    let name = id.rsplit('/').next().unwrap_or_default().to_string();
    let started = app
        .store
        .write(|state| {
            let now = app.clock.now();
            if provider.checks().contains(&action.path) {
                let request = CheckRequest {
                    path: &req.path,
                    action: action.path,
                    id,
                    name: &name,
                    existing: state.resource(&key).map(|r| &**r),
                    body,
                    raw_body: &req.body,
                    now,
                    clock: &app.clock,
                    caller: &req.caller,
                };
                let outcome = provider.check(&request, state)?;
                return started_by(app, state, provider, req, outcome, (id, None), now, faults);
            }
            let resource =
                state.resource(&key).filter(|r| !r.deleting).ok_or_else(|| not_found(provider, &name, req))?;
            let request = ActionRequest {
                path: &req.path,
                action: action.path,
                resource,
                body,
                query: &req.query,
                now,
                clock: &app.clock,
                caller: &req.caller,
                faults,
            };
            let outcome = provider.action(&request, state)?;
            started_by(app, state, provider, req, outcome, (&resource.id, Some(resource)), now, faults)
        })
        .await?;
    let op = match started {
        Started::Operation(op) => op,
        Started::Answered(status, body) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            return Ok(match body {
                Some(body) => super::respond::json_response(status, &body),
                None => no_content(status),
            });
        }
    };
    let mut response = no_content(StatusCode::ACCEPTED);
    let both = provider.spec().action_headers == LroHeaders::LocationAndAsyncOperation;
    lro::add_headers(response.headers_mut(), &req.base(), &op, both, true);
    Ok(response)
}

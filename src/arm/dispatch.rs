//! Routes an ARM request to its provider and answers with ARM's protocol:
//! status codes, LRO headers, ETags, paging and the error envelope.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::envelope::{check_preconditions, new_etag, system_data, wrap};
use super::lro::{self, NewOperation};
use super::paging::{page, PageRequest};
use super::request::ArmRequest;
use super::respond::{json_bytes, json_with_etag, no_content};
use super::{api_version, ArmError};
use crate::app::App;
use crate::providers::{ActionRequest, DeleteMissing, LroHeaders, PutKind, PutOutcome, PutRequest, ResourceProvider};
use crate::store::{OperationKind, OperationRecord, OperationStatus, State, StoredResource, Txn};

type Provider = Arc<dyn ResourceProvider>;

enum Target {
    Item { provider: Provider, id: String, name: String, parent: Option<(Provider, String)> },
    Collection { provider: Provider, parent: Option<(Provider, String)>, parent_id: String, segment: String },
    Action { provider: Provider, id: String, action: String },
    Operation { id: String, result: bool },
}

const RESOURCE_GROUPS: &str = "microsoft.resources/resourcegroups";

pub async fn handle(app: Arc<App>, req: ArmRequest) -> Response {
    match route(&app, &req).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn route(app: &App, req: &ArmRequest) -> Result<Response, ArmError> {
    let target = resolve(app, req)?;
    if let Target::Operation { id, result } = &target {
        return operation_endpoint(app, req, id, *result).await;
    }
    let provider = match &target {
        Target::Item { provider, .. } | Target::Collection { provider, .. } | Target::Action { provider, .. } => {
            provider.clone()
        }
        Target::Operation { .. } => unreachable!("handled above"),
    };
    let spec = provider.spec();
    api_version::check(req.api_version(), spec.api_versions, spec.full_type(), spec.owner, app.api_check)?;
    let is_group_itself =
        matches!(&target, Target::Item { provider, .. } if provider.spec().type_key() == RESOURCE_GROUPS);
    if let (Some(group), false) = (&req.path.resource_group, is_group_itself) {
        let key = format!("/subscriptions/{}/resourcegroups/{}", req.path.subscription, group).to_ascii_lowercase();
        if app.store.read(|s| s.resource(&key).is_none()) {
            return Err(ArmError::not_found(
                "ResourceGroupNotFound",
                format!("Resource group '{group}' could not be found."),
            ));
        }
    }
    match target {
        Target::Item { provider, id, name, parent } => {
            if req.method != Method::DELETE {
                require_parent(app, parent.as_ref())?;
            }
            match req.method {
                Method::GET => get(app, &provider, &id, &name, req).await,
                Method::HEAD => head(app, &id).await,
                Method::PUT => put(app, &provider, &id, &name, req).await,
                Method::DELETE => delete(app, &provider, &id, &name, req).await,
                _ => Err(ArmError::method_not_allowed(req.method.as_str(), &req.raw_path)),
            }
        }
        Target::Collection { provider, parent, parent_id, segment } => {
            require_parent(app, parent.as_ref())?;
            match req.method {
                Method::GET => list(app, &provider, &parent_id, &segment, req).await,
                _ => Err(ArmError::method_not_allowed(req.method.as_str(), &req.raw_path)),
            }
        }
        Target::Action { provider, id, action } => action_endpoint(app, &provider, &id, &action, req).await,
        Target::Operation { .. } => unreachable!("handled above"),
    }
}

fn invalid_type(req: &ArmRequest) -> ArmError {
    let (ns, ty) = match &req.path.target {
        Some(t) => (t.namespace.clone(), req.path.type_key(true).unwrap_or_default()),
        None => ("Microsoft.Resources".into(), req.path.trailing.clone().unwrap_or_default()),
    };
    ArmError::not_found(
        "InvalidResourceType",
        format!(
            "The resource type '{ty}' could not be found in the namespace '{ns}' for api version '{}'.",
            req.api_version().unwrap_or("")
        ),
    )
}

fn resolve(app: &App, req: &ArmRequest) -> Result<Target, ArmError> {
    let path = &req.path;
    let registry = &app.registry;
    let groups = || registry.get(RESOURCE_GROUPS).cloned().ok_or_else(|| invalid_type(req));
    validate_names(app, req)?;
    let Some(section) = &path.target else {
        return match (&path.resource_group, &path.trailing) {
            (Some(group), None) => Ok(Target::Item {
                provider: groups()?,
                id: format!("/subscriptions/{}/resourceGroups/{group}", path.subscription),
                name: group.clone(),
                parent: None,
            }),
            (None, Some(t)) if t.eq_ignore_ascii_case("resourceGroups") => Ok(Target::Collection {
                provider: groups()?,
                parent: None,
                parent_id: format!("/subscriptions/{}", path.subscription),
                segment: "/resourcegroups/".into(),
            }),
            _ => Err(invalid_type(req)),
        };
    };
    if !registry.knows_namespace(&section.namespace) {
        return Err(invalid_type(req));
    }
    // Operation status and result endpoints.
    if path.resource_group.is_none()
        && path.scope_sections.is_empty()
        && path.trailing.is_none()
        && section.pairs.len() == 2
    {
        let (first, _) = &section.pairs[0];
        let (second, id) = &section.pairs[1];
        if first.eq_ignore_ascii_case("locations") {
            let result = second.eq_ignore_ascii_case("operationResults");
            if result || second.eq_ignore_ascii_case("operationStatuses") {
                return Ok(Target::Operation { id: id.clone(), result });
            }
        }
    }
    let depth = path.depth();
    let parent_of = |level: usize| -> Option<(Provider, String)> {
        if level == 0 {
            return None;
        }
        let mut key = section.namespace.to_ascii_lowercase();
        for (t, _) in section.pairs.iter().take(level) {
            key.push('/');
            key.push_str(&t.to_ascii_lowercase());
        }
        registry.get(&key).cloned().map(|p| (p, path.resource_id(level)))
    };
    match &path.trailing {
        None if depth > 0 => {
            let provider =
                registry.get(&path.type_key(false).unwrap_or_default()).cloned().ok_or_else(|| invalid_type(req))?;
            Ok(Target::Item {
                provider,
                id: path.resource_id(depth),
                name: path.name_at(depth - 1).unwrap_or_default().to_string(),
                parent: parent_of(depth - 1),
            })
        }
        None => Err(invalid_type(req)),
        Some(trailing) => {
            if let Some(provider) = registry.get(&path.type_key(true).unwrap_or_default()) {
                let segment = if depth == 0 {
                    format!("/providers/{}/{}/", section.namespace, trailing)
                } else {
                    format!("/{trailing}/")
                };
                return Ok(Target::Collection {
                    provider: provider.clone(),
                    parent: parent_of(depth),
                    parent_id: path.resource_id(depth),
                    segment: segment.to_ascii_lowercase(),
                });
            }
            let item = registry.get(&path.type_key(false).unwrap_or_default()).filter(|_| depth > 0);
            match item {
                Some(provider) if provider.spec().actions.iter().any(|a| a.eq_ignore_ascii_case(trailing)) => {
                    if req.method != Method::POST {
                        return Err(ArmError::method_not_allowed(req.method.as_str(), &req.raw_path));
                    }
                    Ok(Target::Action {
                        provider: provider.clone(),
                        id: path.resource_id(depth),
                        action: trailing.to_ascii_lowercase(),
                    })
                }
                _ => Err(invalid_type(req)),
            }
        }
    }
}

/// Every name in the target section is checked against its type's rule.
fn validate_names(app: &App, req: &ArmRequest) -> Result<(), ArmError> {
    if let Some(group) = &req.path.resource_group {
        if let Some(provider) = app.registry.get(RESOURCE_GROUPS) {
            (provider.spec().name_rule)(group).map_err(|rule| {
                ArmError::bad_request(
                    "InvalidResourceGroupName",
                    format!("The resource group name '{group}' is invalid: {rule}."),
                )
            })?;
        }
    }
    let Some(section) = &req.path.target else {
        return Ok(());
    };
    let mut key = section.namespace.to_ascii_lowercase();
    for (t, name) in &section.pairs {
        key.push('/');
        key.push_str(&t.to_ascii_lowercase());
        if let Some(provider) = app.registry.get(&key) {
            (provider.spec().name_rule)(name).map_err(|rule| {
                ArmError::bad_request(
                    "InvalidResourceName",
                    format!("The resource name '{name}' is invalid. It must match the pattern {rule}."),
                )
                .with_target(t.clone())
            })?;
        }
    }
    Ok(())
}

fn require_parent(app: &App, parent: Option<&(Provider, String)>) -> Result<(), ArmError> {
    let Some((provider, id)) = parent else {
        return Ok(());
    };
    if app.store.read(|s| s.resource(&id.to_ascii_lowercase()).is_some_and(|r| !r.deleting)) {
        return Ok(());
    }
    let name = id.rsplit('/').next().unwrap_or_default();
    Err(ArmError::not_found(
        "ParentResourceNotFound",
        format!(
            "Can not perform requested operation on nested resource. Parent resource '{name}' of type '{}' not found.",
            provider.spec().full_type()
        ),
    ))
}

fn not_found(provider: &Provider, name: &str, req: &ArmRequest) -> ArmError {
    if provider.spec().type_key() == RESOURCE_GROUPS {
        return ArmError::not_found("ResourceGroupNotFound", format!("Resource group '{name}' could not be found."));
    }
    ArmError::resource_not_found(provider.spec().full_type(), name, req.path.resource_group.as_deref())
}

/// The resource at `id`, once it is on disk; `None` once its absence is.
async fn durable_resource(app: &App, id: &str) -> Option<Arc<StoredResource>> {
    let key = id.to_ascii_lowercase();
    app.store
        .read_durable(|s, latest| {
            let found = s.resource(&key).cloned();
            let seq = found.as_ref().map_or(latest, |r| r.seq);
            (found, seq)
        })
        .await
}

async fn get(app: &App, provider: &Provider, id: &str, name: &str, req: &ArmRequest) -> Result<Response, ArmError> {
    let resource = durable_resource(app, id).await.ok_or_else(|| not_found(provider, name, req))?;
    if let Some(tag) = req.header("if-none-match") {
        if tag.split(',').any(|t| t.trim() == resource.etag || t.trim() == "*") {
            return Ok(no_content(StatusCode::NOT_MODIFIED));
        }
    }
    Ok(json_with_etag(StatusCode::OK, resource.body_json(), &resource.etag))
}

async fn head(app: &App, id: &str) -> Result<Response, ArmError> {
    let exists = durable_resource(app, id).await.is_some();
    Ok(no_content(if exists { StatusCode::NO_CONTENT } else { StatusCode::NOT_FOUND }))
}

async fn list(
    app: &App,
    provider: &Provider,
    parent_id: &str,
    segment: &str,
    req: &ArmRequest,
) -> Result<Response, ArmError> {
    let paging = PageRequest::parse(req.query("$top"), req.query("$skipToken"))?;
    let type_key = provider.spec().type_key();
    let parent_key = parent_id.to_ascii_lowercase();
    let api_version = req.api_version().unwrap_or_default().to_string();
    let top = req.query("$top").map(str::to_string);
    // A list also shows what is absent: it waits for every write made before it.
    let items: Vec<(String, Bytes)> = app
        .store
        .read_durable(|s, latest| {
            let items = s
                .children(&parent_key, segment, type_key)
                .filter(|r| paging.after.as_deref().is_none_or(|a| r.key().as_str() > a))
                .take(paging.top + 1)
                .map(|r| (r.key(), r.body_json()))
                .collect();
            (items, latest)
        })
        .await;
    let body = page(items.into_iter(), &paging, |token| {
        let mut url = format!("{}{}?api-version={}", req.base(), req.raw_path, api_version);
        if let Some(t) = &top {
            url.push_str(&format!("&%24top={t}"));
        }
        url.push_str(&format!("&%24skipToken={token}"));
        url
    });
    Ok(json_bytes(StatusCode::OK, body))
}

/// Where operation URLs live: the resource group's location, else `global`.
fn operation_location(state: &State, req: &ArmRequest, own_body: Option<&serde_json::Value>) -> String {
    let from_group = req.path.resource_group.as_ref().and_then(|g| {
        let key = format!("/subscriptions/{}/resourcegroups/{}", req.path.subscription, g).to_ascii_lowercase();
        state.resource(&key).and_then(|r| r.body.get("location").and_then(|l| l.as_str()).map(str::to_string))
    });
    from_group
        .or_else(|| own_body.and_then(|b| b.get("location")).and_then(|l| l.as_str()).map(str::to_string))
        .unwrap_or_else(|| "global".into())
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
        subscription: &req.path.subscription,
        namespace: provider.spec().namespace,
        location: &operation_location(state, req, body),
        api_version: req.api_version().unwrap_or_default(),
        now,
    })
}

enum PutAnswer {
    Written { resource: StoredResource, created: bool, op: Option<OperationRecord> },
    Unchanged { resource: StoredResource, op: Option<OperationRecord> },
}

async fn put(app: &App, provider: &Provider, id: &str, name: &str, req: &ArmRequest) -> Result<Response, ArmError> {
    let body = req.required_json_body()?;
    let spec = provider.spec();
    let key = id.to_ascii_lowercase();
    let answer = app
        .store
        .write(|state| {
            let existing = state.resource(&key).map(|r| (**r).clone());
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
                    existing: existing.as_ref(),
                    now,
                    clock: &app.clock,
                    caller: &req.caller,
                },
                state,
            )?;
            let written = match outcome {
                PutOutcome::Unchanged => {
                    let resource = existing.ok_or_else(|| ArmError::conflict("Conflict", "Nothing to update."))?;
                    let op = resource.pending_op.as_ref().and_then(|o| state.operation(o)).map(|o| (**o).clone());
                    return Ok((Txn::default(), PutAnswer::Unchanged { resource, op }));
                }
                PutOutcome::Write(w) => *w,
            };
            let stored_id = existing.as_ref().map_or(id.to_string(), |r| r.id.clone());
            let system = system_data(existing.as_ref().map(|r| &r.body), &req.caller, now);
            let body = wrap(&stored_id, name, spec.full_type(), written.doc, system);
            let mut resource = StoredResource::new(stored_id, spec.type_key().to_string(), body, new_etag());
            resource.sim = written.sim;
            resource.due = written.due;
            let mut txn = written.also;
            // A newer write supersedes the operation of an earlier one.
            if let Some(old) = existing.as_ref().and_then(|r| r.pending_op.as_ref()).and_then(|o| state.operation(o)) {
                let mut old = (**old).clone();
                old.complete(OperationStatus::Canceled, now, None);
                txn.put_operation(old);
            }
            let op = (spec.put == PutKind::AsyncOperation).then(|| {
                let mut op = new_op(state, provider, req, OperationKind::Put, &resource.id, Some(&resource.body), now);
                let status =
                    OperationStatus::from_provisioning_state(resource.provisioning_state().unwrap_or("Succeeded"));
                if status.is_terminal() {
                    op.complete(status, now, None);
                } else {
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
            (if created { StatusCode::CREATED } else { StatusCode::OK }, resource, op)
        }
        PutAnswer::Unchanged { resource, op } => {
            // Nothing was written: answer only with what is already on disk.
            app.store.until_durable(resource.seq.max(op.as_ref().map_or(0, |o| o.seq))).await;
            (StatusCode::OK, resource, op)
        }
    };
    let mut response = json_with_etag(status, resource.body_json(), &resource.etag);
    if let Some(op) = op {
        lro::add_headers(response.headers_mut(), &req.base(), &op, true, false);
    }
    Ok(response)
}

async fn delete(app: &App, provider: &Provider, id: &str, name: &str, req: &ArmRequest) -> Result<Response, ArmError> {
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
            let op = new_op(state, provider, req, OperationKind::Delete, &existing.id, Some(&existing.body), now);
            let mut resource = (**existing).clone();
            resource.deleting = true;
            resource.due = Some(now + app.clock.scaled(spec.delete_duration));
            resource.pending_op = Some(op.id.clone());
            if let Some(props) = resource.body.get_mut("properties").and_then(|p| p.as_object_mut()) {
                props.insert("provisioningState".into(), "Deleting".into());
            }
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
            app.store.until_durable(op.seq).await;
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

async fn action_endpoint(
    app: &App,
    provider: &Provider,
    id: &str,
    action: &str,
    req: &ArmRequest,
) -> Result<Response, ArmError> {
    let body = req.json_body()?;
    let key = id.to_ascii_lowercase();
    let name = id.rsplit('/').next().unwrap_or_default().to_string();
    let op = app
        .store
        .write(|state| {
            let resource =
                state.resource(&key).filter(|r| !r.deleting).ok_or_else(|| not_found(provider, &name, req))?;
            let now = app.clock.now();
            let outcome = provider.action(&ActionRequest { path: &req.path, action, resource, body, now }, state)?;
            let mut op = new_op(state, provider, req, OperationKind::Action, &resource.id, Some(&resource.body), now);
            op.result = outcome.result;
            op.due = Some(now + app.clock.scaled(outcome.duration));
            let mut txn = Txn::default();
            txn.put_operation(op.clone());
            Ok::<_, ArmError>((txn, op))
        })
        .await?;
    let mut response = no_content(StatusCode::ACCEPTED);
    let both = provider.spec().action_headers == LroHeaders::LocationAndAsyncOperation;
    lro::add_headers(response.headers_mut(), &req.base(), &op, both, true);
    Ok(response)
}

async fn operation_endpoint(app: &App, req: &ArmRequest, id: &str, result: bool) -> Result<Response, ArmError> {
    if req.method != Method::GET {
        return Err(ArmError::method_not_allowed(req.method.as_str(), &req.raw_path));
    }
    if req.api_version().is_none_or(str::is_empty) {
        return api_version::check(None, &[], "operations", super::TypeOwner::Provider, app.api_check)
            .map(|_| no_content(StatusCode::OK));
    }
    let (op, resource) = app
        .store
        .read_durable(|s, latest| {
            let op = s.operation(id).cloned();
            let resource = op.as_ref().and_then(|o| s.resource(&o.resource_id.to_ascii_lowercase()));
            let seq = match (&op, resource) {
                (Some(o), Some(r)) => o.seq.max(r.seq),
                (Some(o), None) => o.seq,
                (None, _) => latest,
            };
            ((op, resource.map(|r| r.body_json())), seq)
        })
        .await;
    let op = op
        .filter(|o| o.subscription.eq_ignore_ascii_case(&req.path.subscription))
        .ok_or_else(|| ArmError::not_found("OperationNotFound", format!("The operation '{id}' could not be found.")))?;
    let mut response =
        if result { lro::result_response(&req.base(), &op, resource) } else { lro::status_response(&op) };
    if let Ok(v) = HeaderValue::from_str(&op.id) {
        response.headers_mut().insert("x-ms-operation-id", v);
    }
    Ok(response)
}

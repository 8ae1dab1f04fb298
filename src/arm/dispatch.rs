//! Routes an ARM request to its provider and answers with ARM's protocol:
//! status codes, LRO headers, ETags, paging and the error envelope. Which target a path names
//! is in `resolve`; the answers are in `reads` and `writes`.

use std::sync::Arc;

use axum::http::Method;
use axum::response::{IntoResponse, Response};

use super::contract::ResourceProvider;
use super::operation_id::operation_id;
use super::reads::{get, head, list, operation_endpoint, view};
use super::request::ArmRequest;
use super::resolve::{resolve, Target};
use super::writes::{action_endpoint, delete, patch, put};
use super::{api_version, fault_response, ApiVersionCheck, ArmError};
use crate::app::App;
use crate::faults::{Deferred, RequestFacts};

pub(super) type Provider = Arc<dyn ResourceProvider>;

pub(super) const RESOURCE_GROUPS: &str = "microsoft.resources/resourcegroups";

/// The answer, and the spec's operationId for the request (what metrics and the journal call it).
pub async fn handle(app: &App, req: ArmRequest) -> (Response, Option<&'static str>) {
    let target = resolve(app, &req);
    let operation = target.as_ref().ok().and_then(|t| operation_id(t, &req.method));
    let faults = app.faults.on_request(&RequestFacts {
        method: req.method.as_str(),
        path: req.raw_path(),
        resource_id: target.as_ref().ok().and_then(Target::resource_id),
        operation,
        subscription: Some(req.path.subscription()),
    });
    let response = if faults.drop_connection {
        fault_response::dropped()
    } else if let Some(error) = &faults.error {
        fault_response::injected(error, &req.method)
    } else {
        let routed = match target {
            Ok(target) => route(app, &req, target, &faults.deferred, operation).await,
            Err(e) => Err(e),
        };
        routed.unwrap_or_else(IntoResponse::into_response)
    };
    if let Some(delay) = faults.latency {
        tokio::time::sleep(delay).await;
    }
    (response, operation)
}

/// What the journal and metrics call a request, handed back with its response.
#[derive(Debug, Clone, Default)]
pub struct RequestNames {
    /// The spec's operationId.
    pub operation: Option<&'static str>,
    pub caller: Option<std::sync::Arc<str>>,
}

async fn route(
    app: &App,
    req: &ArmRequest,
    target: Target<'_>,
    faults: &Deferred,
    operation: Option<&'static str>,
) -> Result<Response, ArmError> {
    if let Target::Operation { id, result } = &target {
        return operation_endpoint(app, req, id, *result).await;
    }
    if let Target::Platform(platform) = target {
        return super::platform::answer(app, req, platform).await;
    }
    if let Target::Catalog(catalog) = &target {
        return super::catalog::answer(app, req, catalog);
    }
    let provider = match &target {
        Target::Item { provider, .. }
        | Target::Collection { provider, .. }
        | Target::Action { provider, .. }
        | Target::View { provider, .. } => *provider,
        Target::Operation { .. } | Target::Platform(_) | Target::Catalog(_) => unreachable!("handled above"),
    };
    let spec = provider.spec();
    // A type without published versions (a generic one) takes any well-formed api-version.
    let check = if spec.versions.published.is_empty() { ApiVersionCheck::Lenient } else { app.api_check };
    api_version::check(req.api_version(), spec.versions.published, spec.full_type(), spec.owner, check)?;
    let is_group_itself =
        matches!(&target, Target::Item { provider, .. } if provider.spec().type_key() == RESOURCE_GROUPS);
    // The target's store key, made once: the keys of its group and parent are its prefixes.
    let key = target.resource_id().map(str::to_ascii_lowercase);
    require_scope(app, req, &target, key.as_deref(), is_group_itself)?;
    match target {
        Target::Item { provider, .. } if !provider.writable() && !matches!(req.method, Method::GET | Method::HEAD) => {
            Err(ArmError::method_not_allowed(req.method.as_str(), req.raw_path()))
        }
        Target::Item { provider, id, name, parent } => {
            let key = key.unwrap_or_else(|| id.to_ascii_lowercase());
            match req.method {
                Method::GET => {
                    let group = req.path.resource_group().filter(|_| !is_group_itself).map(|g| {
                        "/subscriptions/".len() + req.path.subscription().len() + "/resourcegroups/".len() + g.len()
                    });
                    let scope = Scope { group, parent: parent.map(|(_, id)| id.len()), operation };
                    get(app, provider, &key, &name, req, scope).await
                }
                Method::HEAD => head(app, &key).await,
                Method::PUT => put(app, provider, &id, &name, req, faults).await,
                Method::DELETE => delete(app, provider, &id, &name, req, faults).await,
                Method::PATCH => patch(app, provider, &id, &name, req, faults).await,
                _ => Err(ArmError::method_not_allowed(req.method.as_str(), req.raw_path())),
            }
        }
        Target::Collection { provider, parent_id, segment, .. } => match req.method {
            Method::GET => list(app, provider, &parent_id, &segment, req).await,
            _ => Err(ArmError::method_not_allowed(req.method.as_str(), req.raw_path())),
        },
        Target::Action { provider, id, action } => action_endpoint(app, provider, &id, action, req, faults).await,
        Target::View { provider, id, view: spec } => {
            let key = key.unwrap_or_else(|| id.to_ascii_lowercase());
            view(app, provider, &id, &key, spec.path, req).await
        }
        Target::Operation { .. } | Target::Platform(_) | Target::Catalog(_) => unreachable!("handled above"),
    }
}

/// What a GET's answer stands on beside its resource: the lengths of its group's and parent's
/// keys (prefixes of its own), and the operationId it answers as.
pub(super) struct Scope {
    pub group: Option<usize>,
    pub parent: Option<usize>,
    pub operation: Option<&'static str>,
}

/// The store's key of a resource group.
pub(super) fn group_key(subscription: &str, group: &str) -> String {
    let mut key = String::with_capacity(32 + subscription.len() + group.len());
    key.push_str("/subscriptions/");
    key.push_str(subscription);
    key.push_str("/resourcegroups/");
    key.push_str(group);
    key.make_ascii_lowercase();
    key
}

/// Refuses a request whose resource group, or parent resource, does not exist (a parent being
/// deleted counts as gone; a DELETE needs no parent). Checked under one hold of the store.
/// `key`, the target's lower-cased id, has both their keys as prefixes.
fn require_scope(
    app: &App,
    req: &ArmRequest,
    target: &Target<'_>,
    key: Option<&str>,
    is_group_itself: bool,
) -> Result<(), ArmError> {
    let path = &req.path;
    let group = path.resource_group().filter(|_| !is_group_itself);
    let parent = match target {
        Target::Item { parent, .. } if req.method != Method::DELETE => parent.as_ref(),
        Target::Collection { parent, .. } => parent.as_ref(),
        _ => None,
    };
    let (group_missing, parent_missing) = app.store.read(|s| {
        let group_missing = group.is_some_and(|g| {
            let len = "/subscriptions/".len() + path.subscription().len() + "/resourcegroups/".len() + g.len();
            match key.and_then(|k| k.get(..len)) {
                Some(group_key) => s.resource(group_key).is_none(),
                None => s.resource(&group_key(path.subscription(), g)).is_none(),
            }
        });
        let live = |k: &str| s.resource(k).is_some_and(|r| !r.deleting);
        let parent_missing = !group_missing
            && parent.is_some_and(|(_, id)| match key.and_then(|k| k.get(..id.len())) {
                Some(parent_key) => !live(parent_key),
                None => !live(&id.to_ascii_lowercase()),
            });
        (group_missing, parent_missing)
    });
    if let (true, Some(group)) = (group_missing, group) {
        return Err(ArmError::resource_group_not_found(group));
    }
    match parent {
        Some((provider, id)) if parent_missing => {
            let name = id.rsplit('/').next().unwrap_or_default();
            Err(ArmError::not_found(
                "ParentResourceNotFound",
                format!(
                    "Can not perform requested operation on nested resource. Parent resource '{name}' of type '{}' not found.",
                    provider.spec().full_type()
                ),
            ))
        }
        _ => Ok(()),
    }
}

pub(super) fn not_found(provider: &Provider, name: &str, req: &ArmRequest) -> ArmError {
    if provider.spec().type_key() == RESOURCE_GROUPS {
        return ArmError::resource_group_not_found(name);
    }
    if let Some((code, message)) = provider.spec().missing {
        return ArmError::not_found(code, message);
    }
    ArmError::resource_not_found(provider.spec().full_type(), name, req.path.resource_group())
}

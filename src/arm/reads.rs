//! Answers that read: GET, HEAD, lists and the operation endpoints. Each waits until what it
//! returns is on disk.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;

use super::answers::{Answer, Shows};
use super::contract::{Holds, ListOrder, ReadQuery};
use super::dispatch::{not_found, Provider, Scope};
use super::document;
use super::document::Served;
use super::lro;
use super::paging::{page, PageRequest};
use super::request::ArmRequest;
use super::respond::{json_bytes, json_with_etag, no_content};
use super::{api_version, ArmError};
use crate::app::App;
use crate::store::{HotCache, OperationRecord, StoredResource, TimedCache};

/// The resource at `key` (its lower-cased id), once it is on disk; `None` once its absence is.
async fn durable_resource(app: &App, key: &str) -> Option<Arc<StoredResource>> {
    app.store
        .read_durable(|s, latest| {
            let found = s.resource(key).cloned();
            let seq = found.as_ref().map_or(latest, |r| r.seq);
            (found, seq)
        })
        .await
}

/// GET of the resource at `key` (its lower-cased id). A plain GET's answer is kept for the
/// next one (see `answers`).
pub(super) async fn get(
    app: &App,
    provider: &Provider,
    key: &str,
    name: &str,
    req: &ArmRequest,
    scope: Scope,
) -> Result<Response, ArmError> {
    let resource = durable_resource(app, key).await.ok_or_else(|| not_found(provider, name, req))?;
    let conditional = req.header("if-none-match");
    if let Some(tag) = conditional {
        if tag.split(',').any(|t| t.trim() == resource.etag || t.trim() == "*") {
            return Ok(no_content(StatusCode::NOT_MODIFIED));
        }
    }
    let now = app.clock.now();
    let (doc, settled, served) = document::current_served(&app.registry, &resource, now);
    if settled {
        app.store.materialize(vec![(resource.clone(), doc.clone())]);
    }
    let doc = presented(provider, req, &resource, doc, now, false);
    let response = json_with_etag(StatusCode::OK, doc.clone(), &resource.etag);
    let until = match served {
        Served::UntilNewVersion => Some(None),
        Served::Until(at) => Some(Some(at)),
        Served::Now => None,
    };
    if let (Some(until), None) = (until, conditional) {
        let shows =
            Shows::Resource { version: resource.clone(), key: key.into(), group: scope.group, parent: scope.parent };
        keep_answer(app, req, shows, now, until, &response, doc, scope.operation);
    }
    Ok(response)
}

/// Keeps a plain GET's answer for the next one (`$expand` and friends add what follows the
/// time, and are answered in full).
#[allow(clippy::too_many_arguments)]
fn keep_answer(
    app: &App,
    req: &ArmRequest,
    shows: Shows,
    now: chrono::DateTime<chrono::Utc>,
    until: Option<chrono::DateTime<chrono::Utc>>,
    response: &Response,
    body: Bytes,
    operation: Option<&'static str>,
) {
    let Some(query) = req.query.only_api_version() else { return };
    let answer = Answer {
        shows,
        subscription: req.path.subscription().into(),
        from: now,
        until,
        status: response.status(),
        headers: response.headers().clone(),
        body,
        operation,
    };
    app.answers.keep(format!("{}?{query}", req.raw_path()), answer);
}

/// The document as the request sees it: in its api-version's shape, with what `$expand` (or a
/// list's `statusOnly`) asks for.
fn presented(
    provider: &Provider,
    req: &ArmRequest,
    resource: &StoredResource,
    doc: Bytes,
    now: chrono::DateTime<chrono::Utc>,
    status_only: bool,
) -> Bytes {
    let expand = req.query("$expand");
    let doc = expanded(provider, expand, req.query("$select"), status_only, resource, doc, now);
    super::shown::shown(provider.spec(), req.api_version(), expand, doc)
}

/// The document with what `$expand` (or `$select`) asks for, when the provider has it.
fn expanded(
    provider: &Provider,
    expand: Option<&str>,
    select: Option<&str>,
    status_only: bool,
    resource: &StoredResource,
    doc: Bytes,
    now: chrono::DateTime<chrono::Utc>,
) -> Bytes {
    if expand.is_none() && select.is_none() && !status_only {
        return doc;
    }
    let query = ReadQuery { expand: expand.map(str::to_string), select: select.map(str::to_string), status_only };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&doc) else { return doc };
    match provider.expanded(&value, &query, resource, now) {
        Some(more) => crate::store::to_bytes(&more),
        None => doc,
    }
}

/// GET of a read-only view below a resource (`…/instanceView`); `key` is its lower-cased id.
pub(super) async fn view(
    app: &App,
    provider: &Provider,
    id: &str,
    key: &str,
    view: &'static str,
    req: &ArmRequest,
) -> Result<Response, ArmError> {
    if req.method != Method::GET {
        return Err(ArmError::method_not_allowed(req.method.as_str(), req.raw_path()));
    }
    let name = id.rsplit('/').next().unwrap_or_default();
    let now = app.clock.now();
    // A view reads the resource and what lies under it (a set's VMs): it waits for them all.
    let body = app
        .store
        .read_durable(|s, latest| match s.resource(key) {
            Some(resource) => {
                let mut prefix = key.to_string();
                prefix.push('/');
                let seq = s.with_prefix(&prefix).map(|r| r.seq).fold(resource.seq, u64::max);
                (holding_view(provider, view, resource, s, now), seq)
            }
            None => (Err(not_found(provider, name, req)), latest),
        })
        .await?;
    Ok(json_bytes(StatusCode::OK, body))
}

/// Views that hold a while (see [`Holds`]), by the version and the view: a client polling one
/// is answered without rendering it again.
static HOLDING_VIEWS: TimedCache = TimedCache::new(4 * 1024 * 1024);

fn holding_view(
    provider: &Provider,
    view: &'static str,
    resource: &Arc<StoredResource>,
    state: &crate::store::State,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Bytes, ArmError> {
    let slot = view.as_ptr() as usize;
    if let Some(doc) = HOLDING_VIEWS.get(resource, slot, now) {
        return Ok(doc);
    }
    let rendered = provider.view(view, resource, state, now)?;
    let until = match rendered.holds {
        Holds::Settled | Holds::UntilNewVersion => None,
        Holds::Until(at) => Some(at),
        Holds::Now => return Ok(rendered.doc),
    };
    HOLDING_VIEWS.keep(resource, slot, now, until, rendered.doc.clone());
    Ok(rendered.doc)
}

pub(super) async fn head(app: &App, key: &str) -> Result<Response, ArmError> {
    let exists = durable_resource(app, key).await.is_some();
    Ok(no_content(if exists { StatusCode::NO_CONTENT } else { StatusCode::NOT_FOUND }))
}

/// A key whose last segment, a number, is padded so that keys sort as the numbers do (also
/// the page token of such lists).
fn numeric_order_key(key: &str) -> String {
    let (parent, name) = key.rsplit_once('/').unwrap_or(("", key));
    format!("{parent}/{name:0>20}")
}

pub(super) async fn list(
    app: &App,
    provider: &Provider,
    parent_id: &str,
    segment: &str,
    req: &ArmRequest,
) -> Result<Response, ArmError> {
    let paging = PageRequest::parse(req.query("$top"), req.query("$skipToken"))?;
    // Compute's lists take `statusOnly=true` to add each VM's instance view.
    let status_only = req.query("statusOnly").is_some_and(|s| s.eq_ignore_ascii_case("true"));
    let type_key = provider.spec().type_key();
    let parent_key = parent_id.to_ascii_lowercase();
    let api_version = req.api_version().unwrap_or_default().to_string();
    let top = req.query("$top").map(str::to_string);
    // The next page is asked with the same options.
    let odata: Vec<(&str, String)> = ["expand", "select", "filter"]
        .into_iter()
        .filter_map(|name| {
            let value = req.query(&format!("${name}"))?;
            Some((name, form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>()))
        })
        .collect();
    let now = app.clock.now();
    // A list also shows what is absent: it waits for every write made before it.
    let mut settled = Vec::new();
    // A type that lists across a subscription (`ListBySubscription`, `ListAll`): every one in
    // its resource groups. Extension types listed at a subscription scope stay direct children.
    let whole_subscription = provider.spec().operations.list_in_subscription.is_some()
        && parent_key.matches('/').count() == 2
        && segment.starts_with("/providers/");
    let subscription_prefix = format!("{parent_key}/");
    let filter = match req.query("$filter") {
        Some(f) => provider.list_filter(f)?,
        None => None,
    };
    let kept = |doc: &Bytes| match &filter {
        Some(keep) => serde_json::from_slice::<serde_json::Value>(doc).is_ok_and(|v| keep(&v)),
        None => true,
    };
    let items: Vec<(String, Bytes)> = app
        .store
        .read_durable(|s, latest| {
            let members = provider.list_members(&parent_key, s);
            let candidates: Box<dyn Iterator<Item = &std::sync::Arc<crate::store::StoredResource>>> =
                if let Some(members) = &members {
                    Box::new(members.iter())
                } else if whole_subscription {
                    Box::new(s.with_prefix(&subscription_prefix).filter(|r| r.type_key == type_key))
                } else {
                    Box::new(s.children(&parent_key, segment, type_key))
                };
            let ordered: Box<dyn Iterator<Item = (String, &std::sync::Arc<crate::store::StoredResource>)>> =
                match provider.spec().list_order {
                    ListOrder::Id => Box::new(candidates.map(|r| (r.key(), r))),
                    ListOrder::NumericName => {
                        // Sorted on borrowed names; keys are made only for the page's items.
                        let mut all: Vec<_> =
                            candidates.map(|r| (r.id.rsplit('/').next().unwrap_or_default(), r)).collect();
                        all.sort_unstable_by(|(a, _), (b, _)| (a.len(), a).cmp(&(b.len(), b)));
                        let start = paging.after.as_deref().map_or(0, |after| {
                            all.partition_point(|(_, r)| numeric_order_key(&r.key()).as_str() <= after)
                        });
                        Box::new(all.into_iter().skip(start).map(|(_, r)| (numeric_order_key(&r.key()), r)))
                    }
                };
            let items = ordered
                .filter(|(k, _)| paging.after.as_deref().is_none_or(|a| k.as_str() > a))
                .filter_map(|(k, r)| {
                    let (doc, done) = document::current_and_settled(&app.registry, r, now);
                    if done {
                        settled.push((r.clone(), doc.clone()));
                    }
                    kept(&doc).then(|| (k, presented(provider, req, r, doc, now, status_only)))
                })
                .take(paging.top + 1)
                .collect();
            (items, latest)
        })
        .await;
    app.store.materialize(settled);
    let body = page(items.into_iter(), &paging, |token| {
        let mut url = format!("{}{}?api-version={}", req.base(), req.raw_path(), api_version);
        if let Some(t) = &top {
            url.push_str(&format!("&%24top={t}"));
        }
        for (name, value) in &odata {
            url.push_str(&format!("&%24{name}={value}"));
        }
        url.push_str(&format!("&%24skipToken={token}"));
        url
    });
    Ok(json_bytes(StatusCode::OK, body))
}

/// Operation statuses by version: a status changes only with a new version of its record.
static STATUSES: HotCache<Arc<OperationRecord>> = HotCache::new(2 * 1024 * 1024);

fn status_body(op: &Arc<OperationRecord>) -> Bytes {
    let key = [Arc::as_ptr(op) as usize, 0];
    STATUSES.get_or_make(key, || op.clone(), || crate::store::to_bytes(&lro::status_body(op)))
}

pub(super) async fn operation_endpoint(
    app: &App,
    req: &ArmRequest,
    id: &str,
    result: bool,
) -> Result<Response, ArmError> {
    if req.method != Method::GET {
        return Err(ArmError::method_not_allowed(req.method.as_str(), req.raw_path()));
    }
    if req.api_version().is_none_or(str::is_empty) {
        return api_version::check(None, &[], "operations", super::TypeOwner::Provider, app.api_check)
            .map(|_| no_content(StatusCode::OK));
    }
    let now = app.clock.now();
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
            // Only a result shows the resource.
            let shown = resource.filter(|_| result).map(|r| {
                let doc = document::current(&app.registry, r, now);
                match app.registry.get(&r.type_key) {
                    Some(provider) => super::shown::shown(provider.spec(), req.api_version(), None, doc),
                    None => doc,
                }
            });
            ((op, shown), seq)
        })
        .await;
    let op = op
        .filter(|o| o.subscription.eq_ignore_ascii_case(req.path.subscription()))
        .ok_or_else(|| ArmError::not_found("OperationNotFound", format!("The operation '{id}' could not be found.")))?;
    let body = (!result).then(|| status_body(&op));
    let mut response = match &body {
        None => lro::result_response(&req.base(), &op, resource),
        Some(body) => lro::status_response(&op, body.clone()),
    };
    if let Ok(v) = HeaderValue::from_str(&op.id) {
        response.headers_mut().insert("x-ms-operation-id", v);
    }
    // A status changes only with a new version of its record: kept for the next poll.
    if let Some(body) = body {
        keep_answer(app, req, Shows::Operation { version: op }, now, None, &response, body, None);
    }
    Ok(response)
}

//! The spec's operationId for a request (`EdgeDeviceJobs_CreateOrUpdate`, …): fault rules match
//! on it, and the journal and metrics name requests by it.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::sync::RwLock;

use axum::http::Method;
use rustc_hash::FxHashMap;

use super::contract::ResourceTypeSpec;
use super::resolve::Target;

/// An operationId kept once for the life of the process: there are only as many as the specs
/// have, and metrics and the journal label every request with one.
fn interned(name: String) -> &'static str {
    static NAMES: RwLock<BTreeSet<&'static str>> = RwLock::new(BTreeSet::new());
    if let Some(known) = NAMES.read().unwrap_or_else(|e| e.into_inner()).get(name.as_str()) {
        return known;
    }
    let mut names = NAMES.write().unwrap_or_else(|e| e.into_inner());
    if let Some(known) = names.get(name.as_str()) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.into_boxed_str());
    names.insert(leaked);
    leaked
}

/// `None` for requests the spec has no operation for (operation status URLs, wrong methods).
pub(super) fn operation_id(target: &Target, method: &Method) -> Option<&'static str> {
    let (spec, verb) = match target {
        Target::Item { provider, .. } => {
            let verb = match *method {
                Method::GET => "Get",
                Method::PUT => provider.spec().operations.put,
                Method::DELETE => "Delete",
                Method::PATCH => "Update",
                Method::HEAD => "CheckExistence",
                _ => return None,
            };
            (provider.spec(), verb)
        }
        Target::Collection { provider, parent, parent_id, .. } if *method == Method::GET => {
            let names = &provider.spec().operations;
            let in_subscription = parent.is_none() && parent_id.matches('/').count() == 2;
            let verb = match (in_subscription, names.list_in_subscription) {
                (true, Some(all)) => all,
                _ => names.list,
            };
            (provider.spec(), verb)
        }
        Target::Action { provider, action, .. } => (provider.spec(), action.operation),
        Target::View { provider, view, .. } => (provider.spec(), view.operation),
        Target::Platform(platform) => return platform.operation_id(method),
        Target::Catalog(catalog) => return (*method == Method::GET).then_some(catalog.endpoint.operation),
        Target::Collection { .. } | Target::Operation { .. } => return None,
    };
    Some(joined(spec.operations.group, verb))
}

/// `{group}_{verb}`, interned. Both parts are static, so each thread remembers the pair by their
/// addresses: a request neither formats nor takes the shared lock.
fn joined(group: &'static str, verb: &'static str) -> &'static str {
    thread_local! {
        static KNOWN: RefCell<FxHashMap<[usize; 4], &'static str>> = RefCell::new(FxHashMap::default());
    }
    let key = [group.as_ptr() as usize, group.len(), verb.as_ptr() as usize, verb.len()];
    KNOWN.with(|known| *known.borrow_mut().entry(key).or_insert_with(|| interned(format!("{group}_{verb}"))))
}

/// Every operationId a type answers to, for `GET /_azemu/faults/points`.
pub fn operation_ids(spec: &ResourceTypeSpec) -> Vec<String> {
    let names = &spec.operations;
    let mut verbs = vec!["Get", names.put, "Delete", names.list];
    verbs.extend(names.list_in_subscription.filter(|all| *all != names.list));
    if spec.patch {
        verbs.push("Update");
    }
    if spec.type_key() == super::dispatch::RESOURCE_GROUPS {
        verbs.push("CheckExistence");
    }
    let mut ids: Vec<String> = verbs.into_iter().map(|v| format!("{}_{v}", names.group)).collect();
    ids.extend(spec.actions.iter().chain(spec.views).map(|a| format!("{}_{}", names.group, a.operation)));
    ids
}

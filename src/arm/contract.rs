//! What an ARM resource provider implements: its type's shape in a [`ResourceTypeSpec`] and its
//! behaviour through [`ResourceProvider`]. The ARM layer serves any provider through this
//! contract and knows no concrete one; `crate::providers` holds them.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;
use serde_json::Value;

use super::{ArmError, ArmPath, Caller, TypeOwner};
use crate::faults::Deferred;
use crate::sim::Clock;
use crate::store::{OperationError, OperationStatus, OperationUrls, State, StoredResource, Txn};

/// How a successful PUT answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutKind {
    /// 200 or 201 with the final document.
    Sync,
    /// 200 with the final document, for a create too (the spec lists no 201).
    SyncOk,
    /// 200 or 201 with an `Azure-AsyncOperation` header; the operation ends with provisioning.
    AsyncOperation,
}

/// Which headers an accepted DELETE or POST action carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LroHeaders {
    Location,
    LocationAndAsyncOperation,
}

/// What DELETE answers for a resource that does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteMissing {
    NoContent,
    NotFound,
}

/// A POST action or a read-only view below a resource: its last path segment (`apply`,
/// `instanceView`) and its operationId verb (`Post`, `GetInstanceView`).
#[derive(Debug, Clone, Copy)]
pub struct ActionName {
    pub path: &'static str,
    pub operation: &'static str,
}

/// How the spec names this type's operations.
pub struct OperationNames {
    /// The operationId prefix, e.g. `EdgeDeviceJobs`.
    pub group: &'static str,
    /// What the spec calls a PUT: `CreateOrUpdate`, `Create` (clusters) or `Put` (updates).
    pub put: &'static str,
    /// Listing under the parent, e.g. `ListByEdgeDevice`.
    pub list: &'static str,
    /// Listing across a subscription, for types that allow it, e.g. `ListAll`.
    pub list_in_subscription: Option<&'static str>,
}

/// How a list orders its resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOrder {
    /// By id, case-insensitively.
    Id,
    /// By name as a number (`0`, `1`, `2`, `10`): scale-set VMs by instance id.
    NumericName,
}

pub use super::versions::{Added, ApiVersions};

pub struct ResourceTypeSpec {
    pub namespace: &'static str,
    /// Type segments from the namespace down, e.g. `["edgeDevices", "jobs"]`.
    pub type_names: &'static [&'static str],
    /// The `type` documents carry when it is not the path's (`Microsoft.AzureStackHCI/updates`
    /// for `clusters/updates`).
    pub shown_type: Option<&'static str>,
    /// How many trailing names of the id make the document's `name` (`update/run` is 2), and
    /// what joins them (`/`; `_` for scale-set VMs, named `{scaleSet}_{instanceId}`).
    pub name_levels: usize,
    pub name_join: &'static str,
    /// Its published api-versions and how their shapes differ.
    pub versions: &'static super::versions::ApiVersions,
    pub owner: TypeOwner,
    /// An extension resource, living under any other resource's id (`{resourceUri}/providers/…`),
    /// or a child of one: no location or tags of its own, never in a `/resources` list.
    pub extension: bool,
    /// Documents carry their ETag as an `etag` field too (Compute's resources do).
    pub etag_in_body: bool,
    /// Fields a read shows only when `$expand` names them: (the `$expand` value, a JSON pointer).
    pub expand_only: &'static [(&'static str, &'static str)],
    /// Checks a name from the URL; `Err` carries the rule for the message.
    pub name_rule: fn(&str) -> Result<(), &'static str>,
    pub put: PutKind,
    /// PATCH merges its body into the current document (RFC 7386) and writes it as a PUT would,
    /// answering 200.
    pub patch: bool,
    pub delete: LroHeaders,
    pub delete_missing: DeleteMissing,
    /// How long an accepted DELETE takes before the resource is gone (at `--speed 1`).
    pub delete_duration: Duration,
    /// POST actions on one resource and the headers their 202 carries.
    pub actions: &'static [ActionName],
    pub action_headers: LroHeaders,
    /// The properties users follow (JSON pointers into the document): the event journal records
    /// each change of them, in this order, and `azemu watch` shows them. Put
    /// `provisioningState` last, so that its terminal change comes after the others of the moment.
    pub tracked: &'static [&'static str],
    /// Where this type's long-running operations are served.
    pub operation_urls: OperationUrls,
    /// How a missing resource of this type is answered (code, message), when not as ARM's
    /// `ResourceNotFound`.
    pub missing: Option<(&'static str, &'static str)>,
    /// Read-only views below a resource (`instanceView`), answered by `ResourceProvider::view`.
    pub views: &'static [ActionName],
    /// The spec's operationIds: `{group}_Get`, `{group}_CreateOrUpdate`, … (see `arm::operation_id`).
    pub operations: OperationNames,
    /// The order lists show this type in.
    pub list_order: ListOrder,
    /// Filled on first use by `full_type` / `type_key`; `OnceLock::new()` in every spec.
    pub names: OnceLock<(String, String)>,
}

impl ResourceTypeSpec {
    /// `Namespace/type/childType`, as responses spell it.
    pub fn full_type(&self) -> &str {
        &self.names().0
    }

    /// The `type` documents carry.
    pub fn shown_type(&self) -> &str {
        self.shown_type.unwrap_or_else(|| self.full_type())
    }

    /// The document's `name` for a resource id.
    pub fn shown_name(&self, id: &str) -> String {
        let mut names: Vec<&str> = id.split('/').rev().step_by(2).take(self.name_levels.max(1)).collect();
        names.reverse();
        names.join(self.name_join)
    }

    /// [`ResourceTypeSpec::full_type`] in lower case: the registry and store key.
    pub fn type_key(&self) -> &str {
        &self.names().1
    }

    fn names(&self) -> &(String, String) {
        self.names.get_or_init(|| {
            let full = format!("{}/{}", self.namespace, self.type_names.join("/"));
            let key = full.to_ascii_lowercase();
            (full, key)
        })
    }
}

/// A validated PUT, ready for the provider.
pub struct PutRequest<'a> {
    pub path: &'a ArmPath,
    pub id: &'a str,
    pub name: &'a str,
    pub body: Value,
    /// The body as sent, to point at where in it something is wrong (a template's line).
    pub raw_body: &'a [u8],
    pub existing: Option<&'a StoredResource>,
    pub now: DateTime<Utc>,
    pub clock: &'a Clock,
    pub caller: &'a Caller,
    /// Fault rules that may fail the operation this write starts, or a step of its lifecycle;
    /// a provider with a lifecycle takes them when it plans it (see `Deferred`).
    pub faults: &'a Deferred,
}

/// The provider's part of a new resource version; the ARM layer adds id, name, type, systemData
/// and the ETag.
pub struct Written {
    /// Top-level fields: properties, kind, location, tags, …
    pub doc: Value,
    /// Lifecycle state, as compact JSON (see [`sim_state`]).
    pub sim: Option<Box<str>>,
    pub due: Option<DateTime<Utc>>,
    /// Other resources the write changes.
    pub also: Txn,
}

pub enum PutOutcome {
    Write(Box<Written>),
    /// A repeated PUT that changes nothing: answer with the resource as it is.
    Unchanged,
}

pub struct ActionRequest<'a> {
    pub path: &'a ArmPath,
    /// As the spec spells it (`apply`), whatever the URL's casing.
    pub action: &'static str,
    pub resource: &'a StoredResource,
    pub body: Option<Value>,
    /// The request's query parameters (`skipShutdown=true`, …).
    pub query: &'a super::request::Query,
    pub now: DateTime<Utc>,
    pub clock: &'a Clock,
    pub caller: &'a Caller,
    pub faults: &'a Deferred,
}

impl ActionRequest<'_> {
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.get(name)
    }
}

/// A POST action on a name that need not exist yet (see [`ResourceProvider::checks`]).
pub struct CheckRequest<'a> {
    pub path: &'a ArmPath,
    pub action: &'static str,
    pub id: &'a str,
    pub name: &'a str,
    pub existing: Option<&'a StoredResource>,
    pub body: Option<Value>,
    /// The body as sent (see [`PutRequest::raw_body`]).
    pub raw_body: &'a [u8],
    pub now: DateTime<Utc>,
    pub clock: &'a Clock,
    pub caller: &'a Caller,
}

pub struct ActionOutcome {
    /// What the operation-result URL answers once the action is done.
    pub result: Option<Value>,
    /// How long the simulated work takes (at `--speed 1`), when nothing in `also` decides it.
    pub duration: Duration,
    /// Resources the action writes (a new update run, the update's new state, …).
    pub also: Txn,
    /// The key of a resource in `also` whose lifecycle the action's operation follows: the
    /// operation ends when that lifecycle completes, as it completes.
    pub ends_with: Option<String>,
    /// The error the operation ends with (a fault rule the provider took for its lifecycle).
    pub planned_failure: Option<OperationError>,
    /// An action the spec answers at once (200 with a body, or 204), not as a long-running
    /// operation: its status and body; `also` is written all the same.
    pub answered: Option<(u16, Option<Value>)>,
}

impl ActionOutcome {
    /// Simulated work that only takes time.
    pub fn timed(duration: Duration, result: Option<Value>) -> ActionOutcome {
        ActionOutcome { result, duration, also: Txn::default(), ends_with: None, planned_failure: None, answered: None }
    }

    /// An action answered at once with `status` (and `body`), writing `also`.
    pub fn at_once(status: u16, body: Option<Value>, also: Txn) -> ActionOutcome {
        ActionOutcome { also, answered: Some((status, body)), ..ActionOutcome::timed(Duration::ZERO, None) }
    }
}

pub use crate::sim::{Advance, AdvanceCtx};

/// A document rendered from a lifecycle.
pub struct Rendered {
    pub doc: bytes::Bytes,
    /// How long it stays as it is: readers reuse it meanwhile rather than render it again.
    pub holds: Holds,
}

/// How long a rendered document stays as rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    /// For good: the lifecycle is over, and the document may replace the base it was
    /// rendered from.
    Settled,
    /// Until a new version, though the lifecycle state must stay with it (a VM's power).
    UntilNewVersion,
    /// Until this moment of emulated time (exclusive), or a new version: the next step.
    Until(DateTime<Utc>),
    /// For this moment only: it reads more than its own resource (a set's view of its VMs).
    Now,
}

impl Rendered {
    /// A document that changes next at `next` (by time alone), or is final when `None`.
    pub fn until(doc: bytes::Bytes, next: Option<DateTime<Utc>>) -> Rendered {
        Rendered { doc, holds: next.map_or(Holds::Settled, Holds::Until) }
    }

    pub fn settled(&self) -> bool {
        self.holds == Holds::Settled
    }

    /// When it changes by time alone, if it knows.
    pub fn next_change(&self) -> Option<DateTime<Utc>> {
        match self.holds {
            Holds::Until(at) => Some(at),
            _ => None,
        }
    }
}

/// The tracked properties of a resource at one moment (see `ResourceTypeSpec::tracked`).
#[derive(Debug, Clone, PartialEq)]
pub struct TrackedState {
    pub at: DateTime<Utc>,
    /// One value per pointer of `tracked`, in its order; `Null` where absent.
    pub values: Vec<Value>,
}

impl TrackedState {
    /// Reads the tracked properties out of a document.
    pub fn of(spec: &ResourceTypeSpec, doc: &Value, at: DateTime<Utc>) -> TrackedState {
        let values = spec.tracked.iter().map(|p| doc.pointer(p).cloned().unwrap_or(Value::Null)).collect();
        TrackedState { at, values }
    }
}

/// Lifecycle state as the store keeps it: compact JSON.
pub fn sim_state<T: serde::Serialize>(sim: &T) -> Option<Box<str>> {
    serde_json::to_string(sim).ok().map(String::into_boxed_str)
}

/// The options of a read: `$expand`, `$select`, and Compute's `statusOnly` on a list.
#[derive(Debug, Default, Clone)]
pub struct ReadQuery {
    pub expand: Option<String>,
    pub select: Option<String>,
    pub status_only: bool,
}

pub type ListFilter = Box<dyn Fn(&Value) -> bool + Send + Sync>;

pub trait ResourceProvider: Send + Sync {
    fn spec(&self) -> &'static ResourceTypeSpec;

    fn put(&self, req: &PutRequest, state: &State) -> Result<PutOutcome, ArmError>;

    fn action(&self, req: &ActionRequest, _state: &State) -> Result<ActionOutcome, ArmError> {
        Err(ArmError::bad_request("InvalidAction", format!("The action '{}' is not supported.", req.action)))
    }

    /// Whether clients may write it (PUT and DELETE); `false` for records the service keeps
    /// (a deployment's operations), answered 405.
    fn writable(&self) -> bool {
        true
    }

    /// Which of `spec().actions` act on a name that need not exist yet (a deployment's
    /// `validate` and `whatIf`): they are answered by [`ResourceProvider::check`].
    fn checks(&self) -> &'static [&'static str] {
        &[]
    }

    fn check(&self, req: &CheckRequest, _state: &State) -> Result<ActionOutcome, ArmError> {
        Err(ArmError::bad_request("InvalidAction", format!("The action '{}' is not supported.", req.action)))
    }

    /// Moves the resource's lifecycle one step at `ctx.at`; must set the next `due` (or `None`).
    /// A step must be a pure function of the stored resource and `ctx.at`: steps that change
    /// only their own resource are replayed after a restart instead of being written each time.
    fn advance(&self, resource: &mut StoredResource, _ctx: &AdvanceCtx) -> Result<Advance, ArmError> {
        resource.due = None;
        Ok(Advance { completes: Some(OperationStatus::Succeeded), ..Advance::default() })
    }

    /// The document readers see at `now`, for a type whose lifecycle renders it from the
    /// stored body, its lifecycle state and the time, and how long it holds (readers are
    /// answered with it until then); `None` when the stored body is the document.
    fn render(&self, _resource: &StoredResource, _now: DateTime<Utc>) -> Result<Option<Rendered>, ArmError> {
        Ok(None)
    }

    /// For a lifecycle rendered from the time: the tracked properties at `after`, then at each
    /// later moment they change, as far as the lifecycle is planned. `None`: the stored body is
    /// the document, and its tracked properties change only with new versions.
    fn tracked_ahead(&self, _resource: &StoredResource, _after: DateTime<Utc>) -> Option<Vec<TrackedState>> {
        None
    }

    /// A read-only view of the resource at `now`, one of `spec().views`, and how long it holds
    /// (readers reuse it meanwhile).
    fn view(
        &self,
        view: &str,
        _resource: &StoredResource,
        _state: &State,
        _now: DateTime<Utc>,
    ) -> Result<Rendered, ArmError> {
        Err(ArmError::bad_request("InvalidView", format!("The view '{view}' is not supported.")))
    }

    /// The document with what `$expand` (and `$select`) ask for, e.g. `instanceView`; `None`:
    /// nothing to add.
    fn expanded(
        &self,
        _doc: &Value,
        _query: &ReadQuery,
        _resource: &StoredResource,
        _now: DateTime<Utc>,
    ) -> Option<Value> {
        None
    }

    /// What a list's `$filter` keeps, as a test on each listed document; `None` (the default)
    /// ignores the filter, an error refuses it.
    fn list_filter(&self, _filter: &str) -> Result<Option<ListFilter>, ArmError> {
        Ok(None)
    }

    /// The resources a list under `parent_key` shows when they are not its children (a Flexible
    /// scale set's VMs, which live beside it); `None`: its children.
    fn list_members(&self, _parent_key: &str, _state: &State) -> Option<Vec<Arc<StoredResource>>> {
        None
    }

    /// What else an accepted DELETE of this resource changes (a set's capacity, a VM's disks),
    /// or why the DELETE is refused (a disk still attached).
    fn deleting(&self, _resource: &StoredResource, _state: &State, _now: DateTime<Utc>) -> Result<Txn, ArmError> {
        Ok(Txn::default())
    }

    /// The lifecycle steps a `failStep` rule can name, as paths of step names (see
    /// `GET /_azemu/faults/points`).
    fn failure_steps(&self) -> Vec<String> {
        Vec::new()
    }
}

pub struct Registry {
    /// Fx-hashed: the keys are the fixed type names, and this is looked up on every request.
    by_key: FxHashMap<String, Arc<dyn ResourceProvider>>,
    /// Types azemu does not emulate, stored as sent (`--generic-resources on`).
    generic: Option<GenericTypes>,
    /// Read-only data providers serve beside their types (images, sizes, SKUs).
    catalogs: Vec<Arc<dyn super::catalog::Catalog>>,
}

/// Makes the provider of a type azemu does not emulate, from its namespace and type names as
/// first spelled.
pub type GenericFactory = fn(namespace: &str, type_names: &[&str]) -> Arc<dyn ResourceProvider>;

/// At most this many distinct generic types: each one's spec lives as long as the process.
const MAX_GENERIC_TYPES: usize = 4096;

struct GenericTypes {
    make: GenericFactory,
    made: std::sync::RwLock<FxHashMap<String, &'static Arc<dyn ResourceProvider>>>,
}

impl Registry {
    pub fn new(providers: Vec<Arc<dyn ResourceProvider>>) -> Registry {
        let by_key = providers.into_iter().map(|p| (p.spec().type_key().to_string(), p)).collect();
        Registry { by_key, generic: None, catalogs: Vec::new() }
    }

    /// Serves these catalogs too.
    pub fn with_catalogs(mut self, catalogs: Vec<Arc<dyn super::catalog::Catalog>>) -> Registry {
        self.catalogs = catalogs;
        self
    }

    pub fn catalogs(&self) -> &[Arc<dyn super::catalog::Catalog>] {
        &self.catalogs
    }

    /// Serves every type it does not know through `make`'s providers.
    pub fn with_generic(mut self, make: GenericFactory) -> Registry {
        self.generic = Some(GenericTypes { make, made: Default::default() });
        self
    }

    /// The provider of a stored type key (a generic one made with the key's own spelling).
    pub fn get(&self, type_key: &str) -> Option<&Arc<dyn ResourceProvider>> {
        match self.by_key.get(type_key) {
            Some(provider) => Some(provider),
            None => self.generic_type(type_key, type_key),
        }
    }

    /// The provider of a type a request names: its lower-case key, and the type as the request
    /// spells it (`Microsoft.Network/virtualNetworks`), the spelling a generic type keeps.
    pub fn for_request(&self, type_key: &str, spelled: &str) -> Option<&Arc<dyn ResourceProvider>> {
        match self.by_key.get(type_key) {
            Some(provider) => Some(provider),
            None => self.generic_type(type_key, spelled),
        }
    }

    /// The provider of a type azemu emulates (not a generic one).
    pub fn emulated(&self, type_key: &str) -> Option<&Arc<dyn ResourceProvider>> {
        self.by_key.get(type_key)
    }

    /// A generic provider for a type no emulated one serves, nor the parent type it sits under:
    /// the children of an emulated type are the ones it defines.
    fn generic_type(&self, key: &str, spelled: &str) -> Option<&Arc<dyn ResourceProvider>> {
        let generic = self.generic.as_ref()?;
        if let Some(made) = generic.made.read().ok()?.get(key) {
            return Some(made);
        }
        let mut parts = spelled.split('/');
        let namespace = parts.next()?;
        let type_names: Vec<&str> = parts.collect();
        if type_names.is_empty() || type_names.iter().any(|t| t.is_empty()) {
            return None;
        }
        let mut prefix = namespace.to_ascii_lowercase();
        for t in &type_names[..type_names.len() - 1] {
            prefix.push('/');
            prefix.push_str(&t.to_ascii_lowercase());
            if self.by_key.contains_key(&prefix) {
                return None;
            }
        }
        let mut made = generic.made.write().ok()?;
        if made.len() >= MAX_GENERIC_TYPES && !made.contains_key(key) {
            return None;
        }
        let provider =
            *made.entry(key.to_string()).or_insert_with(|| Box::leak(Box::new((generic.make)(namespace, &type_names))));
        Some(provider)
    }

    /// A stored type key as responses spell the type (the key itself for an unknown type).
    pub fn full_type_of<'a>(&'a self, type_key: &'a str) -> &'a str {
        self.get(type_key).map_or(type_key, |p| p.spec().full_type())
    }

    /// Every provider, in a stable order.
    pub fn all(&self) -> Vec<&Arc<dyn ResourceProvider>> {
        let mut all: Vec<_> = self.by_key.values().collect();
        all.sort_by_key(|p| p.spec().type_key());
        all
    }

    /// Every provider's lifecycle, for the simulation engine.
    pub fn add_lifecycles(&self, lifecycles: &mut crate::sim::Lifecycles) {
        for (key, provider) in &self.by_key {
            lifecycles.add(key.clone(), Arc::new(ProviderLifecycle(provider.clone())));
        }
    }

    /// Whether requests in `namespace` may name types: one azemu emulates, or any namespace
    /// when generic resources are on.
    pub fn knows_namespace(&self, namespace: &str) -> bool {
        self.generic.is_some()
            || self.by_key.values().any(|p| p.spec().namespace.eq_ignore_ascii_case(namespace))
            || self.catalogs.iter().any(|c| c.namespace().eq_ignore_ascii_case(namespace))
    }
}

/// Parses a JSON request body into a typed input model, as ARM reports shape errors.
/// The error names the JSON path of the offending field and carries it as the target.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &Value) -> Result<T, ArmError> {
    parse_body_at(body, "")
}

/// [`parse_body`] for a part of the body found at `prefix` (e.g. `properties`).
pub fn parse_body_at<T: serde::de::DeserializeOwned>(body: &Value, prefix: &str) -> Result<T, ArmError> {
    // Tracking the path costs an allocation per field: only a body that fails is read again
    // with it, to name where.
    if let Ok(parsed) = T::deserialize(body) {
        return Ok(parsed);
    }
    serde_path_to_error::deserialize(body).map_err(|e| {
        let inner = e.path().to_string();
        let path = match (prefix, inner.as_str()) {
            ("", p) => p.to_string(),
            (pre, ".") => pre.to_string(),
            (pre, p) => format!("{pre}.{p}"),
        };
        let error = ArmError::invalid_content(format!(
            "The request content was invalid and could not be deserialized: {} at '{path}'.",
            e.inner()
        ));
        if path == "." {
            error
        } else {
            error.with_target(path)
        }
    })
}

/// An ARM provider as the engine sees it.
struct ProviderLifecycle(Arc<dyn ResourceProvider>);

impl crate::sim::Lifecycle for ProviderLifecycle {
    fn step(&self, resource: &mut StoredResource, ctx: &AdvanceCtx) -> Result<Advance, String> {
        self.0.advance(resource, ctx).map_err(|e| e.detail.message)
    }
}

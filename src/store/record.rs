//! The records the store keeps: resources and long-running operations.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::body::Body;

/// One ARM resource as stored: the document last written plus the emulator's private
/// lifecycle state. Versions are immutable once in the store; each change is a new version.
/// (Its table row is in `rows`.)
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResource {
    /// The row on disk; 0 until the store places it (a replacing version keeps its row).
    pub rid: u64,
    /// Resource id with the casing it was created with.
    pub id: String,
    /// Lower-case `namespace/type[/childType…]`, the key of its provider.
    pub type_key: String,
    /// The document as last written, serialised (id, name, type, systemData, properties, …).
    /// A provider whose lifecycle is rendered on read treats it as the base it renders from.
    pub body: Body,
    pub etag: String,
    /// Provider-owned lifecycle state, as compact JSON; `None` when nothing is simulated.
    pub sim: Option<Box<str>>,
    /// When the simulation engine must next look at this resource.
    pub due: Option<DateTime<Utc>>,
    /// The long-running operation that completes when provisioning reaches a terminal state.
    pub pending_op: Option<Arc<str>>,
    /// Set while an accepted DELETE waits to take effect.
    pub deleting: bool,
    /// Set when the last operation on it was made to fail (a fault rule): readers see
    /// `provisioningState: Failed` until a new version replaces it.
    pub failed: bool,
    /// The document as readers see it once settled, shared by every reader.
    pub rendered: RenderCache,
    /// The newest store write this version depends on (see `Store::until_durable`).
    pub seq: u64,
}

/// A version's current document, made once. A clone starts empty, so a resource edited after
/// cloning never answers with stale bytes.
#[derive(Debug, Default)]
pub struct RenderCache(OnceLock<Bytes>);

impl RenderCache {
    pub fn get(&self) -> Option<Bytes> {
        self.0.get().cloned()
    }

    /// Keeps `doc` as this version's document (the first one kept wins).
    pub fn keep(&self, doc: Bytes) -> Bytes {
        self.0.get_or_init(|| doc).clone()
    }
}

impl Clone for RenderCache {
    fn clone(&self) -> Self {
        RenderCache::default()
    }
}

impl PartialEq for RenderCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// Serialises a document into exactly-sized bytes (a growing `Vec` may hold twice its length).
pub fn to_bytes<T: Serialize + ?Sized>(value: &T) -> Bytes {
    let mut out = serde_json::to_vec(value).unwrap_or_default();
    out.shrink_to_fit();
    Bytes::from(out)
}

impl StoredResource {
    pub fn new(id: String, type_key: String, body: &Value, etag: String) -> StoredResource {
        StoredResource {
            rid: 0,
            id,
            type_key,
            body: Body::new(to_bytes(body)),
            etag,
            sim: None,
            due: None,
            pending_op: None,
            deleting: false,
            failed: false,
            rendered: RenderCache::default(),
            seq: 0,
        }
    }

    /// The stored body as a JSON tree (a parse: for write paths, not for serving reads).
    pub fn body_value(&self) -> Value {
        serde_json::from_slice(&self.body.json()).unwrap_or(Value::Null)
    }

    /// The body's top-level `location`: read without building the rest of the tree.
    pub fn location(&self) -> Option<String> {
        #[derive(Deserialize)]
        struct Located {
            location: Option<String>,
        }
        serde_json::from_slice::<Located>(&self.body.json()).ok().and_then(|l| l.location)
    }

    pub fn set_body(&mut self, body: &Value) {
        self.body = Body::new(to_bytes(body));
    }

    /// Reads the lifecycle state as `T`; `None` if there is none or it does not parse.
    pub fn sim_as<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        self.sim.as_deref().and_then(|s| serde_json::from_str(s).ok())
    }

    pub fn key(&self) -> String {
        self.id.to_ascii_lowercase()
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum OperationKind {
    Put,
    Delete,
    Action,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum OperationStatus {
    InProgress,
    Succeeded,
    Failed,
    Canceled,
}

impl OperationStatus {
    pub fn is_terminal(self) -> bool {
        !matches!(self, OperationStatus::InProgress)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OperationStatus::InProgress => "InProgress",
            OperationStatus::Succeeded => "Succeeded",
            OperationStatus::Failed => "Failed",
            OperationStatus::Canceled => "Canceled",
        }
    }

    /// Maps a resource's provisioningState to the status of the operation waiting on it.
    pub fn from_provisioning_state(state: &str) -> OperationStatus {
        match state {
            "Succeeded" => OperationStatus::Succeeded,
            "Failed" => OperationStatus::Failed,
            "Canceled" => OperationStatus::Canceled,
            _ => OperationStatus::InProgress,
        }
    }
}

/// An ARM error kept on a failed operation.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct OperationError {
    pub code: String,
    pub message: String,
    /// HTTP status the operation-result URL answers with once failed.
    pub http_status: u16,
    /// The errors it is made of (a deployment's failed resources), as ARM error objects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<Value>,
}

/// Which family of URLs an operation is served at; the protocol layer knows what each means.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum OperationUrls {
    /// `…/operationStatuses/{id}` and `…/operationResults/{id}`.
    #[default]
    Arm,
    /// Microsoft.Compute's `…/operations/{id}`, with `monitor=true` for its Location URL.
    Compute,
}

impl OperationUrls {
    fn is_arm(&self) -> bool {
        *self == OperationUrls::Arm
    }
}

/// A long-running operation; it outlives the resource it acted on, until it expires.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OperationRecord {
    /// The row on disk; 0 until the store places it.
    #[serde(skip)]
    pub oid: u64,
    /// Shared with the store's map of operations and its timers.
    pub id: Arc<str>,
    pub kind: OperationKind,
    pub status: OperationStatus,
    pub resource_id: String,
    // Texts that repeat across operations: one shared copy each.
    #[serde(deserialize_with = "super::interned::deserialize")]
    pub subscription: Arc<str>,
    #[serde(deserialize_with = "super::interned::deserialize")]
    pub namespace: Arc<str>,
    #[serde(deserialize_with = "super::interned::deserialize")]
    pub location: Arc<str>,
    #[serde(deserialize_with = "super::interned::deserialize")]
    pub api_version: Arc<str>,
    #[serde(default, skip_serializing_if = "OperationUrls::is_arm")]
    pub urls: OperationUrls,
    pub start_time: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<DateTime<Utc>>,
    // The next three are rare: boxed, so that the many records without them stay small.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Box<OperationError>>,
    /// For actions: the body the result URL answers once done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Box<Value>>,
    /// The error the operation must end with when its work completes (a fault rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_failure: Option<Box<OperationError>>,
    /// For timed actions: when the engine completes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<DateTime<Utc>>,
    /// The newest store write this version depends on; not persisted.
    #[serde(skip)]
    pub seq: u64,
}

impl OperationRecord {
    pub fn complete(&mut self, status: OperationStatus, at: DateTime<Utc>, error: Option<OperationError>) {
        self.status = status;
        self.end_time = Some(at);
        self.error = error.map(Box::new);
        self.due = None;
    }
}

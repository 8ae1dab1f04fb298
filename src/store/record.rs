//! The records the store keeps: resources and long-running operations.

use std::sync::OnceLock;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One ARM resource as stored: the public document plus the emulator's private lifecycle state.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredResource {
    /// Resource id with the casing it was created with.
    pub id: String,
    /// Lower-case `namespace/type[/childType…]`, the key of its provider.
    pub type_key: String,
    /// The document GET answers (id, name, type, systemData, properties, …). Stored in its own
    /// column, from [`StoredResource::body_json`].
    #[serde(skip)]
    pub body: Value,
    pub etag: String,
    /// Provider-owned lifecycle state; `None` when nothing is simulated for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sim: Option<Value>,
    /// When the simulation engine must next look at this resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<DateTime<Utc>>,
    /// The long-running operation that completes when provisioning reaches a terminal state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_op: Option<String>,
    /// Set while an accepted DELETE waits to take effect.
    #[serde(default)]
    pub deleting: bool,
    #[serde(skip)]
    pub json: JsonCache,
    /// The store write that made this version (see `Store::until_durable`); not persisted.
    #[serde(skip)]
    pub seq: u64,
}

/// The serialised body, made on first use and shared by every reader and the disk writer.
/// A clone starts empty, so a resource edited after cloning never answers with stale bytes.
#[derive(Debug, Default)]
pub struct JsonCache(OnceLock<Bytes>);

impl Clone for JsonCache {
    fn clone(&self) -> Self {
        JsonCache::default()
    }
}

impl PartialEq for JsonCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl StoredResource {
    pub fn new(id: String, type_key: String, body: Value, etag: String) -> StoredResource {
        StoredResource {
            id,
            type_key,
            body,
            etag,
            sim: None,
            due: None,
            pending_op: None,
            deleting: false,
            json: JsonCache::default(),
            seq: 0,
        }
    }

    /// The body as JSON bytes, serialised once per version.
    pub fn body_json(&self) -> Bytes {
        self.json.0.get_or_init(|| Bytes::from(serde_json::to_vec(&self.body).unwrap_or_default())).clone()
    }

    pub fn key(&self) -> String {
        self.id.to_ascii_lowercase()
    }

    pub fn provisioning_state(&self) -> Option<&str> {
        self.body.pointer("/properties/provisioningState").and_then(Value::as_str)
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
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OperationError {
    pub code: String,
    pub message: String,
    /// HTTP status the operation-result URL answers with once failed.
    pub http_status: u16,
}

/// A long-running operation; it outlives the resource it acted on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OperationRecord {
    pub id: String,
    pub kind: OperationKind,
    pub status: OperationStatus,
    pub resource_id: String,
    pub subscription: String,
    pub namespace: String,
    pub location: String,
    pub api_version: String,
    pub start_time: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<OperationError>,
    /// For actions: the body the result URL answers once done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// For timed actions: when the engine completes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<DateTime<Utc>>,
    /// The store write that made this version; not persisted.
    #[serde(skip)]
    pub seq: u64,
}

impl OperationRecord {
    pub fn complete(&mut self, status: OperationStatus, at: DateTime<Utc>, error: Option<OperationError>) {
        self.status = status;
        self.end_time = Some(at);
        self.error = error;
        self.due = None;
    }
}

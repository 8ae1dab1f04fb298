//! How records map to table rows, whichever database holds them. A resource's row splits what
//! never changes (id, type), what a lifecycle step changes (a small state document and the
//! lifecycle's own JSON) and the body, so that a step rewrites only the small columns.

use anyhow::Context;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::body::Body;
use super::record::{OperationRecord, RenderCache, StoredResource};
use super::state::{OperationWrite, ResourceWrite};

/// The columns of a resource that change as it lives, besides `sim` and `body`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceState<'a> {
    #[serde(borrow)]
    etag: std::borrow::Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "chrono::serde::ts_microseconds_option")]
    due: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    pending_op: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    deleting: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    failed: bool,
}

/// A resource's `state` column.
pub fn state_of(r: &StoredResource) -> anyhow::Result<String> {
    let state = ResourceState {
        etag: r.etag.as_str().into(),
        due: r.due,
        pending_op: r.pending_op.as_deref().map(Into::into),
        deleting: r.deleting,
        failed: r.failed,
    };
    Ok(serde_json::to_string(&state)?)
}

/// A resource row as any database returns it.
pub struct ResourceRow<'a> {
    pub rid: i64,
    pub id: String,
    pub type_key: String,
    pub state: &'a str,
    pub sim: Option<String>,
    /// The body as stored (see [`Body::stored`]).
    pub body: &'a [u8],
}

pub fn resource_from(row: ResourceRow) -> anyhow::Result<StoredResource> {
    let rid = row.rid;
    let state: ResourceState =
        serde_json::from_str(row.state).with_context(|| format!("decoding stored resource {rid}"))?;
    Ok(StoredResource {
        rid: rid as u64,
        id: row.id,
        type_key: row.type_key,
        etag: state.etag.into_owned(),
        due: state.due,
        pending_op: state.pending_op.map(|p| p.as_ref().into()),
        deleting: state.deleting,
        failed: state.failed,
        sim: row.sim.map(String::into_boxed_str),
        body: Body::from_stored(Bytes::copy_from_slice(row.body)),
        rendered: RenderCache::default(),
        seq: 0,
    })
}

pub fn operation_from(oid: i64, doc: &str) -> anyhow::Result<OperationRecord> {
    let mut op: OperationRecord =
        serde_json::from_str(doc).with_context(|| format!("decoding stored operation {oid}"))?;
    op.oid = oid as u64;
    Ok(op)
}

/// An operation's `doc` column.
pub fn doc_of(op: &OperationRecord) -> anyhow::Result<String> {
    Ok(serde_json::to_string(op)?)
}

/// One row change, in the order the writer hands them to the database in one transaction.
#[derive(Debug, Clone)]
pub enum RowWrite {
    Resource(ResourceWrite),
    Operation(OperationWrite),
    Setting(String, String),
    /// Every resource and operation goes.
    Clear,
}

/// A database the writer thread commits to (see `writer`).
pub trait Sink: Send + 'static {
    /// Writes `rows` in order, in one transaction.
    fn commit(&mut self, rows: &[RowWrite]) -> anyhow::Result<()>;
    /// A small write that succeeds only if the database takes writes again; it changes nothing
    /// azemu reads.
    fn probe(&mut self) -> anyhow::Result<()>;
    /// Housekeeping between commits.
    fn between_commits(&mut self) {}
    /// Whether checkpoint rows may wait to be written in bulk. A store that other nodes read
    /// writes them at once: they must never land after a later write of the same row.
    fn defers_checkpoints(&self) -> bool {
        true
    }
    /// Whether what was written so far must be committed before [`Sink::acquire`]: it lets the
    /// cluster's write lock go and takes it again.
    fn settles_before_acquire(&self) -> bool {
        false
    }
    /// Takes the cluster's write lock (or keeps it, within this node's turn) with this node's
    /// replica up to date.
    fn acquire(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
    /// This node's writers are done with the cluster's write lock; it goes at the end of the
    /// turn, unless they ask for it again before.
    fn release(&mut self) {}
    /// When the lock must go, if it is to (see [`Sink::after_commit`]).
    fn deadline(&self) -> Option<std::time::Instant> {
        None
    }
    /// Called after each commit and at the deadline: lets the lock go when its turn is over.
    fn after_commit(&mut self) {}
}

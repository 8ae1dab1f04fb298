//! How records map to table rows. A resource's row splits what never changes (id, type), what a
//! lifecycle step changes (a small state document and the lifecycle's own JSON) and the body,
//! so that a step rewrites only the small columns.

use anyhow::Context;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use rusqlite::{params, Row, Transaction};
use serde::{Deserialize, Serialize};

use super::body::Body;
use super::record::{OperationRecord, RenderCache, StoredResource};
use super::state::{OperationWrite, ResourceWrite};

pub const RESOURCE_COLUMNS: &str = "rid, id, type, state, sim, body";

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

fn state_of(r: &StoredResource) -> anyhow::Result<String> {
    let state = ResourceState {
        etag: r.etag.as_str().into(),
        due: r.due,
        pending_op: r.pending_op.as_deref().map(Into::into),
        deleting: r.deleting,
        failed: r.failed,
    };
    Ok(serde_json::to_string(&state)?)
}

/// Decodes a row selected with [`RESOURCE_COLUMNS`].
pub fn resource_from(row: &Row) -> anyhow::Result<StoredResource> {
    let rid: i64 = row.get(0)?;
    let state: ResourceState =
        serde_json::from_str(row.get_ref(3)?.as_str()?).with_context(|| format!("decoding stored resource {rid}"))?;
    Ok(StoredResource {
        rid: rid as u64,
        id: row.get(1)?,
        type_key: row.get(2)?,
        etag: state.etag.into_owned(),
        due: state.due,
        pending_op: state.pending_op.map(|p| p.as_ref().into()),
        deleting: state.deleting,
        failed: state.failed,
        sim: row.get::<_, Option<String>>(4)?.map(String::into_boxed_str),
        body: Body::from_stored(Bytes::copy_from_slice(row.get_ref(5)?.as_blob()?)),
        rendered: RenderCache::default(),
        seq: 0,
    })
}

pub fn operation_from(row: &Row) -> anyhow::Result<OperationRecord> {
    let oid: i64 = row.get(0)?;
    let mut op: OperationRecord =
        serde_json::from_str(row.get_ref(1)?.as_str()?).with_context(|| format!("decoding stored operation {oid}"))?;
    op.oid = oid as u64;
    Ok(op)
}

pub fn write_resource(tx: &Transaction, write: &ResourceWrite) -> anyhow::Result<()> {
    match write {
        ResourceWrite::Put(r) => tx
            .prepare_cached(
                "INSERT INTO resources (rid, id, type, state, sim, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT(rid) DO UPDATE SET state = excluded.state, sim = excluded.sim, body = excluded.body",
            )?
            .execute(params![r.rid as i64, r.id, r.type_key, state_of(r)?, r.sim.as_deref(), r.body.stored()])?,
        ResourceWrite::Meta(r) => tx
            .prepare_cached("UPDATE resources SET state = ?2, sim = ?3 WHERE rid = ?1")?
            .execute(params![r.rid as i64, state_of(r)?, r.sim.as_deref()])?,
        ResourceWrite::Delete(rid) => {
            tx.prepare_cached("DELETE FROM resources WHERE rid = ?1")?.execute(params![*rid as i64])?
        }
    };
    Ok(())
}

pub fn write_operation(tx: &Transaction, write: &OperationWrite) -> anyhow::Result<()> {
    match write {
        OperationWrite::Put(op) => tx
            .prepare_cached(
                "INSERT INTO operations (oid, doc) VALUES (?1, ?2) ON CONFLICT(oid) DO UPDATE SET doc = excluded.doc",
            )?
            .execute(params![op.oid as i64, serde_json::to_string(&**op)?])?,
        OperationWrite::Delete(oid) => {
            tx.prepare_cached("DELETE FROM operations WHERE oid = ?1")?.execute(params![*oid as i64])?
        }
    };
    Ok(())
}

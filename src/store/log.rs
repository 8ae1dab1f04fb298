//! The change log several nodes on one PostgreSQL store share: every commit also appends its row
//! changes, numbered, so that each node brings its in-memory replica up to date by replaying
//! what the others committed, in order, with every intermediate version (the event journal
//! follows versions).

use std::sync::Arc;

use super::record::{OperationRecord, StoredResource};
use super::rows::{doc_of, operation_from, resource_from, state_of, ResourceRow, RowWrite};
use super::state::{OperationWrite, ResourceWrite};

/// What kind of row change a log row holds (its `kind` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i16)]
pub enum Kind {
    Resource = 1,
    ResourceGone = 2,
    Operation = 3,
    OperationGone = 4,
    Setting = 5,
    Clear = 6,
    /// A resource's new version with the body of the one before (a lifecycle step).
    ResourceMeta = 7,
}

/// A log row's columns, as written and read (unused ones are null).
#[derive(Debug, Default)]
pub struct LogRow {
    pub kind: i16,
    /// A resource's or an operation's row id.
    pub row_id: Option<i64>,
    /// A resource's id, an operation's id, or a setting's name.
    pub name: Option<String>,
    pub type_key: Option<String>,
    /// A resource's state column, an operation's document, or a setting's value.
    pub text: Option<String>,
    pub sim: Option<String>,
    pub body: Option<Vec<u8>>,
}

impl LogRow {
    /// The log row of one row change.
    pub fn of(write: &RowWrite) -> anyhow::Result<LogRow> {
        Ok(match write {
            RowWrite::Resource(ResourceWrite::Put(r)) => {
                LogRow::of_resource(Kind::Resource, r, Some(r.body.stored().to_vec()))?
            }
            // The body is the one the version before carried, which every replica holds.
            RowWrite::Resource(ResourceWrite::Meta(r)) => LogRow::of_resource(Kind::ResourceMeta, r, None)?,
            RowWrite::Resource(ResourceWrite::Delete(old)) => LogRow {
                kind: Kind::ResourceGone as i16,
                row_id: Some(old.rid as i64),
                name: Some(old.id.clone()),
                ..LogRow::default()
            },
            RowWrite::Operation(OperationWrite::Put(op)) => LogRow {
                kind: Kind::Operation as i16,
                row_id: Some(op.oid as i64),
                text: Some(doc_of(op)?),
                ..LogRow::default()
            },
            RowWrite::Operation(OperationWrite::Delete(old)) => LogRow {
                kind: Kind::OperationGone as i16,
                row_id: Some(old.oid as i64),
                name: Some(old.id.to_string()),
                ..LogRow::default()
            },
            RowWrite::Setting(name, value) => LogRow {
                kind: Kind::Setting as i16,
                name: Some(name.clone()),
                text: Some(value.clone()),
                ..LogRow::default()
            },
            RowWrite::Clear => LogRow { kind: Kind::Clear as i16, ..LogRow::default() },
        })
    }

    fn of_resource(kind: Kind, r: &StoredResource, body: Option<Vec<u8>>) -> anyhow::Result<LogRow> {
        Ok(LogRow {
            kind: kind as i16,
            row_id: Some(r.rid as i64),
            name: Some(r.id.clone()),
            type_key: Some(r.type_key.clone()),
            text: Some(state_of(r)?),
            sim: r.sim.as_deref().map(str::to_string),
            body,
        })
    }

    /// The resource version a resource row holds, with `body`; `None` when a column is missing.
    fn resource_with(&self, body: &[u8]) -> Option<anyhow::Result<StoredResource>> {
        Some(resource_from(ResourceRow {
            rid: self.row_id?,
            id: self.name.clone()?,
            type_key: self.type_key.clone()?,
            state: self.text.as_deref()?,
            sim: self.sim.clone(),
            body,
        }))
    }

    /// Decodes the change this row holds.
    pub fn change(self) -> anyhow::Result<Change> {
        let missing = || anyhow::anyhow!("a change log row of kind {} lacks a column", self.kind);
        Ok(match self.kind {
            k if k == Kind::Resource as i16 => {
                let body = self.body.as_deref().ok_or_else(missing)?;
                Change::Resource(self.resource_with(body).ok_or_else(missing)??)
            }
            k if k == Kind::ResourceMeta as i16 => Change::ResourceMeta(self.resource_with(&[]).ok_or_else(missing)??),
            k if k == Kind::ResourceGone as i16 => {
                Change::ResourceGone(self.name.ok_or_else(missing)?.to_ascii_lowercase())
            }
            k if k == Kind::Operation as i16 => Change::Operation(operation_from(
                self.row_id.ok_or_else(missing)?,
                self.text.as_deref().ok_or_else(missing)?,
            )?),
            k if k == Kind::OperationGone as i16 => Change::OperationGone(self.name.ok_or_else(missing)?.into()),
            k if k == Kind::Setting as i16 => {
                let value = self.text.clone().ok_or_else(missing)?;
                Change::Setting(self.name.ok_or_else(missing)?, value)
            }
            k if k == Kind::Clear as i16 => Change::Clear,
            other => anyhow::bail!("a change log row of unknown kind {other}"),
        })
    }
}

/// One row change another node committed.
#[derive(Debug)]
pub enum Change {
    Resource(StoredResource),
    /// A new version whose body is its predecessor's (this one's is empty).
    ResourceMeta(StoredResource),
    /// The lower-case key of a deleted resource.
    ResourceGone(String),
    Operation(OperationRecord),
    OperationGone(Arc<str>),
    Setting(String, String),
    Clear,
}

/// What brings a replica up to date: the commits it lacks, or, when some of them are no longer
/// in the log (trimmed while the node was away), everything the tables hold and the log
/// position they stand at.
pub enum Catchup {
    Commits(Vec<Commit>),
    Reload(super::sqlite::Loaded, u64),
}

/// Whether commits read after `applied` leave some out: the log no longer holds them.
pub fn misses_some(applied: u64, commits: &[Commit]) -> bool {
    commits.first().is_some_and(|first| first.seq > applied + 1)
}

/// One commit's changes, as the log numbers it.
#[derive(Debug)]
pub struct Commit {
    pub seq: u64,
    /// The process that committed it (see `Cluster::origin`).
    pub origin: String,
    pub changes: Vec<Change>,
}

//! A commit's row changes on PostgreSQL as a few set-based statements: each row's last change in
//! the commit (the change log keeps every one), so that a commit takes the same few round trips
//! whatever its size.

use std::collections::BTreeMap;
use std::sync::Arc;

use postgres::{Client, Statement, Transaction};

use super::record::{OperationRecord, StoredResource};
use super::rows::{doc_of, state_of, RowWrite};
use super::state::{OperationWrite, ResourceWrite};

pub struct TableStatements {
    put_resources: Statement,
    step_resources: Statement,
    delete_resources: Statement,
    put_operations: Statement,
    delete_operations: Statement,
    put_settings: Statement,
}

impl TableStatements {
    pub fn prepare(client: &mut Client) -> anyhow::Result<TableStatements> {
        Ok(TableStatements {
            put_resources: client.prepare(
                "INSERT INTO resources (rid, id, type, state, sim, body)
                 SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[])
                 ON CONFLICT (rid) DO UPDATE SET state = excluded.state, sim = excluded.sim, body = excluded.body",
            )?,
            step_resources: client.prepare(
                "UPDATE resources SET state = c.state, sim = c.sim
                 FROM UNNEST($1::bigint[], $2::text[], $3::text[]) AS c(rid, state, sim) WHERE resources.rid = c.rid",
            )?,
            delete_resources: client.prepare("DELETE FROM resources WHERE rid = ANY($1)")?,
            put_operations: client.prepare(
                "INSERT INTO operations (oid, doc) SELECT * FROM UNNEST($1::bigint[], $2::text[])
                 ON CONFLICT (oid) DO UPDATE SET doc = excluded.doc",
            )?,
            delete_operations: client.prepare("DELETE FROM operations WHERE oid = ANY($1)")?,
            put_settings: client.prepare(
                "INSERT INTO settings (name, value) SELECT * FROM UNNEST($1::text[], $2::text[])
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            )?,
        })
    }
}

/// A resource row's last change in a commit.
enum RowChange {
    /// The whole row.
    Put(Arc<StoredResource>),
    /// Only the lifecycle columns: the body on disk is this version's already.
    Step(Arc<StoredResource>),
    Delete,
}

/// Each row's last change, by row id (`None`: deleted).
#[derive(Default)]
struct LastChanges {
    resources: BTreeMap<u64, RowChange>,
    operations: BTreeMap<u64, Option<Arc<OperationRecord>>>,
    settings: BTreeMap<String, String>,
}

impl LastChanges {
    fn add(&mut self, write: &RowWrite) {
        match write {
            RowWrite::Resource(ResourceWrite::Put(r)) => {
                self.resources.insert(r.rid, RowChange::Put(r.clone()));
            }
            // After a put of the body in the same commit, the step's version is written whole.
            RowWrite::Resource(ResourceWrite::Meta(r)) => {
                let change = match self.resources.get(&r.rid) {
                    Some(RowChange::Put(_)) => RowChange::Put(r.clone()),
                    _ => RowChange::Step(r.clone()),
                };
                self.resources.insert(r.rid, change);
            }
            RowWrite::Resource(ResourceWrite::Delete(old)) => {
                self.resources.insert(old.rid, RowChange::Delete);
            }
            RowWrite::Operation(OperationWrite::Put(op)) => {
                self.operations.insert(op.oid, Some(op.clone()));
            }
            RowWrite::Operation(OperationWrite::Delete(old)) => {
                self.operations.insert(old.oid, None);
            }
            RowWrite::Setting(name, value) => {
                self.settings.insert(name.clone(), value.clone());
            }
            RowWrite::Clear => {}
        }
    }

    fn write(self, tx: &mut Transaction, statements: &TableStatements) -> anyhow::Result<()> {
        let (mut put, mut stepped, mut gone) = (Vec::new(), Vec::new(), Vec::new());
        for (rid, change) in self.resources {
            match change {
                RowChange::Put(r) => put.push(r),
                RowChange::Step(r) => stepped.push(r),
                RowChange::Delete => gone.push(rid as i64),
            }
        }
        if !put.is_empty() {
            let rows: Vec<&StoredResource> = put.iter().map(|r| &**r).collect();
            let rids: Vec<i64> = rows.iter().map(|r| r.rid as i64).collect();
            let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
            let types: Vec<&str> = rows.iter().map(|r| r.type_key.as_str()).collect();
            let states = rows.iter().map(|r| state_of(r)).collect::<anyhow::Result<Vec<String>>>()?;
            let sims: Vec<Option<&str>> = rows.iter().map(|r| r.sim.as_deref()).collect();
            let bodies: Vec<&[u8]> = rows.iter().map(|r| r.body.stored()).collect();
            tx.execute(&statements.put_resources, &[&rids, &ids, &types, &states, &sims, &bodies])?;
        }
        if !stepped.is_empty() {
            let rids: Vec<i64> = stepped.iter().map(|r| r.rid as i64).collect();
            let states = stepped.iter().map(|r| state_of(r)).collect::<anyhow::Result<Vec<String>>>()?;
            let sims: Vec<Option<&str>> = stepped.iter().map(|r| r.sim.as_deref()).collect();
            tx.execute(&statements.step_resources, &[&rids, &states, &sims])?;
        }
        if !gone.is_empty() {
            tx.execute(&statements.delete_resources, &[&gone])?;
        }
        let (put, gone): (Vec<_>, Vec<_>) = self.operations.into_iter().partition(|(_, op)| op.is_some());
        if !put.is_empty() {
            let oids: Vec<i64> = put.iter().map(|(oid, _)| *oid as i64).collect();
            let docs =
                put.iter().filter_map(|(_, op)| op.as_deref()).map(doc_of).collect::<anyhow::Result<Vec<_>>>()?;
            tx.execute(&statements.put_operations, &[&oids, &docs])?;
        }
        if !gone.is_empty() {
            let oids: Vec<i64> = gone.iter().map(|(oid, _)| *oid as i64).collect();
            tx.execute(&statements.delete_operations, &[&oids])?;
        }
        if !self.settings.is_empty() {
            let (names, values): (Vec<String>, Vec<String>) = self.settings.into_iter().unzip();
            tx.execute(&statements.put_settings, &[&names, &values])?;
        }
        Ok(())
    }
}

/// Writes `rows` to the tables in `tx`: in order around a clear, each row's last change otherwise.
pub fn write_tables(tx: &mut Transaction, statements: &TableStatements, rows: &[RowWrite]) -> anyhow::Result<()> {
    let mut changes = LastChanges::default();
    for row in rows {
        if let RowWrite::Clear = row {
            std::mem::take(&mut changes).write(tx, statements)?;
            tx.batch_execute("DELETE FROM resources; DELETE FROM operations;")?;
        } else {
            changes.add(row);
        }
    }
    changes.write(tx, statements)
}

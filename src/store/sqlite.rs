//! Durable half of the store: SQLite in WAL mode, written by one thread that folds every
//! write waiting in its queue into a single commit (group commit). Rows are keyed by integer
//! ids the store hands out, so inserts append to the table instead of scattering index pages.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{mpsc, Arc};
use std::thread;

use anyhow::Context;
use rusqlite::{params, Connection};
use tokio::sync::oneshot;

use super::record::{OperationRecord, StoredResource};
use super::state::{AppliedChanges, OperationWrite, ResourceWrite};
use super::Durability;

const CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(500);
const TRUNCATE_AFTER_FRAMES: i64 = 50_000;

/// How many queued writes one commit may fold together.
const MAX_BATCH: usize = 1024;

/// The layout this build reads and writes (`PRAGMA user_version`).
const FORMAT: i64 = 2;

pub enum WriteRequest {
    Changes(AppliedChanges, Option<oneshot::Sender<Result<(), String>>>),
    Setting(String, String, oneshot::Sender<Result<(), String>>),
    Clear(oneshot::Sender<Result<(), String>>),
}

pub struct Loaded {
    pub resources: Vec<StoredResource>,
    pub operations: Vec<OperationRecord>,
    pub settings: HashMap<String, String>,
}

fn open(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: a commit is on disk before it is acknowledged, even across power loss.
    conn.pragma_update(None, "synchronous", "FULL")?;
    let format: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let has_tables: i64 =
        conn.query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'", [], |r| r.get(0))?;
    if format != FORMAT && has_tables > 0 {
        anyhow::bail!(
            "{} was written by another azemu version (store format {format}; this one reads format {FORMAT}). \
             Move it away, or start with another --data directory.",
            path.display()
        );
    }
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS resources (rid INTEGER PRIMARY KEY, meta TEXT NOT NULL, body BLOB NOT NULL);
         CREATE TABLE IF NOT EXISTS operations (oid INTEGER PRIMARY KEY, doc TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);",
    )?;
    conn.pragma_update(None, "user_version", FORMAT)?;
    Ok(conn)
}

/// Opens (or creates) the database, reads everything back, and starts the writer thread.
pub fn start(path: &Path, durability: Arc<Durability>) -> anyhow::Result<(Loaded, mpsc::Sender<WriteRequest>)> {
    let conn = open(path)?;
    let loaded = load(&conn)?;
    // Commits never checkpoint; a second connection does it in the background, so copying
    // the WAL back into the database never delays an acknowledgement.
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    let checkpointer = Connection::open(path)?;
    thread::Builder::new().name("azemu-store-checkpoint".into()).spawn(move || checkpoint_loop(checkpointer))?;
    let (tx, rx) = mpsc::channel::<WriteRequest>();
    thread::Builder::new().name("azemu-store-writer".into()).spawn(move || writer_loop(conn, rx, durability))?;
    Ok((loaded, tx))
}

/// Copies committed WAL frames into the database twice a second without blocking writers;
/// truncates the WAL when it has grown large and nothing is reading it.
fn checkpoint_loop(conn: Connection) {
    loop {
        thread::sleep(CHECKPOINT_INTERVAL);
        let result: rusqlite::Result<(i64, i64, i64)> =
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)));
        match result {
            Ok((_, log, done)) if log > TRUNCATE_AFTER_FRAMES && log == done => {
                let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
        }
    }
}

fn load(conn: &Connection) -> anyhow::Result<Loaded> {
    let mut resources = Vec::new();
    let mut stmt = conn.prepare("SELECT rid, meta, body FROM resources")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let rid: i64 = row.get(0)?;
        let meta = row.get_ref(1)?.as_str()?;
        let mut resource: StoredResource =
            serde_json::from_str(meta).with_context(|| format!("decoding stored resource {rid}"))?;
        resource.rid = rid as u64;
        resource.body = bytes::Bytes::copy_from_slice(row.get_ref(2)?.as_blob()?);
        resources.push(resource);
    }
    let mut operations = Vec::new();
    let mut stmt = conn.prepare("SELECT oid, doc FROM operations")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let oid: i64 = row.get(0)?;
        let mut op: OperationRecord = serde_json::from_str(row.get_ref(1)?.as_str()?)
            .with_context(|| format!("decoding stored operation {oid}"))?;
        op.oid = oid as u64;
        operations.push(op);
    }
    let mut settings = HashMap::new();
    let mut stmt = conn.prepare("SELECT name, value FROM settings")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    for row in rows {
        let (name, value) = row?;
        settings.insert(name, value);
    }
    Ok(Loaded { resources, operations, settings })
}

fn writer_loop(mut conn: Connection, rx: mpsc::Receiver<WriteRequest>, durability: Arc<Durability>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let outcome = write_batch(&mut conn, &batch).map_err(|e| e.to_string());
        if let Err(e) = &outcome {
            tracing::error!(error = %e, "store commit failed");
        }
        // Also after a failed commit: readers must not wait forever for it.
        let newest = batch
            .iter()
            .filter_map(|r| match r {
                WriteRequest::Changes(changes, _) => Some(changes.seq),
                _ => None,
            })
            .max();
        if let Some(seq) = newest {
            durability.advance(seq);
        }
        for request in batch {
            let ack = match request {
                WriteRequest::Changes(_, ack) => ack,
                WriteRequest::Setting(_, _, ack) | WriteRequest::Clear(ack) => Some(ack),
            };
            if let Some(ack) = ack {
                let _ = ack.send(outcome.clone());
            }
        }
    }
}

fn write_batch(conn: &mut Connection, batch: &[WriteRequest]) -> anyhow::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut put_resource = tx.prepare_cached(
            "INSERT INTO resources (rid, meta, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT(rid) DO UPDATE SET meta = excluded.meta, body = excluded.body",
        )?;
        let mut put_meta = tx.prepare_cached("UPDATE resources SET meta = ?2 WHERE rid = ?1")?;
        let mut delete_resource = tx.prepare_cached("DELETE FROM resources WHERE rid = ?1")?;
        let mut put_operation = tx.prepare_cached(
            "INSERT INTO operations (oid, doc) VALUES (?1, ?2) ON CONFLICT(oid) DO UPDATE SET doc = excluded.doc",
        )?;
        let mut delete_operation = tx.prepare_cached("DELETE FROM operations WHERE oid = ?1")?;
        let mut put_setting = tx.prepare_cached(
            "INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
        )?;
        for request in batch {
            match request {
                WriteRequest::Clear(_) => {
                    tx.execute_batch("DELETE FROM resources; DELETE FROM operations;")?;
                }
                WriteRequest::Setting(name, value, _) => {
                    put_setting.execute(params![name, value])?;
                }
                WriteRequest::Changes(changes, _) => {
                    for write in &changes.resources {
                        match write {
                            ResourceWrite::Put(r) => put_resource.execute(params![
                                r.rid as i64,
                                serde_json::to_string(&**r)?,
                                &r.body[..]
                            ])?,
                            ResourceWrite::Meta(r) => {
                                put_meta.execute(params![r.rid as i64, serde_json::to_string(&**r)?])?
                            }
                            ResourceWrite::Delete(rid) => delete_resource.execute(params![*rid as i64])?,
                        };
                    }
                    for write in &changes.operations {
                        match write {
                            OperationWrite::Put(op) => {
                                put_operation.execute(params![op.oid as i64, serde_json::to_string(&**op)?])?
                            }
                            OperationWrite::Delete(oid) => delete_operation.execute(params![*oid as i64])?,
                        };
                    }
                }
            }
        }
    }
    tx.commit()?;
    Ok(())
}

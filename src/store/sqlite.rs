//! Durable half of the store: SQLite in WAL mode, written by one thread that folds every
//! write waiting in its queue into a single commit (group commit).

use std::path::Path;
use std::sync::{mpsc, Arc};
use std::thread;

use anyhow::Context;
use rusqlite::{params, Connection};
use tokio::sync::oneshot;

use super::record::{OperationRecord, StoredResource};
use super::state::AppliedChanges;
use super::Durability;

const CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(500);
const TRUNCATE_AFTER_FRAMES: i64 = 50_000;

/// How many queued writes one commit may fold together.
const MAX_BATCH: usize = 512;

pub enum WriteRequest {
    Changes(AppliedChanges, oneshot::Sender<Result<(), String>>),
    Clear(oneshot::Sender<Result<(), String>>),
}

pub struct Loaded {
    pub resources: Vec<StoredResource>,
    pub operations: Vec<OperationRecord>,
}

fn open(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: a commit is on disk before it is acknowledged, even across power loss.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS resources (key TEXT PRIMARY KEY, meta TEXT NOT NULL, body TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS operations (id TEXT PRIMARY KEY, doc TEXT NOT NULL);",
    )?;
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
    let mut stmt = conn.prepare("SELECT key, meta, body FROM resources")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?;
    for row in rows {
        let (key, meta, body) = row?;
        let mut resource: StoredResource =
            serde_json::from_str(&meta).with_context(|| format!("decoding stored resource {key}"))?;
        resource.body = serde_json::from_str(&body).with_context(|| format!("decoding the body of {key}"))?;
        resources.push(resource);
    }
    let mut operations = Vec::new();
    let mut stmt = conn.prepare("SELECT id, doc FROM operations")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    for row in rows {
        let (id, doc) = row?;
        let op: OperationRecord =
            serde_json::from_str(&doc).with_context(|| format!("decoding stored operation {id}"))?;
        operations.push(op);
    }
    Ok(Loaded { resources, operations })
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
                WriteRequest::Clear(_) => None,
            })
            .max();
        if let Some(seq) = newest {
            durability.advance(seq);
        }
        for request in batch {
            let ack = match request {
                WriteRequest::Changes(_, ack) | WriteRequest::Clear(ack) => ack,
            };
            let _ = ack.send(outcome.clone());
        }
    }
}

fn write_batch(conn: &mut Connection, batch: &[WriteRequest]) -> anyhow::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut put_resource = tx.prepare_cached(
            "INSERT INTO resources (key, meta, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT(key) DO UPDATE SET meta = excluded.meta, body = excluded.body",
        )?;
        let mut delete_resource = tx.prepare_cached("DELETE FROM resources WHERE key = ?1")?;
        let mut put_operation = tx.prepare_cached(
            "INSERT INTO operations (id, doc) VALUES (?1, ?2) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc",
        )?;
        for request in batch {
            match request {
                WriteRequest::Clear(_) => {
                    tx.execute_batch("DELETE FROM resources; DELETE FROM operations;")?;
                }
                WriteRequest::Changes(changes, _) => {
                    for (key, resource) in &changes.resources {
                        match resource {
                            Some(r) => {
                                let body = r.body_json();
                                let body = std::str::from_utf8(&body)?;
                                put_resource.execute(params![key, serde_json::to_string(&**r)?, body])?
                            }
                            None => delete_resource.execute(params![key])?,
                        };
                    }
                    for op in &changes.operations {
                        put_operation.execute(params![op.id, serde_json::to_string(&**op)?])?;
                    }
                }
            }
        }
    }
    tx.commit()?;
    Ok(())
}

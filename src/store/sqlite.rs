//! The embedded store: SQLite in WAL mode, its layout, and loading it back. Rows are keyed by
//! integer ids the store hands out, so inserts append to the table instead of scattering index
//! pages. The writer thread is in `writer`; this is the database it commits to.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::Instant;

use anyhow::Context;
use rusqlite::{params, Connection, Transaction};

use super::migrate;
use super::record::{OperationRecord, StoredResource};
use super::rows::{doc_of, operation_from, resource_from, state_of, ResourceRow, RowWrite, Sink};
use super::state::{OperationWrite, ResourceWrite};
use super::writer::{writer_loop, WriteRequest};
use super::Durability;

const CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);
/// Once fully checkpointed, the WAL is reused from its start and cut back to this size, so
/// it never needs a blocking truncation.
const WAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;
/// WAL frames (4 KiB pages) after which the writer restarts the WAL from its beginning.
const WAL_RESTART_FRAMES: i64 = 32_768;

/// The layout this build reads and writes (`PRAGMA user_version`).
const FORMAT: i64 = 2;

const RESOURCE_COLUMNS: &str = "rid, id, type, state, sim, body";

/// What the checkpointer and the writer share about the WAL.
#[derive(Default)]
pub struct WalState {
    /// Frames in the WAL after the last checkpoint pass.
    pub frames: AtomicI64,
    /// Held for a checkpoint pass, so that the writer never waits on one.
    pub checkpointing: Mutex<()>,
}

pub struct Loaded {
    pub resources: Vec<StoredResource>,
    pub operations: Vec<OperationRecord>,
    pub settings: HashMap<String, String>,
}

fn open(path: &Path) -> anyhow::Result<Connection> {
    let mut conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: a commit is on disk before it is acknowledged, even across power loss.
    conn.pragma_update(None, "synchronous", "FULL")?;
    let numbered: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let has_tables: i64 =
        conn.query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'", [], |r| r.get(0))?;
    // Stores from before layouts were numbered are format 1.
    let format = if numbered == 0 && has_tables > 0 { 1 } else { numbered };
    if format > FORMAT {
        anyhow::bail!(
            "{} was written by a newer azemu (store format {format}); this one reads formats 1 to {FORMAT}. \
             Run the newer azemu, or start with another --data directory.",
            path.display()
        );
    }
    if has_tables > 0 && format < FORMAT {
        let backup = migrate::back_up(&conn, path, format)?;
        let migrated = migrate::from_format_one(&mut conn).with_context(|| {
            format!("migrating {} from store format {format} (a copy is in {})", path.display(), backup.display())
        })?;
        tracing::warn!(
            from = format,
            to = FORMAT,
            backup = %backup.display(),
            resources = migrated.resources,
            interrupted = migrated.interrupted,
            deleted = migrated.deleted,
            operations_dropped = migrated.operations_dropped,
            "store migrated"
        );
    }
    conn.execute_batch(migrate::TABLES)?;
    conn.pragma_update(None, "user_version", FORMAT)?;
    Ok(conn)
}

/// Opens (or creates) the database, reads everything back, and starts the writer thread.
pub fn start(path: &Path, durability: Arc<Durability>) -> anyhow::Result<(Loaded, mpsc::Sender<WriteRequest>)> {
    let conn = open(path)?;
    let loaded = load(&conn, path)?;
    // Commits never checkpoint; a second connection does it in the background, so copying
    // the WAL back into the database never delays an acknowledgement.
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
    let checkpointer = Connection::open(path)?;
    let wal = Arc::new(WalState::default());
    let shared = wal.clone();
    thread::Builder::new()
        .name("azemu-store-checkpoint".into())
        .spawn(move || checkpoint_loop(checkpointer, shared))?;
    let (tx, rx) = mpsc::channel::<WriteRequest>();
    let sink = SqliteSink { conn, wal };
    thread::Builder::new().name("azemu-store-writer".into()).spawn(move || writer_loop(sink, rx, durability))?;
    Ok((loaded, tx))
}

/// Copies committed WAL frames into the database twice a second without blocking writers, and
/// tells the writer how long the WAL has grown (see [`SqliteSink::between_commits`]).
fn checkpoint_loop(conn: Connection, wal: Arc<WalState>) {
    loop {
        thread::sleep(CHECKPOINT_INTERVAL);
        let _pass = wal.checkpointing.lock().unwrap_or_else(|e| e.into_inner());
        let result: rusqlite::Result<(i64, i64, i64)> =
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)));
        match result {
            Ok((_, log, _)) => wal.frames.store(log, Ordering::Relaxed),
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
        }
    }
}

fn load(conn: &Connection, path: &Path) -> anyhow::Result<Loaded> {
    // Operations are read on a second connection while this one reads the resources: a
    // restart on a large store waits for the longer of the two, not for both.
    let (resources, operations) = thread::scope(|scope| {
        let operations = scope.spawn(|| -> anyhow::Result<Vec<OperationRecord>> {
            let reader = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
            let mut operations = Vec::new();
            let mut stmt = reader.prepare("SELECT oid, doc FROM operations")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                operations.push(operation_from(row.get(0)?, row.get_ref(1)?.as_str()?)?);
            }
            Ok(operations)
        });
        let resources = (|| -> anyhow::Result<Vec<StoredResource>> {
            let mut resources = Vec::new();
            let mut stmt = conn.prepare(&format!("SELECT {RESOURCE_COLUMNS} FROM resources"))?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                resources.push(resource_from(ResourceRow {
                    rid: row.get(0)?,
                    id: row.get(1)?,
                    type_key: row.get(2)?,
                    state: row.get_ref(3)?.as_str()?,
                    sim: row.get(4)?,
                    body: row.get_ref(5)?.as_blob()?,
                })?);
            }
            Ok(resources)
        })();
        let operations = operations.join().unwrap_or_else(|_| Err(anyhow::anyhow!("reading operations panicked")));
        (resources, operations)
    });
    let (resources, operations) = (resources?, operations?);
    let mut settings = HashMap::new();
    let mut stmt = conn.prepare("SELECT name, value FROM settings")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    for row in rows {
        let (name, value) = row?;
        settings.insert(name, value);
    }
    Ok(Loaded { resources, operations, settings })
}

/// The writer's connection.
struct SqliteSink {
    conn: Connection,
    wal: Arc<WalState>,
}

impl Sink for SqliteSink {
    fn commit(&mut self, rows: &[RowWrite]) -> anyhow::Result<()> {
        let tx = self.conn.transaction()?;
        for row in rows {
            match row {
                RowWrite::Resource(write) => write_resource(&tx, write)?,
                RowWrite::Operation(write) => write_operation(&tx, write)?,
                RowWrite::Setting(name, value) => {
                    tx.prepare_cached(
                        "INSERT INTO settings (name, value) VALUES (?1, ?2)
                             ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                    )?
                    .execute(params![name, value])?;
                }
                RowWrite::Clear => tx.execute_batch("DELETE FROM resources; DELETE FROM operations;")?,
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn probe(&mut self) -> anyhow::Result<()> {
        self.conn.execute(
            "INSERT INTO settings (name, value) VALUES ('azemu.probe', ?1)
                 ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            params![chrono::Utc::now().to_rfc3339()],
        )?;
        Ok(())
    }

    /// Under a steady stream of commits the background checkpoints never catch up completely,
    /// and SQLite only reuses the WAL from its start once one has: so past a size the writer
    /// itself finishes a checkpoint (the background one has copied nearly everything by then)
    /// and restarts the WAL, which keeps it bounded.
    fn between_commits(&mut self) {
        if self.wal.frames.load(Ordering::Relaxed) < WAL_RESTART_FRAMES {
            return;
        }
        // Not while a background pass runs: it would make this one wait.
        let Ok(_pass) = self.wal.checkpointing.try_lock() else { return };
        let started = Instant::now();
        match self.conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get::<_, i64>(0)) {
            Ok(0) => {
                self.wal.frames.store(0, Ordering::Relaxed);
                tracing::debug!(ms = started.elapsed().as_secs_f64() * 1000.0, "WAL restarted");
            }
            Ok(_) => tracing::debug!("WAL restart postponed: the checkpoint was busy"),
            Err(e) => tracing::warn!(error = %e, "WAL restart failed"),
        }
    }
}

fn write_resource(tx: &Transaction, write: &ResourceWrite) -> anyhow::Result<()> {
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
        ResourceWrite::Delete(old) => {
            tx.prepare_cached("DELETE FROM resources WHERE rid = ?1")?.execute(params![old.rid as i64])?
        }
    };
    Ok(())
}

fn write_operation(tx: &Transaction, write: &OperationWrite) -> anyhow::Result<()> {
    match write {
        OperationWrite::Put(op) => tx
            .prepare_cached(
                "INSERT INTO operations (oid, doc) VALUES (?1, ?2) ON CONFLICT(oid) DO UPDATE SET doc = excluded.doc",
            )?
            .execute(params![op.oid as i64, doc_of(op)?])?,
        OperationWrite::Delete(old) => {
            tx.prepare_cached("DELETE FROM operations WHERE oid = ?1")?.execute(params![old.oid as i64])?
        }
    };
    Ok(())
}

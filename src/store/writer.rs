//! The writer thread. Durable changes are folded into one commit per wake-up (group commit)
//! and acknowledged once on disk. Checkpoints (changes derived from what is already durable)
//! are not waited for: their rows are kept, newest per row, and written after a second in row
//! order, so that a burst of lifecycle steps and operation completions rewrites each table page
//! once instead of once per step. Losing them to a crash costs only a replay at the next start.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, Transaction};

use super::rows::{write_operation, write_resource};
use super::sqlite::{WalState, WriteRequest};
use super::state::{AppliedChanges, OperationWrite, ResourceWrite};
use super::Durability;

/// How many queued requests one commit may fold together.
const MAX_BATCH: usize = 1024;
/// How long checkpoints may wait before they are written.
const CHECKPOINT_DELAY: Duration = Duration::from_secs(1);
/// Checkpointed rows held before they are written regardless of the delay.
const MAX_PENDING_ROWS: usize = 50_000;
/// Checkpointed rows of each table one commit writes at most (beyond the operations the
/// resource rows need), so that durable writes never wait long for them.
const CHECKPOINT_CHUNK: usize = 256;

/// Checkpointed rows not yet written, the newest per row. A resource row remembers the newest
/// operation row written with it: a settled resource must never reach the disk before the
/// completion of its operation, which nothing would replay, so that operation goes first.
#[derive(Default)]
struct Pending {
    resources: BTreeMap<u64, (ResourceWrite, u64)>,
    operations: BTreeMap<u64, OperationWrite>,
    since: Option<Instant>,
}

fn rid_of(write: &ResourceWrite) -> u64 {
    match write {
        ResourceWrite::Put(r) | ResourceWrite::Meta(r) => r.rid,
        ResourceWrite::Delete(rid) => *rid,
    }
}

fn oid_of(write: &OperationWrite) -> u64 {
    match write {
        OperationWrite::Put(op) => op.oid,
        OperationWrite::Delete(oid) => *oid,
    }
}

/// What a chunk of checkpointed rows writes: operations first.
struct Chunk {
    operations: Vec<OperationWrite>,
    resources: Vec<ResourceWrite>,
}

impl Pending {
    fn len(&self) -> usize {
        self.resources.len() + self.operations.len()
    }

    fn due(&self) -> bool {
        self.len() >= MAX_PENDING_ROWS || self.since.is_some_and(|t| t.elapsed() >= CHECKPOINT_DELAY)
    }

    fn wait(&self) -> Duration {
        self.since.map_or(Duration::from_secs(3600), |t| CHECKPOINT_DELAY.saturating_sub(t.elapsed()))
    }

    /// Keeps a checkpoint's rows.
    fn add(&mut self, changes: &AppliedChanges) {
        if changes.resources.is_empty() && changes.operations.is_empty() {
            return;
        }
        self.since.get_or_insert_with(Instant::now);
        let needs = changes.operations.iter().map(oid_of).max().unwrap_or(0);
        for write in &changes.operations {
            self.operations.insert(oid_of(write), write.clone());
        }
        for write in &changes.resources {
            let rid = rid_of(write);
            let (write, needs) = match (self.resources.remove(&rid), write.clone()) {
                // A newer version with the same body still needs the older body on disk.
                (Some((ResourceWrite::Put(_), older)), ResourceWrite::Meta(r)) => {
                    (ResourceWrite::Put(r), older.max(needs))
                }
                (Some((_, older)), write) => (write, older.max(needs)),
                (None, write) => (write, needs),
            };
            self.resources.insert(rid, (write, needs));
        }
    }

    /// The operations up to `oid`, taken out.
    fn operations_through(&mut self, oid: u64) -> Vec<OperationWrite> {
        let later = self.operations.split_off(&(oid + 1));
        std::mem::replace(&mut self.operations, later).into_values().collect()
    }

    /// Up to `limit` resource rows, lowest row ids first (neighbours share table pages), the
    /// operations they need, and up to `limit` more operations.
    fn take_chunk(&mut self, limit: usize) -> Chunk {
        let mut resources = Vec::new();
        let mut needs = 0;
        while resources.len() < limit {
            let Some((_, (write, needed))) = self.resources.pop_first() else { break };
            needs = needs.max(needed);
            resources.push(write);
        }
        let mut operations = self.operations_through(needs);
        while operations.len() < limit {
            let Some((_, write)) = self.operations.pop_first() else { break };
            operations.push(write);
        }
        if self.len() == 0 {
            self.since = None;
        }
        Chunk { operations, resources }
    }
}

/// WAL frames (4 KiB pages) after which the writer restarts the WAL from its beginning.
const WAL_RESTART_FRAMES: i64 = 32_768;

/// Under a steady stream of commits the background checkpoints never catch up completely, and
/// SQLite only reuses the WAL from its start once one has: so past a size the writer itself
/// finishes a checkpoint (the background one has copied nearly everything by then) and restarts
/// the WAL, which keeps it bounded.
fn restart_wal_if_long(conn: &Connection, wal: &WalState) {
    if wal.frames.load(Ordering::Relaxed) < WAL_RESTART_FRAMES {
        return;
    }
    // Not while a background pass runs: it would make this one wait.
    let Ok(_pass) = wal.checkpointing.try_lock() else { return };
    let started = Instant::now();
    match conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get::<_, i64>(0)) {
        Ok(0) => {
            wal.frames.store(0, Ordering::Relaxed);
            tracing::debug!(ms = started.elapsed().as_secs_f64() * 1000.0, "WAL restarted");
        }
        Ok(_) => tracing::debug!("WAL restart postponed: the checkpoint was busy"),
        Err(e) => tracing::warn!(error = %e, "WAL restart failed"),
    }
}

pub fn writer_loop(
    mut conn: Connection,
    rx: mpsc::Receiver<WriteRequest>,
    durability: Arc<Durability>,
    wal: Arc<WalState>,
) {
    let mut pending = Pending::default();
    loop {
        restart_wal_if_long(&conn, &wal);
        let first = match rx.recv_timeout(pending.wait()) {
            Ok(request) => request,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Err(e) = commit(&mut conn, &mut pending, &[]) {
                    tracing::error!(error = %e, "store checkpoint failed");
                }
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let defer_only = batch.iter().all(|r| matches!(r, WriteRequest::Changes(_, None)));
        if defer_only && !pending.due() {
            for request in &batch {
                if let WriteRequest::Changes(changes, None) = request {
                    pending.add(changes);
                }
            }
            continue;
        }
        let started = Instant::now();
        let outcome = commit(&mut conn, &mut pending, &batch).map_err(|e| e.to_string());
        let took = started.elapsed();
        tracing::trace!(requests = batch.len(), ms = took.as_secs_f64() * 1000.0, "store commit");
        durability.observe_commit(took);
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

/// One transaction, the requests in queue order. Durable changes are written as they come, each
/// first writing any checkpoint pending for a resource row it touches (and the operations that
/// checkpoint needs), so that the older change never lands after it. Checkpoints are kept;
/// when due, a chunk of them goes in row order.
fn commit(conn: &mut Connection, pending: &mut Pending, batch: &[WriteRequest]) -> anyhow::Result<()> {
    let tx = conn.transaction()?;
    for request in batch {
        match request {
            WriteRequest::Clear(_) => {
                *pending = Pending::default();
                tx.execute_batch("DELETE FROM resources; DELETE FROM operations;")?;
            }
            WriteRequest::Setting(name, value, _) => {
                tx.prepare_cached(
                    "INSERT INTO settings (name, value) VALUES (?1, ?2)
                         ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                )?
                .execute(params![name, value])?;
            }
            WriteRequest::Changes(changes, None) => pending.add(changes),
            WriteRequest::Changes(changes, Some(_)) => write_durable(&tx, pending, changes)?,
        }
    }
    if pending.due() {
        let chunk = pending.take_chunk(CHECKPOINT_CHUNK);
        for write in &chunk.operations {
            write_operation(&tx, write)?;
        }
        for write in &chunk.resources {
            write_resource(&tx, write)?;
        }
    }
    tx.commit()?;
    Ok(())
}

fn write_durable(tx: &Transaction, pending: &mut Pending, changes: &AppliedChanges) -> anyhow::Result<()> {
    for write in &changes.resources {
        if let Some((older, needs)) = pending.resources.remove(&rid_of(write)) {
            for op in pending.operations_through(needs) {
                write_operation(tx, &op)?;
            }
            write_resource(tx, &older)?;
        }
        write_resource(tx, write)?;
    }
    for write in &changes.operations {
        // This version replaces any checkpointed one.
        pending.operations.remove(&oid_of(write));
        write_operation(tx, write)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkpoint(operations: Vec<u64>, resources: Vec<u64>) -> AppliedChanges {
        AppliedChanges {
            operations: operations.into_iter().map(OperationWrite::Delete).collect(),
            resources: resources.into_iter().map(ResourceWrite::Delete).collect(),
            ..AppliedChanges::default()
        }
    }

    #[test]
    fn a_chunk_brings_the_operations_its_resource_rows_need() {
        let mut pending = Pending::default();
        // Many older operation rows no resource row needs, then one a resource row does.
        pending.add(&checkpoint((1..=300).collect(), vec![]));
        pending.add(&checkpoint(vec![400], vec![7]));
        let chunk = pending.take_chunk(2);
        let oids: Vec<u64> = chunk.operations.iter().map(oid_of).collect();
        assert_eq!(chunk.resources.len(), 1);
        assert!(oids.contains(&400), "the completion row 7 needs is in its chunk");
        assert_eq!(pending.len(), 300 - oids.len() + 1);
    }

    #[test]
    fn a_newer_version_of_a_row_keeps_what_the_older_one_needed() {
        let mut pending = Pending::default();
        pending.add(&checkpoint(vec![9], vec![3]));
        pending.add(&checkpoint(vec![], vec![3]));
        assert_eq!(pending.resources.get(&3).map(|(_, needs)| *needs), Some(9));
        let chunk = pending.take_chunk(1);
        assert_eq!(chunk.operations.iter().map(oid_of).collect::<Vec<_>>(), vec![9]);
        assert_eq!(pending.len(), 0);
        assert!(pending.since.is_none());
    }
}

//! The writer thread. Durable changes are folded into one commit per wake-up (group commit)
//! and acknowledged once on disk. Checkpoints (changes derived from what is already durable)
//! are not waited for: their resource rows are kept, newest per row, and written after a second
//! in row order, so that a burst of lifecycle steps rewrites each table page once instead of
//! once per step. Losing them to a crash costs only a replay at the next start.

use std::collections::BTreeMap;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::rows::{RowWrite, Sink};
use super::state::ResourceWrite;
use super::Durability;

pub enum WriteRequest {
    /// Changes to commit; without an acknowledgement they are a checkpoint (see above).
    Changes(super::state::AppliedChanges, Option<oneshot::Sender<Result<(), String>>>),
    Setting(String, String, oneshot::Sender<Result<(), String>>),
    Clear(oneshot::Sender<Result<(), String>>),
    /// Writes every deferred checkpoint now (at shutdown).
    Flush(oneshot::Sender<Result<(), String>>),
    /// Takes the cluster's write lock and brings the replica up to date (see `cluster`).
    Acquire(oneshot::Sender<Result<(), String>>),
    /// Lets the cluster's write lock go, once everything before it is committed.
    Release,
}

/// How many queued requests one commit may fold together.
const MAX_BATCH: usize = 1024;
/// How long checkpoints may wait before they are written.
const CHECKPOINT_DELAY: Duration = Duration::from_secs(1);
/// Checkpointed rows held before they are written regardless of the delay.
const MAX_PENDING_ROWS: usize = 50_000;
/// Checkpointed rows one commit writes at most, so that durable writes never wait long for them.
const CHECKPOINT_CHUNK: usize = 256;

/// Checkpointed resource rows not yet written, the newest per row.
#[derive(Default)]
struct Pending {
    resources: BTreeMap<u64, ResourceWrite>,
    since: Option<Instant>,
}

fn rid_of(write: &ResourceWrite) -> u64 {
    match write {
        ResourceWrite::Put(r) | ResourceWrite::Meta(r) => r.rid,
        ResourceWrite::Delete(old) => old.rid,
    }
}

impl Pending {
    fn len(&self) -> usize {
        self.resources.len()
    }

    fn due(&self) -> bool {
        self.len() >= MAX_PENDING_ROWS || self.since.is_some_and(|t| t.elapsed() >= CHECKPOINT_DELAY)
    }

    fn wait(&self) -> Duration {
        self.since.map_or(Duration::from_secs(3600), |t| CHECKPOINT_DELAY.saturating_sub(t.elapsed()))
    }

    /// Takes up to `limit` rows, lowest row ids first (neighbours share table pages).
    fn take_chunk(&mut self, limit: usize) -> Vec<ResourceWrite> {
        let mut resources = Vec::new();
        while resources.len() < limit {
            let Some((_, write)) = self.resources.pop_first() else { break };
            resources.push(write);
        }
        if self.len() == 0 {
            self.since = None;
        }
        resources
    }

    fn add_resource(&mut self, write: ResourceWrite) {
        self.since.get_or_insert_with(Instant::now);
        let rid = rid_of(&write);
        // A newer version with the same body still needs the older body on disk.
        let write = match (self.resources.remove(&rid), write) {
            (Some(ResourceWrite::Put(_)), ResourceWrite::Meta(r)) => ResourceWrite::Put(r),
            (_, write) => write,
        };
        self.resources.insert(rid, write);
    }
}

pub fn writer_loop(mut sink: impl Sink, rx: mpsc::Receiver<WriteRequest>, durability: Arc<Durability>) {
    let mut pending = Pending::default();
    loop {
        sink.between_commits();
        let wait = match sink.deadline() {
            Some(at) => pending.wait().min(at.saturating_duration_since(Instant::now())),
            None => pending.wait(),
        };
        let first = match rx.recv_timeout(wait) {
            Ok(request) => request,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Err(e) = commit(&mut sink, &mut pending, &[]) {
                    tracing::error!(error = %e, "store checkpoint failed");
                }
                sink.after_commit();
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
        // The cluster's write lock splits a batch only where it changes hands: what came before
        // is committed before the lock goes.
        let mut segment = Vec::new();
        for request in batch {
            match request {
                WriteRequest::Acquire(ack) => {
                    if sink.settles_before_acquire()
                        && !commit_segment(&mut sink, &mut pending, std::mem::take(&mut segment), &rx, &durability)
                    {
                        return;
                    }
                    let _ = ack.send(sink.acquire().map_err(|e| format!("{e:#}")));
                }
                WriteRequest::Release => sink.release(),
                other => segment.push(other),
            }
        }
        if !commit_segment(&mut sink, &mut pending, segment, &rx, &durability) {
            return;
        }
        sink.after_commit();
    }
}

/// Commits one run of requests and acknowledges them; false once the store is gone.
fn commit_segment(
    sink: &mut impl Sink,
    pending: &mut Pending,
    batch: Vec<WriteRequest>,
    rx: &mpsc::Receiver<WriteRequest>,
    durability: &Durability,
) -> bool {
    if batch.is_empty() {
        return true;
    }
    let defer_only = sink.defers_checkpoints()
        && batch.iter().all(|r| matches!(r, WriteRequest::Changes(c, None) if c.operations.is_empty()));
    if defer_only && !pending.due() {
        for request in batch {
            if let WriteRequest::Changes(changes, None) = request {
                changes.resources.into_iter().for_each(|w| pending.add_resource(w));
            }
        }
        return true;
    }
    let started = Instant::now();
    let outcome = commit(sink, pending, &batch).map_err(|e| format!("{e:#}"));
    let took = started.elapsed();
    tracing::trace!(requests = batch.len(), ms = took.as_secs_f64() * 1000.0, "store commit");
    durability.observe_commit(took);
    match &outcome {
        Ok(()) => {
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
        }
        Err(reason) => {
            tracing::error!(error = %reason, "store commit failed: writes are refused until the disk takes them again");
            // What was not committed is taken back from memory; checkpoints not yet written
            // are dropped, as a crash would drop them (a restart replays them).
            durability.fail(reason.clone());
            *pending = Pending::default();
        }
    }
    acknowledge(batch, &outcome);
    match outcome {
        Ok(()) => true,
        Err(reason) => refuse_until_writable(sink, rx, durability, reason),
    }
}

fn acknowledge(batch: Vec<WriteRequest>, outcome: &Result<(), String>) {
    for request in batch {
        let ack = match request {
            WriteRequest::Changes(_, ack) => ack,
            WriteRequest::Setting(_, _, ack)
            | WriteRequest::Clear(ack)
            | WriteRequest::Flush(ack)
            | WriteRequest::Acquire(ack) => Some(ack),
            WriteRequest::Release => None,
        };
        if let Some(ack) = ack {
            let _ = ack.send(outcome.clone());
        }
    }
}

/// How often a store that cannot be written tries again.
const PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// After a failed commit: refuses what reaches the writer (it was taken back, or was applied
/// before the failure and is taken back with it) and tries a small write every second until
/// the disk takes it. Returns false if the store is gone meanwhile.
fn refuse_until_writable(
    sink: &mut impl Sink,
    rx: &mpsc::Receiver<WriteRequest>,
    durability: &Durability,
    mut reason: String,
) -> bool {
    loop {
        match rx.recv_timeout(PROBE_INTERVAL) {
            Ok(request) => acknowledge(vec![request], &Err(reason.clone())),
            Err(mpsc::RecvTimeoutError::Disconnected) => return false,
            Err(mpsc::RecvTimeoutError::Timeout) => match sink.probe() {
                Ok(()) => {
                    tracing::warn!("the store takes writes again");
                    durability.recover();
                    return true;
                }
                Err(e) => reason = e.to_string(),
            },
        }
    }
}

/// One transaction, the requests in queue order. Durable changes are written as they come
/// (each first writing any checkpoint pending for a row it touches, so the older change never
/// lands after it). Of a checkpoint, the operation writes are written at once too: a resource's
/// settled row must never reach the disk before the completion of its operation, which nothing
/// would replay. Its resource rows are deferred; when due, a chunk of them goes in row order.
fn commit(sink: &mut impl Sink, pending: &mut Pending, batch: &[WriteRequest]) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for request in batch {
        match request {
            WriteRequest::Flush(_) => {
                rows.extend(pending.take_chunk(usize::MAX).into_iter().map(RowWrite::Resource));
            }
            WriteRequest::Clear(_) => {
                *pending = Pending::default();
                rows.push(RowWrite::Clear);
            }
            WriteRequest::Setting(name, value, _) => rows.push(RowWrite::Setting(name.clone(), value.clone())),
            WriteRequest::Acquire(_) | WriteRequest::Release => {}
            WriteRequest::Changes(changes, None) if sink.defers_checkpoints() => {
                rows.extend(changes.operations.iter().cloned().map(RowWrite::Operation));
                for write in &changes.resources {
                    pending.add_resource(write.clone());
                }
            }
            WriteRequest::Changes(changes, _) => {
                for write in &changes.resources {
                    if let Some(older) = pending.resources.remove(&rid_of(write)) {
                        rows.push(RowWrite::Resource(older));
                    }
                    rows.push(RowWrite::Resource(write.clone()));
                }
                rows.extend(changes.operations.iter().cloned().map(RowWrite::Operation));
            }
        }
    }
    if pending.due() {
        rows.extend(pending.take_chunk(CHECKPOINT_CHUNK).into_iter().map(RowWrite::Resource));
    }
    if rows.is_empty() {
        return Ok(());
    }
    sink.commit(&rows)
}

//! Persistence: reads come from memory; every write is committed to SQLite before it is
//! acknowledged (see `sqlite`), unless the store runs purely in memory.

mod record;
mod sqlite;
mod state;

use std::path::Path;
use std::sync::{mpsc, Mutex, RwLock};

use tokio::sync::{oneshot, Notify};

pub use record::{OperationError, OperationKind, OperationRecord, OperationStatus, StoredResource};
pub use state::{State, TimerTarget, Txn};

use sqlite::WriteRequest;

/// Optimistic computations retried before one runs under the write lock.
const OPTIMISTIC_ATTEMPTS: usize = 3;

#[derive(Debug, thiserror::Error)]
#[error("store write failed: {0}")]
pub struct StoreError(pub String);

pub struct Store {
    state: RwLock<State>,
    /// `None` for `--in-memory`.
    writer: Option<Mutex<mpsc::Sender<WriteRequest>>>,
    timers_changed: Notify,
}

impl Store {
    pub fn in_memory() -> Store {
        Store { state: RwLock::new(State::default()), writer: None, timers_changed: Notify::new() }
    }

    /// Opens `dir/azemu.db`, creating it if needed, and loads everything it holds.
    pub fn open(dir: &Path) -> anyhow::Result<Store> {
        std::fs::create_dir_all(dir)?;
        let (loaded, writer) = sqlite::start(&dir.join("azemu.db"))?;
        let mut state = State::default();
        state.apply(Txn { put_resources: loaded.resources, put_operations: loaded.operations, ..Txn::default() });
        Ok(Store { state: RwLock::new(state), writer: Some(Mutex::new(writer)), timers_changed: Notify::new() })
    }

    pub fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&self.state.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Computes a transaction from the current state and applies it; returns once it is durable.
    /// Writers are serialised, so the transaction sees every earlier write.
    pub async fn write<T, E>(&self, f: impl FnOnce(&State) -> Result<(Txn, T), E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let (out, ack) = self.apply(f)?;
        ack.durable().await?;
        Ok(out)
    }

    /// Like [`Store::write`], but hands back the acknowledgement instead of waiting for it, so
    /// that many transactions can share one commit.
    pub fn apply<T, E>(&self, f: impl FnOnce(&State) -> Result<(Txn, T), E>) -> Result<(T, PendingAck), E> {
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        let (txn, out) = f(&state)?;
        Ok((out, self.commit(&mut state, txn)))
    }

    /// Like [`Store::apply`] for work that may take a while (a simulation step): computes under
    /// the read lock, so requests keep being served, and applies only if nothing it touches
    /// changed meanwhile; otherwise computes again.
    pub fn apply_optimistic<E>(&self, f: impl Fn(&State) -> Result<Txn, E>) -> Result<PendingAck, E> {
        for _ in 0..OPTIMISTIC_ATTEMPTS {
            let (txn, bases) = {
                let state = self.state.read().unwrap_or_else(|e| e.into_inner());
                let txn = f(&state)?;
                let bases = state.versions_touched(&txn);
                (txn, bases)
            };
            let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
            if state.versions_touched(&txn) == bases {
                return Ok(self.commit(&mut state, txn));
            }
        }
        self.apply(|state| f(state).map(|txn| (txn, ()))).map(|((), ack)| ack)
    }

    fn commit(&self, state: &mut State, txn: Txn) -> PendingAck {
        if txn.is_empty() {
            return PendingAck(None);
        }
        let earliest = state.next_due();
        let applied = state.apply(txn);
        if state.next_due() != earliest {
            self.timers_changed.notify_one();
        }
        PendingAck(self.enqueue(|ack| WriteRequest::Changes(applied, ack)))
    }

    /// Removes everything, in memory and on disk.
    pub async fn clear(&self) -> Result<(), StoreError> {
        let ack = {
            let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
            state.clear();
            self.enqueue(WriteRequest::Clear)
        };
        self.timers_changed.notify_one();
        PendingAck(ack).durable().await
    }

    /// Resolves when the earliest timer may have changed.
    pub async fn timers_changed(&self) {
        self.timers_changed.notified().await
    }

    fn enqueue(
        &self,
        request: impl FnOnce(oneshot::Sender<Result<(), String>>) -> WriteRequest,
    ) -> Option<oneshot::Receiver<Result<(), String>>> {
        let writer = self.writer.as_ref()?;
        let (tx, rx) = oneshot::channel();
        let sent = writer.lock().unwrap_or_else(|e| e.into_inner()).send(request(tx));
        if sent.is_err() {
            tracing::error!("store writer thread is gone");
        }
        Some(rx)
    }
}

/// Resolves once a write is on disk (at once for an in-memory store).
pub struct PendingAck(Option<oneshot::Receiver<Result<(), String>>>);

impl PendingAck {
    pub async fn durable(self) -> Result<(), StoreError> {
        match self.0 {
            None => Ok(()),
            Some(rx) => match rx.await {
                Ok(result) => result.map_err(StoreError),
                Err(_) => Err(StoreError("store writer stopped".into())),
            },
        }
    }
}

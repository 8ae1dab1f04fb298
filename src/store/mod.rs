//! Persistence: reads come from memory; every write is committed to SQLite before it is
//! acknowledged (see `sqlite`), unless the store runs purely in memory. Memory is updated
//! first; a reader that meets a version not yet on disk waits for it (`until_durable`), so
//! nobody observes a state a crash could take back.

mod body;
mod cluster;
mod durability;
mod feed;
mod hot;
mod interned;
mod leases;
mod log;
mod migrate;
mod postgres;
mod postgres_rows;
mod record;
mod rows;
mod sqlite;
mod state;
mod timed;
mod writer;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, OnceLock, RwLock};

use bytes::Bytes;
use tokio::sync::{oneshot, Notify};

pub use body::Body;
pub use cluster::{ClusterOptions, Hold};
pub use hot::{HotCache, HotKey};
pub use interned::interned;
pub use leases::NodeSeen;
pub use record::{
    to_bytes, OperationError, OperationKind, OperationRecord, OperationStatus, OperationUrls, StoredResource,
};
pub use state::{Persist, State, TimerTarget, Txn, VersionChange};
pub use timed::{Slot, TimedCache};

use writer::WriteRequest;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store write failed: {0}")]
    Failed(String),
    /// The disk does not take writes (full, read-only, gone): the write changed nothing.
    #[error("the store cannot be written: {0}")]
    Unavailable(String),
    /// A shared store's database did not answer a read (its change log, its counters).
    #[error("the store cannot be read: {0}")]
    Unreadable(String),
}

pub use durability::Durability;

pub struct Store {
    state: Arc<RwLock<State>>,
    /// Numbers store writes; only touched under the state's write lock.
    last_seq: AtomicU64,
    durability: Arc<Durability>,
    /// `None` for `--in-memory`.
    writer: Option<mpsc::Sender<WriteRequest>>,
    timers_changed: Arc<Notify>,
    /// The database file, for `--in-memory` none.
    path: Option<PathBuf>,
    kind: StoreKind,
    /// Settings as found at start, and as other nodes write them (e.g. the manual clock's time).
    settings: Arc<RwLock<HashMap<String, String>>>,
    /// Set on a PostgreSQL store, which other nodes may share.
    cluster: Option<Arc<cluster::Cluster>>,
    /// Told of each setting another node wrote, after it is in place.
    setting_observer: Arc<OnceLock<ReplicaObserver>>,
    /// Counts the times this node took shards over from another.
    leases_gained: tokio::sync::watch::Sender<u64>,
    /// This node's name (`--node-id`), once it serves.
    node: OnceLock<Arc<str>>,
    /// Replays other nodes' commits into the state (a PostgreSQL store's).
    replay: Option<Replay>,
    /// Told of every resource version change, in commit order (see [`Store::observe`]).
    observer: Arc<OnceLock<Observer>>,
}

/// What another node changed besides resources and operations.
pub enum ReplicaEvent<'a> {
    /// It wrote a setting: its name and value.
    Setting(&'a str, &'a str),
    /// It removed everything (a reset).
    Cleared,
    /// This node fell behind what the change log keeps and read the whole store again.
    Reloaded,
    /// It shared events (see [`Store::share`]): a JSON array of them.
    Shared(&'a str),
}

/// Told of what another node changed besides resources and operations, once it is in place.
pub type ReplicaObserver = Box<dyn Fn(ReplicaEvent) + Send + Sync>;

/// Replays other nodes' commits into a replica, or reloads it.
type Replay = Arc<dyn Fn(log::Catchup) + Send + Sync>;

/// Called under the store's write lock with each commit's version changes: it must be quick.
pub type Observer = Box<dyn Fn(Vec<VersionChange>) + Send + Sync>;

/// Where the store keeps what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    Memory,
    Sqlite,
    Postgres,
}

/// How much the store holds, for `/_azemu/health`.
#[derive(Debug, serde::Serialize)]
pub struct StoreSize {
    pub kind: StoreKind,
    pub resources: usize,
    pub operations: usize,
    /// The database file and its write-ahead log; 0 in memory and on PostgreSQL.
    pub database_bytes: u64,
}

impl Store {
    /// A store that keeps nothing on disk; finished operations are kept for `retention`.
    pub fn in_memory(retention: chrono::Duration) -> Store {
        Store::with(State::new(retention), None, Arc::default())
    }

    fn with(state: State, writer: Option<mpsc::Sender<WriteRequest>>, durability: Arc<Durability>) -> Store {
        let state = Arc::new(RwLock::new(state));
        let observer: Arc<OnceLock<Observer>> = Arc::default();
        let (restored, told) = (state.clone(), observer.clone());
        // A commit that fails takes back every write not yet on disk, so that nobody sees what
        // the disk does not hold.
        durability.install_roll_back(Box::new(move |durability: &Durability| {
            let mut state = restored.write().unwrap_or_else(|e| e.into_inner());
            for undo in durability.take_back_all() {
                let versions = state.restore(undo);
                if let Some(observe) = told.get() {
                    observe(versions);
                }
            }
        }));
        Store {
            state,
            last_seq: AtomicU64::new(0),
            durability,
            writer,
            timers_changed: Arc::new(Notify::new()),
            path: None,
            kind: StoreKind::Memory,
            observer,
            settings: Arc::default(),
            cluster: None,
            replay: None,
            node: OnceLock::new(),
            leases_gained: tokio::sync::watch::Sender::new(0),
            setting_observer: Arc::default(),
        }
    }

    /// Why writes are refused, while the disk does not take them.
    pub fn unavailable(&self) -> Option<String> {
        self.durability.unavailable()
    }

    /// Opens `dir/azemu.db`, creating it if needed, and loads everything it holds.
    pub fn open(dir: &Path, retention: chrono::Duration) -> anyhow::Result<Store> {
        std::fs::create_dir_all(dir)?;
        let durability = Arc::new(Durability::default());
        let path = dir.join("azemu.db");
        let (loaded, writer) = sqlite::start(&path, durability.clone())?;
        let mut state = State::new(retention);
        state.load(loaded.resources, loaded.operations);
        let mut store = Store::with(state, Some(writer), durability);
        store.path = Some(path);
        store.kind = StoreKind::Sqlite;
        store.settings = Arc::new(RwLock::new(loaded.settings));
        Ok(store)
    }

    /// Connects to the PostgreSQL database at `url` (`postgres://user@host:port/db`), laying it
    /// out on first use, and loads everything it holds.
    /// Other nodes may share the database: see [`Store::join_cluster`].
    pub async fn connect(url: &str, retention: chrono::Duration) -> anyhow::Result<Store> {
        let durability = Arc::new(Durability::default());
        let origin = uuid::Uuid::new_v4().simple().to_string();
        let applied = Arc::new(AtomicU64::new(0));
        // The replay needs the store's parts, which exist once the store does: it is handed to
        // the writer through a cell filled below.
        let replay_cell: Arc<OnceLock<Replay>> = Arc::default();
        let (writer_origin, writer_applied, writer_cell) = (origin.clone(), applied.clone(), replay_cell.clone());
        let replica = move |head: u64| {
            writer_applied.store(head, Ordering::Release);
            postgres::Replica {
                origin: writer_origin,
                applied: writer_applied,
                apply: Arc::new(move |commits| {
                    if let Some(replay) = writer_cell.get() {
                        replay(commits)
                    }
                }),
            }
        };
        let (loaded, _head, writer) = postgres::start(url, durability.clone(), replica).await?;
        let mut state = State::new(retention);
        state.load(loaded.resources, loaded.operations);
        let mut store = Store::with(state, Some(writer), durability);
        store.kind = StoreKind::Postgres;
        store.settings = Arc::new(RwLock::new(loaded.settings));
        let replay = store.replayer(origin.clone(), applied.clone());
        let _ = replay_cell.set(replay.clone());
        store.replay = Some(replay);
        store.cluster = Some(Arc::new(cluster::Cluster::new(url, origin, applied)));
        Ok(store)
    }

    /// Replays other nodes' commits newer than the replica's into it, in order, telling the
    /// observer of every version they make.
    fn replayer(&self, origin: String, applied: Arc<AtomicU64>) -> Replay {
        let (state, observer, timers, settings) =
            (self.state.clone(), self.observer.clone(), self.timers_changed.clone(), self.settings.clone());
        let setting_observer = self.setting_observer.clone();
        Arc::new(move |catchup: log::Catchup| {
            let commits = match catchup {
                log::Catchup::Commits(commits) if commits.is_empty() => return,
                log::Catchup::Commits(commits) => commits,
                log::Catchup::Reload(loaded, head) => {
                    let mut state = state.write().unwrap_or_else(|e| e.into_inner());
                    if head <= applied.load(Ordering::Acquire) {
                        return;
                    }
                    state.clear();
                    state.load(loaded.resources, loaded.operations);
                    *settings.write().unwrap_or_else(|e| e.into_inner()) = loaded.settings;
                    applied.fetch_max(head, Ordering::AcqRel);
                    drop(state);
                    if let Some(observe) = setting_observer.get() {
                        observe(ReplicaEvent::Reloaded);
                    }
                    timers.notify_one();
                    return;
                }
            };
            let mut state = state.write().unwrap_or_else(|e| e.into_inner());
            let mut versions = Vec::new();
            let mut written = Vec::new();
            let mut cleared = false;
            for commit in commits {
                if commit.seq <= applied.load(Ordering::Acquire) {
                    continue;
                }
                if commit.origin != origin {
                    for change in commit.changes {
                        match change {
                            log::Change::Resource(r) => versions.push(state.place(r)),
                            log::Change::ResourceMeta(mut r) => match state.resource(&r.key()) {
                                Some(before) => {
                                    r.body = before.body.clone();
                                    versions.push(state.place(r));
                                }
                                None => tracing::error!(
                                    resource = %r.id,
                                    "a step of a resource this replica lacks: it shows again once rewritten"
                                ),
                            },
                            log::Change::ResourceGone(key) => versions.extend(state.displace(&key)),
                            log::Change::Operation(op) => state.place_operation(op),
                            log::Change::OperationGone(id) => state.displace_operation(&id),
                            log::Change::Setting(name, value) => {
                                settings.write().unwrap_or_else(|e| e.into_inner()).insert(name.clone(), value.clone());
                                written.push((name, value));
                            }
                            log::Change::Clear => {
                                state.clear();
                                cleared = true;
                            }
                        }
                    }
                }
                applied.fetch_max(commit.seq, Ordering::AcqRel);
            }
            if let Some(observe) = observer.get().filter(|_| !versions.is_empty()) {
                observe(versions);
            }
            drop(state);
            if let Some(observe) = setting_observer.get() {
                if cleared {
                    observe(ReplicaEvent::Cleared);
                }
                written.iter().for_each(|(name, value)| observe(ReplicaEvent::Setting(name, value)));
            }
            timers.notify_one();
        })
    }

    /// Joins the nodes sharing this store: reads what they commit as it is announced,
    /// heartbeats, and takes its share of the lifecycle work's leases. Nothing on a store that is
    /// not shared.
    pub async fn join_cluster(self: &Arc<Store>, options: ClusterOptions) -> anyhow::Result<()> {
        let _ = self.node.set(Arc::from(options.node_id.as_str()));
        let Some(cluster) = self.cluster.clone() else { return Ok(()) };
        let announced = Arc::new(Notify::new());
        let (told, applied) = (announced.clone(), cluster.applied.clone());
        let announce: Arc<dyn Fn(u64) + Send + Sync> = Arc::new(move |seq| {
            if seq > applied.load(Ordering::Acquire) {
                told.notify_one();
            }
        });
        cluster
            .connect(announce.clone())
            .await
            .map_err(|e| anyhow::anyhow!("connecting to the PostgreSQL store: {e}"))?;
        // A lost reading connection is made again, once a second until it is back; the replica
        // then catches up with what it missed.
        let (again, caught_up) = (Arc::downgrade(&cluster), announced.clone());
        tokio::spawn(async move {
            loop {
                let Some(lost) = again.upgrade().map(|c| c.lost.clone()) else { return };
                lost.notified().await;
                loop {
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    let Some(cluster) = again.upgrade() else { return };
                    match cluster.connect(announce.clone()).await {
                        Ok(()) => {
                            tracing::warn!("the PostgreSQL store's reading connection is back");
                            caught_up.notify_one();
                            cluster.feed.announced.notify_one();
                            break;
                        }
                        Err(e) => tracing::warn!(error = %e, "the PostgreSQL store's reading connection is still down"),
                    }
                }
            }
        });
        {
            let reader = cluster.reader().await;
            let client = reader.as_ref().expect("connected above");
            cluster.leases.check_node_id(client, &options, &cluster.origin).await?;
            cluster.leases.round(client, &options, &cluster.origin, cluster.applied.load(Ordering::Acquire)).await?;
        }
        let store = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                announced.notified().await;
                let Some(store) = store.upgrade() else { return };
                if let Err(e) = store.sync().await {
                    tracing::warn!(error = %e, "catching up with the other nodes failed");
                }
            }
        });
        self.follow_feed(&cluster).await?;
        let store = Arc::downgrade(self);
        let every = options.lease_timeout / 3;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(store) = store.upgrade() else { return };
                let Some(cluster) = store.cluster.clone() else { return };
                let reader = cluster.reader().await;
                let Some(client) = reader.as_ref() else { return };
                let applied = cluster.applied.load(Ordering::Acquire);
                match cluster.leases.round(client, &options, &cluster.origin, applied).await {
                    Ok(gained) if gained => {
                        store.timers_changed.notify_one();
                        store.leases_gained.send_modify(|times| *times += 1);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "renewing this node's leases failed: its lifecycle work stops");
                        cluster.leases.drop_all();
                    }
                }
            }
        });
        Ok(())
    }

    /// Ships what this node shares, and hands what the others share to the replica observer.
    async fn follow_feed(self: &Arc<Store>, cluster: &Arc<cluster::Cluster>) -> anyhow::Result<()> {
        {
            let reader = cluster.reader().await;
            let client = reader.as_ref().expect("connected");
            cluster.feed.read(client, &cluster.origin).await?;
        }
        let shipping = Arc::downgrade(cluster);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(feed::SHIP_EVERY).await;
                let Some(cluster) = shipping.upgrade() else { return };
                let reader = cluster.reader().await;
                let Some(client) = reader.as_ref() else { continue };
                if let Err(e) = cluster.feed.ship(client, &cluster.origin).await {
                    tracing::warn!(error = %e, "sharing this node's events failed: the other nodes miss them");
                }
            }
        });
        let (reading, observer, told) =
            (Arc::downgrade(cluster), self.setting_observer.clone(), cluster.feed.announced.clone());
        tokio::spawn(async move {
            loop {
                told.notified().await;
                let Some(cluster) = reading.upgrade() else { return };
                let reader = cluster.reader().await;
                let Some(client) = reader.as_ref() else { continue };
                match cluster.feed.read(client, &cluster.origin).await {
                    Ok(batches) => {
                        if let Some(observe) = observer.get() {
                            batches.iter().for_each(|batch| observe(ReplicaEvent::Shared(batch)));
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "reading the other nodes' events failed"),
                }
            }
        });
        Ok(())
    }

    /// Shares an event (a JSON value's text) with the other nodes of a shared store, whose replica
    /// observers see it shortly; nothing on a store that is not shared.
    pub fn share(&self, event: String) {
        if let Some(cluster) = &self.cluster {
            cluster.feed.push(event);
        }
    }

    /// Gives this node's leases back (a clean stop), so the other nodes take its work over at once.
    pub async fn leave_cluster(&self) {
        let Some(cluster) = &self.cluster else { return };
        let reader = cluster.reader().await;
        if let Some(client) = reader.as_ref() {
            if let Err(e) = cluster.leases.give_back(client, &cluster.origin).await {
                tracing::warn!(error = %e, "giving this node's leases back failed: they run out instead");
            }
        }
    }

    /// Installs the observer of what other nodes change besides resources and operations
    /// (settings, a reset); the first wins.
    pub fn observe_replica(&self, observer: ReplicaObserver) {
        let _ = self.setting_observer.set(observer);
    }

    /// Computes settings from the current ones and writes them, under the cluster's write lock on
    /// a shared store (so that no other node's change in between is lost); returns once they are
    /// durable.
    pub async fn update_settings<T>(
        &self,
        f: impl FnOnce(&HashMap<String, String>) -> (Vec<(String, String)>, T),
    ) -> Result<T, StoreError> {
        let hold = self.hold().await?;
        let (writes, out) = f(&self.settings.read().unwrap_or_else(|e| e.into_inner()));
        let mut written = Vec::with_capacity(writes.len());
        let acks: Vec<PendingAck> = writes
            .into_iter()
            .map(|(name, value)| {
                let before =
                    self.settings.write().unwrap_or_else(|e| e.into_inner()).insert(name.clone(), value.clone());
                written.push((name.clone(), value.clone(), before));
                PendingAck::from(self.enqueue(|ack| WriteRequest::Setting(name, value, ack)))
            })
            .collect();
        drop(hold);
        for ack in acks {
            if let Err(e) = ack.durable().await {
                self.take_back_settings(written);
                return Err(e);
            }
        }
        Ok(out)
    }

    /// Puts back what settings that could not be written replaced, unless they changed since.
    fn take_back_settings(&self, written: Vec<(String, String, Option<String>)>) {
        let mut settings = self.settings.write().unwrap_or_else(|e| e.into_inner());
        for (name, value, before) in written.into_iter().rev() {
            if settings.get(&name) != Some(&value) {
                continue;
            }
            match before {
                Some(before) => settings.insert(name, before),
                None => settings.remove(&name),
            };
        }
    }

    /// Counts one more of `name` across the nodes sharing this store, unless it has reached
    /// `limit`: the count with this one, `None` once it has. Waits for the database in place:
    /// for code that cannot be suspended, on a multi-threaded runtime. Only on a shared store.
    pub fn count_up_blocking(&self, name: &str, limit: Option<u64>) -> Result<Option<u64>, StoreError> {
        let cluster = self.cluster.as_ref().ok_or_else(|| StoreError::Failed("the store is not shared".into()))?;
        let handle = tokio::runtime::Handle::try_current().map_err(|e| StoreError::Failed(e.to_string()))?;
        if handle.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread {
            return Err(StoreError::Failed("counting across nodes needs the multi-threaded runtime".into()));
        }
        tokio::task::block_in_place(|| handle.block_on(cluster.count_up(name, limit)))
    }

    /// The counts kept across nodes whose names start with `prefix`; none on a store not shared.
    pub async fn counts(&self, prefix: &str) -> Result<Vec<(String, u64)>, StoreError> {
        match &self.cluster {
            Some(cluster) => cluster.counts(prefix).await,
            None => Ok(Vec::new()),
        }
    }

    /// Whether other nodes may share this store.
    pub fn is_shared(&self) -> bool {
        self.cluster.is_some()
    }

    /// This node's name, as `serve` was given it or made it.
    pub fn node(&self) -> Option<&str> {
        self.node.get().map(|n| &**n)
    }

    /// This node's name, shared.
    pub fn node_name(&self) -> Option<Arc<str>> {
        self.node.get().cloned()
    }

    /// The nodes sharing this store seen alive, with the work each holds; empty when not shared.
    pub fn nodes(&self) -> Vec<NodeSeen> {
        self.cluster.as_ref().map(|c| c.leases.seen()).unwrap_or_default()
    }

    /// Sees each time this node takes shards over from another (a shared store's), from now on:
    /// `changed()` resolves after the next, and ends with the store.
    pub fn leases_gained(&self) -> tokio::sync::watch::Receiver<u64> {
        self.leases_gained.subscribe()
    }

    /// Whether this node runs the work of `target` (on a store not shared, all of it).
    pub fn owns(&self, target: &TimerTarget) -> bool {
        self.cluster.as_ref().is_none_or(|c| c.leases.owns(target))
    }

    /// Brings this node's replica up to date with what other nodes committed before this call
    /// (read your writes across nodes). Immediate on a store that is not shared.
    pub async fn sync(&self) -> Result<(), StoreError> {
        match (&self.cluster, &self.replay) {
            (Some(cluster), Some(replay)) => cluster.sync(&**replay).await,
            _ => Ok(()),
        }
    }

    /// Waits until this node may write (on a shared store, the cluster's write lock, with the
    /// replica up to date); writes are made while the hold lives.
    pub async fn hold(&self) -> Result<Hold<'_>, StoreError> {
        match (&self.cluster, &self.writer) {
            (Some(cluster), Some(writer)) => cluster.gate.hold(writer).await,
            _ => Ok(Hold::none()),
        }
    }

    pub fn kind(&self) -> StoreKind {
        self.kind
    }

    /// A setting as it was in the store when it opened, or as another node wrote it since.
    pub fn setting(&self, name: &str) -> Option<String> {
        self.settings.read().unwrap_or_else(|e| e.into_inner()).get(name).cloned()
    }

    /// Writes a setting; returns once it is durable.
    pub async fn save_setting(&self, name: &str, value: String) -> Result<(), StoreError> {
        self.update_settings(|_| (vec![(name.to_string(), value)], ())).await
    }

    /// Installs the observer of commit durations; the first wins.
    pub fn observe_commits(&self, observer: Box<dyn Fn(std::time::Duration) + Send + Sync>) {
        let _ = self.durability.commit_observer.set(observer);
    }

    /// Installs the observer of resource version changes (the event journal); the first wins.
    pub fn observe(&self, observer: Observer) {
        let _ = self.observer.set(observer);
    }

    pub fn size(&self) -> StoreSize {
        let (resources, operations) = self.read(|s| (s.resource_count(), s.operation_count()));
        let file_len = |p: PathBuf| std::fs::metadata(p).map_or(0, |m| m.len());
        let database_bytes = self.path.as_ref().map_or(0, |p| {
            let mut wal = p.clone().into_os_string();
            wal.push("-wal");
            file_len(p.clone()) + file_len(PathBuf::from(wal))
        });
        StoreSize { kind: self.kind, resources, operations, database_bytes }
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
        let hold = self.hold().await?;
        let (out, ack) = self.apply(f)?;
        drop(hold);
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

    /// Applies one transaction per item, each computed from the state the previous ones left,
    /// under one hold of the write lock: for many short computations (simulation steps).
    pub fn apply_each<I, E>(
        &self,
        items: I,
        mut f: impl FnMut(&State, I::Item) -> Result<Txn, E>,
    ) -> Vec<Result<PendingAck, E>>
    where
        I: IntoIterator,
    {
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        items.into_iter().map(|item| f(&state, item).map(|txn| self.commit(&mut state, txn))).collect()
    }

    /// Replaces resource versions whose lifecycle has ended with their final document, rendered
    /// by a reader: the new version carries it as its body, without lifecycle state, so the base
    /// it was rendered from is freed. Derived, so it is a checkpoint. Versions that changed
    /// meanwhile are left alone.
    pub fn materialize(&self, rendered: Vec<(Arc<StoredResource>, Bytes)>) {
        // On a shared store every replica keeps the bodies the change log carries: a step logged
        // without its body takes the one before it.
        if rendered.is_empty() || self.cluster.is_some() {
            return;
        }
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        let mut txn = Txn { persist: Persist::Checkpoint, ..Txn::default() };
        for (version, doc) in rendered {
            if !state.resource(&version.key()).is_some_and(|current| Arc::ptr_eq(current, &version)) {
                continue;
            }
            let mut settled = (*version).clone();
            settled.body = Body::new(doc);
            settled.sim = None;
            txn.put(settled);
        }
        // The same document, kept another way: nothing an observer follows has changed.
        self.commit_unobserved(&mut state, txn);
    }

    fn commit(&self, state: &mut State, txn: Txn) -> PendingAck {
        self.commit_observed(state, txn, true)
    }

    fn commit_unobserved(&self, state: &mut State, txn: Txn) -> PendingAck {
        self.commit_observed(state, txn, false)
    }

    fn commit_observed(&self, state: &mut State, txn: Txn, observed: bool) -> PendingAck {
        if txn.is_empty() {
            return PendingAck::Done;
        }
        let persist = txn.persist;
        if persist != Persist::MemoryOnly && self.writer.is_some() {
            if let Some(reason) = self.durability.unavailable() {
                return PendingAck::Refused(reason);
            }
        }
        let earliest = state.next_due();
        let seq = match persist {
            Persist::Durable => self.last_seq.fetch_add(1, Ordering::AcqRel) + 1,
            Persist::Checkpoint | Persist::MemoryOnly => 0,
        };
        let mut applied = state.apply(txn, seq);
        if let (Some(undo), Some(_)) = (applied.undo.take(), &self.writer) {
            self.durability.remember(seq, undo);
        }
        let versions = std::mem::take(&mut applied.versions);
        if let Some(observe) = self.observer.get().filter(|_| observed) {
            observe(versions);
        }
        if state.next_due() != earliest {
            self.timers_changed.notify_one();
        }
        match persist {
            Persist::Durable => PendingAck::from(self.enqueue(|ack| WriteRequest::Changes(applied, Some(ack)))),
            Persist::Checkpoint => {
                if let Some(writer) = &self.writer {
                    let _ = writer.send(WriteRequest::Changes(applied, None));
                }
                PendingAck::Done
            }
            Persist::MemoryOnly => PendingAck::Done,
        }
    }

    /// Removes everything, in memory and on disk.
    pub async fn clear(&self) -> Result<(), StoreError> {
        let hold = self.hold().await?;
        let ack = {
            let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
            state.clear();
            self.enqueue(WriteRequest::Clear)
        };
        drop(hold);
        self.timers_changed.notify_one();
        PendingAck::from(ack).durable().await
    }

    /// Writes what the store has deferred (lifecycle progress a restart would otherwise
    /// replay), and waits until it is on disk.
    pub async fn flush(&self) -> Result<(), StoreError> {
        PendingAck::from(self.enqueue(WriteRequest::Flush)).durable().await
    }

    /// Reads like [`Store::read`], then waits until what was read is on disk. `f` returns its
    /// answer and the newest write it depends on: a record's `seq`, or [`State::latest`] when
    /// the answer depends on something being absent. Should that write be taken back (its
    /// commit failed), it reads again.
    pub async fn read_durable<T>(&self, mut f: impl FnMut(&State, u64) -> (T, u64)) -> T {
        loop {
            let (out, seq, epoch) = {
                let state = self.state.read().unwrap_or_else(|e| e.into_inner());
                let (out, seq) = f(&state, self.last_seq.load(Ordering::Acquire));
                (out, seq, self.durability.epoch())
            };
            // Durable, or taken back: either way, unless a roll-back came after the read, what
            // was read is what the disk holds.
            let _ = self.until_durable(seq).await;
            if self.durability.epoch() == epoch {
                return out;
            }
        }
    }

    /// Waits until the write that made version `seq` is on disk (at once in memory); an error
    /// if it was taken back instead.
    pub async fn until_durable(&self, seq: u64) -> Result<(), StoreError> {
        // Most reads find their write long done: no waiter registration (a lock) for them.
        if self.writer.is_none() || self.durability.durable_seq.load(Ordering::Acquire) >= seq {
            return Ok(());
        }
        loop {
            let changed = self.durability.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            match self.durability.fate(seq) {
                Some(true) => return Ok(()),
                Some(false) => {
                    let reason = self.durability.unavailable().unwrap_or_else(|| "the write was taken back".into());
                    return Err(StoreError::Unavailable(reason));
                }
                None => changed.await,
            }
        }
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
        let sent = writer.send(request(tx));
        if sent.is_err() {
            tracing::error!("store writer thread is gone");
        }
        Some(rx)
    }
}

/// Resolves once a write is on disk (at once for an in-memory store).
pub enum PendingAck {
    Done,
    Waiting(oneshot::Receiver<Result<(), String>>),
    /// Not applied: the disk does not take writes.
    Refused(String),
}

impl From<Option<oneshot::Receiver<Result<(), String>>>> for PendingAck {
    fn from(receiver: Option<oneshot::Receiver<Result<(), String>>>) -> PendingAck {
        receiver.map_or(PendingAck::Done, PendingAck::Waiting)
    }
}

impl PendingAck {
    pub async fn durable(self) -> Result<(), StoreError> {
        match self {
            PendingAck::Done => Ok(()),
            PendingAck::Refused(reason) => Err(StoreError::Unavailable(reason)),
            PendingAck::Waiting(rx) => match rx.await {
                Ok(result) => result.map_err(StoreError::Unavailable),
                Err(_) => Err(StoreError::Failed("store writer stopped".into())),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resource(name: &str) -> StoredResource {
        let id = format!("/subscriptions/s/resourceGroups/{name}");
        StoredResource::new(id, "microsoft.resources/resourcegroups".into(), &json!({ "name": name }), "\"e\"".into())
    }

    #[tokio::test]
    async fn what_a_read_returns_is_already_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), chrono::Duration::days(1)).unwrap();
        let disk = rusqlite::Connection::open(dir.path().join("azemu.db")).unwrap();
        for i in 0..20 {
            let name = format!("g{i}");
            let mut txn = Txn::default();
            txn.put(resource(&name));
            // Applied in memory; the acknowledgement is not awaited.
            let ((), _ack) = store.apply(|_| Ok::<_, StoreError>((txn, ()))).unwrap();
            let key = format!("/subscriptions/s/resourcegroups/{name}");
            let seen = store
                .read_durable(|s, latest| {
                    let r = s.resource(&key).cloned();
                    let seq = r.as_ref().map_or(latest, |r| r.seq);
                    (r, seq)
                })
                .await;
            let rid = seen.expect("the resource is there").rid as i64;
            let on_disk: i64 =
                disk.query_row("SELECT COUNT(*) FROM resources WHERE rid = ?1", [rid], |r| r.get(0)).unwrap();
            assert_eq!(on_disk, 1, "{key} was read before it was on disk");
        }
    }

    fn operation(id: &str, status: OperationStatus) -> OperationRecord {
        OperationRecord {
            oid: 0,
            id: id.into(),
            kind: OperationKind::Put,
            status,
            resource_id: "/subscriptions/s/resourceGroups/g0".into(),
            subscription: "s".into(),
            namespace: "Microsoft.Resources".into(),
            location: "eastus".into(),
            api_version: "2025-04-01".into(),
            urls: Default::default(),
            start_time: chrono::Utc::now(),
            end_time: None,
            error: None,
            result: None,
            planned_failure: None,
            due: None,
            seq: 0,
        }
    }

    /// A settled resource row must never be on disk before the completion of its operation:
    /// nothing would replay that completion. Checkpointed operations go out with the next
    /// commit; only resource rows wait.
    #[tokio::test]
    async fn a_checkpointed_completion_is_written_with_the_next_commit() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), chrono::Duration::days(1)).unwrap();
        let mut accepted = Txn::default();
        accepted.put(resource("g0"));
        accepted.put_operation(operation("op-1", OperationStatus::InProgress));
        store.write(|_| Ok::<_, StoreError>((accepted, ()))).await.unwrap();

        let mut done = operation("op-1", OperationStatus::InProgress);
        done.complete(OperationStatus::Succeeded, chrono::Utc::now(), None);
        let mut settled = Txn { persist: Persist::Checkpoint, ..Txn::default() };
        settled.put_operation(done);
        settled.put(resource("g0"));
        store.apply(|_| Ok::<_, StoreError>((settled, ()))).unwrap();
        // Any later durable write: once it is acknowledged, the completion is on disk.
        let mut later = Txn::default();
        later.put(resource("g1"));
        store.write(|_| Ok::<_, StoreError>((later, ()))).await.unwrap();

        let disk = rusqlite::Connection::open(dir.path().join("azemu.db")).unwrap();
        let doc: String = disk.query_row("SELECT doc FROM operations", [], |r| r.get(0)).unwrap();
        assert!(doc.contains("\"Succeeded\""), "{doc}");
    }
}

//! Several nodes on one PostgreSQL store. Each keeps a replica of the whole state in memory and
//! serves reads from it; what another node commits reaches it through the change log
//! (`log`): announced on a channel, and read again before each request is served, so that a
//! client reads its own writes whichever node it asks next. Writes are made under the
//! cluster's write lock ([`WriteGate`]), which a node takes for a short turn and shares among
//! its concurrent writers; taking it brings the replica up to date first, so that every
//! write is computed from everything committed before it, ETags and `If-Match` included.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::Notify;

use super::leases::Leases;
use super::log::{misses_some, Catchup};
use super::postgres::{commits_from, config_for, load_apart, log_row, CHANNEL, LOG_COLUMNS};
use super::writer::WriteRequest;
use super::StoreError;

/// How long a node keeps the write lock for its writers before letting other nodes have a turn.
pub const TURN: Duration = Duration::from_millis(20);

/// The reading connection's `application_name`, as `pg_stat_activity` shows it.
pub const READER_NAME: &str = "azemu-reader";

/// How this node takes part (`serve --node-id`, `--lease-timeout`).
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    pub node_id: String,
    /// The URL this node serves, as other nodes' health shows it.
    pub address: String,
    /// How long a node's leases outlive its last renewal.
    pub lease_timeout: Duration,
}

/// What a node of a PostgreSQL store keeps besides its replica.
pub struct Cluster {
    /// This process, as the change log names its commits.
    pub origin: String,
    /// The newest log entry the replica holds.
    pub applied: Arc<AtomicU64>,
    pub gate: WriteGate,
    url: String,
    /// A connection for reading the log, apart from the writer's.
    reader: tokio::sync::RwLock<Option<tokio_postgres::Client>>,
    /// When the last catch-up that finished had started.
    synced: tokio::sync::Mutex<Option<Instant>>,
    /// Told when the reading connection ends.
    pub lost: Arc<Notify>,
    pub leases: Leases,
    /// Events shared without being state (the journal's requests).
    pub feed: super::feed::Feed,
}

impl Cluster {
    pub fn new(url: &str, origin: String, applied: Arc<AtomicU64>) -> Cluster {
        Cluster {
            origin,
            applied,
            gate: WriteGate::default(),
            url: url.to_string(),
            reader: Default::default(),
            synced: Default::default(),
            lost: Arc::default(),
            leases: Leases::default(),
            feed: Default::default(),
        }
    }

    /// Opens the reading connection and listens for commits; `caught_up` is called for each
    /// announcement of a commit the replica lacks.
    pub async fn connect(&self, announced: Arc<dyn Fn(u64) + Send + Sync>) -> anyhow::Result<()> {
        let mut config = config_for(&self.url)?;
        config.application_name(READER_NAME);
        let (client, mut connection) = config.connect(tokio_postgres::NoTls).await?;
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        let (lost, fed, origin) = (self.lost.clone(), self.feed.announced.clone(), self.origin.clone());
        tokio::spawn(async move {
            while let Some(message) = messages.next().await {
                match message {
                    Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                        if let Some(from) = n.payload().strip_prefix(super::feed::ANNOUNCEMENT) {
                            // Another node's batch; this one's own need no reading.
                            if from != origin {
                                fed.notify_one();
                            }
                        } else if let Ok(seq) = n.payload().parse() {
                            announced(seq);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::error!(error = %e, "the PostgreSQL store's reading connection failed");
                        break;
                    }
                }
            }
            lost.notify_one();
        });
        client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
        *self.reader.write().await = Some(client);
        Ok(())
    }

    /// Brings the replica up to date with every commit made before this call, unless a catch-up
    /// that started after it has finished meanwhile; `apply` replays the commits.
    pub async fn sync(&self, apply: &(dyn Fn(Catchup) + Send + Sync)) -> Result<(), StoreError> {
        // While this node holds the write lock nobody else commits, and it caught up when it
        // took the lock.
        if self.gate.holding() {
            return Ok(());
        }
        let asked = Instant::now();
        let mut synced = self.synced.lock().await;
        if synced.is_some_and(|started| started >= asked) {
            return Ok(());
        }
        let started = Instant::now();
        let reader = self.reader.read().await;
        let Some(client) = reader.as_ref() else { return Ok(()) };
        let from = self.applied.load(Ordering::Acquire) as i64;
        let rows = client
            .query(&format!("SELECT {LOG_COLUMNS} FROM azemu_changes WHERE seq > $1 ORDER BY seq, n"), &[&from])
            .await
            .map_err(|e| StoreError::Unreadable(format!("reading the PostgreSQL store's change log: {e}")))?;
        let commits = commits_from(rows.iter().map(|r| (r.get(0), r.get(1), log_row(r))))
            .map_err(|e| StoreError::Failed(format!("{e:#}")))?;
        if misses_some(from as u64, &commits) {
            tracing::warn!(applied = from, "this node fell behind the change log's trim: it reloads the store");
            let (loaded, head) = load_apart(&self.url)
                .await
                .map_err(|e| StoreError::Unreadable(format!("reloading from the PostgreSQL store: {e:#}")))?;
            apply(Catchup::Reload(loaded, head));
        } else {
            apply(Catchup::Commits(commits));
        }
        *synced = Some(started);
        Ok(())
    }

    /// Counts one more of `name`, unless it has reached `limit`: the count with this one.
    pub async fn count_up(&self, name: &str, limit: Option<u64>) -> Result<Option<u64>, StoreError> {
        let reader = self.reader.read().await;
        let client = reader.as_ref().ok_or_else(|| StoreError::Failed("not connected to the other nodes".into()))?;
        let limit = limit.map(|l| l as i64);
        let row = client
            .query_opt(
                "INSERT INTO azemu_counters (name, value) VALUES ($1, 1)
                 ON CONFLICT (name) DO UPDATE SET value = azemu_counters.value + 1
                     WHERE $2::bigint IS NULL OR azemu_counters.value < $2
                 RETURNING value",
                &[&name, &limit],
            )
            .await
            .map_err(|e| StoreError::Unavailable(format!("counting in the PostgreSQL store: {e}")))?;
        Ok(row.map(|r| r.get::<_, i64>(0) as u64))
    }

    /// The counts whose names start with `prefix`.
    pub async fn counts(&self, prefix: &str) -> Result<Vec<(String, u64)>, StoreError> {
        let reader = self.reader.read().await;
        let client = reader.as_ref().ok_or_else(|| StoreError::Failed("not connected to the other nodes".into()))?;
        let rows = client
            .query("SELECT name, value FROM azemu_counters WHERE starts_with(name, $1)", &[&prefix])
            .await
            .map_err(|e| StoreError::Unreadable(format!("reading counts from the PostgreSQL store: {e}")))?;
        Ok(rows.iter().map(|r| (r.get(0), r.get::<_, i64>(1) as u64)).collect())
    }

    /// The reading connection, for the leases' rounds.
    pub async fn reader(&self) -> tokio::sync::RwLockReadGuard<'_, Option<tokio_postgres::Client>> {
        self.reader.read().await
    }
}

/// This node's share of the cluster's write lock: held while any of its writers holds a
/// [`Hold`], for one turn at most before other nodes get theirs.
#[derive(Default)]
pub struct WriteGate {
    holding: Mutex<Holding>,
    /// One writer at a time asks for the lock; the others wait for it here.
    asking: tokio::sync::Mutex<()>,
    released: Notify,
}

#[derive(Default)]
struct Holding {
    holders: usize,
    since: Option<Instant>,
}

impl WriteGate {
    pub fn holding(&self) -> bool {
        self.holding.lock().unwrap_or_else(|e| e.into_inner()).holders > 0
    }

    /// Joins the holders while the lock is held and its turn lasts.
    fn join(&self) -> bool {
        let mut holding = self.holding.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = holding.since.is_some_and(|since| since.elapsed() < TURN);
        if holding.holders > 0 && fresh {
            holding.holders += 1;
            return true;
        }
        false
    }

    /// Waits until this node may write: the lock is held and the replica is up to date.
    pub async fn hold<'a>(&'a self, writer: &'a mpsc::Sender<WriteRequest>) -> Result<Hold<'a>, StoreError> {
        let hold = || Hold { gate: Some((self, writer)) };
        if self.join() {
            return Ok(hold());
        }
        let _turn = self.asking.lock().await;
        loop {
            if self.join() {
                return Ok(hold());
            }
            let released = self.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            if !self.holding() {
                break;
            }
            // The turn is over: the lock goes back once its holders are done.
            released.await;
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        writer.send(WriteRequest::Acquire(tx)).map_err(|_| StoreError::Failed("store writer stopped".into()))?;
        // Should this wait be given up (its request went away), the lock goes back once taken.
        let mut asked = LetGoUnlessKept(Some(writer));
        match rx.await {
            Ok(Ok(())) => {}
            Ok(Err(reason)) => return Err(StoreError::Unavailable(reason)),
            Err(_) => return Err(StoreError::Failed("store writer stopped".into())),
        }
        asked.0 = None;
        let mut holding = self.holding.lock().unwrap_or_else(|e| e.into_inner());
        holding.holders = 1;
        holding.since = Some(Instant::now());
        Ok(hold())
    }
}

/// Lets the lock go when dropped: an ask for it that was given up.
struct LetGoUnlessKept<'a>(Option<&'a mpsc::Sender<WriteRequest>>);

impl Drop for LetGoUnlessKept<'_> {
    fn drop(&mut self) {
        if let Some(writer) = self.0.take() {
            let _ = writer.send(WriteRequest::Release);
        }
    }
}

/// Lets this node write while it lives (see [`WriteGate`]); a no-op without a cluster.
pub struct Hold<'a> {
    gate: Option<(&'a WriteGate, &'a mpsc::Sender<WriteRequest>)>,
}

impl Hold<'_> {
    pub fn none() -> Hold<'static> {
        Hold { gate: None }
    }
}

impl Drop for Hold<'_> {
    fn drop(&mut self) {
        let Some((gate, writer)) = self.gate else { return };
        let mut holding = gate.holding.lock().unwrap_or_else(|e| e.into_inner());
        holding.holders -= 1;
        if holding.holders == 0 {
            // Under the same lock as the count: a later ask for the lock queues behind this.
            let _ = writer.send(WriteRequest::Release);
            holding.since = None;
            gate.released.notify_waiters();
        }
    }
}

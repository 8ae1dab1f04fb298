//! The store on a PostgreSQL server (`--store postgres://…`), which several nodes may share: the
//! same rows as the embedded store, committed by the same writer loop (`writer`), in a
//! database azemu lays out and migrates itself. Every commit also appends its row changes to
//! a numbered change log (`log`) and announces it (`NOTIFY azemu_changes`); it is made under
//! the cluster's write lock (an advisory lock the writer's connection holds while this node
//! writes), after this node's replica has replayed every commit before it.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;

use anyhow::Context;
use postgres::{Client, NoTls, Statement};

use super::cluster::TURN;
use super::log::{Catchup, Commit, LogRow};
use super::postgres_rows::{write_tables, TableStatements};
use super::rows::{operation_from, resource_from, ResourceRow, RowWrite, Sink};
use super::sqlite::Loaded;
use super::writer::{writer_loop, WriteRequest};
use super::Durability;

/// The layout this build reads and writes (`azemu_schema.version`).
const FORMAT: i32 = 2;

/// Each layout, from an empty database: step `n` brings format `n` to `n + 1`.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE resources (
         rid bigint PRIMARY KEY, id text NOT NULL, type text NOT NULL, state text NOT NULL, sim text,
         body bytea NOT NULL);
     CREATE TABLE operations (oid bigint PRIMARY KEY, doc text NOT NULL);
     CREATE TABLE settings (name text PRIMARY KEY, value text NOT NULL);
     CREATE TABLE azemu_head (seq bigint NOT NULL);
     INSERT INTO azemu_head VALUES (0);
     CREATE TABLE azemu_changes (
         seq bigint NOT NULL, n integer NOT NULL, origin text NOT NULL, kind smallint NOT NULL,
         row_id bigint, name text, type text, text text, sim text, body bytea,
         PRIMARY KEY (seq, n));
     CREATE TABLE azemu_nodes (
         node text PRIMARY KEY, origin text NOT NULL, address text NOT NULL, started timestamptz NOT NULL,
         heartbeat timestamptz NOT NULL, applied bigint NOT NULL);
     CREATE TABLE azemu_leases (shard integer PRIMARY KEY, node text, origin text, expires timestamptz NOT NULL);
     INSERT INTO azemu_leases (shard, expires) SELECT s, '-infinity' FROM generate_series(0, 63) AS s;
     CREATE TABLE azemu_counters (name text PRIMARY KEY, value bigint NOT NULL);",
    "CREATE TABLE azemu_feed (
         origin text NOT NULL, batch bigint NOT NULL, written timestamptz NOT NULL DEFAULT clock_timestamp(),
         events text NOT NULL, PRIMARY KEY (origin, batch));
     CREATE INDEX azemu_feed_written ON azemu_feed (written);",
];

/// The advisory lock the writing node holds.
const WRITE_LOCK: i64 = 0x617a_656d_7500;
/// The advisory lock taken while the layout is created or migrated.
const LAYOUT_LOCK: i64 = 0x617a_656d_7501;

/// The channel each commit is announced on, with its number.
pub const CHANNEL: &str = "azemu_changes";

/// The columns a log row is read with, in [`LogRow`]'s order after `seq` and `origin`.
pub const LOG_COLUMNS: &str = "seq, origin, kind, row_id, name, type, text, sim, body";

/// The options every connection of azemu's starts its session with, after those `--store` gives:
/// its queries are short and indexed, and a parallel plan (which the planner picks for the change
/// log while its statistics lag its growth) costs milliseconds where an index scan costs less
/// than one.
fn session_options(given: Option<&str>) -> String {
    let ours = "-c max_parallel_workers_per_gather=0";
    match given {
        Some(given) if !given.is_empty() => format!("{given} {ours}"),
        _ => ours.to_string(),
    }
}

/// The async client's configuration for `url`, with azemu's session options.
pub fn config_for(url: &str) -> anyhow::Result<tokio_postgres::Config> {
    let mut config: tokio_postgres::Config = url.parse()?;
    let options = session_options(config.get_options());
    config.options(&options);
    Ok(config)
}

/// What the writer shares with the rest of the store about the replica.
pub struct Replica {
    /// This process, as the log names the commits it made.
    pub origin: String,
    /// The newest log entry the replica holds.
    pub applied: Arc<AtomicU64>,
    /// Replays other nodes' commits into the replica, in order, or reloads it.
    pub apply: Arc<dyn Fn(Catchup) + Send + Sync>,
}

/// Connects, lays out or migrates the database, reads everything back (with the log position it
/// stands at), and starts the writer thread. The blocking client runs on a thread of its own,
/// never on the async runtime.
pub async fn start(
    url: &str,
    durability: Arc<Durability>,
    replica: impl FnOnce(u64) -> Replica + Send + 'static,
) -> anyhow::Result<(Loaded, u64, mpsc::Sender<WriteRequest>)> {
    let mut config = postgres::Config::from_str(url).context("--store: not a PostgreSQL connection URL")?;
    let options = session_options(config.get_options());
    config.options(&options);
    let (ready, started) = tokio::sync::oneshot::channel();
    thread::Builder::new().name("azemu-store-writer".into()).spawn(move || {
        let opened = (|| -> anyhow::Result<(Client, Loaded, u64)> {
            let mut client = config.connect(NoTls).context("connecting to the PostgreSQL store")?;
            lay_out(&mut client)?;
            let (loaded, head) = load(&mut client)?;
            Ok((client, loaded, head))
        })();
        match opened.and_then(|(client, loaded, head)| {
            Ok((PostgresSink::new(client, config, replica(head), head)?, loaded, head))
        }) {
            Ok((sink, loaded, head)) => {
                let (tx, rx) = mpsc::channel::<WriteRequest>();
                if ready.send(Ok((loaded, head, tx))).is_ok() {
                    writer_loop(sink, rx, durability);
                }
            }
            Err(e) => drop(ready.send(Err(e))),
        }
    })?;
    started.await.context("the PostgreSQL store's thread stopped")?
}

/// Creates the tables, or brings an older layout to this build's, under a lock so that two
/// starts never race.
fn lay_out(client: &mut Client) -> anyhow::Result<()> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LAYOUT_LOCK])?;
    let laid_out: bool = tx.query_one("SELECT to_regclass('azemu_schema') IS NOT NULL", &[])?.get(0);
    if !laid_out {
        tx.batch_execute("CREATE TABLE azemu_schema (version integer NOT NULL)")?;
    }
    let format: i32 = match tx.query_opt("SELECT version FROM azemu_schema", &[])? {
        Some(row) => row.get(0),
        None => {
            tx.execute("INSERT INTO azemu_schema (version) VALUES (0)", &[])?;
            0
        }
    };
    if format > FORMAT {
        anyhow::bail!(
            "this PostgreSQL database was laid out by a newer azemu (store format {format}); this one reads \
             formats up to {FORMAT}. Run the newer azemu, or give this one another database."
        );
    }
    for (step, sql) in MIGRATIONS.iter().enumerate().skip(format as usize) {
        tx.batch_execute(sql).with_context(|| format!("migrating the PostgreSQL store to format {}", step + 1))?;
    }
    tx.execute("UPDATE azemu_schema SET version = $1", &[&FORMAT])?;
    tx.commit()?;
    Ok(())
}

/// Everything the tables hold and the log position they stand at, from one snapshot.
fn load(client: &mut Client) -> anyhow::Result<(Loaded, u64)> {
    let mut tx =
        client.build_transaction().read_only(true).isolation_level(postgres::IsolationLevel::RepeatableRead).start()?;
    let head = tx.query_one(LOAD[0], &[])?;
    let (resources, operations, settings) = (tx.query(LOAD[1], &[])?, tx.query(LOAD[2], &[])?, tx.query(LOAD[3], &[])?);
    tx.commit()?;
    loaded_from(&head, &resources, &operations, &settings)
}

/// [`load`] on a connection of its own, from async code (a replica that fell behind the log).
pub async fn load_apart(url: &str) -> anyhow::Result<(Loaded, u64)> {
    let (mut client, connection) = config_for(url)?.connect(NoTls).await?;
    tokio::spawn(connection);
    let tx = client
        .build_transaction()
        .read_only(true)
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .start()
        .await?;
    let head = tx.query_one(LOAD[0], &[]).await?;
    let (resources, operations, settings) =
        (tx.query(LOAD[1], &[]).await?, tx.query(LOAD[2], &[]).await?, tx.query(LOAD[3], &[]).await?);
    tx.commit().await?;
    loaded_from(&head, &resources, &operations, &settings)
}

/// The log position, then the tables, as [`loaded_from`] reads them.
const LOAD: [&str; 4] = [
    "SELECT seq FROM azemu_head",
    "SELECT rid, id, type, state, sim, body FROM resources",
    "SELECT oid, doc FROM operations",
    "SELECT name, value FROM settings",
];

fn loaded_from(
    head: &postgres::Row,
    resources: &[postgres::Row],
    operations: &[postgres::Row],
    settings: &[postgres::Row],
) -> anyhow::Result<(Loaded, u64)> {
    let head: i64 = head.get(0);
    let resources = resources
        .iter()
        .map(|row| {
            resource_from(ResourceRow {
                rid: row.get(0),
                id: row.get(1),
                type_key: row.get(2),
                state: row.get(3),
                sim: row.get(4),
                body: row.get(5),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let operations =
        operations.iter().map(|row| operation_from(row.get(0), row.get(1))).collect::<anyhow::Result<_>>()?;
    let settings: HashMap<String, String> = settings.iter().map(|row| (row.get(0), row.get(1))).collect();
    Ok((Loaded { resources, operations, settings }, head as u64))
}

/// Groups log rows (read with [`LOG_COLUMNS`], in order) into commits.
pub fn commits_from(rows: impl IntoIterator<Item = (i64, String, LogRow)>) -> anyhow::Result<Vec<Commit>> {
    let mut commits: Vec<Commit> = Vec::new();
    for (seq, origin, row) in rows {
        let change = row.change()?;
        match commits.last_mut() {
            Some(last) if last.seq == seq as u64 => last.changes.push(change),
            _ => commits.push(Commit { seq: seq as u64, origin, changes: vec![change] }),
        }
    }
    Ok(commits)
}

/// The writer's connection, its prepared statements, and where it stands in the log.
struct PostgresSink {
    client: Client,
    config: postgres::Config,
    statements: Statements,
    replica: Replica,
    /// Whether this connection holds the cluster's write lock.
    holding: bool,
    /// When it took the lock: its turn lasts [`TURN`] from then.
    acquired_at: std::time::Instant,
    /// This node's writers are done with the lock: it goes when the turn is over.
    releasing: bool,
    /// The newest log entry, known while holding the lock.
    head: u64,
    /// Set when a commit failed without saying whether it landed: the next catch-up replays
    /// this node's own entries from this one on, since memory took them back.
    unsure_from: Option<u64>,
}

struct Statements {
    tables: TableStatements,
    put_setting: Statement,
    append: Statement,
    catch_up: Statement,
}

impl Statements {
    fn prepare(client: &mut Client) -> anyhow::Result<Statements> {
        Ok(Statements {
            tables: TableStatements::prepare(client)?,
            put_setting: client.prepare(
                "INSERT INTO settings (name, value) VALUES ($1, $2)
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            )?,
            // One statement appends a whole commit, moves the head and announces it.
            append: client.prepare(&format!(
                "WITH appended AS (
                     INSERT INTO azemu_changes (seq, n, origin, kind, row_id, name, type, text, sim, body)
                     SELECT $1, n, $2, kind, row_id, name, type, text, sim, body
                     FROM UNNEST($3::integer[], $4::smallint[], $5::bigint[], $6::text[], $7::text[], $8::text[],
                                 $9::text[], $10::bytea[]) AS c(n, kind, row_id, name, type, text, sim, body)
                     RETURNING 1),
                 moved AS (UPDATE azemu_head SET seq = $1 RETURNING seq)
                 SELECT pg_notify('{CHANNEL}', $1::text), (SELECT count(*) FROM appended), (SELECT seq FROM moved)"
            ))?,
            catch_up: client
                .prepare(&format!("SELECT {LOG_COLUMNS} FROM azemu_changes WHERE seq > $1 ORDER BY seq, n"))?,
        })
    }
}

impl PostgresSink {
    fn new(mut client: Client, config: postgres::Config, replica: Replica, head: u64) -> anyhow::Result<PostgresSink> {
        let statements = Statements::prepare(&mut client)?;
        Ok(PostgresSink {
            client,
            config,
            statements,
            replica,
            holding: false,
            acquired_at: std::time::Instant::now(),
            releasing: false,
            head,
            unsure_from: None,
        })
    }

    /// Replays into the replica what other nodes committed since it was last brought up to date.
    fn catch_up(&mut self) -> anyhow::Result<()> {
        let from = self.replica.applied.load(Ordering::Acquire);
        let rows = self.client.query(&self.statements.catch_up, &[&(from as i64)])?;
        let unsure_from = self.unsure_from.take();
        let mut commits = commits_from(rows.into_iter().map(|r| (r.get(0), r.get(1), log_row(&r))))?;
        if let Some(first) = unsure_from {
            // Own entries from the unsure commit on are replayed like anyone's.
            for commit in commits.iter_mut().filter(|c| c.seq >= first && c.origin == self.replica.origin) {
                commit.origin.clear();
            }
        }
        if let Some(last) = commits.last() {
            self.head = self.head.max(last.seq);
        }
        if super::log::misses_some(from, &commits) {
            tracing::warn!(applied = from, "this node fell behind the change log's trim: it reloads the store");
            let (loaded, head) = load(&mut self.client)?;
            self.head = self.head.max(head);
            (self.replica.apply)(Catchup::Reload(loaded, head));
            return Ok(());
        }
        (self.replica.apply)(Catchup::Commits(commits));
        Ok(())
    }
}

impl PostgresSink {
    fn turn_over(&self) -> bool {
        self.acquired_at.elapsed() >= TURN
    }

    fn unlock(&mut self) {
        self.releasing = false;
        if !std::mem::take(&mut self.holding) {
            return;
        }
        if let Err(e) = self.client.execute("SELECT pg_advisory_unlock($1)", &[&WRITE_LOCK]) {
            tracing::warn!(error = %e, "letting the cluster's write lock go failed (it goes with the connection)");
        }
    }
}

/// A log row's columns after `seq` and `origin`.
pub fn log_row(row: &postgres::Row) -> LogRow {
    LogRow {
        kind: row.get(2),
        row_id: row.get(3),
        name: row.get(4),
        type_key: row.get(5),
        text: row.get(6),
        sim: row.get(7),
        body: row.get(8),
    }
}

impl Sink for PostgresSink {
    fn commit(&mut self, rows: &[RowWrite]) -> anyhow::Result<()> {
        if !self.holding {
            anyhow::bail!("a commit without the cluster's write lock");
        }
        let seq = self.head + 1;
        let logged = rows.iter().map(LogRow::of).collect::<anyhow::Result<Vec<_>>>()?;
        let mut tx = self.client.transaction()?;
        write_tables(&mut tx, &self.statements.tables, rows)?;
        let column = |f: fn(&LogRow) -> Option<String>| logged.iter().map(f).collect::<Vec<_>>();
        let n: Vec<i32> = (0..logged.len() as i32).collect();
        let kinds: Vec<i16> = logged.iter().map(|r| r.kind).collect();
        let row_ids: Vec<Option<i64>> = logged.iter().map(|r| r.row_id).collect();
        let bodies: Vec<Option<&[u8]>> = logged.iter().map(|r| r.body.as_deref()).collect();
        let (names, types, texts, sims) = (
            column(|r| r.name.clone()),
            column(|r| r.type_key.clone()),
            column(|r| r.text.clone()),
            column(|r| r.sim.clone()),
        );
        let appended = tx.query_one(
            &self.statements.append,
            &[&(seq as i64), &self.replica.origin, &n, &kinds, &row_ids, &names, &types, &texts, &sims, &bodies],
        );
        let outcome = appended.map_err(anyhow::Error::from).and_then(|_| Ok(tx.commit()?));
        match outcome {
            Ok(()) => {
                self.head = seq;
                // The replica made these changes before they were committed.
                self.replica.applied.fetch_max(seq, Ordering::AcqRel);
                Ok(())
            }
            Err(e) => {
                self.unsure_from = Some(seq);
                Err(e)
            }
        }
    }

    fn probe(&mut self) -> anyhow::Result<()> {
        if self.client.is_closed() {
            // The connection is gone, and the lock with it: a new one, which takes the lock again
            // at the next write.
            let mut client = self.config.connect(NoTls)?;
            self.statements = Statements::prepare(&mut client)?;
            self.client = client;
            self.holding = false;
        }
        self.client.execute(&self.statements.put_setting, &[&"azemu.probe", &chrono::Utc::now().to_rfc3339()])?;
        Ok(())
    }

    fn defers_checkpoints(&self) -> bool {
        false
    }

    fn settles_before_acquire(&self) -> bool {
        self.holding && self.turn_over()
    }

    fn acquire(&mut self) -> anyhow::Result<()> {
        self.releasing = false;
        if self.holding && !self.turn_over() {
            // Still this node's turn: nobody else has committed since it caught up.
            return Ok(());
        }
        // The turn is over: others waiting for the lock go first.
        self.unlock();
        self.client.execute("SELECT pg_advisory_lock($1)", &[&WRITE_LOCK])?;
        self.holding = true;
        self.acquired_at = std::time::Instant::now();
        let head: i64 = self.client.query_one("SELECT seq FROM azemu_head", &[])?.get(0);
        self.head = head as u64;
        self.catch_up()
    }

    fn release(&mut self) {
        self.releasing = self.holding;
    }

    fn deadline(&self) -> Option<std::time::Instant> {
        self.releasing.then_some(self.acquired_at + TURN)
    }

    fn after_commit(&mut self) {
        if self.releasing && self.turn_over() {
            self.unlock();
        }
    }
}

//! The store on a PostgreSQL server (`--store postgres://…`): the same rows as the embedded
//! store, committed by the same writer loop (`writer`), in a database azemu lays out and
//! migrates itself. One connection belongs to the writer thread; it also holds the node's
//! claim on the database.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{mpsc, Arc};
use std::thread;

use anyhow::Context;
use postgres::{Client, NoTls, Statement, Transaction};

use super::rows::{doc_of, operation_from, resource_from, state_of, ResourceRow, RowWrite, Sink};
use super::sqlite::Loaded;
use super::state::{OperationWrite, ResourceWrite};
use super::writer::{writer_loop, WriteRequest};
use super::Durability;

/// The layout this build reads and writes (`azemu_schema.version`).
const FORMAT: i32 = 1;

/// Each layout, from an empty database: step `n` brings format `n` to `n + 1`.
const MIGRATIONS: &[&str] = &["CREATE TABLE resources (
         rid bigint PRIMARY KEY, id text NOT NULL, type text NOT NULL, state text NOT NULL, sim text,
         body bytea NOT NULL);
     CREATE TABLE operations (oid bigint PRIMARY KEY, doc text NOT NULL);
     CREATE TABLE settings (name text PRIMARY KEY, value text NOT NULL);"];

/// The advisory lock a node holds on its database for as long as it runs.
const NODE_LOCK: i64 = 0x617a_656d_7500;
/// The advisory lock taken while the layout is created or migrated.
const LAYOUT_LOCK: i64 = 0x617a_656d_7501;

/// Connects, lays out or migrates the database, reads everything back, and starts the writer
/// thread. The blocking client runs on threads of its own, never on the async runtime.
pub async fn start(url: &str, durability: Arc<Durability>) -> anyhow::Result<(Loaded, mpsc::Sender<WriteRequest>)> {
    let config = postgres::Config::from_str(url).context("--store: not a PostgreSQL connection URL")?;
    let (ready, started) = tokio::sync::oneshot::channel();
    thread::Builder::new().name("azemu-store-writer".into()).spawn(move || {
        let opened = (|| -> anyhow::Result<(Client, Loaded)> {
            let mut client = config.connect(NoTls).context("connecting to the PostgreSQL store")?;
            claim(&mut client)?;
            lay_out(&mut client)?;
            let loaded = load(&mut client)?;
            Ok((client, loaded))
        })();
        match opened {
            Ok((client, loaded)) => {
                let (tx, rx) = mpsc::channel::<WriteRequest>();
                let sink = match PostgresSink::new(client) {
                    Ok(sink) => sink,
                    Err(e) => return drop(ready.send(Err(e))),
                };
                if ready.send(Ok((loaded, tx))).is_ok() {
                    writer_loop(sink, rx, durability);
                }
            }
            Err(e) => drop(ready.send(Err(e))),
        }
    })?;
    started.await.context("the PostgreSQL store's thread stopped")?
}

/// Only one node may write a database for now: a second one is refused at start.
fn claim(client: &mut Client) -> anyhow::Result<()> {
    let free: bool = client.query_one("SELECT pg_try_advisory_lock($1)", &[&NODE_LOCK])?.get(0);
    if !free {
        anyhow::bail!("another azemu already serves this PostgreSQL database; give this one its own database");
    }
    Ok(())
}

/// Creates the tables, or brings an older layout to this build's, under a lock so that two
/// starts never race.
fn lay_out(client: &mut Client) -> anyhow::Result<()> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LAYOUT_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS azemu_schema (version integer NOT NULL)")?;
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

fn load(client: &mut Client) -> anyhow::Result<Loaded> {
    let mut tx =
        client.build_transaction().read_only(true).isolation_level(postgres::IsolationLevel::RepeatableRead).start()?;
    let mut resources = Vec::new();
    for row in tx.query("SELECT rid, id, type, state, sim, body FROM resources", &[])? {
        resources.push(resource_from(ResourceRow {
            rid: row.get(0),
            id: row.get(1),
            type_key: row.get(2),
            state: row.get(3),
            sim: row.get(4),
            body: row.get(5),
        })?);
    }
    let mut operations = Vec::new();
    for row in tx.query("SELECT oid, doc FROM operations", &[])? {
        operations.push(operation_from(row.get(0), row.get(1))?);
    }
    let mut settings = HashMap::new();
    for row in tx.query("SELECT name, value FROM settings", &[])? {
        settings.insert(row.get(0), row.get(1));
    }
    tx.commit()?;
    Ok(Loaded { resources, operations, settings })
}

/// The writer's connection and its prepared statements.
struct PostgresSink {
    client: Client,
    statements: Statements,
}

struct Statements {
    put_resource: Statement,
    put_resource_meta: Statement,
    delete_resource: Statement,
    put_operation: Statement,
    delete_operation: Statement,
    put_setting: Statement,
}

impl PostgresSink {
    fn new(mut client: Client) -> anyhow::Result<PostgresSink> {
        let statements = Statements {
            put_resource: client.prepare(
                "INSERT INTO resources (rid, id, type, state, sim, body) VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (rid) DO UPDATE SET state = excluded.state, sim = excluded.sim, body = excluded.body",
            )?,
            put_resource_meta: client.prepare("UPDATE resources SET state = $2, sim = $3 WHERE rid = $1")?,
            delete_resource: client.prepare("DELETE FROM resources WHERE rid = $1")?,
            put_operation: client.prepare(
                "INSERT INTO operations (oid, doc) VALUES ($1, $2) ON CONFLICT (oid) DO UPDATE SET doc = excluded.doc",
            )?,
            delete_operation: client.prepare("DELETE FROM operations WHERE oid = $1")?,
            put_setting: client.prepare(
                "INSERT INTO settings (name, value) VALUES ($1, $2)
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            )?,
        };
        Ok(PostgresSink { client, statements })
    }
}

impl Sink for PostgresSink {
    fn commit(&mut self, rows: &[RowWrite]) -> anyhow::Result<()> {
        let mut tx = self.client.transaction()?;
        for row in rows {
            write_row(&mut tx, &self.statements, row)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn probe(&mut self) -> anyhow::Result<()> {
        self.client.execute(&self.statements.put_setting, &[&"azemu.probe", &chrono::Utc::now().to_rfc3339()])?;
        Ok(())
    }
}

fn write_row(tx: &mut Transaction, statements: &Statements, row: &RowWrite) -> anyhow::Result<()> {
    match row {
        RowWrite::Resource(ResourceWrite::Put(r)) => tx.execute(
            &statements.put_resource,
            &[&(r.rid as i64), &r.id, &r.type_key, &state_of(r)?, &r.sim.as_deref(), &r.body.stored()],
        )?,
        RowWrite::Resource(ResourceWrite::Meta(r)) => {
            tx.execute(&statements.put_resource_meta, &[&(r.rid as i64), &state_of(r)?, &r.sim.as_deref()])?
        }
        RowWrite::Resource(ResourceWrite::Delete(rid)) => tx.execute(&statements.delete_resource, &[&(*rid as i64)])?,
        RowWrite::Operation(OperationWrite::Put(op)) => {
            tx.execute(&statements.put_operation, &[&(op.oid as i64), &doc_of(op)?])?
        }
        RowWrite::Operation(OperationWrite::Delete(oid)) => {
            tx.execute(&statements.delete_operation, &[&(*oid as i64)])?
        }
        RowWrite::Setting(name, value) => tx.execute(&statements.put_setting, &[name, value])?,
        RowWrite::Clear => {
            tx.batch_execute("DELETE FROM resources; DELETE FROM operations;")?;
            0
        }
    };
    Ok(())
}

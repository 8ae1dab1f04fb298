//! Bringing an older store to this build's layout, in place, after copying it aside.
//!
//! Format 1 is every store from before layouts were numbered (`user_version` 0): one JSON record
//! per resource keyed by its lower-case id, the document inside it (`doc`) or beside it
//! (`meta` and `body`), and operations keyed by their id. Format 2 keys rows by integer ids,
//! splits what a lifecycle step changes from the body, and keeps long bodies packed.

use std::path::{Path, PathBuf};

use anyhow::Context;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, Transaction};
use serde::Deserialize;
use serde_json::Value;

use super::body::Body;

/// The tables of this build's layout.
pub const TABLES: &str = "CREATE TABLE IF NOT EXISTS resources (
         rid INTEGER PRIMARY KEY, id TEXT NOT NULL, type TEXT NOT NULL, state TEXT NOT NULL, sim TEXT,
         body BLOB NOT NULL);
     CREATE TABLE IF NOT EXISTS operations (oid INTEGER PRIMARY KEY, doc TEXT NOT NULL);
     CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);";

/// A resource as format 1 kept it.
#[derive(Deserialize)]
struct FormatOneResource {
    id: String,
    type_key: String,
    #[serde(default)]
    body: Option<Value>,
    etag: String,
    #[serde(default)]
    due: Option<DateTime<Utc>>,
    #[serde(default)]
    pending_op: Option<String>,
    #[serde(default)]
    deleting: bool,
}

/// What happened to a format-1 store's records.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Migrated {
    pub resources: usize,
    /// Resources whose work was under way: kept, showing `provisioningState: Failed`, since the
    /// lifecycle state of format 1 cannot be carried on (nor is it for settled ones).
    pub interrupted: usize,
    /// Resources whose accepted deletion had not happened yet: deleted now.
    pub deleted: usize,
    /// Operations, not carried over (their status URLs answer 404, as expired ones do).
    pub operations_dropped: usize,
}

/// Copies the database (write-ahead log included) to a file beside it that no other start
/// overwrites; returns the file.
pub fn back_up(conn: &Connection, path: &Path, format: i64) -> anyhow::Result<PathBuf> {
    let base = format!("{}.format-{format}.backup", path.display());
    let backup = (0..)
        .map(|n| PathBuf::from(if n == 0 { base.clone() } else { format!("{base}.{n}") }))
        .find(|candidate| !candidate.exists())
        .expect("some name is free");
    conn.execute("VACUUM INTO ?1", params![backup.to_string_lossy()])
        .with_context(|| format!("backing the store up to {}", backup.display()))?;
    Ok(backup)
}

fn columns(tx: &Transaction, table: &str) -> anyhow::Result<Vec<String>> {
    let mut stmt = tx.prepare(&format!("PRAGMA table_info({table})"))?;
    let names = stmt.query_map([], |r| r.get::<_, String>(1))?.collect::<Result<Vec<_>, _>>()?;
    Ok(names)
}

/// Format 1 to format 2, in one transaction.
pub fn from_format_one(conn: &mut Connection) -> anyhow::Result<Migrated> {
    let tx = conn.transaction()?;
    tx.execute_batch(
        "ALTER TABLE resources RENAME TO resources_format_1;
         ALTER TABLE operations RENAME TO operations_format_1;",
    )?;
    tx.execute_batch(TABLES)?;
    let split = columns(&tx, "resources_format_1")?.iter().any(|c| c == "meta");
    let query = if split {
        "SELECT key, meta, body FROM resources_format_1 ORDER BY key"
    } else {
        "SELECT key, doc, NULL FROM resources_format_1 ORDER BY key"
    };
    let mut migrated = Migrated::default();
    {
        let mut stmt = tx.prepare(query)?;
        let mut rows = stmt.query([])?;
        let mut insert =
            tx.prepare("INSERT INTO resources (rid, id, type, state, sim, body) VALUES (?1, ?2, ?3, ?4, NULL, ?5)")?;
        while let Some(row) = rows.next()? {
            let key: String = row.get(0)?;
            let record: FormatOneResource = serde_json::from_str(row.get_ref(1)?.as_str()?)
                .with_context(|| format!("reading the format-1 record of {key}"))?;
            let body = match row.get::<_, Option<String>>(2)? {
                Some(text) => serde_json::from_str(&text).with_context(|| format!("reading the body of {key}"))?,
                None => record.body.clone().unwrap_or(Value::Null),
            };
            if record.deleting {
                migrated.deleted += 1;
                continue;
            }
            // A settled resource may keep its lifecycle's last state; work still to come has a
            // due time or an operation waiting on it.
            let under_way = record.pending_op.is_some() || record.due.is_some();
            migrated.interrupted += usize::from(under_way);
            let state = serde_json::json!({ "etag": record.etag, "failed": under_way }).to_string();
            let json = Bytes::from(serde_json::to_vec(&body)?);
            migrated.resources += 1;
            insert.execute(params![
                migrated.resources as i64,
                record.id,
                record.type_key,
                state,
                Body::new(json).stored()
            ])?;
        }
    }
    migrated.operations_dropped =
        tx.query_row("SELECT COUNT(*) FROM operations_format_1", [], |r| r.get::<_, i64>(0))? as usize;
    tx.execute_batch("DROP TABLE resources_format_1; DROP TABLE operations_format_1;")?;
    tx.commit()?;
    Ok(migrated)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store of the split layout (`meta` beside `body`), as it wrote its rows.
    fn split_layout_store() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE resources (key TEXT PRIMARY KEY, meta TEXT NOT NULL, body TEXT NOT NULL);
             CREATE TABLE operations (id TEXT PRIMARY KEY, doc TEXT NOT NULL);",
        )
        .unwrap();
        let rows = [
            (
                "/subscriptions/s/resourcegroups/rg",
                r#"{"id":"/subscriptions/s/resourceGroups/rg","type_key":"microsoft.resources/resourcegroups","etag":"\"1\""}"#,
            ),
            (
                "/subscriptions/s/resourcegroups/rg/providers/x/y/busy",
                r#"{"id":"/subscriptions/s/resourceGroups/rg/providers/X/y/busy","type_key":"x/y","etag":"\"2\"","sim":{"step":3},"due":"2026-11-30T10:00:00Z","pending_op":"op-1","deleting":false}"#,
            ),
            (
                "/subscriptions/s/resourcegroups/rg/providers/x/y/going",
                r#"{"id":"/subscriptions/s/resourceGroups/rg/providers/X/y/going","type_key":"x/y","etag":"\"3\"","pending_op":"op-2","deleting":true}"#,
            ),
        ];
        for (key, meta) in rows {
            let body = format!(
                r#"{{"name":"{}","properties":{{"provisioningState":"Succeeded"}}}}"#,
                key.rsplit('/').next().unwrap()
            );
            conn.execute("INSERT INTO resources (key, meta, body) VALUES (?1, ?2, ?3)", params![key, meta, body])
                .unwrap();
        }
        conn.execute("INSERT INTO operations (id, doc) VALUES ('op-1', '{}'), ('op-2', '{}')", []).unwrap();
        conn
    }

    #[test]
    fn a_split_layout_store_keeps_its_resources_and_says_what_it_could_not_carry() {
        let mut conn = split_layout_store();
        let migrated = from_format_one(&mut conn).unwrap();
        assert_eq!(migrated, Migrated { resources: 2, interrupted: 1, deleted: 1, operations_dropped: 2 });
        let rows: Vec<(i64, String, String, Vec<u8>)> = conn
            .prepare("SELECT rid, id, state, body FROM resources ORDER BY rid")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows[0].0, 1);
        assert_eq!(rows[0].1, "/subscriptions/s/resourceGroups/rg");
        assert_eq!(rows[1].2, r#"{"etag":"\"2\"","failed":true}"#);
        assert_eq!(serde_json::from_slice::<Value>(&rows[1].3).unwrap()["name"], "busy");
        let left: i64 =
            conn.query_row("SELECT COUNT(*) FROM sqlite_master WHERE name LIKE '%format_1'", [], |r| r.get(0)).unwrap();
        assert_eq!(left, 0);
    }
}

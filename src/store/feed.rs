//! Events a node shares with the others on a shared store without making them state (the
//! journal's requests). Each node appends its own in batches, numbered per process, and
//! announces them; the others read the batches they have not seen, from any process, as they
//! are announced. Batches are kept a while for nodes that have yet to read them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use super::postgres::CHANNEL;

/// What a batch's announcement on the change log's channel starts with; the shipping process
/// follows.
pub const ANNOUNCEMENT: &str = "feed ";

/// How often a node ships what it gathered.
pub const SHIP_EVERY: Duration = Duration::from_millis(100);

/// Events a node gathers at most before shipping; more are dropped (the database is slower than
/// the requests), with a warning.
const OUTBOX_LIMIT: usize = 100_000;

/// How long a batch is kept for nodes that have yet to read it.
pub const KEPT: &str = "10 minutes";

#[derive(Default)]
pub struct Feed {
    /// This node's events, as JSON, yet to ship.
    outbox: Mutex<Vec<String>>,
    /// Told when another node announces a batch.
    pub announced: Arc<Notify>,
    /// The next batch this process ships.
    next_batch: AtomicI64,
    /// Per other process: the newest batch read. `None` until the feed stands where the store
    /// does (a node reads what is shipped after it joins).
    read: tokio::sync::Mutex<Option<HashMap<String, i64>>>,
    dropped: std::sync::atomic::AtomicBool,
}

impl Feed {
    /// Gathers one event (a JSON value's text) to ship with the next batch.
    pub fn push(&self, event: String) {
        let mut outbox = self.outbox.lock().unwrap_or_else(|e| e.into_inner());
        if outbox.len() >= OUTBOX_LIMIT {
            if !self.dropped.swap(true, Ordering::Relaxed) {
                tracing::warn!("the PostgreSQL store takes events slower than they come: some are not shared");
            }
            return;
        }
        outbox.push(event);
    }

    /// Ships what was gathered as one batch (a JSON array) and announces it.
    pub async fn ship(&self, client: &tokio_postgres::Client, origin: &str) -> Result<(), tokio_postgres::Error> {
        let events = std::mem::take(&mut *self.outbox.lock().unwrap_or_else(|e| e.into_inner()));
        if events.is_empty() {
            return Ok(());
        }
        let batch = self.next_batch.fetch_add(1, Ordering::Relaxed);
        let text = format!("[{}]", events.join(","));
        client
            .execute(
                &format!(
                    "WITH shipped AS (INSERT INTO azemu_feed (origin, batch, events) VALUES ($1, $2, $3))
                     SELECT pg_notify('{CHANNEL}', '{ANNOUNCEMENT}' || $1)"
                ),
                &[&origin, &batch, &text],
            )
            .await?;
        Ok(())
    }

    /// The batches other processes shipped since the last read (each a JSON array), oldest
    /// first. The first read only marks where the feed stands.
    pub async fn read(
        &self,
        client: &tokio_postgres::Client,
        origin: &str,
    ) -> Result<Vec<String>, tokio_postgres::Error> {
        let mut read = self.read.lock().await;
        let Some(seen) = read.as_mut() else {
            let rows = client
                .query("SELECT origin, max(batch) FROM azemu_feed WHERE origin <> $1 GROUP BY origin", &[&origin])
                .await?;
            *read = Some(rows.iter().map(|r| (r.get(0), r.get(1))).collect());
            return Ok(Vec::new());
        };
        let (origins, batches): (Vec<&str>, Vec<i64>) = seen.iter().map(|(o, b)| (o.as_str(), *b)).unzip();
        let rows = client
            .query(
                "SELECT f.origin, f.batch, f.events FROM azemu_feed f
                 LEFT JOIN unnest($2::text[], $3::bigint[]) AS seen (origin, batch) ON seen.origin = f.origin
                 WHERE f.origin <> $1 AND f.batch > coalesce(seen.batch, -1)
                 ORDER BY f.written, f.origin, f.batch",
                &[&origin, &origins, &batches],
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let (from, batch): (String, i64) = (row.get(0), row.get(1));
            let newest = seen.entry(from).or_insert(batch);
            *newest = (*newest).max(batch);
            out.push(row.get(2));
        }
        Ok(out)
    }
}

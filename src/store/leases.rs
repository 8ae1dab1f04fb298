//! Which node runs which lifecycle work on a shared store. Timers fall into [`SHARDS`] shards by
//! a hash of what they are for; each shard is leased to one node at a time (a row of
//! `azemu_leases`, claimed with `FOR UPDATE SKIP LOCKED`) and renewed while the node lives.
//! A node that stops renewing loses its shards when their leases run out, and the others take
//! them over. Every node heartbeats in `azemu_nodes`, which tells how many share the work.
//!
//! A lease decides who runs a step, not whether it runs once: every step is a write made under
//! the cluster's write lock from an up-to-date replica, and a step already taken is no longer
//! due there. So two nodes that briefly both believe they hold a shard still run each step once.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

use chrono::{DateTime, Utc};

use super::cluster::ClusterOptions;
use super::TimerTarget;

/// Shards of timers; a bit each in a `u64`.
pub const SHARDS: u32 = 64;

/// Rounds between two trims of the change log.
const TRIM_EVERY: u64 = 16;
/// Log entries kept at least, behind the newest one.
const KEEP_ENTRIES: i64 = 10_000;

/// A node another (or this one) sees alive, for `/_azemu/health`.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeSeen {
    pub node: String,
    pub address: String,
    pub started: DateTime<Utc>,
    pub heartbeat: DateTime<Utc>,
    /// The newest change log entry its replica holds.
    pub applied: i64,
    /// Shards it holds leases on.
    pub shards: i64,
}

#[derive(Default)]
pub struct Leases {
    /// The shards this node holds, a bit each.
    owned: AtomicU64,
    seen: RwLock<Vec<NodeSeen>>,
    rounds: AtomicU64,
}

/// The shard a timer falls in: FNV-1a over its key, the same on every node and build.
pub fn shard_of(target: &TimerTarget) -> u32 {
    let key = match target {
        TimerTarget::Resource(key) => key.as_bytes(),
        TimerTarget::Operation(id) | TimerTarget::OperationExpiry(id) => id.as_bytes(),
    };
    let hash = key.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3));
    (hash % u64::from(SHARDS)) as u32
}

impl Leases {
    pub fn owns(&self, target: &TimerTarget) -> bool {
        self.owned.load(Ordering::Acquire) & (1 << shard_of(target)) != 0
    }

    /// The nodes seen alive at the last round.
    pub fn seen(&self) -> Vec<NodeSeen> {
        self.seen.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Forgets every shard (the database cannot be reached to renew them).
    pub fn drop_all(&self) {
        self.owned.store(0, Ordering::Release);
    }

    /// Refuses a node id another live process uses.
    pub async fn check_node_id(
        &self,
        client: &tokio_postgres::Client,
        options: &ClusterOptions,
        origin: &str,
    ) -> anyhow::Result<()> {
        let other = client
            .query_opt(
                "SELECT address FROM azemu_nodes
                 WHERE node = $1 AND origin <> $2 AND heartbeat > now() - make_interval(secs => $3)",
                &[&options.node_id, &origin, &options.lease_timeout.as_secs_f64()],
            )
            .await?;
        if let Some(row) = other {
            let address: String = row.get(0);
            anyhow::bail!(
                "node id '{}' is in use by a live node at {address}; give each node its own --node-id",
                options.node_id
            );
        }
        Ok(())
    }

    /// Heartbeats, renews this node's leases, and claims or gives back shards so that each live
    /// node holds its share. Returns whether this node gained shards.
    pub async fn round(
        &self,
        client: &tokio_postgres::Client,
        options: &ClusterOptions,
        origin: &str,
        applied: u64,
    ) -> anyhow::Result<bool> {
        let timeout = options.lease_timeout.as_secs_f64();
        client
            .execute(
                "INSERT INTO azemu_nodes (node, origin, address, started, heartbeat, applied)
                     VALUES ($1, $2, $3, now(), now(), $4)
                 ON CONFLICT (node) DO UPDATE SET origin = excluded.origin, address = excluded.address,
                     heartbeat = now(), applied = excluded.applied,
                     started = CASE WHEN azemu_nodes.origin = excluded.origin THEN azemu_nodes.started ELSE now() END",
                &[&options.node_id, &origin, &options.address, &(applied as i64)],
            )
            .await?;
        let renewed = client
            .query(
                "UPDATE azemu_leases SET expires = now() + make_interval(secs => $2) WHERE origin = $1 RETURNING shard",
                &[&origin, &timeout],
            )
            .await?;
        let mut owned = renewed.iter().fold(0u64, |mask, row| mask | 1 << row.get::<_, i32>(0));
        let alive = client
            .query(
                "SELECT n.node, n.address, n.started, n.heartbeat, n.applied,
                        (SELECT count(*) FROM azemu_leases l WHERE l.origin = n.origin AND l.expires > now())
                 FROM azemu_nodes n WHERE n.heartbeat > now() - make_interval(secs => $1) ORDER BY n.node",
                &[&timeout],
            )
            .await?;
        let seen: Vec<NodeSeen> = alive
            .iter()
            .map(|r| NodeSeen {
                node: r.get(0),
                address: r.get(1),
                started: r.get(2),
                heartbeat: r.get(3),
                applied: r.get(4),
                shards: r.get(5),
            })
            .collect();
        let share = SHARDS.div_ceil(seen.len().max(1) as u32);
        let held = owned.count_ones();
        let before = self.owned.load(Ordering::Acquire);
        if held > share {
            // Another node joined: the highest shards go back for it to claim.
            let extra: Vec<i32> =
                (0..SHARDS as i32).rev().filter(|s| owned & 1 << s != 0).take((held - share) as usize).collect();
            extra.iter().for_each(|s| owned &= !(1 << s));
            self.owned.store(owned, Ordering::Release);
            client
                .execute(
                    "UPDATE azemu_leases SET node = NULL, origin = NULL, expires = '-infinity'
                     WHERE origin = $1 AND shard = ANY($2)",
                    &[&origin, &extra],
                )
                .await?;
        } else if held < share {
            let claimed = client
                .query(
                    "UPDATE azemu_leases SET node = $1, origin = $2, expires = now() + make_interval(secs => $3)
                     WHERE shard IN (SELECT shard FROM azemu_leases WHERE expires < now() ORDER BY shard
                                     LIMIT $4 FOR UPDATE SKIP LOCKED)
                     RETURNING shard",
                    &[&options.node_id, &origin, &timeout, &i64::from(share - held)],
                )
                .await?;
            owned = claimed.iter().fold(owned, |mask, row| mask | 1 << row.get::<_, i32>(0));
        }
        self.owned.store(owned, Ordering::Release);
        *self.seen.write().unwrap_or_else(|e| e.into_inner()) = seen;
        if self.rounds.fetch_add(1, Ordering::Relaxed).is_multiple_of(TRIM_EVERY) {
            trim_log(client).await?;
        }
        Ok(owned & !before != 0)
    }

    /// Gives every shard back at once (a clean stop): the others need not wait for the leases
    /// to run out.
    pub async fn give_back(&self, client: &tokio_postgres::Client, origin: &str) -> anyhow::Result<()> {
        self.owned.store(0, Ordering::Release);
        client
            .execute(
                "UPDATE azemu_leases SET node = NULL, origin = NULL, expires = '-infinity' WHERE origin = $1",
                &[&origin],
            )
            .await?;
        client.execute("DELETE FROM azemu_nodes WHERE origin = $1", &[&origin]).await?;
        Ok(())
    }
}

/// Drops change log entries every live node has replayed, keeping the newest ones (a node that
/// starts reads the tables, not the log), and shared events past their time; then refreshes the
/// log's statistics.
async fn trim_log(client: &tokio_postgres::Client) -> anyhow::Result<()> {
    client
        .execute(
            "DELETE FROM azemu_changes
             WHERE seq < (SELECT seq FROM azemu_head) - $1
               AND seq <= (SELECT coalesce(min(applied), 0) FROM azemu_nodes
                           WHERE heartbeat > now() - interval '1 hour')",
            &[&KEEP_ENTRIES],
        )
        .await?;
    client
        .execute(&format!("DELETE FROM azemu_feed WHERE written < now() - interval '{}'", super::feed::KEPT), &[])
        .await?;
    // The log grows and shrinks faster than autovacuum's statistics follow: fresh ones keep the
    // log reads on the index.
    client.batch_execute("ANALYZE azemu_changes").await?;
    Ok(())
}

//! The deployment orchestrator: takes each deployment the engine hands over (a new one, or one
//! found unfinished at start) and runs it, sending each planned resource through the ARM entry
//! a client's request takes and waiting on it as a client would (`client`), in dependency
//! order, independent ones in parallel (`run`). Every step of a run is written to the store
//! (`record`), so a restart resumes it. On a store several nodes share, a deployment is run by
//! the node holding the lease of its timer's shard; when a node takes a shard over, it resumes
//! the unfinished deployments in it.

mod client;
mod lookups;
mod record;
mod run;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

pub use client::Entry;

use crate::app::App;
use crate::providers::resources::deployments::{run_of, TYPE_KEY};
use crate::store::TimerTarget;

fn live(app: &App, key: &str) -> bool {
    app.store.read(|s| s.resource(key).filter(|r| !r.deleting).and_then(|r| run_of(r)).is_some_and(|r| r.is_live()))
}

/// Whether this node runs the deployment at `key` (on a store not shared, every one).
fn ours(app: &App, key: &str) -> bool {
    app.store.owns(&TimerTarget::Resource(key.to_string()))
}

/// Hands this node's unfinished deployments to the orchestrator.
fn resume(app: &App) {
    let unfinished: Vec<String> = app.store.read(|s| {
        s.resources()
            .filter(|r| r.type_key == TYPE_KEY && !r.deleting)
            .filter(|r| run_of(r).is_some_and(|run| run.is_live()))
            .map(|r| r.key())
            .filter(|key| ours(app, key))
            .collect()
    });
    for key in unfinished {
        app.deployments.push(key);
    }
}

/// Starts the orchestrator; unfinished deployments in the store are resumed.
pub fn spawn(app: &Arc<App>, entry: Entry) {
    // Watched before the first look, so that shards taken over meanwhile are not missed.
    let mut gained = app.store.leases_gained();
    resume(app);
    if app.store.is_shared() {
        let weak = Arc::downgrade(app);
        tokio::spawn(async move {
            while gained.changed().await.is_ok() {
                let Some(app) = weak.upgrade() else { return };
                resume(&app);
            }
        });
    }
    let weak = Arc::downgrade(app);
    let queue = app.deployments.clone();
    let running: Arc<Mutex<HashSet<String>>> = Arc::default();
    tokio::spawn(async move {
        loop {
            let keys = queue.take().await;
            let Some(app) = weak.upgrade() else { return };
            for key in keys {
                // Another node's deployment: that node runs it (and sees a cancel made here).
                if !ours(&app, &key) {
                    continue;
                }
                // A run already going sees a cancel when it next reads the store.
                if !running.lock().unwrap_or_else(|e| e.into_inner()).insert(key.clone()) {
                    continue;
                }
                let (app, entry, running) = (app.clone(), entry.clone(), running.clone());
                tokio::spawn(async move {
                    run::run(app.clone(), entry, &key).await;
                    running.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
                    // A new run PUT while this one was ending was not taken up: take it now.
                    if live(&app, &key) {
                        app.deployments.push(key);
                    }
                });
            }
        }
    });
}

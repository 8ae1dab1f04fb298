//! Deployments waiting for the orchestrator: the engine hands each new (or canceled) deployment
//! over here, and the orchestrator takes them in turn.

use std::sync::Mutex;

#[derive(Default)]
pub struct DeploymentQueue {
    keys: Mutex<Vec<String>>,
    added: tokio::sync::Notify,
}

impl DeploymentQueue {
    pub fn push(&self, key: String) {
        self.keys.lock().unwrap_or_else(|e| e.into_inner()).push(key);
        self.added.notify_one();
    }

    /// Waits until something is queued, then takes everything queued.
    pub async fn take(&self) -> Vec<String> {
        loop {
            let taken = std::mem::take(&mut *self.keys.lock().unwrap_or_else(|e| e.into_inner()));
            if !taken.is_empty() {
                return taken;
            }
            self.added.notified().await;
        }
    }
}

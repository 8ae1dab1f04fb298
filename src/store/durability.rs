//! What the store and its writer thread share about writes on their way to disk: the newest
//! one known durable, the ones not yet durable (with what they replaced, so that they can be
//! taken back), and whether the disk takes writes at all.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use tokio::sync::Notify;

use super::state::Undo;

/// Takes back every write not yet durable.
pub type RollBack = Box<dyn Fn(&Durability) + Send + Sync>;

#[derive(Default)]
pub struct Durability {
    pub(super) durable_seq: AtomicU64,
    pub(super) changed: Notify,
    /// Told how long each commit took (metrics).
    pub(super) commit_observer: OnceLock<Box<dyn Fn(std::time::Duration) + Send + Sync>>,
    /// Durable writes applied in memory and not yet on disk, oldest first.
    undo: Mutex<VecDeque<(u64, Undo)>>,
    /// Whether the last commit failed and the disk has not taken a write since.
    unavailable: AtomicBool,
    reason: Mutex<String>,
    /// The newest write taken back because it could not be committed.
    rolled_back_through: AtomicU64,
    /// Counts roll-backs, so that a reader can tell whether what it read is still there.
    epoch: AtomicU64,
    /// Takes back every write not yet durable (installed by the store, which owns the state).
    roll_back: OnceLock<RollBack>,
}

impl Durability {
    pub(super) fn observe_commit(&self, took: std::time::Duration) {
        if let Some(observe) = self.commit_observer.get() {
            observe(took);
        }
    }

    pub(super) fn advance(&self, seq: u64) {
        self.durable_seq.fetch_max(seq, Ordering::AcqRel);
        {
            let mut undo = self.undo.lock().unwrap_or_else(|e| e.into_inner());
            while undo.front().is_some_and(|(s, _)| *s <= seq) {
                undo.pop_front();
            }
        }
        self.changed.notify_waiters();
    }

    /// Keeps what a durable write replaced until it is on disk. Called under the state's write
    /// lock, in sequence order.
    pub(super) fn remember(&self, seq: u64, undo: Undo) {
        self.undo.lock().unwrap_or_else(|e| e.into_inner()).push_back((seq, undo));
    }

    /// What every write not yet durable replaced, newest first; they are forgotten.
    pub(super) fn take_back_all(&self) -> Vec<Undo> {
        let mut undo = self.undo.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((newest, _)) = undo.back() {
            self.rolled_back_through.fetch_max(*newest, Ordering::AcqRel);
        }
        self.epoch.fetch_add(1, Ordering::AcqRel);
        undo.drain(..).rev().map(|(_, u)| u).collect()
    }

    pub(super) fn install_roll_back(&self, roll_back: RollBack) {
        let _ = self.roll_back.set(roll_back);
    }

    /// A commit failed: no write is taken until the disk takes one again, and the writes not
    /// yet durable are taken back.
    pub(super) fn fail(&self, reason: String) {
        *self.reason.lock().unwrap_or_else(|e| e.into_inner()) = reason;
        self.unavailable.store(true, Ordering::Release);
        if let Some(roll_back) = self.roll_back.get() {
            roll_back(self);
        }
        self.changed.notify_waiters();
    }

    pub(super) fn recover(&self) {
        self.unavailable.store(false, Ordering::Release);
    }

    /// Why writes are refused, while they are.
    pub fn unavailable(&self) -> Option<String> {
        self.unavailable.load(Ordering::Acquire).then(|| self.reason.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }

    pub(super) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Whether write `seq` is on disk (`Some(true)`), was taken back (`Some(false)`), or is on
    /// its way (`None`).
    pub(super) fn fate(&self, seq: u64) -> Option<bool> {
        if self.durable_seq.load(Ordering::Acquire) >= seq {
            Some(true)
        } else if self.rolled_back_through.load(Ordering::Acquire) >= seq {
            Some(false)
        } else {
            None
        }
    }
}

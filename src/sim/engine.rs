//! The simulation engine: wakes when the earliest timer is due and moves each due resource or
//! operation one step, through the store, so every step is as durable as a request's write.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::clock::{Clock, ClockMode, SharedClock, SHARED_CLOCK_SETTING};
use super::lifecycle::{AdvanceCtx, Lifecycles};
use crate::arm::timestamp;
use crate::store::{OperationStatus, PendingAck, Persist, State, Store, StoreError, TimerTarget, Txn};

/// The store setting that keeps the manual clock's time across restarts.
pub const MANUAL_CLOCK_SETTING: &str = "manual_clock";
/// The store setting that keeps how far a real clock runs ahead of the wall clock.
pub const CLOCK_OFFSET_SETTING: &str = "real_clock_offset_us";

/// Steps run in one round.
const MAX_STEPS_PER_ROUND: usize = 1024;
/// Steps run under one hold of the store's write lock before requests get a turn.
const STEPS_PER_LOCK: usize = 64;

/// Which due work a round runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Work {
    /// What this node holds the leases of.
    Leased,
    /// Everything (a manual clock's advance).
    All,
}

/// Told how late each step ran, in wall-clock time, on the real clock.
pub type LatenessObserver = Box<dyn Fn(Duration) + Send + Sync>;

pub struct Engine {
    store: Arc<Store>,
    clock: Arc<Clock>,
    lifecycles: Lifecycles,
    running: tokio::sync::Mutex<()>,
    lateness: std::sync::OnceLock<LatenessObserver>,
    /// Wakes the loop when the clock is paused, resumed or sped up.
    clock_changed: tokio::sync::Notify,
}

impl Engine {
    pub fn new(store: Arc<Store>, clock: Arc<Clock>, lifecycles: Lifecycles) -> Engine {
        Engine {
            store,
            clock,
            lifecycles,
            running: tokio::sync::Mutex::new(()),
            lateness: Default::default(),
            clock_changed: Default::default(),
        }
    }

    /// Reports, for every lifecycle step and operation end, how long after its time it ran.
    pub fn observe_lateness(&self, observer: LatenessObserver) {
        let _ = self.lateness.set(observer);
    }

    /// Tells the observer how late the steps just run were (the manual clock runs each at its
    /// own time: never late).
    fn report_lateness(&self, steps: &[(DateTime<Utc>, TimerTarget)]) {
        let Some(observe) = self.lateness.get().filter(|_| self.clock.mode() == ClockMode::Real) else { return };
        let now = self.clock.now();
        for (at, target) in steps {
            if !matches!(target, TimerTarget::OperationExpiry(_)) {
                let late = (now - *at).to_std().unwrap_or(Duration::ZERO);
                observe(late.div_f64(self.clock.speed().max(f64::MIN_POSITIVE)));
            }
        }
    }

    /// Runs forever: due work at once, then sleep until the next timer or a new one.
    pub fn spawn(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let engine = self.clone();
        tokio::spawn(async move {
            loop {
                engine.run_due().await;
                // Lifecycles pause while the disk takes no writes, and go on once it does.
                if engine.store.unavailable().is_some() {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
                let next = engine.store.read(|s| s.next_due_where(|t| engine.store.owns(t)));
                let wait = match (engine.clock.mode(), next) {
                    (ClockMode::Real, Some(at)) => (at - engine.clock.now()).to_std().unwrap_or(Duration::ZERO),
                    (ClockMode::Manual, Some(at)) if at <= engine.clock.now() => Duration::ZERO,
                    _ => Duration::from_secs(3600),
                };
                if wait.is_zero() {
                    tokio::task::yield_now().await;
                    continue;
                }
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = engine.store.timers_changed() => {}
                    _ = engine.clock_changed.notified() => {}
                }
            }
        })
    }

    /// Runs everything due at the current emulator time.
    /// On a store several nodes share, only the work of this node's leases.
    pub async fn run_due(&self) {
        let _guard = self.running.lock().await;
        self.run_due_locked(Work::Leased).await;
    }

    /// Manual clock: moves time forward by `seconds`, running everything that falls due on the
    /// way, in order, each at its own time.
    /// The target time is made durable first: steps are replayed after a restart up to the
    /// clock, so a restarted clock must not start before anything a reader may have seen.
    pub async fn advance(&self, seconds: f64) -> Result<DateTime<Utc>, StoreError> {
        let _guard = self.running.lock().await;
        let target = self.clock.now() + chrono::Duration::microseconds((seconds * 1_000_000.0) as i64);
        self.store.save_setting(MANUAL_CLOCK_SETTING, timestamp(target)).await?;
        // All of it, whichever node holds its lease: time moves for everyone.
        while let Some((at, _)) = self.store.read(|s| s.first_timer_until(target)) {
            self.clock.set_manual(at);
            self.run_due_locked(Work::All).await;
        }
        self.clock.set_manual(target);
        self.share_clock().await?;
        Ok(self.clock.now())
    }

    /// On a store other nodes share, tells them where the clock stands now.
    async fn share_clock(&self) -> Result<(), StoreError> {
        if !self.store.is_shared() {
            return Ok(());
        }
        let shared = serde_json::to_string(&self.clock.shared()).unwrap_or_default();
        self.store.save_setting(SHARED_CLOCK_SETTING, shared).await
    }

    /// Another node changed the clock: this one follows, and its loop looks again.
    pub fn follow_clock(&self, shared: &SharedClock) {
        self.clock.follow(shared);
        self.clock_changed.notify_one();
    }

    /// Pauses (`Manual`) or resumes (`Real`) the clock and sets its speed, keeping what a
    /// restart needs so that time never goes back: a paused clock's time, a resumed one's offset
    /// from the wall clock. Flags given to `serve` decide the mode again after a restart.
    pub async fn set_clock(&self, mode: Option<ClockMode>, speed: Option<f64>) -> Result<(), StoreError> {
        let _guard = self.running.lock().await;
        match mode {
            Some(ClockMode::Manual) if self.clock.mode() == ClockMode::Real => {
                let at = self.clock.pause();
                self.store.save_setting(MANUAL_CLOCK_SETTING, timestamp(at)).await?;
            }
            Some(ClockMode::Real) if self.clock.mode() == ClockMode::Manual => {
                let offset = self.clock.resume();
                let offset = offset.num_microseconds().unwrap_or(0).to_string();
                self.store.save_setting(CLOCK_OFFSET_SETTING, offset).await?;
                self.store.save_setting(MANUAL_CLOCK_SETTING, String::new()).await?;
            }
            _ => {}
        }
        if let Some(speed) = speed {
            self.clock.set_speed(speed);
        }
        self.clock_changed.notify_one();
        self.share_clock().await
    }

    async fn run_due_locked(&self, work: Work) {
        loop {
            if self.store.unavailable().is_some() {
                return;
            }
            let now = self.clock.now();
            let mine = |t: &TimerTarget| work == Work::All || self.store.owns(t);
            let due = self.store.read(|s| s.due_timers_where(now, MAX_STEPS_PER_ROUND, mine));
            if due.is_empty() {
                return;
            }
            let mut acks: Vec<PendingAck> = Vec::new();
            // Steps are cheap (a cursor moves; documents are rendered when read), so a batch of
            // them shares one hold of the write lock.
            for chunk in due.chunks(STEPS_PER_LOCK) {
                // On a shared store, the cluster's: each step is computed from everything
                // committed before it, so a step another node took is no longer due.
                let hold = match self.store.hold().await {
                    Ok(hold) => hold,
                    Err(e) => {
                        tracing::error!(error = %e, "simulation steps wait: the store takes no writes");
                        return;
                    }
                };
                let results = self.store.apply_each(chunk, |state, (at, target)| self.step(state, *at, target));
                drop(hold);
                self.report_lateness(chunk);
                for (result, (_, target)) in results.into_iter().zip(chunk) {
                    match result {
                        Ok(ack) => acks.push(ack),
                        Err(e) => {
                            tracing::error!(target = ?target, error = %e, "simulation step failed")
                        }
                    }
                }
                tokio::task::yield_now().await;
            }
            for ack in acks {
                if let Err(e) = ack.durable().await {
                    tracing::error!(error = %e, "simulation step not persisted");
                }
            }
        }
    }

    /// One step. Steps are deterministic, so what they derive from durable state alone is not
    /// waited for: it is replayed after a restart if it was lost (see [`Persist`]).
    fn step(&self, state: &State, at: DateTime<Utc>, target: &TimerTarget) -> Result<Txn, String> {
        let mut txn = Txn { persist: Persist::Checkpoint, ..Txn::default() };
        match target {
            TimerTarget::Operation(id) => {
                if let Some(op) = state.operation(id).filter(|o| o.due == Some(at)) {
                    let mut op = (**op).clone();
                    match op.planned_failure.take() {
                        Some(error) => op.complete(OperationStatus::Failed, at, Some(*error)),
                        None => op.complete(OperationStatus::Succeeded, at, None),
                    }
                    txn.put_operation(op);
                }
            }
            TimerTarget::OperationExpiry(id) => {
                if state.operation(id).is_some_and(|o| state.expiry_of(o) == Some(at)) {
                    txn.delete_operation(id.clone());
                }
            }
            TimerTarget::Resource(key) => {
                let Some(current) = state.resource(key).filter(|r| r.due == Some(at)) else {
                    return Ok(txn);
                };
                if current.deleting {
                    return Ok(delete_with_descendants(state, key, at));
                }
                let Some(lifecycle) = self.lifecycles.get(&current.type_key) else {
                    let mut r = (**current).clone();
                    r.due = None;
                    txn.put(r);
                    return Ok(txn);
                };
                let mut resource = (**current).clone();
                let advance = lifecycle.step(&mut resource, &AdvanceCtx { at, clock: &self.clock, state })?;
                let body_changed = !resource.body.same(&current.body);
                let settles = advance.completes.is_some() || resource.due.is_none();
                txn.persist = if !advance.also.is_empty() {
                    // It changed other resources: their writers must not be able to overtake it.
                    Persist::Durable
                } else if body_changed || settles || self.store.is_shared() {
                    // On a shared store every step is kept: a node that takes the work over goes
                    // on from the same step, and no step runs twice.
                    Persist::Checkpoint
                } else {
                    Persist::MemoryOnly
                };
                txn.extend(advance.also);
                if let Some(status) = advance.completes {
                    if let Some(op) = resource.pending_op.take().and_then(|id| state.operation(&id).cloned()) {
                        let mut op = (*op).clone();
                        match op.planned_failure.take() {
                            // A fault rule made this operation fail: the resource shows it too.
                            Some(error) => {
                                op.complete(OperationStatus::Failed, at, Some(*error));
                                resource.failed = true;
                                txn.persist = Persist::Durable;
                            }
                            None => op.complete(status, at, advance.failure),
                        }
                        txn.put_operation(op);
                    }
                }
                txn.put(resource);
            }
        }
        Ok(txn)
    }
}

/// Removes a resource and everything under it; the DELETE's operation succeeds, any other
/// operation still waiting on them is canceled. A DELETE a fault rule made fail removes
/// nothing: the resource stays, `Failed`.
fn delete_with_descendants(state: &State, key: &str, at: DateTime<Utc>) -> Txn {
    // Durable: a later PUT of the same name must never find the old resource after a restart.
    let mut txn = Txn::default();
    if let Some(resource) = state.resource(key) {
        let op = resource.pending_op.as_ref().and_then(|id| state.operation(id));
        if let Some(error) = op.and_then(|o| o.planned_failure.clone()) {
            let mut op = (**op.expect("checked above")).clone();
            op.complete(OperationStatus::Failed, at, Some(*error));
            let mut kept = (**resource).clone();
            kept.deleting = false;
            kept.failed = true;
            kept.due = None;
            kept.pending_op = None;
            txn.put(kept);
            txn.put_operation(op);
            return txn;
        }
    }
    let prefix = format!("{key}/");
    let doomed = state.resource(key).into_iter().chain(state.with_prefix(&prefix));
    for resource in doomed {
        if let Some(op) = resource.pending_op.as_ref().and_then(|id| state.operation(id)) {
            let mut op = (**op).clone();
            let done = resource.key() == key || resource.deleting;
            let status = if done { OperationStatus::Succeeded } else { OperationStatus::Canceled };
            op.complete(status, at, None);
            txn.put_operation(op);
        }
        txn.delete(resource.key());
    }
    txn
}

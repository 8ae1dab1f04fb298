//! What every request handler and the simulation engine share.

use std::sync::Arc;

use crate::arm::contract::Registry;
use crate::arm::ApiVersionCheck;
use crate::faults::FaultRules;
use crate::identity::Identity;
use crate::journal::{ChangeTracker, Journal};
use crate::metrics::Metrics;
use crate::providers::resources::deployments::queue::DeploymentQueue;
use crate::sim::{Clock, Engine, Lifecycles};
use crate::store::Store;

pub struct App {
    pub store: Arc<Store>,
    pub clock: Arc<Clock>,
    pub registry: Arc<Registry>,
    pub engine: Arc<Engine>,
    pub faults: Arc<FaultRules>,
    pub journal: Arc<Journal>,
    pub metrics: Arc<Metrics>,
    pub identity: Arc<Identity>,
    /// Partner API publishers made at start (`--publisher`), made again after a reset.
    pub startup_publishers: Vec<String>,
    pub api_check: ApiVersionCheck,
    /// Resource-provider registrations per subscription (`GET /subscriptions/{s}/providers`).
    pub registrations: Arc<crate::arm::platform::Registrations>,
    /// `https` or `http`, for the absolute URLs the emulator hands out.
    pub scheme: &'static str,
    /// How long a request's body may take to arrive once its headers are in.
    pub body_timeout: std::time::Duration,
    /// Who may use the control API and `/metrics`.
    pub control: crate::identity::ControlAccess,
    /// Deployments the orchestrator has yet to take up.
    pub deployments: Arc<DeploymentQueue>,
    /// Answers to resource GETs, for the next caller of the same (see `arm::answers`).
    pub answers: crate::arm::answers::Answers,
}

/// What `azemu serve` sets for an [`App`] beyond its parts.
pub struct AppSettings {
    /// Partner API publishers made at start (`--publisher`).
    pub startup_publishers: Vec<String>,
    pub api_check: ApiVersionCheck,
    pub scheme: &'static str,
    /// Events the journal keeps; 0 turns it off.
    pub journal_size: usize,
    pub body_timeout: std::time::Duration,
    pub control: crate::identity::ControlAccess,
    /// Types azemu does not emulate are stored as generic resources.
    pub generic_resources: bool,
}

impl App {
    pub fn new(store: Store, clock: Clock, identity: Identity, settings: AppSettings) -> Arc<App> {
        let AppSettings {
            startup_publishers,
            api_check,
            scheme,
            journal_size,
            body_timeout,
            control,
            generic_resources,
        } = settings;
        let store = Arc::new(store);
        let clock = Arc::new(clock);
        let deployments = Arc::new(DeploymentQueue::default());
        let registry = Arc::new(crate::providers::standard_registry(generic_resources, deployments.clone()));
        let mut lifecycles = Lifecycles::default();
        registry.add_lifecycles(&mut lifecycles);
        crate::partner::add_lifecycles(&mut lifecycles);
        let engine = Arc::new(Engine::new(store.clone(), clock.clone(), lifecycles));
        let journal = Arc::new(Journal::new(journal_size, ChangeTracker::new(registry.clone())));
        if journal.enabled() {
            let (observer, time) = (journal.clone(), clock.clone());
            store.observe(Box::new(move |versions| observer.changes.push(time.now(), versions)));
        }
        let faults = Arc::new(FaultRules::new());
        let registrations = Arc::new(crate::arm::platform::Registrations::load(
            store.setting(crate::arm::platform::REGISTRATIONS_SETTING).as_deref(),
        ));
        if store.is_shared() {
            follow_other_nodes(&store, &engine, &journal, &clock, &faults, &registrations);
        }
        let metrics = Arc::new(Metrics::new());
        let commits = metrics.clone();
        store.observe_commits(Box::new(move |took| commits.observe_commit(took)));
        let lateness = metrics.clone();
        engine.observe_lateness(Box::new(move |late| lateness.observe_step_lateness(late)));
        let identity = Arc::new(identity);
        Arc::new(App {
            store,
            clock,
            registry,
            engine,
            faults,
            journal,
            metrics,
            identity,
            startup_publishers,
            api_check,
            registrations,
            scheme,
            body_timeout,
            control,
            deployments,
            answers: Default::default(),
        })
    }

    /// Journals a request; on a shared store, also for the other nodes' journals, naming this node.
    pub fn record_request(&self, mut event: crate::journal::RequestEvent) {
        if !self.journal.enabled() {
            return;
        }
        let now = self.clock.now();
        if self.store.is_shared() {
            event.node = self.store.node_name();
            self.store.share(crate::journal::to_shared(now, &event));
        }
        self.journal.record(now, crate::journal::EventBody::Request(event));
    }
}

/// On a store other nodes share: what they change besides resources and operations reaches
/// this node's parts (the clock, fault rules, registrations, a reset's journal), and fault
/// rules count their hits in the store.
fn follow_other_nodes(
    store: &Arc<Store>,
    engine: &Arc<Engine>,
    journal: &Arc<Journal>,
    clock: &Arc<Clock>,
    faults: &Arc<FaultRules>,
    registrations: &Arc<crate::arm::platform::Registrations>,
) {
    use crate::store::ReplicaEvent;
    let (engine, rules, registrations) = (engine.clone(), faults.clone(), registrations.clone());
    let (journal, clock) = (journal.clone(), clock.clone());
    let (journal_kept, clock_kept) = (journal.clone(), clock.clone());
    let follow_setting = move |name: &str, value: &str| match name {
        crate::sim::SHARED_CLOCK_SETTING => {
            if let Ok(shared) = serde_json::from_str::<crate::sim::SharedClock>(value) {
                engine.follow_clock(&shared);
                if journal.enabled() {
                    let event = crate::journal::ClockEvent { mode: clock.mode(), speed: clock.speed() };
                    journal.record(clock.now(), crate::journal::EventBody::Clock(event));
                }
            }
        }
        crate::faults::SHARED_RULES_SETTING => rules.follow(serde_json::from_str(value).unwrap_or_default()),
        crate::arm::platform::REGISTRATIONS_SETTING => registrations.follow(value),
        _ => {}
    };
    let (journal, clock, reloaded) = (journal_kept, clock_kept, Arc::downgrade(store));
    store.observe_replica(Box::new(move |event| match event {
        ReplicaEvent::Cleared => journal.changes.clear(),
        ReplicaEvent::Setting(name, value) => follow_setting(name, value),
        // What changed while this node was away is not journaled: it starts again from what is.
        ReplicaEvent::Reloaded => {
            let Some(store) = reloaded.upgrade() else { return };
            journal.changes.clear();
            if journal.enabled() {
                store.read(|s| journal.changes.seed(s.resources(), clock.now()));
            }
            for name in SETTINGS_FOLLOWED {
                if let Some(value) = store.setting(name) {
                    follow_setting(name, &value);
                }
            }
        }
        ReplicaEvent::Shared(batch) => {
            if journal.enabled() {
                journal.record_all(crate::journal::shared_requests(batch));
            }
        }
    }));
    if let Some(shared) = store.setting(crate::faults::SHARED_RULES_SETTING) {
        faults.follow(serde_json::from_str(&shared).unwrap_or_default());
    }
    let counting = Arc::downgrade(store);
    faults.count_hits_with(Box::new(move |id, times| {
        let store = counting.upgrade()?;
        match store.count_up_blocking(&format!("{FAULT_HITS}{id}"), times) {
            Ok(hits) => hits,
            Err(e) => {
                tracing::warn!(rule = id, error = %e, "a fault rule's hit could not be counted: it does not fire");
                None
            }
        }
    }));
}

/// The settings other nodes write that this node's parts follow.
const SETTINGS_FOLLOWED: [&str; 3] = [
    crate::sim::SHARED_CLOCK_SETTING,
    crate::faults::SHARED_RULES_SETTING,
    crate::arm::platform::REGISTRATIONS_SETTING,
];

/// The prefix of the store counters of fault rule hits on a shared store.
pub const FAULT_HITS: &str = "fault_hits/";

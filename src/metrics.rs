//! `GET /metrics`: Prometheus exposition (prometheus-client), counted as requests are answered
//! and measured from the store, the fault rules and the lifecycles when scraped.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use rustc_hash::FxHashMap;

use crate::app::App;

/// Tells apart the `Metrics` of each app in one process (tests run many).
static NEXT_METRICS_ID: AtomicU64 = AtomicU64::new(0);

/// What a request's labels count into, by (metrics id, operation name's address and length,
/// status).
type RequestHandles = FxHashMap<(u64, usize, usize, u16), (Counter, Histogram)>;

thread_local! {
    /// Each worker keeps the counters it has used: counting a request then takes none of the
    /// families' locks and hashes no label set. The families are never cleared, so a handle
    /// stays the one the family holds.
    static REQUEST_HANDLES: RefCell<RequestHandles> = RefCell::new(FxHashMap::default());
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    operation: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabel {
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LifecycleLabels {
    resource_type: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationStatusLabels {
    kind: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleLabels {
    rule: String,
    action: String,
}

fn latency_histogram() -> Histogram {
    // 50 µs to about 6.5 s.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 18))
}

pub struct Metrics {
    id: u64,
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<OperationLabel, Histogram, fn() -> Histogram>,
    commits: Histogram,
    lateness: Histogram,
    lifecycles: Family<LifecycleLabels, Gauge>,
    operations: Family<OperationStatusLabels, Gauge>,
    fault_hits: Family<RuleLabels, Gauge>,
    resources: Gauge,
    database_bytes: Gauge<u64, AtomicU64>,
    journal_events: Gauge<u64, AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("azemu");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("requests", "Requests answered, by operationId and HTTP status", requests.clone());
        let durations = Family::<OperationLabel, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        registry.register("request_duration_seconds", "Time to answer a request, by operationId", durations.clone());
        let commits = latency_histogram();
        registry.register(
            "store_commit_duration_seconds",
            "Time to commit a group of writes to disk (fsync included)",
            commits.clone(),
        );
        // 1 ms to 30 s, with 1 s among the bounds: how many steps ran within a second of their time.
        let lateness =
            Histogram::new([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]);
        registry.register(
            "sim_step_lateness_seconds",
            "How long after its time each lifecycle step ran, in wall-clock time (real clock only)",
            lateness.clone(),
        );
        let lifecycles = Family::<LifecycleLabels, Gauge>::default();
        registry.register(
            "lifecycles",
            "Resources by type and lifecycle state (running, deleting, failed, settled)",
            lifecycles.clone(),
        );
        let operations = Family::<OperationStatusLabels, Gauge>::default();
        registry.register("operations", "Long-running operations kept, by kind and status", operations.clone());
        let fault_hits = Family::<RuleLabels, Gauge>::default();
        registry.register("fault_rule_hits", "Times each fault rule has fired", fault_hits.clone());
        let resources = Gauge::default();
        registry.register("store_resources", "Resources stored", resources.clone());
        let database_bytes = Gauge::<u64, AtomicU64>::default();
        registry.register("store_database_bytes", "Database file and write-ahead log size", database_bytes.clone());
        let journal_events = Gauge::<u64, AtomicU64>::default();
        registry.register(
            "journal_last_sequence",
            "Sequence number of the newest journal event",
            journal_events.clone(),
        );
        Metrics {
            id: NEXT_METRICS_ID.fetch_add(1, Ordering::Relaxed),
            registry,
            requests,
            durations,
            commits,
            lateness,
            lifecycles,
            operations,
            fault_hits,
            resources,
            database_bytes,
            journal_events,
        }
    }

    /// Labels are static strings and numbers: counting a request allocates nothing.
    pub fn observe_request(&self, operation: Option<&'static str>, status: u16, took: Duration) {
        let operation = operation.unwrap_or("none");
        REQUEST_HANDLES.with_borrow_mut(|handles| {
            let (count, duration) =
                handles.entry((self.id, operation.as_ptr() as usize, operation.len(), status)).or_insert_with(|| {
                    let count = self.requests.get_or_create(&RequestLabels { operation, status }).clone();
                    (count, self.durations.get_or_create(&OperationLabel { operation }).clone())
                });
            count.inc();
            duration.observe(took.as_secs_f64());
        });
    }

    pub fn observe_commit(&self, took: Duration) {
        self.commits.observe(took.as_secs_f64());
    }

    pub fn observe_step_lateness(&self, late: Duration) {
        self.lateness.observe(late.as_secs_f64());
    }

    /// The exposition text, after measuring what is measured on scrape.
    pub fn render(&self, app: &App) -> String {
        self.lifecycles.clear();
        self.operations.clear();
        app.store.read(|state| {
            for r in state.resources() {
                let lifecycle = if r.deleting {
                    "deleting"
                } else if r.failed {
                    "failed"
                } else if r.due.is_some() || r.pending_op.is_some() {
                    "running"
                } else {
                    "settled"
                };
                let resource_type = app.registry.full_type_of(&r.type_key).to_string();
                self.lifecycles.get_or_create(&LifecycleLabels { resource_type, state: lifecycle.into() }).inc();
            }
            for op in state.operations() {
                let labels = OperationStatusLabels {
                    kind: format!("{:?}", op.kind).to_ascii_lowercase(),
                    status: op.status.as_str().to_string(),
                };
                self.operations.get_or_create(&labels).inc();
            }
        });
        self.fault_hits.clear();
        for rule in app.faults.list() {
            let action = rule["action"].as_object().and_then(|a| a.keys().next().cloned()).unwrap_or_default();
            let labels = RuleLabels { rule: rule["id"].as_str().unwrap_or_default().to_string(), action };
            self.fault_hits.get_or_create(&labels).set(rule["hits"].as_i64().unwrap_or(0));
        }
        let size = app.store.size();
        self.resources.set(size.resources as i64);
        self.database_bytes.set(size.database_bytes);
        self.journal_events.set(app.journal.last_seq());
        let mut text = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::error!(error = %e, "encoding metrics failed");
        }
        text
    }
}

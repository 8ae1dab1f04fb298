//! Fault rules: failures users provoke on purpose. One registry for every protocol layer and
//! provider; the layers ask it about each request, and lifecycles ask it about their steps.
//! Rules live in memory: they belong to a test run, not to the emulated cloud. On a store several
//! nodes share, every node holds the same rules (the store setting [`SHARED_RULES_SETTING`]),
//! and a rule's hits are counted in the store, so that `times` holds across the nodes.

mod rule;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

pub use rule::{check, parse_rules, Action, CheckedRule, InjectedError, RequestFacts, RuleInput};

/// The store setting that holds the rules of a shared store, as [`SharedRule`]s.
pub const SHARED_RULES_SETTING: &str = "fault_rules";
/// The store setting that holds the next rule id of a shared store.
pub const NEXT_RULE_SETTING: &str = "fault_rules_next_id";

/// A rule as the nodes of a shared store pass it on.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SharedRule {
    pub id: u64,
    pub created: DateTime<Utc>,
    pub rule: RuleInput,
}

/// Counts a hit of rule `id` wherever hits are counted, unless it has had `times` already:
/// the rule's hits with this one, or `None` when it has had them all.
pub type HitCounter = Box<dyn Fn(u64, Option<u64>) -> Option<u64> + Send + Sync>;

struct ActiveRule {
    id: u64,
    rule: CheckedRule,
    hits: u64,
    /// Retired rules stay listed (with their hits) until deleted.
    retired: bool,
    rng: fastrand::Rng,
    created: DateTime<Utc>,
}

impl ActiveRule {
    fn shown(&self) -> Value {
        let mut v = serde_json::to_value(&self.rule.shown).unwrap_or(Value::Null);
        v["id"] = json!(self.id.to_string());
        v["hits"] = json!(self.hits);
        v["active"] = json!(!self.retired);
        v["createdAt"] = json!(crate::arm::timestamp(self.created));
        v
    }
}

#[derive(Default)]
pub struct FaultRules {
    rules: Mutex<Vec<ActiveRule>>,
    /// Rules not yet retired: zero lets every request skip the lock.
    active: AtomicUsize,
    next_id: AtomicU64,
    /// Set on a shared store: hits are counted there.
    counter: std::sync::OnceLock<HitCounter>,
}

/// What the request-level rules decided for one request, and the rules that may still act on
/// the work it starts.
#[derive(Default)]
pub struct RequestFaults {
    /// Answer with this error and change nothing.
    pub error: Option<InjectedError>,
    pub drop_connection: bool,
    /// Delay the answer (the request still takes effect).
    pub latency: Option<Duration>,
    /// `failOperation` and `failStep` rules whose request fields hold; they fire (and count a
    /// hit) only when a lifecycle takes them.
    pub deferred: Deferred,
}

#[derive(Default)]
pub struct Deferred {
    candidates: Vec<u64>,
    operation_offered: Mutex<bool>,
    rules: Option<std::sync::Arc<FaultRules>>,
}

impl Deferred {
    /// The failure the operation this request starts must end with, if a `failOperation` rule
    /// fires for it. Asked once per request: a second call answers `None`.
    pub fn take_operation_failure(&self) -> Option<InjectedError> {
        let mut offered = self.operation_offered.lock().unwrap_or_else(|e| e.into_inner());
        if std::mem::replace(&mut *offered, true) {
            return None;
        }
        let rules = self.rules.as_ref()?;
        rules.fire_first(&self.candidates, |r| match &r.action {
            Action::FailOperation(e) => Some(e.clone()),
            _ => None,
        })
    }

    /// The work will fail anyway (its own failure comes first): no `failOperation` rule fires
    /// for it, here or in the protocol layer.
    pub fn decline_operation_failure(&self) {
        *self.operation_offered.lock().unwrap_or_else(|e| e.into_inner()) = true;
    }

    /// The failure a lifecycle step must end with, if a `failStep` rule names one of the step's
    /// paths (its path of names, of ids, …) and fires.
    pub fn take_step_failure(&self, step_paths: &[String]) -> Option<InjectedError> {
        let rules = self.rules.as_ref()?;
        rules.fire_first(&self.candidates, |r| match &r.action {
            Action::FailStep(e) if r.matcher.names_step(step_paths) => Some(e.clone()),
            _ => None,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.candidates.is_empty()
    }
}

impl FaultRules {
    pub fn new() -> FaultRules {
        FaultRules { next_id: AtomicU64::new(1), ..FaultRules::default() }
    }

    /// Adds a checked rule; answers it as GET shows it.
    pub fn add(&self, rule: CheckedRule, now: DateTime<Utc>) -> Value {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let active =
            ActiveRule { id, rng: fastrand::Rng::with_seed(rule.seed), rule, hits: 0, retired: false, created: now };
        let shown = active.shown();
        self.lock().push(active);
        self.active.fetch_add(1, Ordering::AcqRel);
        shown
    }

    /// Counts hits with `counter` from now on (a shared store's); the first wins.
    pub fn count_hits_with(&self, counter: HitCounter) {
        let _ = self.counter.set(counter);
    }

    /// The rules as a shared store keeps them.
    pub fn shared(&self) -> Vec<SharedRule> {
        self.lock().iter().map(|r| SharedRule { id: r.id, created: r.created, rule: r.rule.shown.clone() }).collect()
    }

    /// Takes on the rules a shared store holds: new ones are added, missing ones go, the others
    /// keep their hits. Hits counted elsewhere arrive with [`FaultRules::set_hits`].
    pub fn follow(&self, shared: Vec<SharedRule>) {
        let mut rules = self.lock();
        let mut kept: Vec<ActiveRule> = Vec::with_capacity(shared.len());
        for s in shared {
            if let Some(at) = rules.iter().position(|r| r.id == s.id) {
                kept.push(rules.swap_remove(at));
                continue;
            }
            match rule::check(s.rule) {
                Ok(rule) => kept.push(ActiveRule {
                    id: s.id,
                    rng: fastrand::Rng::with_seed(rule.seed),
                    rule,
                    hits: 0,
                    retired: false,
                    created: s.created,
                }),
                Err(e) => tracing::warn!(rule = s.id, error = %e, "a shared fault rule this node cannot take"),
            }
        }
        *rules = kept;
        let next = rules.iter().map(|r| r.id + 1).max().unwrap_or(1);
        self.next_id.fetch_max(next, Ordering::AcqRel);
        self.active.store(rules.iter().filter(|r| !r.retired).count(), Ordering::Release);
    }

    /// Hits counted where the store keeps them, by rule id (a shared store's list).
    pub fn set_hits(&self, hits: &std::collections::HashMap<u64, u64>) {
        let mut rules = self.lock();
        for r in rules.iter_mut() {
            let Some(count) = hits.get(&r.id) else { continue };
            r.hits = r.hits.max(*count);
            if !r.retired && r.rule.times.is_some_and(|t| r.hits >= t) {
                r.retired = true;
                self.active.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }

    pub fn list(&self) -> Vec<Value> {
        self.lock().iter().map(ActiveRule::shown).collect()
    }

    pub fn get(&self, id: &str) -> Option<Value> {
        self.lock().iter().find(|r| r.id.to_string() == id).map(ActiveRule::shown)
    }

    /// Removes one rule; `false` if there is none with that id.
    pub fn remove(&self, id: &str) -> bool {
        let mut rules = self.lock();
        let Some(at) = rules.iter().position(|r| r.id.to_string() == id) else {
            return false;
        };
        if !rules.remove(at).retired {
            self.active.fetch_sub(1, Ordering::AcqRel);
        }
        true
    }

    pub fn clear(&self) {
        let mut rules = self.lock();
        rules.clear();
        self.active.store(0, Ordering::Release);
    }

    /// Matches a request against the rules: fires the request-level ones (the first error or
    /// dropped connection, the first latency) and collects the ones that act on its work.
    /// Whether any rule may act on a request.
    pub fn any_active(&self) -> bool {
        self.active.load(Ordering::Acquire) != 0
    }

    pub fn on_request(self: &std::sync::Arc<Self>, facts: &RequestFacts) -> RequestFaults {
        let mut out = RequestFaults::default();
        if self.active.load(Ordering::Acquire) == 0 {
            return out;
        }
        let mut rules = self.lock();
        for r in rules.iter_mut().filter(|r| !r.retired && r.rule.matcher.holds(facts)) {
            match &r.rule.action {
                Action::Error(_) | Action::DropConnection if out.error.is_some() || out.drop_connection => {}
                Action::Latency(_) if out.latency.is_some() => {}
                Action::FailOperation(_) | Action::FailStep(_) => out.deferred.candidates.push(r.id),
                action => {
                    let action = action.clone();
                    if self.fire(r) {
                        match action {
                            Action::Error(e) => out.error = Some(e),
                            Action::DropConnection => out.drop_connection = true,
                            Action::Latency(d) => out.latency = Some(d),
                            Action::FailOperation(_) | Action::FailStep(_) => {}
                        }
                    }
                }
            }
        }
        if !out.deferred.candidates.is_empty() {
            out.deferred.rules = Some(self.clone());
        }
        out
    }

    /// Fires the first candidate that `pick` accepts and whose chance comes up.
    fn fire_first<T>(&self, candidates: &[u64], pick: impl Fn(&CheckedRule) -> Option<T>) -> Option<T> {
        let mut rules = self.lock();
        for id in candidates {
            let Some(r) = rules.iter_mut().find(|r| r.id == *id && !r.retired) else { continue };
            if let Some(out) = pick(&r.rule) {
                if self.fire(r) {
                    return Some(out);
                }
            }
        }
        None
    }

    /// Rolls the rule's chance; on a hit, counts it and retires the rule once it has fired
    /// `times` times.
    fn fire(&self, r: &mut ActiveRule) -> bool {
        if let Some(p) = r.rule.probability {
            if r.rng.f64() >= p {
                return false;
            }
        }
        match self.counter.get() {
            Some(count) => match count(r.id, r.rule.times) {
                Some(hits) => r.hits = hits,
                None => {
                    // Its hits were all taken on other nodes.
                    r.retired = true;
                    self.active.fetch_sub(1, Ordering::AcqRel);
                    return false;
                }
            },
            None => r.hits += 1,
        }
        if r.rule.times.is_some_and(|t| r.hits >= t) {
            r.retired = true;
            self.active.fetch_sub(1, Ordering::AcqRel);
        }
        true
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<ActiveRule>> {
        self.rules.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn add(rules: &FaultRules, v: Value) -> Value {
        rules.add(check(serde_json::from_value(v).unwrap()).unwrap(), Utc::now())
    }

    fn facts() -> RequestFacts<'static> {
        RequestFacts { method: "GET", path: "/x", resource_id: None, operation: Some("Things_Get"), subscription: None }
    }

    #[test]
    fn a_rule_retires_after_its_times_and_keeps_its_hits() {
        let rules = Arc::new(FaultRules::new());
        let shown = add(
            &rules,
            json!({"match": {"operation": "things_get"}, "action": {"error": {"status": 429}}, "times": 2}),
        );
        let id = shown["id"].as_str().unwrap().to_string();
        assert!(rules.on_request(&facts()).error.is_some());
        assert!(rules.on_request(&facts()).error.is_some());
        assert!(rules.on_request(&facts()).error.is_none());
        let shown = rules.get(&id).unwrap();
        assert_eq!((shown["hits"].as_u64(), shown["active"].as_bool()), (Some(2), Some(false)));
    }

    #[test]
    fn a_seeded_probability_repeats() {
        let run = || {
            let rules = Arc::new(FaultRules::new());
            add(&rules, json!({"action": {"dropConnection": true}, "probability": 0.3, "seed": 7}));
            (0..200).map(|_| rules.on_request(&facts()).drop_connection).collect::<Vec<_>>()
        };
        let first = run();
        assert_eq!(first, run());
        let hits = first.iter().filter(|h| **h).count();
        assert!((30..=90).contains(&hits), "{hits} of 200 at p=0.3");
    }

    #[test]
    fn deferred_rules_fire_only_when_taken() {
        let rules = Arc::new(FaultRules::new());
        let op = add(&rules, json!({"action": {"failOperation": {"code": "Boom"}}}));
        let step = add(&rules, json!({"match": {"step": "Deploy"}, "action": {"failStep": {}}}));
        let faults = rules.on_request(&facts());
        assert!(faults.error.is_none());
        assert_eq!(rules.get(op["id"].as_str().unwrap()).unwrap()["hits"], 0);
        assert!(faults.deferred.take_step_failure(&["Validate".into()]).is_none());
        assert!(faults.deferred.take_step_failure(&["Job/Deploy".into()]).is_some());
        assert_eq!(faults.deferred.take_operation_failure().unwrap().code, "Boom");
        assert!(faults.deferred.take_operation_failure().is_none());
        assert_eq!(rules.get(step["id"].as_str().unwrap()).unwrap()["hits"], 1);
        assert!(rules.on_request(&facts()).deferred.is_empty());
    }
}

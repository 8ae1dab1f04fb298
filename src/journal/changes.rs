//! Change events. Versions come from the store's observer as they are committed; a lifecycle
//! rendered from the time also changes between versions, so each new version's plan (its
//! tracked properties at every moment ahead) is kept and played out as the clock passes.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{ChangeEvent, EventBody, Journal};
use crate::arm::document;
use crate::providers::{Registry, TrackedState};
use crate::store::{StoredResource, VersionChange};

const PROVISIONING_STATE: &str = "/properties/provisioningState";

struct Plan {
    resource_id: Arc<str>,
    resource_type: Arc<str>,
    states: Vec<TrackedState>,
    /// The state last turned into events.
    emitted: usize,
}

#[derive(Default)]
struct Plans {
    by_key: HashMap<String, Plan>,
    /// When each plan's next state is due.
    schedule: BTreeSet<(DateTime<Utc>, String)>,
}

pub struct ChangeTracker {
    registry: Arc<Registry>,
    /// Version changes as committed, with the emulator time of the commit.
    inbox: Mutex<Vec<(DateTime<Utc>, Vec<VersionChange>)>>,
    plans: Mutex<Plans>,
}

impl ChangeTracker {
    pub fn new(registry: Arc<Registry>) -> ChangeTracker {
        ChangeTracker { registry, inbox: Mutex::default(), plans: Mutex::default() }
    }

    /// Called by the store's observer, under its write lock: only queues.
    pub fn push(&self, at: DateTime<Utc>, versions: Vec<VersionChange>) {
        if !versions.is_empty() {
            self.inbox.lock().unwrap_or_else(|e| e.into_inner()).push((at, versions));
        }
    }

    /// Records every change up to `now`: queued versions in commit order, and planned lifecycle
    /// states as they fall due.
    pub fn catch_up(&self, journal: &Journal, now: DateTime<Utc>) {
        let mut plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
        let inbox = std::mem::take(&mut *self.inbox.lock().unwrap_or_else(|e| e.into_inner()));
        let mut out = Vec::new();
        for (at, versions) in inbox {
            self.play_until(&mut plans, &mut out, at);
            for change in versions {
                self.on_version(&mut plans, &mut out, at, change);
            }
        }
        self.play_until(&mut plans, &mut out, now);
        journal.record_all(out);
    }

    /// Plans the lifecycles of resources loaded from the store, so that their changes are
    /// recorded from `now` on.
    pub fn seed<'a>(&self, resources: impl Iterator<Item = &'a Arc<StoredResource>>, now: DateTime<Utc>) {
        let mut plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
        for resource in resources.filter(|r| r.due.is_some() && r.sim.is_some()) {
            let states = self.states(resource, now);
            if let Some(next) = states.get(1) {
                let key = resource.key();
                plans.schedule.insert((next.at, key.clone()));
                let plan = Plan {
                    resource_id: resource.id.as_str().into(),
                    resource_type: self.type_name(resource),
                    states,
                    emitted: 0,
                };
                plans.by_key.insert(key, plan);
            }
        }
    }

    /// Forgets every plan (the store was cleared).
    pub fn clear(&self) {
        *self.plans.lock().unwrap_or_else(|e| e.into_inner()) = Plans::default();
        self.inbox.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    fn play_until(&self, plans: &mut Plans, out: &mut Events, until: DateTime<Utc>) {
        while let Some((at, key)) = plans.schedule.first().cloned().filter(|(at, _)| *at <= until) {
            plans.schedule.pop_first();
            let Some(plan) = plans.by_key.get_mut(&key) else { continue };
            let (from, to) = (&plan.states[plan.emitted], &plan.states[plan.emitted + 1]);
            record_diff(out, &plan.resource_id, &plan.resource_type, at, Some(from), to);
            plan.emitted += 1;
            match plan.states.get(plan.emitted + 1) {
                Some(next) => {
                    plans.schedule.insert((next.at, key));
                }
                None => {
                    plans.by_key.remove(&key);
                }
            }
        }
    }

    fn on_version(&self, plans: &mut Plans, out: &mut Events, at: DateTime<Utc>, change: VersionChange) {
        let Some(subject) = change.new.as_ref().or(change.old.as_ref()) else { return };
        let key = subject.key();
        let resource_type = self.type_name(subject);
        let resource_id: Arc<str> = subject.id.as_str().into();
        let from = match plans.by_key.remove(&key) {
            Some(plan) => {
                if let Some(next) = plan.states.get(plan.emitted + 1) {
                    plans.schedule.remove(&(next.at, key.clone()));
                }
                plan.states.into_iter().nth(plan.emitted)
            }
            None => change.old.as_ref().and_then(|old| self.states(old, at).into_iter().next()),
        };
        let Some(new) = change.new else {
            record(out, &resource_id, &resource_type, at, "resource", "present".into(), "absent".into());
            return;
        };
        let states = self.states(&new, at);
        let Some(now) = states.first() else { return };
        if change.old.is_none() {
            record(out, &resource_id, &resource_type, at, "resource", "absent".into(), "present".into());
        }
        record_diff(out, &resource_id, &resource_type, at, from.as_ref(), now);
        if let Some(next) = states.get(1) {
            plans.schedule.insert((next.at, key.clone()));
            plans.by_key.insert(key, Plan { resource_id, resource_type, states, emitted: 0 });
        }
    }

    fn type_name(&self, resource: &StoredResource) -> Arc<str> {
        match self.registry.get(&resource.type_key) {
            Some(p) => p.spec().full_type().into(),
            None => resource.type_key.as_str().into(),
        }
    }

    /// The resource's tracked properties at `at`, then as its lifecycle plans them.
    fn states(&self, resource: &StoredResource, at: DateTime<Utc>) -> Vec<TrackedState> {
        let Some(provider) = self.registry.get(&resource.type_key) else { return Vec::new() };
        let spec = provider.spec();
        if let Some(mut states) = provider.tracked_ahead(resource, at) {
            // The overlays `document::current` puts on a rendered document.
            let overlay = if resource.deleting {
                Some("Deleting")
            } else if resource.failed {
                Some("Failed")
            } else {
                None
            };
            if let Some(state) = overlay {
                for s in &mut states {
                    for (pointer, value) in &mut s.values {
                        if *pointer == PROVISIONING_STATE {
                            *value = Value::from(state);
                        }
                    }
                }
            }
            return states;
        }
        let doc = document::current(&self.registry, resource, at);
        let doc: Value = serde_json::from_slice(&doc).unwrap_or(Value::Null);
        vec![TrackedState::of(spec, &doc, at)]
    }
}

type Events = Vec<(DateTime<Utc>, EventBody)>;

/// `/properties/status` → `properties.status`, made once per pointer.
fn dotted(pointer: &'static str) -> Arc<str> {
    static NAMES: Mutex<Vec<(&'static str, Arc<str>)>> = Mutex::new(Vec::new());
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, name)) = names.iter().find(|(p, _)| std::ptr::eq(*p, pointer) || *p == pointer) {
        return name.clone();
    }
    let name: Arc<str> = pointer.trim_start_matches('/').replace('/', ".").into();
    names.push((pointer, name.clone()));
    name
}

fn record(
    out: &mut Events,
    id: &Arc<str>,
    resource_type: &Arc<str>,
    at: DateTime<Utc>,
    property: &'static str,
    from: Value,
    to: Value,
) {
    let property = if property.starts_with('/') { dotted(property) } else { property.into() };
    out.push((
        at,
        EventBody::Change(ChangeEvent {
            resource_id: id.clone(),
            resource_type: resource_type.clone(),
            property,
            from,
            to,
        }),
    ));
}

fn record_diff(
    out: &mut Events,
    id: &Arc<str>,
    resource_type: &Arc<str>,
    at: DateTime<Utc>,
    from: Option<&TrackedState>,
    to: &TrackedState,
) {
    for (i, (pointer, value)) in to.values.iter().enumerate() {
        let before = from.and_then(|f| f.values.get(i)).map_or(&Value::Null, |(_, v)| v);
        if before != value {
            record(out, id, resource_type, at, pointer, before.clone(), value.clone());
        }
    }
}

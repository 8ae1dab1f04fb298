//! Change events. Versions come from the store's observer as they are committed; a lifecycle
//! rendered from the time also changes between versions, so each new version's plan (its
//! tracked properties at every moment ahead) is kept and played out as the clock passes.
//!
//! Plans are compact, because a store may hold hundreds of thousands of running lifecycles:
//! times as microseconds, values interned as small numbers, the version shared with the store.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use rustc_hash::FxHashMap;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;

use super::{ChangeEvent, EventBody, Journal};
use crate::arm::contract::{Registry, TrackedState};
use crate::arm::document;
use crate::store::{StoredResource, VersionChange};

const PROVISIONING_STATE: &str = "/properties/provisioningState";

/// Tracked values seen so far, each kept once (there are few: states, percentages). Strings and
/// integers are looked up without allocating; other values by their JSON text.
#[derive(Default)]
struct Interner {
    values: Vec<Value>,
    strings: HashMap<String, u32>,
    integers: HashMap<i64, u32>,
    others: HashMap<String, u32>,
}

impl Interner {
    fn id(&mut self, value: &Value) -> u32 {
        let known = match value {
            Value::String(s) => self.strings.get(s.as_str()),
            Value::Number(n) if n.is_i64() => self.integers.get(&n.as_i64().unwrap_or_default()),
            other => self.others.get(&other.to_string()),
        };
        if let Some(id) = known {
            return *id;
        }
        let id = self.values.len() as u32;
        self.values.push(value.clone());
        match value {
            Value::String(s) => self.strings.insert(s.clone(), id),
            Value::Number(n) if n.is_i64() => self.integers.insert(n.as_i64().unwrap_or_default(), id),
            other => self.others.insert(other.to_string(), id),
        };
        id
    }

    fn value(&self, id: u32) -> Value {
        self.values.get(id as usize).cloned().unwrap_or(Value::Null)
    }
}

/// What the events of one resource type share: the type as documents spell it and the dotted
/// names of its tracked properties, made once rather than per event.
struct Kind {
    pointers: &'static [&'static str],
    resource_type: Arc<str>,
    properties: Box<[Arc<str>]>,
}

/// A version's tracked properties over time, interned.
struct Plan {
    version: Arc<StoredResource>,
    kind: Arc<Kind>,
    /// When each state begins, in microseconds since the epoch.
    times: Box<[i64]>,
    /// `pointers.len()` values per state.
    values: Box<[u32]>,
    /// The state last turned into events.
    emitted: usize,
}

impl Plan {
    fn state(&self, i: usize) -> &[u32] {
        let n = self.kind.pointers.len();
        &self.values[i * n..(i + 1) * n]
    }
}

/// One moment's tracked values, interned.
struct Snapshot {
    pointers: &'static [&'static str],
    values: Vec<u32>,
}

#[derive(Default)]
struct Plans {
    /// By the resource's row id, which stays the same across its versions. (Row ids are the
    /// store's own numbers, so a fast hasher is safe.)
    by_rid: FxHashMap<u64, Plan>,
    /// The state last recorded of a resource whose lifecycle runs without a plan ahead (or
    /// whose plan has played out): what its next version is compared with.
    last: FxHashMap<u64, Snapshot>,
    /// When each plan's next state is due.
    schedule: BTreeSet<(i64, u64)>,
    interner: Interner,
    /// By type key.
    kinds: HashMap<String, Arc<Kind>>,
}

pub struct ChangeTracker {
    registry: Arc<Registry>,
    /// Version changes as committed, with the emulator time of the commit.
    inbox: Mutex<Vec<(DateTime<Utc>, Vec<Pending>)>>,
    plans: Mutex<Plans>,
}

/// A committed version change waiting for the tracker. The old version is kept only when its
/// state is not known from a plan or from `Plans::last`: a clock advance that steps many
/// lifecycles must not keep every replaced version alive until it is looked at.
struct Pending {
    old: Option<Arc<StoredResource>>,
    existed: bool,
    new: Option<Arc<StoredResource>>,
}

impl Pending {
    fn of(change: VersionChange) -> Pending {
        let existed = change.old.is_some();
        let known = |old: &Arc<StoredResource>| old.due.is_some() && old.sim.is_some();
        let old = change.old.filter(|old| change.new.is_none() || !known(old));
        Pending { old, existed, new: change.new }
    }
}

fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

fn time_of(micros: i64) -> DateTime<Utc> {
    Utc.timestamp_micros(micros).single().unwrap_or_default()
}

/// Events on their way into the journal, recorded a batch at a time, so that a clock advance
/// running many lifecycles never holds all their events at once.
struct Events<'a> {
    journal: &'a Journal,
    batch: Vec<(DateTime<Utc>, EventBody)>,
}

impl Events<'_> {
    /// Small enough that the batch and the events it evicts stay in the allocator's ordinary
    /// size classes (a batch of thousands took fresh, zeroed pages each time); one buffer is
    /// reused across flushes.
    const BATCH: usize = 256;

    fn push(&mut self, at: DateTime<Utc>, body: EventBody) {
        self.batch.push((at, body));
        if self.batch.len() >= Self::BATCH {
            self.flush();
        }
    }

    fn flush(&mut self) {
        self.journal.record_all(self.batch.drain(..));
    }
}

impl ChangeTracker {
    pub fn new(registry: Arc<Registry>) -> ChangeTracker {
        ChangeTracker { registry, inbox: Mutex::default(), plans: Mutex::default() }
    }

    /// Called by the store's observer, under its write lock: only queues.
    pub fn push(&self, at: DateTime<Utc>, versions: Vec<VersionChange>) {
        if !versions.is_empty() {
            let pending = versions.into_iter().map(Pending::of).collect();
            self.inbox.lock().unwrap_or_else(|e| e.into_inner()).push((at, pending));
        }
    }

    /// Records every change up to `now`: queued versions in commit order, and planned lifecycle
    /// states as they fall due.
    pub fn catch_up(&self, journal: &Journal, now: DateTime<Utc>) {
        let mut plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
        let inbox = std::mem::take(&mut *self.inbox.lock().unwrap_or_else(|e| e.into_inner()));
        let mut out = Events { journal, batch: Vec::new() };
        for (at, versions) in inbox {
            self.play_until(&mut plans, &mut out, at);
            for change in versions {
                self.on_version(&mut plans, &mut out, at, change);
            }
        }
        self.play_until(&mut plans, &mut out, now);
        out.flush();
    }

    /// Plans the lifecycles of resources loaded from the store, so that their changes are
    /// recorded from `now` on.
    pub fn seed<'a>(&self, resources: impl Iterator<Item = &'a Arc<StoredResource>>, now: DateTime<Utc>) {
        let mut plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
        for resource in resources.filter(|r| r.due.is_some() && r.sim.is_some()) {
            let states = self.states(resource, now);
            let Some(first) = states.first() else { continue };
            let kind = self.kind(&mut plans, resource);
            let now = snapshot(&mut plans.interner, kind.pointers, first);
            if !self.plan(&mut plans, resource.clone(), kind, states) {
                plans.last.insert(resource.rid, now);
            }
        }
    }

    /// Forgets every plan (the store was cleared).
    pub fn clear(&self) {
        let mut plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
        plans.by_rid.clear();
        plans.last.clear();
        plans.schedule.clear();
        self.inbox.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    fn play_until(&self, plans: &mut Plans, out: &mut Events, until: DateTime<Utc>) {
        let until = micros(until);
        while let Some((at, rid)) = plans.schedule.first().copied().filter(|(at, _)| *at <= until) {
            plans.schedule.pop_first();
            let Plans { by_rid, schedule, interner, last, .. } = plans;
            let Some(plan) = by_rid.get_mut(&rid) else { continue };
            let (from, to) = (plan.state(plan.emitted), plan.state(plan.emitted + 1));
            // Made per state rather than kept: hundreds of thousands of plans may wait at once.
            let id = plan.version.id.as_str().into();
            record_diff(out, interner, &id, &plan.kind, time_of(at), Some(from), to);
            plan.emitted += 1;
            match plan.times.get(plan.emitted + 1) {
                Some(next) => {
                    schedule.insert((*next, rid));
                }
                None => {
                    if let Some(plan) = by_rid.remove(&rid) {
                        let values = plan.state(plan.emitted).to_vec();
                        last.insert(rid, Snapshot { pointers: plan.kind.pointers, values });
                    }
                }
            }
        }
    }

    fn on_version(&self, plans: &mut Plans, out: &mut Events, at: DateTime<Utc>, change: Pending) {
        let Some(subject) = change.new.as_ref().or(change.old.as_ref()).cloned() else { return };
        let kind = self.kind(plans, &subject);
        let resource_id: Arc<str> = subject.id.as_str().into();
        let from = match plans.by_rid.remove(&subject.rid) {
            Some(plan) => {
                if let Some(next) = plan.times.get(plan.emitted + 1) {
                    plans.schedule.remove(&(*next, subject.rid));
                }
                Some(Snapshot { pointers: plan.kind.pointers, values: plan.state(plan.emitted).to_vec() })
            }
            None => plans.last.remove(&subject.rid).or_else(|| {
                let old = change.old.as_ref()?;
                let first = self.states(old, at).into_iter().next()?;
                Some(snapshot(&mut plans.interner, self.pointers(old), &first))
            }),
        };
        let Some(new) = change.new else {
            record(out, &resource_id, &kind, at, resource_property(), "present".into(), "absent".into());
            return;
        };
        let states = self.states(&new, at);
        let Some(first) = states.first() else { return };
        if !change.existed {
            record(out, &resource_id, &kind, at, resource_property(), "absent".into(), "present".into());
        }
        let now = snapshot(&mut plans.interner, kind.pointers, first);
        let before = from.filter(|f| std::ptr::eq(f.pointers, now.pointers)).map(|f| f.values);
        record_diff(out, &plans.interner, &resource_id, &kind, at, before.as_deref(), &now.values);
        let (rid, running) = (new.rid, new.due.is_some() && new.sim.is_some());
        if !self.plan(plans, new, kind, states) && running {
            plans.last.insert(rid, now);
        }
    }

    /// Keeps the states after the first (which is now) to be played out; `false` when there
    /// are none.
    fn plan(
        &self,
        plans: &mut Plans,
        version: Arc<StoredResource>,
        kind: Arc<Kind>,
        states: Vec<TrackedState>,
    ) -> bool {
        let Some(next) = states.get(1) else { return false };
        let pointers = kind.pointers;
        let times = states.iter().map(|s| micros(s.at)).collect();
        let values = states
            .iter()
            .flat_map(|s| (0..pointers.len()).map(move |i| s.values.get(i).unwrap_or(&Value::Null)))
            .map(|v| plans.interner.id(v))
            .collect();
        plans.schedule.insert((micros(next.at), version.rid));
        plans.by_rid.insert(version.rid, Plan { version, kind, times, values, emitted: 0 });
        true
    }

    fn pointers(&self, resource: &StoredResource) -> &'static [&'static str] {
        self.registry.get(&resource.type_key).map_or(&[], |p| p.spec().tracked)
    }

    fn kind(&self, plans: &mut Plans, resource: &StoredResource) -> Arc<Kind> {
        if let Some(kind) = plans.kinds.get(&resource.type_key) {
            return kind.clone();
        }
        let pointers = self.pointers(resource);
        let kind = Arc::new(Kind {
            pointers,
            resource_type: self.registry.full_type_of(&resource.type_key).into(),
            properties: pointers.iter().map(|p| Arc::from(p.trim_start_matches('/').replace('/', "."))).collect(),
        });
        plans.kinds.insert(resource.type_key.clone(), kind.clone());
        kind
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
            let at = spec.tracked.iter().position(|p| *p == PROVISIONING_STATE);
            if let (Some(state), Some(at)) = (overlay, at) {
                for s in &mut states {
                    if let Some(value) = s.values.get_mut(at) {
                        *value = Value::from(state);
                    }
                }
            }
            return states;
        }
        let doc = document::current_unkept(&self.registry, resource, at);
        let doc: Value = serde_json::from_slice(&doc).unwrap_or(Value::Null);
        vec![TrackedState::of(spec, &doc, at)]
    }
}

fn snapshot(interner: &mut Interner, pointers: &'static [&'static str], state: &TrackedState) -> Snapshot {
    Snapshot { pointers, values: state.values.iter().map(|v| interner.id(v)).collect() }
}

/// The property of creation and deletion events.
fn resource_property() -> Arc<str> {
    static RESOURCE: std::sync::LazyLock<Arc<str>> = std::sync::LazyLock::new(|| Arc::from("resource"));
    RESOURCE.clone()
}

fn record(out: &mut Events, id: &Arc<str>, kind: &Kind, at: DateTime<Utc>, property: Arc<str>, from: Value, to: Value) {
    out.push(
        at,
        EventBody::Change(ChangeEvent {
            resource_id: id.clone(),
            resource_type: kind.resource_type.clone(),
            property,
            from,
            to,
        }),
    );
}

fn record_diff(
    out: &mut Events,
    interner: &Interner,
    id: &Arc<str>,
    kind: &Kind,
    at: DateTime<Utc>,
    from: Option<&[u32]>,
    to: &[u32],
) {
    for (i, (property, value)) in kind.properties.iter().zip(to).enumerate() {
        let before = from.and_then(|f| f.get(i)).copied();
        if before != Some(*value) {
            let before = before.map_or(Value::Null, |b| interner.value(b));
            let after = interner.value(*value);
            if before != after {
                record(out, id, kind, at, property.clone(), before, after);
            }
        }
    }
}

//! The in-memory picture every read is served from.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::record::{OperationRecord, StoredResource};

/// What the simulation engine has to wake up for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimerTarget {
    Resource(String),
    Operation(Arc<str>),
    /// A finished operation whose retention has run out.
    OperationExpiry(Arc<str>),
}

impl TimerTarget {
    /// Its place among timers due at the same time: by kind, then by row id. Row ids compare
    /// in one instruction where keys sharing a long prefix would compare byte by byte.
    fn slot(&self, row: u64) -> TimerSlot {
        let kind = match self {
            TimerTarget::Resource(_) => TimerSlot::RESOURCE,
            TimerTarget::Operation(_) => TimerSlot::OPERATION,
            TimerTarget::OperationExpiry(_) => TimerSlot::OPERATION_EXPIRY,
        };
        TimerSlot { kind, row }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct TimerSlot {
    kind: u8,
    row: u64,
}

impl TimerSlot {
    const RESOURCE: u8 = 0;
    const OPERATION: u8 = 1;
    const OPERATION_EXPIRY: u8 = 2;
}

pub struct State {
    resources: BTreeMap<String, Arc<StoredResource>>,
    operations: HashMap<Arc<str>, Arc<OperationRecord>>,
    timers: Timers,
    /// How long a finished operation stays readable.
    retention: chrono::Duration,
    next_rid: u64,
    next_oid: u64,
}

impl Default for State {
    fn default() -> State {
        State::new(chrono::Duration::days(1))
    }
}

/// How a transaction reaches the disk.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Persist {
    /// Written before it is acknowledged; readers of what it wrote wait for the commit.
    #[default]
    Durable,
    /// Derived from what is already durable (a deterministic lifecycle step): written to save
    /// replaying it after a restart, but nobody waits for it, and its versions keep the
    /// write they depend on.
    Checkpoint,
    /// Derived, and cheap to replay: kept in memory only. Must not change a body.
    MemoryOnly,
}

/// A set of changes applied atomically to memory and to disk.
#[derive(Default, Debug, Clone)]
pub struct Txn {
    pub put_resources: Vec<StoredResource>,
    pub delete_resources: Vec<String>,
    pub put_operations: Vec<OperationRecord>,
    pub delete_operations: Vec<Arc<str>>,
    pub persist: Persist,
}

impl Txn {
    pub fn is_empty(&self) -> bool {
        self.put_resources.is_empty()
            && self.delete_resources.is_empty()
            && self.put_operations.is_empty()
            && self.delete_operations.is_empty()
    }

    pub fn put(&mut self, resource: StoredResource) {
        self.put_resources.push(resource);
    }

    pub fn delete(&mut self, key: String) {
        self.delete_resources.push(key);
    }

    pub fn put_operation(&mut self, op: OperationRecord) {
        self.put_operations.push(op);
    }

    pub fn delete_operation(&mut self, id: Arc<str>) {
        self.delete_operations.push(id);
    }

    /// Adds `other`'s changes; how the whole reaches the disk stays this one's to say.
    pub fn extend(&mut self, other: Txn) {
        self.put_resources.extend(other.put_resources);
        self.delete_resources.extend(other.delete_resources);
        self.put_operations.extend(other.put_operations);
        self.delete_operations.extend(other.delete_operations);
    }
}

/// What one resource change writes to disk.
#[derive(Debug, Clone)]
pub enum ResourceWrite {
    /// The whole row.
    Put(Arc<StoredResource>),
    /// Only the lifecycle fields: the body on disk is already this version's.
    Meta(Arc<StoredResource>),
    /// The version deleted.
    Delete(Arc<StoredResource>),
}

#[derive(Debug, Clone)]
pub enum OperationWrite {
    Put(Arc<OperationRecord>),
    /// The record deleted.
    Delete(Arc<OperationRecord>),
}

/// The durable form of an applied transaction, in the order it was applied.
#[derive(Default, Debug)]
pub struct AppliedChanges {
    /// The write's number for durability tracking; 0 for a checkpoint nobody waits for.
    pub seq: u64,
    pub resources: Vec<ResourceWrite>,
    pub operations: Vec<OperationWrite>,
    /// Each resource's version before and after, for the store's observer; taken out before
    /// the changes go to the writer.
    pub versions: Vec<VersionChange>,
    /// What a durable write replaced, to put back if it cannot be committed; taken out before
    /// the changes go to the writer.
    pub undo: Option<Undo>,
}

/// The records a durable write replaced (`None`: absent before), in the order it wrote them.
#[derive(Debug, Default)]
pub struct Undo {
    resources: Vec<(String, Option<Arc<StoredResource>>)>,
    operations: Vec<(Arc<str>, Option<Arc<OperationRecord>>)>,
}

/// One resource's version before and after a commit (`None`: absent).
#[derive(Debug, Clone)]
pub struct VersionChange {
    pub old: Option<Arc<StoredResource>>,
    pub new: Option<Arc<StoredResource>>,
}

/// A timer as the schedule keeps it.
fn timer(at: DateTime<Utc>, row: u64, target: TimerTarget) -> ((DateTime<Utc>, TimerSlot), TimerTarget) {
    ((at, target.slot(row)), target)
}

type Timers = BTreeMap<(DateTime<Utc>, TimerSlot), TimerTarget>;

fn schedule(timers: &mut Timers, at: DateTime<Utc>, row: u64, target: TimerTarget) {
    let (key, target) = timer(at, row, target);
    timers.insert(key, target);
}

fn unschedule_resource(timers: &mut Timers, old: &StoredResource) {
    if let Some(due) = old.due {
        timers.remove(&(due, TimerSlot { kind: TimerSlot::RESOURCE, row: old.rid }));
    }
}

impl State {
    pub fn new(retention: chrono::Duration) -> State {
        State {
            resources: BTreeMap::new(),
            operations: HashMap::new(),
            timers: BTreeMap::new(),
            retention,
            next_rid: 1,
            next_oid: 1,
        }
    }

    pub fn resource(&self, key: &str) -> Option<&Arc<StoredResource>> {
        self.resources.get(key)
    }

    pub fn operation(&self, id: &str) -> Option<&Arc<OperationRecord>> {
        self.operations.get(id)
    }

    pub fn resource_count(&self) -> usize {
        self.resources.len()
    }

    pub fn operation_count(&self) -> usize {
        self.operations.len()
    }

    pub fn retention(&self) -> chrono::Duration {
        self.retention
    }

    /// Every resource, in key order.
    pub fn resources(&self) -> impl Iterator<Item = &Arc<StoredResource>> {
        self.resources.values()
    }

    /// The resources whose key (lower-case id) sorts after `after`, in key order.
    pub fn resources_after<'a>(&'a self, after: Option<&str>) -> impl Iterator<Item = &'a Arc<StoredResource>> + 'a {
        use std::ops::Bound;
        let start = after.map_or(Bound::Unbounded, |key| Bound::Excluded(key.to_ascii_lowercase()));
        self.resources.range::<String, _>((start, Bound::Unbounded)).map(|(_, r)| r)
    }

    /// Every operation still kept, in no particular order.
    pub fn operations(&self) -> impl Iterator<Item = &Arc<OperationRecord>> {
        self.operations.values()
    }

    /// The subscriptions that hold resources, as their ids are spelled: one ordered seek per
    /// subscription, not a walk over every resource.
    pub fn subscription_ids(&self) -> Vec<String> {
        const PREFIX: &str = "/subscriptions/";
        let mut ids = Vec::new();
        let mut from = PREFIX.to_string();
        while let Some((key, resource)) = self.resources.range(from.clone()..).next() {
            let Some(rest) = key.strip_prefix(PREFIX) else { break };
            let length = rest.find('/').unwrap_or(rest.len());
            ids.push(resource.id[PREFIX.len()..PREFIX.len() + length].to_string());
            // Every key under `{subscription}/` sorts before `{subscription}0`.
            from = format!("{PREFIX}{}0", &rest[..length]);
        }
        ids
    }

    /// Resources whose lower-case key starts with `prefix`, in key order.
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a Arc<StoredResource>> + 'a {
        self.resources.range(prefix.to_string()..).take_while(move |(k, _)| k.starts_with(prefix)).map(|(_, v)| v)
    }

    /// Direct children of `parent_key` reached through `segment` (lower-case, e.g.
    /// `/jobs/` or `/providers/microsoft.azurestackhci/edgedevices/`), of one type.
    pub fn children<'a>(
        &'a self,
        parent_key: &str,
        segment: &str,
        type_key: &'a str,
    ) -> impl Iterator<Item = &'a Arc<StoredResource>> + 'a {
        let prefix = format!("{parent_key}{segment}");
        let skip = prefix.len();
        self.resources
            .range(prefix.clone()..)
            .take_while(move |(k, _)| k.starts_with(&prefix))
            .filter(move |(k, r)| !k[skip..].contains('/') && r.type_key == type_key)
            .map(|(_, v)| v)
    }

    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.timers.first_key_value().map(|((at, _), _)| *at)
    }

    /// At most `limit` timers due at or before `now`, earliest first.
    pub fn due_timers(&self, now: DateTime<Utc>, limit: usize) -> Vec<(DateTime<Utc>, TimerTarget)> {
        self.timers
            .iter()
            .take_while(|((at, _), _)| *at <= now)
            .take(limit)
            .map(|((at, _), t)| (*at, t.clone()))
            .collect()
    }

    /// Like [`State::due_timers`], for the timers `mine` accepts (those of this node's leases).
    pub fn due_timers_where(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        mine: impl Fn(&TimerTarget) -> bool,
    ) -> Vec<(DateTime<Utc>, TimerTarget)> {
        self.timers
            .iter()
            .take_while(|((at, _), _)| *at <= now)
            .filter(|(_, t)| mine(t))
            .take(limit)
            .map(|((at, _), t)| (*at, t.clone()))
            .collect()
    }

    /// When the earliest timer `mine` accepts is due. Looks at a bounded number of timers: past
    /// them it answers the last one's time, to look again then.
    pub fn next_due_where(&self, mine: impl Fn(&TimerTarget) -> bool) -> Option<DateTime<Utc>> {
        const LOOK_AT_MOST: usize = 4096;
        self.timers
            .iter()
            .enumerate()
            .find(|(i, (_, target))| mine(target) || i + 1 == LOOK_AT_MOST)
            .map(|(_, ((at, _), _))| *at)
    }

    /// The earliest timer, if it is due at or before `limit`.
    pub fn first_timer_until(&self, limit: DateTime<Utc>) -> Option<(DateTime<Utc>, TimerTarget)> {
        self.timers.first_key_value().filter(|((at, _), _)| *at <= limit).map(|((at, _), t)| (*at, t.clone()))
    }

    /// When a finished operation expires.
    pub fn expiry_of(&self, op: &OperationRecord) -> Option<DateTime<Utc>> {
        op.end_time.filter(|_| op.status.is_terminal()).map(|end| end + self.retention)
    }

    /// Applies `txn`. Durable writes stamp every version they make with `seq`; derived ones keep
    /// the write each version depends on.
    pub fn apply(&mut self, txn: Txn, seq: u64) -> AppliedChanges {
        let durable = txn.persist == Persist::Durable;
        let mut applied = AppliedChanges { seq: if durable { seq } else { 0 }, ..AppliedChanges::default() };
        let mut undo = durable.then(Undo::default);
        for key in txn.delete_resources {
            if let Some(old) = self.resources.remove(&key) {
                if let Some(undo) = &mut undo {
                    undo.resources.push((key.clone(), Some(old.clone())));
                }
                unschedule_resource(&mut self.timers, &old);
                applied.resources.push(ResourceWrite::Delete(old.clone()));
                applied.versions.push(VersionChange { old: Some(old), new: None });
            }
        }
        for mut resource in txn.put_resources {
            if durable {
                resource.seq = seq;
            }
            // One walk of the map finds the old version and places the new one.
            let slot = self.resources.entry(resource.key());
            let old = match &slot {
                Entry::Occupied(current) => Some(current.get().clone()),
                Entry::Vacant(_) => None,
            };
            if let Some(old) = &old {
                unschedule_resource(&mut self.timers, old);
            }
            resource.rid = match &old {
                Some(old) => old.rid,
                None => {
                    self.next_rid += 1;
                    self.next_rid - 1
                }
            };
            if let Some(due) = resource.due {
                schedule(&mut self.timers, due, resource.rid, TimerTarget::Resource(slot.key().clone()));
            }
            if let Some(undo) = &mut undo {
                undo.resources.push((slot.key().clone(), old.clone()));
            }
            let same_body = old.as_ref().is_some_and(|o| o.body.same(&resource.body));
            let resource = Arc::new(resource);
            match slot {
                Entry::Occupied(mut current) => {
                    current.insert(resource.clone());
                }
                Entry::Vacant(vacant) => {
                    vacant.insert(resource.clone());
                }
            }
            applied.versions.push(VersionChange { old, new: Some(resource.clone()) });
            applied.resources.push(if same_body {
                ResourceWrite::Meta(resource)
            } else {
                ResourceWrite::Put(resource)
            });
        }
        for mut op in txn.put_operations {
            if durable {
                op.seq = seq;
            }
            let previous = self.operations.get(&op.id).cloned();
            if let Some(undo) = &mut undo {
                undo.operations.push((op.id.clone(), previous.clone()));
            }
            op.oid = match previous {
                Some(old) => {
                    self.unschedule_operation(&old);
                    old.oid
                }
                None => {
                    self.next_oid += 1;
                    self.next_oid - 1
                }
            };
            if let Some(due) = op.due {
                schedule(&mut self.timers, due, op.oid, TimerTarget::Operation(op.id.clone()));
            }
            if let Some(expiry) = self.expiry_of(&op) {
                schedule(&mut self.timers, expiry, op.oid, TimerTarget::OperationExpiry(op.id.clone()));
            }
            let op = Arc::new(op);
            self.operations.insert(op.id.clone(), op.clone());
            applied.operations.push(OperationWrite::Put(op));
        }
        for id in txn.delete_operations {
            if let Some(old) = self.operations.remove(&id) {
                if let Some(undo) = &mut undo {
                    undo.operations.push((id.clone(), Some(old.clone())));
                }
                self.unschedule_operation(&old);
                applied.operations.push(OperationWrite::Delete(old.clone()));
            }
        }
        applied.undo = undo;
        applied
    }

    /// Puts back what a durable write replaced, newest change first; returns the resource
    /// version changes this makes, for the store's observer.
    pub fn restore(&mut self, undo: Undo) -> Vec<VersionChange> {
        let mut versions = Vec::new();
        for (key, previous) in undo.resources.into_iter().rev() {
            let current = self.resources.remove(&key);
            if let Some(current) = &current {
                unschedule_resource(&mut self.timers, current);
            }
            if let Some(previous) = &previous {
                if let Some(due) = previous.due {
                    schedule(&mut self.timers, due, previous.rid, TimerTarget::Resource(key.clone()));
                }
                self.resources.insert(key, previous.clone());
            }
            versions.push(VersionChange { old: current, new: previous });
        }
        for (id, previous) in undo.operations.into_iter().rev() {
            if let Some(current) = self.operations.remove(&id) {
                self.unschedule_operation(&current);
            }
            if let Some(previous) = previous {
                if let Some(due) = previous.due {
                    schedule(&mut self.timers, due, previous.oid, TimerTarget::Operation(id.clone()));
                }
                if let Some(expiry) = self.expiry_of(&previous) {
                    schedule(&mut self.timers, expiry, previous.oid, TimerTarget::OperationExpiry(id.clone()));
                }
                self.operations.insert(id, previous);
            }
        }
        versions
    }

    /// Puts loaded rows in place as they are (row ids included). Resources and operations go
    /// into their maps side by side, on two threads: a restart on a large store waits for the
    /// longer of the two.
    pub fn load(&mut self, resources: Vec<StoredResource>, operations: Vec<OperationRecord>) {
        let retention = self.retention;
        let (resource_map, operation_map) = (&mut self.resources, &mut self.operations);
        let (resource_timers, operation_timers) = std::thread::scope(|scope| {
            let operation_timers = scope.spawn(move || {
                let mut timers = Vec::new();
                let mut next_oid = 0;
                for op in operations {
                    next_oid = next_oid.max(op.oid + 1);
                    if let Some(due) = op.due {
                        timers.push(timer(due, op.oid, TimerTarget::Operation(op.id.clone())));
                    }
                    if let Some(end) = op.end_time.filter(|_| op.status.is_terminal()) {
                        timers.push(timer(end + retention, op.oid, TimerTarget::OperationExpiry(op.id.clone())));
                    }
                    operation_map.insert(op.id.clone(), Arc::new(op));
                }
                (timers, next_oid)
            });
            let mut timers = Vec::new();
            let mut next_rid = 0;
            for resource in resources {
                next_rid = next_rid.max(resource.rid + 1);
                let key = resource.key();
                if let Some(due) = resource.due {
                    timers.push(timer(due, resource.rid, TimerTarget::Resource(key.clone())));
                }
                resource_map.insert(key, Arc::new(resource));
            }
            let operation_timers = operation_timers.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            ((timers, next_rid), operation_timers)
        });
        self.next_rid = self.next_rid.max(resource_timers.1);
        self.next_oid = self.next_oid.max(operation_timers.1);
        self.timers.extend(resource_timers.0);
        self.timers.extend(operation_timers.0);
    }

    /// Puts in place a version another node committed, with the row id it has there.
    pub fn place(&mut self, resource: StoredResource) -> VersionChange {
        let key = resource.key();
        let old = self.resources.remove(&key);
        if let Some(old) = &old {
            unschedule_resource(&mut self.timers, old);
        }
        self.next_rid = self.next_rid.max(resource.rid + 1);
        if let Some(due) = resource.due {
            schedule(&mut self.timers, due, resource.rid, TimerTarget::Resource(key.clone()));
        }
        let new = Arc::new(resource);
        self.resources.insert(key, new.clone());
        VersionChange { old, new: Some(new) }
    }

    /// Removes a resource another node deleted.
    pub fn displace(&mut self, key: &str) -> Option<VersionChange> {
        let old = self.resources.remove(key)?;
        unschedule_resource(&mut self.timers, &old);
        Some(VersionChange { old: Some(old), new: None })
    }

    /// Puts in place an operation another node committed, with its row id there.
    pub fn place_operation(&mut self, op: OperationRecord) {
        if let Some(old) = self.operations.remove(&op.id) {
            self.unschedule_operation(&old);
        }
        self.next_oid = self.next_oid.max(op.oid + 1);
        if let Some(due) = op.due {
            schedule(&mut self.timers, due, op.oid, TimerTarget::Operation(op.id.clone()));
        }
        if let Some(expiry) = self.expiry_of(&op) {
            schedule(&mut self.timers, expiry, op.oid, TimerTarget::OperationExpiry(op.id.clone()));
        }
        self.operations.insert(op.id.clone(), Arc::new(op));
    }

    /// Removes an operation another node deleted.
    pub fn displace_operation(&mut self, id: &str) {
        if let Some(old) = self.operations.remove(id) {
            self.unschedule_operation(&old);
        }
    }

    fn unschedule_operation(&mut self, old: &OperationRecord) {
        if let Some(due) = old.due {
            self.timers.remove(&(due, TimerSlot { kind: TimerSlot::OPERATION, row: old.oid }));
        }
        if let Some(expiry) = self.expiry_of(old) {
            self.timers.remove(&(expiry, TimerSlot { kind: TimerSlot::OPERATION_EXPIRY, row: old.oid }));
        }
    }

    pub fn clear(&mut self) {
        *self = State::new(self.retention);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_due_together_come_in_row_order_and_leave_with_their_version() {
        let mut state = State::new(chrono::Duration::hours(1));
        let at = Utc::now();
        let job = |name: &str, due: Option<DateTime<Utc>>| {
            let id = format!("/subscriptions/s/resourceGroups/g/providers/T/jobs/{name}");
            let mut r = StoredResource::new(id, "t".into(), &serde_json::json!({}), "e".into());
            r.due = due;
            r
        };
        // Created in this order: row ids 0, 1, 2; keys in the reverse order.
        for name in ["c", "b", "a"] {
            state.apply(Txn { put_resources: vec![job(name, Some(at))], ..Txn::default() }, 1);
        }
        let due: Vec<_> = state.due_timers(at, 10).into_iter().map(|(_, t)| t).collect();
        let key = |name: &str| TimerTarget::Resource(job(name, None).key());
        assert_eq!(due, vec![key("c"), key("b"), key("a")]);
        // A new version without a due time takes its old timer away; one due later moves it.
        state.apply(
            Txn {
                put_resources: vec![job("b", None), job("c", Some(at + chrono::Duration::seconds(5)))],
                ..Txn::default()
            },
            2,
        );
        assert_eq!(state.due_timers(at, 10).into_iter().map(|(_, t)| t).collect::<Vec<_>>(), vec![key("a")]);
        state.apply(Txn { delete_resources: vec![job("a", None).key()], ..Txn::default() }, 3);
        assert_eq!(state.next_due(), Some(at + chrono::Duration::seconds(5)));
        assert_eq!(state.first_timer_until(at + chrono::Duration::seconds(5)).map(|(_, t)| t), Some(key("c")));
    }

    #[test]
    fn subscriptions_are_found_once_each_in_their_spelling() {
        let mut state = State::new(chrono::Duration::hours(1));
        let ids = [
            "/subscriptions/AAA/resourceGroups/g",
            "/subscriptions/aaa/resourceGroups/h",
            "/subscriptions/aaa-b/resourceGroups/g",
            "/subscriptions/bbb/resourceGroups/g/providers/Microsoft.Compute/virtualMachineScaleSets/s",
        ];
        let resources =
            ids.iter().map(|id| StoredResource::new(id.to_string(), "t".into(), &serde_json::json!({}), "e".into()));
        state.load(resources.collect(), Vec::new());
        state.load(
            vec![StoredResource::new("partner/publishers/p".into(), "t".into(), &serde_json::json!({}), "e".into())],
            vec![],
        );
        // Key order: `-` sorts before `/`.
        assert_eq!(state.subscription_ids(), vec!["aaa-b", "AAA", "bbb"]);
    }
}

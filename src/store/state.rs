//! The in-memory picture every read is served from.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::record::{OperationRecord, StoredResource};

/// What the simulation engine has to wake up for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimerTarget {
    Resource(String),
    Operation(String),
}

#[derive(Default)]
pub struct State {
    resources: BTreeMap<String, Arc<StoredResource>>,
    operations: HashMap<String, Arc<OperationRecord>>,
    timers: BTreeSet<(DateTime<Utc>, TimerTarget)>,
}

/// One version of a record, compared by identity.
pub enum Version {
    Resource(Option<Arc<StoredResource>>),
    Operation(Option<Arc<OperationRecord>>),
}

impl PartialEq for Version {
    fn eq(&self, other: &Version) -> bool {
        match (self, other) {
            (Version::Resource(a), Version::Resource(b)) => match (a, b) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            },
            (Version::Operation(a), Version::Operation(b)) => match (a, b) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            },
            _ => false,
        }
    }
}

/// A set of changes applied atomically to memory and to disk.
#[derive(Default, Debug, Clone)]
pub struct Txn {
    pub put_resources: Vec<StoredResource>,
    pub delete_resources: Vec<String>,
    pub put_operations: Vec<OperationRecord>,
}

impl Txn {
    pub fn is_empty(&self) -> bool {
        self.put_resources.is_empty() && self.delete_resources.is_empty() && self.put_operations.is_empty()
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

    pub fn extend(&mut self, other: Txn) {
        self.put_resources.extend(other.put_resources);
        self.delete_resources.extend(other.delete_resources);
        self.put_operations.extend(other.put_operations);
    }
}

/// The durable form of an applied transaction, in the order it was applied.
#[derive(Default, Debug)]
pub struct AppliedChanges {
    pub seq: u64,
    pub resources: Vec<(String, Option<Arc<StoredResource>>)>,
    pub operations: Vec<Arc<OperationRecord>>,
}

impl State {
    pub fn resource(&self, key: &str) -> Option<&Arc<StoredResource>> {
        self.resources.get(key)
    }

    pub fn operation(&self, id: &str) -> Option<&Arc<OperationRecord>> {
        self.operations.get(id)
    }

    pub fn resource_count(&self) -> usize {
        self.resources.len()
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

    /// Which version of each resource and operation `txn` touches is current: equal results
    /// mean nothing it was computed from has changed. (Holding the versions keeps them alive,
    /// so a pointer cannot be reused by a newer version meanwhile.)
    pub fn versions_touched(&self, txn: &Txn) -> Vec<Version> {
        let resource = |key: &str| Version::Resource(self.resources.get(key).cloned());
        let operation = |id: &str| Version::Operation(self.operations.get(id).cloned());
        txn.put_resources
            .iter()
            .map(|r| resource(&r.key()))
            .chain(txn.delete_resources.iter().map(|k| resource(k)))
            .chain(txn.put_operations.iter().map(|o| operation(&o.id)))
            .collect()
    }

    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.timers.first().map(|(at, _)| *at)
    }

    /// At most `limit` timers due at or before `now`, earliest first.
    pub fn due_timers(&self, now: DateTime<Utc>, limit: usize) -> Vec<(DateTime<Utc>, TimerTarget)> {
        self.timers.iter().take_while(|(at, _)| *at <= now).take(limit).cloned().collect()
    }

    /// The earliest timer, if it is due at or before `limit`.
    pub fn first_timer_until(&self, limit: DateTime<Utc>) -> Option<(DateTime<Utc>, TimerTarget)> {
        self.timers.first().filter(|(at, _)| *at <= limit).cloned()
    }

    /// Applies `txn`, stamping every version it writes with `seq`.
    pub fn apply(&mut self, txn: Txn, seq: u64) -> AppliedChanges {
        let mut applied = AppliedChanges { seq, ..AppliedChanges::default() };
        for key in txn.delete_resources {
            if let Some(old) = self.resources.remove(&key) {
                self.unschedule_resource(&old);
                applied.resources.push((key, None));
            }
        }
        for mut resource in txn.put_resources {
            resource.seq = seq;
            let key = resource.key();
            if let Some(old) = self.resources.get(&key).cloned() {
                self.unschedule_resource(&old);
            }
            if let Some(due) = resource.due {
                self.timers.insert((due, TimerTarget::Resource(key.clone())));
            }
            let resource = Arc::new(resource);
            self.resources.insert(key.clone(), resource.clone());
            applied.resources.push((key, Some(resource)));
        }
        for mut op in txn.put_operations {
            op.seq = seq;
            if let Some(old) = self.operations.get(&op.id) {
                if let Some(due) = old.due {
                    self.timers.remove(&(due, TimerTarget::Operation(op.id.clone())));
                }
            }
            if let Some(due) = op.due {
                self.timers.insert((due, TimerTarget::Operation(op.id.clone())));
            }
            let op = Arc::new(op);
            self.operations.insert(op.id.clone(), op.clone());
            applied.operations.push(op);
        }
        applied
    }

    fn unschedule_resource(&mut self, old: &StoredResource) {
        if let Some(due) = old.due {
            self.timers.remove(&(due, TimerTarget::Resource(old.key())));
        }
    }

    pub fn clear(&mut self) {
        *self = State::default();
    }
}

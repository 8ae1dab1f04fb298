//! What the engine asks of a simulated resource type, whichever protocol layer serves it: move
//! one resource a step at its due time.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::Clock;
use crate::store::{OperationError, OperationStatus, State, StoredResource, Txn};

pub struct AdvanceCtx<'a> {
    /// When this step was due: the time the step happens at.
    pub at: DateTime<Utc>,
    pub clock: &'a Clock,
    pub state: &'a State,
}

/// What one lifecycle step changes besides the resource itself.
#[derive(Default)]
pub struct Advance {
    pub also: Txn,
    /// Set when provisioning reached a terminal state: the resource's pending operation ends so.
    pub completes: Option<OperationStatus>,
    /// Why provisioning failed, when this step ends it with `Failed`.
    pub failure: Option<OperationError>,
}

pub trait Lifecycle: Send + Sync {
    /// Moves the resource one step at `ctx.at`; must set the next `due` (or `None`). `Err` says
    /// why the stored resource cannot be stepped.
    fn step(&self, resource: &mut StoredResource, ctx: &AdvanceCtx) -> Result<Advance, String>;
}

/// The lifecycles of every simulated type, by store type key.
#[derive(Default)]
pub struct Lifecycles {
    by_key: HashMap<String, Arc<dyn Lifecycle>>,
}

impl Lifecycles {
    pub fn add(&mut self, type_key: impl Into<String>, lifecycle: Arc<dyn Lifecycle>) {
        self.by_key.insert(type_key.into(), lifecycle);
    }

    pub fn get(&self, type_key: &str) -> Option<&Arc<dyn Lifecycle>> {
        self.by_key.get(type_key)
    }
}

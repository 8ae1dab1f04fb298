//! Which resource providers each subscription has registered. Every namespace azemu serves
//! starts `Registered`; `register` and `unregister` move it through `Registering` and
//! `Unregistering` (ending `Unregistered`, as ARM words it) on the emulator clock. Only changed
//! states are kept, as one store setting.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The store setting that keeps them.
pub const SETTING: &str = "provider-registrations";

/// How long a registration or unregistration takes, in emulator seconds at `--speed 1`.
pub const TRANSITION: std::time::Duration = std::time::Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Direction {
    Register,
    Unregister,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Change {
    direction: Direction,
    /// When the transition ends.
    until: DateTime<Utc>,
}

#[derive(Default)]
pub struct Registrations {
    /// By `{subscription}/{namespace}`, lower case.
    changes: Mutex<BTreeMap<String, Change>>,
}

fn key(subscription: &str, namespace: &str) -> String {
    format!("{subscription}/{namespace}").to_ascii_lowercase()
}

impl Registrations {
    /// As kept in the store setting (absent or unreadable: every namespace registered).
    pub fn load(setting: Option<&str>) -> Registrations {
        let changes = setting.and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default();
        Registrations { changes: Mutex::new(changes) }
    }

    fn changes(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Change>> {
        self.changes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `Registered`, `Registering`, `Unregistering` or `NotRegistered` at `now`.
    pub fn state(&self, subscription: &str, namespace: &str, now: DateTime<Utc>) -> &'static str {
        match self.changes().get(&key(subscription, namespace)) {
            None => "Registered",
            Some(Change { direction: Direction::Register, until }) if now < *until => "Registering",
            Some(Change { direction: Direction::Register, .. }) => "Registered",
            Some(Change { direction: Direction::Unregister, until }) if now < *until => "Unregistering",
            Some(Change { direction: Direction::Unregister, .. }) => "Unregistered",
        }
    }

    /// Starts a registration (`register`) or an unregistration, unless the namespace is already
    /// there or on its way; answers the setting's new text when something changed.
    pub fn start(&self, subscription: &str, namespace: &str, register: bool, until: DateTime<Utc>) -> Option<String> {
        let (key, mut changes) = (key(subscription, namespace), self.changes());
        let wanted = if register { Direction::Register } else { Direction::Unregister };
        // With no change kept, a namespace is registered.
        let already = changes.get(&key).map_or(register, |c| c.direction == wanted);
        if already {
            return None;
        }
        changes.insert(key, Change { direction: wanted, until });
        serde_json::to_string(&*changes).ok()
    }

    /// Takes on the setting as another node wrote it.
    pub fn follow(&self, setting: &str) {
        *self.changes() = serde_json::from_str(setting).unwrap_or_default();
    }

    /// Back to every namespace registered (a reset); the setting's new text.
    pub fn clear(&self) -> String {
        self.changes().clear();
        "{}".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_and_unregister_take_their_time() {
        let r = Registrations::load(None);
        let t0 = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().with_timezone(&Utc);
        let later = t0 + chrono::Duration::seconds(2);
        assert_eq!(r.state("S", "Microsoft.Compute", t0), "Registered");
        assert!(r.start("s", "microsoft.compute", true, later).is_none(), "already registered");
        let saved = r.start("s", "Microsoft.Compute", false, later).unwrap();
        assert_eq!(r.state("S", "MICROSOFT.COMPUTE", t0), "Unregistering");
        assert_eq!(r.state("s", "Microsoft.Compute", later), "Unregistered");
        assert_eq!(Registrations::load(Some(&saved)).state("s", "Microsoft.Compute", later), "Unregistered");
        r.start("s", "Microsoft.Compute", true, later + chrono::Duration::seconds(2)).unwrap();
        assert_eq!(r.state("s", "Microsoft.Compute", later), "Registering");
        assert_eq!(r.state("s", "Microsoft.Compute", later + chrono::Duration::seconds(2)), "Registered");
        r.clear();
        assert_eq!(r.state("s", "Microsoft.Compute", t0), "Registered");
    }
}

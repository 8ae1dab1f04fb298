//! Declarative lifecycles: a fixed list of steps, each happening a nominal duration after the
//! one before it. The position in the list is all the state a resource needs to resume.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Clock;

/// Where a resource is in its timeline: the index of the next step to run.
#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Cursor {
    pub next: usize,
}

impl Cursor {
    pub fn from_sim(sim: Option<&Value>) -> Cursor {
        sim.and_then(|v| serde_json::from_value(v.clone()).ok()).unwrap_or_default()
    }

    pub fn to_sim(self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

pub struct Timeline<T> {
    steps: Vec<(Duration, T)>,
}

impl<T> Timeline<T> {
    pub fn new(steps: Vec<(Duration, T)>) -> Timeline<T> {
        Timeline { steps }
    }

    pub fn len(&self) -> usize {
        self.steps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub fn get(&self, index: usize) -> Option<&T> {
        self.steps.get(index).map(|(_, s)| s)
    }

    /// When step `index` is due, counting from `previous` (the time the step before it ran).
    pub fn due(&self, index: usize, previous: DateTime<Utc>, clock: &Clock) -> Option<DateTime<Utc>> {
        self.steps.get(index).map(|(d, _)| previous + clock.scaled(*d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::ClockMode;

    #[test]
    fn steps_are_spaced_by_scaled_durations() {
        let t = Timeline::new(vec![(Duration::from_secs(2), 'a'), (Duration::from_secs(4), 'b')]);
        let clock = Clock::new(ClockMode::Manual, 2.0);
        let start = clock.now();
        assert_eq!(t.due(0, start, &clock), Some(start + chrono::Duration::seconds(1)));
        assert_eq!(t.due(2, start, &clock), None);
        let c = Cursor { next: 1 };
        assert_eq!(Cursor::from_sim(Some(&c.to_sim())), c);
    }
}

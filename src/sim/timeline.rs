//! Declarative lifecycles: a fixed list of steps, each happening a nominal duration after the
//! one before it. The position in the list and the speed the lifecycle runs at are all the state
//! a resource needs to resume.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::clock::scaled;
use super::Clock;

/// Where a resource is in its timeline: the index of the next step to run, and the `--speed`
/// the lifecycle started at (kept, so that a replay after a restart lands on the same times).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Cursor {
    pub next: usize,
    #[serde(default = "unit_speed")]
    pub speed: f64,
}

fn unit_speed() -> f64 {
    1.0
}

impl Cursor {
    pub fn start(clock: &Clock) -> Cursor {
        Cursor { next: 0, speed: clock.speed() }
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
    pub fn due(&self, index: usize, previous: DateTime<Utc>, speed: f64) -> Option<DateTime<Utc>> {
        self.steps.get(index).map(|(d, _)| previous + scaled(*d, speed))
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
        let cursor = Cursor::start(&clock);
        assert_eq!(t.due(0, start, cursor.speed), Some(start + chrono::Duration::seconds(1)));
        assert_eq!(t.due(2, start, cursor.speed), None);
        let json = serde_json::to_string(&Cursor { next: 1, speed: 2.0 }).unwrap();
        assert_eq!(serde_json::from_str::<Cursor>(&json).unwrap(), Cursor { next: 1, speed: 2.0 });
    }
}

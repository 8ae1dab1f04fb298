//! Emulator time: the wall clock, or a manual clock that only moves when told to.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClockMode {
    Real,
    Manual,
}

pub struct Clock {
    mode: ClockMode,
    /// Simulated durations are divided by this.
    speed: f64,
    manual_now: Mutex<DateTime<Utc>>,
}

impl Clock {
    pub fn new(mode: ClockMode, speed: f64) -> Clock {
        Clock { mode, speed, manual_now: Mutex::new(Utc::now()) }
    }

    pub fn mode(&self) -> ClockMode {
        self.mode
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self.mode {
            ClockMode::Real => Utc::now(),
            ClockMode::Manual => *self.manual_now.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Moves a manual clock forward to `to`; never backwards.
    pub fn set_manual(&self, to: DateTime<Utc>) {
        let mut now = self.manual_now.lock().unwrap_or_else(|e| e.into_inner());
        if to > *now {
            *now = to;
        }
    }

    /// A simulated duration as it passes on this clock (`--speed` applied).
    pub fn scaled(&self, nominal: Duration) -> chrono::Duration {
        let scaled = nominal.as_secs_f64() / self.speed;
        chrono::Duration::microseconds((scaled * 1_000_000.0).round() as i64)
    }
}

//! Emulator time: the wall clock, or a manual clock that only moves when told to. Either way it
//! never goes backwards across restarts, because lifecycles are replayed up to it (see
//! [`ClockFloor`]); a manual clock also stays where it stood.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClockMode {
    Real,
    Manual,
}

/// Where emulator time stood when the store was last written, from its settings.
#[derive(Debug, Default, Clone, Copy)]
pub struct ClockFloor {
    /// The manual clock's time, kept while no real clock has run since (a real clock's start
    /// clears it), so it is at or past every time a reader has seen.
    pub manual: Option<DateTime<Utc>>,
    /// How far a real clock ran ahead of the wall clock (after a manual clock went ahead of it).
    pub real_offset: chrono::Duration,
}

pub struct Clock {
    mode: ClockMode,
    /// Simulated durations are divided by this.
    speed: f64,
    manual_now: Mutex<DateTime<Utc>>,
    /// Added to the wall clock in real mode.
    offset: chrono::Duration,
}

/// A simulated duration as it passes at `speed`.
pub fn scaled(nominal: Duration, speed: f64) -> chrono::Duration {
    let scaled = nominal.as_secs_f64() / speed;
    chrono::Duration::microseconds((scaled * 1_000_000.0).round() as i64)
}

impl Clock {
    pub fn new(mode: ClockMode, speed: f64) -> Clock {
        Clock::resuming(mode, speed, ClockFloor::default())
    }

    /// A clock that starts no earlier than `floor`. A manual clock resumes exactly at its kept
    /// time: a restart does not move it on by the wall time that passed.
    pub fn resuming(mode: ClockMode, speed: f64, floor: ClockFloor) -> Clock {
        let wall = Utc::now();
        let floor_time = match (mode, floor.manual) {
            (ClockMode::Manual, Some(kept)) => kept,
            _ => floor.manual.unwrap_or(wall).max(wall + floor.real_offset),
        };
        let (floor_time, offset) = match mode {
            ClockMode::Real => (floor_time, floor_time - wall),
            // Whole microseconds, as the kept setting stores it.
            ClockMode::Manual => (floor_time.trunc_subsecs(6), chrono::Duration::zero()),
        };
        Clock { mode, speed, manual_now: Mutex::new(floor_time), offset }
    }

    pub fn mode(&self) -> ClockMode {
        self.mode
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// How far a real clock runs ahead of the wall clock.
    pub fn offset(&self) -> chrono::Duration {
        self.offset
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self.mode {
            ClockMode::Real => Utc::now() + self.offset,
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
        scaled(nominal, self.speed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resumed_clock_never_starts_before_its_floor() {
        // Kept times are whole microseconds, as the setting stores them.
        let ahead = (Utc::now() + chrono::Duration::hours(2)).trunc_subsecs(6);
        let floor = ClockFloor { manual: Some(ahead), real_offset: chrono::Duration::zero() };
        assert!(Clock::resuming(ClockMode::Manual, 1.0, floor).now() >= ahead);
        let real = Clock::resuming(ClockMode::Real, 1.0, floor);
        assert!(real.now() >= ahead);
        assert!(real.offset() > chrono::Duration::hours(1));
        let kept = (Utc::now() - chrono::Duration::hours(2)).trunc_subsecs(6);
        let behind = ClockFloor { manual: Some(kept), ..floor };
        assert_eq!(Clock::resuming(ClockMode::Manual, 1.0, behind).now(), kept, "a manual clock stays put");
        assert!(Clock::resuming(ClockMode::Real, 1.0, behind).now() > Utc::now() - chrono::Duration::seconds(5));
        let after_real = ClockFloor { manual: None, real_offset: chrono::Duration::hours(1) };
        let manual = Clock::resuming(ClockMode::Manual, 1.0, after_real);
        assert!(manual.now() > Utc::now() + chrono::Duration::minutes(59), "nor behind a real clock's run");
    }
}

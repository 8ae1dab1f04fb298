//! Emulator time: the wall clock, or a manual clock that only moves when told to. Either way it
//! never goes backwards across restarts, because lifecycles are replayed up to it (see
//! [`ClockFloor`]); a manual clock also stays where it stood. A running clock can be paused
//! (it becomes manual where it stands) and resumed, and its speed changed, while azemu runs.

use std::sync::atomic::{AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
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

/// A clock as the nodes of a shared store pass it on (the store setting [`SHARED_CLOCK_SETTING`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedClock {
    pub mode: ClockMode,
    /// Where a manual clock stands (for a running one, where it stood).
    pub time: DateTime<Utc>,
    pub offset_us: i64,
    pub speed: f64,
}

/// The store setting a node writes after changing the clock, for the others to follow.
pub const SHARED_CLOCK_SETTING: &str = "shared_clock";

pub struct Clock {
    /// A [`ClockMode`] as its `u8`.
    mode: AtomicU8,
    /// Simulated durations are divided by this (an `f64`'s bits).
    speed: AtomicU64,
    manual_now: Mutex<DateTime<Utc>>,
    /// Added to the wall clock in real mode, in microseconds.
    offset_us: AtomicI64,
}

impl ClockMode {
    fn from_u8(value: u8) -> ClockMode {
        if value == ClockMode::Manual as u8 {
            ClockMode::Manual
        } else {
            ClockMode::Real
        }
    }
}

/// Whole microseconds, rounded up: an offset kept so must not start a clock before its floor.
fn micros_up(d: chrono::Duration) -> i64 {
    let us = d.num_microseconds().unwrap_or(0);
    if d > chrono::Duration::microseconds(us) {
        us + 1
    } else {
        us
    }
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
        Clock {
            mode: AtomicU8::new(mode as u8),
            speed: AtomicU64::new(speed.to_bits()),
            manual_now: Mutex::new(floor_time),
            offset_us: AtomicI64::new(micros_up(offset)),
        }
    }

    pub fn mode(&self) -> ClockMode {
        ClockMode::from_u8(self.mode.load(Ordering::Acquire))
    }

    pub fn speed(&self) -> f64 {
        f64::from_bits(self.speed.load(Ordering::Relaxed))
    }

    /// How far a real clock runs ahead of the wall clock.
    pub fn offset(&self) -> chrono::Duration {
        chrono::Duration::microseconds(self.offset_us.load(Ordering::Acquire))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self.mode() {
            ClockMode::Real => Utc::now() + self.offset(),
            ClockMode::Manual => *self.manual_now.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Stops a running clock where it stands: from now on it is manual. Returns that time.
    pub fn pause(&self) -> DateTime<Utc> {
        let mut manual = self.manual_now.lock().unwrap_or_else(|e| e.into_inner());
        if self.mode() == ClockMode::Real {
            // Whole microseconds, as the kept setting stores them; never before what a reader saw.
            let now = (Utc::now() + self.offset()).trunc_subsecs(6) + chrono::Duration::microseconds(1);
            *manual = now.max(*manual);
            self.mode.store(ClockMode::Manual as u8, Ordering::Release);
        }
        *manual
    }

    /// Lets a manual clock run on from where it stands, at the wall clock's pace. Returns the
    /// offset from the wall clock it runs at.
    pub fn resume(&self) -> chrono::Duration {
        let manual = self.manual_now.lock().unwrap_or_else(|e| e.into_inner());
        if self.mode() == ClockMode::Manual {
            let offset = *manual - Utc::now();
            self.offset_us.store(micros_up(offset), Ordering::Release);
            self.mode.store(ClockMode::Real as u8, Ordering::Release);
        }
        self.offset()
    }

    /// Simulated durations planned from now on pass at `speed`; work already planned keeps its
    /// times.
    pub fn set_speed(&self, speed: f64) {
        self.speed.store(speed.to_bits(), Ordering::Relaxed);
    }

    /// Moves a manual clock forward to `to`; never backwards.
    pub fn set_manual(&self, to: DateTime<Utc>) {
        let mut now = self.manual_now.lock().unwrap_or_else(|e| e.into_inner());
        if to > *now {
            *now = to;
        }
    }

    /// Where the clock stands, for the other nodes of a shared store to follow.
    pub fn shared(&self) -> SharedClock {
        SharedClock {
            mode: self.mode(),
            time: self.now(),
            offset_us: self.offset_us.load(Ordering::Acquire),
            speed: self.speed(),
        }
    }

    /// Takes on another node's clock: its mode, speed and offset, and a manual clock's time
    /// (never moving this one back).
    pub fn follow(&self, other: &SharedClock) {
        let mut manual = self.manual_now.lock().unwrap_or_else(|e| e.into_inner());
        if other.mode == ClockMode::Manual && other.time > *manual {
            *manual = other.time;
        }
        self.offset_us.store(other.offset_us, Ordering::Release);
        self.speed.store(other.speed.to_bits(), Ordering::Relaxed);
        self.mode.store(other.mode as u8, Ordering::Release);
    }

    /// A simulated duration as it passes on this clock (`--speed` applied).
    pub fn scaled(&self, nominal: Duration) -> chrono::Duration {
        scaled(nominal, self.speed())
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

    #[test]
    fn a_paused_clock_stands_still_and_resumes_from_where_it_stood() {
        let clock = Clock::new(ClockMode::Real, 1.0);
        let seen = clock.now();
        let paused = clock.pause();
        assert_eq!(clock.mode(), ClockMode::Manual);
        assert!(paused > seen, "never before what a reader saw");
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(clock.now(), paused, "a paused clock stands still");
        clock.set_manual(paused + chrono::Duration::hours(1));
        clock.resume();
        assert_eq!(clock.mode(), ClockMode::Real);
        let resumed = clock.now();
        assert!(resumed >= paused + chrono::Duration::hours(1));
        assert!(resumed < paused + chrono::Duration::hours(1) + chrono::Duration::seconds(5));
        clock.set_speed(4.0);
        assert_eq!(clock.scaled(std::time::Duration::from_secs(8)), chrono::Duration::seconds(2));
    }
}

//! Simulated time and the engine that moves lifecycles forward on it.

mod clock;
pub mod engine;
pub mod lifecycle;
pub mod timeline;

pub use clock::{scaled, Clock, ClockFloor, ClockMode, SharedClock, SHARED_CLOCK_SETTING};
pub use engine::Engine;
pub use lifecycle::{Advance, AdvanceCtx, Lifecycle, Lifecycles};

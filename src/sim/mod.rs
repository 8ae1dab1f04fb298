//! Simulated time and the engine that moves lifecycles forward on it.

mod clock;
mod engine;
pub mod timeline;

pub use clock::{Clock, ClockMode};
pub use engine::Engine;

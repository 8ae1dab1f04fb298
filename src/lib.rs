//! azemu: a local, stateful emulator of Azure's long-running-operation APIs.

pub mod app;
pub mod arm;
pub mod cli;
pub mod deployments;
pub mod faults;
pub mod identity;
pub mod journal;
pub mod metrics;
pub mod partner;
pub mod providers;
pub mod server;
pub mod sim;
pub mod store;
pub mod templates;
pub mod watch;

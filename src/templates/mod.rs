//! ARM templates, as a pure layer: parsing and evaluating their expressions (and, as it grows,
//! the template itself and the plan of what a deployment writes). Nothing here does I/O; the
//! deployments provider sends what it plans through the ARM layer like any client's request.

mod builtins;
pub mod context;
pub mod dates;
pub mod evaluate;
pub mod expression;
pub mod fields;
pub mod functions;
pub mod hashes;
pub mod ids;
mod lambdas;
pub mod outputs;
pub mod parameters;
pub mod plan;
mod references;

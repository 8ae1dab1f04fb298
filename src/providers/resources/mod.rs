//! ARM's own resource types (Microsoft.Resources).

pub mod deployments;
pub mod resource_groups;

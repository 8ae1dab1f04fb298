//! ARM's own resource types (Microsoft.Resources).

pub mod resource_groups;

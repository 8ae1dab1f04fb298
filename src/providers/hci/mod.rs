//! Microsoft.AzureStackHCI.

mod cluster_child;
pub mod clusters;
mod device_network;
pub mod edge_device_jobs;
pub mod edge_devices;
mod job_faults;
mod job_lifecycle;
mod job_model;
mod update_actions;
mod update_effects;
mod update_plan;
mod update_run_sim;
pub mod update_runs;
mod update_shapes;
pub mod update_summaries;
pub mod updates;
mod versions;

pub const NAMESPACE: &str = "Microsoft.AzureStackHCI";

/// Edge device and job names: `^[a-zA-Z0-9-]{3,24}$`.
/// 1 to `max` letters, digits, `-`, `_` or `.`, not ending in `.` (clusters, updates, runs).
pub fn dotted_name(name: &str, max: usize) -> bool {
    (1..=max).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !name.ends_with('.')
}

pub fn edge_name_rule(name: &str) -> Result<(), &'static str> {
    let ok = (3..=24).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err("^[a-zA-Z0-9-]{3,24}$")
    }
}

/// The only `kind` these resources have; SDKs match it case-sensitively, so it is stored as is.
pub fn require_hci_kind(kind: Option<&str>) -> Result<(), crate::arm::ArmError> {
    match kind {
        Some("HCI") => Ok(()),
        Some(other) => Err(crate::arm::ArmError::invalid_parameter(
            "kind",
            format!("The value '{other}' of 'kind' is not supported. Supported values: 'HCI'."),
        )),
        None => Err(crate::arm::ArmError::invalid_content(
            "The request content was invalid and could not be deserialized: missing field `kind`.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_spec_pattern() {
        assert!(edge_name_rule("-5M1G7G10OZ-o5b-HS3-c72").is_ok());
        assert!(edge_name_rule("ab").is_err());
        assert!(edge_name_rule(&"a".repeat(25)).is_err());
        assert!(edge_name_rule("has_underscore").is_err());
    }
}

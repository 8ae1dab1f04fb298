//! Microsoft.Compute: virtual machine scale sets and their VMs.

mod instance_view;
mod scale_set_model;
pub mod scale_set_vms;
pub mod scale_sets;
mod vm_power;
mod vm_update;

pub const NAMESPACE: &str = "Microsoft.Compute";

/// Published api-versions whose scale-set shapes match the seed's 2024-07-01: 2023-09-01 (which
/// the Azure CLI sends for some scale-set calls) through 2026-04-01 (azure-mgmt-compute 39).
pub const COMPUTE_API_VERSIONS: &[&str] =
    &["2023-09-01", "2024-03-01", "2024-07-01", "2024-11-01", "2025-04-01", "2026-04-01"];

/// Scale-set names: 1 to 64 letters, digits, `-`, `_` or `.`, starting with a letter or digit
/// and not ending in `.` or `-` (Compute's rule for resource names).
pub fn scale_set_name_rule(name: &str) -> Result<(), &'static str> {
    let ok = (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && !name.ends_with('.')
        && !name.ends_with('-');
    ok.then_some(())
        .ok_or("1-64 letters, digits, '-', '_' or '.', starting with a letter or digit, not ending in '.' or '-'")
}

/// Instance ids are the decimal numbers a set hands out (`0`, `1`, …); any other id names no
/// instance, which Compute answers with 404, so the rule only bounds the length.
pub fn instance_id_rule(name: &str) -> Result<(), &'static str> {
    (1..=64).contains(&name.len()).then_some(()).ok_or("1 to 64 characters")
}

//! Microsoft.Compute: virtual machine scale sets and their VMs, and the catalog of images and sizes.

mod casing;
pub mod catalog;
pub mod disks;
mod flexible;
mod instance_view;
mod keep;
mod model_upgrade;
mod scale_set_model;
pub mod scale_set_vms;
pub mod scale_sets;
mod versions;
pub mod virtual_machines;
mod vm_actions;
mod vm_lifecycle;
mod vm_power;
mod vm_update;

pub const NAMESPACE: &str = "Microsoft.Compute";

/// Compute's rule for resource names, up to `longest` characters: letters, digits, `-`, `_` or
/// `.`, starting with a letter or digit and not ending in `.` or `-`.
fn compute_name(name: &str, longest: usize) -> bool {
    (1..=longest).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && !name.ends_with(['.', '-'])
}

/// Scale-set (and VM) names: Compute's rule, 1 to 64 characters.
pub fn scale_set_name_rule(name: &str) -> Result<(), &'static str> {
    compute_name(name, 64)
        .then_some(())
        .ok_or("1-64 letters, digits, '-', '_' or '.', starting with a letter or digit, not ending in '.' or '-'")
}

/// Disk names: Compute's rule, up to 80 characters (a VM's OS disk name is longer than a VM's).
pub fn disk_name_rule(name: &str) -> Result<(), &'static str> {
    compute_name(name, 80)
        .then_some(())
        .ok_or("1-80 letters, digits, '-', '_' or '.', starting with a letter or digit, not ending in '.' or '-'")
}

/// Instance ids are the decimal numbers a set hands out (`0`, `1`, …); any other id names no
/// instance, which Compute answers with 404, so the rule only bounds the length.
pub fn instance_id_rule(name: &str) -> Result<(), &'static str> {
    (1..=64).contains(&name.len()).then_some(()).ok_or("1 to 64 characters")
}

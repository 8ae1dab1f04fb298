//! Resource providers: one module per resource type, grouped by namespace. Each declares its
//! shape in a `ResourceTypeSpec` and its behaviour through `ResourceProvider`, the contract of
//! the ARM layer (`crate::arm::contract`), which does the rest.

pub mod compute;
pub mod generic;
pub mod hci;
pub mod resources;

use std::sync::Arc;

pub use crate::arm::contract::*;

/// Every provider azemu serves; with `generic`, any other type as a generic resource. New
/// deployments are handed to the orchestrator through `deployments`.
pub fn standard_registry(generic: bool, deployments: Arc<resources::deployments::queue::DeploymentQueue>) -> Registry {
    let mut providers: Vec<Arc<dyn ResourceProvider>> = vec![
        Arc::new(resources::resource_groups::ResourceGroups),
        Arc::new(hci::clusters::Clusters),
        Arc::new(hci::updates::Updates),
        Arc::new(hci::update_runs::UpdateRuns),
        Arc::new(hci::update_summaries::UpdateSummaries),
        Arc::new(hci::edge_devices::EdgeDevices),
        Arc::new(hci::edge_device_jobs::EdgeDeviceJobs),
        Arc::new(compute::scale_sets::ScaleSets),
        Arc::new(compute::scale_set_vms::ScaleSetVms),
        Arc::new(compute::virtual_machines::VirtualMachines),
        Arc::new(compute::disks::Disks),
    ];
    let catalog = Arc::new(resources::deployments::lookups::Catalog::of(&providers));
    providers.push(Arc::new(resources::deployments::Deployments::new(deployments, catalog)));
    providers.push(Arc::new(resources::deployments::DeploymentOperations));
    let registry = Registry::new(providers).with_catalogs(vec![Arc::new(compute::catalog::ComputeCatalog)]);
    match generic {
        true => registry.with_generic(generic::provider),
        false => registry,
    }
}

//! Microsoft.Compute's published api-versions for scale sets and their VMs, and the fields each
//! gained along the way (the spec's "Minimum api-version" of each property).

use crate::providers::{Added, ApiVersions};

/// Every Compute api-version with scale sets, through 2026-04-01 (what azure-mgmt-compute 39
/// and @azure/arm-compute 25 send).
const PUBLISHED: &[&str] = &[
    "2015-06-15",
    "2016-03-30",
    "2016-04-30-preview",
    "2017-03-30",
    "2017-12-01",
    "2018-04-01",
    "2018-06-01",
    "2018-10-01",
    "2019-03-01",
    "2019-07-01",
    "2019-12-01",
    "2020-06-01",
    "2020-12-01",
    "2021-03-01",
    "2021-04-01",
    "2021-07-01",
    "2021-11-01",
    "2022-03-01",
    "2022-08-01",
    "2022-11-01",
    "2023-03-01",
    "2023-07-01",
    "2023-09-01",
    "2024-03-01",
    "2024-07-01",
    "2024-11-01",
    "2025-04-01",
    "2025-11-01",
    "2026-04-01",
];

pub static SCALE_SETS: ApiVersions = ApiVersions {
    published: PUBLISHED,
    added: &[
        Added::since("/properties/virtualMachineProfile/billingProfile", "2019-03-01"),
        Added::since("/properties/virtualMachineProfile/evictionPolicy", "2019-03-01"),
        Added::since("/properties/hostGroup", "2020-06-01"),
        Added::since("/properties/virtualMachineProfile/extensionProfile/extensionsTimeBudget", "2020-06-01"),
        Added::since("/properties/virtualMachineProfile/securityProfile/uefiSettings", "2020-12-01"),
        Added::since("/properties/virtualMachineProfile/userData", "2021-03-01"),
        Added::since("/properties/virtualMachineProfile/capacityReservation", "2021-04-01"),
        Added::since("/properties/timeCreated", "2021-11-01"),
        Added::since("/properties/virtualMachineProfile/hardwareProfile", "2021-11-01"),
        Added::since("/properties/virtualMachineProfile/storageProfile/diskControllerType", "2022-08-01"),
        Added::since("/properties/virtualMachineProfile/serviceArtifactReference", "2022-11-01"),
        Added::since("/properties/virtualMachineProfile/securityPostureReference", "2023-03-01"),
        Added::since("/properties/virtualMachineProfile/timeCreated", "2023-09-01"),
    ],
};

/// What a VM's document gained, standalone or in a set: the two share one model.
const VM_FIELDS: &[Added] = &[
    Added::since("/properties/securityProfile/uefiSettings", "2020-12-01"),
    Added::since("/properties/userData", "2021-03-01"),
    Added::since("/properties/hardwareProfile/vmSizeProperties", "2021-07-01"),
    Added::since("/properties/timeCreated", "2021-11-01"),
    Added::since("/properties/storageProfile/diskControllerType", "2022-08-01"),
];

pub static SCALE_SET_VMS: ApiVersions = ApiVersions { published: PUBLISHED, added: VM_FIELDS };

/// Virtual machines, and the catalog's images and sizes, which Compute versions with them.
pub static VMS: ApiVersions = ApiVersions { published: PUBLISHED, added: VM_FIELDS };

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_added_field_names_a_published_version() {
        for versions in [&SCALE_SETS, &SCALE_SET_VMS, &VMS] {
            for added in versions.added {
                assert!(versions.published.contains(&added.since), "{}", added.since);
            }
        }
    }
}

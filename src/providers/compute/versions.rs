//! Microsoft.Compute's published api-versions for scale sets and their VMs.

use crate::providers::ApiVersions;

/// Every Compute api-version with scale sets, through 2026-04-01 (what azure-mgmt-compute 39
/// and @azure/arm-compute 25 send). Their documents are answered in the newest shape: no field
/// has been told apart per version yet.
pub static COMPUTE: ApiVersions = ApiVersions {
    published: &[
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
    ],
    added: &[],
};

//! Microsoft.AzureStackHCI's published api-versions per type, and the fields each type gained
//! along the way (read from the service's specs of each version; a field is listed from the
//! first version whose spec defines it).

use crate::providers::{Added, ApiVersions};

/// Every version from 2024-09-01-preview on, after the ones a type had before it.
macro_rules! through_today {
    ($($older:literal),* $(,)?) => {
        &[
            $($older,)*
            "2024-09-01-preview",
            "2024-12-01-preview",
            "2025-02-01-preview",
            "2025-09-15-preview",
            "2025-10-01",
            "2025-11-01-preview",
            "2025-12-01-preview",
            "2026-02-01",
            "2026-02-15-preview",
            "2026-03-01-preview",
            "2026-04-01-preview",
            "2026-05-01",
            "2026-05-01-preview",
            // What azure-mgmt-azurestackhci 8.2.0 sends.
            "2026-10-01",
        ]
    };
}

/// Versions with updates, update runs and update summaries before 2024-09-01-preview.
macro_rules! updates_through_today {
    ($($older:literal),* $(,)?) => {
        through_today!(
            $($older,)*
            "2022-10-01",
            "2022-12-01",
            "2022-12-15-preview",
            "2023-02-01",
            "2023-03-01",
            "2023-06-01",
            "2023-08-01",
            "2023-08-01-preview",
            "2023-11-01-preview",
            "2024-01-01",
            "2024-02-15-preview",
            "2024-04-01",
        )
    };
}

pub static CLUSTERS: ApiVersions = ApiVersions {
    published: updates_through_today!(
        "2020-03-01-preview",
        "2020-10-01",
        "2021-01-01-preview",
        "2021-09-01",
        "2021-09-01-preview",
        "2022-01-01",
        "2022-03-01",
        "2022-05-01",
        "2022-09-01",
    ),
    added: &[
        Added::since("/identity", "2022-10-01"),
        Added::since("/properties/softwareAssuranceProperties", "2022-10-01"),
        Added::since("/properties/reportedProperties/nodes/*/nodeType", "2022-10-01"),
        Added::since("/properties/reportedProperties/nodes/*/osDisplayVersion", "2022-10-01"),
        Added::since("/properties/resourceProviderObjectId", "2022-12-01"),
        Added::since("/properties/reportedProperties/supportedCapabilities", "2022-12-01"),
        Added::since("/properties/reportedProperties/nodes/*/ehcResourceId", "2022-12-01"),
        Added::since("/properties/reportedProperties/nodes/*/lastLicensingTimestamp", "2023-02-01"),
        Added::since("/properties/reportedProperties/clusterType", "2023-06-01"),
        Added::since("/properties/reportedProperties/manufacturer", "2023-06-01"),
        Added::since("/properties/reportedProperties/oemActivation", "2023-06-01"),
        Added::since("/properties/reportedProperties/nodes/*/oemActivation", "2023-06-01"),
        Added::since("/properties/connectivityStatus", "2023-08-01"),
        Added::since("/properties/isolatedVmAttestationConfiguration", "2023-08-01"),
        Added::since("/properties/logCollectionProperties", "2024-02-15-preview"),
        Added::since("/properties/remoteSupportProperties", "2024-02-15-preview"),
        Added::since("/properties/identityProvider", "2025-11-01-preview"),
        Added::since("/properties/reportedProperties/hardwareClass", "2025-11-01-preview"),
        Added::since("/properties/ring", "2026-02-01"),
        Added::since("/properties/supportStatus", "2026-02-01"),
        Added::since("/properties/billingProperties", "2026-05-01-preview"),
        Added::since("/properties/storageType", "2026-05-01-preview"),
    ],
};

/// Update runs: their start and last-update times from 2022-12-01, each step's expected
/// execution time from 2024-04-01.
pub static UPDATE_RUNS: ApiVersions = ApiVersions {
    published: updates_through_today!(),
    added: &[
        Added::since("/properties/timeStarted", "2022-12-01"),
        Added::since("/properties/lastUpdatedTime", "2022-12-01"),
        Added::since("/properties/progress/**/expectedExecutionTime", "2024-04-01"),
    ],
};

/// Update summaries: update times and health checks from 2022-12-01, the OEM and SBE versions
/// from 2024-04-01.
pub static UPDATE_SUMMARIES: ApiVersions = ApiVersions {
    published: updates_through_today!(),
    added: &[
        Added::since("/properties/lastUpdated", "2022-12-01"),
        Added::since("/properties/lastChecked", "2022-12-01"),
        Added::since("/properties/healthState", "2022-12-01"),
        Added::since("/properties/healthCheckResult", "2022-12-01"),
        Added::since("/properties/healthCheckDate", "2022-12-01"),
        Added::since("/properties/healthCheckResult/*/displayName", "2023-11-01-preview"),
        Added::since("/properties/currentOemVersion", "2024-04-01"),
        Added::since("/properties/currentSbeVersion", "2024-04-01"),
        Added::since("/properties/healthCheckResult/*/healthCheckTags", "2024-09-01-preview"),
        Added::since("/properties/healthCheckResult/*/targetResourceType", "2024-09-01-preview"),
    ],
};

/// Updates: from 2022-12-01 they report their components, reboot requirement and health checks.
pub static UPDATES: ApiVersions = ApiVersions {
    published: updates_through_today!(),
    added: &[
        Added::since("/properties/componentVersions", "2022-12-01"),
        Added::since("/properties/rebootRequired", "2022-12-01"),
        Added::since("/properties/healthState", "2022-12-01"),
        Added::since("/properties/healthCheckResult", "2022-12-01"),
        Added::since("/properties/healthCheckDate", "2022-12-01"),
        Added::since("/properties/healthCheckResult/*/displayName", "2023-11-01-preview"),
        Added::since("/properties/healthCheckResult/*/healthCheckTags", "2024-09-01-preview"),
        Added::since("/properties/healthCheckResult/*/targetResourceType", "2024-09-01-preview"),
    ],
};

pub static EDGE_DEVICES: ApiVersions = ApiVersions {
    published: through_today!(
        "2023-08-01-preview",
        "2023-11-01-preview",
        "2024-01-01",
        "2024-02-15-preview",
        "2024-04-01",
    ),
    added: &[
        // Before the device kinds, every edge device was what `HCI` names now.
        Added { pointer: "/kind", since: "2024-02-15-preview", implied: Some("HCI") },
        Added::since("/properties/reportedProperties", "2024-02-15-preview"),
        Added::since("/properties/reportedProperties/osProfile/assemblyVersion", "2024-04-01"),
        Added::since("/properties/reportedProperties/networkProfile/nicDetails/*/rdmaCapability", "2024-09-01-preview"),
        Added::since("/properties/reportedProperties/lastSyncTimestamp", "2025-09-15-preview"),
        Added::since("/properties/reportedProperties/networkProfile/sdnProperties", "2026-05-01-preview"),
        Added::since("/properties/reportedProperties/storageProfile", "2026-05-01-preview"),
        Added::since("/properties/reportedProperties/confidentialVmProfile", "2026-05-01-preview"),
    ],
};

pub static EDGE_DEVICE_JOBS: ApiVersions = ApiVersions { published: through_today!(), added: &[] };

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arm::api_version::newest_first;

    #[test]
    fn each_type_lists_its_versions_once() {
        for versions in [&CLUSTERS, &UPDATES, &UPDATE_RUNS, &UPDATE_SUMMARIES, &EDGE_DEVICES, &EDGE_DEVICE_JOBS] {
            assert_eq!(newest_first(versions.published).len(), versions.published.len());
        }
        assert_eq!(CLUSTERS.published.len(), 35);
        assert!(UPDATES.published.contains(&"2022-10-01") && !UPDATES.published.contains(&"2022-05-01"));
        assert!(EDGE_DEVICES.published.contains(&"2024-01-01"));
        assert!(!EDGE_DEVICE_JOBS.published.contains(&"2024-04-01"));
    }

    #[test]
    fn every_added_field_names_a_published_version() {
        for versions in [&CLUSTERS, &UPDATES, &UPDATE_RUNS, &UPDATE_SUMMARIES, &EDGE_DEVICES] {
            for added in versions.added {
                assert!(versions.published.contains(&added.since), "{}", added.since);
            }
        }
    }
}

//! Resource providers as ARM lists them (`GET /subscriptions/{s}/providers[/{ns}]`, the
//! tenant-level `GET /providers[/{ns}]`, and `register` / `unregister`), derived from the type
//! registry: each namespace azemu serves, its types with their locations, api-versions and
//! capabilities.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::super::api_version::newest_first;
use super::super::contract::{Registry, ResourceTypeSpec};
use super::super::dispatch::RESOURCE_GROUPS;
use super::super::regions::REGIONS;
use super::super::ArmError;
use super::SUBSCRIPTION_API_VERSIONS;
use crate::store::OperationUrls;

/// One `resourceTypes` entry.
struct TypeEntry {
    name: String,
    api_versions: Vec<&'static str>,
    locations: bool,
    capabilities: &'static str,
}

impl TypeEntry {
    fn document(&self, aliases: bool) -> Value {
        let locations: Vec<&str> =
            if self.locations { REGIONS.iter().map(|r| r.display_name).collect() } else { Vec::new() };
        let versions = newest_first(&self.api_versions);
        let mut doc = json!({
            "resourceType": self.name,
            "locations": locations,
            "apiVersions": versions,
            "capabilities": self.capabilities,
        });
        if let Some(default) = versions.iter().find(|v| v.len() == 10) {
            doc["defaultApiVersion"] = json!(default);
        }
        if aliases {
            doc["aliases"] = json!([]);
        }
        doc
    }
}

fn entry(name: &str, api_versions: &[&'static str], locations: bool, capabilities: &'static str) -> TypeEntry {
    TypeEntry { name: name.to_string(), api_versions: api_versions.to_vec(), locations, capabilities }
}

fn type_entry(spec: &ResourceTypeSpec) -> TypeEntry {
    let top_level = spec.type_names.len() == 1;
    let capabilities = match (spec.extension, top_level) {
        (true, _) => "SupportsExtension",
        (false, true) => "SupportsTags, SupportsLocation",
        (false, false) => "None",
    };
    entry(&spec.type_names.join("/"), spec.versions.published, !spec.extension, capabilities)
}

/// A served namespace, as the registry has it.
pub(super) struct Namespace {
    pub name: &'static str,
    types: Vec<TypeEntry>,
}

/// Every namespace azemu serves, by lower-case name.
pub(super) fn namespaces(registry: &Registry) -> BTreeMap<String, Namespace> {
    let mut all: BTreeMap<String, Namespace> = BTreeMap::new();
    let mut operation_urls: BTreeMap<String, (OperationUrls, Vec<&'static str>)> = BTreeMap::new();
    for provider in registry.all() {
        let spec = provider.spec();
        let key = spec.namespace.to_ascii_lowercase();
        let namespace = all.entry(key.clone()).or_insert_with(|| Namespace { name: spec.namespace, types: Vec::new() });
        namespace.types.push(type_entry(spec));
        let (_, versions) = operation_urls.entry(key).or_insert_with(|| (spec.operation_urls, Vec::new()));
        versions.extend(spec.versions.published);
    }
    for (key, (urls, mut versions)) in operation_urls {
        versions.sort_unstable();
        versions.dedup();
        let namespace = all.get_mut(&key).expect("made above");
        namespace.types.push(entry("locations", &versions, false, "None"));
        let operations: &[&str] = match urls {
            OperationUrls::Arm => &["locations/operationStatuses", "locations/operationResults"],
            OperationUrls::Compute => &["locations/operations"],
        };
        for name in operations {
            namespace.types.push(entry(name, &versions, true, "None"));
        }
    }
    for catalog in registry.catalogs() {
        let key = catalog.namespace().to_ascii_lowercase();
        let namespace = all.entry(key).or_insert_with(|| Namespace { name: catalog.namespace(), types: Vec::new() });
        for endpoint in catalog.endpoints() {
            if !namespace.types.iter().any(|t| t.name.eq_ignore_ascii_case(endpoint.listed_as)) {
                namespace.types.push(entry(endpoint.listed_as, endpoint.versions.published, true, "None"));
            }
        }
    }
    if let (Some(resources), Some(groups)) = (all.get_mut("microsoft.resources"), registry.get(RESOURCE_GROUPS)) {
        let versions = groups.spec().versions.published;
        for name in ["resources", "subscriptions/resources", "subscriptions/resourceGroups/resources", "tags"] {
            resources.types.push(entry(name, versions, false, "SupportsExtension"));
        }
        for name in ["providers", "subscriptions/providers", "subscriptions/resourceGroups"] {
            resources.types.push(entry(name, versions, false, "None"));
        }
        for name in ["subscriptions", "tenants", "subscriptions/locations"] {
            resources.types.push(entry(name, SUBSCRIPTION_API_VERSIONS, false, "None"));
        }
    }
    all
}

/// The namespace a path names, or ARM's 404.
pub(super) fn find<'a>(namespaces: &'a BTreeMap<String, Namespace>, name: &str) -> Result<&'a Namespace, ArmError> {
    namespaces.get(&name.to_ascii_lowercase()).ok_or_else(|| {
        ArmError::not_found("InvalidResourceNamespace", format!("The resource namespace '{name}' is invalid."))
    })
}

/// A provider's document; `registration` is the subscription and its state there (absent at
/// the tenant level, which has no registration).
pub(super) fn document(namespace: &Namespace, registration: Option<(&str, &str)>, aliases: bool) -> Value {
    let types: Vec<Value> = namespace.types.iter().map(|t| t.document(aliases)).collect();
    match registration {
        Some((subscription, state)) => json!({
            "id": format!("/subscriptions/{subscription}/providers/{}", namespace.name),
            "namespace": namespace.name,
            "registrationState": state,
            "registrationPolicy": "RegistrationRequired",
            "resourceTypes": types,
        }),
        None => json!({
            "id": format!("/providers/{}", namespace.name),
            "namespace": namespace.name,
            "resourceTypes": types,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_type_is_listed_with_its_versions() {
        let registry = crate::providers::standard_registry(false, Default::default());
        let all = namespaces(&registry);
        let compute = document(find(&all, "microsoft.compute").unwrap(), Some(("s", "Registered")), false);
        assert_eq!(compute["namespace"], "Microsoft.Compute");
        let types = compute["resourceTypes"].as_array().unwrap();
        let sets = types.iter().find(|t| t["resourceType"] == "virtualMachineScaleSets").unwrap();
        assert_eq!(sets["capabilities"], "SupportsTags, SupportsLocation");
        assert!(sets["locations"].as_array().unwrap().contains(&json!("West US")));
        let versions: Vec<&str> = sets["apiVersions"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(versions, newest_first(&versions));
        assert_eq!(sets["defaultApiVersion"], versions[0]);
        assert!(types.iter().any(|t| t["resourceType"] == "virtualMachineScaleSets/virtualMachines"));
        assert!(types.iter().any(|t| t["resourceType"] == "locations/operations"));
        let hci = document(find(&all, "Microsoft.AzureStackHCI").unwrap(), None, true);
        let devices = hci["resourceTypes"].as_array().unwrap().iter().find(|t| t["resourceType"] == "edgeDevices");
        assert_eq!(devices.unwrap()["capabilities"], "SupportsExtension");
        assert!(hci.get("registrationState").is_none());
        assert_eq!(
            find(&all, "Microsoft.Nothing").err().map(|e| e.code().to_string()).as_deref(),
            Some("InvalidResourceNamespace")
        );
    }
}

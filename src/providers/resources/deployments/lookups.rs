//! What a template's `providers()` and `reference()` read: the api-versions of every type azemu
//! serves (and, for the generic types, a recent one), and resource documents handed in by
//! whoever evaluates the template (`crate::deployments` reads them through the ARM layer).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Value};

use crate::providers::ResourceProvider;
use crate::templates::context::Lookups;

/// The api-version `providers()` names first for a type azemu stores generically (any
/// well-formed version is taken for those).
const GENERIC_VERSIONS: &[&str] = &["2024-05-01", "2023-09-01", "2022-01-01", "2015-06-15"];

/// The namespaces, types and api-versions azemu serves.
#[derive(Default)]
pub struct Catalog {
    /// (namespace, type path below it, published versions oldest first).
    types: Vec<(String, String, &'static [&'static str])>,
}

impl Catalog {
    pub fn of<'a>(providers: impl IntoIterator<Item = &'a Arc<dyn ResourceProvider>>) -> Catalog {
        let types = providers
            .into_iter()
            .map(|p| {
                let spec = p.spec();
                (spec.namespace.to_string(), spec.type_names.join("/"), spec.versions.published)
            })
            .collect();
        Catalog { types }
    }

    /// `providers(namespace, [resourceType])` as ARM answers it.
    pub fn provider(&self, namespace: &str, resource_type: Option<&str>) -> Value {
        let locations: Vec<&str> = crate::arm::regions::REGIONS.iter().map(|r| r.display_name).collect();
        // In the order `GET …/providers/{namespace}` lists them: GA versions first.
        let newest_first = |versions: &[&str]| -> Vec<String> {
            crate::arm::api_version::newest_first(versions).into_iter().map(str::to_string).collect()
        };
        let entry = |resource_type: &str, versions: Vec<String>| json!({ "resourceType": resource_type, "locations": locations, "apiVersions": versions });
        let served = |t: &str| {
            self.types.iter().find(|(ns, path, _)| ns.eq_ignore_ascii_case(namespace) && path.eq_ignore_ascii_case(t))
        };
        match resource_type {
            Some(t) => match served(t) {
                Some((_, path, versions)) => entry(path, newest_first(versions)),
                None => entry(t, newest_first(GENERIC_VERSIONS)),
            },
            None => {
                let types: Vec<Value> = self
                    .types
                    .iter()
                    .filter(|(ns, _, _)| ns.eq_ignore_ascii_case(namespace))
                    .map(|(_, path, versions)| entry(path, newest_first(versions)))
                    .collect();
                json!({ "namespace": namespace, "resourceTypes": types })
            }
        }
    }
}

/// Lookups over documents read beforehand (by lower-case id).
pub struct KnownResources {
    pub catalog: Arc<Catalog>,
    pub docs: HashMap<String, Value>,
}

impl Lookups for KnownResources {
    fn resource(&self, id: &str) -> Option<Value> {
        self.docs.get(&id.to_ascii_lowercase()).cloned()
    }

    fn provider(&self, namespace: &str, resource_type: Option<&str>) -> Option<Value> {
        Some(self.catalog.provider(namespace, resource_type))
    }
}

//! Resource groups: `/subscriptions/{s}/resourcegroups/{g}`. Owned by ARM itself; every other
//! resource needs its group to exist, and deleting a group deletes what is in it.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use crate::arm::{ArmError, TypeOwner};
use crate::providers::{
    parse_body, ApiVersions, DeleteMissing, ListOrder, LroHeaders, OperationNames, PutKind, PutOutcome, PutRequest,
    ResourceProvider, ResourceTypeSpec, Written,
};
use crate::store::{OperationUrls, State, Txn};

/// Every published Microsoft.Resources api-version, oldest first. The last ones are only
/// deployments' (their spec has been published on its own since): through the one
/// azure-mgmt-resource-deployments 2.0 sends; resource groups end with the one
/// azure-mgmt-resource sends.
pub(crate) const MICROSOFT_RESOURCES: &[&str] = &[
    "2014-04-01",
    "2014-04-01-preview",
    "2015-01-01",
    "2015-11-01",
    "2016-02-01",
    "2016-06-01",
    "2016-07-01",
    "2016-09-01",
    "2017-05-10",
    "2018-02-01",
    "2018-05-01",
    "2019-03-01",
    "2019-05-01",
    "2019-05-10",
    "2019-07-01",
    "2019-08-01",
    "2019-10-01",
    "2020-06-01",
    "2020-08-01",
    "2020-10-01",
    "2021-01-01",
    "2021-04-01",
    "2022-09-01",
    "2023-07-01",
    "2024-03-01",
    "2024-07-01",
    "2024-11-01",
    "2025-03-01",
    "2025-04-01",
    "2026-06-01",
];
/// How many of the newest are deployments' only.
const DEPLOYMENTS_ONLY: usize = 1;

static VERSIONS: ApiVersions =
    ApiVersions { published: MICROSOFT_RESOURCES.split_at(MICROSOFT_RESOURCES.len() - DEPLOYMENTS_ONLY).0, added: &[] };

fn name_rule(name: &str) -> Result<(), &'static str> {
    let ok_char = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '(' | ')');
    let len = name.chars().count();
    if (1..=90).contains(&len) && name.chars().all(ok_char) && !name.ends_with('.') {
        Ok(())
    } else {
        Err("1-90 characters: letters, digits, '_', '-', '.', '(' or ')', not ending in '.'")
    }
}

static SPEC: ResourceTypeSpec = ResourceTypeSpec {
    namespace: "Microsoft.Resources",
    type_names: &["resourceGroups"],
    shown_type: None,
    name_levels: 1,
    name_join: "/",
    versions: &VERSIONS,
    owner: TypeOwner::Arm,
    extension: false,
    etag_in_body: false,
    expand_only: &[],
    name_rule,
    put: PutKind::Sync,
    // `ResourceGroups_Update`: `az group update --tags`.
    patch: true,
    delete: LroHeaders::Location,
    delete_missing: DeleteMissing::NotFound,
    delete_duration: Duration::from_millis(500),
    actions: &[],
    action_headers: LroHeaders::Location,
    tracked: &["/properties/provisioningState"],
    operation_urls: OperationUrls::Arm,
    missing: None,
    views: &[],
    operations: OperationNames {
        group: "ResourceGroups",
        put: "CreateOrUpdate",
        list: "List",
        list_in_subscription: Some("List"),
    },
    list_order: ListOrder::Id,
    names: OnceLock::new(),
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupInput {
    location: Option<String>,
    #[serde(default)]
    tags: Option<BTreeMap<String, String>>,
    managed_by: Option<String>,
}

pub struct ResourceGroups;

impl ResourceProvider for ResourceGroups {
    fn spec(&self) -> &'static ResourceTypeSpec {
        &SPEC
    }

    fn put(&self, req: &PutRequest, _state: &State) -> Result<PutOutcome, ArmError> {
        let input: GroupInput = parse_body(&req.body)?;
        let location = input.location.filter(|l| !l.trim().is_empty()).ok_or_else(|| {
            ArmError::bad_request("LocationRequired", "The location property is required for this definition.")
        })?;
        if let Some(existing) = req.existing {
            let existing = existing.body_value();
            let current = existing["location"].as_str().unwrap_or_default();
            if current != location {
                return Err(ArmError::conflict(
                    "InvalidResourceGroupLocation",
                    format!("Invalid resource group location '{location}'. The Resource group already exists in location '{current}'."),
                ));
            }
        }
        let mut doc = json!({ "location": location, "properties": { "provisioningState": "Succeeded" } });
        if let Some(tags) = input.tags {
            doc["tags"] = json!(tags);
        }
        if let Some(managed_by) = input.managed_by {
            doc["managedBy"] = json!(managed_by);
        }
        Ok(PutOutcome::Write(Box::new(Written { doc, sim: None, due: None, also: Txn::default() })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_and_deployments_share_microsoft_resources_versions() {
        assert_eq!(VERSIONS.published.last(), Some(&"2025-04-01"));
        let deployments = super::super::deployments::VERSIONS.published;
        assert_eq!((deployments.first(), deployments.last()), (Some(&"2015-11-01"), Some(&"2026-06-01")));
    }

    #[test]
    fn names() {
        assert!(name_rule("ArcInstance-rg").is_ok());
        assert!(name_rule("rg.(1)_x").is_ok());
        assert!(name_rule("bad.").is_err());
        assert!(name_rule("").is_err());
        assert!(name_rule(&"a".repeat(91)).is_err());
        assert!(name_rule("a/b").is_err());
    }
}

//! Generic resources: any type azemu does not emulate (virtual networks, public IPs, storage
//! accounts, key vaults, …), stored as sent with ARM's envelope and `provisioningState:
//! Succeeded`. Readable, listable by group, subscription and type, deletable; nothing simulated.
//! What a template or the CLI creates around the emulated families lands here
//! (`--generic-resources on`, the default).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::{Map, Value};

use crate::arm::{ArmError, TypeOwner};
use crate::providers::{
    ApiVersions, DeleteMissing, ListOrder, LroHeaders, OperationNames, PutKind, PutOutcome, PutRequest,
    ResourceProvider, ResourceTypeSpec, Written,
};
use crate::store::{OperationUrls, State, Txn};

/// No published list: any well-formed api-version is taken.
static ANY_VERSION: ApiVersions = ApiVersions { published: &[], added: &[] };

/// What ARM adds to a document; the rest is the caller's.
const ENVELOPE: &[&str] = &["id", "name", "type", "etag", "systemData"];

/// ARM refuses these in a resource name.
fn name_rule(name: &str) -> Result<(), &'static str> {
    let bad = |c: char| c.is_control() || matches!(c, '<' | '>' | '%' | '&' | ':' | '\\' | '?' | '/' | '*' | '#');
    let len = name.chars().count();
    match (1..=260).contains(&len) && !name.chars().any(bad) && !name.ends_with(['.', ' ']) {
        true => Ok(()),
        false => Err("1-260 characters, none of '<>%&:\\?/*#' or control characters, not ending in '.' or ' '"),
    }
}

pub struct GenericResources {
    spec: &'static ResourceTypeSpec,
}

/// The provider of one type azemu does not emulate (see `Registry::with_generic`).
pub fn provider(namespace: &str, type_names: &[&str]) -> Arc<dyn ResourceProvider> {
    let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
    let type_names: &'static [&'static str] =
        Box::leak(type_names.iter().map(|t| leak(t)).collect::<Vec<_>>().into_boxed_slice());
    let spec = Box::leak(Box::new(ResourceTypeSpec {
        namespace: leak(namespace),
        type_names,
        shown_type: None,
        name_levels: 1,
        name_join: "/",
        versions: &ANY_VERSION,
        owner: TypeOwner::Provider,
        extension: false,
        etag_in_body: false,
        expand_only: &[],
        name_rule,
        put: PutKind::Sync,
        patch: true,
        delete: LroHeaders::Location,
        delete_missing: DeleteMissing::NoContent,
        delete_duration: Duration::ZERO,
        actions: &[],
        action_headers: LroHeaders::Location,
        tracked: &["/properties/provisioningState"],
        operation_urls: OperationUrls::Arm,
        missing: None,
        views: &[],
        // ARM's generic resource API.
        operations: OperationNames {
            group: "Resources",
            put: "CreateOrUpdate",
            list: "ListByResourceGroup",
            list_in_subscription: Some("List"),
        },
        list_order: ListOrder::Id,
        names: OnceLock::new(),
    }));
    Arc::new(GenericResources { spec })
}

/// The caller's part of a document: everything but what ARM adds.
fn own_fields(doc: &Value) -> Map<String, Value> {
    let mut fields = doc.as_object().cloned().unwrap_or_default();
    for field in ENVELOPE {
        fields.remove(*field);
    }
    fields
}

impl ResourceProvider for GenericResources {
    fn spec(&self) -> &'static ResourceTypeSpec {
        self.spec
    }

    fn put(&self, req: &PutRequest, _state: &State) -> Result<PutOutcome, ArmError> {
        let mut doc = own_fields(&req.body);
        let properties =
            match doc.remove("properties") {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(p)) => p,
                Some(_) => return Err(ArmError::invalid_content(
                    "The request content was invalid and could not be deserialized: 'properties' must be an object.",
                )
                .with_target("properties")),
            };
        let mut properties = properties;
        properties.insert("provisioningState".into(), "Succeeded".into());
        doc.insert("properties".into(), Value::Object(properties));
        if let Some(existing) = req.existing.filter(|r| !r.failed) {
            if own_fields(&existing.body_value()) == doc {
                return Ok(PutOutcome::Unchanged);
            }
        }
        Ok(PutOutcome::Write(Box::new(Written { doc: Value::Object(doc), sim: None, due: None, also: Txn::default() })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_arms_rule() {
        for good in ["vnet1", "my subnet", "a.b-c_(1)", &"n".repeat(260)] {
            assert!(name_rule(good).is_ok(), "{good}");
        }
        for bad in ["", "a/b", "a?b", "a%b", "a:b", "ends.", "ends ", &"n".repeat(261)] {
            assert!(name_rule(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_spec_keeps_the_spelling_it_was_made_with() {
        let provider = provider("Microsoft.Network", &["virtualNetworks", "subnets"]);
        assert_eq!(provider.spec().full_type(), "Microsoft.Network/virtualNetworks/subnets");
        assert_eq!(provider.spec().type_key(), "microsoft.network/virtualnetworks/subnets");
    }
}

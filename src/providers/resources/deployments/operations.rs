//! A deployment's operations (`…/deployments/{d}/operations/{operationId}`): one per resource
//! it deploys, written by the orchestrator as each one starts and ends. Read-only to clients.

use std::sync::OnceLock;
use std::time::Duration;

use crate::arm::{ArmError, TypeOwner};
use crate::providers::{
    DeleteMissing, ListOrder, LroHeaders, OperationNames, PutKind, PutOutcome, PutRequest, ResourceProvider,
    ResourceTypeSpec,
};
use crate::store::{OperationUrls, State};

fn name_rule(name: &str) -> Result<(), &'static str> {
    match !name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric()) {
        true => Ok(()),
        false => Err("an operation id: letters and digits"),
    }
}

pub static SPEC: ResourceTypeSpec = ResourceTypeSpec {
    namespace: "Microsoft.Resources",
    type_names: &["deployments", "operations"],
    shown_type: None,
    name_levels: 1,
    name_join: "/",
    versions: &super::VERSIONS,
    owner: TypeOwner::Arm,
    extension: true,
    etag_in_body: false,
    expand_only: &[],
    name_rule,
    put: PutKind::Sync,
    patch: false,
    delete: LroHeaders::Location,
    delete_missing: DeleteMissing::NotFound,
    delete_duration: Duration::ZERO,
    actions: &[],
    action_headers: LroHeaders::Location,
    tracked: &["/properties/provisioningState"],
    operation_urls: OperationUrls::Arm,
    missing: Some(("DeploymentOperationNotFound", "The deployment operation could not be found.")),
    views: &[],
    operations: OperationNames { group: "DeploymentOperations", put: "Get", list: "List", list_in_subscription: None },
    list_order: ListOrder::Id,
    names: OnceLock::new(),
};

pub struct DeploymentOperations;

impl ResourceProvider for DeploymentOperations {
    fn spec(&self) -> &'static ResourceTypeSpec {
        &SPEC
    }

    fn put(&self, req: &PutRequest, _state: &State) -> Result<PutOutcome, ArmError> {
        Err(ArmError::method_not_allowed("PUT", req.path.raw()))
    }

    fn writable(&self) -> bool {
        false
    }
}

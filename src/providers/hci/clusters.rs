//! Azure Stack HCI clusters: `…/resourceGroups/{g}/providers/Microsoft.AzureStackHCI/clusters/{c}`.
//! A cluster is created registered and connected, with the read-only fields a real cluster
//! reports (its nodes among them); updates, update runs and summaries live under it.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use super::update_effects::initial_summary;
use super::update_summaries::UpdateSummaries;
use super::{dotted_name, NAMESPACE};
use crate::arm::envelope::new_resource;
use crate::arm::formats::Guid;
use crate::arm::{timestamp, ArmError, TypeOwner};
use crate::providers::{
    parse_body, parse_body_at, DeleteMissing, ListOrder, LroHeaders, OperationNames, PutKind, PutOutcome, PutRequest,
    ResourceProvider, ResourceTypeSpec, Written,
};
use crate::store::{OperationUrls, State, Txn};

/// The tag that sets how many nodes a cluster has (1 to 16; 2 without it).
pub const NODE_COUNT_TAG: &str = "azemu-node-count";

fn name_rule(name: &str) -> Result<(), &'static str> {
    dotted_name(name, 64).then_some(()).ok_or("^[a-zA-Z0-9-_.]{1,64}$, not ending in '.'")
}

static SPEC: ResourceTypeSpec = ResourceTypeSpec {
    namespace: NAMESPACE,
    type_names: &["clusters"],
    shown_type: None,
    name_levels: 1,
    name_join: "/",
    versions: &super::versions::CLUSTERS,
    owner: TypeOwner::Provider,
    extension: false,
    etag_in_body: false,
    expand_only: &[],
    name_rule,
    put: PutKind::SyncOk,
    patch: true,
    delete: LroHeaders::LocationAndAsyncOperation,
    delete_missing: DeleteMissing::NoContent,
    delete_duration: Duration::from_secs(1),
    actions: &[],
    action_headers: LroHeaders::Location,
    tracked: &["/properties/status", "/properties/provisioningState"],
    operation_urls: OperationUrls::Arm,
    missing: None,
    views: &[],
    operations: OperationNames {
        group: "Clusters",
        put: "Create",
        list: "ListByResourceGroup",
        list_in_subscription: Some("ListBySubscription"),
    },
    list_order: ListOrder::Id,
    names: OnceLock::new(),
};

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
enum EnabledState {
    Disabled,
    Enabled,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
enum DiagnosticLevel {
    Off,
    Basic,
    Enhanced,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
enum IdentityType {
    None,
    SystemAssigned,
    UserAssigned,
    #[serde(rename = "SystemAssigned, UserAssigned", alias = "SystemAssigned,UserAssigned")]
    Both,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdentityInput {
    #[serde(rename = "type")]
    kind: IdentityType,
    #[serde(default)]
    user_assigned_identities: Option<BTreeMap<String, Value>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DesiredProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    windows_server_subscription: Option<EnabledState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    diagnostic_level: Option<DiagnosticLevel>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
enum SoftwareAssuranceIntent {
    Enable,
    Disable,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SoftwareAssuranceInput {
    software_assurance_intent: Option<SoftwareAssuranceIntent>,
}

/// The writable cluster properties, checked by type and enum.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PropertiesInput {
    cloud_management_endpoint: Option<String>,
    aad_client_id: Option<Guid>,
    aad_tenant_id: Option<Guid>,
    aad_application_object_id: Option<String>,
    aad_service_principal_object_id: Option<String>,
    software_assurance_properties: Option<SoftwareAssuranceInput>,
    log_collection_properties: Option<BTreeMap<String, Value>>,
    /// How the cluster's machines sign in: `ActiveDirectory` or `LocalIdentity`.
    identity_provider: Option<String>,
    /// The release ring the cluster takes updates from.
    ring: Option<String>,
    remote_support_properties: Option<BTreeMap<String, Value>>,
    desired_properties: Option<DesiredProperties>,
}

#[derive(Deserialize)]
struct ClusterInput {
    location: Option<String>,
    /// The deployment's purpose, e.g. `AzureLocal`.
    kind: Option<String>,
    #[serde(default)]
    tags: Option<BTreeMap<String, String>>,
    identity: Option<Value>,
    properties: Option<Value>,
}

/// A value derived from the cluster's id, stable across updates and restarts.
fn derived(id: &str, what: &str) -> String {
    const CLUSTERS: Uuid = Uuid::from_u128(0x6a7e_6d75_0000_4000_8000_636c_7573_0001);
    Uuid::new_v5(&CLUSTERS, format!("{}/{what}", id.to_ascii_lowercase()).as_bytes()).to_string()
}

/// The attestation service a cluster's isolated VMs (TVM, CVM) report to, in its region.
fn attestation(id: &str, relying_party: &Value, location: &str) -> Value {
    let provider = format!("hci{}", &derived(id, "attestation").replace('-', "")[..12]);
    let region = location.replace(' ', "").to_ascii_lowercase();
    json!({
        "attestationResourceId": format!("{}/providers/Microsoft.Attestation/attestationProviders/{provider}", group_id(id)),
        "relyingPartyServiceEndpoint": relying_party,
        "attestationServiceEndpoint": format!("https://{provider}.{region}.attest.azure.net"),
    })
}

/// `/subscriptions/{s}/resourceGroups/{g}` of a resource id.
fn group_id(id: &str) -> &str {
    let end = id.match_indices('/').nth(4).map_or(id.len(), |(i, _)| i);
    &id[..end]
}

/// A read-only block: its defaults, under what the resource had, under what the body sends.
fn reported_with(defaults: Value, kept: Option<Value>, sent: Option<BTreeMap<String, Value>>) -> Value {
    let mut block = defaults;
    for layer in [kept, sent.map(|m| json!(m))].into_iter().flatten() {
        if let (Some(target), Some(source)) = (block.as_object_mut(), layer.as_object()) {
            target.extend(source.clone());
        }
    }
    block
}

fn node_count(tags: &BTreeMap<String, String>) -> Result<usize, ArmError> {
    let Some(value) = tags.iter().find(|(k, _)| k.eq_ignore_ascii_case(NODE_COUNT_TAG)).map(|(_, v)| v) else {
        return Ok(2);
    };
    match value.trim().parse::<usize>() {
        Ok(n) if (1..=16).contains(&n) => Ok(n),
        _ => Err(ArmError::invalid_parameter(
            &format!("tags.{NODE_COUNT_TAG}"),
            format!(
                "The tag '{NODE_COUNT_TAG}' sets the cluster's node count: a whole number from 1 to 16, not '{value}'."
            ),
        )),
    }
}

/// The nodes a cluster reports: `Node-1` … `Node-N`.
pub fn node_names(count: usize) -> Vec<String> {
    (1..=count).map(|i| format!("Node-{i}")).collect()
}

fn nodes(id: &str, count: usize, at: &str) -> Vec<Value> {
    node_names(count)
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            json!({
                "name": name,
                "id": i + 1,
                "windowsServerSubscription": "Disabled",
                "nodeType": "FirstParty",
                "ehcResourceId": format!("{id}/arcSettings/default/nodes/{name}"),
                "manufacturer": "Contoso",
                "model": "HCI-2U-Node",
                "osName": "Azure Stack HCI",
                "osVersion": "10.0.25398.1189",
                "osDisplayVersion": "23H2",
                "serialNumber": derived(id, &format!("serial/{name}"))[..12].to_ascii_uppercase(),
                "coreCount": 32,
                "memoryInGiB": 256,
                "lastLicensingTimestamp": at,
                "oemActivation": "Disabled",
            })
        })
        .collect()
}

fn identity_doc(input: Option<&Value>, id: &str, tenant: &str) -> Result<Option<Value>, ArmError> {
    let Some(raw) = input else { return Ok(None) };
    let identity: IdentityInput = parse_body_at(raw, "identity")?;
    let mut doc = json!({ "type": match identity.kind {
        IdentityType::None => "None",
        IdentityType::SystemAssigned => "SystemAssigned",
        IdentityType::UserAssigned => "UserAssigned",
        IdentityType::Both => "SystemAssigned, UserAssigned",
    }});
    if matches!(identity.kind, IdentityType::SystemAssigned | IdentityType::Both) {
        doc["principalId"] = json!(derived(id, "principal"));
        doc["tenantId"] = json!(tenant);
    }
    if let Some(users) = identity.user_assigned_identities {
        let users: BTreeMap<String, Value> = users
            .into_keys()
            .map(|k| {
                let ids = json!({ "principalId": derived(id, &format!("user/{k}")), "clientId": derived(id, &format!("client/{k}")) });
                (k, ids)
            })
            .collect();
        doc["userAssignedIdentities"] = json!(users);
    }
    Ok(Some(doc))
}

pub struct Clusters;

impl ResourceProvider for Clusters {
    fn spec(&self) -> &'static ResourceTypeSpec {
        &SPEC
    }

    fn put(&self, req: &PutRequest, state: &State) -> Result<PutOutcome, ArmError> {
        let input: ClusterInput = parse_body(&req.body)?;
        let location = input.location.filter(|l| !l.trim().is_empty()).ok_or_else(|| {
            ArmError::bad_request("LocationRequired", "The location property is required for this definition.")
        })?;
        let raw_properties = input.properties.unwrap_or_else(|| json!({}));
        let props: PropertiesInput = parse_body_at(&raw_properties, "properties")?;
        let tags = input.tags.unwrap_or_default();
        let count = node_count(&tags)?;
        let previous = req.existing.map(|e| e.body_value());
        let kept = |field: &str| previous.as_ref().and_then(|p| p["properties"].get(field).cloned());
        let now = timestamp(req.now);
        let registered = kept("registrationTimestamp").unwrap_or_else(|| json!(now));
        let tenant = props.aad_tenant_id.clone().map_or_else(|| "00000000-0000-0000-0000-000000000000".into(), |g| g.0);
        let desired = props.desired_properties.clone().unwrap_or(DesiredProperties {
            windows_server_subscription: Some(EnabledState::Disabled),
            diagnostic_level: Some(DiagnosticLevel::Basic),
        });
        let diagnostic = desired.diagnostic_level.unwrap_or(DiagnosticLevel::Basic);
        let intent = props.software_assurance_properties.as_ref().and_then(|s| s.software_assurance_intent);
        let cluster_name = req.name;
        let mut properties = json!({
            "provisioningState": "Succeeded",
            "status": "ConnectedRecently",
            "connectivityStatus": "Connected",
            "cloudId": derived(req.id, "cloud"),
            "softwareAssuranceProperties": {
                "softwareAssuranceStatus": if intent == Some(SoftwareAssuranceIntent::Enable) { "Enabled" } else { "Disabled" },
                "softwareAssuranceIntent": if intent == Some(SoftwareAssuranceIntent::Enable) { "Enable" } else { "Disable" },
                "lastUpdated": now,
            },
            "desiredProperties": desired,
            "reportedProperties": {
                "clusterName": cluster_name,
                "clusterId": derived(req.id, "cluster"),
                "clusterVersion": "10.0.25398",
                "nodes": nodes(req.id, count, &now),
                "lastUpdated": now,
                "imdsAttestation": "Disabled",
                "diagnosticLevel": diagnostic,
                "supportedCapabilities": ["Arc VM", "AKS hybrid", "Updates"],
                "clusterType": "FirstParty",
                "manufacturer": "Contoso",
                "oemActivation": "Disabled",
                "hardwareClass": "Medium",
            },
            "trialDaysRemaining": 60,
            "supportStatus": "InSupport",
            // What the cluster is billed as once its trial ends.
            "billingProperties": { "nextBillingModel": { "billingModel": "L2", "capabilitiesEnabled": [], "trialDaysRemaining": 60 } },
            "storageType": "S2D",
            "billingModel": "Trial",
            "registrationTimestamp": registered,
            "lastSyncTimestamp": now,
            "lastBillingTimestamp": now,
            "serviceEndpoint": format!("https://azurestackhci.azurefd.net/{}", location.replace(' ', "").to_ascii_lowercase()),
            "resourceProviderObjectId": derived(req.id, "resourceProvider"),
        });
        properties["isolatedVmAttestationConfiguration"] =
            attestation(req.id, &properties["serviceEndpoint"], &location);
        // What a registered cluster reports before any log collection or remote support session;
        // the writes that start those keep their own fields.
        properties["logCollectionProperties"] = reported_with(
            json!({ "logCollectionSessionDetails": [] }),
            kept("logCollectionProperties"),
            props.log_collection_properties,
        );
        properties["remoteSupportProperties"] = reported_with(
            json!({ "remoteSupportNodeSettings": [], "remoteSupportSessionDetails": [] }),
            kept("remoteSupportProperties"),
            props.remote_support_properties,
        );
        let writable = [
            ("cloudManagementEndpoint", props.cloud_management_endpoint.map(Value::from)),
            ("aadClientId", props.aad_client_id.map(|g| Value::from(g.0))),
            ("aadTenantId", props.aad_tenant_id.map(|g| Value::from(g.0))),
            ("aadApplicationObjectId", props.aad_application_object_id.map(Value::from)),
            ("aadServicePrincipalObjectId", props.aad_service_principal_object_id.map(Value::from)),
            (
                "identityProvider",
                Some(Value::from(props.identity_provider.unwrap_or_else(|| "ActiveDirectory".into()))),
            ),
            ("ring", props.ring.map(Value::from)),
        ];
        for (field, value) in writable {
            if let Some(v) = value {
                properties[field] = v;
            }
        }
        let mut doc = json!({ "location": location, "tags": tags, "properties": properties });
        if let Some(kind) = input.kind {
            doc["kind"] = json!(kind);
        }
        if let Some(identity) = identity_doc(input.identity.as_ref(), req.id, &tenant)? {
            doc["identity"] = identity;
        }
        let mut also = Txn::default();
        // A registered cluster reports its update summary from the start.
        let summary_id = format!("{}/updateSummaries/default", req.id);
        if state.resource(&summary_id.to_ascii_lowercase()).is_none() {
            let summary = initial_summary(&location, req.now);
            also.put(new_resource(UpdateSummaries.spec(), summary_id, summary, req.caller, req.now));
        }
        Ok(PutOutcome::Write(Box::new(Written { doc, sim: None, due: None, also })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_node_counts() {
        assert!(name_rule("myCluster").is_ok());
        assert!(name_rule("a.b_c-1").is_ok());
        assert!(name_rule("bad/name").is_err());
        assert!(name_rule("").is_err());
        let tags = |v: &str| BTreeMap::from([(NODE_COUNT_TAG.to_string(), v.to_string())]);
        assert_eq!(node_count(&BTreeMap::new()).unwrap(), 2);
        assert_eq!(node_count(&tags("4")).unwrap(), 4);
        assert!(node_count(&tags("0")).is_err());
        assert!(node_count(&tags("many")).is_err());
        assert_eq!(node_names(3), ["Node-1", "Node-2", "Node-3"]);
    }
}

//! Edge devices: `{resourceUri}/providers/Microsoft.AzureStackHCI/edgeDevices/{name}`, an
//! extension resource on any ARM resource (normally an Arc machine), `kind: HCI`.

use std::sync::OnceLock;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::device_network::{network_profile, storage_and_cvm, Adapter};
use super::{edge_name_rule, require_hci_kind, NAMESPACE};
use crate::arm::{timestamp, ArmError, TypeOwner};
use crate::providers::{
    parse_body, sim_state, ActionName, ActionOutcome, ActionRequest, Advance, AdvanceCtx, DeleteMissing, ListOrder,
    LroHeaders, OperationNames, PutKind, PutOutcome, PutRequest, ResourceProvider, ResourceTypeSpec, Written,
};
use crate::sim::timeline::{Cursor, Timeline};
use crate::store::{OperationStatus, OperationUrls, State, StoredResource, Txn};

static SPEC: ResourceTypeSpec = ResourceTypeSpec {
    namespace: NAMESPACE,
    type_names: &["edgeDevices"],
    shown_type: None,
    name_levels: 1,
    name_join: "/",
    versions: &super::versions::EDGE_DEVICES,
    owner: TypeOwner::Provider,
    extension: true,
    etag_in_body: false,
    expand_only: &[],
    name_rule: edge_name_rule,
    put: PutKind::AsyncOperation,
    patch: false,
    delete: LroHeaders::Location,
    delete_missing: DeleteMissing::NoContent,
    delete_duration: Duration::from_millis(500),
    actions: &[ActionName { path: "validate", operation: "Validate" }],
    action_headers: LroHeaders::Location,
    // provisioningState last: a follower that stops at a terminal state has seen the rest.
    tracked: &["/properties/reportedProperties/deviceState", "/properties/provisioningState"],
    operation_urls: OperationUrls::Arm,
    missing: None,
    views: &[],
    operations: OperationNames {
        group: "EdgeDevices",
        put: "CreateOrUpdate",
        list: "List",
        list_in_subscription: None,
    },
    list_order: ListOrder::Id,
    names: OnceLock::new(),
};

/// The device provisions in two steps: the agent picks the request up, then reports back.
const PROVISIONING: [(Duration, DeviceStep); 2] =
    [(Duration::from_millis(300), DeviceStep::Provisioning), (Duration::from_millis(700), DeviceStep::Reported)];

#[derive(Debug, Clone, Copy)]
enum DeviceStep {
    Provisioning,
    Reported,
}

const VALIDATE_DURATION: Duration = Duration::from_millis(1500);

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
struct NicDetail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    adapter_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    interface_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    component_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    driver_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ip4_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subnet_mask: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default_gateway: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dns_servers: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default_isolation_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
struct DeviceConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nic_details: Option<Vec<NicDetail>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    device_metadata: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PropertiesInput {
    #[serde(default)]
    device_configuration: Option<DeviceConfiguration>,
}

#[derive(Deserialize)]
struct DeviceInput {
    kind: Option<String>,
    #[serde(default)]
    properties: Option<PropertiesInput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ValidateInput {
    edge_device_ids: Vec<String>,
    #[serde(default)]
    #[allow(dead_code)]
    additional_info: Option<String>,
}

fn provisioning() -> Timeline<DeviceStep> {
    Timeline::new(PROVISIONING.to_vec())
}

/// What the device reports: `Processing` while its resource is provisioned, then `Connected`
/// with its last sync time.
fn reported_properties(id: &str, body: &Value, at: &str, connected: bool) -> Value {
    let config: DeviceConfiguration =
        serde_json::from_value(body["properties"]["deviceConfiguration"].clone()).unwrap_or_default();
    let scope = id.rsplit_once("/providers/").map_or(id, |(s, _)| s);
    let machine = scope.rsplit('/').next().unwrap_or_default();
    let configured: Vec<Adapter> = config
        .nic_details
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, nic)| Adapter {
            name: nic.adapter_name.unwrap_or_else(|| format!("ethernet{}", i + 1)),
            description: nic.interface_description.unwrap_or_default(),
            component_id: nic.component_id.unwrap_or_default(),
            driver_version: nic.driver_version.unwrap_or_default(),
            ip4_address: nic.ip4_address.unwrap_or_default(),
            subnet_mask: nic.subnet_mask.unwrap_or_default(),
            default_gateway: nic.default_gateway.unwrap_or_default(),
            dns_servers: nic.dns_servers.unwrap_or_default(),
            isolation_id: nic.default_isolation_id.unwrap_or_else(|| "0".into()),
        })
        .collect();
    let adapters = if configured.is_empty() { Adapter::defaults() } else { configured };
    let network = network_profile(&adapters, &id.to_ascii_lowercase(), machine);
    let extension = |name: &str, version: &str| {
        json!({
            "extensionName": name,
            "state": "Succeeded",
            "errorDetails": [],
            "extensionResourceId": format!("{scope}/extensions/{name}"),
            "typeHandlerVersion": version,
            "managedBy": "Azure",
        })
    };
    let mut reported = json!({
        "deviceState": if connected { "Connected" } else { "Processing" },
        "extensionProfile": { "extensions": [
            extension("AzureEdgeDeviceManagement", "1.8.0"),
            extension("AzureEdgeLifecycleManager", "30.2411.2.789"),
            extension("AzureEdgeRemoteSupport", "1.0.2410.1"),
        ]},
        "networkProfile": network,
        "osProfile": { "bootType": "UEFI", "assemblyVersion": "10.0.25398.1189" },
        "sbeDeploymentPackageInfo": { "code": "", "message": "", "sbeManifest": "" },
    });
    let (storage, cvm) = storage_and_cvm(&id.to_ascii_lowercase());
    reported["storageProfile"] = storage;
    reported["confidentialVmProfile"] = cvm;
    if connected {
        reported["lastSyncTimestamp"] = json!(at);
    }
    reported
}

pub struct EdgeDevices;

impl ResourceProvider for EdgeDevices {
    fn spec(&self) -> &'static ResourceTypeSpec {
        &SPEC
    }

    fn put(&self, req: &PutRequest, _state: &State) -> Result<PutOutcome, ArmError> {
        let input: DeviceInput = parse_body(&req.body)?;
        require_hci_kind(input.kind.as_deref())?;
        let configuration = input.properties.and_then(|p| p.device_configuration);
        let mut properties =
            json!({ "provisioningState": if req.existing.is_some() { "Updating" } else { "Accepted" } });
        if let Some(config) = &configuration {
            properties["deviceConfiguration"] = serde_json::to_value(config).unwrap_or(Value::Null);
        }
        if let Some(existing) = req.existing {
            let existing = existing.body_value();
            let unchanged = existing["properties"].get("deviceConfiguration") == properties.get("deviceConfiguration");
            // A retried PUT answers with the device as it is (and its running operation, if any).
            if unchanged {
                return Ok(PutOutcome::Unchanged);
            }
            if let Some(reported) = existing["properties"].get("reportedProperties") {
                properties["reportedProperties"] = reported.clone();
            }
        } else {
            // The machine's agent reports from the start; the device is connected once provisioned.
            let body = json!({ "properties": properties });
            properties["reportedProperties"] = reported_properties(req.id, &body, &timestamp(req.now), false);
        }
        let cursor = Cursor::start(req.clock);
        let due = provisioning().due(0, req.now, cursor.speed);
        Ok(PutOutcome::Write(Box::new(Written {
            doc: json!({ "kind": "HCI", "properties": properties }),
            sim: sim_state(&cursor),
            due,
            also: Txn::default(),
        })))
    }

    fn action(&self, req: &ActionRequest, state: &State) -> Result<ActionOutcome, ArmError> {
        let body = req.body.clone().ok_or_else(|| {
            ArmError::invalid_content("The request content was empty; a ValidateRequest is required.")
        })?;
        let input: ValidateInput = parse_body(&body)?;
        if input.edge_device_ids.is_empty() {
            return Err(ArmError::invalid_parameter("edgeDeviceIds", "At least one edge device id is required."));
        }
        for id in &input.edge_device_ids {
            let device = state.resource(&id.to_ascii_lowercase()).filter(|r| r.type_key == SPEC.type_key());
            match device {
                None => {
                    return Err(ArmError::invalid_parameter(
                        "edgeDeviceIds",
                        format!("The edge device '{id}' does not exist."),
                    ));
                }
                Some(d)
                    if d.deleting
                        || d.body_value().pointer("/properties/provisioningState") != Some(&json!("Succeeded")) =>
                {
                    return Err(ArmError::conflict(
                        "Conflict",
                        format!("The edge device '{id}' is not provisioned yet."),
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(ActionOutcome::timed(VALIDATE_DURATION, Some(json!({ "status": "Succeeded" }))))
    }

    fn advance(&self, resource: &mut StoredResource, ctx: &AdvanceCtx) -> Result<Advance, ArmError> {
        let line = provisioning();
        let mut cursor: Cursor = resource.sim_as().unwrap_or_else(|| Cursor::start(ctx.clock));
        let at = timestamp(ctx.at);
        let mut body = resource.body_value();
        let reported = reported_properties(&resource.id, &body, &at, true);
        let mut advance = Advance::default();
        if let Some(props) = body.get_mut("properties").and_then(Value::as_object_mut) {
            match line.get(cursor.next) {
                Some(DeviceStep::Provisioning)
                    if props.get("provisioningState").and_then(Value::as_str) == Some("Accepted") =>
                {
                    props.insert("provisioningState".into(), "Provisioning".into());
                }
                Some(DeviceStep::Reported) => {
                    props.insert("provisioningState".into(), "Succeeded".into());
                    props.insert("reportedProperties".into(), reported);
                    advance.completes = Some(OperationStatus::Succeeded);
                }
                _ => {}
            }
        }
        resource.set_body(&body);
        cursor.next += 1;
        resource.due = line.due(cursor.next, ctx.at, cursor.speed);
        resource.sim = resource.due.and_then(|_| sim_state(&cursor));
        Ok(advance)
    }
}

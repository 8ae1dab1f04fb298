//! What an edge device's agent reports about its network: its adapters (those the device's
//! configuration names, or the two physical ports of an unconfigured machine), the virtual
//! switch Network ATC puts on them, the management-and-compute intent over every adapter, and
//! a storage network on each adapter after the first (on the only one, when it is converged).

use serde_json::{json, Value};

/// The device's disks (four poolable NVMe drives of 1.92 TB, named from the device's key) and
/// its confidential-VM readiness.
pub fn storage_and_cvm(device_key: &str) -> (Value, Value) {
    let disks: Vec<Value> = (0..4)
        .map(|i| {
            let id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("{device_key}/disk/{i}").as_bytes());
            json!({ "id": format!("eui.{}", &id.simple().to_string()[..16]), "sizeInBytes": "1920383410176", "type": "S2D" })
        })
        .collect();
    let storage = json!({ "poolableDisksCount": disks.len(), "disks": disks });
    let cvm = json!({ "igvmStatus": "Enabled", "statusDetails": [
        { "code": "IgvmAgentDeployed", "message": "IgvmAgent is deployed" },
        { "code": "ConfidentialVmHardwareCapabilityFound", "message": "Confidential VM supported hardware detected" },
    ]});
    (storage, cvm)
}

/// One adapter as the device reports it.
pub struct Adapter {
    pub name: String,
    pub description: String,
    pub component_id: String,
    pub driver_version: String,
    pub ip4_address: String,
    pub subnet_mask: String,
    pub default_gateway: String,
    pub dns_servers: Vec<String>,
    pub isolation_id: String,
}

impl Adapter {
    /// The physical ports of a machine whose configuration names none.
    pub fn defaults() -> Vec<Adapter> {
        (1..=2)
            .map(|i| Adapter {
                name: if i == 1 { "ethernet".into() } else { format!("ethernet {i}") },
                description: format!("Mellanox ConnectX-4 Lx Ethernet Adapter #{i}"),
                component_id: "mlx5_bus\\mt4117_pciconf".into(),
                driver_version: "3.10.25798.0".into(),
                ip4_address: if i == 1 { "192.168.1.11".into() } else { String::new() },
                subnet_mask: if i == 1 { "255.255.255.0".into() } else { String::new() },
                default_gateway: if i == 1 { "192.168.1.1".into() } else { String::new() },
                dns_servers: if i == 1 { vec!["192.168.1.254".into()] } else { vec![] },
                isolation_id: "0".into(),
            })
            .collect()
    }
}

const SWITCH: &str = "ConvergedSwitch(managementcompute)";

/// A stable, locally administered MAC address per device and adapter.
fn mac_address(seed: &str) -> String {
    let hash = seed.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3));
    let b = hash.to_be_bytes();
    format!("02-{:02X}-{:02X}-{:02X}-{:02X}-{:02X}", b[1], b[2], b[3], b[4], b[5])
}

/// The device's `networkProfile` (`device_key` seeds its MAC addresses; `machine` is the name of
/// the machine it runs on).
pub fn network_profile(adapters: &[Adapter], device_key: &str, machine: &str) -> Value {
    let nics: Vec<Value> = adapters
        .iter()
        .enumerate()
        .map(|(i, a)| {
            json!({
                "adapterName": a.name,
                "interfaceDescription": a.description,
                "componentId": a.component_id,
                "driverVersion": a.driver_version,
                "ip4Address": a.ip4_address,
                "subnetMask": a.subnet_mask,
                "defaultGateway": a.default_gateway,
                "dnsServers": a.dns_servers,
                "defaultIsolationId": a.isolation_id,
                "macAddress": mac_address(&format!("{device_key}/{}", a.name)),
                "slot": format!("Slot {}", i + 1),
                "switchName": SWITCH,
                "nicType": "Physical",
                "vlanId": "0",
                "nicStatus": "Up",
                "rdmaCapability": "Enabled",
            })
        })
        .collect();
    let names: Vec<&str> = adapters.iter().map(|a| a.name.as_str()).collect();
    let switch_id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("{device_key}/switch").as_bytes());
    let storage: Vec<Value> = adapters
        .iter()
        .enumerate()
        .skip(usize::from(adapters.len() > 1))
        .map(|(i, a)| {
            let i = i.max(1);
            json!({
                "name": format!("Storage{i}Network"),
                "networkAdapterName": a.name,
                "storageVlanId": format!("{}", 710 + i),
                "storageAdapterIPInfo": [{ "physicalNode": machine, "ipv4Address": format!("10.71.{i}.11"), "subnetMask": "255.255.255.0" }],
            })
        })
        .collect();
    json!({
        "nicDetails": nics,
        "switchDetails": [{
            "switchName": SWITCH,
            "switchType": "External",
            "extensions": [{ "switchId": switch_id.to_string(), "extensionName": "Microsoft Azure VFP Switch Filter Extension", "extensionEnabled": true }],
        }],
        // Software-defined networking is off until a cluster's SDN integration turns it on.
        "sdnProperties": { "sdnStatus": "Disabled" },
        "hostNetwork": {
            "intents": [{
                "scope": 0,
                "intentType": 10,
                "isComputeIntentSet": true,
                "isStorageIntentSet": false,
                "isOnlyStorage": false,
                "isManagementIntentSet": true,
                "isStretchIntentSet": false,
                "isOnlyStretch": false,
                "isNetworkIntentType": true,
                "intentName": "managementcompute",
                "intentAdapters": names,
                "overrideVirtualSwitchConfiguration": false,
                "virtualSwitchConfigurationOverrides": { "enableIov": "", "loadBalancingAlgorithm": "" },
                "overrideQosPolicy": false,
                "qosPolicyOverrides": { "priorityValue8021Action_Cluster": "7", "priorityValue8021Action_SMB": "3", "bandwidthPercentage_SMB": "50" },
                "overrideAdapterProperty": false,
                "adapterPropertyOverrides": { "jumboPacket": "", "networkDirect": "", "networkDirectTechnology": "" },
            }],
            "storageNetworks": storage,
            "storageConnectivitySwitchless": false,
            "enableStorageAutoIp": true,
        },
    })
}

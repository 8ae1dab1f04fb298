//! A scale set's model as clients send it, checked where Compute checks it, and the VM
//! documents it makes: each instance's storage, OS and network profiles derived from the model,
//! its names and ids from the set's id and the instance id.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::casing::{any_case_enum, canonical, CACHING, CREATE_OPTIONS, OS_TYPES};
use crate::arm::ArmError;

/// The most instances azemu lets a set have.
pub const MAX_CAPACITY: i64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OsType {
    Linux,
    Windows,
}
any_case_enum!(OsType { Linux, Windows });

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UpgradeMode {
    Automatic,
    Manual,
    Rolling,
}
any_case_enum!(UpgradeMode { Automatic, Manual, Rolling });

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OrchestrationMode {
    Uniform,
    Flexible,
}
any_case_enum!(OrchestrationMode { Uniform, Flexible });

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpgradePolicyInput {
    #[allow(dead_code)] // Checked, not read.
    mode: Option<UpgradeMode>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkuInput {
    pub name: Option<String>,
    #[allow(dead_code)] // Checked, not read.
    pub tier: Option<String>,
    pub capacity: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImageReferenceInput {
    publisher: Option<String>,
    offer: Option<String>,
    sku: Option<String>,
    #[allow(dead_code)] // Checked, not read.
    version: Option<String>,
    id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ManagedDiskInput {
    #[allow(dead_code)] // Checked, not read.
    storage_account_type: Option<String>,
}

#[derive(Deserialize)]
struct VhdInput {
    uri: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OsDiskInput {
    os_type: Option<OsType>,
    /// An unmanaged image: the VHD the disk is made from.
    image: Option<VhdInput>,
    #[serde(rename = "diskSizeGB")]
    disk_size_gb: Option<i64>,
    #[allow(dead_code)] // Checked, not read.
    managed_disk: Option<ManagedDiskInput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StorageProfileInput {
    image_reference: Option<ImageReferenceInput>,
    os_disk: Option<OsDiskInput>,
    #[allow(dead_code)] // Checked, not read.
    data_disks: Option<Vec<Value>>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OsProfileInput {
    computer_name_prefix: Option<String>,
    admin_username: Option<String>,
    #[allow(dead_code)] // Checked, not read.
    admin_password: Option<String>,
    linux_configuration: Option<BTreeMap<String, Value>>,
    windows_configuration: Option<BTreeMap<String, Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VmProfileInput {
    os_profile: Option<OsProfileInput>,
    storage_profile: Option<StorageProfileInput>,
    #[allow(dead_code)] // Checked, not read.
    network_profile: Option<BTreeMap<String, Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PropertiesInput {
    #[allow(dead_code)] // Checked, not read.
    upgrade_policy: Option<UpgradePolicyInput>,
    virtual_machine_profile: Option<VmProfileInput>,
    #[allow(dead_code)] // Checked, not read.
    overprovision: Option<bool>,
    single_placement_group: Option<bool>,
    platform_fault_domain_count: Option<i64>,
    orchestration_mode: Option<OrchestrationMode>,
}

#[derive(Deserialize)]
struct ScaleSetInput {
    location: Option<String>,
    #[allow(dead_code)] // Checked, not read.
    tags: Option<BTreeMap<String, String>>,
    sku: Option<SkuInput>,
    #[allow(dead_code)] // Checked, not read.
    zones: Option<Vec<String>>,
    properties: Option<PropertiesInput>,
}

/// What the rest of the provider needs from a checked model.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub capacity: usize,
    pub os: OsType,
    /// `None` for a specialized image, whose instances keep the name they were captured with
    /// (azemu names them after the set).
    pub computer_name_prefix: Option<String>,
    pub fault_domains: u32,
    pub single_placement_group: bool,
    /// Flexible orchestration: the instances are virtual machines of their own.
    pub flexible: bool,
}

fn missing(field: &str) -> ArmError {
    ArmError::invalid_parameter(field, format!("Required parameter '{field}' is missing (null)."))
}

/// Checks a scale set's body (the merged document for PATCH) as Compute does.
pub fn check(body: &Value) -> Result<Model, ArmError> {
    let input: ScaleSetInput = crate::providers::parse_body(body)?;
    if input.location.as_deref().is_none_or(|l| l.trim().is_empty()) {
        return Err(ArmError::bad_request(
            "LocationRequired",
            "The location property is required for this definition.",
        ));
    }
    let sku = input.sku.ok_or_else(|| missing("sku"))?;
    if sku.name.as_deref().is_none_or(str::is_empty) {
        return Err(missing("sku.name"));
    }
    let size = sku.name.as_deref().unwrap_or_default();
    super::catalog::require_size(size, "sku.name")?;
    let capacity = sku.capacity.unwrap_or(0);
    if !(0..=MAX_CAPACITY).contains(&capacity) {
        return Err(ArmError::invalid_parameter(
            "sku.capacity",
            format!(
                "The value {capacity} of parameter 'sku.capacity' is out of range: it must be 0 to {MAX_CAPACITY}."
            ),
        ));
    }
    let properties = input.properties.ok_or_else(|| missing("properties"))?;
    let flexible = properties.orchestration_mode == Some(OrchestrationMode::Flexible);
    let fault_domains = properties.platform_fault_domain_count.unwrap_or(if flexible { 1 } else { 5 });
    if !(1..=5).contains(&fault_domains) {
        return Err(ArmError::invalid_parameter(
            "properties.platformFaultDomainCount",
            "The platform fault domain count must be 1 to 5.",
        ));
    }
    // A Flexible set may start without a profile: VMs join it by naming it.
    let profile = match properties.virtual_machine_profile {
        Some(profile) => profile,
        None if flexible && capacity == 0 => {
            return Ok(Model {
                capacity: 0,
                os: OsType::Linux,
                computer_name_prefix: None,
                fault_domains: fault_domains as u32,
                single_placement_group: false,
                flexible,
            })
        }
        None => return Err(missing("properties.virtualMachineProfile")),
    };
    let storage = profile.storage_profile.ok_or_else(|| missing("properties.virtualMachineProfile.storageProfile"))?;
    let vhd = storage.os_disk.as_ref().and_then(|d| d.image.as_ref()).and_then(|i| i.uri.as_deref());
    let image = match (storage.image_reference, vhd) {
        (Some(image), _) => Some(image),
        // An unmanaged image needs no image reference.
        (None, Some(_)) => None,
        (None, None) => return Err(missing("properties.virtualMachineProfile.storageProfile.imageReference")),
    };
    if let Some(image) = &image {
        if image.id.is_none() && (image.publisher.is_none() || image.offer.is_none() || image.sku.is_none()) {
            return Err(ArmError::invalid_parameter(
                "properties.virtualMachineProfile.storageProfile.imageReference",
                "An image reference needs an id, or a publisher, an offer and a sku.",
            ));
        }
    }
    let reference = body.pointer("/properties/virtualMachineProfile/storageProfile/imageReference");
    let marketplace = match reference {
        Some(reference) => {
            super::catalog::resolve_image(reference, "properties.virtualMachineProfile.storageProfile.imageReference")?
        }
        None => None,
    };
    // A gallery image definition or version may be specialized, which takes no OS profile.
    let gallery_image = image.as_ref().and_then(|i| i.id.as_deref()).is_some_and(|id| {
        let id = id.to_ascii_lowercase();
        id.contains("/providers/microsoft.compute/galleries/") && id.contains("/images/")
    });
    let os_profile = match profile.os_profile {
        Some(os_profile) => os_profile,
        None if gallery_image => OsProfileInput::default(),
        None => return Err(missing("properties.virtualMachineProfile.osProfile")),
    };
    let specialized = gallery_image && os_profile.computer_name_prefix.is_none() && os_profile.admin_username.is_none();
    let prefix = match os_profile.computer_name_prefix.clone() {
        Some(prefix) => Some(prefix),
        None if specialized => None,
        None => return Err(missing("properties.virtualMachineProfile.osProfile.computerNamePrefix")),
    };
    if !specialized && os_profile.admin_username.is_none() {
        return Err(missing("properties.virtualMachineProfile.osProfile.adminUsername"));
    }
    let windows_image = match marketplace {
        Some((image, _)) => image.os == "Windows",
        None => image
            .as_ref()
            .and_then(|i| i.publisher.as_deref())
            .is_some_and(|p| p.to_ascii_lowercase().contains("windows")),
    };
    let os = match (storage.os_disk.as_ref().and_then(|d| d.os_type), os_profile.windows_configuration.is_some()) {
        (Some(os), _) => os,
        (None, true) => OsType::Windows,
        (None, false) if windows_image => OsType::Windows,
        _ => OsType::Linux,
    };
    if os == OsType::Windows && os_profile.linux_configuration.is_some() {
        return Err(ArmError::invalid_parameter(
            "properties.virtualMachineProfile.osProfile.linuxConfiguration",
            "A Windows image takes windowsConfiguration, not linuxConfiguration.",
        ));
    }
    let longest = if os == OsType::Windows { 9 } else { 58 };
    if prefix.as_ref().is_some_and(|p| p.is_empty() || p.len() > longest) {
        return Err(ArmError::invalid_parameter(
            "properties.virtualMachineProfile.osProfile.computerNamePrefix",
            format!("The computer name prefix must be 1 to {longest} characters for a {os:?} scale set."),
        ));
    }
    if let Some(size) = storage.os_disk.as_ref().and_then(|d| d.disk_size_gb) {
        if !(1..=4095).contains(&size) {
            return Err(ArmError::invalid_parameter(
                "properties.virtualMachineProfile.storageProfile.osDisk.diskSizeGB",
                "The OS disk size must be 1 to 4095 GB.",
            ));
        }
    }
    Ok(Model {
        capacity: capacity as usize,
        os,
        computer_name_prefix: prefix,
        fault_domains: fault_domains as u32,
        single_placement_group: properties.single_placement_group.unwrap_or(!flexible),
        flexible,
    })
}

/// A GUID derived from the set's id, stable across restarts.
pub fn derived(id: &str, what: &str) -> Uuid {
    const SCALE_SETS: Uuid = Uuid::from_u128(0x6a7e_6d75_0000_4000_8000_766d_7373_0001);
    Uuid::new_v5(&SCALE_SETS, format!("{}/{what}", id.to_ascii_lowercase()).as_bytes())
}

/// `{prefix}` and the instance id in base 36, six characters: `myvmss00000a` for instance 10.
pub fn computer_name(prefix: &str, instance: u64) -> String {
    let mut digits = Vec::new();
    let mut n = instance;
    loop {
        digits.push(std::char::from_digit((n % 36) as u32, 36).unwrap_or('0'));
        n /= 36;
        if n == 0 {
            break;
        }
    }
    while digits.len() < 6 {
        digits.push('0');
    }
    digits.reverse();
    format!("{prefix}{}", digits.into_iter().collect::<String>())
}

/// The set's document as stored: the body without secrets, with what Compute fills in.
pub fn scale_set_doc(body: &Value, set_id: &str, created: &str, provisioning: &str, model: &Model) -> Value {
    let os = model.os;
    let mut doc = body.clone();
    if let Some(os) = doc.pointer_mut("/properties/virtualMachineProfile/osProfile").and_then(Value::as_object_mut) {
        os.remove("adminPassword");
        os.remove("customData");
    }
    if let Some(profile) = doc.pointer_mut("/properties/virtualMachineProfile") {
        with_profile_defaults(profile, os, created);
        // Compute records the OS of a disk made from a VHD image, which says nothing of it itself.
        if let Some(os_disk) = profile.pointer_mut("/storageProfile/osDisk").filter(|d| d.get("image").is_some()) {
            default_field(os_disk, "osType", json!(if os == OsType::Windows { "Windows" } else { "Linux" }));
        }
    }
    if let Some(os_disk) = doc.pointer_mut("/properties/virtualMachineProfile/storageProfile/osDisk") {
        canonical(os_disk, "createOption", CREATE_OPTIONS);
        canonical(os_disk, "caching", CACHING);
        canonical(os_disk, "osType", OS_TYPES);
    }
    if let Some(policy) = doc.pointer_mut("/properties/upgradePolicy") {
        canonical(policy, "mode", &["Automatic", "Manual", "Rolling"]);
    }
    let props = &mut doc["properties"];
    props["provisioningState"] = json!(provisioning);
    props["uniqueId"] = json!(derived(set_id, "uniqueId").to_string());
    props["timeCreated"] = json!(created);
    let flexible = model.flexible;
    props["orchestrationMode"] = json!(if flexible { "Flexible" } else { "Uniform" });
    let defaults = match flexible {
        // A Flexible set neither overprovisions nor keeps one placement group.
        true => vec![("singlePlacementGroup", json!(false)), ("platformFaultDomainCount", json!(1))],
        false => vec![
            ("overprovision", json!(true)),
            ("doNotRunExtensionsOnOverprovisionedVMs", json!(false)),
            ("singlePlacementGroup", json!(true)),
            ("platformFaultDomainCount", json!(5)),
        ],
    };
    for (field, default) in defaults {
        if props.get(field).is_none_or(Value::is_null) {
            props[field] = default;
        }
    }
    if props.get("upgradePolicy").is_none() {
        props["upgradePolicy"] = json!({ "mode": "Manual" });
    }
    for field in ["id", "name", "type", "systemData", "etag"] {
        if let Some(map) = doc.as_object_mut() {
            map.remove(field);
        }
    }
    doc
}

/// Fills `value[field]` with `default` when the field is absent.
fn default_field(value: &mut Value, field: &str, default: Value) {
    if let Some(fields) = value.as_object_mut() {
        fields.entry(field).or_insert(default);
    }
}

/// What Compute fills into the VM profile it stores: the secrets list, the OS configuration's
/// defaults, each NIC's DNS settings and IP version, and when the profile was made.
fn with_profile_defaults(profile: &mut Value, os: OsType, created: &str) {
    profile["timeCreated"] = json!(created);
    if let Some(os_profile) = profile.get_mut("osProfile").filter(|p| p.is_object()) {
        default_field(os_profile, "secrets", json!([]));
        match os {
            OsType::Linux => {
                default_field(os_profile, "linuxConfiguration", json!({}));
                let linux = &mut os_profile["linuxConfiguration"];
                default_field(linux, "disablePasswordAuthentication", json!(false));
                default_field(linux, "provisionVMAgent", json!(true));
            }
            OsType::Windows => {
                default_field(os_profile, "windowsConfiguration", json!({}));
                let windows = &mut os_profile["windowsConfiguration"];
                default_field(windows, "provisionVMAgent", json!(true));
                default_field(windows, "enableAutomaticUpdates", json!(true));
            }
        }
    }
    let nics = profile.pointer_mut("/networkProfile/networkInterfaceConfigurations").and_then(Value::as_array_mut);
    for nic in nics.into_iter().flatten() {
        default_field(nic, "properties", json!({}));
        let props = &mut nic["properties"];
        default_field(props, "dnsSettings", json!({ "dnsServers": [] }));
        default_field(props, "enableAcceleratedNetworking", json!(false));
        default_field(props, "enableIPForwarding", json!(false));
        let configs = props.get_mut("ipConfigurations").and_then(Value::as_array_mut);
        for config in configs.into_iter().flatten() {
            default_field(config, "properties", json!({}));
            default_field(&mut config["properties"], "privateIPAddressVersion", json!("IPv4"));
        }
    }
}

/// The model's data disks as one instance has them: each its own managed disk, named as Compute
/// names them (`{set}_{set}_{instance}_disk{lun + 2}_{id}`).
fn data_disks(profile: &Value, vm_id: &str, set_name: &str, instance: u64, group_prefix: &str) -> Value {
    let disks = profile.pointer("/storageProfile/dataDisks").and_then(Value::as_array).cloned().unwrap_or_default();
    let made: Vec<Value> = disks
        .into_iter()
        .map(|mut disk| {
            let lun = disk.get("lun").and_then(Value::as_u64).unwrap_or(0);
            let hex = derived(vm_id, &format!("dataDisk/{lun}")).simple().to_string();
            let name = format!("{set_name}_{set_name}_{instance}_disk{}_{hex}", lun + 2);
            default_field(&mut disk, "caching", json!("None"));
            default_field(&mut disk, "managedDisk", json!({ "storageAccountType": "Standard_LRS" }));
            if let Some(fields) = disk.as_object_mut() {
                fields.insert("name".into(), json!(name));
                fields.insert("toBeDetached".into(), json!(false));
            }
            disk["managedDisk"]["id"] = json!(format!("{group_prefix}/providers/Microsoft.Compute/disks/{name}"));
            disk
        })
        .collect();
    json!(made)
}

/// The extensions the model installs, as the resources of instance `vm_id`.
fn extension_resources(profile: &Value, vm_id: &str, location: &Value) -> Option<Value> {
    let extensions = profile.pointer("/extensionProfile/extensions")?.as_array()?;
    let resources: Vec<Value> = extensions
        .iter()
        .filter_map(|ext| {
            let name = ext["name"].as_str()?;
            let mut properties = ext.get("properties").cloned().unwrap_or_else(|| json!({}));
            if let Some(fields) = properties.as_object_mut() {
                fields.remove("protectedSettings");
                fields.insert("provisioningState".into(), json!("Succeeded"));
            }
            Some(json!({
                "name": name,
                "id": format!("{vm_id}/extensions/{name}"),
                "type": "Microsoft.Compute/virtualMachines/extensions",
                "location": location,
                "properties": properties,
            }))
        })
        .collect();
    (!resources.is_empty()).then(|| json!(resources))
}

/// The document of instance `instance` of the set `set_id` (named `set_name`), made at `created`.
pub fn vm_doc(set: &Value, model: &Model, set_id: &str, set_name: &str, instance: u64, created: &str) -> Value {
    let vm_id = format!("{set_id}/virtualMachines/{instance}");
    let profile = &set["properties"]["virtualMachineProfile"];
    let mut image = profile.pointer("/storageProfile/imageReference").cloned();
    if let Some(image) = image.as_mut().filter(|i| i.get("id").is_none()) {
        // The set's model was checked against the catalog: its version resolves.
        if let Ok(Some((_, exact))) = super::catalog::resolve_image(image, "imageReference") {
            image["exactVersion"] = json!(exact);
        }
    }
    let os_disk_model = profile.pointer("/storageProfile/osDisk").cloned().unwrap_or_else(|| json!({}));
    let os_type = match model.os {
        OsType::Linux => "Linux",
        OsType::Windows => "Windows",
    };
    let disk_hex = derived(&vm_id, "osDisk").simple().to_string();
    let disk_name = format!("{set_name}_{set_name}_{instance}_OsDisk_1_{disk_hex}");
    let group_prefix = set_id.split("/providers/").next().unwrap_or_default();
    let default_size = if model.os == OsType::Windows { 127 } else { 30 };
    let mut os_disk = json!({
        "osType": os_type,
        "name": disk_name,
        "createOption": "FromImage",
        "caching": os_disk_model.get("caching").cloned().unwrap_or(json!("ReadWrite")),
        "diskSizeGB": os_disk_model.get("diskSizeGB").cloned().unwrap_or(json!(default_size)),
    });
    match os_disk_model.get("image") {
        // An unmanaged disk made from a VHD image is a VHD too.
        Some(vhd) => os_disk["image"] = vhd.clone(),
        None => {
            os_disk["managedDisk"] = json!({
                "storageAccountType": os_disk_model.pointer("/managedDisk/storageAccountType").cloned().unwrap_or(json!("Standard_LRS")),
                "id": format!("{group_prefix}/providers/Microsoft.Compute/disks/{disk_name}"),
            });
        }
    }
    let os_model = &profile["osProfile"];
    // A specialized image's instances are named after the set (the image's own name is not known).
    let prefix = model.computer_name_prefix.clone().unwrap_or_else(|| set_name.chars().take(9).collect());
    let mut os_profile = json!({
        "computerName": computer_name(&prefix, instance),
        "adminUsername": os_model["adminUsername"],
        "secrets": os_model.get("secrets").cloned().unwrap_or(json!([])),
        "allowExtensionOperations": os_model.get("allowExtensionOperations").cloned().unwrap_or(json!(true)),
        "requireGuestProvisionSignal": true,
    });
    if model.computer_name_prefix.is_none() {
        // A specialized image brings its own OS settings; only the name is the instance's.
        os_profile = json!({ "computerName": os_profile["computerName"] });
    }
    match model.os {
        _ if model.computer_name_prefix.is_none() => {}
        OsType::Linux => {
            let linux = os_model.get("linuxConfiguration").cloned().unwrap_or(json!({}));
            let mut linux = linux;
            if linux.get("disablePasswordAuthentication").is_none() {
                linux["disablePasswordAuthentication"] = json!(false);
            }
            linux["provisionVMAgent"] = json!(true);
            os_profile["linuxConfiguration"] = linux;
        }
        OsType::Windows => {
            let mut windows = os_model.get("windowsConfiguration").cloned().unwrap_or(json!({}));
            windows["provisionVMAgent"] = json!(true);
            if windows.get("enableAutomaticUpdates").is_none() {
                windows["enableAutomaticUpdates"] = json!(true);
            }
            os_profile["windowsConfiguration"] = windows;
        }
    }
    let nic_configs = profile.pointer("/networkProfile/networkInterfaceConfigurations").cloned().unwrap_or(json!([]));
    let nics: Vec<Value> = nic_configs
        .as_array()
        .map(|configs| {
            configs
                .iter()
                .filter_map(|c| c["name"].as_str())
                .map(|name| json!({ "id": format!("{vm_id}/networkInterfaces/{name}") }))
                .collect()
        })
        .unwrap_or_default();
    let mut properties = json!({
        "latestModelApplied": true,
        "modelDefinitionApplied": "VirtualMachineScaleSet",
        "vmId": derived(&vm_id, "vmId").to_string(),
        "hardwareProfile": profile.get("hardwareProfile").cloned().unwrap_or_else(|| json!({})),
        "storageProfile": {
            "osDisk": os_disk,
            "dataDisks": data_disks(profile, &vm_id, set_name, instance, group_prefix),
        },
        "osProfile": os_profile,
        "networkProfile": { "networkInterfaces": nics },
        "networkProfileConfiguration": { "networkInterfaceConfigurations": nic_configs },
        "provisioningState": "Creating",
        "timeCreated": created,
    });
    if let Some(image) = image {
        properties["storageProfile"]["imageReference"] = image;
    }
    for field in ["diagnosticsProfile", "userData", "licenseType", "securityProfile"] {
        if let Some(value) = profile.get(field) {
            properties[field] = value.clone();
        }
    }
    let mut doc = json!({
        "location": set["location"],
        "instanceId": instance.to_string(),
        "sku": { "name": set["sku"]["name"], "tier": set["sku"].get("tier").cloned().unwrap_or(json!("Standard")) },
        "properties": properties,
    });
    if let Some(tags) = set.get("tags").filter(|t| t.is_object()) {
        doc["tags"] = tags.clone();
    }
    if let Some(zones) = set.get("zones").and_then(Value::as_array).filter(|z| !z.is_empty()) {
        doc["zones"] = json!([zones[instance as usize % zones.len()]]);
    }
    if let Some(resources) = extension_resources(profile, &vm_id, &set["location"]) {
        doc["resources"] = resources;
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn body() -> Value {
        json!({"location": "westus", "sku": {"name": "Standard_D1_v2", "tier": "Standard", "capacity": 2},
            "properties": {"upgradePolicy": {"mode": "Manual"}, "virtualMachineProfile": {
                "osProfile": {"computerNamePrefix": "myvmss", "adminUsername": "azureuser", "adminPassword": "p@ss"},
                "storageProfile": {"imageReference": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}},
                "networkProfile": {"networkInterfaceConfigurations": [{"name": "nic", "properties": {"primary": true}}]}}}})
    }

    #[test]
    fn a_linux_set_checks_and_names_its_instances() {
        let model = check(&body()).unwrap();
        assert_eq!((model.capacity, model.os), (2, OsType::Linux));
        assert_eq!(computer_name("myvmss", 0), "myvmss000000");
        assert_eq!(computer_name("myvmss", 10), "myvmss00000a");
        assert_eq!(computer_name("myvmss", 36), "myvmss000010");
        let set = scale_set_doc(
            &body(),
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachineScaleSets/v",
            "t",
            "Creating",
            &model,
        );
        assert!(set.pointer("/properties/virtualMachineProfile/osProfile/adminPassword").is_none());
        let vm = vm_doc(
            &set,
            &model,
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachineScaleSets/v",
            "v",
            1,
            "t",
        );
        assert_eq!(vm["properties"]["osProfile"]["computerName"], "myvmss000001");
        assert_eq!(vm["properties"]["storageProfile"]["osDisk"]["osType"], "Linux");
        assert!(vm["properties"]["networkProfile"]["networkInterfaces"][0]["id"]
            .as_str()
            .unwrap()
            .ends_with("/virtualMachines/1/networkInterfaces/nic"));
    }

    #[test]
    fn bad_models_name_the_field() {
        let cases = [
            ("/sku/capacity", json!(20000), "sku.capacity"),
            (
                "/properties/virtualMachineProfile/osProfile/computerNamePrefix",
                Value::Null,
                "properties.virtualMachineProfile.osProfile.computerNamePrefix",
            ),
            ("/properties/platformFaultDomainCount", json!(9), "properties.platformFaultDomainCount"),
        ];
        for (pointer, value, target) in cases {
            let mut b = body();
            *b.pointer_mut(pointer).unwrap_or(&mut Value::Null) = value.clone();
            if pointer == "/properties/orchestrationMode" || pointer == "/properties/platformFaultDomainCount" {
                let field = pointer.rsplit('/').next().unwrap();
                b["properties"][field] = value;
            }
            let e = check(&b).unwrap_err();
            assert_eq!(e.detail.target.as_deref(), Some(target), "{pointer}: {:?}", e.detail.message);
        }
    }
}

//! A virtual machine's body as clients send it, checked where Compute checks it (its size and
//! image against the catalog, its OS profile's credentials), and the document Compute keeps:
//! the body without secrets, with the OS disk, the image's exact version and the defaults it
//! fills in.

use serde_json::{json, Value};

use super::super::casing::{canonical, CACHING, CREATE_OPTIONS, DELETE_OPTIONS, OS_TYPES};
use super::super::catalog::{require_size, resolve_image};
use super::super::scale_set_model::derived;
use crate::arm::ArmError;

fn missing(field: &str) -> ArmError {
    ArmError::invalid_parameter(field, format!("Required parameter '{field}' is missing (null)."))
}

fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// What the provider needs of a checked VM.
#[derive(Debug)]
pub struct VmModel {
    pub windows: bool,
    /// The image's Hyper-V generation (`V1`, `V2`); `V2` for custom images and attached disks.
    pub generation: &'static str,
}

/// Compute's password rule: 6-72 characters on Linux (8-123 on Windows), with three of lower
/// case, upper case, digits and special characters.
fn check_password(password: &str, windows: bool) -> Result<(), ArmError> {
    let (shortest, longest) = if windows { (8, 123) } else { (6, 72) };
    let classes = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    let length = password.chars().count();
    if (shortest..=longest).contains(&length) && classes.iter().filter(|c| **c).count() >= 3 {
        return Ok(());
    }
    Err(ArmError::invalid_parameter(
        "adminPassword",
        format!(
            "The supplied password must be between {shortest}-{longest} characters long and must satisfy at least 3 of password complexity requirements from the following: 1) Contains an uppercase character 2) Contains a lowercase character 3) Contains a numeric digit 4) Contains a special character 5) Control characters are not allowed"
        ),
    ))
}

/// Checks a VM's body (the merged document for an update, which keeps no credentials and so
/// needs none) as Compute does.
pub fn check(body: &Value, name: &str, creating: bool) -> Result<VmModel, ArmError> {
    if !body.is_object() {
        return Err(ArmError::invalid_content("The request content must be a JSON object."));
    }
    if text(body, "/location").is_none() {
        return Err(ArmError::bad_request(
            "LocationRequired",
            "The location property is required for this definition.",
        ));
    }
    let props = body.get("properties").filter(|p| p.is_object()).ok_or_else(|| missing("properties"))?;
    let size = text(props, "/hardwareProfile/vmSize").ok_or_else(|| missing("hardwareProfile.vmSize"))?;
    require_size(size, "vmSize")?;
    let storage = props.get("storageProfile").filter(|s| s.is_object()).ok_or_else(|| missing("storageProfile"))?;
    let attach = text(storage, "/osDisk/createOption").is_some_and(|o| o.eq_ignore_ascii_case("Attach"));
    let image = match (storage.get("imageReference"), attach) {
        (Some(reference), false) => resolve_image(reference, "imageReference")?,
        (None, false) => return Err(missing("storageProfile.imageReference")),
        (_, true) => None,
    };
    let stated_os = text(storage, "/osDisk/osType");
    let windows = match (image, stated_os) {
        (Some((image, _)), _) => image.os == "Windows",
        (None, Some(os)) => os.eq_ignore_ascii_case("Windows"),
        (None, None) => props.pointer("/osProfile/windowsConfiguration").is_some(),
    };
    if !attach {
        check_os_profile(props.get("osProfile"), name, windows, creating)?;
    }
    let nics = props.pointer("/networkProfile/networkInterfaces").and_then(Value::as_array);
    let configs = props.pointer("/networkProfile/networkInterfaceConfigurations").and_then(Value::as_array);
    if nics.is_none_or(Vec::is_empty) && configs.is_none_or(Vec::is_empty) {
        return Err(missing("networkProfile"));
    }
    for (i, nic) in nics.into_iter().flatten().enumerate() {
        if text(nic, "/id").is_none() {
            return Err(missing(&format!("networkProfile.networkInterfaces[{i}].id")));
        }
    }
    if let Some(priority) = text(props, "/priority") {
        if !["Regular", "Low", "Spot"].iter().any(|p| p.eq_ignore_ascii_case(priority)) {
            return Err(ArmError::invalid_parameter(
                "priority",
                format!("The value '{priority}' of 'priority' is not valid: Regular, Low or Spot."),
            ));
        }
    }
    let generation = image.map_or("V2", |(image, _)| image.generation);
    Ok(VmModel { windows, generation })
}

fn check_os_profile(profile: Option<&Value>, name: &str, windows: bool, creating: bool) -> Result<(), ArmError> {
    let profile = profile.filter(|p| p.is_object()).ok_or_else(|| missing("osProfile"))?;
    let computer = text(profile, "/computerName").unwrap_or(name);
    let longest = if windows { 15 } else { 64 };
    if computer.chars().count() > longest || computer.chars().all(|c| c.is_ascii_digit()) {
        return Err(ArmError::invalid_parameter(
            "osProfile.computerName",
            format!("The computer name '{computer}' must be 1 to {longest} characters and not only digits."),
        ));
    }
    let user = text(profile, "/adminUsername").ok_or_else(|| missing("osProfile.adminUsername"))?;
    let reserved = ["administrator", "admin", "root", "guest", "user", "test"];
    if reserved.contains(&user.to_ascii_lowercase().as_str()) {
        return Err(ArmError::invalid_parameter(
            "adminUsername",
            format!("The Admin Username specified is not allowed: '{user}' is reserved."),
        ));
    }
    let password = text(profile, "/adminPassword");
    let keys =
        profile.pointer("/linuxConfiguration/ssh/publicKeys").and_then(Value::as_array).is_some_and(|k| !k.is_empty());
    let password_off = profile.pointer("/linuxConfiguration/disablePasswordAuthentication") == Some(&json!(true));
    match (password, windows) {
        (Some(password), _) => check_password(password, windows),
        (None, _) if !creating => Ok(()),
        (None, true) => Err(missing("osProfile.adminPassword")),
        (None, false) if keys && password_off => Ok(()),
        (None, false) if password_off => Err(missing("osProfile.linuxConfiguration.ssh.publicKeys")),
        (None, false) => Err(missing("osProfile.adminPassword")),
    }
}

/// Fills `value[field]` when it is absent or `null` (Compute reads `null` as "not given").
fn default_field(value: &mut Value, field: &str, default: Value) {
    if let Some(fields) = value.as_object_mut() {
        let slot = fields.entry(field).or_insert(Value::Null);
        if slot.is_null() {
            *slot = default;
        }
    }
}

/// The document Compute keeps for VM `id` (named `name`), made at `created`.
pub fn vm_doc(body: &Value, id: &str, name: &str, created: &str, model: &VmModel) -> Value {
    let mut doc = body.clone();
    if let Some(fields) = doc.as_object_mut() {
        for field in ["id", "name", "type", "systemData", "etag"] {
            fields.remove(field);
        }
    }
    let group_prefix = id.split("/providers/").next().unwrap_or_default().to_string();
    let props = &mut doc["properties"];
    if let Some(os) = props.get_mut("osProfile").and_then(Value::as_object_mut) {
        os.remove("adminPassword");
        os.remove("customData");
    }
    props["vmId"] = json!(derived(id, "vmId").to_string());
    props["timeCreated"] = json!(created);
    let os_type = if model.windows { "Windows" } else { "Linux" };
    let storage = &mut props["storageProfile"];
    // The body was checked against the catalog: a marketplace image resolves.
    let marketplace = storage.get("imageReference").and_then(|r| resolve_image(r, "imageReference").ok().flatten());
    if let Some((_, exact)) = marketplace {
        storage["imageReference"]["exactVersion"] = json!(exact);
    }
    let image_size = marketplace.map_or(if model.windows { 127 } else { 30 }, |(image, _)| image.os_disk_gb);
    default_field(storage, "osDisk", json!({}));
    let os_disk = &mut storage["osDisk"];
    let disk_name = format!("{name}_OsDisk_1_{}", derived(id, "osDisk").simple());
    default_field(os_disk, "osType", json!(os_type));
    default_field(os_disk, "name", json!(disk_name));
    default_field(os_disk, "createOption", json!("FromImage"));
    default_field(os_disk, "caching", json!("ReadWrite"));
    default_field(os_disk, "diskSizeGB", json!(image_size));
    default_field(os_disk, "deleteOption", json!("Detach"));
    canonical(os_disk, "createOption", CREATE_OPTIONS);
    canonical(os_disk, "caching", CACHING);
    canonical(os_disk, "deleteOption", DELETE_OPTIONS);
    canonical(os_disk, "osType", OS_TYPES);
    default_field(os_disk, "managedDisk", json!({}));
    let disk_name = os_disk["name"].as_str().unwrap_or_default().to_string();
    default_field(&mut os_disk["managedDisk"], "storageAccountType", json!("Premium_LRS"));
    default_field(
        &mut os_disk["managedDisk"],
        "id",
        json!(format!("{group_prefix}/providers/Microsoft.Compute/disks/{disk_name}")),
    );
    default_field(storage, "dataDisks", json!([]));
    let disks = storage["dataDisks"].as_array_mut().map(std::mem::take).unwrap_or_default();
    storage["dataDisks"] =
        Value::Array(disks.into_iter().map(|disk| data_disk(disk, id, name, &group_prefix)).collect());
    if let Some(os) = props.get_mut("osProfile").filter(|p| p.is_object()) {
        default_field(os, "computerName", json!(name));
        default_field(os, "secrets", json!([]));
        default_field(os, "allowExtensionOperations", json!(true));
        default_field(os, "requireGuestProvisionSignal", json!(true));
        let config = if model.windows { "windowsConfiguration" } else { "linuxConfiguration" };
        default_field(os, config, json!({}));
        let config = &mut os[config];
        default_field(config, "provisionVMAgent", json!(true));
        default_field(config, "patchSettings", json!({}));
        let patch = &mut config["patchSettings"];
        default_field(patch, "patchMode", json!(if model.windows { "AutomaticByOS" } else { "ImageDefault" }));
        default_field(patch, "assessmentMode", json!("ImageDefault"));
        match model.windows {
            true => default_field(config, "enableAutomaticUpdates", json!(true)),
            false => default_field(config, "disablePasswordAuthentication", json!(false)),
        }
    }
    doc
}

/// A data disk as Compute keeps it: an empty one made for the VM is named after it.
fn data_disk(mut disk: Value, id: &str, name: &str, group_prefix: &str) -> Value {
    let lun = disk.get("lun").and_then(Value::as_u64).unwrap_or(0);
    let made = format!("{name}_disk{}_{}", lun + 2, derived(id, &format!("dataDisk/{lun}")).simple());
    default_field(&mut disk, "name", json!(made));
    default_field(&mut disk, "caching", json!("None"));
    default_field(&mut disk, "deleteOption", json!("Detach"));
    default_field(&mut disk, "toBeDetached", json!(false));
    default_field(&mut disk, "managedDisk", json!({}));
    default_field(&mut disk["managedDisk"], "storageAccountType", json!("Premium_LRS"));
    canonical(&mut disk, "createOption", CREATE_OPTIONS);
    canonical(&mut disk, "caching", CACHING);
    let disk_name = disk["name"].as_str().unwrap_or_default().to_string();
    default_field(
        &mut disk["managedDisk"],
        "id",
        json!(format!("{group_prefix}/providers/Microsoft.Compute/disks/{disk_name}")),
    );
    disk
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn body() -> Value {
        json!({ "location": "westus", "properties": {
            "hardwareProfile": { "vmSize": "Standard_D2s_v5" },
            "storageProfile": { "imageReference": { "publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts-gen2", "version": "latest" } },
            "osProfile": { "computerName": "vm1", "adminUsername": "azureuser", "adminPassword": "Passw0rd!Passw0rd" },
            "networkProfile": { "networkInterfaces": [{ "id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/networkInterfaces/nic" }] } } })
    }

    #[test]
    fn a_vm_keeps_no_secret_and_resolves_its_image() {
        let model = check(&body(), "vm1", true).unwrap();
        assert!(!model.windows);
        let id = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm1";
        let doc = vm_doc(&body(), id, "vm1", "t", &model);
        assert!(doc.pointer("/properties/osProfile/adminPassword").is_none());
        assert_eq!(doc["properties"]["storageProfile"]["imageReference"]["exactVersion"], "22.04.202611120");
        assert_eq!(doc["properties"]["storageProfile"]["osDisk"]["osType"], "Linux");
        assert!(doc["properties"]["storageProfile"]["osDisk"]["name"].as_str().unwrap().starts_with("vm1_OsDisk_1_"));
    }

    #[test]
    fn bad_bodies_name_their_field() {
        let cases: [(&str, Value, &str, &str); 4] = [
            ("/properties/hardwareProfile/vmSize", json!("Standard_Nope"), "InvalidParameter", "vmSize"),
            ("/properties/storageProfile/imageReference/sku", json!("nope"), "PlatformImageNotFound", "imageReference"),
            ("/properties/osProfile/adminPassword", json!("short"), "InvalidParameter", "adminPassword"),
            ("/properties/osProfile/adminUsername", json!("admin"), "InvalidParameter", "adminUsername"),
        ];
        for (pointer, value, code, target) in cases {
            let mut b = body();
            *b.pointer_mut(pointer).unwrap() = value;
            let e = check(&b, "vm1", true).unwrap_err();
            assert_eq!((e.code(), e.detail.target.as_deref()), (code, Some(target)), "{pointer}");
        }
    }
}

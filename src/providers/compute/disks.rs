//! Managed disks: `…/resourceGroups/{g}/providers/Microsoft.Compute/disks/{d}`. Clients make
//! empty disks (and disks from images or other disks); a VM makes its OS disk and its empty data
//! disks, attached to it (`managedBy`), and its deletion deletes or detaches them as each disk's
//! `deleteOption` says. An attached disk cannot be deleted.

use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::keep::{kept_over, same_location};
use super::scale_set_model::derived;
use super::{disk_name_rule, NAMESPACE};
use crate::arm::envelope::{new_resource, revised};
use crate::arm::{timestamp, ArmError, Caller, TypeOwner};
use crate::providers::{
    ApiVersions, DeleteMissing, ListOrder, LroHeaders, OperationNames, PutKind, PutOutcome, PutRequest,
    ResourceProvider, ResourceTypeSpec, Written,
};
use crate::store::{OperationUrls, State, StoredResource, Txn};

/// Compute's disk api-versions (its disk service versions them apart from VMs).
static VERSIONS: ApiVersions = ApiVersions {
    published: &[
        "2016-04-30-preview",
        "2017-03-30",
        "2018-04-01",
        "2018-06-01",
        "2018-09-30",
        "2019-03-01",
        "2019-07-01",
        "2019-11-01",
        "2020-05-01",
        "2020-06-30",
        "2020-09-30",
        "2020-12-01",
        "2021-04-01",
        "2021-08-01",
        "2021-12-01",
        "2022-03-02",
        "2022-07-02",
        "2023-01-02",
        "2023-04-02",
        "2023-10-02",
        "2024-03-02",
        "2025-01-02",
    ],
    added: &[],
};

static SPEC: ResourceTypeSpec = ResourceTypeSpec {
    namespace: NAMESPACE,
    type_names: &["disks"],
    shown_type: None,
    name_levels: 1,
    name_join: "/",
    versions: &VERSIONS,
    owner: TypeOwner::Provider,
    extension: false,
    etag_in_body: false,
    expand_only: &[],
    name_rule: disk_name_rule,
    put: PutKind::AsyncOperation,
    patch: true,
    delete: LroHeaders::LocationAndAsyncOperation,
    delete_missing: DeleteMissing::NoContent,
    delete_duration: Duration::from_secs(2),
    actions: &[],
    action_headers: LroHeaders::LocationAndAsyncOperation,
    tracked: &["/properties/diskState", "/properties/provisioningState"],
    operation_urls: OperationUrls::Compute,
    missing: None,
    views: &[],
    operations: OperationNames {
        group: "Disks",
        put: "CreateOrUpdate",
        list: "ListByResourceGroup",
        list_in_subscription: Some("List"),
    },
    list_order: ListOrder::Id,
    names: OnceLock::new(),
};

const ACCOUNT_TYPES: &[&str] = &[
    "Standard_LRS",
    "Premium_LRS",
    "StandardSSD_LRS",
    "UltraSSD_LRS",
    "Premium_ZRS",
    "StandardSSD_ZRS",
    "PremiumV2_LRS",
];
const CREATE_OPTIONS: &[&str] = &["Empty", "FromImage", "Copy", "Import", "Restore", "Upload"];

/// The performance tier Compute gives a premium disk of this size.
fn premium_tier(size_gb: u64) -> &'static str {
    const TIERS: &[(u64, &str)] = &[
        (4, "P1"),
        (8, "P2"),
        (16, "P3"),
        (32, "P4"),
        (64, "P6"),
        (128, "P10"),
        (256, "P15"),
        (512, "P20"),
        (1024, "P30"),
        (2048, "P40"),
        (4096, "P50"),
        (8192, "P60"),
        (16384, "P70"),
    ];
    TIERS.iter().find(|(most, _)| size_gb <= *most).map_or("P80", |(_, tier)| tier)
}

/// A disk document: the body with what Compute fills in, attached to `managed_by` when given.
fn disk_doc(body: &Value, id: &str, created: &str, managed_by: Option<&str>) -> Result<Value, ArmError> {
    let mut doc = body.clone();
    if let Some(fields) = doc.as_object_mut() {
        for field in ["id", "name", "type", "systemData", "etag"] {
            fields.remove(field);
        }
    }
    if doc.get("location").and_then(Value::as_str).is_none_or(str::is_empty) {
        return Err(ArmError::bad_request(
            "LocationRequired",
            "The location property is required for this definition.",
        ));
    }
    let account = doc.pointer("/sku/name").and_then(Value::as_str).unwrap_or("Standard_LRS");
    let account = ACCOUNT_TYPES.iter().find(|a| a.eq_ignore_ascii_case(account)).ok_or_else(|| {
        ArmError::invalid_parameter(
            "sku.name",
            format!("The value '{account}' of 'sku.name' is not valid: {}.", ACCOUNT_TYPES.join(", ")),
        )
    })?;
    let option = doc.pointer("/properties/creationData/createOption").and_then(Value::as_str).ok_or_else(|| {
        ArmError::invalid_parameter(
            "creationData.createOption",
            "Required parameter 'creationData.createOption' is missing (null).",
        )
    })?;
    let option = CREATE_OPTIONS.iter().find(|o| o.eq_ignore_ascii_case(option)).ok_or_else(|| {
        ArmError::invalid_parameter(
            "creationData.createOption",
            format!("The value '{option}' of 'createOption' is not valid: {}.", CREATE_OPTIONS.join(", ")),
        )
    })?;
    let size = doc.pointer("/properties/diskSizeGB").and_then(Value::as_u64);
    if *option == "Empty" && size.is_none() {
        return Err(ArmError::invalid_parameter(
            "diskSizeGB",
            "Required parameter 'diskSizeGB' is missing (null): an empty disk needs a size.",
        ));
    }
    let size = size.unwrap_or(30);
    if !(1..=65_536).contains(&size) {
        return Err(ArmError::invalid_parameter("diskSizeGB", "The disk size must be 1 to 65536 GB."));
    }
    let premium = account.starts_with("Premium_");
    doc["sku"] = json!({ "name": account, "tier": if premium { "Premium" } else { "Standard" } });
    let props = &mut doc["properties"];
    props["creationData"]["createOption"] = json!(option);
    props["diskSizeGB"] = json!(size);
    props["diskSizeBytes"] = json!(size << 30);
    props["timeCreated"] = json!(created);
    props["uniqueId"] = json!(derived(id, "disk").to_string());
    props["provisioningState"] = json!("Succeeded");
    props["diskState"] = json!(if managed_by.is_some() { "Attached" } else { "Unattached" });
    props["encryption"] = json!({ "type": "EncryptionAtRestWithPlatformKey" });
    for (field, default) in [("networkAccessPolicy", json!("AllowAll")), ("publicNetworkAccess", json!("Enabled"))] {
        if props.get(field).is_none_or(Value::is_null) {
            props[field] = default;
        }
    }
    if premium {
        props["tier"] = json!(premium_tier(size));
    }
    match managed_by {
        Some(vm) => doc["managedBy"] = json!(vm),
        None => {
            if let Some(fields) = doc.as_object_mut() {
                fields.remove("managedBy");
            }
        }
    }
    Ok(doc)
}

pub struct Disks;

impl ResourceProvider for Disks {
    fn spec(&self) -> &'static ResourceTypeSpec {
        &SPEC
    }

    fn put(&self, req: &PutRequest, _state: &State) -> Result<PutOutcome, ArmError> {
        let (body, created, managed_by) = match req.existing {
            Some(existing) => {
                let stored = existing.body_value();
                let created = stored.pointer("/properties/timeCreated").and_then(Value::as_str).unwrap_or_default();
                let managed_by = stored.get("managedBy").and_then(Value::as_str).map(str::to_string);
                same_location(&stored, &req.body)?;
                let computed = ["provisioningState", "diskState", "diskSizeBytes", "uniqueId", "timeCreated"];
                (kept_over(&stored, &req.body, &computed), created.to_string(), managed_by)
            }
            None => (req.body.clone(), timestamp(req.now), None),
        };
        let doc = disk_doc(&body, req.id, &created, managed_by.as_deref())?;
        let due = Some(req.now + req.clock.scaled(Duration::from_secs(2)));
        Ok(PutOutcome::Write(Box::new(Written { doc, sim: None, due, also: Txn::default() })))
    }

    /// A disk attached to a VM stays until the VM lets it go.
    fn deleting(&self, resource: &StoredResource, _state: &State, _now: DateTime<Utc>) -> Result<Txn, ArmError> {
        match resource.body_value().get("managedBy").and_then(Value::as_str) {
            Some(vm) => Err(ArmError::conflict(
                "OperationNotAllowed",
                format!("Disk {} is attached to VM {vm}.", resource.id.rsplit('/').next().unwrap_or_default()),
            )),
            None => Ok(Txn::default()),
        }
    }
}

/// The disks a new VM makes (its OS disk from its image, its empty data disks), attached to it.
pub fn made_for_vm(vm: &Value, vm_id: &str, now: DateTime<Utc>, caller: &Caller) -> Vec<StoredResource> {
    let storage = &vm["properties"]["storageProfile"];
    let location = vm["location"].clone();
    let mut made = Vec::new();
    let mut make = |disk: &Value, extra: Value| {
        let Some(id) = disk.pointer("/managedDisk/id").and_then(Value::as_str) else { return };
        let account = disk.pointer("/managedDisk/storageAccountType").cloned().unwrap_or(json!("Premium_LRS"));
        let mut body = json!({ "location": location, "sku": { "name": account }, "properties": extra });
        body["properties"]["diskSizeGB"] = disk["diskSizeGB"].clone();
        if let Some(zones) = vm.get("zones").filter(|z| z.is_array()) {
            body["zones"] = zones.clone();
        }
        if let Ok(doc) = disk_doc(&body, id, &timestamp(now), Some(vm_id)) {
            made.push(new_resource(&SPEC, id.to_string(), doc, caller, now));
        }
    };
    let os_disk = &storage["osDisk"];
    if os_disk["createOption"] == "FromImage" {
        let image = image_id(vm, vm_id, storage);
        let mut creation = json!({ "createOption": "FromImage" });
        if let Some(image) = image {
            creation["imageReference"] = json!({ "id": image });
        }
        let os_type = os_disk.get("osType").cloned().unwrap_or(json!("Linux"));
        make(os_disk, json!({ "osType": os_type, "creationData": creation }));
    }
    for disk in storage["dataDisks"].as_array().into_iter().flatten().filter(|d| d["createOption"] == "Empty") {
        if disk["diskSizeGB"].is_u64() {
            make(disk, json!({ "creationData": { "createOption": "Empty" } }));
        }
    }
    made
}

/// The platform image version a VM's OS disk is made from, as Compute names it.
fn image_id(vm: &Value, vm_id: &str, storage: &Value) -> Option<String> {
    let image = &storage["imageReference"];
    let field = |name: &str| image[name].as_str();
    Some(format!(
        "/Subscriptions/{}/Providers/Microsoft.Compute/Locations/{}/Publishers/{}/ArtifactTypes/VMImage/Offers/{}/Skus/{}/Versions/{}",
        vm_id.split('/').nth(2)?,
        vm["location"].as_str()?,
        field("publisher")?,
        field("offer")?,
        field("sku")?,
        field("exactVersion")?,
    ))
}

/// What a VM's deletion does to its disks: each is deleted or detached as its `deleteOption`
/// says (`Detach` when none is given).
pub fn released(vm: &Value, state: &State, now: DateTime<Utc>, speed: f64) -> Txn {
    let mut txn = Txn::default();
    let storage = &vm["properties"]["storageProfile"];
    let disks = std::iter::once(&storage["osDisk"]).chain(storage["dataDisks"].as_array().into_iter().flatten());
    for disk in disks {
        let Some(id) = disk.pointer("/managedDisk/id").and_then(Value::as_str) else { continue };
        let Some(stored) = state.resource(&id.to_ascii_lowercase()) else { continue };
        if stored.deleting {
            continue;
        }
        let mut body = stored.body_value();
        if let Some(fields) = body.as_object_mut() {
            fields.remove("managedBy");
        }
        body["properties"]["diskState"] = json!("Unattached");
        let mut next = revised(stored, &body);
        if disk["deleteOption"] == "Delete" {
            next.deleting = true;
            next.due = Some(now + crate::sim::scaled(SPEC.delete_duration, speed));
        }
        txn.put(next);
    }
    txn
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disks_are_checked_and_filled_in() {
        let body = json!({ "location": "westus", "sku": { "name": "premium_lrs" }, "properties": { "creationData": { "createOption": "empty" }, "diskSizeGB": 100 } });
        let doc = disk_doc(&body, "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/disks/d", "t", None)
            .unwrap();
        assert_eq!(doc["sku"], json!({ "name": "Premium_LRS", "tier": "Premium" }));
        assert_eq!(
            (doc["properties"]["tier"].as_str(), doc["properties"]["diskState"].as_str()),
            (Some("P10"), Some("Unattached"))
        );
        assert_eq!(doc["properties"]["creationData"]["createOption"], "Empty");
        let mut sizeless = body.clone();
        sizeless["properties"].as_object_mut().unwrap().remove("diskSizeGB");
        assert_eq!(disk_doc(&sizeless, "x", "t", None).unwrap_err().detail.target.as_deref(), Some("diskSizeGB"));
        assert!(disk_name_rule(&format!("vm1_OsDisk_1_{}", "a".repeat(32))).is_ok());
        for bad in ["", "-d", "d.", "dé", &"é".repeat(40), &"a".repeat(81)] {
            assert!(disk_name_rule(bad).is_err(), "{bad}");
        }
    }
}

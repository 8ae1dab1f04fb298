//! Flexible scale sets: their instances are virtual machines of their own
//! (`…/virtualMachines/{set}_{8 hex}`), each naming its set in `virtualMachineScaleSet.id`, made
//! from the set's VM profile and removed newest first when the set scales in.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::scale_set_model::{computer_name, derived, Model, OsType};
use super::virtual_machines::{self, model::VmModel, VirtualMachines};
use super::vm_power::VmFailure;
use crate::arm::{timestamp, Caller};
use crate::providers::ResourceProvider;
use crate::store::{State, StoredResource, Txn};

/// The set a VM document names as its own, if any.
pub fn set_of(doc: &Value) -> Option<&str> {
    doc.pointer("/properties/virtualMachineScaleSet/id").and_then(Value::as_str)
}

/// A Flexible set's live members (not being deleted), oldest first.
pub fn members(state: &State, set_id: &str) -> Vec<Arc<StoredResource>> {
    let vm_type = VirtualMachines.spec().type_key();
    let group_prefix = set_id.split("/providers/").next().unwrap_or_default().to_ascii_lowercase();
    let prefix = format!("{group_prefix}/providers/microsoft.compute/virtualmachines/");
    let mut found: Vec<(String, Arc<StoredResource>)> = state
        .with_prefix(&prefix)
        .filter(|r| r.type_key == vm_type && !r.deleting)
        .filter_map(|r| {
            let doc = r.body_value();
            let member = set_of(&doc).is_some_and(|id| id.eq_ignore_ascii_case(set_id));
            let created =
                doc.pointer("/properties/timeCreated").and_then(Value::as_str).unwrap_or_default().to_string();
            member.then(|| (created, r.clone()))
        })
        .collect();
    found.sort_by(|(a, x), (b, y)| a.cmp(b).then_with(|| x.key().cmp(&y.key())));
    found.into_iter().map(|(_, r)| r).collect()
}

/// The name of a set's `n`th member: `{set}_{8 hex}`, as Compute names them.
pub fn member_name(set_id: &str, set_name: &str, n: u64) -> String {
    let hex = derived(set_id, &format!("instance/{n}")).simple().to_string();
    format!("{set_name}_{}", &hex[..8])
}

/// What a member's body takes from the set's model.
fn member_body(set: &Value, set_id: &str, computer: &str, zone: Option<Value>) -> Value {
    let profile = &set["properties"]["virtualMachineProfile"];
    let mut os_profile = profile.get("osProfile").cloned().unwrap_or_else(|| json!({}));
    if let Some(fields) = os_profile.as_object_mut() {
        fields.remove("computerNamePrefix");
        fields.insert("computerName".into(), json!(computer));
    }
    let mut storage = profile.get("storageProfile").cloned().unwrap_or_else(|| json!({}));
    if let Some(os_disk) = storage.get_mut("osDisk").and_then(Value::as_object_mut) {
        os_disk.remove("name");
        os_disk.entry("deleteOption").or_insert(json!("Delete"));
    }
    let network = &profile["networkProfile"];
    let mut properties = json!({
        "hardwareProfile": { "vmSize": set["sku"]["name"] },
        "storageProfile": storage,
        "osProfile": os_profile,
        "networkProfile": {
            "networkApiVersion": network.get("networkApiVersion").cloned().unwrap_or(json!("2020-11-01")),
            "networkInterfaceConfigurations": network.get("networkInterfaceConfigurations").cloned().unwrap_or(json!([])),
        },
        "virtualMachineScaleSet": { "id": set_id },
    });
    for field in [
        "diagnosticsProfile",
        "userData",
        "securityProfile",
        "priority",
        "evictionPolicy",
        "billingProfile",
        "licenseType",
    ] {
        if let Some(value) = profile.get(field).filter(|v| !v.is_null()) {
            properties[field] = value.clone();
        }
    }
    let mut body = json!({ "location": set["location"], "properties": properties });
    if let Some(tags) = set.get("tags").filter(|t| t.is_object()) {
        body["tags"] = tags.clone();
    }
    if let Some(zone) = zone {
        body["zones"] = json!([zone]);
    }
    body
}

/// A new member, the set's `n`th VM, being created, with the disks it makes, into `also`.
#[allow(clippy::too_many_arguments)]
pub fn new_member(
    also: &mut Txn,
    set: &Value,
    model: &Model,
    set_id: &str,
    set_name: &str,
    n: u64,
    (now, speed): (DateTime<Utc>, f64),
    caller: &Caller,
    failure: Option<VmFailure>,
) {
    let name = member_name(set_id, set_name, n);
    let group_prefix = set_id.split("/providers/").next().unwrap_or_default();
    let id = format!("{group_prefix}/providers/Microsoft.Compute/virtualMachines/{name}");
    let prefix = model.computer_name_prefix.clone().unwrap_or_else(|| set_name.chars().take(9).collect());
    let zone =
        set.get("zones").and_then(Value::as_array).filter(|z| !z.is_empty()).map(|z| z[n as usize % z.len()].clone());
    let body = member_body(set, set_id, &computer_name(&prefix, n), zone);
    let generation = body
        .pointer("/properties/storageProfile/imageReference")
        .and_then(|r| super::catalog::resolve_image(r, "imageReference").ok().flatten())
        .map_or("V2", |(image, _)| image.generation);
    let vm_model = VmModel { windows: model.os == OsType::Windows, generation };
    let mut doc = virtual_machines::model::vm_doc(&body, &id, &name, &timestamp(now), &vm_model);
    doc["properties"]["provisioningState"] = json!("Creating");
    for disk in super::disks::made_for_vm(&doc, &id, now, caller) {
        also.put(disk);
    }
    also.put(virtual_machines::new_vm(id, doc, now, speed, caller, failure));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_named_after_their_set() {
        let set = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachineScaleSets/web";
        let a = member_name(set, "web", 0);
        assert!(a.starts_with("web_") && a.len() == 12, "{a}");
        assert_ne!(a, member_name(set, "web", 1));
        assert_eq!(a, member_name(set, "web", 0), "stable across restarts");
    }
}

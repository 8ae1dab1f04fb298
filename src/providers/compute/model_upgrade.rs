//! A scale set's model change reaching its instances, as its upgrade policy says: `Manual` marks
//! them out of date until `manualUpgrade` names them; `Automatic` and `Rolling` bring every
//! instance to the new model at once (azemu does not stagger a rolling upgrade in batches).

use serde_json::{json, Value};

use super::scale_set_model::{vm_doc, Model};
use super::scale_set_vms::instance_of;
use super::vm_lifecycle::with_body;
use crate::arm::ArmError;
use crate::store::StoredResource;

/// Whether what the instances run differs between two versions of the set: its VM profile
/// (but for when it was made) or its VM size.
pub fn model_changed(old_set: &Value, new_set: &Value) -> bool {
    let profile = |set: &Value| {
        let mut profile = set.pointer("/properties/virtualMachineProfile").cloned().unwrap_or(Value::Null);
        if let Some(fields) = profile.as_object_mut() {
            fields.remove("timeCreated");
        }
        profile
    };
    profile(old_set) != profile(new_set) || old_set.pointer("/sku/name") != new_set.pointer("/sku/name")
}

/// Whether the set brings its instances to a new model itself (`Automatic`, `Rolling`).
pub fn upgrades_itself(set: &Value) -> bool {
    let mode = set.pointer("/properties/upgradePolicy/mode").and_then(Value::as_str).unwrap_or("Manual");
    !mode.eq_ignore_ascii_case("Manual")
}

/// The instance marked as not running the set's latest model.
pub fn out_of_date(vm: &StoredResource) -> Result<StoredResource, ArmError> {
    let mut body = vm.body_value();
    body["properties"]["latestModelApplied"] = json!(false);
    with_body(vm, &body)
}

/// The instance on the set's current model, keeping its own provisioning state, protection
/// policy, zone and creation time.
pub fn upgraded(
    vm: &StoredResource,
    set: &Value,
    model: &Model,
    set_id: &str,
    set_name: &str,
) -> Result<StoredResource, ArmError> {
    let mut body = vm.body_value();
    let instance = instance_of(vm).unwrap_or(0);
    let created = body.pointer("/properties/timeCreated").and_then(Value::as_str).unwrap_or_default().to_string();
    let mut fresh = vm_doc(set, model, set_id, set_name, instance, &created);
    for kept in ["provisioningState", "protectionPolicy"] {
        if let Some(value) = body["properties"].get(kept) {
            fresh["properties"][kept] = value.clone();
        }
    }
    for field in ["sku", "properties", "tags"] {
        body[field] = fresh[field].take();
    }
    match fresh.get_mut("resources").map(Value::take) {
        Some(resources) => body["resources"] = resources,
        None => {
            if let Some(fields) = body.as_object_mut() {
                fields.remove("resources");
            }
        }
    }
    with_body(vm, &body)
}

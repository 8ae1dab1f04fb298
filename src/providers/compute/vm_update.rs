//! `PUT …/virtualMachines/{instanceId}` (VirtualMachineScaleSetVMs_Update): what a VM's own
//! model lets a client change (tags, protection policy, user data, license type, and the
//! diagnostics, hardware and capability profiles), checked field by field. The rest of the body,
//! read-only or the set's to decide, is ignored as Compute ignores it.

use base64::Engine;
use serde_json::{Map, Value};

use crate::arm::ArmError;

/// The `properties` a VM update may set.
const WRITABLE: &[&str] =
    &["protectionPolicy", "userData", "licenseType", "diagnosticsProfile", "hardwareProfile", "additionalCapabilities"];

fn invalid(target: &str, message: impl Into<String>) -> ArmError {
    ArmError::invalid_parameter(target, message)
}

fn check_protection(policy: &Value) -> Result<(), ArmError> {
    let Some(fields) = policy.as_object() else {
        return Err(invalid("properties.protectionPolicy", "The protection policy must be an object."));
    };
    for (name, value) in fields {
        if !matches!(name.as_str(), "protectFromScaleIn" | "protectFromScaleSetActions") {
            return Err(invalid(
                &format!("properties.protectionPolicy.{name}"),
                format!("Could not find member '{name}' on object of type 'VirtualMachineScaleSetVMProtectionPolicy'."),
            ));
        }
        if !value.is_boolean() {
            return Err(invalid(
                &format!("properties.protectionPolicy.{name}"),
                format!("'{name}' must be true or false."),
            ));
        }
    }
    Ok(())
}

/// The stored model with the body's changes, or why Compute refuses them.
pub fn updated_model(stored: &Value, body: &Value) -> Result<Value, ArmError> {
    let Some(body) = body.as_object() else {
        return Err(ArmError::invalid_content("The request content must be a JSON object."));
    };
    let mut doc: Map<String, Value> = stored.as_object().cloned().unwrap_or_default();
    for envelope in ["id", "name", "type", "systemData", "etag"] {
        doc.remove(envelope);
    }
    if let Some(location) = body.get("location") {
        let same = |a: &str, b: &str| a.replace(' ', "").eq_ignore_ascii_case(&b.replace(' ', ""));
        let stored = doc.get("location").and_then(Value::as_str).unwrap_or_default();
        if !location.as_str().is_some_and(|l| same(l, stored)) {
            return Err(ArmError::conflict("PropertyChangeNotAllowed", "Changing property 'location' is not allowed.")
                .with_target("location"));
        }
    }
    if let Some(tags) = body.get("tags") {
        let valid = tags.is_null() || tags.as_object().is_some_and(|t| t.values().all(Value::is_string));
        if !valid {
            return Err(invalid("tags", "Tags must be an object whose values are strings."));
        }
        doc.insert("tags".into(), if tags.is_null() { Value::Object(Map::new()) } else { tags.clone() });
    }
    let Some(properties) = body.get("properties") else {
        return Ok(Value::Object(doc));
    };
    let Some(properties) = properties.as_object() else {
        return Err(invalid("properties", "The properties must be an object."));
    };
    let stored_properties = doc.entry("properties").or_insert_with(|| Value::Object(Map::new()));
    for name in WRITABLE {
        let Some(value) = properties.get(*name) else { continue };
        match *name {
            "protectionPolicy" => check_protection(value)?,
            "userData" => {
                let decodes =
                    value.as_str().is_some_and(|d| base64::engine::general_purpose::STANDARD.decode(d).is_ok());
                if !decodes {
                    return Err(invalid("properties.userData", "The user data must be a base64-encoded string."));
                }
            }
            // A string such as `Windows_Server` or `RHEL_BYOS`.
            "licenseType" if !value.is_string() && !value.is_null() => {
                return Err(invalid("properties.licenseType", "The license type must be a string."));
            }
            "licenseType" => {}
            _ if !value.is_object() && !value.is_null() => {
                return Err(invalid(&format!("properties.{name}"), format!("'{name}' must be an object.")));
            }
            _ => {}
        }
        stored_properties[*name] = value.clone();
    }
    Ok(Value::Object(doc))
}

/// Whether the VM is protected from scale-in (its set removes other instances first).
pub fn protected_from_scale_in(doc: &Value) -> bool {
    doc.pointer("/properties/protectionPolicy/protectFromScaleIn") == Some(&Value::Bool(true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored() -> Value {
        json!({"id": "/x", "name": "web_0", "location": "westus", "tags": {"a": "1"},
               "properties": {"vmId": "v", "latestModelApplied": true}})
    }

    #[test]
    fn writable_fields_change_and_the_rest_is_kept() {
        let body = json!({"location": "West US", "tags": {"team": "ci"},
            "properties": {"protectionPolicy": {"protectFromScaleIn": true}, "userData": "aGVsbG8=", "vmId": "other",
                "licenseType": "Windows_Server"}});
        let doc = updated_model(&stored(), &body).unwrap();
        assert_eq!(doc["properties"]["licenseType"], "Windows_Server");
        assert_eq!(doc["tags"], json!({"team": "ci"}));
        assert!(protected_from_scale_in(&doc));
        assert_eq!(doc["properties"]["userData"], "aGVsbG8=");
        assert_eq!(doc["properties"]["vmId"], "v", "read-only fields keep their value");
        assert!(doc.get("id").is_none(), "the envelope is the ARM layer's");
    }

    #[test]
    fn bad_fields_are_refused_with_their_path() {
        let target = |body: Value| updated_model(&stored(), &body).unwrap_err().detail.target;
        assert_eq!(target(json!({"tags": {"a": 1}})).as_deref(), Some("tags"));
        assert_eq!(target(json!({"location": "eastus"})).as_deref(), Some("location"));
        assert_eq!(
            target(json!({"properties": {"protectionPolicy": {"protectFromScaleIn": "yes"}}})).as_deref(),
            Some("properties.protectionPolicy.protectFromScaleIn")
        );
        assert_eq!(target(json!({"properties": {"userData": "not base64!"}})).as_deref(), Some("properties.userData"));
        assert_eq!(target(json!({"properties": {"licenseType": 5}})).as_deref(), Some("properties.licenseType"));
        assert!(updated_model(&stored(), &json!([1])).is_err());
    }
}

//! Compute's update semantics: a PUT to an existing resource keeps what the body leaves out, and
//! a `null` in the body means "not given".

use serde_json::Value;

use crate::arm::ArmError;

/// The body merged over the resource as it stands, without ARM's envelope and the `properties`
/// Compute computes itself (`computed`).
pub fn kept_over(existing: &Value, body: &Value, computed: &[&str]) -> Value {
    let mut model = existing.clone();
    if let Some(fields) = model.as_object_mut() {
        for field in ["id", "name", "type", "systemData", "etag"] {
            fields.remove(field);
        }
    }
    if let Some(properties) = model.get_mut("properties").and_then(Value::as_object_mut) {
        for field in computed {
            properties.remove(*field);
        }
    }
    crate::arm::merge_patch::merge_patch(&mut model, &without_nulls(body));
    model
}

/// A location that differs from the stored one (in any spelling) is 409, as Compute answers.
pub fn same_location(existing: &Value, body: &Value) -> Result<(), ArmError> {
    let location = |v: &Value| v["location"].as_str().map(|l| l.replace(' ', "").to_ascii_lowercase());
    match location(body).is_some_and(|l| Some(l) != location(existing)) {
        true => Err(ArmError::conflict("PropertyChangeNotAllowed", "Changing property 'location' is not allowed.")
            .with_target("location")),
        false => Ok(()),
    }
}

fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(fields) => Value::Object(
            fields.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), without_nulls(v))).collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_update_keeps_what_it_leaves_out() {
        let stored = json!({ "id": "x", "location": "westus", "tags": { "a": "1" },
            "properties": { "provisioningState": "Succeeded", "size": 1, "keep": true } });
        let merged = kept_over(&stored, &json!({ "properties": { "size": 2, "keep": null } }), &["provisioningState"]);
        assert_eq!(
            merged,
            json!({ "location": "westus", "tags": { "a": "1" }, "properties": { "size": 2, "keep": true } })
        );
        assert!(same_location(&stored, &json!({ "location": "West US" })).is_ok());
        assert_eq!(
            same_location(&stored, &json!({ "location": "eastus" })).unwrap_err().code(),
            "PropertyChangeNotAllowed"
        );
    }
}

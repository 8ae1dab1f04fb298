//! `whatIf`: what a deployment would change, resource by resource, without deploying it:
//! `Create` for what does not exist, `Modify` (with a property-level `delta`) or `NoChange` for
//! what does, `Deploy` for nested deployments, and for the group's other resources `Delete`
//! (mode `Complete`) or `Ignore`. Only the properties a template states are compared: what the
//! service adds (provisioning state, ids, timestamps) is not a change.

use serde_json::{json, Value};

use super::input::{DeploymentInput, Mode};
use super::prepare::{body_of, Prepared};
use crate::arm::ArmPath;
use crate::store::State;

/// The property changes from `before` to `after`, at `path` (`properties.addressSpace`).
fn delta(path: &str, before: Option<&Value>, after: &Value) -> Vec<Value> {
    let join = |key: &str| if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
    match (before, after) {
        (None, after) => vec![json!({ "path": path, "propertyChangeType": "Create", "after": after })],
        (Some(Value::Object(b)), Value::Object(a)) => a
            .iter()
            .flat_map(|(k, v)| {
                let found = b.iter().find(|(bk, _)| bk.eq_ignore_ascii_case(k)).map(|(_, bv)| bv);
                delta(&join(k), found, v)
            })
            .collect(),
        (Some(b), a) if same(b, a) => Vec::new(),
        (Some(b @ Value::Array(_)), a @ Value::Array(_)) => {
            vec![json!({ "path": path, "propertyChangeType": "Array", "before": b, "after": a })]
        }
        (Some(b), a) => vec![json!({ "path": path, "propertyChangeType": "Modify", "before": b, "after": a })],
    }
}

/// Values equal as ARM compares them: strings without regard to case (locations, ids).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => {
            x.eq_ignore_ascii_case(y) || x.replace(' ', "").eq_ignore_ascii_case(&y.replace(' ', ""))
        }
        _ => a == b,
    }
}

pub fn changes(input: &DeploymentInput, prepared: Prepared, state: &State, path: &ArmPath) -> Vec<Value> {
    let Prepared { mut context, plan, .. } = prepared;
    let mut out = Vec::new();
    for planned in plan.iter().filter(|p| !p.existing) {
        let key = planned.id.to_ascii_lowercase();
        let before = state.resource(&key).filter(|r| !r.deleting).map(|r| r.body_value());
        let mut change = json!({ "resourceId": planned.id });
        if planned.resource_type.eq_ignore_ascii_case("Microsoft.Resources/deployments") {
            change["changeType"] = json!("Deploy");
            out.push(change);
            continue;
        }
        let after = match body_of(planned, &mut context) {
            Ok(body) => body,
            Err(e) => {
                change["changeType"] = json!("Unsupported");
                change["unsupportedReason"] = json!(e.0);
                out.push(change);
                continue;
            }
        };
        let mut shown_after = json!({
            "id": planned.id, "name": planned.name, "type": planned.resource_type, "apiVersion": planned.api_version
        });
        if let (Some(fields), Value::Object(body)) = (shown_after.as_object_mut(), &after) {
            fields.extend(body.clone());
        }
        match before {
            None => {
                change["changeType"] = json!("Create");
                change["after"] = shown_after;
            }
            Some(before) => {
                let delta = delta("", Some(&before), &after);
                change["changeType"] = json!(if delta.is_empty() { "NoChange" } else { "Modify" });
                change["before"] = before;
                change["after"] = shown_after;
                if !delta.is_empty() {
                    change["delta"] = Value::Array(delta);
                }
            }
        }
        out.push(change);
    }
    if let Some(group) = path.resource_group() {
        let prefix =
            format!("/subscriptions/{}/resourcegroups/{group}/providers/", path.subscription()).to_ascii_lowercase();
        let named: Vec<String> = plan.iter().map(|p| p.id.to_ascii_lowercase()).collect();
        for resource in state.with_prefix(&prefix) {
            let key = resource.key();
            let top_level = key[prefix.len()..].matches('/').count() == 2;
            if !top_level || resource.type_key.starts_with("microsoft.resources/") || named.contains(&key) {
                continue;
            }
            let change_type = if input.mode == Mode::Complete { "Delete" } else { "Ignore" };
            let mut change = json!({ "resourceId": resource.id, "changeType": change_type });
            if input.mode == Mode::Complete {
                change["before"] = resource.body_value();
            }
            out.push(change);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_stated_properties_are_compared() {
        let before =
            json!({ "location": "westus", "properties": { "a": 1, "provisioningState": "Succeeded", "list": [1] } });
        assert!(delta("", Some(&before), &json!({ "location": "West US", "properties": { "a": 1 } })).is_empty());
        let changed = delta("", Some(&before), &json!({ "properties": { "a": 2, "b": true, "list": [1, 2] } }));
        assert_eq!(
            changed,
            vec![
                json!({ "path": "properties.a", "propertyChangeType": "Modify", "before": 1, "after": 2 }),
                json!({ "path": "properties.b", "propertyChangeType": "Create", "after": true }),
                json!({ "path": "properties.list", "propertyChangeType": "Array", "before": [1], "after": [1, 2] }),
            ]
        );
    }
}

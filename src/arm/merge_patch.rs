//! JSON merge patch (RFC 7386), the semantics of an ARM PATCH body: objects merge member by
//! member, `null` removes a member, anything else replaces.

use serde_json::Value;

pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(members) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let Value::Object(into) = target else { return };
    for (name, value) in members {
        if value.is_null() {
            into.remove(name);
        } else {
            merge_patch(into.entry(name.clone()).or_insert(Value::Null), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_merge_nulls_remove_the_rest_replaces() {
        let mut doc =
            json!({"tags": {"a": "1", "b": "2"}, "properties": {"x": 1, "list": [1, 2]}, "location": "eastus"});
        merge_patch(&mut doc, &json!({"tags": {"b": null, "c": "3"}, "properties": {"list": [3]}}));
        assert_eq!(
            doc,
            json!({"tags": {"a": "1", "c": "3"}, "properties": {"x": 1, "list": [3]}, "location": "eastus"})
        );
    }
}

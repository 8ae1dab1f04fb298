//! Tags: ARM's limits on every write of every type, and `Microsoft.Resources/tags/default` at a
//! resource's or resource group's scope (GET, PUT, PATCH with `Merge` / `Replace` / `Delete`,
//! DELETE), which writes a new version of the scope resource with only its tags changed.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::super::envelope::{check_preconditions, revised, system_data};
use super::super::request::ArmRequest;
use super::super::respond::{json_response, no_content};
use super::super::ArmError;
use crate::app::App;
use crate::store::Txn;

pub const MAX_TAGS: usize = 50;
pub const MAX_NAME_LENGTH: usize = 512;
pub const MAX_VALUE_LENGTH: usize = 256;
const RESERVED: &[char] = &['<', '>', '%', '&', '\\', '?', '/'];

/// Checks a body's `tags` against ARM's limits (anything but an object is the provider's to refuse).
pub fn check(tags: Option<&Value>) -> Result<(), ArmError> {
    tags.and_then(Value::as_object).map_or(Ok(()), check_map)
}

/// Checks tags against ARM's limits.
fn check_map(tags: &Map<String, Value>) -> Result<(), ArmError> {
    let refuse = |code: &str, message: String| Err(ArmError::bad_request(code, message).with_target("tags"));
    if tags.len() > MAX_TAGS {
        return refuse(
            "InvalidTagCount",
            format!(
                "Too many tags specified. Requested tag count - '{}'. Maximum number of tags allowed - '{MAX_TAGS}'.",
                tags.len()
            ),
        );
    }
    if tags.keys().any(|k| k.trim().is_empty()) {
        return refuse("InvalidTagName", "The tag name must be non-null, non-empty and non-whitespace only.".into());
    }
    let reserved: Vec<&str> = tags
        .keys()
        .filter(|k| k.chars().any(|c| RESERVED.contains(&c) || c.is_control()))
        .map(String::as_str)
        .collect();
    if !reserved.is_empty() {
        return refuse(
            "InvalidTagNameCharacters",
            format!(
                "The tag names '{}' have reserved characters '<,>,%,&,\\,?,/' or control characters.",
                reserved.join(",")
            ),
        );
    }
    if let Some(long) = tags.keys().find(|k| k.chars().count() > MAX_NAME_LENGTH) {
        return refuse(
            "InvalidTagNameLength",
            format!("The tag name '{long}' exceeds the maximum length of {MAX_NAME_LENGTH} characters."),
        );
    }
    for (name, value) in tags {
        let Some(text) = value.as_str() else {
            return refuse("InvalidTagValue", format!("The value of tag '{name}' must be a string."));
        };
        if text.chars().count() > MAX_VALUE_LENGTH {
            return refuse(
                "InvalidTagValueLength",
                format!("The value of tag '{name}' exceeds the maximum length of {MAX_VALUE_LENGTH} characters."),
            );
        }
    }
    Ok(())
}

/// How a PATCH of the tags resource changes them.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Operation {
    Replace,
    Merge,
    Delete,
}

/// The `properties.tags` of a tags-resource body (an object; absent is empty).
fn body_tags(body: &Value) -> Result<Map<String, Value>, ArmError> {
    let properties = body.get("properties").ok_or_else(|| {
        ArmError::invalid_content("The request content must have 'properties'.").with_target("properties")
    })?;
    match properties.get("tags") {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(tags)) => {
            check_map(tags)?;
            Ok(tags.clone())
        }
        Some(_) => {
            Err(ArmError::invalid_content("'properties.tags' must be an object of strings.")
                .with_target("properties.tags"))
        }
    }
}

fn patch_operation(body: &Value) -> Result<Operation, ArmError> {
    let operation = body.get("operation").and_then(Value::as_str).unwrap_or_default();
    match operation.to_ascii_lowercase().as_str() {
        "replace" => Ok(Operation::Replace),
        "merge" => Ok(Operation::Merge),
        "delete" => Ok(Operation::Delete),
        _ => Err(ArmError::bad_request(
            "InvalidTagOperation",
            format!("The tag operation '{operation}' is invalid. Allowed values are 'Replace', 'Merge' and 'Delete'."),
        )
        .with_target("operation")),
    }
}

/// The scope's tags after the operation.
fn changed(current: &Map<String, Value>, given: Map<String, Value>, operation: Operation) -> Map<String, Value> {
    match operation {
        Operation::Replace => given,
        Operation::Merge => {
            let mut merged = current.clone();
            merged.extend(given);
            merged
        }
        // A name alone deletes the tag; a name with a value deletes it only when the value matches.
        Operation::Delete => current
            .iter()
            .filter(|(name, value)| {
                !given
                    .iter()
                    .any(|(n, v)| n.eq_ignore_ascii_case(name) && (v.as_str().is_none_or(str::is_empty) || v == *value))
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

fn document(scope_id: &str, tags: &Map<String, Value>) -> Value {
    json!({
        "id": format!("{scope_id}/providers/Microsoft.Resources/tags/default"),
        "name": "default",
        "type": "Microsoft.Resources/tags",
        "properties": { "tags": tags },
    })
}

fn scope_missing(req: &ArmRequest, scope_id: &str) -> ArmError {
    let scope_sections = req.path.scope_sections().count();
    match req.path.resource_group() {
        Some(group) if scope_sections == 0 => ArmError::resource_group_not_found(group),
        _ => ArmError::not_found("ResourceNotFound", format!("The Resource '{scope_id}' was not found.")),
    }
}

/// The tags resource at the request's scope.
pub(super) async fn answer(app: &App, req: &ArmRequest) -> Result<Response, ArmError> {
    let scope_id = req.path.scope_id();
    if req.path.resource_group().is_none() {
        return Err(ArmError::bad_request(
            "InvalidScope",
            "azemu keeps tags on resource groups and resources, not on subscriptions.",
        ));
    }
    let key = scope_id.to_ascii_lowercase();
    let operation = match req.method {
        Method::GET => None,
        Method::PUT => Some((Operation::Replace, body_tags(&req.required_json_body()?)?)),
        Method::PATCH => {
            let body = req.required_json_body()?;
            Some((patch_operation(&body)?, body_tags(&body)?))
        }
        Method::DELETE => Some((Operation::Replace, Map::new())),
        _ => return Err(ArmError::method_not_allowed(req.method.as_str(), req.raw_path())),
    };
    let Some((operation, given)) = operation else {
        let doc = app
            .store
            .read_durable(|s, latest| match s.resource(&key) {
                Some(r) => (Some(r.body_value()), r.seq),
                None => (None, latest),
            })
            .await
            .ok_or_else(|| scope_missing(req, &scope_id))?;
        let tags = doc.get("tags").and_then(Value::as_object).cloned().unwrap_or_default();
        return Ok(json_response(StatusCode::OK, &document(&scope_id, &tags)));
    };
    let deleting = req.method == Method::DELETE;
    let tags = app
        .store
        .write(|state| {
            let resource = state.resource(&key).ok_or_else(|| scope_missing(req, &scope_id))?;
            check_preconditions(req.header("if-match"), req.header("if-none-match"), Some(&resource.etag))?;
            if resource.deleting {
                return Err(ArmError::conflict(
                    "Conflict",
                    format!("The resource '{scope_id}' is being deleted; retry when the deletion completes."),
                ));
            }
            let mut body = resource.body_value();
            let current = body.get("tags").and_then(Value::as_object).cloned().unwrap_or_default();
            let tags = changed(&current, given, operation);
            check_map(&tags)?;
            if tags == current {
                return Ok((Txn::default(), tags));
            }
            body["systemData"] = system_data(Some(&body), &req.caller, app.clock.now());
            body["tags"] = Value::Object(tags.clone());
            let mut txn = Txn::default();
            txn.put(revised(resource, &body));
            Ok::<_, ArmError>((txn, tags))
        })
        .await?;
    if deleting {
        return Ok(no_content(StatusCode::OK));
    }
    Ok(json_response(StatusCode::OK, &document(&scope_id, &tags)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Map<String, Value> {
        pairs.iter().map(|(k, v)| (k.to_string(), json!(v))).collect()
    }

    #[test]
    fn limits() {
        assert!(check(Some(&json!({"env": "prod"}))).is_ok());
        assert!(check(None).is_ok());
        let many: Map<String, Value> = (0..51).map(|i| (format!("t{i}"), json!("v"))).collect();
        assert_eq!(check(Some(&Value::Object(many))).unwrap_err().code(), "InvalidTagCount");
        assert_eq!(check(Some(&json!({"a/b": "v"}))).unwrap_err().code(), "InvalidTagNameCharacters");
        assert_eq!(check(Some(&json!({"a\u{1}": "v"}))).unwrap_err().code(), "InvalidTagNameCharacters");
        assert_eq!(check(Some(&json!({"x".repeat(513): "v"}))).unwrap_err().code(), "InvalidTagNameLength");
        assert_eq!(check(Some(&json!({"k": "v".repeat(257)}))).unwrap_err().code(), "InvalidTagValueLength");
        assert_eq!(check(Some(&json!({"k": 1}))).unwrap_err().code(), "InvalidTagValue");
        assert_eq!(check(Some(&json!({" ": "v"}))).unwrap_err().code(), "InvalidTagName");
    }

    #[test]
    fn operations() {
        let current = tags(&[("env", "prod"), ("team", "ci")]);
        let merged = changed(&current, tags(&[("env", "dev"), ("new", "1")]), Operation::Merge);
        assert_eq!(merged, tags(&[("env", "dev"), ("team", "ci"), ("new", "1")]));
        assert_eq!(changed(&current, tags(&[("a", "b")]), Operation::Replace), tags(&[("a", "b")]));
        assert_eq!(changed(&current, tags(&[("ENV", "")]), Operation::Delete), tags(&[("team", "ci")]));
        assert_eq!(changed(&current, tags(&[("team", "other")]), Operation::Delete), current);
        assert_eq!(patch_operation(&json!({"operation": "Sideways"})).unwrap_err().code(), "InvalidTagOperation");
    }
}

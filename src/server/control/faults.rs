//! `/_azemu/faults`: add, list, read and remove fault rules, and list the failure points every
//! provider declares.

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::app::App;
use crate::arm::operation_id::operation_ids;
use crate::arm::platform::Platform;
use crate::arm::respond::{json_response, no_content};
use crate::arm::ArmError;
use crate::faults::{check, parse_rules};

/// `rest` is the path after `faults`: empty, `/points` or `/{id}`.
pub fn handle(app: &App, method: &Method, rest: &str, body: &[u8]) -> Response {
    match (method, rest.trim_end_matches('/')) {
        (&Method::GET, "") => json_response(StatusCode::OK, &json!({ "value": app.faults.list() })),
        (&Method::POST, "") => add(app, body),
        (&Method::DELETE, "") => {
            app.faults.clear();
            no_content(StatusCode::NO_CONTENT)
        }
        (&Method::GET, "/points") => json_response(StatusCode::OK, &json!({ "value": points(app) })),
        (&Method::GET, id) if !id.is_empty() => match app.faults.get(&id[1..]) {
            Some(rule) => json_response(StatusCode::OK, &rule),
            None => no_rule(&id[1..]),
        },
        (&Method::DELETE, id) if !id.is_empty() => match app.faults.remove(&id[1..]) {
            true => no_content(StatusCode::NO_CONTENT),
            false => no_rule(&id[1..]),
        },
        _ => ArmError::method_not_allowed(method.as_str(), &format!("/_azemu/faults{rest}")).into_response(),
    }
}

fn no_rule(id: &str) -> Response {
    ArmError::not_found("FaultRuleNotFound", format!("There is no fault rule '{id}'.")).into_response()
}

/// One rule, or an array of rules added together (all or none).
fn add(app: &App, body: &[u8]) -> Response {
    let input: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return ArmError::invalid_content(format!("A fault rule must be JSON: {e}.")).into_response(),
    };
    let many = input.is_array();
    let checked = parse_rules(&input).and_then(|rules| {
        rules
            .into_iter()
            .enumerate()
            .map(|(i, r)| check(r).map_err(|e| numbered(many, i, e)))
            .collect::<Result<Vec<_>, _>>()
    });
    match checked {
        Err(message) => ArmError::bad_request("InvalidFaultRule", message).into_response(),
        Ok(rules) => {
            let now = app.clock.now();
            let mut added: Vec<Value> = rules.into_iter().map(|r| app.faults.add(r, now)).collect();
            let body = if many { json!({ "value": added }) } else { added.remove(0) };
            json_response(StatusCode::CREATED, &body)
        }
    }
}

fn numbered(many: bool, index: usize, message: String) -> String {
    if many {
        format!("rule {}: {message}", index + 1)
    } else {
        message
    }
}

fn points(app: &App) -> Vec<Value> {
    let providers = app.registry.all().into_iter().map(|p| {
        json!({
            "protocol": "arm",
            "resourceType": p.spec().full_type(),
            "operations": operation_ids(p.spec()),
            "steps": p.failure_steps(),
        })
    });
    let platform = Platform::OPERATIONS.iter().map(|(resource_type, operations)| {
        json!({ "protocol": "arm", "resourceType": resource_type, "operations": operations, "steps": [] })
    });
    let catalogs = crate::arm::catalog::operations(app.registry.catalogs()).into_iter().map(|(resource_type, operations)| {
        json!({ "protocol": "arm", "resourceType": resource_type, "operations": operations, "steps": [] })
    });
    providers.chain(platform).chain(catalogs).collect()
}

//! A deployment's document, made from its run: what `GET …/deployments/{d}` answers, and the
//! documents of its deployment operations (`…/deployments/{d}/operations/{id}`).

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::run_state::{DeploymentRun, Step, StepState};
use crate::arm::formats::iso_duration;
use crate::arm::timestamp;

/// `parameters` as the document shows them: `{type, value}`, secure ones without their value.
fn shown_parameters(run: &DeploymentRun) -> Value {
    let mut shown = Map::new();
    for (name, value) in &run.parameters {
        let kind = run.parameter_types.get(name).cloned().unwrap_or(json!("String"));
        let entry = match run.secure.iter().any(|s| s.eq_ignore_ascii_case(name)) {
            true => json!({ "type": kind }),
            false => json!({ "type": kind, "value": value }),
        };
        shown.insert(name.clone(), entry);
    }
    Value::Object(shown)
}

fn type_parts(resource_type: &str) -> (&str, &str) {
    resource_type.split_once('/').unwrap_or((resource_type, ""))
}

/// `providers`: the namespaces and types the template deploys, with their locations.
fn providers(run: &DeploymentRun, location: Option<&str>) -> Value {
    let mut namespaces: Vec<(String, Vec<String>)> = Vec::new();
    for step in run.steps.iter().filter(|s| !s.existing) {
        let (namespace, resource_type) = type_parts(&step.resource_type);
        let at = match namespaces.iter().position(|(n, _)| n.eq_ignore_ascii_case(namespace)) {
            Some(at) => at,
            None => {
                namespaces.push((namespace.to_string(), Vec::new()));
                namespaces.len() - 1
            }
        };
        if !namespaces[at].1.iter().any(|t| t.eq_ignore_ascii_case(resource_type)) {
            namespaces[at].1.push(resource_type.to_string());
        }
    }
    let locations: Vec<&str> = location.into_iter().collect();
    Value::Array(
        namespaces
            .into_iter()
            .map(|(namespace, types)| {
                let types: Vec<Value> =
                    types.iter().map(|t| json!({ "resourceType": t, "locations": locations })).collect();
                json!({ "namespace": namespace, "resourceTypes": types })
            })
            .collect(),
    )
}

fn named(step: &Step) -> Value {
    json!({ "id": step.id, "resourceType": step.resource_type, "resourceName": step.name })
}

/// `dependencies`: each resource that waits for others, and what it waits for.
fn dependencies(run: &DeploymentRun) -> Value {
    Value::Array(
        run.steps
            .iter()
            .filter(|s| !s.depends_on.is_empty())
            .map(|s| {
                let mut entry = named(s);
                entry["dependsOn"] = Value::Array(s.depends_on.iter().map(|&d| named(&run.steps[d])).collect());
                entry
            })
            .collect(),
    )
}

/// The document's own fields (the ARM layer adds id, name, type and systemData).
pub fn deployment_doc(run: &DeploymentRun, location: Option<&str>, tags: Option<&Value>, now: DateTime<Utc>) -> Value {
    let ended = run.ended.unwrap_or(now);
    let mut properties = json!({
        "templateHash": run.template_hash,
        "parameters": shown_parameters(run),
        "mode": run.mode.as_str(),
        "provisioningState": run.state.as_str(),
        "timestamp": timestamp(if run.state.is_terminal() { ended } else { now }),
        "duration": iso_duration(ended - run.started),
        "correlationId": run.correlation_id,
        "providers": providers(run, location),
        "dependencies": dependencies(run),
    });
    for (key, value) in &run.echoed {
        properties[key] = value.clone();
    }
    let deployed: Vec<Value> = run
        .steps
        .iter()
        .filter(|s| s.state == StepState::Succeeded && !s.existing)
        .map(|s| json!({ "id": s.id }))
        .collect();
    if run.state.is_terminal() {
        properties["outputResources"] = Value::Array(deployed);
        properties["outputs"] = run.outputs.clone().unwrap_or_else(|| json!({}));
    }
    if let Some(error) = &run.error {
        properties["error"] = error.clone();
    }
    let mut doc = json!({ "properties": properties });
    if let Some(location) = location {
        doc["location"] = json!(location);
    }
    if let Some(tags) = tags.filter(|t| t.is_object()) {
        doc["tags"] = tags.clone();
    }
    doc
}

/// ARM's `DeploymentFailed`, with a detail per failed resource (its own error).
pub fn deployment_failed(run: &DeploymentRun) -> Value {
    let details: Vec<Value> = run.steps.iter().filter_map(|s| s.error.clone()).collect();
    json!({
        "code": "DeploymentFailed",
        "message": "At least one resource deployment operation failed. Please list deployment operations for details. Please see https://aka.ms/arm-deployment-operations for usage details.",
        "details": details,
    })
}

/// A deployment operation's document (the ARM layer adds name, type and systemData).
pub fn operation_doc(deployment_id: &str, step: &Step, now: DateTime<Utc>) -> Value {
    let state = match step.state {
        StepState::Running | StepState::Waiting => "Running",
        StepState::Succeeded => "Succeeded",
        StepState::Failed => "Failed",
        StepState::Skipped => "Canceled",
    };
    let started = step.started.unwrap_or(now);
    let mut target = named(step);
    target["apiVersion"] = json!(step.api_version);
    if let Some(symbolic) = &step.symbolic {
        target["symbolicName"] = json!(symbolic);
    }
    let mut properties = json!({
        "provisioningOperation": if step.existing { "Read" } else { "Create" },
        "provisioningState": state,
        "timestamp": timestamp(step.ended.unwrap_or(now)),
        "duration": iso_duration(step.ended.unwrap_or(now) - started),
        "trackingId": crate::templates::hashes::guid(&[deployment_id, &step.operation_id]),
        "targetResource": target,
    });
    if let Some(code) = &step.status_code {
        properties["statusCode"] = json!(code);
        properties["statusMessage"] = match &step.error {
            Some(error) => json!({ "status": "Failed", "error": error }),
            None => json!({ "status": "OK" }),
        };
    }
    json!({ "operationId": step.operation_id, "properties": properties })
}

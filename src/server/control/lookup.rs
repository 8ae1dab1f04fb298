//! `GET /_azemu/resource?id=…`: one resource's current document without auth or api-version,
//! with the journal position it corresponds to, so a follower (`azemu watch`) can take the
//! document and then every change after it. `&children=true` adds the resources nested below
//! it (a deployment's operations), at most `MAX_CHILDREN`.

use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::app::App;
use crate::arm::document;
use crate::arm::respond::json_response;
use crate::arm::ArmError;

const MAX_CHILDREN: usize = 1000;

pub fn resource(app: &App, parts: &Parts) -> Response {
    let query = parts.uri.query().unwrap_or_default();
    let Some(id) = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "id").map(|(_, v)| v.into_owned())
    else {
        return ArmError::invalid_parameter("id", "Name the resource: ?id=<resource id>.").into_response();
    };
    let now = app.clock.now();
    // Changes up to now are numbered first: the document reflects them all.
    app.journal.changes.catch_up(&app.journal, now);
    let last_seq = app.journal.last_seq();
    let with_children = form_urlencoded::parse(query.as_bytes()).any(|(k, v)| k == "children" && v == "true");
    let key = id.to_ascii_lowercase();
    let (found, children) = app.store.read(|s| {
        let prefix = format!("{key}/");
        let children: Vec<_> = match with_children {
            true => s.with_prefix(&prefix).take(MAX_CHILDREN).cloned().collect(),
            false => Vec::new(),
        };
        (s.resource(&key).cloned(), children)
    });
    let Some(resource) = found else {
        return ArmError::not_found("ResourceNotFound", format!("There is no resource '{id}'.")).into_response();
    };
    let doc = document::current(&app.registry, &resource, now);
    let resource_type = app.registry.full_type_of(&resource.type_key).to_string();
    let mut found = json!({
        "id": resource.id,
        "type": resource_type,
        "document": serde_json::from_slice::<Value>(&doc).unwrap_or(Value::Null),
        "lastSeq": last_seq,
    });
    if with_children {
        let children: Vec<Value> = children
            .iter()
            .map(|child| {
                let doc = document::current_unkept(&app.registry, child, now);
                json!({
                    "id": child.id,
                    "type": app.registry.full_type_of(&child.type_key),
                    "document": serde_json::from_slice::<Value>(&doc).unwrap_or(Value::Null),
                })
            })
            .collect();
        found["children"] = Value::Array(children);
    }
    json_response(StatusCode::OK, &found)
}

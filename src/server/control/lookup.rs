//! `GET /_azemu/resource?id=…`: one resource's current document without auth or api-version,
//! with the journal position it corresponds to, so a follower (`azemu watch`) can take the
//! document and then every change after it.

use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::app::App;
use crate::arm::document;
use crate::arm::respond::json_response;
use crate::arm::ArmError;

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
    let found = app.store.read(|s| s.resource(&id.to_ascii_lowercase()).cloned());
    let Some(resource) = found else {
        return ArmError::not_found("ResourceNotFound", format!("There is no resource '{id}'.")).into_response();
    };
    let doc = document::current(&app.registry, &resource, now);
    let resource_type = app.registry.full_type_of(&resource.type_key).to_string();
    json_response(
        StatusCode::OK,
        &json!({
            "id": resource.id,
            "type": resource_type,
            "document": serde_json::from_slice::<Value>(&doc).unwrap_or(Value::Null),
            "lastSeq": last_seq,
        }),
    )
}

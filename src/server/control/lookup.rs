//! `GET /_azemu/resource?id=…`: one resource's current document without auth or api-version,
//! with the journal position it corresponds to, so a follower (`azemu watch`) can take the
//! document and then every change after it. `&children=true` adds the resources nested below
//! it (a deployment's operations), at most `MAX_CHILDREN`; `&views=true` adds, for each, what
//! its read-only views answer now (a VM's `instanceView`, a publishing operation's `detail`)
//! and when a view next changes (`nextChange`), for the dashboard.

use std::sync::Arc;

use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use crate::app::App;
use crate::arm::respond::json_response;
use crate::arm::{document, timestamp, ArmError};
use crate::store::{State, StoredResource};

const MAX_CHILDREN: usize = 1000;

pub fn resource(app: &App, parts: &Parts) -> Response {
    let query = parts.uri.query().unwrap_or_default();
    let asks = |name: &str| form_urlencoded::parse(query.as_bytes()).any(|(k, v)| k == name && v == "true");
    let Some(id) = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "id").map(|(_, v)| v.into_owned())
    else {
        return ArmError::invalid_parameter("id", "Name the resource: ?id=<resource id>.").into_response();
    };
    let now = app.clock.now();
    // Changes up to now are numbered first: the document reflects them all.
    app.journal.changes.catch_up(&app.journal, now);
    let last_seq = app.journal.last_seq();
    let (with_children, with_views) = (asks("children"), asks("views"));
    let key = id.to_ascii_lowercase();
    let found = app.store.read(|s| {
        let resource = s.resource(&key)?;
        let mut found = describe(app, resource, document::current(&app.registry, resource, now));
        if with_views {
            add_views(app, &mut found, resource, s, now);
        }
        if with_children {
            let prefix = format!("{key}/");
            let children = s.with_prefix(&prefix).take(MAX_CHILDREN).map(|child| {
                let mut shown = describe(app, child, document::current_unkept(&app.registry, child, now));
                if with_views {
                    add_views(app, &mut shown, child, s, now);
                }
                shown
            });
            found["children"] = Value::Array(children.collect());
        }
        Some(found)
    });
    let Some(mut found) = found else {
        return ArmError::not_found("ResourceNotFound", format!("There is no resource '{id}'.")).into_response();
    };
    found["lastSeq"] = json!(last_seq);
    json_response(StatusCode::OK, &found)
}

fn describe(app: &App, resource: &StoredResource, doc: impl AsRef<[u8]>) -> Value {
    json!({
        "id": resource.id,
        "type": app.registry.full_type_of(&resource.type_key),
        "document": serde_json::from_slice::<Value>(doc.as_ref()).unwrap_or(Value::Null),
    })
}

/// The resource's read-only views as they stand at `now`, and the earliest time one changes.
fn add_views(app: &App, shown: &mut Value, resource: &Arc<StoredResource>, state: &State, now: DateTime<Utc>) {
    let mut views = Map::new();
    let mut next: Option<DateTime<Utc>> = None;
    if let Some((detail, changes)) = crate::partner::operations::detail_now(resource, now) {
        views.insert("detail".into(), detail);
        next = earliest(next, changes);
    } else if let Some(provider) = app.registry.get(&resource.type_key) {
        for view in provider.spec().views {
            if let Ok(rendered) = provider.view(view.path, resource, state, now) {
                views.insert(view.path.to_string(), serde_json::from_slice(&rendered.doc).unwrap_or(Value::Null));
                next = earliest(next, rendered.next_change());
            }
        }
    }
    if !views.is_empty() {
        shown["views"] = Value::Object(views);
    }
    if let Some(at) = next {
        shown["nextChange"] = json!(timestamp(at));
    }
}

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

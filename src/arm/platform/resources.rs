//! `GET /subscriptions/{s}/resources` and `…/resourceGroups/{g}/resources`: every top-level
//! tracked resource azemu holds, in ARM's generic shape, with `$filter`, `$top`, `$expand` and
//! `nextLink` paging.

use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Map, Value};

use super::super::document;
use super::super::paging::{next_link, page, PageRequest};
use super::super::request::ArmRequest;
use super::super::respond::json_bytes;
use super::super::ArmError;
use super::resource_filter::ResourceFilter;
use crate::app::App;
use crate::store::StoredResource;

/// The fields of ARM's generic resource, in its order.
const GENERIC_FIELDS: &[&str] = &[
    "id",
    "name",
    "type",
    "kind",
    "location",
    "extendedLocation",
    "managedBy",
    "sku",
    "plan",
    "identity",
    "zones",
    "tags",
];

/// What `$expand` may add.
#[derive(Default)]
struct Expand {
    created: bool,
    changed: bool,
    provisioning: bool,
}

impl Expand {
    fn parse(expand: Option<&str>) -> Expand {
        let mut out = Expand::default();
        for part in expand.unwrap_or_default().split(',').map(str::trim) {
            match part.to_ascii_lowercase().as_str() {
                "createdtime" => out.created = true,
                "changedtime" => out.changed = true,
                "provisioningstate" => out.provisioning = true,
                _ => {}
            }
        }
        out
    }
}

/// Whether a stored resource is one ARM lists: a registered top-level type of a provider (not
/// a resource group, not an extension), right under a resource group.
fn listed(app: &App, resource: &StoredResource) -> bool {
    // ARM's own types (groups, deployments) are not resources it lists.
    if resource.type_key.starts_with("microsoft.resources/") || resource.type_key.matches('/').count() != 1 {
        return false;
    }
    let registered = app.registry.get(&resource.type_key).is_some_and(|p| !p.spec().extension);
    registered && resource.id.matches("/providers/").count() == 1
}

fn generic(doc: &Value, expand: &Expand) -> Value {
    let mut out = Map::new();
    for field in GENERIC_FIELDS {
        if let Some(value) = doc.get(*field).filter(|v| !v.is_null()) {
            out.insert(field.to_string(), value.clone());
        }
    }
    let system = |field: &str| doc.pointer(&format!("/systemData/{field}")).cloned();
    if let Some(at) = system("createdAt").filter(|_| expand.created) {
        out.insert("createdTime".into(), at);
    }
    if let Some(at) = system("lastModifiedAt").filter(|_| expand.changed) {
        out.insert("changedTime".into(), at);
    }
    if let Some(state) = doc.pointer("/properties/provisioningState").filter(|_| expand.provisioning) {
        out.insert("provisioningState".into(), state.clone());
    }
    Value::Object(out)
}

/// The resource group an id lies in, as the id spells it.
fn group_of(id: &str) -> &str {
    id.split('/').nth(4).unwrap_or_default()
}

pub(super) async fn list(app: &App, req: &ArmRequest) -> Result<Response, ArmError> {
    let paging = PageRequest::parse(req.query("$top"), req.query("$skipToken"))?;
    // The Azure CLI sends an empty `$filter` when it has none.
    let filter = req.query("$filter").filter(|f| !f.trim().is_empty()).map(ResourceFilter::parse).transpose()?;
    let expand = Expand::parse(req.query("$expand"));
    let path = &req.path;
    let mut prefix = format!("/subscriptions/{}/", path.subscription());
    if let Some(group) = path.resource_group() {
        prefix.push_str(&format!("resourcegroups/{group}/"));
    }
    prefix.make_ascii_lowercase();
    let now = app.clock.now();
    let items: Vec<(String, Bytes)> = app
        .store
        .read_durable(|s, latest| {
            let items = s
                .with_prefix(&prefix)
                .filter(|r| paging.after.as_deref().is_none_or(|a| r.key().as_str() > a))
                .filter(|r| listed(app, r))
                .filter_map(|r| {
                    let doc: Value = serde_json::from_slice(&document::current(&app.registry, r, now)).ok()?;
                    let doc = generic(&doc, &expand);
                    let kept = filter.as_ref().is_none_or(|f| f.keeps(&doc, group_of(&r.id)));
                    kept.then(|| (r.key(), crate::store::to_bytes(&doc)))
                })
                .take(paging.top + 1)
                .collect();
            (items, latest)
        })
        .await;
    let body = page(items.into_iter(), &paging, |token| next_link(req, token));
    Ok(json_bytes(StatusCode::OK, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn generic_shape_and_expansions() {
        let doc = json!({"id": "/x", "name": "n", "type": "T/t", "location": "westus", "tags": {"a": "b"},
                         "properties": {"provisioningState": "Creating"}, "sku": {"name": "s"}, "zones": null,
                         "systemData": {"createdAt": "c", "lastModifiedAt": "m"}});
        let plain = generic(&doc, &Expand::parse(None));
        assert_eq!(
            plain,
            json!({"id": "/x", "name": "n", "type": "T/t", "location": "westus", "sku": {"name": "s"}, "tags": {"a": "b"}})
        );
        let all = generic(&doc, &Expand::parse(Some("createdTime, changedTime,provisioningState")));
        assert_eq!(
            (&all["createdTime"], &all["changedTime"], &all["provisioningState"]),
            (&json!("c"), &json!("m"), &json!("Creating"))
        );
        assert_eq!(group_of("/subscriptions/s/resourceGroups/RG/providers/a/b/c"), "RG");
    }
}

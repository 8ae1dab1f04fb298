//! The ARM envelope around a provider's document: id, name, type, systemData, ETag.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::contract::ResourceTypeSpec;
use super::stamp::Stamp;
use crate::store::StoredResource;

/// Who made a request, as systemData names them.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    /// Shared: every request of a caller hands its name to the journal and the metrics.
    pub name: std::sync::Arc<str>,
    /// `User`, `Application`, `ManagedIdentity` or `Key`.
    pub kind: &'static str,
}

impl Caller {
    pub fn anonymous() -> Caller {
        static ANONYMOUS: std::sync::LazyLock<std::sync::Arc<str>> = std::sync::LazyLock::new(|| "anonymous".into());
        Caller { name: ANONYMOUS.clone(), kind: "User" }
    }
}

pub fn timestamp(at: DateTime<Utc>) -> String {
    Stamp::of(at).as_str().to_string()
}

/// Serialises a timestamp the way [`timestamp`] writes it (for `serialize_with`).
pub fn serialize_timestamp<S: serde::Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(Stamp::of(*at).as_str())
}

/// Serialises optional timestamps the way [`timestamp`] writes them (microseconds, `Z`).
pub mod optional_timestamp {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(at) => s.serialize_str(super::Stamp::of(*at).as_str()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<DateTime<Utc>>::deserialize(d)
    }
}

pub fn new_etag() -> String {
    format!("\"{}\"", uuid::Uuid::new_v4().simple())
}

/// A new version of a resource of type `spec` with `body`, under a new ETag, which the body
/// carries too when the type's documents show it.
pub fn stored(spec: &ResourceTypeSpec, id: String, mut body: Value) -> StoredResource {
    let etag = new_etag();
    if spec.etag_in_body {
        if let Some(fields) = body.as_object_mut() {
            fields.insert("etag".into(), json!(etag));
        }
    }
    StoredResource::new(id, spec.type_key().to_string(), &body, etag)
}

/// systemData for a write now by `caller`, keeping the creation fields of an earlier version.
pub fn system_data(previous: Option<&Value>, caller: &Caller, now: DateTime<Utc>) -> Value {
    let stamp = timestamp(now);
    let created = previous.and_then(|p| p.get("systemData")).filter(|s| s.get("createdAt").is_some());
    let (created_by, created_by_type, created_at) = match created {
        Some(s) => (s["createdBy"].clone(), s["createdByType"].clone(), s["createdAt"].clone()),
        None => (json!(*caller.name), json!(caller.kind), json!(stamp)),
    };
    json!({
        "createdBy": created_by,
        "createdByType": created_by_type,
        "createdAt": created_at,
        "lastModifiedBy": *caller.name,
        "lastModifiedByType": caller.kind,
        "lastModifiedAt": stamp,
    })
}

/// Puts id, name and type first, then the provider's own fields, then systemData.
pub fn wrap(id: &str, name: &str, full_type: &str, doc: Value, system_data: Value) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), json!(id));
    out.insert("name".into(), json!(name));
    out.insert("type".into(), json!(full_type));
    if let Value::Object(fields) = doc {
        for (k, v) in fields {
            if !matches!(k.as_str(), "id" | "name" | "type" | "systemData") {
                out.insert(k, v);
            }
        }
    }
    out.insert("systemData".into(), system_data);
    Value::Object(out)
}

/// A resource a provider creates as a side effect (an update run an apply starts, a cluster's
/// update summary): enveloped as if `caller` had PUT it.
pub fn new_resource(
    spec: &ResourceTypeSpec,
    id: String,
    doc: Value,
    caller: &Caller,
    now: DateTime<Utc>,
) -> StoredResource {
    let body = wrap(&id, &spec.shown_name(&id), spec.shown_type(), doc, system_data(None, caller, now));
    stored(spec, id, body)
}

/// A new version of `resource` with a body the service changed (an update's state, a summary's
/// version): a new ETag, systemData untouched (it records what clients did).
pub fn revised(resource: &StoredResource, body: &Value) -> StoredResource {
    let mut next = resource.clone();
    next.etag = new_etag();
    // A document that shows its ETag shows the new one.
    match body.get("etag") {
        Some(_) => {
            let mut body = body.clone();
            body["etag"] = json!(next.etag);
            next.set_body(&body);
        }
        None => next.set_body(body),
    }
    next
}

/// The ETag rules of ARM for `If-Match` / `If-None-Match` on a write.
pub fn check_preconditions(
    if_match: Option<&str>,
    if_none_match: Option<&str>,
    current_etag: Option<&str>,
) -> Result<(), super::ArmError> {
    let matches = |header: &str| {
        header
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || Some(tag) == current_etag || Some(tag.trim_start_matches("W/")) == current_etag)
    };
    if let Some(header) = if_match {
        if current_etag.is_none() || !matches(header) {
            return Err(super::ArmError::precondition_failed(format!(
                "The condition specified in If-Match ('{header}') was not satisfied."
            )));
        }
    }
    if let Some(header) = if_none_match {
        if current_etag.is_some() && matches(header) {
            return Err(super::ArmError::precondition_failed(format!(
                "The condition specified in If-None-Match ('{header}') was not satisfied."
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_rules() {
        assert!(check_preconditions(Some("*"), None, None).is_err());
        assert!(check_preconditions(Some("*"), None, Some("\"a\"")).is_ok());
        assert!(check_preconditions(Some("\"b\""), None, Some("\"a\"")).is_err());
        assert!(check_preconditions(Some("\"a\""), None, Some("\"a\"")).is_ok());
        assert!(check_preconditions(None, Some("*"), Some("\"a\"")).is_err());
        assert!(check_preconditions(None, Some("*"), None).is_ok());
    }

    #[test]
    fn system_data_keeps_creation() {
        let first = system_data(None, &Caller { name: "alice".into(), kind: "User" }, Utc::now());
        let doc = json!({ "systemData": first });
        let second = system_data(Some(&doc), &Caller { name: "app".into(), kind: "Application" }, Utc::now());
        assert_eq!(second["createdBy"], "alice");
        assert_eq!(second["lastModifiedBy"], "app");
        assert_eq!(second["lastModifiedByType"], "Application");
    }
}

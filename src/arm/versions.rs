//! A type's published api-versions and how its documents differ between them: each type declares
//! the fields its older versions lack, and the ARM layer answers every version in its own shape.

use serde_json::Value;

pub struct ApiVersions {
    /// Every api-version the service has published for the type, GA and preview.
    pub published: &'static [&'static str],
    /// Fields of the newest shape that older versions do not define.
    pub added: &'static [Added],
}

/// A field that exists from one api-version on.
pub struct Added {
    /// A JSON pointer into the document; `*` stands for every element of an array, `**` for the
    /// value there and everything nested in it (a tree of steps).
    pub pointer: &'static str,
    /// The first api-version that defines it.
    pub since: &'static str,
    /// What a body at an older version means by leaving it out (edge devices before `kind`
    /// existed are all `HCI`); the field is filled in so the provider reads one shape.
    pub implied: Option<&'static str>,
}

impl Added {
    pub const fn since(pointer: &'static str, since: &'static str) -> Added {
        Added { pointer, since, implied: None }
    }
}

/// Where a version sits in a type's history: by date, and a preview after the GA version of the
/// same date (a same-day preview carries what the GA version does, and more).
fn place(version: &str) -> (&str, bool) {
    let date = version.get(..10).unwrap_or(version);
    (date, version.len() > 10)
}

/// Whether `version` defines a field that exists from `since` on.
pub fn defines(version: &str, since: &str) -> bool {
    place(version) >= place(since)
}

impl ApiVersions {
    /// The fields `version` does not define.
    pub fn lacked_by<'a>(&'a self, version: &'a str) -> impl Iterator<Item = &'a Added> + 'a {
        self.added.iter().filter(move |a| !defines(version, a.since))
    }

    /// A request body at `version`, with what that version implies by leaving fields out.
    pub fn read_body(&self, version: Option<&str>, body: &mut Value) {
        let Some(version) = version else { return };
        for added in self.lacked_by(version) {
            if let (Some(implied), Some(field)) = (added.implied, added.pointer.strip_prefix('/')) {
                if let Some(object) = body.as_object_mut().filter(|o| !field.contains('/') && !o.contains_key(field)) {
                    object.insert(field.to_string(), Value::from(implied));
                }
            }
        }
    }
}

/// Removes what `pointer` names; `*` stands for every element of an array, `**` for the value
/// and everything nested in it.
pub(super) fn remove(value: &mut Value, pointer: &str) {
    let segments: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    remove_at(value, &segments);
}

fn remove_at(value: &mut Value, segments: &[&str]) {
    match segments {
        [] => {}
        [last] => {
            if let Some(object) = value.as_object_mut() {
                object.remove(*last);
            }
        }
        ["**", rest @ ..] => {
            remove_at(value, rest);
            match value {
                Value::Object(object) => object.values_mut().for_each(|inner| remove_at(inner, segments)),
                Value::Array(items) => items.iter_mut().for_each(|inner| remove_at(inner, segments)),
                _ => {}
            }
        }
        ["*", rest @ ..] => {
            if let Some(items) = value.as_array_mut() {
                items.iter_mut().for_each(|item| remove_at(item, rest));
            }
        }
        [first, rest @ ..] => {
            if let Some(inner) = value.get_mut(*first) {
                remove_at(inner, rest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    static VERSIONS: ApiVersions = ApiVersions {
        published: &["2022-05-01", "2023-08-01", "2023-08-01-preview", "2024-04-01"],
        added: &[
            Added::since("/properties/nodes/*/oem", "2023-08-01"),
            Added::since("/properties/preview", "2023-08-01-preview"),
            Added { pointer: "/kind", since: "2024-04-01", implied: Some("HCI") },
        ],
    };

    #[test]
    fn a_same_day_preview_comes_after_its_ga_version() {
        assert!(defines("2023-08-01-preview", "2023-08-01"));
        assert!(!defines("2023-08-01", "2023-08-01-preview"));
        assert!(defines("2024-01-01", "2023-08-01-preview"));
        assert!(!defines("2022-05-01", "2023-08-01"));
    }

    fn shaped(version: &str, doc: &Value) -> Value {
        let mut value = doc.clone();
        VERSIONS.lacked_by(version).for_each(|added| remove(&mut value, added.pointer));
        value
    }

    #[test]
    fn older_versions_leave_out_what_they_lack() {
        let doc = json!({ "kind": "HCI", "properties": { "preview": 1, "nodes": [{ "oem": 1, "name": "a" }, { "name": "b" }] } });
        assert_eq!(shaped("2024-04-01", &doc), doc);
        assert_eq!(
            shaped("2023-08-01", &doc),
            json!({ "properties": { "nodes": [{ "oem": 1, "name": "a" }, { "name": "b" }] } })
        );
        assert_eq!(
            shaped("2022-05-01", &doc),
            json!({ "properties": { "nodes": [{ "name": "a" }, { "name": "b" }] } })
        );
        assert_eq!(VERSIONS.lacked_by("2024-04-01").count(), 0, "the newest shape is passed through as it is");
    }

    #[test]
    fn a_double_star_reaches_every_depth() {
        let mut tree =
            json!({ "progress": { "eta": 1, "steps": [{ "eta": 2, "steps": [{ "eta": 3, "name": "c" }] }] } });
        remove(&mut tree, "/progress/**/eta");
        assert_eq!(tree, json!({ "progress": { "steps": [{ "steps": [{ "name": "c" }] }] } }));
    }

    #[test]
    fn a_body_at_an_older_version_gets_what_it_implies() {
        let mut body = json!({ "properties": {} });
        VERSIONS.read_body(Some("2023-08-01"), &mut body);
        assert_eq!(body["kind"], "HCI");
        let mut newer = json!({ "properties": {} });
        VERSIONS.read_body(Some("2024-04-01"), &mut newer);
        assert!(newer.get("kind").is_none());
    }
}

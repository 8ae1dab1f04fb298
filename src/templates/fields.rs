//! A template's property names are matched without regard to case (`dependsOn`, `DependsOn`).

use serde_json::{Map, Value};

/// The field `key` of an object, in any case.
pub fn field_in<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)
}

/// The field `key` of a value that is an object, in any case.
pub fn field<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    field_in(value.as_object()?, key)
}

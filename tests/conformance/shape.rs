//! "In the example's shape": every field the example's response shows is in azemu's, to any
//! depth (values aside); array elements are compared with azemu's element at the same place,
//! or its last one when it has fewer.

use serde_json::Value;

/// The JSON paths the example has and `ours` lacks.
pub fn missing(example: &Value, ours: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(example, ours, String::new(), &mut out);
    out
}

fn walk(example: &Value, ours: &Value, at: String, out: &mut Vec<String>) {
    match (example, ours) {
        (Value::Object(want), Value::Object(have)) => {
            for (key, value) in want {
                let path = format!("{at}/{key}");
                // A list's `nextLink` is there only when there is a next page.
                if key == "nextLink" && !have.contains_key(key) {
                    continue;
                }
                match have.get(key) {
                    Some(found) => walk(value, found, path, out),
                    None => out.push(path),
                }
            }
        }
        (Value::Array(want), Value::Array(have)) => {
            for (i, value) in want.iter().enumerate() {
                match have.get(i).or_else(|| have.last()) {
                    Some(found) => walk(value, found, format!("{at}/{i}"), out),
                    None => out.push(format!("{at}/{i}")),
                }
            }
        }
        // A value where the example has an object or a list (or the other way round) is
        // another shape, except `null`, which stands for "no value" in either.
        (Value::Object(_) | Value::Array(_), other) if !other.is_null() => out.push(format!("{at} (type)")),
        _ => {}
    }
}

#[test]
fn shapes_compare_by_fields() {
    let example = serde_json::json!({"a": 1, "b": {"c": [ {"d": 1}, {"d": 2, "e": 3} ]}});
    let ours = serde_json::json!({"a": "x", "b": {"c": [ {"d": 5, "f": 1} ]}, "g": 1});
    assert_eq!(missing(&example, &ours), ["/b/c/1/e"]);
    assert!(missing(&example, &example).is_empty());
}

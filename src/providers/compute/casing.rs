//! Compute reads its enums in any casing (`manual`, `fromImage`) and answers in its own.

use serde_json::{json, Value};

/// Rewrites `value[field]` in Compute's spelling, when it is one of `spellings` in another casing.
pub fn canonical(value: &mut Value, field: &str, spellings: &[&str]) {
    let Some(given) = value.get(field).and_then(Value::as_str) else { return };
    if let Some(own) = spellings.iter().find(|s| s.eq_ignore_ascii_case(given)) {
        value[field] = json!(own);
    }
}

pub const CREATE_OPTIONS: &[&str] = &["FromImage", "Attach", "Empty", "Copy", "Restore"];
pub const CACHING: &[&str] = &["None", "ReadOnly", "ReadWrite"];
pub const DELETE_OPTIONS: &[&str] = &["Delete", "Detach"];
pub const OS_TYPES: &[&str] = &["Linux", "Windows"];

/// Implements `Deserialize` for a unit enum, reading its variants' names in any casing.
macro_rules! any_case_enum {
    ($name:ident { $($variant:ident),+ $(,)? }) => {
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                $(if text.eq_ignore_ascii_case(stringify!($variant)) {
                    return Ok($name::$variant);
                })+
                Err(serde::de::Error::unknown_variant(&text, &[$(stringify!($variant)),+]))
            }
        }
    };
}
pub(crate) use any_case_enum;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    enum Mode {
        Manual,
        Rolling,
    }
    any_case_enum!(Mode { Manual, Rolling });

    #[test]
    fn enums_read_in_any_casing_and_answer_in_compute_s() {
        assert_eq!(serde_json::from_value::<Mode>(json!("manual")).unwrap(), Mode::Manual);
        assert_eq!(serde_json::from_value::<Mode>(json!("ROLLING")).unwrap(), Mode::Rolling);
        assert!(serde_json::from_value::<Mode>(json!("sometimes")).is_err());
        let mut disk = json!({ "createOption": "fromImage", "caching": "weird" });
        canonical(&mut disk, "createOption", CREATE_OPTIONS);
        canonical(&mut disk, "caching", CACHING);
        assert_eq!(disk, json!({ "createOption": "FromImage", "caching": "weird" }));
    }
}

//! The string formats OpenAPI specs give fields (`date-time`, `uuid`), checked when a body is
//! read so that a bad value is a 400 naming its JSON path (see `contract::parse_body_at`).

use serde::{Deserialize, Deserializer};

/// An RFC 3339 timestamp kept as written (or empty, for a step not started yet).
#[derive(Debug, Clone)]
pub struct Timestamp(pub String);

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if text.is_empty() || chrono::DateTime::parse_from_rfc3339(&text).is_ok() {
            Ok(Timestamp(text))
        } else {
            Err(serde::de::Error::custom(format!("'{text}' is not an ISO 8601 date-time")))
        }
    }
}

/// A GUID (`format: uuid`), kept as written.
#[derive(Debug, Clone)]
pub struct Guid(pub String);

impl<'de> Deserialize<'de> for Guid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if uuid::Uuid::try_parse(&text).is_ok() && text.len() == 36 {
            Ok(Guid(text))
        } else {
            Err(serde::de::Error::custom(format!("'{text}' is not a GUID")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn formats_are_checked() {
        assert!(Guid::deserialize(json!("7e589cc1-a8b6-4dff-91bd-5ec0fa18db94")).is_ok());
        assert!(Guid::deserialize(json!("7e589cc1a8b64dff91bd5ec0fa18db94")).is_err());
        assert!(Guid::deserialize(json!("tenant")).is_err());
        assert!(Timestamp::deserialize(json!("2024-01-29T10:43:27.9471574Z")).is_ok());
        assert!(Timestamp::deserialize(json!("")).is_ok());
        assert!(Timestamp::deserialize(json!("yesterday")).is_err());
    }
}

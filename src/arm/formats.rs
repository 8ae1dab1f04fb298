//! The string formats OpenAPI specs give fields (`date-time`, `uuid`), checked when a body is
//! read so that a bad value is a 400 naming its JSON path (see `contract::parse_body_at`); and
//! `duration`, as the services write it.

use serde::{Deserialize, Deserializer};

/// An ISO 8601 duration to the millisecond: `PT38S`, `PT1M2.5S`, `PT1H0.001S`, `PT0S`.
pub fn iso_duration(d: chrono::Duration) -> String {
    let ms = d.num_milliseconds().max(0);
    let (hours, minutes, rest) = (ms / 3_600_000, ms / 60_000 % 60, ms % 60_000);
    let seconds = format!("{:.3}", rest as f64 / 1000.0);
    let seconds = match seconds.trim_end_matches('0').trim_end_matches('.') {
        "" => "0",
        trimmed => trimmed,
    };
    let mut out = String::from("PT");
    if hours > 0 {
        out += &format!("{hours}H");
    }
    if minutes > 0 {
        out += &format!("{minutes}M");
    }
    if rest > 0 || out == "PT" {
        out += &format!("{seconds}S");
    }
    out
}

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
    fn durations_read_as_iso_8601() {
        let d = |ms: i64| iso_duration(chrono::Duration::milliseconds(ms));
        assert_eq!(d(38_000), "PT38S");
        assert_eq!(d(62_500), "PT1M2.5S");
        assert_eq!(d(120_000), "PT2M");
        assert_eq!(d(0), "PT0S");
        assert_eq!(d(-5), "PT0S");
        assert_eq!(d(3_600_001), "PT1H0.001S");
        assert_eq!(d(3_720_000), "PT1H2M");
    }

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

//! api-version checks with the codes ARM answers.

use super::error::ArmError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ApiVersionCheck {
    Strict,
    Lenient,
}

/// Who answers for a resource type: the resource provider or ARM itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeOwner {
    Provider,
    Arm,
}

fn well_formed(version: &str) -> bool {
    let b = version.as_bytes();
    let date_ok = b.len() >= 10
        && b[..10].iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() });
    date_ok && (b.len() == 10 || (b[10] == b'-' && b.len() > 11 && b[11..].iter().all(|c| c.is_ascii_alphanumeric())))
}

pub fn check(
    requested: Option<&str>,
    supported: &[&str],
    type_name: &str,
    owner: TypeOwner,
    mode: ApiVersionCheck,
) -> Result<(), ArmError> {
    let Some(version) = requested.filter(|v| !v.is_empty()) else {
        return Err(ArmError::bad_request(
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        ));
    };
    // Only an error names the supported versions.
    let list = || supported.join(", ");
    if !well_formed(version) {
        let list = list();
        return Err(ArmError::bad_request(
            "InvalidApiVersionParameter",
            format!("The api-version '{version}' is invalid. The supported versions are '{list}'."),
        ));
    }
    // Newest last in the tables, and the most asked for: searched from the end, lengths first.
    let published = || supported.iter().rev().any(|s| s.len() == version.len() && s.eq_ignore_ascii_case(version));
    if mode == ApiVersionCheck::Lenient || published() {
        return Ok(());
    }
    let list = list();
    Err(match owner {
        TypeOwner::Arm => ArmError::bad_request(
            "InvalidApiVersionParameter",
            format!("The api-version '{version}' is invalid. The supported versions are '{list}'."),
        ),
        TypeOwner::Provider => ArmError::bad_request(
            "NoRegisteredProviderFound",
            format!(
                "No registered resource provider found for API version '{version}' and type '{type_name}'. The supported api-versions are '{list}'."
            ),
        ),
    })
}

/// Versions as ARM lists them: newest first, previews after the GA versions.
pub fn newest_first<'a>(versions: &[&'a str]) -> Vec<&'a str> {
    let mut sorted = versions.to_vec();
    sorted.sort_by(|a, b| (a.len() > 10).cmp(&(b.len() > 10)).then_with(|| b.cmp(a)));
    sorted.dedup();
    sorted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_first_puts_previews_last() {
        let listed = newest_first(&["2024-01-01", "2026-05-01-preview", "2026-02-01", "2024-09-01-preview"]);
        assert_eq!(listed, ["2026-02-01", "2024-01-01", "2026-05-01-preview", "2024-09-01-preview"]);
    }

    const V: &[&str] = &["2024-09-01-preview", "2026-10-01"];

    #[test]
    fn codes_follow_arm() {
        let strict = ApiVersionCheck::Strict;
        assert!(check(Some("2026-10-01"), V, "t", TypeOwner::Provider, strict).is_ok());
        assert_eq!(check(None, V, "t", TypeOwner::Provider, strict).unwrap_err().code(), "MissingApiVersionParameter");
        assert_eq!(
            check(Some("2020-01-01"), V, "t", TypeOwner::Provider, strict).unwrap_err().code(),
            "NoRegisteredProviderFound"
        );
        assert_eq!(
            check(Some("2020-01-01"), V, "t", TypeOwner::Arm, strict).unwrap_err().code(),
            "InvalidApiVersionParameter"
        );
        assert_eq!(
            check(Some("yesterday"), V, "t", TypeOwner::Provider, strict).unwrap_err().code(),
            "InvalidApiVersionParameter"
        );
        assert!(check(Some("2020-01-01-beta"), V, "t", TypeOwner::Provider, ApiVersionCheck::Lenient).is_ok());
        assert!(check(Some("2020-01-01-"), V, "t", TypeOwner::Provider, ApiVersionCheck::Lenient).is_err());
    }
}

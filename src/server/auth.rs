//! `--auth any`: every bearer token is accepted; when it is a JWT, its claims name the caller.

use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;

use crate::arm::{ArmError, Caller};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthMode {
    Any,
}

#[derive(Deserialize, Default)]
struct Claims {
    upn: Option<String>,
    unique_name: Option<String>,
    preferred_username: Option<String>,
    email: Option<String>,
    appid: Option<String>,
    azp: Option<String>,
    oid: Option<String>,
    idtyp: Option<String>,
    xms_mirid: Option<String>,
}

fn caller_from_claims(c: Claims) -> Caller {
    let user = c.upn.or(c.unique_name).or(c.preferred_username).or(c.email);
    let app = c.appid.or(c.azp);
    if c.xms_mirid.is_some() {
        return Caller { name: c.oid.or(app).unwrap_or_else(|| "managed-identity".into()), kind: "ManagedIdentity" };
    }
    match (c.idtyp.as_deref(), user, app) {
        (Some("app"), _, Some(app)) | (_, None, Some(app)) => Caller { name: app, kind: "Application" },
        (_, Some(user), _) => Caller { name: user, kind: "User" },
        _ => c.oid.map_or_else(Caller::anonymous, |oid| Caller { name: oid, kind: "User" }),
    }
}

/// Reads the claims of a JWT without checking it: in this mode any token, of any algorithm
/// (even `none`), is accepted.
fn claims(token: &str) -> Option<Claims> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

pub fn authenticate(headers: &HeaderMap) -> Result<Caller, ArmError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(ArmError::unauthorized(
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
        ));
    };
    let invalid = || {
        ArmError::unauthorized(
            "InvalidAuthenticationToken",
            "Authentication failed. The 'Authorization' header is provided in an invalid format: expected 'Bearer <token>'.",
        )
    };
    let value = value.to_str().map_err(|_| invalid())?;
    let (scheme, token) = value.split_once(' ').ok_or_else(invalid)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(' ') {
        return Err(invalid());
    }
    Ok(claims(token).map_or_else(Caller::anonymous, caller_from_claims))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn jwt(claims: serde_json::Value) -> String {
        let part = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.c2ln", part(serde_json::json!({"alg": "RS256", "typ": "JWT"})), part(claims))
    }

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn missing_and_malformed_headers_are_refused() {
        assert_eq!(authenticate(&HeaderMap::new()).unwrap_err().code(), "AuthenticationFailed");
        assert_eq!(authenticate(&with("Basic abc")).unwrap_err().code(), "InvalidAuthenticationToken");
        assert_eq!(authenticate(&with("Bearer ")).unwrap_err().code(), "InvalidAuthenticationToken");
        assert_eq!(authenticate(&with("Bearer opaque")).unwrap(), Caller::anonymous());
    }

    #[test]
    fn jwt_claims_name_the_caller() {
        let user = jwt(serde_json::json!({"upn": "alice@contoso.com", "oid": "1"}));
        assert_eq!(
            authenticate(&with(&format!("Bearer {user}"))).unwrap(),
            Caller { name: "alice@contoso.com".into(), kind: "User" }
        );
        let app = jwt(serde_json::json!({"appid": "app-1", "idtyp": "app"}));
        let mi = jwt(serde_json::json!({"oid": "mi-1", "xms_mirid": "/subscriptions/s/x"}));
        assert_eq!(
            authenticate(&with(&format!("Bearer {mi}"))).unwrap(),
            Caller { name: "mi-1".into(), kind: "ManagedIdentity" }
        );
        assert_eq!(
            authenticate(&with(&format!("Bearer {app}"))).unwrap(),
            Caller { name: "app-1".into(), kind: "Application" }
        );
    }
}

//! `--auth any`: every bearer token is accepted; when it is a JWT, its claims name the caller.

use axum::http::{header, HeaderMap};
use jsonwebtoken::{decode, DecodingKey, Validation};
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

/// Reads the claims of a JWT without checking its signature (any token is accepted).
fn claims(token: &str) -> Option<Claims> {
    let mut validation = Validation::default();
    validation.insecure_disable_signature_validation();
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    decode::<Claims>(token, &DecodingKey::from_secret(&[]), &validation).ok().map(|d| d.claims)
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
    use jsonwebtoken::{encode, EncodingKey, Header};

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
        let key = EncodingKey::from_secret(b"k");
        let user = encode(&Header::default(), &serde_json::json!({"upn": "alice@contoso.com", "oid": "1"}), &key).unwrap();
        assert_eq!(authenticate(&with(&format!("Bearer {user}"))).unwrap(), Caller { name: "alice@contoso.com".into(), kind: "User" });
        let app = encode(&Header::default(), &serde_json::json!({"appid": "app-1", "idtyp": "app"}), &key).unwrap();
        assert_eq!(authenticate(&with(&format!("Bearer {app}"))).unwrap(), Caller { name: "app-1".into(), kind: "Application" });
    }
}

//! Who sent a request. `--auth any`: every bearer token is accepted, and when it is a JWT its
//! claims name the caller. `--auth strict`: only tokens azemu signed, unexpired, for an audience
//! of the API they reach; anything else is 401 `InvalidAuthenticationToken` with the reason.

use std::sync::Arc;

use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use super::token::{Access, Claims};
use super::{AuthMode, Identity};
use crate::arm::{ArmError, Caller};

/// The API a token is presented to, which decides the audiences it may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Arm,
    Partner,
}

impl Audience {
    fn accepted(self) -> &'static [&'static str] {
        match self {
            Audience::Arm => &["https://management.azure.com", "https://management.core.windows.net"],
            Audience::Partner => &["https://cloudpartner.azure.com"],
        }
    }
}

/// The caller and, under `--auth strict`, what its token allows.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub caller: Caller,
    pub object_id: Option<String>,
    /// `None`: nothing is enforced (`--auth any`, or a token without limits).
    pub access: Option<Access>,
}

/// A request azemu makes itself on a principal's behalf (a deployment writing its resources).
/// Carried as a request extension, which no client can send, it stands in for a token.
#[derive(Debug, Clone)]
pub struct OnBehalfOf(pub Principal);

#[derive(Deserialize, Default)]
struct LooseClaims {
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

fn caller_from_claims(c: LooseClaims) -> Caller {
    let user = c.upn.or(c.unique_name).or(c.preferred_username).or(c.email);
    let app = c.appid.or(c.azp);
    if c.xms_mirid.is_some() {
        let name = c.oid.or(app).unwrap_or_else(|| "managed-identity".into());
        return Caller { name: name.into(), kind: "ManagedIdentity" };
    }
    match (c.idtyp.as_deref(), user, app) {
        (Some("app"), _, Some(app)) | (_, None, Some(app)) => Caller { name: app.into(), kind: "Application" },
        (_, Some(user), _) => Caller { name: user.into(), kind: "User" },
        _ => c.oid.map_or_else(Caller::anonymous, |oid| Caller { name: oid.into(), kind: "User" }),
    }
}

/// Reads the claims of a JWT without checking it.
fn unchecked_claims(token: &str) -> Option<LooseClaims> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The header of a token shaped as a JWT, whatever its algorithm.
fn unchecked_header(token: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let mut parts = token.split('.');
    let (header, _payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = URL_SAFE_NO_PAD.decode(header.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The token of an `Authorization: Bearer <token>` header.
pub(super) fn bearer_token(headers: &HeaderMap) -> Result<&str, ArmError> {
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
    Ok(token)
}

fn rejected(reason: impl Into<String>) -> ArmError {
    ArmError::unauthorized("InvalidAuthenticationToken", reason)
}

fn normalized(audience: &str) -> String {
    audience.trim_end_matches('/').to_ascii_lowercase()
}

fn utc(seconds: i64) -> String {
    DateTime::<Utc>::from_timestamp(seconds, 0).map_or_else(|| seconds.to_string(), |t| t.to_rfc3339())
}

impl Identity {
    /// `origin` gives the scheme and authority the request reached (`https://127.0.0.1:8443`),
    /// itself an accepted audience: it is what the cloud metadata advertises. Only strict
    /// auth asks for it.
    pub fn authenticate(
        &self,
        headers: &HeaderMap,
        audience: Audience,
        origin: impl FnOnce() -> String,
    ) -> Result<Principal, ArmError> {
        let token = bearer_token(headers)?;
        match self.mode {
            AuthMode::Any => Ok(Principal {
                caller: unchecked_claims(token).map_or_else(Caller::anonymous, caller_from_claims),
                object_id: None,
                access: None,
            }),
            AuthMode::Strict => self.verify(token, audience, &origin(), Utc::now()),
        }
    }

    /// Decodes a token azemu signed, checking its signature and nothing else.
    pub(super) fn check_signature(&self, token: &str) -> Result<Claims, ArmError> {
        let unsigned = || rejected("The access token signature is invalid: the token was not issued by this azemu.");
        let header = jsonwebtoken::decode_header(token).map_err(|_| match unchecked_header(token) {
            // A JWT of an algorithm azemu does not sign with (`none` among them).
            Some(_) => unsigned(),
            None => rejected("The access token is invalid: it is not a JSON Web Token."),
        })?;
        if header.alg != Algorithm::ES256 || header.kid.as_deref() != Some(self.key.kid()) {
            return Err(unsigned());
        }
        let mut validation = Validation::new(Algorithm::ES256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        match jsonwebtoken::decode::<Claims>(token, self.key.decoding(), &validation) {
            Ok(data) => Ok(data.claims),
            Err(e) if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::InvalidSignature) => Err(unsigned()),
            Err(e) => Err(rejected(format!("The access token is invalid: {e}."))),
        }
    }

    fn verify(&self, token: &str, audience: Audience, origin: &str, now: DateTime<Utc>) -> Result<Principal, ArmError> {
        let claims = match self.verified.get(token) {
            Some(claims) => claims,
            None => {
                let claims = Arc::new(self.check_signature(token)?);
                self.verified.insert(token, claims.clone());
                claims
            }
        };
        if claims.exp <= now.timestamp() {
            return Err(rejected(format!(
                "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
                utc(claims.exp),
                now.format("%Y-%m-%dT%H:%M:%S%:z")
            )));
        }
        if claims.nbf > now.timestamp() + 300 {
            return Err(rejected(format!("The access token is not valid before '{}'.", utc(claims.nbf))));
        }
        let mut allowed: Vec<String> = audience.accepted().iter().map(|a| a.to_string()).collect();
        allowed.push(normalized(origin));
        if !allowed.contains(&normalized(&claims.aud)) {
            let list = allowed.iter().map(|a| format!("'{a}/'")).collect::<Vec<_>>().join(",");
            return Err(rejected(format!(
                "The access token has been obtained for wrong audience or resource '{}'. It should exactly match with one of the allowed audiences {list}.",
                claims.aud
            )));
        }
        let caller = if claims.xms_mirid.is_some() {
            Caller { name: claims.oid.as_str().into(), kind: "ManagedIdentity" }
        } else {
            Caller { name: claims.appid.as_str().into(), kind: "Application" }
        };
        Ok(Principal { caller, object_id: Some(claims.oid.clone()), access: claims.access.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::token::{issue, Role, TokenRequest};
    use axum::http::HeaderValue;

    const ORIGIN: &str = "https://127.0.0.1:8443";

    fn jwt(claims: serde_json::Value) -> String {
        let part = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.c2ln", part(serde_json::json!({"alg": "RS256", "typ": "JWT"})), part(claims))
    }

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    fn identity(mode: AuthMode) -> Identity {
        Identity::new(mode, None, Vec::new()).unwrap()
    }

    fn caller(id: &Identity, value: &str) -> Result<Caller, ArmError> {
        id.authenticate(&with(value), Audience::Arm, || ORIGIN.into()).map(|p| p.caller)
    }

    fn request(audience: &str, lifetime_seconds: i64, access: Option<Access>) -> TokenRequest {
        TokenRequest {
            audience: audience.into(),
            issuer: format!("{ORIGIN}/adfs"),
            tenant: crate::identity::token::DEFAULT_TENANT.into(),
            client_id: "app-1".into(),
            managed_identity: None,
            access,
            lifetime: chrono::Duration::seconds(lifetime_seconds),
            version: "1.0",
        }
    }

    #[test]
    fn missing_and_malformed_headers_are_refused() {
        let any = identity(AuthMode::Any);
        let code = |r: Result<Caller, ArmError>| r.unwrap_err().code().to_string();
        assert_eq!(
            code(any.authenticate(&HeaderMap::new(), Audience::Arm, || ORIGIN.into()).map(|p| p.caller)),
            "AuthenticationFailed"
        );
        assert_eq!(code(caller(&any, "Basic abc")), "InvalidAuthenticationToken");
        assert_eq!(code(caller(&any, "Bearer ")), "InvalidAuthenticationToken");
        assert_eq!(caller(&any, "Bearer opaque").unwrap(), Caller::anonymous());
    }

    #[test]
    fn jwt_claims_name_the_caller_under_any() {
        let any = identity(AuthMode::Any);
        let user = jwt(serde_json::json!({"upn": "alice@contoso.com", "oid": "1"}));
        assert_eq!(
            caller(&any, &format!("Bearer {user}")).unwrap(),
            Caller { name: "alice@contoso.com".into(), kind: "User" }
        );
        let app = jwt(serde_json::json!({"appid": "app-1", "idtyp": "app"}));
        let mi = jwt(serde_json::json!({"oid": "mi-1", "xms_mirid": "/subscriptions/s/x"}));
        assert_eq!(
            caller(&any, &format!("Bearer {mi}")).unwrap(),
            Caller { name: "mi-1".into(), kind: "ManagedIdentity" }
        );
        assert_eq!(
            caller(&any, &format!("Bearer {app}")).unwrap(),
            Caller { name: "app-1".into(), kind: "Application" }
        );
    }

    #[test]
    fn strict_accepts_only_its_own_unexpired_tokens_for_the_right_audience() {
        let strict = identity(AuthMode::Strict);
        let now = Utc::now();
        let good = issue(&strict.key, request("https://management.azure.com/", 3600, None), now).token;
        assert_eq!(
            caller(&strict, &format!("Bearer {good}")).unwrap(),
            Caller { name: "app-1".into(), kind: "Application" }
        );
        let own = issue(&strict.key, request(&format!("{ORIGIN}/"), 3600, None), now).token;
        assert!(caller(&strict, &format!("Bearer {own}")).is_ok());

        let message = |token: &str| caller(&strict, &format!("Bearer {token}")).unwrap_err().detail.message;
        assert!(message("opaque").contains("not a JSON Web Token"));
        assert!(message(&jwt(serde_json::json!({"appid": "x"}))).contains("signature is invalid"));
        let foreign =
            issue(&identity(AuthMode::Strict).key, request("https://management.azure.com/", 3600, None), now).token;
        assert!(message(&foreign).contains("signature is invalid"));
        let expired = issue(&strict.key, request("https://management.azure.com/", -10, None), now).token;
        assert!(message(&expired).contains("expiry UTC time"), "{}", message(&expired));
        let partner = issue(&strict.key, request("https://cloudpartner.azure.com", 3600, None), now).token;
        assert!(message(&partner).contains("wrong audience"));
        assert!(strict.authenticate(&with(&format!("Bearer {partner}")), Audience::Partner, || ORIGIN.into()).is_ok());
        let mut tampered = good.clone();
        tampered.insert_str(good.rfind('.').unwrap() + 1, "AAAA");
        assert!(message(&tampered).contains("signature is invalid"));
    }

    #[test]
    fn strict_carries_a_tokens_limits() {
        let strict = identity(AuthMode::Strict);
        let access = Access { subscriptions: vec!["s-1".into()], publishers: vec![], role: Role::Reader };
        let token =
            issue(&strict.key, request("https://management.azure.com/", 3600, Some(access.clone())), Utc::now()).token;
        let principal =
            strict.authenticate(&with(&format!("Bearer {token}")), Audience::Arm, || ORIGIN.into()).unwrap();
        assert_eq!(principal.access, Some(access));
    }
}

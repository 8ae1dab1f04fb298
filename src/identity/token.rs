//! The tokens azemu issues: JWTs with the claims Entra ID puts in an app-only access token
//! (`aud`, `iss`, `iat`, `nbf`, `exp`, `tid`, `oid`, `sub`, `appid`, `idtyp`), plus, for tokens
//! limited by `azemu token`, the subscriptions and publishers they reach and their role.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::signing::SigningKey;

/// The tenant azemu's identities live in unless a request names another.
pub const DEFAULT_TENANT: &str = "7e5a1e00-a2e0-4c0d-8e00-000000000001";

/// What a limited token may do; a token without it may do everything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub publishers: Vec<String>,
    pub role: Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Reader,
    Contributor,
    /// A contributor that may also use the control API (`/_azemu/*`, `/metrics`) of an azemu
    /// that asks for a token there.
    Admin,
}

impl Role {
    pub fn writes(self) -> bool {
        matches!(self, Role::Contributor | Role::Admin)
    }
}

impl Access {
    /// Names some subscriptions or publishers: everything else is out of reach.
    fn limited(&self) -> bool {
        !self.subscriptions.is_empty() || !self.publishers.is_empty()
    }

    pub fn reaches_subscription(&self, id: &str) -> bool {
        !self.limited() || self.subscriptions.iter().any(|s| s.eq_ignore_ascii_case(id))
    }

    pub fn reaches_publisher(&self, id: &str) -> bool {
        !self.limited() || self.publishers.iter().any(|p| p.eq_ignore_ascii_case(id))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub tid: String,
    pub oid: String,
    pub sub: String,
    pub appid: String,
    pub idtyp: String,
    pub ver: String,
    /// Set on managed-identity tokens, as Entra ID sets it: the identity's resource id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xms_mirid: Option<String>,
    #[serde(default, rename = "azemu_access", skip_serializing_if = "Option::is_none")]
    pub access: Option<Access>,
}

/// What a token is made for.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub audience: String,
    pub issuer: String,
    pub tenant: String,
    pub client_id: String,
    pub managed_identity: Option<String>,
    pub access: Option<Access>,
    pub lifetime: chrono::Duration,
    /// `1.0` or `2.0`, as the endpoint that issued it.
    pub version: &'static str,
}

/// An application's object id: the same for the same client id, in every run.
pub fn object_id(client_id: &str) -> String {
    Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("azemu-principal:{client_id}").as_bytes()).to_string()
}

pub struct Issued {
    pub token: String,
    pub claims: Claims,
}

pub fn issue(key: &SigningKey, request: TokenRequest, now: DateTime<Utc>) -> Issued {
    let oid = object_id(&request.client_id);
    let claims = Claims {
        aud: request.audience,
        iss: request.issuer,
        iat: now.timestamp(),
        nbf: now.timestamp(),
        exp: (now + request.lifetime).timestamp(),
        tid: request.tenant,
        sub: oid.clone(),
        oid,
        appid: request.client_id,
        idtyp: "app".into(),
        ver: request.version.into(),
        xms_mirid: request.managed_identity,
        access: request.access,
    };
    Issued { token: key.sign(&claims), claims }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_name_what_a_token_reaches() {
        let all = Access { subscriptions: vec![], publishers: vec![], role: Role::Reader };
        assert!(all.reaches_subscription("s") && all.reaches_publisher("p"));
        let one = Access { subscriptions: vec!["S-1".into()], publishers: vec![], role: Role::Contributor };
        assert!(one.reaches_subscription("s-1"));
        assert!(!one.reaches_subscription("s-2"));
        assert!(!one.reaches_publisher("p"), "a token limited to subscriptions reaches no publisher");
    }

    #[test]
    fn object_ids_are_stable_per_client() {
        assert_eq!(object_id("app-1"), object_id("app-1"));
        assert_ne!(object_id("app-1"), object_id("app-2"));
    }
}

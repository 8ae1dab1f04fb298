//! azemu as its own cloud and identity provider: the cloud metadata the Azure CLI registers
//! from, ADFS- and Entra-style OpenID discovery and token endpoints, the managed-identity
//! endpoints, the subscriptions and tenants directory, and the checks `--auth strict` makes on
//! every ARM and partner API request.

pub mod authorize;
mod control;
mod directory;
mod discovery;
mod managed;
mod oauth;
mod oauth_error;
pub mod signing;
pub mod token;
mod verified;
mod verify;

use std::path::Path;

use axum::body::Bytes;
use axum::http::request::Parts;
use axum::http::Method;
use axum::response::Response;

pub use control::{ControlAccess, ControlApi, CONTROL_COOKIE};
pub use directory::{handle as directory_request, is_directory_path, share_declared, DeclaredSubscription};
pub use verify::{Audience, OnBehalfOf, Principal};

use crate::app::App;
use signing::SigningKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthMode {
    /// Any bearer token; JWT claims name the caller.
    Any,
    /// Only tokens azemu signed, unexpired, for the right audience; their limits apply.
    Strict,
}

pub struct Identity {
    pub mode: AuthMode,
    pub key: SigningKey,
    /// Subscriptions made ahead with `--subscription` (one default when none is given).
    pub subscriptions: Vec<DeclaredSubscription>,
    verified: verified::VerifiedTokens,
}

/// The subscription azemu lists when `--subscription` names none.
pub const DEFAULT_SUBSCRIPTION: &str = "00000000-0000-0000-0000-000000000000";

impl Identity {
    pub fn new(
        mode: AuthMode,
        data_dir: Option<&Path>,
        subscriptions: Vec<DeclaredSubscription>,
    ) -> anyhow::Result<Identity> {
        Identity::signing_with(mode, SigningKey::load_or_create(data_dir)?, subscriptions)
    }

    /// An identity that signs with `key` (on a shared store, the key every node signs with).
    pub fn signing_with(
        mode: AuthMode,
        key: SigningKey,
        subscriptions: Vec<DeclaredSubscription>,
    ) -> anyhow::Result<Identity> {
        let subscriptions = if subscriptions.is_empty() {
            vec![DeclaredSubscription { id: DEFAULT_SUBSCRIPTION.into(), name: Some("azemu".into()) }]
        } else {
            subscriptions
        };
        Ok(Identity { mode, key, subscriptions, verified: Default::default() })
    }
}

/// `https://host:port` as the client reached it: the base of every URL the identity endpoints
/// hand out, and an audience strict auth accepts.
pub fn origin(scheme: &str, parts: &Parts) -> String {
    let host = parts
        .uri
        .authority()
        .map(|a| a.as_str().to_string())
        .or_else(|| parts.headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).map(str::to_string))
        .unwrap_or_else(|| "127.0.0.1".into());
    format!("{scheme}://{host}")
}

/// A tenant named in a path: `adfs`, `common`, `organizations` and `consumers` are azemu's own
/// tenant; a GUID is itself; a domain name maps to a GUID of its own, the same in every run.
pub fn tenant_id(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    if matches!(lower.as_str(), "adfs" | "common" | "organizations" | "consumers") {
        return Some(token::DEFAULT_TENANT.into());
    }
    if let Ok(guid) = uuid::Uuid::parse_str(&lower) {
        return Some(guid.hyphenated().to_string());
    }
    let domain = !lower.is_empty() && lower.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    domain.then(|| uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_DNS, lower.as_bytes()).to_string())
}

/// The identity endpoints, which need no token; `None` when the path is not one of them.
pub async fn handle(app: &App, parts: &Parts, body: &Bytes) -> Option<Response> {
    // `az cloud register` sends `//metadata/endpoints` for an endpoint ending in `/`.
    let path = parts.uri.path().trim_start_matches('/').trim_end_matches('/');
    let first = path.split('/').next().unwrap_or_default();
    if ["subscriptions", "providers", "tenants"].iter().any(|s| first.eq_ignore_ascii_case(s)) {
        return None;
    }
    let segments: Vec<&str> = path.split('/').collect();
    let origin = origin(app.scheme, parts);
    let get = parts.method == Method::GET;
    Some(match segments.as_slice() {
        ["metadata", "endpoints"] if get => discovery::cloud_metadata(parts, &origin),
        ["metadata", "identity", "oauth2", "token"] if get => managed::imds(app, parts, &origin),
        ["msi", "token"] if get => managed::app_service(app, parts, &origin),
        ["adfs", ".well-known", "openid-configuration"] if get => discovery::openid(&origin, discovery::Flavor::Adfs),
        ["adfs", "discovery", "keys"] if get => discovery::keys(app),
        ["adfs", "oauth2", "token"] => oauth::token(app, parts, body, &origin, oauth::Endpoint::Adfs),
        [tenant, "v2.0", ".well-known", "openid-configuration"] if get => {
            discovery::openid_for(&origin, tenant, discovery::Flavor::V2)
        }
        [tenant, ".well-known", "openid-configuration"] if get => {
            discovery::openid_for(&origin, tenant, discovery::Flavor::V1)
        }
        [_, "discovery", "v2.0", "keys"] | [_, "discovery", "keys"] if get => discovery::keys(app),
        [tenant, "oauth2", "v2.0", "token"] => oauth::token(app, parts, body, &origin, oauth::Endpoint::V2(tenant)),
        [tenant, "oauth2", "token"] => oauth::token(app, parts, body, &origin, oauth::Endpoint::V1(tenant)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants_resolve() {
        assert_eq!(tenant_id("adfs").as_deref(), Some(token::DEFAULT_TENANT));
        let guid = "72F988BF-86F1-41AF-91AB-2D7CD011DB47";
        assert_eq!(tenant_id(guid), Some(guid.to_ascii_lowercase()));
        assert_eq!(tenant_id("contoso.onmicrosoft.com"), tenant_id("Contoso.onmicrosoft.com"));
        assert!(tenant_id("contoso.onmicrosoft.com").is_some());
        assert_eq!(tenant_id("bad tenant"), None);
        assert_eq!(tenant_id(""), None);
    }
}

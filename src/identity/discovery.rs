//! Documents that need no token: the cloud metadata the Azure CLI registers a cloud from, the
//! OpenID configurations of the ADFS-style and Entra-style authorities, and the signing keys.

use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::oauth_error::OAuthError;
use super::{tenant_id, token::DEFAULT_TENANT};
use crate::app::App;
use crate::arm::request::parse_query;
use crate::arm::ArmError;

fn json(body: Value) -> Response {
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// `GET /metadata/endpoints?api-version=…`: one cloud, named `azemu`, whose login endpoint ends
/// in `/adfs` (so the Azure CLI signs in ADFS-style and skips instance discovery) and whose
/// first audience is azemu itself.
pub fn cloud_metadata(parts: &Parts, origin: &str) -> Response {
    let query = parse_query(parts.uri.query());
    if !query.iter().any(|(k, v)| k.eq_ignore_ascii_case("api-version") && !v.is_empty()) {
        return ArmError::bad_request(
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
        .into_response();
    }
    json(json!({
        "name": "azemu",
        "portal": origin,
        "resourceManager": format!("{origin}/"),
        "authentication": {
            "loginEndpoint": format!("{origin}/adfs"),
            "audiences": [format!("{origin}/"), "https://management.core.windows.net/", "https://management.azure.com/"],
            "tenant": "adfs",
            "identityProvider": "ADFS",
        },
        "suffixes": {},
    }))
}

pub enum Flavor {
    Adfs,
    V1,
    V2,
}

pub fn openid(origin: &str, flavor: Flavor) -> Response {
    openid_for(origin, "adfs", flavor)
}

pub fn openid_for(origin: &str, tenant: &str, flavor: Flavor) -> Response {
    let Some(tid) = tenant_id(tenant) else {
        return OAuthError::invalid_request(90002, format!("Tenant '{tenant}' not found.")).into_response();
    };
    let (issuer, base, keys) = match flavor {
        Flavor::Adfs => {
            (format!("{origin}/adfs"), format!("{origin}/adfs/oauth2"), format!("{origin}/adfs/discovery/keys"))
        }
        Flavor::V1 => (
            format!("{origin}/{tid}/"),
            format!("{origin}/{tenant}/oauth2"),
            format!("{origin}/{tenant}/discovery/keys"),
        ),
        Flavor::V2 => (
            format!("{origin}/{tid}/v2.0"),
            format!("{origin}/{tenant}/oauth2/v2.0"),
            format!("{origin}/{tenant}/discovery/v2.0/keys"),
        ),
    };
    json(json!({
        "issuer": issuer,
        "token_endpoint": format!("{base}/token"),
        "authorization_endpoint": format!("{base}/authorize"),
        "device_authorization_endpoint": format!("{base}/devicecode"),
        "jwks_uri": keys,
        "tenant_id": if tenant.eq_ignore_ascii_case("adfs") { DEFAULT_TENANT.to_string() } else { tid },
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": ["token"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "subject_types_supported": ["pairwise"],
        "scopes_supported": ["openid", "profile", "offline_access"],
        "claims_supported": ["aud", "iss", "iat", "nbf", "exp", "tid", "oid", "sub", "appid", "idtyp"],
        "cloud_instance_name": "azemu",
    }))
}

pub fn keys(app: &App) -> Response {
    json(app.identity.key.jwks())
}

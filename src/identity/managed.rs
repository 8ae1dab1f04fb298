//! Managed identity, for secret-free CI: the App Service endpoint (`IDENTITY_ENDPOINT` /
//! `IDENTITY_HEADER`, `GET /msi/token?api-version=2019-08-01&resource=…` with
//! `X-IDENTITY-HEADER`) and the instance metadata endpoint (`AZURE_POD_IDENTITY_AUTHORITY_HOST`,
//! `GET /metadata/identity/oauth2/token` with `Metadata: true`), each with its own answers.
//! Without a client id the token is the host's system-assigned identity; with one, that
//! user-assigned identity. Any non-empty identity header is accepted.

use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{json, Value};

use super::token::{issue, Issued, TokenRequest, DEFAULT_TENANT};
use super::DEFAULT_SUBSCRIPTION;
use crate::app::App;
use crate::arm::request::parse_query;

const LIFETIME_SECONDS: i64 = 86_400;
const SYSTEM_ASSIGNED: &str = "system-assigned";

fn answer(status: StatusCode, body: Value) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(axum::http::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `resource` as sent, or once more decoded when a client encoded it twice.
fn resource(query: &[(String, String)]) -> Option<String> {
    let value = query.iter().find(|(k, _)| k == "resource").map(|(_, v)| v.trim()).filter(|v| !v.is_empty())?;
    if value.contains("%3A") || value.contains("%3a") || value.contains("%2F") || value.contains("%2f") {
        return percent_encoding::percent_decode_str(value).decode_utf8().ok().map(|v| v.into_owned());
    }
    Some(value.to_string())
}

fn query_value<'a>(query: &'a [(String, String)], names: &[&str]) -> Option<&'a str> {
    query.iter().find(|(k, _)| names.contains(&k.as_str())).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

/// The identity a request asks for: a user-assigned one named by client id, object id or
/// resource id, else the system-assigned one.
fn identity_name(query: &[(String, String)]) -> String {
    query_value(query, &["client_id", "object_id", "principal_id", "mi_res_id", "msi_res_id"])
        .map_or_else(|| SYSTEM_ASSIGNED.to_string(), |v| v.rsplit('/').next().unwrap_or(v).to_string())
}

fn mint(app: &App, origin: &str, identity: &str, audience: &str) -> Issued {
    let client_id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("azemu-managed:{identity}").as_bytes());
    let mirid = if identity == SYSTEM_ASSIGNED {
        format!("/subscriptions/{DEFAULT_SUBSCRIPTION}/resourcegroups/azemu/providers/Microsoft.Compute/virtualMachines/azemu-host")
    } else {
        format!("/subscriptions/{DEFAULT_SUBSCRIPTION}/resourcegroups/azemu/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{identity}")
    };
    issue(
        &app.identity.key,
        TokenRequest {
            audience: audience.to_string(),
            issuer: format!("{origin}/{DEFAULT_TENANT}/"),
            tenant: DEFAULT_TENANT.into(),
            client_id: client_id.to_string(),
            managed_identity: Some(mirid),
            access: None,
            lifetime: chrono::Duration::seconds(LIFETIME_SECONDS),
            version: "1.0",
        },
        Utc::now(),
    )
}

/// App Service: errors are `{statusCode, message}`.
pub fn app_service(app: &App, parts: &Parts, origin: &str) -> Response {
    let refuse = |status: StatusCode, message: String| {
        answer(
            status,
            json!({"statusCode": status.as_u16(), "message": message, "correlationId": uuid::Uuid::new_v4().to_string()}),
        )
    };
    let secret = parts.headers.get("x-identity-header").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if secret.trim().is_empty() {
        return refuse(StatusCode::UNAUTHORIZED, "The X-IDENTITY-HEADER header is missing or empty.".into());
    }
    let query = parse_query(parts.uri.query());
    match query_value(&query, &["api-version"]) {
        Some("2019-08-01") => {}
        other => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!(
                    "The api-version {} is not supported; use 2019-08-01.",
                    other.map_or("(none)".into(), |v| format!("'{v}'"))
                ),
            )
        }
    }
    let Some(audience) = resource(&query) else {
        return refuse(StatusCode::BAD_REQUEST, "The 'resource' query parameter is required.".into());
    };
    let identity = identity_name(&query);
    let issued = mint(app, origin, &identity, &audience);
    answer(
        StatusCode::OK,
        json!({
            "access_token": issued.token,
            "expires_on": issued.claims.exp.to_string(),
            "resource": audience,
            "token_type": "Bearer",
            "client_id": issued.claims.appid,
        }),
    )
}

/// Instance metadata: errors are `{error, error_description}`, values are strings.
pub fn imds(app: &App, parts: &Parts, origin: &str) -> Response {
    let refuse = |description: &str| {
        answer(StatusCode::BAD_REQUEST, json!({"error": "invalid_request", "error_description": description}))
    };
    let metadata = parts.headers.get("metadata").and_then(|v| v.to_str().ok());
    if !metadata.is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return refuse("Required metadata header not specified");
    }
    let query = parse_query(parts.uri.query());
    if query_value(&query, &["api-version"]).is_none() {
        return refuse("Required query variable 'api-version' is missing");
    }
    let Some(audience) = resource(&query) else {
        return refuse("Required audience parameter not specified");
    };
    let identity = identity_name(&query);
    let issued = mint(app, origin, &identity, &audience);
    let lifetime = (issued.claims.exp - issued.claims.iat).to_string();
    answer(
        StatusCode::OK,
        json!({
            "access_token": issued.token,
            "client_id": issued.claims.appid,
            "expires_in": lifetime,
            "expires_on": issued.claims.exp.to_string(),
            "ext_expires_in": lifetime,
            "not_before": issued.claims.nbf.to_string(),
            "resource": audience,
            "token_type": "Bearer",
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn resources_arrive_encoded_or_not() {
        assert_eq!(
            resource(&q(&[("resource", "https://management.azure.com/")])).unwrap(),
            "https://management.azure.com/"
        );
        assert_eq!(
            resource(&q(&[("resource", "https%3A%2F%2Fmanagement.azure.com%2F")])).unwrap(),
            "https://management.azure.com/"
        );
        assert_eq!(resource(&q(&[("resource", " ")])), None);
    }

    #[test]
    fn identities_are_named_by_any_of_their_ids() {
        assert_eq!(identity_name(&q(&[])), SYSTEM_ASSIGNED);
        assert_eq!(identity_name(&q(&[("client_id", "abc")])), "abc");
        assert_eq!(identity_name(&q(&[("mi_res_id", "/subscriptions/s/x/userAssignedIdentities/ci")])), "ci");
    }
}

//! The token endpoints: `POST /adfs/oauth2/token`, `/{tenant}/oauth2/v2.0/token` and
//! `/{tenant}/oauth2/token`, for the client-credentials grant with a client secret or a client
//! assertion. Any client id is known and any non-empty secret is its secret: azemu signs the
//! token, and `--auth strict` trusts only what it signed.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use serde_json::json;

use super::oauth_error::OAuthError;
use super::tenant_id;
use super::token::{issue, TokenRequest, DEFAULT_TENANT};
use crate::app::App;

pub enum Endpoint<'a> {
    Adfs,
    V1(&'a str),
    V2(&'a str),
}

const FEDERATED_AUDIENCE: &str = "api://AzureADTokenExchange";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const LIFETIME_SECONDS: i64 = 3600;
/// Scopes OpenID Connect adds that name no resource.
const RESERVED_SCOPES: &[&str] = &["openid", "profile", "offline_access", "email"];

pub fn token(app: &App, parts: &Parts, body: &[u8], origin: &str, endpoint: Endpoint) -> Response {
    match grant(app, parts, body, origin, endpoint) {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

/// The form's parameters; each may appear once.
fn form(parts: &Parts, body: &[u8]) -> Result<Vec<(String, String)>, OAuthError> {
    let content_type = parts.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let media = content_type.split(';').next().unwrap_or_default().trim();
    if !media.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        let given = if content_type.is_empty() { "none".to_string() } else { format!("'{content_type}'") };
        return Err(OAuthError::invalid_request(
            900144,
            format!(
                "The request body must be sent as 'application/x-www-form-urlencoded' (the Content-Type was {given})."
            ),
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| OAuthError::invalid_request(90014, "The request body is not valid UTF-8."))?;
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (key, value) in form_urlencoded::parse(text.as_bytes()) {
        if key.is_empty() || key.contains(['{', '"', '}']) {
            return Err(OAuthError::invalid_request(90014, "The request body is not a well-formed form."));
        }
        if pairs.iter().any(|(k, _)| *k == key) {
            return Err(OAuthError::invalid_request(90015, format!("The parameter '{key}' is given more than once.")));
        }
        pairs.push((key.into_owned(), value.into_owned()));
    }
    Ok(pairs)
}

fn param<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.trim().is_empty())
}

/// The resource a `…/.default` scope names: `X/.default` → `X`, `X//.default` → `X/`.
fn audience_of_scope(scope: &str) -> Result<String, OAuthError> {
    let resources: Vec<&str> = scope.split_whitespace().filter(|s| !RESERVED_SCOPES.contains(s)).collect();
    match resources.as_slice() {
        [one] => match one.strip_suffix("/.default") {
            Some(resource) if !resource.is_empty() => Ok(resource.to_string()),
            _ => Err(OAuthError::invalid_scope(
                1002012,
                format!("The provided value for scope {one} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."),
            )),
        },
        [] => Err(OAuthError::invalid_scope(70011, "The provided value for the input parameter 'scope' names no resource.")),
        _ => Err(OAuthError::invalid_scope(
            70011,
            format!("The provided value for the input parameter 'scope' is not valid: '{scope}' names more than one resource."),
        )),
    }
}

/// Checks a client assertion's form and claims: the app's own (`iss` and `sub` the client id) or
/// a federated one (audience `api://AzureADTokenExchange`). Its signature is another party's
/// key, which azemu does not hold.
fn check_assertion(assertion: &str, client_id: &str) -> Result<(), OAuthError> {
    let malformed = || OAuthError::invalid_client(50027, "The client assertion is not a well-formed JSON Web Token.");
    let mut parts = assertion.split('.');
    let (Some(_), Some(payload), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(malformed());
    };
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).map_err(|_| malformed())?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| malformed())?;
    let claim = |name: &str| claims.get(name).and_then(|v| v.as_str());
    let own = claim("iss") == Some(client_id) && claim("sub") == Some(client_id);
    // A workload identity's token from another issuer (Kubernetes, a CI system's OIDC), made
    // for the token exchange audience.
    let federated = match claims.get("aud") {
        Some(serde_json::Value::String(aud)) => aud == FEDERATED_AUDIENCE,
        Some(serde_json::Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(FEDERATED_AUDIENCE)),
        _ => false,
    };
    if !own && !federated {
        return Err(OAuthError::invalid_client(
            700021,
            format!("Client assertion application identifier doesn't match 'client_id' parameter: its 'iss' and 'sub' must both be the client id, or its 'aud' '{FEDERATED_AUDIENCE}' for a federated credential."),
        ));
    }
    let now = Utc::now().timestamp();
    let time = |name: &str| claims.get(name).and_then(|v| v.as_i64());
    if time("exp").is_none_or(|exp| exp <= now) || time("nbf").is_some_and(|nbf| nbf > now + 300) {
        return Err(OAuthError::invalid_client(700024, "Client assertion is not within its valid time range."));
    }
    Ok(())
}

fn grant(app: &App, parts: &Parts, body: &[u8], origin: &str, endpoint: Endpoint) -> Result<Response, OAuthError> {
    if parts.method != Method::POST {
        return Err(OAuthError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
            900561,
            format!("The endpoint only accepts POST requests. Received a {} request.", parts.method),
        ));
    }
    let (tenant, issuer, version) = match endpoint {
        Endpoint::Adfs => (DEFAULT_TENANT.to_string(), format!("{origin}/adfs"), "1.0"),
        Endpoint::V1(name) | Endpoint::V2(name) => {
            let tid = tenant_id(name).ok_or_else(|| {
                OAuthError::new(StatusCode::BAD_REQUEST, "invalid_tenant", 90002, format!("Tenant '{name}' not found."))
            })?;
            match endpoint {
                Endpoint::V2(_) => (tid.clone(), format!("{origin}/{tid}/v2.0"), "2.0"),
                _ => (tid.clone(), format!("{origin}/{tid}/"), "1.0"),
            }
        }
    };
    let form = form(parts, body)?;
    let grant_type = param(&form, "grant_type").ok_or_else(|| OAuthError::missing("grant_type"))?;
    if grant_type != "client_credentials" {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{grant_type}'. azemu issues tokens for the 'client_credentials' grant."),
        ));
    }
    let client_id = param(&form, "client_id").ok_or_else(|| OAuthError::missing("client_id"))?;
    match (form.iter().find(|(k, _)| k == "client_secret"), param(&form, "client_assertion")) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_request(
                90023,
                "The request carries both 'client_secret' and 'client_assertion'; send one.",
            ))
        }
        (Some((_, secret)), None) if secret.is_empty() => {
            return Err(OAuthError::invalid_client(7000215, "Invalid client secret provided: the secret is empty."))
        }
        (Some(_), None) => {}
        (None, Some(assertion)) => {
            if param(&form, "client_assertion_type") != Some(ASSERTION_TYPE) {
                return Err(OAuthError::invalid_request(
                    900144,
                    format!("The request body must contain 'client_assertion_type' with the value '{ASSERTION_TYPE}'."),
                ));
            }
            check_assertion(assertion, client_id)?;
        }
        (None, None) => {
            return Err(OAuthError::invalid_client(
                7000216,
                "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
            ))
        }
    }
    let audience = match (param(&form, "scope"), param(&form, "resource"), &endpoint) {
        (Some(scope), _, _) => audience_of_scope(scope)?,
        (None, Some(resource), Endpoint::V1(_) | Endpoint::Adfs) => resource.to_string(),
        _ => return Err(OAuthError::missing("scope")),
    };
    let now = Utc::now();
    let issued = issue(
        &app.identity.key,
        TokenRequest {
            audience: audience.clone(),
            issuer,
            tenant,
            client_id: client_id.to_string(),
            managed_identity: None,
            access: None,
            lifetime: chrono::Duration::seconds(LIFETIME_SECONDS),
            version,
        },
        now,
    );
    let mut body = json!({
        "token_type": "Bearer",
        "expires_in": LIFETIME_SECONDS,
        "ext_expires_in": LIFETIME_SECONDS,
        "access_token": issued.token,
    });
    if let Endpoint::V1(_) = endpoint {
        body["expires_on"] = json!(issued.claims.exp.to_string());
        body["not_before"] = json!(issued.claims.nbf.to_string());
        body["resource"] = json!(audience);
    }
    let mut response = (StatusCode::OK, axum::Json(body)).into_response();
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store, no-cache"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_scopes_name_their_resource() {
        assert_eq!(audience_of_scope("https://management.azure.com/.default").unwrap(), "https://management.azure.com");
        assert_eq!(audience_of_scope("https://127.0.0.1:8443//.default").unwrap(), "https://127.0.0.1:8443/");
        assert_eq!(audience_of_scope("openid https://x/.default offline_access").unwrap(), "https://x");
        assert_eq!(audience_of_scope("https://x/user_impersonation").unwrap_err().error, "invalid_scope");
        assert_eq!(audience_of_scope("https://x/.default https://y/.default").unwrap_err().error, "invalid_scope");
        assert_eq!(audience_of_scope("openid").unwrap_err().error, "invalid_scope");
    }

    #[test]
    fn assertions_must_name_the_client() {
        let part = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let exp = Utc::now().timestamp() + 600;
        let make = |iss: &str, exp: i64| {
            format!("{}.{}.c2ln", part(json!({"alg": "RS256"})), part(json!({"iss": iss, "sub": iss, "exp": exp})))
        };
        assert!(check_assertion(&make("app-1", exp), "app-1").is_ok());
        assert_eq!(check_assertion(&make("app-2", exp), "app-1").unwrap_err().code, 700021);
        assert_eq!(check_assertion(&make("app-1", exp - 1200), "app-1").unwrap_err().code, 700024);
        assert_eq!(check_assertion("not-a-jwt", "app-1").unwrap_err().code, 50027);
        let federated = format!(
            "{}.{}.c2ln",
            part(json!({"alg": "RS256"})),
            part(
                json!({"iss": "https://oidc.ci.example", "sub": "repo:team/app", "aud": ["api://AzureADTokenExchange"], "exp": exp})
            )
        );
        assert!(check_assertion(&federated, "app-1").is_ok());
    }
}

//! Who may use the control API (`/_azemu/*`) and `/metrics`: anyone on loopback, as a
//! developer's own emulator; a holder of an admin token (or the shared `--control-token`) when
//! azemu listens where others can reach it.

use std::net::IpAddr;

use axum::http::HeaderMap;
use chrono::Utc;

use super::token::Role;
use super::verify::bearer_token;
use super::Identity;
use crate::arm::ArmError;

/// `azemu serve --control-api`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ControlApi {
    /// Open on a loopback address, a token elsewhere.
    Auto,
    Open,
    Token,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlAccess {
    Open,
    /// An admin token azemu signed, or `shared` (`--control-token`).
    Token {
        shared: Option<String>,
    },
}

impl ControlAccess {
    pub fn resolve(mode: ControlApi, listening_on: IpAddr, shared: Option<String>) -> ControlAccess {
        match mode {
            ControlApi::Open => ControlAccess::Open,
            ControlApi::Auto if listening_on.is_loopback() => ControlAccess::Open,
            ControlApi::Auto | ControlApi::Token => ControlAccess::Token { shared },
        }
    }
}

/// Compares in time that depends on the lengths only, not on where the texts differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |differ, (x, y)| differ | (x ^ y)) == 0
}

fn needs_admin() -> ArmError {
    ArmError::forbidden(
        "AuthorizationFailed",
        "The control API of this azemu needs a token with the admin role ('azemu token --role admin') or the --control-token it was started with.",
    )
}

/// The cookie the dashboard's sign-in sets: a browser cannot send a bearer token with the
/// page's own loads and its event stream.
pub const CONTROL_COOKIE: &str = "azemu_control";

/// The control token a browser holds in [`CONTROL_COOKIE`].
fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == CONTROL_COOKIE)
        .map(|(_, value)| value)
}

impl Identity {
    /// Whether a request may use the control API: its bearer token, or the dashboard's cookie.
    pub fn authorize_control(&self, access: &ControlAccess, headers: &HeaderMap) -> Result<(), ArmError> {
        if !matches!(access, ControlAccess::Token { .. }) {
            return Ok(());
        }
        match (bearer_token(headers), cookie_token(headers)) {
            (Err(_), Some(token)) => self.check_control_token(access, token),
            (bearer, _) => self.check_control_token(access, bearer?),
        }
    }

    /// Whether `token` grants the control API.
    pub fn check_control_token(&self, access: &ControlAccess, token: &str) -> Result<(), ArmError> {
        let ControlAccess::Token { shared } = access else { return Ok(()) };
        if shared.as_deref().is_some_and(|secret| same_secret(secret, token)) {
            return Ok(());
        }
        let claims = self.check_signature(token)?;
        if claims.exp <= Utc::now().timestamp() {
            return Err(ArmError::unauthorized("ExpiredAuthenticationToken", "The access token has expired."));
        }
        match claims.access.map(|a| a.role) {
            Some(Role::Admin) => Ok(()),
            _ => Err(needs_admin()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::token::{issue, Access, TokenRequest, DEFAULT_TENANT};
    use crate::identity::AuthMode;
    use axum::http::header::AUTHORIZATION;

    fn token(identity: &Identity, role: Option<Role>, lifetime: chrono::Duration) -> String {
        let access = role.map(|role| Access { subscriptions: vec![], publishers: vec![], role });
        let request = TokenRequest {
            audience: "https://management.azure.com/".into(),
            issuer: "azemu".into(),
            tenant: DEFAULT_TENANT.into(),
            client_id: "ops".into(),
            managed_identity: None,
            access,
            lifetime,
            version: "1.0",
        };
        issue(&identity.key, request, Utc::now()).token
    }

    fn bearer(token: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
        headers
    }

    #[test]
    fn loopback_is_open_unless_told_otherwise() {
        let loopback: IpAddr = "127.0.0.1".parse().unwrap();
        let anywhere: IpAddr = "0.0.0.0".parse().unwrap();
        assert_eq!(ControlAccess::resolve(ControlApi::Auto, loopback, None), ControlAccess::Open);
        assert_eq!(ControlAccess::resolve(ControlApi::Auto, "::1".parse().unwrap(), None), ControlAccess::Open);
        assert_eq!(ControlAccess::resolve(ControlApi::Auto, anywhere, None), ControlAccess::Token { shared: None });
        assert_eq!(ControlAccess::resolve(ControlApi::Open, anywhere, None), ControlAccess::Open);
        assert_eq!(ControlAccess::resolve(ControlApi::Token, loopback, None), ControlAccess::Token { shared: None });
    }

    #[test]
    fn only_admin_tokens_and_the_shared_secret_pass() {
        let identity = Identity::new(AuthMode::Any, None, vec![]).unwrap();
        let access = ControlAccess::Token { shared: Some("s3cret".into()) };
        let hour = chrono::Duration::hours(1);
        assert!(identity.authorize_control(&access, &bearer("s3cret")).is_ok());
        assert!(identity.authorize_control(&access, &bearer(&token(&identity, Some(Role::Admin), hour))).is_ok());
        let status = |headers: &HeaderMap| identity.authorize_control(&access, headers).unwrap_err().status.as_u16();
        assert_eq!(status(&HeaderMap::new()), 401);
        assert_eq!(status(&bearer("s3cret!")), 401, "not the secret, not a token azemu signed");
        assert_eq!(status(&bearer(&token(&identity, Some(Role::Contributor), hour))), 403);
        assert_eq!(status(&bearer(&token(&identity, None, hour))), 403, "an unlimited token is not an admin one");
        assert_eq!(status(&bearer(&token(&identity, Some(Role::Admin), chrono::Duration::seconds(-60)))), 401);
        assert!(identity.authorize_control(&ControlAccess::Open, &HeaderMap::new()).is_ok());
    }
}

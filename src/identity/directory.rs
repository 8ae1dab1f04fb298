//! The directory an ARM client signs in to: `GET /subscriptions`, `GET /subscriptions/{id}`
//! and `GET /tenants`. A subscription exists once anything is stored under it, or when
//! `--subscription ID[=name]` made it ahead (one default subscription when none is named).
//! A token limited to some subscriptions sees only those.

use std::collections::BTreeMap;

use axum::http::Method;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::token::DEFAULT_TENANT;
use super::verify::Principal;
use crate::app::App;
use crate::arm::api_version::{check, TypeOwner};
use crate::arm::respond::json_response;
use crate::arm::ArmError;
use crate::store::{Store, StoreError};

use crate::arm::platform::SUBSCRIPTION_API_VERSIONS as API_VERSIONS;

#[derive(Debug, Clone, PartialEq)]
pub struct DeclaredSubscription {
    pub id: String,
    pub name: Option<String>,
}

impl std::str::FromStr for DeclaredSubscription {
    type Err = String;

    /// `ID` or `ID=display name`; the id is a GUID, as Azure's are.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (id, name) = match text.split_once('=') {
            Some((id, name)) => (id.trim(), Some(name.trim().to_string()).filter(|n| !n.is_empty())),
            None => (text.trim(), None),
        };
        let guid = uuid::Uuid::parse_str(id).map_err(|_| format!("'{id}' is not a subscription id (a GUID)"))?;
        Ok(DeclaredSubscription { id: guid.hyphenated().to_string(), name })
    }
}

enum Target<'a> {
    Subscriptions,
    Subscription(&'a str),
    Tenants,
}

fn target(path: &str) -> Option<Target<'_>> {
    let mut segments = path.trim_matches('/').split('/');
    let (first, second, rest) = (segments.next()?, segments.next(), segments.next());
    match (first, second, rest) {
        (s, None, _) if s.eq_ignore_ascii_case("subscriptions") => Some(Target::Subscriptions),
        (s, Some(id), None) if s.eq_ignore_ascii_case("subscriptions") && !id.is_empty() => {
            Some(Target::Subscription(id))
        }
        (t, None, _) if t.eq_ignore_ascii_case("tenants") => Some(Target::Tenants),
        _ => None,
    }
}

pub fn is_directory_path(path: &str) -> bool {
    target(path).is_some()
}

fn subscription_doc(id: &str, name: &str) -> Value {
    json!({
        "id": format!("/subscriptions/{id}"),
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": id,
        "tenantId": DEFAULT_TENANT,
        "displayName": name,
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
    })
}

/// The store setting that holds, on a shared store, the subscriptions every node declared
/// (`{"id": "name"}`), so that each node lists the same ones.
pub const SHARED_SUBSCRIPTIONS_SETTING: &str = "declared_subscriptions";

const UNNAMED: &str = "azemu subscription";

/// Adds this node's declared subscriptions to those a shared store holds (a name given here
/// replaces the one kept).
pub async fn share_declared(store: &Store, declared: &[DeclaredSubscription]) -> Result<(), StoreError> {
    store
        .update_settings(|settings| {
            let mut shared = shared_declared(settings.get(SHARED_SUBSCRIPTIONS_SETTING).map(String::as_str));
            for d in declared {
                let kept = shared.entry(d.id.clone()).or_insert_with(|| UNNAMED.to_string());
                if let Some(name) = &d.name {
                    kept.clone_from(name);
                }
            }
            let text = serde_json::to_string(&shared).unwrap_or_else(|_| "{}".into());
            (vec![(SHARED_SUBSCRIPTIONS_SETTING.to_string(), text)], ())
        })
        .await
}

fn shared_declared(text: Option<&str>) -> BTreeMap<String, String> {
    text.and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default()
}

/// Every subscription, by lower-case id: those holding resources and the declared ones (on a
/// shared store, declared by any node).
fn subscriptions(app: &App) -> BTreeMap<String, Value> {
    let mut all = BTreeMap::new();
    for id in app.store.read(|s| s.subscription_ids()) {
        all.insert(id.to_ascii_lowercase(), subscription_doc(&id, UNNAMED));
    }
    if app.store.is_shared() {
        // This node's own are among them (`share_declared` at start).
        for (id, name) in shared_declared(app.store.setting(SHARED_SUBSCRIPTIONS_SETTING).as_deref()) {
            all.insert(id.to_ascii_lowercase(), subscription_doc(&id, &name));
        }
        return all;
    }
    for declared in &app.identity.subscriptions {
        let name = declared.name.as_deref().unwrap_or(UNNAMED);
        all.insert(declared.id.to_ascii_lowercase(), subscription_doc(&declared.id, name));
    }
    all
}

pub fn handle(app: &App, method: &Method, path: &str, api_version: Option<&str>, principal: &Principal) -> Response {
    answer(app, method, path, api_version, principal).unwrap_or_else(IntoResponse::into_response)
}

fn answer(
    app: &App,
    method: &Method,
    path: &str,
    api_version: Option<&str>,
    principal: &Principal,
) -> Result<Response, ArmError> {
    let Some(target) = target(path) else {
        return Err(ArmError::not_found("InvalidResourceType", format!("'{path}' is not a directory path.")));
    };
    if *method != Method::GET {
        return Err(ArmError::method_not_allowed(method.as_str(), path));
    }
    let type_name = match target {
        Target::Tenants => "tenants",
        _ => "subscriptions",
    };
    check(api_version, API_VERSIONS, type_name, TypeOwner::Arm, app.api_check)?;
    Ok(match target {
        Target::Subscriptions => {
            let value: Vec<Value> = subscriptions(app)
                .into_iter()
                .filter(|(id, _)| principal.reaches_subscription(id))
                .map(|(_, doc)| doc)
                .collect();
            json_response(axum::http::StatusCode::OK, &json!({ "value": value }))
        }
        Target::Subscription(id) => {
            let Some(doc) = subscriptions(app).remove(&id.to_ascii_lowercase()) else {
                return Err(ArmError::not_found(
                    "SubscriptionNotFound",
                    format!("The subscription '{id}' could not be found."),
                ));
            };
            if !principal.reaches_subscription(id) {
                let scope = format!("/subscriptions/{id}");
                return Err(principal.refusal("Microsoft.Resources/subscriptions/read", &scope));
            }
            json_response(axum::http::StatusCode::OK, &doc)
        }
        Target::Tenants => json_response(
            axum::http::StatusCode::OK,
            &json!({ "value": [{
                "id": format!("/tenants/{DEFAULT_TENANT}"),
                "tenantId": DEFAULT_TENANT,
                "tenantCategory": "Home",
                "displayName": "azemu",
                "domains": ["azemu.local"],
                "defaultDomain": "azemu.local",
                "tenantType": "AAD",
            }] }),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_subscriptions_parse() {
        let plain: DeclaredSubscription = "FD3C3665-1729-4B7B-9A38-238E83B0F98B".parse().unwrap();
        assert_eq!(plain, DeclaredSubscription { id: "fd3c3665-1729-4b7b-9a38-238e83b0f98b".into(), name: None });
        let named: DeclaredSubscription = "fd3c3665-1729-4b7b-9a38-238e83b0f98b=Team CI".parse().unwrap();
        assert_eq!(named.name.as_deref(), Some("Team CI"));
        assert!("not-a-guid".parse::<DeclaredSubscription>().is_err());
    }

    #[test]
    fn directory_paths() {
        assert!(is_directory_path("/subscriptions"));
        assert!(is_directory_path("/Subscriptions/abc/"));
        assert!(is_directory_path("/tenants"));
        assert!(!is_directory_path("/subscriptions/abc/resourcegroups"));
    }
}

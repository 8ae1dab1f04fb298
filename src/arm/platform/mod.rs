//! ARM's own endpoints around the resource providers: the providers and their registration,
//! the subscription's locations, the resource list and the tags resource. All derived from the
//! type registry and the store; no provider knows of them.

mod providers;
mod registrations;
mod resource_filter;
mod resources;
pub mod tags;

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::api_version::{check, TypeOwner};
use super::dispatch::RESOURCE_GROUPS;
use super::path::ArmPath;
use super::regions::REGIONS;
use super::request::{parse_query, ArmRequest};
use super::respond::json_response;
use super::ArmError;
use crate::app::App;
pub use registrations::Registrations;
pub use registrations::SETTING as REGISTRATIONS_SETTING;

/// The api-versions of Microsoft.Resources' subscriptions, tenants and locations APIs.
pub const SUBSCRIPTION_API_VERSIONS: &[&str] =
    &["2016-06-01", "2018-06-01", "2019-06-01", "2019-11-01", "2020-01-01", "2021-01-01", "2022-12-01"];

/// Which of ARM's own endpoints a path names.
#[derive(Debug, Clone, PartialEq)]
pub enum Platform {
    Locations,
    Providers,
    Provider(String),
    Registration { namespace: String, register: bool },
    Resources { in_group: bool },
    Tags,
}

impl Platform {
    /// Looks at the path without allocating: every ARM request passes here.
    pub(super) fn resolve(path: &ArmPath) -> Option<Platform> {
        let at_subscription = path.resource_group().is_none() && path.scope_sections().next().is_none();
        let trailing_is = |word: &str| path.trailing().is_some_and(|t| t.eq_ignore_ascii_case(word));
        let Some(section) = path.target() else {
            return match at_subscription {
                true if trailing_is("locations") => Some(Platform::Locations),
                true if trailing_is("providers") => Some(Platform::Providers),
                _ if trailing_is("resources") => {
                    Some(Platform::Resources { in_group: path.resource_group().is_some() })
                }
                _ => None,
            };
        };
        if at_subscription && section.is_empty() {
            let namespace = || section.namespace().to_string();
            return match path.trailing() {
                None => Some(Platform::Provider(namespace())),
                Some(_) if trailing_is("register") => {
                    Some(Platform::Registration { namespace: namespace(), register: true })
                }
                Some(_) if trailing_is("unregister") => {
                    Some(Platform::Registration { namespace: namespace(), register: false })
                }
                Some(_) => None,
            };
        }
        let tags = section.len() == 1
            && path.trailing().is_none()
            && section.namespace().eq_ignore_ascii_case("Microsoft.Resources")
            && section
                .pair(0)
                .is_some_and(|(t, n)| t.eq_ignore_ascii_case("tags") && n.eq_ignore_ascii_case("default"));
        tags.then_some(Platform::Tags)
    }

    /// Every operationId of ARM's own endpoints, by the type they belong to, for
    /// `GET /_azemu/faults/points` (fault rules match them like any other).
    pub const OPERATIONS: &'static [(&'static str, &'static [&'static str])] = &[
        (
            "Microsoft.Resources/providers",
            &["Providers_List", "Providers_Get", "Providers_Register", "Providers_Unregister"],
        ),
        ("Microsoft.Resources/locations", &["Subscriptions_ListLocations"]),
        ("Microsoft.Resources/resources", &["Resources_List", "Resources_ListByResourceGroup"]),
        (
            "Microsoft.Resources/tags",
            &["Tags_GetAtScope", "Tags_CreateOrUpdateAtScope", "Tags_UpdateAtScope", "Tags_DeleteAtScope"],
        ),
    ];

    /// The spec's operationId.
    pub(super) fn operation_id(&self, method: &Method) -> Option<&'static str> {
        Some(match (self, method) {
            (Platform::Locations, &Method::GET) => "Subscriptions_ListLocations",
            (Platform::Providers, &Method::GET) => "Providers_List",
            (Platform::Provider(_), &Method::GET) => "Providers_Get",
            (Platform::Registration { register: true, .. }, &Method::POST) => "Providers_Register",
            (Platform::Registration { register: false, .. }, &Method::POST) => "Providers_Unregister",
            (Platform::Resources { in_group: true }, &Method::GET) => "Resources_ListByResourceGroup",
            (Platform::Resources { in_group: false }, &Method::GET) => "Resources_List",
            (Platform::Tags, &Method::GET) => "Tags_GetAtScope",
            (Platform::Tags, &Method::PUT) => "Tags_CreateOrUpdateAtScope",
            (Platform::Tags, &Method::PATCH) => "Tags_UpdateAtScope",
            (Platform::Tags, &Method::DELETE) => "Tags_DeleteAtScope",
            _ => return None,
        })
    }
}

fn resources_api_versions(app: &App) -> &'static [&'static str] {
    app.registry.get(RESOURCE_GROUPS).map_or(&[], |p| p.spec().versions.published)
}

fn only(method: &Method, allowed: &Method, req: &ArmRequest) -> Result<(), ArmError> {
    match method == allowed {
        true => Ok(()),
        false => Err(ArmError::method_not_allowed(method.as_str(), req.raw_path())),
    }
}

/// Whether `$expand` asks for the resource types' aliases.
fn wants_aliases(expand: Option<&str>) -> bool {
    expand.is_some_and(|e| e.to_ascii_lowercase().contains("aliases"))
}

pub(super) async fn answer(app: &App, req: &ArmRequest, platform: Platform) -> Result<Response, ArmError> {
    let (versions, owner) = match platform {
        Platform::Locations => (SUBSCRIPTION_API_VERSIONS, TypeOwner::Arm),
        _ => (resources_api_versions(app), TypeOwner::Arm),
    };
    check(req.api_version(), versions, "Microsoft.Resources", owner, app.api_check)?;
    let subscription = req.path.subscription();
    let now = app.clock.now();
    match platform {
        Platform::Locations => {
            only(&req.method, &Method::GET, req)?;
            let value: Vec<Value> = REGIONS.iter().map(|r| r.document(subscription)).collect();
            Ok(json_response(StatusCode::OK, &json!({ "value": value })))
        }
        Platform::Providers => {
            only(&req.method, &Method::GET, req)?;
            let aliases = wants_aliases(req.query("$expand"));
            let value: Vec<Value> = providers::namespaces(&app.registry)
                .values()
                .map(|ns| {
                    let state = app.registrations.state(subscription, ns.name, now);
                    providers::document(ns, Some((subscription, state)), aliases)
                })
                .collect();
            Ok(json_response(StatusCode::OK, &json!({ "value": value })))
        }
        Platform::Provider(name) => {
            only(&req.method, &Method::GET, req)?;
            let all = providers::namespaces(&app.registry);
            let ns = providers::find(&all, &name)?;
            let state = app.registrations.state(subscription, ns.name, now);
            Ok(json_response(
                StatusCode::OK,
                &providers::document(ns, Some((subscription, state)), wants_aliases(req.query("$expand"))),
            ))
        }
        Platform::Registration { namespace, register } => {
            only(&req.method, &Method::POST, req)?;
            let all = providers::namespaces(&app.registry);
            let ns = providers::find(&all, &namespace)?;
            if !register && ns.name.eq_ignore_ascii_case("Microsoft.Resources") {
                return Err(ArmError::conflict(
                    "CannotUnregisterResourceProvider",
                    "The resource provider 'Microsoft.Resources' cannot be unregistered.",
                ));
            }
            let until = now + app.clock.scaled(registrations::TRANSITION);
            if let Some(setting) = app.registrations.start(subscription, ns.name, register, until) {
                app.store.save_setting(REGISTRATIONS_SETTING, setting).await?;
            }
            let state = app.registrations.state(subscription, ns.name, now);
            Ok(json_response(StatusCode::OK, &providers::document(ns, Some((subscription, state)), false)))
        }
        Platform::Resources { .. } => {
            only(&req.method, &Method::GET, req)?;
            if let Some(group) = req.path.resource_group() {
                let key = super::dispatch::group_key(subscription, group);
                if app.store.read(|s| s.resource(&key).is_none()) {
                    return Err(ArmError::resource_group_not_found(group));
                }
            }
            resources::list(app, req).await
        }
        Platform::Tags => tags::answer(app, req).await,
    }
}

/// The tenant-level `GET /providers[/{namespace}]`, which has no subscription and so no ARM
/// path; `None` for any other path.
pub fn tenant_level(app: &App, method: &Method, path: &str, query: Option<&str>) -> Option<Response> {
    // A prefix test first: every request that is not the directory's passes here.
    let rest = &path[path.bytes().take_while(|c| *c == b'/').count()..];
    if !rest.as_bytes().first().is_some_and(|c| c.eq_ignore_ascii_case(&b'p'))
        || !rest.get(..9).is_some_and(|p| p.eq_ignore_ascii_case("providers"))
    {
        return None;
    }
    let mut segments = rest.trim_end_matches('/').split('/');
    if !segments.next()?.eq_ignore_ascii_case("providers") {
        return None;
    }
    let namespace = segments.next();
    if segments.next().is_some() {
        return None;
    }
    let query = parse_query(query);
    let find = |name: &str| query.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
    let answer = || -> Result<Response, ArmError> {
        if *method != Method::GET {
            return Err(ArmError::method_not_allowed(method.as_str(), path));
        }
        check(find("api-version"), resources_api_versions(app), "Microsoft.Resources", TypeOwner::Arm, app.api_check)?;
        let aliases = wants_aliases(find("$expand"));
        let all = providers::namespaces(&app.registry);
        let body = match namespace.filter(|n| !n.is_empty()) {
            Some(name) => providers::document(providers::find(&all, name)?, None, aliases),
            None => {
                json!({ "value": all.values().map(|ns| providers::document(ns, None, aliases)).collect::<Vec<_>>() })
            }
        };
        Ok(json_response(StatusCode::OK, &body))
    };
    Some(answer().unwrap_or_else(IntoResponse::into_response))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn platform(path: &str) -> Option<Platform> {
        Platform::resolve(&ArmPath::parse(path).unwrap())
    }

    #[test]
    fn every_operation_id_is_listed() {
        let listed: Vec<&str> = Platform::OPERATIONS.iter().flat_map(|(_, ops)| ops.iter().copied()).collect();
        for platform in [
            Platform::Locations,
            Platform::Providers,
            Platform::Provider("A.B".into()),
            Platform::Registration { namespace: "A.B".into(), register: true },
            Platform::Registration { namespace: "A.B".into(), register: false },
            Platform::Resources { in_group: true },
            Platform::Resources { in_group: false },
            Platform::Tags,
        ] {
            for method in [Method::GET, Method::PUT, Method::PATCH, Method::DELETE, Method::POST] {
                if let Some(id) = platform.operation_id(&method) {
                    assert!(listed.contains(&id), "{id}");
                }
            }
        }
    }

    #[test]
    fn paths_name_their_endpoints() {
        let sub = "/subscriptions/s";
        assert_eq!(platform(&format!("{sub}/locations")), Some(Platform::Locations));
        assert_eq!(platform(&format!("{sub}/providers")), Some(Platform::Providers));
        assert_eq!(
            platform(&format!("{sub}/providers/Microsoft.Compute")),
            Some(Platform::Provider("Microsoft.Compute".into()))
        );
        assert_eq!(
            platform(&format!("{sub}/providers/Microsoft.Compute/register")),
            Some(Platform::Registration { namespace: "Microsoft.Compute".into(), register: true })
        );
        assert_eq!(platform(&format!("{sub}/resources")), Some(Platform::Resources { in_group: false }));
        assert_eq!(
            platform(&format!("{sub}/resourceGroups/g/resources")),
            Some(Platform::Resources { in_group: true })
        );
        let set = format!("{sub}/resourceGroups/g/providers/Microsoft.Compute/virtualMachineScaleSets/v");
        assert_eq!(platform(&format!("{set}/providers/Microsoft.Resources/tags/default")), Some(Platform::Tags));
        assert_eq!(platform(&set), None);
        assert_eq!(platform(&format!("{sub}/resourceGroups/g")), None);
        assert_eq!(platform(&format!("{sub}/resourcegroups")), None);
    }
}

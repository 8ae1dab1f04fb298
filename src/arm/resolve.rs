//! Which target an ARM path names: a resource, a collection, an action or an operation, and
//! the provider that answers for it. Names are checked against their type's rule here.

use axum::http::Method;

use super::catalog::{self, CatalogTarget};
use super::contract::{ActionName, Registry};
use super::dispatch::{Provider, RESOURCE_GROUPS};
use super::path::{ArmPath, ProviderSection};
use super::platform::Platform;
use super::request::ArmRequest;
use super::ArmError;
use crate::app::App;

/// Providers are borrowed from the registry: resolving a request touches no reference count.
pub(super) enum Target<'r> {
    Item {
        provider: &'r Provider,
        id: String,
        name: String,
        parent: Option<(&'r Provider, String)>,
    },
    Collection {
        provider: &'r Provider,
        parent: Option<(&'r Provider, String)>,
        parent_id: String,
        segment: String,
    },
    Action {
        provider: &'r Provider,
        id: String,
        action: &'static ActionName,
    },
    View {
        provider: &'r Provider,
        id: String,
        view: &'static ActionName,
    },
    Operation {
        id: String,
        result: bool,
    },
    /// ARM's own endpoints: providers, locations, the resource list, tags.
    Platform(Platform),
    /// A provider's built-in read-only data: images, VM sizes, SKUs.
    Catalog(CatalogTarget<'r>),
}

impl Target<'_> {
    /// The resource the request acts on, when it names one.
    pub(super) fn resource_id(&self) -> Option<&str> {
        match self {
            Target::Item { id, .. } | Target::Action { id, .. } | Target::View { id, .. } => Some(id),
            Target::Collection { .. } | Target::Operation { .. } | Target::Platform(_) | Target::Catalog(_) => None,
        }
    }
}

fn invalid_type(req: &ArmRequest) -> ArmError {
    let (ns, ty) = match req.path.target() {
        Some(t) => (t.namespace(), req.path.type_key(true).unwrap_or_default()),
        None => ("Microsoft.Resources", req.path.trailing().unwrap_or_default().to_string()),
    };
    ArmError::not_found(
        "InvalidResourceType",
        format!(
            "The resource type '{ty}' could not be found in the namespace '{ns}' for api version '{}'.",
            req.api_version().unwrap_or("")
        ),
    )
}

pub(super) fn resolve<'a>(app: &'a App, req: &ArmRequest) -> Result<Target<'a>, ArmError> {
    let path = &req.path;
    let registry = &app.registry;
    let groups = || registry.get(RESOURCE_GROUPS).ok_or_else(|| invalid_type(req));
    validate_subscription(path)?;
    validate_group_name(app, req)?;
    validate_scope(path)?;
    if let Some(platform) = Platform::resolve(path) {
        return Ok(Target::Platform(platform));
    }
    if let Some(catalog) = catalog::resolve(registry.catalogs(), path) {
        return Ok(Target::Catalog(catalog));
    }
    let Some(section) = path.target() else {
        return match (path.resource_group(), path.trailing()) {
            (Some(group), None) => Ok(Target::Item {
                provider: groups()?,
                id: format!("/subscriptions/{}/resourceGroups/{group}", path.subscription()),
                name: group.to_string(),
                parent: None,
            }),
            (None, Some(t)) if t.eq_ignore_ascii_case("resourceGroups") => Ok(Target::Collection {
                provider: groups()?,
                parent: None,
                parent_id: format!("/subscriptions/{}", path.subscription()),
                segment: "/resourcegroups/".into(),
            }),
            _ => Err(invalid_type(req)),
        };
    };
    // The provider of each level of the target section, its name checked against its rule.
    let levels = section_providers(registry, section)?;
    if !registry.knows_namespace(section.namespace()) {
        return Err(invalid_type(req));
    }
    // Operation status and result endpoints.
    if path.resource_group().is_none()
        && path.scope_sections().next().is_none()
        && path.trailing().is_none()
        && section.len() == 2
    {
        let ((first, _), (second, id)) = (section.pair(0).unwrap_or_default(), section.pair(1).unwrap_or_default());
        if first.eq_ignore_ascii_case("locations") {
            let result = second.eq_ignore_ascii_case("operationResults");
            if result || second.eq_ignore_ascii_case("operationStatuses") {
                return Ok(Target::Operation { id: id.to_string(), result });
            }
            // Compute's single URL: the result with `monitor=true`, the status without.
            if second.eq_ignore_ascii_case("operations") {
                let result = req.query("monitor").is_some_and(|m| m.eq_ignore_ascii_case("true"));
                return Ok(Target::Operation { id: id.to_string(), result });
            }
        }
    }
    let depth = path.depth();
    let provider_at = |level: usize| levels.get(level).copied().flatten();
    let parent_of = |level: usize| -> Option<(&Provider, String)> {
        let provider = provider_at(level.checked_sub(1)?)?;
        Some((provider, path.resource_id(level)))
    };
    match path.trailing() {
        None if depth > 0 => {
            let provider = provider_at(depth - 1).ok_or_else(|| invalid_type(req))?;
            Ok(Target::Item {
                provider,
                id: path.resource_id(depth),
                name: path.name_at(depth - 1).unwrap_or_default().to_string(),
                parent: parent_of(depth - 1),
            })
        }
        None => Err(invalid_type(req)),
        Some(trailing) => {
            // A view first: it is the hot read, and no child collection shares a view's name.
            let item = depth.checked_sub(1).and_then(provider_at);
            let view = item.and_then(|p| p.spec().views.iter().find(|v| v.path.eq_ignore_ascii_case(trailing)));
            if let (Some(provider), Some(view)) = (item, view) {
                return Ok(Target::View { provider, id: path.resource_id(depth), view });
            }
            let spelled = path.full_type(true).unwrap_or_default();
            if let Some(provider) = registry.for_request(&spelled.to_ascii_lowercase(), &spelled) {
                let segment = if depth == 0 {
                    format!("/providers/{}/{}/", section.namespace(), trailing)
                } else {
                    format!("/{trailing}/")
                };
                return Ok(Target::Collection {
                    provider,
                    parent: parent_of(depth),
                    parent_id: path.resource_id(depth),
                    segment: segment.to_ascii_lowercase(),
                });
            }
            let action = item.and_then(|p| p.spec().actions.iter().find(|a| a.path.eq_ignore_ascii_case(trailing)));
            match (item, action) {
                (Some(provider), Some(action)) => {
                    if req.method != Method::POST {
                        return Err(ArmError::method_not_allowed(req.method.as_str(), req.raw_path()));
                    }
                    Ok(Target::Action { provider, id: path.resource_id(depth), action })
                }
                _ => Err(invalid_type(req)),
            }
        }
    }
}

/// Whether `test` holds for every byte, without stopping early, so that the compiler can
/// vectorize it: every ARM request's subscription passes here.
fn every_byte(bytes: &[u8], test: impl Fn(u8) -> bool) -> bool {
    bytes.iter().fold(true, |all, &c| all & test(c))
}

/// ARM's subscription ids are GUIDs (`8-4-4-4-12` hex digits).
fn validate_subscription(path: &ArmPath) -> Result<(), ArmError> {
    let subscription = path.subscription();
    let b = subscription.as_bytes();
    let guid = b.len() == 36
        && (b[8] == b'-') & (b[13] == b'-') & (b[18] == b'-') & (b[23] == b'-')
        && every_byte(b, |c| c.is_ascii_hexdigit() | (c == b'-'));
    match guid {
        true => Ok(()),
        false => Err(ArmError::bad_request(
            "InvalidSubscriptionId",
            format!("The provided subscription identifier '{subscription}' is malformed or invalid."),
        )),
    }
}

/// Whether a namespace is one: `Company.Service`, letters, digits and dots, a letter first and no
/// dot last.
fn is_namespace(namespace: &str) -> bool {
    let b = namespace.as_bytes();
    b.first().is_some_and(u8::is_ascii_alphabetic)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
        && every_byte(b, |c| c.is_ascii_alphanumeric() | (c == b'.'))
        && b.iter().fold(0, |dots, &c| dots + usize::from(c == b'.')) > 0
}

/// The namespaces of an extension resource's scope (`{resourceUri}`) must be namespaces.
fn validate_scope(path: &ArmPath) -> Result<(), ArmError> {
    for section in path.scope_sections() {
        let namespace = section.namespace();
        if !is_namespace(namespace) {
            return Err(ArmError::bad_request(
                "InvalidResourceNamespace",
                format!("The resource namespace '{namespace}' is invalid."),
            ));
        }
    }
    Ok(())
}

fn validate_group_name(app: &App, req: &ArmRequest) -> Result<(), ArmError> {
    let (Some(group), Some(provider)) = (req.path.resource_group(), app.registry.get(RESOURCE_GROUPS)) else {
        return Ok(());
    };
    (provider.spec().name_rule)(group).map_err(|rule| {
        ArmError::bad_request(
            "InvalidResourceGroupName",
            format!("The resource group name '{group}' is invalid: {rule}."),
        )
    })
}

/// The provider answering for each level of `section` (`None` for types azemu does not know),
/// with every name checked against its type's rule.
fn section_providers<'r>(
    registry: &'r Registry,
    section: ProviderSection,
) -> Result<Vec<Option<&'r Provider>>, ArmError> {
    let mut key = String::with_capacity(96);
    key.push_str(section.namespace());
    key.make_ascii_lowercase();
    let mut levels = Vec::with_capacity(section.len());
    for (level, (t, name)) in section.pairs().enumerate() {
        key.push('/');
        let start = key.len();
        key.push_str(t);
        key[start..].make_ascii_lowercase();
        let provider = match registry.emulated(&key) {
            Some(provider) => Some(provider),
            // Spelled as the request does only for a type no emulated provider serves.
            None => {
                let mut spelled = section.namespace().to_string();
                section.pairs().take(level + 1).for_each(|(t, _)| {
                    spelled.push('/');
                    spelled.push_str(t);
                });
                registry.for_request(&key, &spelled)
            }
        };
        if let Some(provider) = provider {
            (provider.spec().name_rule)(name).map_err(|rule| {
                ArmError::bad_request(
                    "InvalidResourceName",
                    format!("The resource name '{name}' is invalid. It must match the pattern {rule}."),
                )
                .with_target(t)
            })?;
        }
        levels.push(provider);
    }
    Ok(levels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_and_subscriptions() {
        for good in ["Microsoft.HybridCompute", "A.B", "Contoso2.Service.Sub"] {
            assert!(is_namespace(good), "{good}");
        }
        for bad in ["", "Microsoft", ".A", "A.", "1A.B", "Not A.Namespace", "A.B-C"] {
            assert!(!is_namespace(bad), "{bad}");
        }
        let sub = |s: &str| validate_subscription(&ArmPath::parse(&format!("/subscriptions/{s}")).unwrap());
        assert!(sub("fd3c3665-1729-4b7b-9a38-238e83b0f98b").is_ok());
        assert!(sub("FD3C3665-1729-4B7B-9A38-238E83B0F98B").is_ok());
        for bad in [
            "x",
            "fd3c3665-1729-4b7b-9a38-238e83b0f98",
            "fd3c36651-729-4b7b-9a38-238e83b0f98b",
            "gd3c3665-1729-4b7b-9a38-238e83b0f98b",
        ] {
            assert_eq!(sub(bad).unwrap_err().code(), "InvalidSubscriptionId", "{bad}");
        }
    }
}

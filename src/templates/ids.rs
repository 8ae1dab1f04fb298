//! `resourceId`, `subscriptionResourceId`, `tenantResourceId` and `extensionResourceId`: the
//! resource ids a template builds, from the deployment's place and the type and names given.

use super::evaluate::{fail, EvalError};

/// Where a deployment runs: what `resourceId` leaves out defaults to it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Place {
    pub subscription: String,
    /// `None` for a deployment at subscription scope.
    pub resource_group: Option<String>,
}

/// `{namespace}/{type}/{name}[/{childType}/{childName}…]` from a type with its names.
fn provider_path(function: &str, resource_type: &str, names: &[&str]) -> Result<String, EvalError> {
    let mut segments = resource_type.split('/');
    let namespace = segments.next().unwrap_or_default();
    let types: Vec<&str> = segments.collect();
    if namespace.is_empty() || types.is_empty() || types.iter().any(|t| t.is_empty()) {
        return fail(format!("The template function '{function}' expects a resource type such as 'Microsoft.Network/virtualNetworks', not '{resource_type}'."));
    }
    // A name may hold several segments itself (`vnet/subnet` for a child type).
    let names: Vec<&str> = names.iter().flat_map(|n| n.split('/')).collect();
    if names.len() != types.len() {
        return fail(format!(
            "The template function '{function}' was given {} resource name segments for type '{resource_type}', which needs {}.",
            names.len(),
            types.len()
        ));
    }
    let pairs: Vec<String> = types.iter().zip(&names).map(|(t, n)| format!("{t}/{n}")).collect();
    Ok(format!("{namespace}/{}", pairs.join("/")))
}

/// Splits arguments at the resource type: the first argument with a `/` in it.
fn at_type<'a>(function: &str, args: &'a [&'a str]) -> Result<(&'a [&'a str], &'a str, &'a [&'a str]), EvalError> {
    let Some(i) = args.iter().position(|a| a.contains('/')) else {
        return fail(format!("The template function '{function}' needs a resource type."));
    };
    Ok((&args[..i], args[i], &args[i + 1..]))
}

/// `resourceId([subscriptionId], [resourceGroupName], resourceType, name…)`.
pub fn resource_id(place: &Place, args: &[&str]) -> Result<String, EvalError> {
    let (before, resource_type, names) = at_type("resourceId", args)?;
    let path = provider_path("resourceId", resource_type, names)?;
    let (subscription, group) =
        match before {
            [] => (place.subscription.as_str(), place.resource_group.as_deref()),
            [group] => (place.subscription.as_str(), Some(*group)),
            [subscription, group] => (*subscription, Some(*group)),
            _ => return fail(
                "The template function 'resourceId' takes at most a subscription and a resource group before the type.",
            ),
        };
    Ok(match group {
        Some(group) => format!("/subscriptions/{subscription}/resourceGroups/{group}/providers/{path}"),
        // At subscription scope, a type with no group is a subscription-level resource.
        None => subscription_level(subscription, &path),
    })
}

/// `subscriptionResourceId([subscriptionId], resourceType, name…)`.
pub fn subscription_resource_id(place: &Place, args: &[&str]) -> Result<String, EvalError> {
    let (before, resource_type, names) = at_type("subscriptionResourceId", args)?;
    let path = provider_path("subscriptionResourceId", resource_type, names)?;
    let subscription = match before {
        [] => place.subscription.as_str(),
        [subscription] => subscription,
        _ => {
            return fail("The template function 'subscriptionResourceId' takes at most a subscription before the type.")
        }
    };
    Ok(subscription_level(subscription, &path))
}

/// A subscription-level resource's id; a resource group's is ARM's own
/// (`/subscriptions/{s}/resourceGroups/{g}`), not under a provider.
fn subscription_level(subscription: &str, path: &str) -> String {
    let group = path
        .split_once('/')
        .filter(|(namespace, rest)| {
            namespace.eq_ignore_ascii_case("Microsoft.Resources") && rest.matches('/').count() == 1
        })
        .and_then(|(_, rest)| rest.split_once('/'))
        .filter(|(t, _)| t.eq_ignore_ascii_case("resourceGroups"));
    match group {
        Some((_, name)) => format!("/subscriptions/{subscription}/resourceGroups/{name}"),
        None => format!("/subscriptions/{subscription}/providers/{path}"),
    }
}

/// `tenantResourceId(resourceType, name…)`.
pub fn tenant_resource_id(args: &[&str]) -> Result<String, EvalError> {
    let (before, resource_type, names) = at_type("tenantResourceId", args)?;
    if !before.is_empty() {
        return fail("The template function 'tenantResourceId' starts with the resource type.");
    }
    Ok(format!("/providers/{}", provider_path("tenantResourceId", resource_type, names)?))
}

/// `extensionResourceId(resourceId, resourceType, name…)`.
pub fn extension_resource_id(args: &[&str]) -> Result<String, EvalError> {
    let [scope, resource_type, names @ ..] = args else {
        return fail("The template function 'extensionResourceId' takes a resource id, a type and names.");
    };
    let path = provider_path("extensionResourceId", resource_type, names)?;
    Ok(format!("{}/providers/{path}", scope.trim_end_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place() -> Place {
        Place { subscription: "sub-1".into(), resource_group: Some("rg".into()) }
    }

    #[test]
    fn resource_ids_default_to_the_deployments_place() {
        assert_eq!(
            resource_id(&place(), &["Microsoft.Network/virtualNetworks", "vnet"]).unwrap(),
            "/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet"
        );
        assert_eq!(
            resource_id(&place(), &["other-rg", "Microsoft.Network/virtualNetworks/subnets", "vnet", "default"]).unwrap(),
            "/subscriptions/sub-1/resourceGroups/other-rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default"
        );
        assert_eq!(
            resource_id(&place(), &["sub-2", "rg-2", "Microsoft.Compute/virtualMachineScaleSets", "web"]).unwrap(),
            "/subscriptions/sub-2/resourceGroups/rg-2/providers/Microsoft.Compute/virtualMachineScaleSets/web"
        );
        assert_eq!(
            resource_id(&place(), &["Microsoft.Network/virtualNetworks/subnets", "vnet/default"]).unwrap(),
            "/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default",
            "a name may carry the child's segment"
        );
        let at_subscription = Place { resource_group: None, ..place() };
        assert_eq!(
            resource_id(&at_subscription, &["Microsoft.Resources/resourceGroups", "rg-9"]).unwrap(),
            "/subscriptions/sub-1/resourceGroups/rg-9",
            "a resource group's id is ARM's own"
        );
        assert_eq!(
            resource_id(&at_subscription, &["Microsoft.Authorization/roleAssignments", "a1"]).unwrap(),
            "/subscriptions/sub-1/providers/Microsoft.Authorization/roleAssignments/a1"
        );
    }

    #[test]
    fn the_other_scopes() {
        assert_eq!(
            subscription_resource_id(&place(), &["Microsoft.Authorization/roleDefinitions", "r1"]).unwrap(),
            "/subscriptions/sub-1/providers/Microsoft.Authorization/roleDefinitions/r1"
        );
        assert_eq!(
            tenant_resource_id(&["Microsoft.Management/managementGroups", "mg"]).unwrap(),
            "/providers/Microsoft.Management/managementGroups/mg"
        );
        assert_eq!(
            extension_resource_id(&["/subscriptions/sub-1/resourceGroups/rg", "Microsoft.Authorization/locks", "lock"])
                .unwrap(),
            "/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.Authorization/locks/lock"
        );
    }

    #[test]
    fn names_must_match_the_type() {
        let error = resource_id(&place(), &["Microsoft.Network/virtualNetworks/subnets", "vnet"]).unwrap_err();
        assert!(error.0.contains("1 resource name segments") && error.0.contains("needs 2"), "{}", error.0);
        assert!(resource_id(&place(), &["vnet"]).unwrap_err().0.contains("needs a resource type"));
        assert!(resource_id(&place(), &["a", "b", "c", "Microsoft.X/y", "n"]).is_err());
    }
}

//! What a limited token may do (`--auth strict`): the subscriptions and partner publishers it
//! names, and reads only for a reader. Refusals are 403 `AuthorizationFailed`, worded as ARM
//! words them, naming the action and the scope.

use axum::http::Method;

use super::verify::Principal;
use crate::arm::{ArmError, ArmPath};

fn reads(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// ARM's name for what a request does, e.g. `Microsoft.Compute/virtualMachineScaleSets/write`.
pub fn arm_action(method: &Method, path: &ArmPath) -> String {
    let verb = |action_name: Option<&str>| match (method, action_name) {
        (&Method::POST, Some(name)) => format!("{name}/action"),
        (&Method::POST, None) => "action".to_string(),
        (&Method::DELETE, _) => "delete".to_string(),
        (m, _) if reads(m) => "read".to_string(),
        _ => "write".to_string(),
    };
    match path.target() {
        Some(section) => {
            // A provider's own path (`providers/{ns}/register`) has no types.
            let mut prefix = section.namespace().to_string();
            for (t, _) in section.pairs() {
                prefix.push('/');
                prefix.push_str(t);
            }
            match (path.trailing(), method) {
                (Some(name), &Method::POST) => format!("{prefix}/{}", verb(Some(name))),
                (Some(collection), _) => format!("{prefix}/{collection}/{}", verb(None)),
                (None, _) => format!("{prefix}/{}", verb(None)),
            }
        }
        None => {
            let scope = match path.resource_group() {
                Some(_) => "Microsoft.Resources/subscriptions/resourceGroups",
                None => "Microsoft.Resources/subscriptions",
            };
            // ARM's own collections under a subscription or group, by their canonical names.
            let collection = path
                .trailing()
                .and_then(|t| ["providers", "locations", "resources"].into_iter().find(|c| c.eq_ignore_ascii_case(t)));
            match collection {
                Some(collection) => format!("{scope}/{collection}/{}", verb(None)),
                None => format!("{scope}/{}", verb(None)),
            }
        }
    }
}

impl Principal {
    pub(super) fn refusal(&self, action: &str, scope: &str) -> ArmError {
        let oid = self.object_id.as_deref().unwrap_or(&self.caller.name);
        ArmError::forbidden(
            "AuthorizationFailed",
            format!(
                "The client '{}' with object id '{oid}' does not have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
                self.caller.name
            ),
        )
    }

    fn may(&self, method: &Method, reaches: impl Fn(&super::token::Access) -> bool) -> bool {
        self.access.as_ref().is_none_or(|access| reaches(access) && (access.role.writes() || reads(method)))
    }

    /// Whether it may read what lies in subscription `id`.
    pub fn may_read_subscription(&self, id: &str) -> bool {
        self.may(&Method::GET, |a| a.reaches_subscription(id))
    }

    pub fn reaches_subscription(&self, id: &str) -> bool {
        self.access.as_ref().is_none_or(|a| a.reaches_subscription(id))
    }

    pub fn reaches_publisher(&self, id: &str) -> bool {
        self.access.as_ref().is_none_or(|a| a.reaches_publisher(id))
    }

    pub fn authorize_arm(&self, method: &Method, path: &ArmPath) -> Result<(), ArmError> {
        if self.may(method, |a| a.reaches_subscription(path.subscription())) {
            return Ok(());
        }
        let raw_path = path.raw();
        let scope = match (path.trailing(), method) {
            (Some(action), &Method::POST) => raw_path.trim_end_matches('/').trim_end_matches(action),
            _ => raw_path,
        };
        Err(self.refusal(&arm_action(method, path), scope.trim_end_matches('/')))
    }

    /// A partner API request under `/api/publishers/{publisher}`.
    pub fn authorize_publisher(&self, method: &Method, publisher: &str, raw_path: &str) -> Result<(), ArmError> {
        if self.may(method, |a| a.reaches_publisher(publisher)) {
            return Ok(());
        }
        let verb = if reads(method) { "read" } else { "write" };
        Err(self.refusal(&format!("CloudPartnerPortal/publishers/{verb}"), raw_path.trim_end_matches('/')))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arm::Caller;
    use crate::identity::token::Access;
    use crate::identity::token::Role;

    fn principal(subscriptions: &[&str], publishers: &[&str], role: Role) -> Principal {
        Principal {
            caller: Caller { name: "app-1".into(), kind: "Application" },
            object_id: Some("oid-1".into()),
            access: Some(Access {
                subscriptions: subscriptions.iter().map(|s| s.to_string()).collect(),
                publishers: publishers.iter().map(|s| s.to_string()).collect(),
                role,
            }),
        }
    }

    #[test]
    fn actions_are_named_as_arm_names_them() {
        let path = |p: &str| ArmPath::parse(p).unwrap();
        let vmss = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachineScaleSets/ss";
        assert_eq!(arm_action(&Method::PUT, &path(vmss)), "Microsoft.Compute/virtualMachineScaleSets/write");
        assert_eq!(
            arm_action(&Method::POST, &path(&format!("{vmss}/virtualMachines/0/start"))),
            "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/start/action"
        );
        assert_eq!(
            arm_action(&Method::GET, &path(&format!("{vmss}/virtualMachines"))),
            "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read"
        );
        assert_eq!(
            arm_action(&Method::DELETE, &path("/subscriptions/s/resourceGroups/g")),
            "Microsoft.Resources/subscriptions/resourceGroups/delete"
        );
        assert_eq!(
            arm_action(&Method::POST, &path("/subscriptions/s/providers/Microsoft.Compute/register")),
            "Microsoft.Compute/register/action"
        );
        assert_eq!(
            arm_action(&Method::GET, &path("/subscriptions/s/resourceGroups/g/resources")),
            "Microsoft.Resources/subscriptions/resourceGroups/resources/read"
        );
        assert_eq!(
            arm_action(&Method::GET, &path("/subscriptions/s/locations")),
            "Microsoft.Resources/subscriptions/locations/read"
        );
        assert_eq!(
            arm_action(&Method::PATCH, &path(&format!("{vmss}/providers/Microsoft.Resources/tags/default"))),
            "Microsoft.Resources/tags/write"
        );
    }

    #[test]
    fn limits_and_roles_decide() {
        let path = ArmPath::parse("/subscriptions/s-1/resourceGroups/g").unwrap();
        let other = ArmPath::parse("/subscriptions/s-2/resourceGroups/g").unwrap();
        let contributor = principal(&["s-1"], &[], Role::Contributor);
        assert!(contributor.authorize_arm(&Method::PUT, &path).is_ok());
        let refused = contributor.authorize_arm(&Method::GET, &other).unwrap_err();
        assert_eq!((refused.status.as_u16(), refused.code()), (403, "AuthorizationFailed"));
        assert!(refused.detail.message.contains("over scope '/subscriptions/s-2/resourceGroups/g'"));
        let reader = principal(&["s-1"], &[], Role::Reader);
        assert!(reader.authorize_arm(&Method::GET, &path).is_ok());
        assert!(reader.authorize_arm(&Method::DELETE, &path).is_err());
        assert!(contributor.authorize_publisher(&Method::GET, "contoso", "/api/publishers/contoso").is_err());
        let publisher = principal(&[], &["contoso"], Role::Reader);
        assert!(publisher.authorize_publisher(&Method::GET, "Contoso", "/api/publishers/contoso").is_ok());
        assert!(publisher.authorize_publisher(&Method::POST, "contoso", "/api/publishers/contoso").is_err());
        let unlimited = Principal { access: None, ..contributor };
        assert!(unlimited.authorize_arm(&Method::DELETE, &other).is_ok());
    }
}

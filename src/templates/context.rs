//! What a template's expressions can read of their deployment: its parameters and variables,
//! where it runs (`resourceGroup()`, `subscription()`, `tenant()`, `deployment()`,
//! `environment()`), the ids it builds and the index of the copy loop being expanded.

use serde_json::{json, Map, Value};

use super::evaluate::{evaluate_value, fail, EvalError, Scope};
use super::ids::{self, Place};

#[derive(Default)]
pub struct Context {
    pub place: Place,
    /// `resourceGroup()`: id, name, type, location, tags, properties.
    pub resource_group: Option<Value>,
    /// `subscription()`: id, subscriptionId, tenantId, displayName.
    pub subscription: Value,
    pub tenant_id: String,
    /// `deployment()`: name and properties.
    pub deployment: Value,
    pub parameters: Map<String, Value>,
    pub variables: Map<String, Value>,
    /// The copy loops being expanded, innermost last: their names (if any) and indexes.
    pub copies: Vec<(Option<String>, i64)>,
    /// The template's resources by symbolic name and by name, for `reference('name')`.
    pub symbols: Vec<(String, String)>,
    /// What lies outside the template, for `reference()` and `providers()`.
    pub lookups: Option<std::sync::Arc<dyn Lookups + Send + Sync>>,
    /// The template's user-defined functions.
    pub functions: std::sync::Arc<super::functions::UserFunctions>,
    /// The first template string whose expression failed, to say where (see [`Context::failed`]).
    pub failed: std::sync::Mutex<Option<String>>,
}

/// What expressions may read outside the template, supplied by whoever deploys it.
pub trait Lookups {
    /// The document of a resource as a GET answers it; `None` when there is none.
    fn resource(&self, id: &str) -> Option<Value>;
    /// `providers(namespace, [resourceType])`; `None` for a namespace not registered.
    fn provider(&self, namespace: &str, resource_type: Option<&str>) -> Option<Value>;
}

/// Marks a `variables()` call on one not evaluated yet (see [`Context::resolve_variables`]).
const PENDING: &str = "\u{0}pending variable";

fn text_args<'a>(function: &str, args: &'a [Value]) -> Result<Vec<&'a str>, EvalError> {
    args.iter()
        .map(|a| a.as_str().ok_or_else(|| EvalError(format!("The template function '{function}' takes strings."))))
        .collect()
}

fn named<'a>(what: &str, map: &'a Map<String, Value>, args: &[Value]) -> Result<&'a Value, EvalError> {
    let Some(name) = args.first().and_then(Value::as_str) else {
        return fail(format!("The template function '{what}' takes a name."));
    };
    map.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v).ok_or_else(|| {
        EvalError(format!(
            "The template {} '{name}' is not found.",
            if what == "parameters" { "parameter" } else { "variable" }
        ))
    })
}

/// What `environment()` answers: Azure's public cloud, whose names templates build URIs from.
fn environment() -> Value {
    json!({
        "name": "AzureCloud",
        "gallery": "https://gallery.azure.com/",
        "graph": "https://graph.windows.net/",
        "portal": "https://portal.azure.com",
        "resourceManager": "https://management.azure.com/",
        "authentication": {
            "loginEndpoint": "https://login.microsoftonline.com/",
            "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"],
            "tenant": "common",
            "identityProvider": "AAD"
        },
        "suffixes": {
            "acrLoginServer": ".azurecr.io",
            "azureDatalakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
            "azureDatalakeStoreFileSystem": "azuredatalakestore.net",
            "keyvaultDns": ".vault.azure.net",
            "sqlServerHostname": ".database.windows.net",
            "storage": "core.windows.net"
        }
    })
}

impl Scope for Context {
    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, EvalError>> {
        if name.contains('.') {
            return Some(self.functions.call(name, args).unwrap_or_else(|| {
                fail(format!("The user-defined function '{name}' is not defined in the template."))
            }));
        }
        let result = match name {
            "parameters" => named("parameters", &self.parameters, args).cloned(),
            "variables" => match named("variables", &self.variables, args) {
                Ok(Value::String(s)) if s == PENDING => fail(PENDING),
                found => found.cloned(),
            },
            "resourcegroup" => self.resource_group.clone().ok_or_else(|| {
                EvalError("The template function 'resourceGroup' is not expected at subscription scope.".into())
            }),
            "subscription" => Ok(self.subscription.clone()),
            "tenant" => Ok(json!({ "tenantId": self.tenant_id, "countryCode": "US", "displayName": "azemu" })),
            "deployment" => Ok(self.deployment.clone()),
            "environment" => Ok(environment()),
            "resourceid" => {
                text_args("resourceId", args).and_then(|a| ids::resource_id(&self.place, &a)).map(Value::String)
            }
            "subscriptionresourceid" => text_args("subscriptionResourceId", args)
                .and_then(|a| ids::subscription_resource_id(&self.place, &a))
                .map(Value::String),
            "tenantresourceid" => {
                text_args("tenantResourceId", args).and_then(|a| ids::tenant_resource_id(&a)).map(Value::String)
            }
            "extensionresourceid" => {
                text_args("extensionResourceId", args).and_then(|a| ids::extension_resource_id(&a)).map(Value::String)
            }
            "copyindex" => self.copy_index(args),
            "reference" => self.reference(args),
            "providers" => self.providers(args),
            // `listKeys`, `listSecrets`, …: what only a real service holds.
            list if list.starts_with("list") => {
                let target = args.first().and_then(Value::as_str).unwrap_or_default();
                fail(format!(
                    "The template function '{name}' is not supported: azemu holds no keys or secrets for '{target}'."
                ))
            }
            _ => return None,
        };
        Some(result)
    }
}

impl Context {
    /// `reference(resourceIdOrName, [apiVersion], ['Full'])`: the properties of a resource
    /// deployed before (or existing), or with `'Full'` its whole document.
    fn reference(&self, args: &[Value]) -> Result<Value, EvalError> {
        let Some(target) = args.first().and_then(Value::as_str) else {
            return fail("The template function 'reference' takes a resource id or name.");
        };
        let full = args.get(2).and_then(Value::as_str).is_some_and(|f| f.eq_ignore_ascii_case("full"));
        let id = match target.starts_with('/') {
            true => target.to_string(),
            false => match self.symbols.iter().find(|(name, _)| name.eq_ignore_ascii_case(target)) {
                Some((_, id)) => id.clone(),
                None => return fail(format!("The resource '{target}' is not defined in the template.")),
            },
        };
        let doc = self.lookups.as_ref().and_then(|l| l.resource(&id)).ok_or_else(|| {
            EvalError(format!("The resource '{id}' referenced by the template function 'reference' was not found."))
        })?;
        if !full {
            return Ok(doc.get("properties").cloned().unwrap_or_else(|| json!({})));
        }
        let mut doc = doc;
        if let (Some(fields), Some(version)) = (doc.as_object_mut(), args.get(1).and_then(Value::as_str)) {
            fields.insert("apiVersion".into(), version.into());
        }
        Ok(doc)
    }

    /// `providers(namespace, [resourceType])`.
    fn providers(&self, args: &[Value]) -> Result<Value, EvalError> {
        let Some(namespace) = args.first().and_then(Value::as_str) else {
            return fail("The template function 'providers' takes a namespace and an optional resource type.");
        };
        let resource_type = args.get(1).and_then(Value::as_str);
        self.lookups
            .as_ref()
            .and_then(|l| l.provider(namespace, resource_type))
            .ok_or_else(|| EvalError(format!("The resource provider '{namespace}' is not registered.")))
    }

    /// `copyIndex([loopName], [offset])`.
    fn copy_index(&self, args: &[Value]) -> Result<Value, EvalError> {
        let (loop_name, offset) = match args {
            [] => (None, 0),
            [Value::String(name)] => (Some(name.as_str()), 0),
            [Value::Number(n)] => (None, n.as_i64().unwrap_or(0)),
            [Value::String(name), Value::Number(n)] => (Some(name.as_str()), n.as_i64().unwrap_or(0)),
            _ => return fail("The template function 'copyIndex' takes an optional loop name and an optional offset."),
        };
        let found = match loop_name {
            None => self.copies.last(),
            Some(wanted) => {
                self.copies.iter().rev().find(|(n, _)| n.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(wanted)))
            }
        };
        match found {
            Some((_, index)) => Ok(Value::from(index + offset)),
            None => fail(match loop_name {
                Some(wanted) => {
                    format!("The template function 'copyIndex' names the loop '{wanted}', which is not being expanded.")
                }
                None => "The template function 'copyIndex' is not expected outside a copy loop.".into(),
            }),
        }
    }

    /// The template string whose expression failed first, if one did.
    pub fn failed(&self) -> Option<String> {
        self.failed.lock().ok()?.clone()
    }

    fn remember_failure(&self, text: &str) {
        if let Ok(mut failed) = self.failed.lock() {
            failed.get_or_insert_with(|| text.to_string());
        }
    }

    /// Evaluates a template value: expressions in its strings, at any depth.
    pub fn value(&self, value: &Value) -> Result<Value, EvalError> {
        evaluate_value(value, self, &|failed| self.remember_failure(failed))
    }

    /// Evaluates the template's `variables` (and their `copy` loops), each once, in whatever
    /// order their references need; a variable that refers to itself, directly or not, is an
    /// error naming the ones left.
    pub fn resolve_variables(&mut self, declared: &Map<String, Value>) -> Result<(), EvalError> {
        let mut pending: Vec<(&String, &Value)> =
            declared.iter().filter(|(k, _)| !k.eq_ignore_ascii_case("copy")).collect();
        let copies: Vec<&Value> = declared
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("copy"))
            .flat_map(|(_, v)| v.as_array().into_iter().flatten())
            .collect();
        for copy in &copies {
            let name = copy.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
            self.variables.insert(name, Value::String(PENDING.into()));
        }
        for (name, _) in &pending {
            self.variables.insert((*name).clone(), Value::String(PENDING.into()));
        }
        let mut copies_left = copies;
        loop {
            let before = pending.len() + copies_left.len();
            let mut still = Vec::new();
            for (name, value) in pending {
                match self.value(value) {
                    Ok(v) => {
                        self.variables.insert(name.clone(), v);
                    }
                    Err(e) if e.0 == PENDING => still.push((name, value)),
                    Err(e) => return fail(format!("The variable '{name}' cannot be evaluated: {}", e.0)),
                }
            }
            pending = still;
            let mut copies_still = Vec::new();
            for copy in copies_left {
                match self.copied_variable(copy) {
                    Ok((name, v)) => {
                        self.variables.insert(name, v);
                    }
                    Err(e) if e.0 == PENDING => copies_still.push(copy),
                    Err(e) => return Err(e),
                }
            }
            copies_left = copies_still;
            let after = pending.len() + copies_left.len();
            if after == 0 {
                return Ok(());
            }
            if after == before {
                let names: Vec<&str> = pending.iter().map(|(n, _)| n.as_str()).collect();
                return fail(format!("The variables '{}' refer to each other in a circle.", names.join(", ")));
            }
        }
    }

    /// One `copy` entry of `variables`: `count` evaluations of `input`, `copyIndex(name)` bound.
    fn copied_variable(&mut self, copy: &Value) -> Result<(String, Value), EvalError> {
        let name = copy.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
        let count = match self.value(copy.get("count").unwrap_or(&Value::Null))? {
            Value::Number(n) if n.as_i64().is_some_and(|n| (0..=800).contains(&n)) => n.as_i64().unwrap_or(0),
            other => return fail(format!("The copy loop '{name}' needs a count from 0 to 800, not {other}.")),
        };
        let input = copy.get("input").cloned().unwrap_or(Value::Null);
        let mut items = Vec::new();
        for i in 0..count {
            self.copies.push((Some(name.clone()), i));
            let item = self.value(&input);
            self.copies.pop();
            items.push(item?);
        }
        Ok((name, Value::Array(items)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> Context {
        Context {
            place: Place { subscription: "sub-1".into(), resource_group: Some("rg".into()) },
            resource_group: Some(
                json!({ "id": "/subscriptions/sub-1/resourceGroups/rg", "name": "rg", "location": "westus" }),
            ),
            subscription: json!({ "id": "/subscriptions/sub-1", "subscriptionId": "sub-1" }),
            tenant_id: "t-1".into(),
            deployment: json!({ "name": "main" }),
            parameters: json!({ "prefix": "web", "count": 2 }).as_object().unwrap().clone(),
            symbols: vec![("store".into(), "/subscriptions/sub-1/resourceGroups/rg/providers/A.B/c/store".into())],
            lookups: Some(std::sync::Arc::new(Deployed)),
            ..Context::default()
        }
    }

    #[test]
    fn expressions_read_the_deployment() {
        let c = context();
        assert_eq!(c.value(&json!("[resourceGroup().location]")).unwrap(), json!("westus"));
        assert_eq!(
            c.value(&json!("[resourceId('Microsoft.Compute/virtualMachineScaleSets', parameters('prefix'))]")).unwrap(),
            json!("/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/web")
        );
        assert_eq!(c.value(&json!("[uniqueString(resourceGroup().id)]")).unwrap().as_str().unwrap().len(), 13);
        assert_eq!(c.value(&json!("[environment().suffixes.storage]")).unwrap(), json!("core.windows.net"));
        assert_eq!(c.value(&json!({ "a": ["[deployment().name]", 1] })).unwrap(), json!({ "a": ["main", 1] }));
        assert!(c.value(&json!("[parameters('missing')]")).unwrap_err().0.contains("parameter 'missing' is not found"));
        assert!(c.value(&json!("[copyIndex()]")).unwrap_err().0.contains("outside a copy loop"));
    }

    struct Deployed;

    impl Lookups for Deployed {
        fn resource(&self, id: &str) -> Option<Value> {
            id.ends_with("/store").then(|| json!({ "id": id, "location": "westus", "properties": { "endpoint": "e" } }))
        }

        fn provider(&self, namespace: &str, resource_type: Option<&str>) -> Option<Value> {
            Some(json!({ "namespace": namespace, "resourceType": resource_type, "apiVersions": ["2024-01-01"] }))
        }
    }

    #[test]
    fn references_and_providers_read_what_the_deployer_supplies() {
        let c = context();
        assert_eq!(c.value(&json!("[reference('store').endpoint]")).unwrap(), json!("e"));
        let id = "/subscriptions/sub-1/resourceGroups/rg/providers/A.B/c/store";
        assert_eq!(
            c.value(&json!(format!("[reference('{id}', '2024-01-01', 'Full').location]"))).unwrap(),
            json!("westus")
        );
        assert!(c.value(&json!("[reference('nothing')]")).unwrap_err().0.contains("not defined in the template"));
        assert!(c.value(&json!("[reference('/subscriptions/x/gone')]")).unwrap_err().0.contains("was not found"));
        assert_eq!(c.value(&json!("[providers('A.B', 'c').apiVersions[0]]")).unwrap(), json!("2024-01-01"));
        let keys = c.value(&json!("[listKeys('/x/y', '2023-01-01').keys[0].value]")).unwrap_err();
        assert!(keys.0.to_lowercase().contains("'listkeys' is not supported"), "{}", keys.0);
    }

    #[test]
    fn variables_resolve_in_the_order_their_references_need() {
        let mut c = context();
        let declared = json!({
            "full": "[concat(variables('base'), '-', variables('suffix'))]",
            "base": "[parameters('prefix')]",
            "suffix": "[string(length(variables('disks')))]",
            "copy": [{ "name": "disks", "count": "[parameters('count')]", "input": { "lun": "[copyIndex('disks')]" } }]
        });
        c.resolve_variables(declared.as_object().unwrap()).unwrap();
        assert_eq!(c.variables["full"], json!("web-2"));
        assert_eq!(c.variables["disks"], json!([{ "lun": 0 }, { "lun": 1 }]));
    }

    #[test]
    fn circular_variables_are_named() {
        let mut c = context();
        let declared = json!({ "a": "[variables('b')]", "b": "[variables('a')]", "c": "fine" });
        let error = c.resolve_variables(declared.as_object().unwrap()).unwrap_err();
        assert!(error.0.contains("'a, b' refer to each other"), "{}", error.0);
    }
}

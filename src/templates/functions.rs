//! A template's user-defined functions (`functions`): called as `namespace.name(…)`, each sees
//! only its own parameters (and the built-in functions, and the other user-defined ones), as ARM
//! allows; its `output` is checked against its declared type.

use serde_json::{Map, Value};

use super::evaluate::{evaluate_value, fail, EvalError, Scope};
use super::fields::field;
use super::parameters::type_matches;

/// How deep user-defined functions may call each other.
const MAX_DEPTH: usize = 32;

/// The definitions, by lower-case `namespace.name`.
#[derive(Debug, Default)]
pub struct UserFunctions {
    members: Map<String, Value>,
}

impl UserFunctions {
    /// Reads a template's `functions` array.
    pub fn read(declared: Option<&Value>) -> Result<UserFunctions, EvalError> {
        let mut members = Map::new();
        let Some(declared) = declared.filter(|d| !d.is_null()) else { return Ok(UserFunctions::default()) };
        let Some(namespaces) = declared.as_array() else { return fail("The template's 'functions' must be an array.") };
        for namespace in namespaces {
            let Some(name) = field(namespace, "namespace").and_then(Value::as_str) else {
                return fail("A user-defined function namespace has no 'namespace'.");
            };
            let Some(Value::Object(defined)) = field(namespace, "members") else {
                return fail(format!("The user-defined function namespace '{name}' has no 'members'."));
            };
            for (member, definition) in defined {
                if field(definition, "output").and_then(|o| field(o, "value")).is_none() {
                    return fail(format!("The user-defined function '{name}.{member}' has no output value."));
                }
                members.insert(format!("{name}.{member}").to_ascii_lowercase(), definition.clone());
            }
        }
        Ok(UserFunctions { members })
    }

    /// Calls `name` (lower-case, with its namespace) if the template defines it.
    pub fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, EvalError>> {
        self.call_at(name, args, 0)
    }

    fn call_at(&self, name: &str, args: &[Value], depth: usize) -> Option<Result<Value, EvalError>> {
        let definition = self.members.get(name)?;
        Some(self.run(name, definition, args, depth))
    }

    fn run(&self, name: &str, definition: &Value, args: &[Value], depth: usize) -> Result<Value, EvalError> {
        if depth >= MAX_DEPTH {
            return fail(format!("The user-defined function '{name}' calls functions more than {MAX_DEPTH} deep."));
        }
        let declared: Vec<&Value> =
            field(definition, "parameters").and_then(Value::as_array).into_iter().flatten().collect();
        if declared.len() != args.len() {
            return fail(format!(
                "The user-defined function '{name}' takes {} arguments, not {}.",
                declared.len(),
                args.len()
            ));
        }
        let mut parameters = Map::new();
        for (parameter, value) in declared.iter().zip(args) {
            let parameter_name = field(parameter, "name").and_then(Value::as_str).unwrap_or_default();
            let kind = field(parameter, "type").and_then(Value::as_str).unwrap_or_default();
            if type_matches(kind, value) == Some(false) {
                return fail(format!(
                    "The argument '{parameter_name}' of the user-defined function '{name}' must be of type '{kind}'."
                ));
            }
            parameters.insert(parameter_name.to_string(), value.clone());
        }
        let output = field(definition, "output").cloned().unwrap_or(Value::Null);
        let scope = InFunction { functions: self, parameters, depth: depth + 1 };
        let value = scope.value(field(&output, "value").unwrap_or(&Value::Null))?;
        let kind = field(&output, "type").and_then(Value::as_str).unwrap_or_default();
        // A type the template language does not name is left to ARM's checks of the template.
        match type_matches(kind, &value) != Some(false) {
            true => Ok(value),
            false => fail(format!("The output of the user-defined function '{name}' must be of type '{kind}'.")),
        }
    }
}

/// What a user-defined function's body sees.
struct InFunction<'a> {
    functions: &'a UserFunctions,
    parameters: Map<String, Value>,
    depth: usize,
}

/// What the deployment offers that a user-defined function may not use.
const OUTSIDE: &[&str] = &[
    "variables",
    "reference",
    "resourcegroup",
    "subscription",
    "deployment",
    "resourceid",
    "subscriptionresourceid",
    "extensionresourceid",
    "providers",
    "copyindex",
    "utcnow",
    "newguid",
];

impl InFunction<'_> {
    fn value(&self, value: &Value) -> Result<Value, EvalError> {
        evaluate_value(value, self, &|_| {})
    }
}

impl Scope for InFunction<'_> {
    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, EvalError>> {
        if name == "parameters" {
            let wanted = args.first().and_then(Value::as_str).unwrap_or_default();
            let found = self.parameters.iter().find(|(k, _)| k.eq_ignore_ascii_case(wanted)).map(|(_, v)| v.clone());
            return Some(
                found.ok_or_else(|| EvalError(format!("The user-defined function parameter '{wanted}' is not found."))),
            );
        }
        if name.contains('.') {
            return self
                .functions
                .call_at(name, args, self.depth)
                .or_else(|| Some(fail(format!("The user-defined function '{name}' is not defined in the template."))));
        }
        OUTSIDE
            .contains(&name)
            .then(|| fail(format!("The template function '{name}' cannot be used in a user-defined function.")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn functions() -> UserFunctions {
        UserFunctions::read(Some(&json!([{
            "namespace": "contoso",
            "members": {
                "uniqueName": {
                    "parameters": [{ "name": "prefix", "type": "string" }],
                    "output": { "type": "string", "value": "[concat(toLower(parameters('prefix')), '-', contoso.suffix())]" }
                },
                "suffix": { "parameters": [], "output": { "type": "string", "value": "app" } },
                "broken": { "parameters": [], "output": { "type": "int", "value": "[variables('x')]" } },
                "loop": { "parameters": [], "output": { "type": "int", "value": "[contoso.loop()]" } }
            }
        }])))
        .unwrap()
    }

    #[test]
    fn functions_see_their_parameters_and_each_other() {
        let f = functions();
        assert_eq!(f.call("contoso.uniquename", &[json!("WEB")]).unwrap().unwrap(), json!("web-app"));
        assert!(f.call("contoso.missing", &[]).is_none());
        let wrong_type = f.call("contoso.uniquename", &[json!(3)]).unwrap().unwrap_err();
        assert!(wrong_type.0.contains("must be of type 'string'"), "{}", wrong_type.0);
        let arity = f.call("contoso.uniquename", &[]).unwrap().unwrap_err();
        assert!(arity.0.contains("takes 1 arguments"), "{}", arity.0);
        let outside = f.call("contoso.broken", &[]).unwrap().unwrap_err();
        assert!(outside.0.contains("'variables' cannot be used"), "{}", outside.0);
        let deep = f.call("contoso.loop", &[]).unwrap().unwrap_err();
        assert!(deep.0.contains("more than 32 deep"), "{}", deep.0);
        assert!(UserFunctions::read(Some(&json!({}))).is_err());
    }
}

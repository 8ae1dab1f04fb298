//! A template's parameters: the values a deployment supplies (`{"name": {"value": …}}`, as
//! parameter files and `--parameters` give them), checked against each declaration (type,
//! `allowedValues`, `minValue`/`maxValue`, `minLength`/`maxLength`), with defaults for the rest.
//! A default may be an expression; it is evaluated by the caller's scope, in declaration order,
//! so that it can name earlier parameters.

use serde_json::{Map, Value};

use super::evaluate::{evaluate, EvalError, Scope};
use super::expression::{template_string, TemplateString};
use super::fields::field_in;

/// Why a deployment's parameters are not acceptable (ARM: `InvalidTemplateDeployment`, or
/// `InvalidTemplate` for a declaration that is itself wrong).
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterError {
    pub code: &'static str,
    pub message: String,
}

fn invalid(message: String) -> ParameterError {
    ParameterError { code: "InvalidTemplateDeployment", message }
}

fn invalid_template(message: String) -> ParameterError {
    ParameterError { code: "InvalidTemplate", message }
}

/// The parameters as the deployment resolved them, in declaration order; secure ones marked.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Resolved {
    pub values: Map<String, Value>,
    /// Names of `secureString` and `secureObject` parameters (never echoed back).
    pub secure: Vec<String>,
}

/// The type a declaration names, case-insensitively.
pub(super) fn type_matches(declared: &str, value: &Value) -> Option<bool> {
    Some(match declared.to_ascii_lowercase().as_str() {
        "string" | "securestring" => value.is_string(),
        "int" => value.is_i64(),
        "bool" => value.is_boolean(),
        "object" | "secureobject" => value.is_object(),
        "array" => value.is_array(),
        _ => return None,
    })
}

/// A supplied value may be written as text for a non-string type (`--parameters count=3`).
fn coerced(declared: &str, value: Value) -> Value {
    match (declared.to_ascii_lowercase().as_str(), &value) {
        ("int", Value::String(s)) => s.trim().parse::<i64>().map(Value::from).unwrap_or(value),
        ("bool", Value::String(s)) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
        ("bool", Value::String(s)) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
        ("object" | "secureobject" | "array", Value::String(s)) => serde_json::from_str(s).unwrap_or(value),
        _ => value,
    }
}

/// Evaluates a default written as a template string (or holding them, in arrays and objects).
fn evaluated(value: &Value, scope: &dyn Scope) -> Result<Value, EvalError> {
    match value {
        Value::String(s) => match template_string(s).map_err(|e| EvalError(e.to_string()))? {
            TemplateString::Literal(text) => Ok(Value::String(text)),
            TemplateString::Expression(expr) => evaluate(&expr, scope),
        },
        Value::Array(items) => {
            items.iter().map(|i| evaluated(i, scope)).collect::<Result<Vec<_>, _>>().map(Value::Array)
        }
        Value::Object(object) => object
            .iter()
            .map(|(k, v)| evaluated(v, scope).map(|v| (k.clone(), v)))
            .collect::<Result<Map<_, _>, _>>()
            .map(Value::Object),
        other => Ok(other.clone()),
    }
}

fn check_bounds(name: &str, declaration: &Map<String, Value>, value: &Value) -> Result<(), ParameterError> {
    let bound = |key: &str| field_in(declaration, key).and_then(Value::as_i64);
    if let Some(n) = value.as_i64() {
        if let Some(min) = bound("minValue").filter(|min| n < *min) {
            return Err(invalid(format!(
                "The value '{n}' of parameter '{name}' is less than the minimum value '{min}'."
            )));
        }
        if let Some(max) = bound("maxValue").filter(|max| n > *max) {
            return Err(invalid(format!(
                "The value '{n}' of parameter '{name}' is greater than the maximum value '{max}'."
            )));
        }
    }
    let length = match value {
        Value::String(s) => Some(s.chars().count() as i64),
        Value::Array(items) => Some(items.len() as i64),
        _ => None,
    };
    if let Some(length) = length {
        if let Some(min) = bound("minLength").filter(|min| length < *min) {
            return Err(invalid(format!(
                "The length of parameter '{name}' ({length}) is less than the minimum length '{min}'."
            )));
        }
        if let Some(max) = bound("maxLength").filter(|max| length > *max) {
            return Err(invalid(format!(
                "The length of parameter '{name}' ({length}) is greater than the maximum length '{max}'."
            )));
        }
    }
    Ok(())
}

/// Resolves `supplied` against the template's `declared` parameters. `default_scope` evaluates
/// defaults; it sees the parameters resolved so far through the `Resolved` it is handed.
pub fn resolve(
    declared: &Map<String, Value>,
    supplied: &Map<String, Value>,
    default_scope: &dyn Fn(&Resolved) -> Box<dyn Scope>,
) -> Result<Resolved, ParameterError> {
    if let Some(unknown) = supplied.keys().find(|k| !declared.keys().any(|d| d.eq_ignore_ascii_case(k))) {
        let known: Vec<&str> = declared.keys().map(String::as_str).collect();
        return Err(invalid(format!(
            "The template parameter '{unknown}' is not valid; the template declares: '{}'.",
            known.join(", ")
        )));
    }
    let mut resolved = Resolved::default();
    for (name, declaration) in declared {
        let Value::Object(declaration) = declaration else {
            return Err(invalid_template(format!("The declaration of parameter '{name}' is not an object.")));
        };
        let field = |key: &str| field_in(declaration, key);
        let declared_type = field("type").and_then(Value::as_str).unwrap_or_default().to_string();
        let given = supplied.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v);
        let value = match (given, field("defaultValue")) {
            (Some(Value::Object(entry)), _) if entry.contains_key("reference") => {
                return Err(invalid(format!(
                    "Parameter '{name}' refers to a Key Vault secret, which azemu does not emulate; supply its value."
                )));
            }
            (Some(Value::Object(entry)), _) if entry.contains_key("value") => {
                coerced(&declared_type, entry["value"].clone())
            }
            (Some(other), _) => {
                return Err(invalid(format!("Parameter '{name}' must be given as {{\"value\": …}}, not {other}.")))
            }
            (None, Some(default)) => {
                let scope = default_scope(&resolved);
                evaluated(default, scope.as_ref()).map_err(|e| {
                    invalid_template(format!("The default value of parameter '{name}' cannot be evaluated: {e}"))
                })?
            }
            (None, None) => {
                return Err(invalid(format!("The value for the template parameter '{name}' is not provided.")));
            }
        };
        match type_matches(&declared_type, &value) {
            None => return Err(invalid_template(format!("Parameter '{name}' has an unknown type '{declared_type}'."))),
            Some(false) => {
                return Err(invalid(format!(
                    "Template parameter '{name}' was provided an invalid value: expected a value of type '{declared_type}'."
                )))
            }
            Some(true) => {}
        }
        if let Some(Value::Array(allowed)) = field("allowedValues") {
            // For an array, every element must be allowed.
            let fits = match &value {
                Value::Array(items) if !declared_type.eq_ignore_ascii_case("object") => {
                    items.iter().all(|i| allowed.contains(i))
                }
                other => allowed.contains(other),
            };
            if !fits {
                let list: Vec<String> = allowed.iter().map(|a| a.to_string()).collect();
                return Err(invalid(format!(
                    "The provided value for the template parameter '{name}' is not valid. The value must be one of: {}.",
                    list.join(", ")
                )));
            }
        }
        check_bounds(name, declaration, &value)?;
        if declared_type.to_ascii_lowercase().starts_with("secure") {
            resolved.secure.push(name.clone());
        }
        resolved.values.insert(name.clone(), value);
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Defaults may read the parameters before them.
    struct Earlier(Map<String, Value>);

    impl Scope for Earlier {
        fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, EvalError>> {
            (name == "parameters").then(|| {
                let wanted = args.first().and_then(Value::as_str).unwrap_or_default();
                self.0.get(wanted).cloned().ok_or_else(|| EvalError(format!("no parameter '{wanted}'")))
            })
        }
    }

    fn run(declared: Value, supplied: Value) -> Result<Resolved, ParameterError> {
        let scope = |r: &Resolved| -> Box<dyn Scope> { Box::new(Earlier(r.values.clone())) };
        resolve(declared.as_object().unwrap(), supplied.as_object().unwrap(), &scope)
    }

    fn declared() -> Value {
        json!({
            "prefix": { "type": "string", "minLength": 2, "maxLength": 8 },
            "count": { "type": "int", "defaultValue": 2, "minValue": 1, "maxValue": 10 },
            "sku": { "type": "string", "defaultValue": "Standard_D2s_v3", "allowedValues": ["Standard_D2s_v3", "Standard_D4s_v3"] },
            "name": { "type": "string", "defaultValue": "[concat(parameters('prefix'), '-', string(parameters('count')))]" },
            "password": { "type": "secureString" },
            "zones": { "type": "array", "defaultValue": ["1"], "allowedValues": ["1", "2", "3"] }
        })
    }

    #[test]
    fn values_and_defaults_resolve_in_order() {
        let resolved = run(
            declared(),
            json!({ "prefix": { "value": "web" }, "count": { "value": "3" }, "password": { "value": "s3cret" } }),
        )
        .unwrap();
        assert_eq!(resolved.values["count"], json!(3), "text is read as the declared type");
        assert_eq!(resolved.values["name"], json!("web-3"), "a default reads earlier parameters");
        assert_eq!(resolved.values["sku"], json!("Standard_D2s_v3"));
        assert_eq!(resolved.secure, vec!["password".to_string()]);
        assert_eq!(resolved.values.keys().collect::<Vec<_>>(), ["prefix", "count", "sku", "name", "password", "zones"]);
    }

    #[test]
    fn each_broken_rule_is_an_invalid_deployment_naming_the_parameter() {
        let base = json!({ "prefix": { "value": "web" }, "password": { "value": "x" } });
        let with = |key: &str, value: Value| {
            let mut supplied = base.clone();
            supplied[key] = json!({ "value": value });
            run(declared(), supplied).unwrap_err()
        };
        assert!(with("sku", json!("Standard_A0")).message.contains("must be one of"));
        assert!(with("count", json!(11)).message.contains("greater than the maximum value '10'"));
        assert!(with("prefix", json!("w")).message.contains("less than the minimum length '2'"));
        assert!(with("zones", json!(["1", "4"])).message.contains("must be one of"));
        assert!(with("count", json!("many")).message.contains("type 'int'"));
        let missing = run(declared(), json!({ "prefix": { "value": "web" } })).unwrap_err();
        assert_eq!(missing.code, "InvalidTemplateDeployment");
        assert!(missing.message.contains("'password' is not provided"));
        let unknown = run(
            declared(),
            json!({ "prefix": { "value": "web" }, "password": { "value": "x" }, "extra": { "value": 1 } }),
        )
        .unwrap_err();
        assert!(unknown.message.contains("'extra' is not valid"));
        let vault =
            run(declared(), json!({ "prefix": { "value": "web" }, "password": { "reference": { "keyVault": {} } } }))
                .unwrap_err();
        assert!(vault.message.contains("Key Vault"));
    }

    #[test]
    fn a_declaration_that_is_wrong_is_an_invalid_template() {
        let error = run(json!({ "x": { "type": "float" } }), json!({ "x": { "value": 1 } })).unwrap_err();
        assert_eq!(error.code, "InvalidTemplate");
        let error = run(json!({ "x": { "type": "string", "defaultValue": "[nosuch()]" } }), json!({})).unwrap_err();
        assert!(error.message.contains("'nosuch' is not valid"), "{}", error.message);
    }
}

//! Evaluating template expressions: values, property access, indexing and calls. Functions
//! that read the deployment (`parameters`, `variables`, `resourceId`, `reference`, `copyIndex`,
//! …) come from a [`Scope`]; the rest are [`super::builtins`]. Names are matched
//! case-insensitively, as ARM does.

use serde_json::Value;

use super::builtins;
use super::expression::{template_string, Expr, TemplateString};
use super::lambdas;

/// Why an expression could not be evaluated (ARM reports it as `InvalidTemplate`).
#[derive(Debug, Clone, PartialEq)]
pub struct EvalError(pub String);

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub(super) fn fail<T>(message: impl Into<String>) -> Result<T, EvalError> {
    Err(EvalError(message.into()))
}

/// The functions that depend on the deployment.
pub trait Scope {
    /// Calls `name` (lower-case) if the scope defines it; `None` if it does not.
    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, EvalError>>;
}

/// A scope that defines nothing: pure expressions only.
pub struct NoScope;

impl Scope for NoScope {
    fn call(&self, _: &str, _: &[Value]) -> Option<Result<Value, EvalError>> {
        None
    }
}

pub fn evaluate(expr: &Expr, scope: &dyn Scope) -> Result<Value, EvalError> {
    match expr {
        Expr::String(s) => Ok(Value::String(s.clone())),
        Expr::Int(i) => Ok(Value::from(*i)),
        Expr::Member(inner, name) => member(evaluate(inner, scope)?, name),
        Expr::Index(inner, index) => indexed(evaluate(inner, scope)?, evaluate(index, scope)?),
        Expr::Call { name, args } => {
            let lower = name.to_ascii_lowercase();
            // `if` evaluates only the branch it takes.
            if lower == "if" {
                let [condition, yes, no] = args.as_slice() else {
                    return fail("The template function 'if' takes 3 arguments.");
                };
                return match evaluate(condition, scope)? {
                    Value::Bool(true) => evaluate(yes, scope),
                    Value::Bool(false) => evaluate(no, scope),
                    other => fail(format!("The template function 'if' expects a boolean condition, not {other}.")),
                };
            }
            if lambdas::TAKING_LAMBDAS.contains(&lower.as_str()) {
                return lambdas::call(&lower, name, args, scope);
            }
            let values = args.iter().map(|a| evaluate(a, scope)).collect::<Result<Vec<_>, _>>()?;
            if let Some(result) = scope.call(&lower, &values) {
                return result;
            }
            builtins::call(&lower, name, values)
        }
    }
}

/// Evaluates a template value in `scope`: the expressions in its strings, at any depth;
/// `failed` hears of each string whose expression failed.
pub fn evaluate_value(value: &Value, scope: &dyn Scope, failed: &dyn Fn(&str)) -> Result<Value, EvalError> {
    match value {
        Value::String(s) => {
            let evaluated = match template_string(s) {
                Ok(TemplateString::Literal(text)) => return Ok(Value::String(text)),
                Ok(TemplateString::Expression(expr)) => evaluate(&expr, scope),
                Err(e) => Err(EvalError(format!("{e} in '{s}'"))),
            };
            evaluated.inspect_err(|_| failed(s))
        }
        Value::Array(items) => {
            items.iter().map(|i| evaluate_value(i, scope, failed)).collect::<Result<Vec<_>, _>>().map(Value::Array)
        }
        Value::Object(object) => object
            .iter()
            .map(|(k, v)| evaluate_value(v, scope, failed).map(|v| (k.clone(), v)))
            .collect::<Result<serde_json::Map<_, _>, _>>()
            .map(Value::Object),
        other => Ok(other.clone()),
    }
}

/// `value.name`; object properties are matched case-insensitively.
fn member(value: Value, name: &str) -> Result<Value, EvalError> {
    let Value::Object(object) = value else {
        return fail(format!("The language expression property '{name}' can't be evaluated on {}.", kind(&value)));
    };
    if let Some(found) = object.get(name) {
        return Ok(found.clone());
    }
    match object.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
        Some((_, found)) => Ok(found.clone()),
        None => {
            let available: Vec<&str> = object.keys().map(String::as_str).collect();
            fail(format!(
                "The language expression property '{name}' doesn't exist, available properties are '{}'.",
                available.join(", ")
            ))
        }
    }
}

fn indexed(value: Value, index: Value) -> Result<Value, EvalError> {
    match (&value, &index) {
        (Value::Array(items), Value::Number(n)) => {
            let at = n.as_i64().unwrap_or(-1);
            usize::try_from(at).ok().and_then(|i| items.get(i)).cloned().ok_or_else(|| {
                EvalError(format!(
                    "The language expression array index '{at}' is out of bounds (length {}).",
                    items.len()
                ))
            })
        }
        (Value::Object(_), Value::String(name)) => member(value.clone(), name),
        _ => fail(format!("{} cannot be indexed by {}.", kind(&value), kind(&index))),
    }
}

pub(super) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::templates::expression::parse;
    use serde_json::json;

    fn error(text: &str) -> String {
        evaluate(&parse(text).unwrap(), &NoScope).unwrap_err().0
    }

    #[test]
    fn properties_and_indexes() {
        let value = evaluate(&parse("createObject('Name', createArray('a', 'b')).name[1]").unwrap(), &NoScope).unwrap();
        assert_eq!(value, json!("b"), "properties are matched in any case");
        assert!(error("createObject('a', 1).b").contains("property 'b' doesn't exist, available properties are 'a'"));
        assert!(error("createArray(1)[3]").contains("out of bounds"));
        assert!(error("if(1, 'a', 'b')").contains("boolean condition"));
    }

    #[test]
    fn a_scope_supplies_the_deployments_functions() {
        struct Parameters;
        impl Scope for Parameters {
            fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, EvalError>> {
                (name == "parameters").then(|| match args.first().and_then(Value::as_str) {
                    Some("count") => Ok(json!(2)),
                    other => Err(EvalError(format!("The template parameter '{other:?}' is not found."))),
                })
            }
        }
        let expr = parse("range(0, Parameters('count'))").unwrap();
        assert_eq!(evaluate(&expr, &Parameters).unwrap(), json!([0, 1]));
        assert!(evaluate(&parse("parameters('x')").unwrap(), &Parameters).is_err());
    }
}

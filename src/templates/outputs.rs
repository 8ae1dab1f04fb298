//! A template's `outputs`, evaluated once its resources are deployed: each `{type, value}`,
//! with `condition` and `copy` (`count` and `input`), in ARM's answer shape
//! `{"name": {"type": "String", "value": …}}`.

use serde_json::{json, Map, Value};

use super::context::Context;
use super::evaluate::EvalError;
use super::fields::field_in;
use super::parameters::type_matches;

/// The type as ARM answers it (`String`, `Int`, `Bool`, `Object`, `Array`, `SecureString`, …).
pub fn answered_type(declared: &str) -> String {
    match declared.to_ascii_lowercase().as_str() {
        "string" => "String".into(),
        "int" => "Int".into(),
        "bool" => "Bool".into(),
        "object" => "Object".into(),
        "array" => "Array".into(),
        "securestring" => "SecureString".into(),
        "secureobject" => "SecureObject".into(),
        _ => declared.to_string(),
    }
}

pub fn evaluate(declared: &Map<String, Value>, ctx: &mut Context) -> Result<Map<String, Value>, EvalError> {
    let mut outputs = Map::new();
    for (name, declaration) in declared {
        let Value::Object(declaration) = declaration else {
            return Err(EvalError(format!("The output '{name}' is not an object.")));
        };
        if let Some(condition) = field_in(declaration, "condition") {
            if ctx.value(condition)? == Value::Bool(false) {
                continue;
            }
        }
        let declared_type = field_in(declaration, "type").and_then(Value::as_str).unwrap_or_default().to_string();
        let value = match field_in(declaration, "copy") {
            Some(copy) => {
                let count = ctx.value(copy.get("count").unwrap_or(&Value::Null))?;
                let count = count.as_i64().filter(|n| (0..=800).contains(n)).ok_or_else(|| {
                    EvalError(format!("The copy of output '{name}' needs a count from 0 to 800, not {count}."))
                })?;
                let input = copy.get("input").cloned().unwrap_or(Value::Null);
                let mut items = Vec::new();
                for i in 0..count {
                    ctx.copies.push((None, i));
                    let item = ctx.value(&input);
                    ctx.copies.pop();
                    items.push(item?);
                }
                Value::Array(items)
            }
            None => ctx.value(field_in(declaration, "value").unwrap_or(&Value::Null))?,
        };
        if type_matches(&declared_type, &value) != Some(true) {
            return Err(EvalError(format!(
                "The template output '{name}' is not valid: its value is not of the declared type '{declared_type}'."
            )));
        }
        outputs.insert(name.clone(), json!({ "type": answered_type(&declared_type), "value": value }));
    }
    Ok(outputs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::templates::ids::Place;

    fn context() -> Context {
        Context {
            place: Place { subscription: "s".into(), resource_group: Some("rg".into()) },
            resource_group: Some(json!({ "name": "rg", "location": "westus" })),
            subscription: json!({}),
            tenant_id: "t".into(),
            deployment: json!({ "name": "main" }),
            parameters: json!({ "count": 2 }).as_object().unwrap().clone(),
            ..Context::default()
        }
    }

    #[test]
    fn outputs_are_typed_copied_and_conditional() {
        let declared = json!({
            "location": { "type": "string", "value": "[resourceGroup().location]" },
            "names": { "type": "array", "copy": { "count": "[parameters('count')]", "input": "[format('vm{0}', copyIndex())]" } },
            "skipped": { "type": "string", "condition": "[equals(1, 2)]", "value": "never" }
        });
        let outputs = evaluate(declared.as_object().unwrap(), &mut context()).unwrap();
        assert_eq!(outputs["location"], json!({ "type": "String", "value": "westus" }));
        assert_eq!(outputs["names"], json!({ "type": "Array", "value": ["vm0", "vm1"] }));
        assert!(outputs.get("skipped").is_none());
    }

    #[test]
    fn a_value_of_another_type_is_refused() {
        let declared = json!({ "count": { "type": "int", "value": "two" } });
        let error = evaluate(declared.as_object().unwrap(), &mut context()).unwrap_err();
        assert!(error.0.contains("declared type 'int'"), "{}", error.0);
    }
}

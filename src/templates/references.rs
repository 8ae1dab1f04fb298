//! The resources a declaration's expressions read with `reference()` (or a `list*()`): ARM
//! makes each one deployed by the same template an implicit dependency.

use serde_json::Value;

use super::context::Context;
use super::evaluate::evaluate;
use super::expression::{template_string, Expr, TemplateString};

/// What each `reference`/`list*` call in `declaration` names (its first argument, where it can
/// be evaluated before anything is deployed). A nested deployment's own template is not read.
pub fn referenced(declaration: &Value, ctx: &Context) -> Vec<String> {
    let nested = declaration
        .get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case("Microsoft.Resources/deployments"));
    let mut found = Vec::new();
    walk(declaration, ctx, nested, &mut found);
    found
}

fn walk(value: &Value, ctx: &Context, nested: bool, found: &mut Vec<String>) {
    match value {
        Value::String(s) => {
            if let Ok(TemplateString::Expression(expr)) = template_string(s) {
                calls(&expr, ctx, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| walk(i, ctx, nested, found)),
        Value::Object(fields) => {
            for (key, v) in fields {
                let skipped = key.eq_ignore_ascii_case("dependsOn")
                    || key.eq_ignore_ascii_case("resources")
                    || (nested && key.eq_ignore_ascii_case("template"));
                if !skipped {
                    walk(v, ctx, nested, found);
                }
            }
        }
        _ => {}
    }
}

fn calls(expr: &Expr, ctx: &Context, found: &mut Vec<String>) {
    match expr {
        Expr::Call { name, args } => {
            let lower = name.to_ascii_lowercase();
            if lower == "reference" || lower.starts_with("list") {
                if let Some(Ok(Value::String(target))) = args.first().map(|a| evaluate(a, ctx)) {
                    found.push(target);
                }
            }
            args.iter().for_each(|a| calls(a, ctx, found));
        }
        Expr::Member(inner, _) => calls(inner, ctx, found),
        Expr::Index(inner, index) => {
            calls(inner, ctx, found);
            calls(index, ctx, found);
        }
        Expr::String(_) | Expr::Int(_) => {}
    }
}

//! A deployment request made ready to run: its parameters resolved against the template, the
//! expression context built (where it deploys, its parameters and variables) and its resources
//! planned. Template errors become ARM's `InvalidTemplate` / `InvalidTemplateDeployment`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use crate::arm::ArmError;
use crate::templates::context::{Context, Lookups};
use crate::templates::evaluate::{EvalError, Scope};
use crate::templates::fields::field;
use crate::templates::functions::UserFunctions;
use crate::templates::ids::Place;
use crate::templates::parameters::{self, Resolved};
use crate::templates::plan::{self, Planned};

/// Where a deployment runs and what its expressions may see of it.
pub struct Target<'a> {
    pub subscription: &'a str,
    /// The resource group's document, at resource-group scope.
    pub group: Option<&'a Value>,
    pub deployment_name: &'a str,
    pub location: Option<&'a str>,
    pub tenant_id: &'a str,
    pub now: DateTime<Utc>,
    pub lookups: Option<Arc<dyn Lookups + Send + Sync>>,
    /// The request body as sent, to say where in its template an expression failed.
    pub raw_body: &'a [u8],
}

pub struct Prepared {
    pub resolved: Resolved,
    pub context: Context,
    pub plan: Vec<Planned>,
}

/// ARM's `InvalidTemplate`, worded as ARM words template validation failures.
pub fn invalid_template(message: &str) -> ArmError {
    ArmError::bad_request("InvalidTemplate", format!("Deployment template validation failed: '{message}'."))
}

/// Where `text` (a template string) stands in the template of `raw` (a request body): its line
/// and column counted from the template's opening brace, as ARM counts them.
pub fn position(raw: &[u8], text: &str) -> Option<(usize, usize)> {
    let raw = std::str::from_utf8(raw).ok()?;
    // `"template": {…}`, or `template:{…}` as the Azure CLI writes it.
    let key = raw.find("\"template\"").or_else(|| raw.find("template:"))?;
    let start = key + raw[key..].find('{')?;
    let quoted = serde_json::to_string(text).ok()?;
    let at = start + raw[start..].find(&quoted)?;
    let before = &raw[start..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Some((line, column))
}

/// `InvalidTemplate` for an expression that failed in `context`, naming it and where it is.
fn failed_in(context: &Context, raw: &[u8], message: &str) -> ArmError {
    match context.failed() {
        Some(text) => {
            let at = position(raw, &text)
                .map(|(line, column)| format!(" at line '{line}' and column '{column}'"))
                .unwrap_or_default();
            invalid_template(&format!("The template expression '{text}'{at} is not valid: {message}"))
        }
        None => invalid_template(message),
    }
}

fn object_of(template: &Value, key: &str) -> Result<Map<String, Value>, ArmError> {
    match field(template, key) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(o)) => Ok(o.clone()),
        Some(_) => Err(invalid_template(&format!("The template's '{key}' must be an object."))),
    }
}

fn context(
    target: &Target,
    template: &Value,
    parameters: Map<String, Value>,
    functions: &Arc<UserFunctions>,
) -> Context {
    let resource_group = target.group.map(|g| {
        let mut group = json!({
            "id": g.get("id"), "name": g.get("name"), "type": "Microsoft.Resources/resourceGroups",
            "location": g.get("location"), "properties": { "provisioningState": "Succeeded" }
        });
        for optional in ["tags", "managedBy"] {
            if let Some(v) = g.get(optional) {
                group[optional] = v.clone();
            }
        }
        group
    });
    let group_name = target.group.and_then(|g| g.get("name")).and_then(Value::as_str).map(str::to_string);
    let content_version = field(template, "contentVersion").cloned().unwrap_or(json!("1.0.0.0"));
    let mut deployment = json!({
        "name": target.deployment_name,
        "properties": { "template": { "contentVersion": content_version }, "mode": "Incremental", "provisioningState": "Accepted" }
    });
    if let Some(location) = target.location {
        deployment["location"] = json!(location);
    }
    Context {
        place: Place { subscription: target.subscription.to_string(), resource_group: group_name },
        resource_group,
        subscription: json!({
            "id": format!("/subscriptions/{}", target.subscription),
            "subscriptionId": target.subscription,
            "tenantId": target.tenant_id,
            "displayName": "azemu",
        }),
        tenant_id: target.tenant_id.to_string(),
        deployment,
        parameters,
        variables: Map::new(),
        copies: Vec::new(),
        symbols: Vec::new(),
        lookups: target.lookups.clone(),
        functions: functions.clone(),
        failed: Default::default(),
    }
}

/// What parameter defaults may call besides the template's functions: `utcNow` and `newGuid`,
/// which ARM allows only there.
struct Defaults {
    context: Context,
    now: DateTime<Utc>,
}

impl Scope for Defaults {
    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, EvalError>> {
        match name {
            "utcnow" => {
                let format = args.first().and_then(Value::as_str).unwrap_or(crate::templates::dates::DEFAULT_FORMAT);
                Some(crate::templates::dates::utc_now(self.now, format).map(Value::String))
            }
            "newguid" => Some(Ok(Value::String(uuid::Uuid::new_v4().to_string()))),
            _ => self.context.call(name, args),
        }
    }
}

/// Resolves the parameters (`supplied` as `{name: {value}}`), the variables and the plan.
pub fn prepare(target: &Target, template: &Value, supplied: &Map<String, Value>) -> Result<Prepared, ArmError> {
    if let Some(version) = field(template, "languageVersion").and_then(Value::as_str) {
        if !(version.starts_with("1.") || version.starts_with("2.")) {
            return Err(invalid_template(&format!("The template languageVersion '{version}' is not supported.")));
        }
    }
    let functions = Arc::new(UserFunctions::read(field(template, "functions")).map_err(|e| invalid_template(&e.0))?);
    let declared = object_of(template, "parameters")?;
    let resolved = parameters::resolve(&declared, supplied, &|so_far: &Resolved| {
        Box::new(Defaults { context: context(target, template, so_far.values.clone(), &functions), now: target.now })
    })
    .map_err(|e| match e.code {
        "InvalidTemplate" => invalid_template(&e.message),
        code => ArmError::bad_request(code, e.message),
    })?;
    let mut context = context(target, template, resolved.values.clone(), &functions);
    let variables = object_of(template, "variables")?;
    if let Err(e) = context.resolve_variables(&variables) {
        return Err(failed_in(&context, target.raw_body, &e.0));
    }
    let plan = match plan::plan(template, &mut context) {
        Ok(plan) => plan,
        Err(e) if e.0.starts_with("Circular dependency") => {
            return Err(ArmError::bad_request(
                "InvalidTemplateDeployment",
                format!("The template deployment failed because of a circular dependency: '{}'.", e.0),
            ))
        }
        Err(e) => return Err(failed_in(&context, target.raw_body, &e.0)),
    };
    for planned in &plan {
        if let Some(symbolic) = &planned.symbolic {
            context.symbols.push((symbolic.clone(), planned.id.clone()));
        }
        context.symbols.push((planned.name.clone(), planned.id.clone()));
    }
    Ok(Prepared { resolved, context, plan })
}

/// The fields of a declaration that are ARM's instructions, not the resource's body.
const INSTRUCTIONS: &[&str] = &[
    "type",
    "apiVersion",
    "name",
    "dependsOn",
    "condition",
    "copy",
    "comments",
    "scope",
    "existing",
    "resources",
    "metadata",
    "apiProfile",
    "subscriptionId",
    "resourceGroup",
    "import",
];

/// The body a planned resource is written with: its declaration without ARM's instructions,
/// evaluated (with its copy index bound). A nested deployment of inner scope keeps its template
/// for its own evaluation.
pub fn body_of(planned: &Planned, context: &mut Context) -> Result<Value, EvalError> {
    let Value::Object(declaration) = &planned.declaration else { return Ok(json!({})) };
    let mut body = Map::new();
    let inner = planned.resource_type.eq_ignore_ascii_case("Microsoft.Resources/deployments")
        && field(&planned.declaration, "properties")
            .and_then(|p| field(p, "expressionEvaluationOptions"))
            .and_then(|o| field(o, "scope"))
            .and_then(Value::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case("inner"));
    if let Some((loop_name, index)) = &planned.copy {
        context.copies.push((Some(loop_name.clone()), *index));
    }
    let result = (|| {
        for (key, value) in declaration {
            if INSTRUCTIONS.iter().any(|i| i.eq_ignore_ascii_case(key)) {
                continue;
            }
            let evaluated = match (inner, key.eq_ignore_ascii_case("properties"), value) {
                (true, true, Value::Object(properties)) => {
                    let mut out = Map::new();
                    for (k, v) in properties {
                        let kept = k.eq_ignore_ascii_case("template");
                        out.insert(k.clone(), if kept { v.clone() } else { context.value(v)? });
                    }
                    Value::Object(out)
                }
                _ => context.value(value)?,
            };
            body.insert(key.clone(), evaluated);
        }
        Ok(Value::Object(body))
    })();
    if planned.copy.is_some() {
        context.copies.pop();
    }
    result
}

/// A stable hash of the template, as the deployment's `templateHash` (decimal digits).
pub fn template_hash(template: &Value) -> String {
    let text = serde_json::to_string(template).unwrap_or_default();
    let digest = crate::templates::hashes::unique_string(&[&text]);
    let number = digest.bytes().fold(0u64, |acc, b| acc.wrapping_mul(131).wrapping_add(u64::from(b)));
    number.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_expression_is_found_in_the_template_as_sent() {
        let sdk = br#"{"properties": {"mode": "Incremental", "template": {
  "variables": {
    "name": "[concat(parameters('x')]"
  }
}}}"#;
        assert_eq!(position(sdk, "[concat(parameters('x')]"), Some((3, 13)));
        let cli = b"{\"properties\": {\"mode\": \"Incremental\", template:{\"v\": \"[bad(]\"}}}";
        assert_eq!(position(cli, "[bad(]"), Some((1, 7)));
        assert_eq!(position(cli, "[absent]"), None);
    }
}

//! What a deployment request carries: the template, its parameters and the options, read from
//! a PUT, `validate` or `whatIf` body with ARM's errors for what is missing or malformed.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::arm::ArmError;
use crate::templates::fields::field_in;

/// `Incremental` leaves the group's other resources; `Complete` deletes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Mode {
    #[default]
    Incremental,
    Complete,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Incremental => "Incremental",
            Mode::Complete => "Complete",
        }
    }
}

pub struct DeploymentInput {
    pub location: Option<String>,
    pub tags: Option<Value>,
    pub template: Value,
    /// `{name: {value}}` as sent.
    pub parameters: Map<String, Value>,
    pub mode: Mode,
    /// Options ARM echoes: `debugSetting`, `onErrorDeployment`, `expressionEvaluationOptions`,
    /// `validationLevel`.
    pub echoed: Map<String, Value>,
}

/// A field that is there and not null.
fn field<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    field_in(object, key).filter(|v| !v.is_null())
}

fn invalid(message: impl Into<String>) -> ArmError {
    ArmError::invalid_content(message)
}

impl DeploymentInput {
    pub fn read(body: &Value) -> Result<DeploymentInput, ArmError> {
        let Some(body) = body.as_object() else { return Err(invalid("The request content must be a JSON object.")) };
        let Some(Value::Object(properties)) = field(body, "properties") else {
            return Err(invalid("The request content was invalid: 'properties' is required.").with_target("properties"));
        };
        if field(properties, "templateLink").is_some() || field(properties, "parametersLink").is_some() {
            return Err(ArmError::bad_request(
                "InvalidContentLink",
                "azemu does not download linked templates or parameters: send the template and its parameters inline ('properties.template', 'properties.parameters').",
            ));
        }
        let template = match field(properties, "template") {
            Some(template @ Value::Object(_)) => template.clone(),
            Some(_) => return Err(invalid("The template must be a JSON object.").with_target("properties.template")),
            None => {
                return Err(ArmError::bad_request(
                    "InvalidDeployment",
                    "The deployment must have a template: 'properties.template' is required.",
                ))
            }
        };
        let parameters = match field(properties, "parameters") {
            None => Map::new(),
            Some(Value::Object(p)) => p.clone(),
            Some(_) => {
                return Err(
                    invalid("The deployment parameters must be a JSON object.").with_target("properties.parameters")
                )
            }
        };
        let mode = match field(properties, "mode").map(|m| m.as_str().unwrap_or_default().to_ascii_lowercase()) {
            None => Mode::Incremental,
            Some(m) if m == "incremental" => Mode::Incremental,
            Some(m) if m == "complete" => Mode::Complete,
            Some(m) => {
                return Err(ArmError::bad_request(
                    "InvalidDeploymentMode",
                    format!("The deployment mode '{m}' is not valid. Allowed values are 'Incremental' and 'Complete'."),
                )
                .with_target("properties.mode"))
            }
        };
        let echoed = ["debugSetting", "onErrorDeployment", "expressionEvaluationOptions", "validationLevel"]
            .into_iter()
            .filter_map(|key| field(properties, key).map(|v| (key.to_string(), v.clone())))
            .collect();
        let location = match field(body, "location") {
            None => None,
            Some(Value::String(l)) => Some(l.clone()),
            Some(_) => return Err(invalid("The location must be a string.").with_target("location")),
        };
        Ok(DeploymentInput { location, tags: field(body, "tags").cloned(), template, parameters, mode, echoed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_body_is_read_with_arms_errors() {
        let read = DeploymentInput::read(&json!({
            "properties": { "template": { "resources": [] }, "parameters": { "a": { "value": 1 } }, "mode": "complete",
                            "debugSetting": { "detailLevel": "none" } }
        }))
        .unwrap();
        assert_eq!(read.mode, Mode::Complete);
        assert_eq!(read.parameters["a"], json!({ "value": 1 }));
        assert_eq!(read.echoed["debugSetting"], json!({ "detailLevel": "none" }));
        let code = |body: Value| DeploymentInput::read(&body).err().map(|e| e.detail.code);
        assert_eq!(code(json!({})).as_deref(), Some("InvalidRequestContent"));
        assert_eq!(code(json!({ "properties": {} })).as_deref(), Some("InvalidDeployment"));
        assert_eq!(
            code(json!({ "properties": { "templateLink": { "uri": "x" } } })).as_deref(),
            Some("InvalidContentLink")
        );
        assert_eq!(
            code(json!({ "properties": { "template": {}, "mode": "Sometimes" } })).as_deref(),
            Some("InvalidDeploymentMode")
        );
    }
}

//! One fault rule: what it matches, what it does, how often; read from the JSON users send
//! and checked field by field, so a mistyped rule is refused instead of never firing.

use std::time::Duration;

use globset::{GlobBuilder, GlobMatcher};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A rule as users write it (`POST /_azemu/faults`, `azemu serve --faults FILE`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    #[serde(rename = "match", default)]
    pub matcher: MatchInput,
    pub action: ActionInput,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MatchInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ActionInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<LatencyInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_operation: Option<FailureInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_step: Option<FailureInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_connection: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ErrorInput {
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyInput {
    pub ms: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FailureInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// An error a rule answers with (or that an operation or step ends with).
#[derive(Debug, Clone, PartialEq)]
pub struct InjectedError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub retry_after: Option<u64>,
}

#[derive(Debug, Clone)]
pub enum Action {
    Error(InjectedError),
    Latency(Duration),
    FailOperation(InjectedError),
    FailStep(InjectedError),
    DropConnection,
}

impl Action {
    /// Acts on the request itself, rather than on the work it starts.
    pub fn is_immediate(&self) -> bool {
        matches!(self, Action::Error(_) | Action::Latency(_) | Action::DropConnection)
    }
}

/// A checked `match`: every given field must hold.
#[derive(Debug, Clone)]
pub struct Match {
    pub method: Option<String>,
    pub path: Option<GlobMatcher>,
    pub operation: Option<String>,
    pub subscription: Option<String>,
    pub step: Option<String>,
}

/// What is known about a request when rules are matched against it.
#[derive(Debug, Clone, Copy)]
pub struct RequestFacts<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// The resource the request names, when it names one.
    pub resource_id: Option<&'a str>,
    /// The spec's operationId, when the request is one.
    pub operation: Option<&'a str>,
    pub subscription: Option<&'a str>,
}

impl Match {
    /// Whether the request-level fields hold (`step` is matched later, by the lifecycle).
    pub fn holds(&self, facts: &RequestFacts) -> bool {
        let same = |want: &Option<String>, have: Option<&str>| {
            want.as_ref().is_none_or(|w| have.is_some_and(|h| h.eq_ignore_ascii_case(w)))
        };
        let path_holds = self
            .path
            .as_ref()
            .is_none_or(|glob| glob.is_match(facts.path) || facts.resource_id.is_some_and(|id| glob.is_match(id)));
        same(&self.method, Some(facts.method))
            && same(&self.operation, facts.operation)
            && same(&self.subscription, facts.subscription)
            && path_holds
    }

    /// Whether `step` names one of the step's paths: equal to it, or a suffix of it that starts
    /// at a `/`, compared case-insensitively.
    pub fn names_step(&self, step_paths: &[String]) -> bool {
        let Some(want) = self.step.as_deref().map(|s| s.trim_matches('/').to_ascii_lowercase()) else {
            return false;
        };
        step_paths.iter().any(|path| {
            let path = path.to_ascii_lowercase();
            path == want || path.ends_with(&format!("/{want}"))
        })
    }
}

/// A rule that was checked and can run.
#[derive(Debug, Clone)]
pub struct CheckedRule {
    pub matcher: Match,
    pub action: Action,
    /// Hits after which the rule retires; `None`: never.
    pub times: Option<u64>,
    pub probability: Option<f64>,
    pub seed: u64,
    /// The input, normalised, as GET shows it.
    pub shown: RuleInput,
}

fn default_code(status: u16) -> &'static str {
    match status {
        400 => "BadRequest",
        401 => "AuthenticationFailed",
        403 => "AuthorizationFailed",
        404 => "NotFound",
        408 => "RequestTimeout",
        409 => "Conflict",
        412 => "PreconditionFailed",
        429 => "TooManyRequests",
        500 => "InternalServerError",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        s if s >= 500 => "InternalServerError",
        _ => "BadRequest",
    }
}

fn failure(input: &FailureInput, default_code: &str, default_message: &str) -> Result<InjectedError, String> {
    let code = input.code.clone().unwrap_or_else(|| default_code.to_string());
    if code.trim().is_empty() {
        return Err("action: an error code must not be empty".into());
    }
    Ok(InjectedError {
        status: 400,
        code,
        message: input.message.clone().unwrap_or_else(|| default_message.to_string()),
        retry_after: None,
    })
}

fn check_action(input: &ActionInput) -> Result<Action, String> {
    let mut actions = Vec::new();
    if let Some(e) = &input.error {
        if !(400..=599).contains(&e.status) {
            return Err(format!("action.error.status must be an HTTP error status (400-599), not {}", e.status));
        }
        let code = e.code.clone().unwrap_or_else(|| default_code(e.status).to_string());
        let message = e.message.clone().unwrap_or_else(|| format!("Injected by azemu fault rule ({code})."));
        let retry_after = e.retry_after.or((e.status == 429 || e.status == 503).then_some(1));
        actions.push(Action::Error(InjectedError { status: e.status, code, message, retry_after }));
    }
    if let Some(l) = &input.latency {
        if l.ms > 600_000 {
            return Err("action.latency.ms must be at most 600000 (ten minutes)".into());
        }
        actions.push(Action::Latency(Duration::from_millis(l.ms)));
    }
    if let Some(f) = &input.fail_operation {
        actions.push(Action::FailOperation(failure(f, "InjectedFailure", "The operation failed (azemu fault rule).")?));
    }
    if let Some(f) = &input.fail_step {
        actions.push(Action::FailStep(failure(f, "StepFailed", "The step failed (azemu fault rule).")?));
    }
    match input.drop_connection {
        Some(true) => actions.push(Action::DropConnection),
        Some(false) => return Err("action.dropConnection can only be true".into()),
        None => {}
    }
    match actions.len() {
        1 => Ok(actions.remove(0)),
        0 => Err("action needs one of error, latency, failOperation, failStep, dropConnection".into()),
        _ => Err("action must hold exactly one of error, latency, failOperation, failStep, dropConnection".into()),
    }
}

fn non_empty(field: &str, value: &Option<String>) -> Result<Option<String>, String> {
    match value.as_deref().map(str::trim) {
        Some("") => Err(format!("match.{field} must not be empty")),
        other => Ok(other.map(str::to_string)),
    }
}

fn check_match(input: &MatchInput) -> Result<Match, String> {
    let method = non_empty("method", &input.method)?;
    if let Some(m) = &method {
        if !m.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(format!("match.method '{m}' is not an HTTP method"));
        }
    }
    let path = match non_empty("path", &input.path)? {
        Some(pattern) => Some(
            GlobBuilder::new(&pattern)
                .case_insensitive(true)
                .literal_separator(true)
                .build()
                .map_err(|e| format!("match.path is not a valid glob: {e}"))?
                .compile_matcher(),
        ),
        None => None,
    };
    Ok(Match {
        method,
        path,
        operation: non_empty("operation", &input.operation)?,
        subscription: non_empty("subscription", &input.subscription)?,
        step: non_empty("step", &input.step)?,
    })
}

/// Checks a rule; the error says which field is wrong and why.
pub fn check(input: RuleInput) -> Result<CheckedRule, String> {
    let matcher = check_match(&input.matcher)?;
    let action = check_action(&input.action)?;
    match (&action, &matcher.step) {
        (Action::FailStep(_), None) => return Err("action.failStep needs match.step: the step to fail".into()),
        (Action::FailStep(_), Some(_)) => {}
        (_, Some(_)) => return Err("match.step only goes with action.failStep".into()),
        _ => {}
    }
    if let Some(p) = input.probability {
        if !(p > 0.0 && p <= 1.0) {
            return Err(format!("probability must be greater than 0 and at most 1, not {p}"));
        }
    }
    if input.times == Some(0) {
        return Err("times must be at least 1".into());
    }
    if input.seed.is_some() && input.probability.is_none() {
        return Err("seed only goes with probability".into());
    }
    // Without `probability`, a rule fires once unless told otherwise; with it, until removed.
    let times = input.times.or(if input.probability.is_none() { Some(1) } else { None });
    let seed = input.seed.unwrap_or_else(|| fastrand::u64(..) >> 11);
    let mut shown = input;
    shown.times = times;
    if shown.probability.is_some() {
        shown.seed = Some(seed);
    }
    Ok(CheckedRule { matcher, action, times, probability: shown.probability, seed, shown })
}

/// Reads one rule or an array of rules.
pub fn parse_rules(json: &Value) -> Result<Vec<RuleInput>, String> {
    let one = |v: &Value| serde_json::from_value::<RuleInput>(v.clone()).map_err(|e| e.to_string());
    match json {
        Value::Array(items) => {
            items.iter().enumerate().map(|(i, v)| one(v).map_err(|e| format!("rule {}: {e}", i + 1))).collect()
        }
        other => Ok(vec![one(other)?]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(v: Value) -> Result<CheckedRule, String> {
        check(serde_json::from_value(v).map_err(|e| e.to_string())?)
    }

    fn facts(path: &str) -> RequestFacts<'_> {
        RequestFacts { method: "PUT", path, resource_id: None, operation: None, subscription: None }
    }

    #[test]
    fn path_globs_are_case_insensitive_and_star_stays_in_a_segment() {
        let r = rule(json!({"match": {"path": "/subscriptions/*/resourceGroups/*"}, "action": {"latency": {"ms": 1}}}))
            .unwrap();
        assert!(r.matcher.holds(&facts("/SUBSCRIPTIONS/s1/resourcegroups/rg")));
        assert!(!r.matcher.holds(&facts("/subscriptions/s1/resourcegroups/rg/providers/x")));
        let r = rule(json!({"match": {"path": "**/jobs/*"}, "action": {"latency": {"ms": 1}}})).unwrap();
        assert!(r.matcher.holds(&facts("/subscriptions/s/resourceGroups/g/providers/A/b/c/jobs/j1")));
        assert!(!r.matcher.holds(&facts("/subscriptions/s/jobs/j1/more")));
    }

    #[test]
    fn step_paths_match_whole_or_by_a_suffix_at_a_slash() {
        let r = rule(json!({"match": {"step": "node-2/restart"}, "action": {"failStep": {}}})).unwrap();
        let paths = |p: &str| vec![p.to_string()];
        assert!(r.matcher.names_step(&paths("Update/Node-2/Restart")));
        assert!(r.matcher.names_step(&paths("Node-2/Restart")));
        assert!(!r.matcher.names_step(&paths("Update/XNode-2/Restart")));
        assert!(!r.matcher.names_step(&paths("Update/Node-2/Restart/Wait")));
    }

    #[test]
    fn bad_rules_say_what_is_wrong() {
        let cases = [
            (json!({"action": {}}), "needs one of"),
            (json!({"action": {"latency": {"ms": 1}, "dropConnection": true}}), "exactly one"),
            (json!({"action": {"error": {"status": 200}}}), "400-599"),
            (json!({"action": {"failStep": {}}}), "needs match.step"),
            (json!({"match": {"step": "x"}, "action": {"failOperation": {}}}), "only goes with"),
            (json!({"action": {"dropConnection": true}, "probability": 1.5}), "probability"),
            (json!({"action": {"dropConnection": true}, "times": 0}), "times"),
            (json!({"match": {"path": "a[b"}, "action": {"dropConnection": true}}), "glob"),
            (json!({"match": {"method": ""}, "action": {"dropConnection": true}}), "method"),
        ];
        for (input, expected) in cases {
            let message = rule(input.clone()).err().unwrap_or_else(|| panic!("{input} was accepted"));
            assert!(message.contains(expected), "{input}: {message}");
        }
        assert!(serde_json::from_value::<RuleInput>(json!({"action": {"dropConnection": true}, "tims": 2})).is_err());
    }

    #[test]
    fn defaults_fire_once_and_probability_keeps_its_seed() {
        let r = rule(json!({"action": {"error": {"status": 429}}})).unwrap();
        assert_eq!(r.times, Some(1));
        let Action::Error(e) = &r.action else { panic!() };
        assert_eq!((e.code.as_str(), e.retry_after), ("TooManyRequests", Some(1)));
        let r = rule(json!({"action": {"dropConnection": true}, "probability": 0.5})).unwrap();
        assert_eq!(r.times, None);
        assert_eq!(r.shown.seed, Some(r.seed));
    }
}

//! `/_azemu/faults`: add, list, read and remove fault rules, and list the failure points every
//! provider declares. On a store other nodes share, rules are changed in the store, so that
//! every node holds them, and their hits are the ones counted there.

use std::collections::HashMap;

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::app::{App, FAULT_HITS};
use crate::arm::operation_id::operation_ids;
use crate::arm::platform::Platform;
use crate::arm::respond::{json_response, no_content};
use crate::arm::ArmError;
use crate::faults::{check, parse_rules, CheckedRule, SharedRule, NEXT_RULE_SETTING, SHARED_RULES_SETTING};
use crate::store::StoreError;

/// `rest` is the path after `faults`: empty, `/points` or `/{id}`.
pub async fn handle(app: &App, method: &Method, rest: &str, body: &[u8]) -> Response {
    match (method, rest.trim_end_matches('/')) {
        (&Method::GET, "") => {
            refresh_hits(app).await;
            json_response(StatusCode::OK, &json!({ "value": app.faults.list() }))
        }
        (&Method::POST, "") => add(app, body).await,
        (&Method::DELETE, "") => {
            if app.store.is_shared() {
                if let Err(e) = change_shared(app, |_, rules, _| (rules.clear(), None)).await {
                    return ArmError::from(e).into_response();
                }
            } else {
                app.faults.clear();
            }
            no_content(StatusCode::NO_CONTENT)
        }
        (&Method::GET, "/points") => json_response(StatusCode::OK, &json!({ "value": points(app) })),
        (&Method::GET, id) if !id.is_empty() => {
            refresh_hits(app).await;
            match app.faults.get(&id[1..]) {
                Some(rule) => json_response(StatusCode::OK, &rule),
                None => no_rule(&id[1..]),
            }
        }
        (&Method::DELETE, id) if !id.is_empty() => {
            let removed = if app.store.is_shared() {
                change_shared(app, |_, rules, _| {
                    let before = rules.len();
                    rules.retain(|r| r.id.to_string() != id[1..]);
                    (rules.len() != before, None)
                })
                .await
            } else {
                Ok(app.faults.remove(&id[1..]))
            };
            match removed {
                Ok(true) => no_content(StatusCode::NO_CONTENT),
                Ok(false) => no_rule(&id[1..]),
                Err(e) => ArmError::from(e).into_response(),
            }
        }
        _ => ArmError::method_not_allowed(method.as_str(), &format!("/_azemu/faults{rest}")).into_response(),
    }
}

/// Adds checked rules, on every node of a shared store; answers them as GET shows them.
pub async fn add_rules(app: &App, rules: Vec<CheckedRule>) -> Result<Vec<Value>, StoreError> {
    let now = app.clock.now();
    if !app.store.is_shared() {
        return Ok(rules.into_iter().map(|r| app.faults.add(r, now)).collect());
    }
    let ids = change_shared(app, |_, shared, next| (push_all(shared, next, &rules, now), None)).await?;
    Ok(ids.iter().filter_map(|id| app.faults.get(&id.to_string())).collect())
}

/// The store setting listing the `--faults` files (told apart by their rules) whose rules a
/// shared store has taken.
const RULE_FILES_SETTING: &str = "fault_rule_files";

/// Adds the rules of a `--faults` file. On a shared store, nodes started with the same rules add
/// them once: a node that joins or restarts later leaves them (and their hits) as they stand.
/// Answers how many were added.
pub async fn add_file_rules(app: &App, rules: Vec<CheckedRule>) -> Result<usize, StoreError> {
    if !app.store.is_shared() {
        return Ok(add_rules(app, rules).await?.len());
    }
    let shown: Vec<&_> = rules.iter().map(|r| &r.shown).collect();
    let text = serde_json::to_string(&shown).unwrap_or_default();
    let file = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, text.as_bytes()).to_string();
    let now = app.clock.now();
    change_shared(app, |settings, shared, next| {
        let mut files: Vec<String> =
            settings.get(RULE_FILES_SETTING).and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default();
        if files.contains(&file) {
            return (0, None);
        }
        files.push(file.clone());
        let added = push_all(shared, next, &rules, now).len();
        let files = serde_json::to_string(&files).unwrap_or_default();
        (added, Some((RULE_FILES_SETTING.to_string(), files)))
    })
    .await
}

fn push_all(shared: &mut Vec<SharedRule>, next: &mut u64, rules: &[CheckedRule], now: DateTime<Utc>) -> Vec<u64> {
    rules
        .iter()
        .map(|r| {
            let id = *next;
            *next += 1;
            shared.push(SharedRule { id, created: now, rule: r.shown.clone() });
            id
        })
        .collect()
}

/// Changes the rules a shared store holds, from the ones it holds now (under the cluster's write
/// lock), and takes them on here. `f` may name one more setting to write with them.
async fn change_shared<T>(
    app: &App,
    f: impl FnOnce(&HashMap<String, String>, &mut Vec<SharedRule>, &mut u64) -> (T, Option<(String, String)>),
) -> Result<T, StoreError> {
    let (out, rules) = app
        .store
        .update_settings(|settings| {
            let mut rules: Vec<SharedRule> =
                settings.get(SHARED_RULES_SETTING).and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default();
            let mut next: u64 = settings.get(NEXT_RULE_SETTING).and_then(|s| s.parse().ok()).unwrap_or(1);
            let (out, also) = f(settings, &mut rules, &mut next);
            let text = serde_json::to_string(&rules).unwrap_or_else(|_| "[]".into());
            let mut writes =
                vec![(SHARED_RULES_SETTING.to_string(), text), (NEXT_RULE_SETTING.to_string(), next.to_string())];
            writes.extend(also);
            (writes, (out, rules))
        })
        .await?;
    app.faults.follow(rules);
    Ok(out)
}

/// On a shared store, the hits every node counted.
async fn refresh_hits(app: &App) {
    if !app.store.is_shared() {
        return;
    }
    match app.store.counts(FAULT_HITS).await {
        Ok(counts) => {
            let hits = counts
                .into_iter()
                .filter_map(|(name, hits)| name.strip_prefix(FAULT_HITS)?.parse().ok().map(|id: u64| (id, hits)))
                .collect();
            app.faults.set_hits(&hits);
        }
        Err(e) => tracing::warn!(error = %e, "fault rule hits as this node counted them"),
    }
}

fn no_rule(id: &str) -> Response {
    ArmError::not_found("FaultRuleNotFound", format!("There is no fault rule '{id}'.")).into_response()
}

/// One rule, or an array of rules added together (all or none).
async fn add(app: &App, body: &[u8]) -> Response {
    let input: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return ArmError::invalid_content(format!("A fault rule must be JSON: {e}.")).into_response(),
    };
    let many = input.is_array();
    let checked = parse_rules(&input).and_then(|rules| {
        rules
            .into_iter()
            .enumerate()
            .map(|(i, r)| check(r).map_err(|e| numbered(many, i, e)))
            .collect::<Result<Vec<_>, _>>()
    });
    match checked {
        Err(message) => ArmError::bad_request("InvalidFaultRule", message).into_response(),
        Ok(rules) => match add_rules(app, rules).await {
            Ok(added) if many => json_response(StatusCode::CREATED, &json!({ "value": added })),
            Ok(added) => json_response(StatusCode::CREATED, added.first().unwrap_or(&Value::Null)),
            Err(e) => ArmError::from(e).into_response(),
        },
    }
}

fn numbered(many: bool, index: usize, message: String) -> String {
    if many {
        format!("rule {}: {message}", index + 1)
    } else {
        message
    }
}

fn points(app: &App) -> Vec<Value> {
    let providers = app.registry.all().into_iter().map(|p| {
        json!({
            "protocol": "arm",
            "resourceType": p.spec().full_type(),
            "operations": operation_ids(p.spec()),
            "steps": p.failure_steps(),
        })
    });
    let platform = Platform::OPERATIONS.iter().map(|(resource_type, operations)| {
        json!({ "protocol": "arm", "resourceType": resource_type, "operations": operations, "steps": [] })
    });
    let catalogs = crate::arm::catalog::operations(app.registry.catalogs()).into_iter().map(|(resource_type, operations)| {
        json!({ "protocol": "arm", "resourceType": resource_type, "operations": operations, "steps": [] })
    });
    providers.chain(platform).chain(catalogs).collect()
}

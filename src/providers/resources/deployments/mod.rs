//! Template deployments (`Microsoft.Resources/deployments`) at resource-group and subscription
//! scope: a PUT checks the template and plans it, then the orchestrator (`crate::deployments`)
//! deploys each resource through the ARM layer and moves the run on; `validate` and `whatIf`
//! check a template without deploying it; `cancel` and `exportTemplate`; and the deployment's
//! operations, one per resource, as a child type.

pub mod document;
pub mod input;
pub mod lookups;
pub mod operations;
pub mod prepare;
pub mod queue;
pub mod run_state;
mod what_if;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::{json, Value};

use input::DeploymentInput;
use lookups::{Catalog, KnownResources};
pub use operations::DeploymentOperations;
use prepare::{prepare, Prepared, Target};
use queue::DeploymentQueue;
use run_state::{DeploymentRun, OnBehalf, RunState, Step, StepState};

use super::resource_groups::MICROSOFT_RESOURCES;
use crate::arm::{ArmError, TypeOwner};
use crate::providers::{
    sim_state, ActionName, ActionOutcome, ActionRequest, Advance, AdvanceCtx, CheckRequest, DeleteMissing, ListFilter,
    ListOrder, LroHeaders, OperationNames, PutKind, PutOutcome, PutRequest, ResourceProvider, ResourceTypeSpec,
    Written,
};
use crate::store::{OperationUrls, State, StoredResource, Txn};

pub const TYPE_KEY: &str = "microsoft.resources/deployments";

/// ARM's rule for deployment names.
fn name_rule(name: &str) -> Result<(), &'static str> {
    let ok_char = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '(' | ')');
    match (1..=64).contains(&name.chars().count()) && name.chars().all(ok_char) {
        true => Ok(()),
        false => Err("1-64 characters: letters, digits, '_', '-', '.', '(' or ')'"),
    }
}

const CANCEL: ActionName = ActionName { path: "cancel", operation: "Cancel" };
const EXPORT: ActionName = ActionName { path: "exportTemplate", operation: "ExportTemplate" };
const VALIDATE: ActionName = ActionName { path: "validate", operation: "Validate" };
const WHAT_IF: ActionName = ActionName { path: "whatIf", operation: "WhatIf" };

/// Microsoft.Resources' api-versions from the first that served deployments (`2015-11-01`).
pub(crate) static VERSIONS: crate::providers::ApiVersions =
    crate::providers::ApiVersions { published: MICROSOFT_RESOURCES.split_at(3).1, added: &[] };

static SPEC: ResourceTypeSpec = ResourceTypeSpec {
    namespace: "Microsoft.Resources",
    type_names: &["deployments"],
    shown_type: None,
    name_levels: 1,
    name_join: "/",
    versions: &VERSIONS,
    owner: TypeOwner::Arm,
    extension: false,
    etag_in_body: false,
    expand_only: &[],
    name_rule,
    put: PutKind::AsyncOperation,
    patch: false,
    delete: LroHeaders::Location,
    delete_missing: DeleteMissing::NoContent,
    delete_duration: Duration::from_secs(1),
    actions: &[CANCEL, EXPORT, VALIDATE, WHAT_IF],
    action_headers: LroHeaders::Location,
    tracked: &["/properties/provisioningState"],
    operation_urls: OperationUrls::Arm,
    missing: Some(("DeploymentNotFound", "The deployment could not be found.")),
    views: &[],
    operations: OperationNames {
        group: "Deployments",
        put: "CreateOrUpdate",
        list: "ListByResourceGroup",
        list_in_subscription: None,
    },
    list_order: ListOrder::Id,
    names: OnceLock::new(),
};

pub struct Deployments {
    queue: Arc<DeploymentQueue>,
    catalog: Arc<Catalog>,
}

impl Deployments {
    pub fn new(queue: Arc<DeploymentQueue>, catalog: Arc<Catalog>) -> Deployments {
        Deployments { queue, catalog }
    }
}

/// The run a stored deployment carries.
pub fn run_of(resource: &StoredResource) -> Option<DeploymentRun> {
    resource.sim_as::<DeploymentRun>()
}

/// Everything a request tells about where the deployment runs; expressions see the documents
/// of the resources the template names as they are now.
fn prepared(
    catalog: &Arc<Catalog>,
    req_path: &crate::arm::ArmPath,
    (name, raw_body): (&str, &[u8]),
    input: &DeploymentInput,
    state: &State,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Prepared, ArmError> {
    let subscription = req_path.subscription();
    let group = req_path.resource_group().map(|g| {
        let key = format!("/subscriptions/{subscription}/resourcegroups/{g}").to_ascii_lowercase();
        state.resource(&key).map(|r| r.body_value()).unwrap_or_else(|| json!({ "name": g }))
    });
    if group.is_none() && input.location.as_deref().is_none_or(|l| l.trim().is_empty()) {
        return Err(ArmError::bad_request(
            "LocationRequired",
            "The location property is required for a deployment at subscription scope.",
        ));
    }
    let target = Target {
        subscription,
        group: group.as_ref(),
        deployment_name: name,
        location: input.location.as_deref(),
        tenant_id: crate::identity::token::DEFAULT_TENANT,
        now,
        lookups: Some(Arc::new(KnownResources { catalog: catalog.clone(), docs: HashMap::new() })),
        raw_body,
    };
    let mut prepared = prepare(&target, &input.template, &input.parameters)?;
    let docs = prepared
        .plan
        .iter()
        .filter_map(|p| {
            let key = p.id.to_ascii_lowercase();
            state.resource(&key).map(|r| (key, r.body_value()))
        })
        .collect();
    prepared.context.lookups = Some(Arc::new(KnownResources { catalog: catalog.clone(), docs }));
    Ok(prepared)
}

fn declared_types(template: &Value) -> serde_json::Map<String, Value> {
    let declared = template.get("parameters").and_then(Value::as_object).cloned().unwrap_or_default();
    declared
        .into_iter()
        .map(|(name, d)| {
            let kind = d.get("type").and_then(Value::as_str).unwrap_or("String");
            (name, json!(crate::templates::outputs::answered_type(kind)))
        })
        .collect()
}

/// The run a new deployment starts with: every planned resource waiting (existing ones to be
/// read, not written).
fn new_run(
    id: &str,
    input: &DeploymentInput,
    prepared: &Prepared,
    on_behalf: OnBehalf,
    now: chrono::DateTime<chrono::Utc>,
) -> DeploymentRun {
    let steps = prepared
        .plan
        .iter()
        .enumerate()
        .map(|(i, p)| Step {
            id: p.id.clone(),
            resource_type: p.resource_type.clone(),
            name: p.name.clone(),
            api_version: p.api_version.clone(),
            symbolic: p.symbolic.clone(),
            existing: p.existing,
            depends_on: p.depends_on.clone(),
            operation_id: run_state::operation_id(id, i),
            state: StepState::Waiting,
            started: None,
            ended: None,
            status_code: None,
            error: None,
        })
        .collect();
    DeploymentRun {
        template: input.template.clone(),
        parameters: prepared.resolved.values.clone(),
        parameter_types: declared_types(&input.template),
        secure: prepared.resolved.secure.clone(),
        mode: input.mode,
        echoed: input.echoed.clone(),
        on_behalf,
        correlation_id: uuid::Uuid::new_v4().to_string(),
        template_hash: prepare::template_hash(&input.template),
        state: RunState::Accepted,
        started: now,
        ended: None,
        cancel_requested: false,
        steps,
        outputs: None,
        error: None,
    }
}

impl ResourceProvider for Deployments {
    fn spec(&self) -> &'static ResourceTypeSpec {
        &SPEC
    }

    fn put(&self, req: &PutRequest, state: &State) -> Result<PutOutcome, ArmError> {
        if req.existing.and_then(run_of).is_some_and(|run| run.is_live()) {
            return Err(ArmError::conflict(
                "DeploymentActive",
                format!("The deployment '{}' is still running; wait for it to end or cancel it.", req.name),
            ));
        }
        let input = DeploymentInput::read(&req.body)?;
        let prepared = prepared(&self.catalog, req.path, (req.name, req.raw_body), &input, state, req.now)?;
        let on_behalf = OnBehalf { name: req.caller.name.to_string(), kind: req.caller.kind.to_string() };
        let run = new_run(req.id, &input, &prepared, on_behalf, req.now);
        let location = req.path.resource_group().is_none().then_some(input.location.as_deref()).flatten();
        let doc = document::deployment_doc(&run, location, input.tags.as_ref(), req.now);
        // Due at once: the engine hands it to the orchestrator (see `advance`).
        Ok(PutOutcome::Write(Box::new(Written { doc, sim: sim_state(&run), due: Some(req.now), also: Txn::default() })))
    }

    fn advance(&self, resource: &mut StoredResource, _ctx: &AdvanceCtx) -> Result<Advance, ArmError> {
        resource.due = None;
        self.queue.push(resource.key());
        Ok(Advance::default())
    }

    fn action(&self, req: &ActionRequest, _state: &State) -> Result<ActionOutcome, ArmError> {
        let name = req.resource.id.rsplit('/').next().unwrap_or_default();
        let mut run = run_of(req.resource).ok_or_else(|| {
            ArmError::conflict("DeploymentNotReady", format!("The deployment '{name}' has no template on record."))
        })?;
        match req.action {
            "exportTemplate" => {
                Ok(ActionOutcome::at_once(200, Some(json!({ "template": run.template })), Txn::default()))
            }
            "cancel" => {
                if !run.is_live() || run.cancel_requested {
                    return Err(ArmError::conflict(
                        "DeploymentCannotBeCanceled",
                        format!(
                            "The deployment '{name}' cannot be canceled: its provisioning state is '{}'.",
                            run.state.as_str()
                        ),
                    ));
                }
                run.cancel_requested = true;
                let mut next = crate::arm::envelope::revised(req.resource, &req.resource.body_value());
                next.sim = sim_state(&run);
                let mut also = Txn::default();
                also.put(next);
                self.queue.push(req.resource.key());
                Ok(ActionOutcome::at_once(204, None, also))
            }
            other => Err(ArmError::bad_request("InvalidAction", format!("The action '{other}' is not supported."))),
        }
    }

    fn checks(&self) -> &'static [&'static str] {
        &["validate", "whatIf"]
    }

    fn check(&self, req: &CheckRequest, state: &State) -> Result<ActionOutcome, ArmError> {
        let body = req.body.clone().unwrap_or(Value::Null);
        let checked = DeploymentInput::read(&body).and_then(|input| {
            prepared(&self.catalog, req.path, (req.name, req.raw_body), &input, state, req.now).map(|p| (input, p))
        });
        match req.action {
            "validate" => Ok(match checked {
                Ok((input, prepared)) => {
                    let on_behalf = OnBehalf { name: req.caller.name.to_string(), kind: req.caller.kind.to_string() };
                    let mut run = new_run(req.id, &input, &prepared, on_behalf, req.now);
                    run.state = RunState::Succeeded;
                    run.ended = Some(req.now);
                    let location = req.path.resource_group().is_none().then_some(input.location.as_deref()).flatten();
                    let mut doc = document::deployment_doc(&run, location, None, req.now);
                    if let Some(properties) = doc["properties"].as_object_mut() {
                        properties.remove("outputs");
                        properties.remove("outputResources");
                        let validated = run.steps.iter().filter(|s| !s.existing).map(|s| json!({ "id": s.id }));
                        properties.insert("validatedResources".into(), validated.collect());
                    }
                    doc["id"] = json!(req.id);
                    doc["name"] = json!(req.name);
                    doc["type"] = json!("Microsoft.Resources/deployments");
                    ActionOutcome::at_once(200, Some(doc), Txn::default())
                }
                Err(e) if e.status.as_u16() == 400 => ActionOutcome::at_once(400, Some(e.envelope()), Txn::default()),
                Err(e) => return Err(e),
            }),
            "whatIf" => {
                let (input, prepared) = checked?;
                let changes = what_if::changes(&input, prepared, state, req.path);
                let result = json!({ "status": "Succeeded", "properties": { "changes": changes } });
                Ok(ActionOutcome::timed(Duration::from_secs(2), Some(result)))
            }
            other => Err(ArmError::bad_request("InvalidAction", format!("The action '{other}' is not supported."))),
        }
    }

    fn list_filter(&self, filter: &str) -> Result<Option<ListFilter>, ArmError> {
        let normalised: String = filter.split_whitespace().collect::<Vec<_>>().join(" ").replace('"', "'");
        let wanted = normalised
            .strip_prefix("provisioningState eq '")
            .or_else(|| normalised.strip_prefix("provisioningstate eq '"))
            .and_then(|rest| rest.strip_suffix('\''))
            .map(str::to_string);
        match wanted {
            Some(state) => Ok(Some(Box::new(move |doc: &Value| {
                doc.pointer("/properties/provisioningState")
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.eq_ignore_ascii_case(&state))
            }))),
            None => Err(ArmError::invalid_parameter(
                "$filter",
                format!("The value '{filter}' of '$filter' is not supported. Use provisioningState eq '{{state}}'."),
            )),
        }
    }
}

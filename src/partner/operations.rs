//! Publishing operations of an offer: publish, go-live and cancel (202 with an
//! `Operation-Location` path), the operations list (`…/operations`, `…/submissions`) with its
//! filters, one operation's detail, and the offer's status. One operation per offer runs at a
//! time.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{PartnerError, API_VERSION};
use super::offers::offer_id;
use super::publishing::{detail, entry, next_change, Blocked, OperationSim, Submission, STEPS};
use crate::app::App;
use crate::arm::envelope::new_etag;
use crate::arm::timestamp;
use crate::faults::Deferred;
use crate::providers::sim_state;
use crate::sim::{Advance, AdvanceCtx, Lifecycle};
use crate::store::{to_bytes, Slot, State, StoredResource, TimedCache, Txn};

pub const TYPE_KEY: &str = "partner/operations";

/// Operations settle on their own: the engine only marks the end.
pub struct OperationLifecycle;

impl Lifecycle for OperationLifecycle {
    fn step(&self, resource: &mut StoredResource, _ctx: &AdvanceCtx) -> Result<Advance, String> {
        resource.due = None;
        Ok(Advance::default())
    }
}

fn sim_of(resource: &StoredResource) -> Option<OperationSim> {
    resource.sim_as()
}

/// The offer's operations, newest first.
fn operations_of(state: &State, offer_key: &str) -> Vec<std::sync::Arc<StoredResource>> {
    let prefix = format!("{offer_key}/operations/");
    let mut ops: Vec<_> = state.with_prefix(&prefix).filter(|r| r.type_key == TYPE_KEY).cloned().collect();
    ops.sort_by_key(|r| std::cmp::Reverse(sim_of(r).map(|s| s.start)));
    ops
}

/// The operation running on an offer at `now`, if any.
pub fn running(state: &State, offer_key: &str, now: DateTime<Utc>) -> Option<String> {
    operations_of(state, offer_key)
        .into_iter()
        .find(|r| sim_of(r).is_some_and(|s| s.status_at(now) == "running"))
        .map(|r| r.id.rsplit('/').next().unwrap_or_default().to_string())
}

fn location(publisher: &str, offer: &str, id: &str) -> String {
    format!("{}/operations/{id}?api-version={API_VERSION}", offer_id(publisher, offer))
}

fn accepted(publisher: &str, offer: &str, id: &str) -> Response {
    let mut response = StatusCode::ACCEPTED.into_response();
    if let Ok(v) = HeaderValue::from_str(&location(publisher, offer, id)) {
        response.headers_mut().insert("operation-location", v);
    }
    response
}

#[derive(Deserialize, Default)]
struct PublishInput {
    #[serde(default)]
    metadata: Option<Metadata>,
}

#[derive(Deserialize, Default)]
struct Metadata {
    #[serde(rename = "notification-emails")]
    notification_emails: Option<String>,
}

/// The failure a `failStep` rule plants in the operation's steps (by step name or id).
fn plan_block(faults: &Deferred, submission: Submission) -> Option<Blocked> {
    let range = match submission {
        Submission::Publish => 0..5,
        Submission::GoLive => 5..6,
    };
    for i in range.clone() {
        let paths = vec![STEPS[i].name.to_string(), STEPS[i].id.to_string()];
        if let Some(e) = faults.take_step_failure(&paths) {
            return Some(Blocked { step: i, message: e.message });
        }
    }
    faults.take_operation_failure().map(|e| Blocked { step: range.end - 1, message: e.message })
}

/// Starts a publish or a go-live on the offer.
pub async fn submit(
    app: &App,
    publisher: &str,
    offer: &str,
    submission: Submission,
    body: &[u8],
    faults: &Deferred,
) -> Result<Response, PartnerError> {
    let input: PublishInput = if body.is_empty() {
        PublishInput::default()
    } else {
        serde_json::from_slice(body)
            .map_err(|e| PartnerError::bad_request("InvalidRequestBody", format!("The body is malformed: {e}.")))?
    };
    let emails = input.metadata.and_then(|m| m.notification_emails).unwrap_or_default();
    let now = app.clock.now();
    let offer_key = offer_id(publisher, offer).to_ascii_lowercase();
    let id = uuid::Uuid::new_v4().to_string();
    app.store
        .write(|state| {
            let offer_doc = state
                .resource(&offer_key)
                .map(|r| r.body_value())
                .ok_or_else(|| PartnerError::not_found("offer", offer))?;
            if let Some(other) = running(state, &offer_key, now) {
                return Err(PartnerError::new(
                    StatusCode::CONFLICT,
                    "Conflict",
                    format!("Operation '{other}' is running on offer '{offer}'; only one operation per offer may run."),
                ));
            }
            let latest = plans_of(state, &offer_key).into_iter().next();
            if submission == Submission::GoLive {
                let ready = latest
                    .as_ref()
                    .is_some_and(|(s, _)| s.submission == Submission::Publish && s.status_at(now) == "completed");
                if !ready {
                    return Err(PartnerError::new(
                        StatusCode::CONFLICT,
                        "Conflict",
                        format!("Offer '{offer}' has no completed publish waiting for sign-off; publish it first."),
                    ));
                }
            }
            let publishing_version = latest.as_ref().and_then(|(_, b)| b["publishingVersion"].as_u64()).unwrap_or(0)
                + u64::from(submission == Submission::Publish);
            let sim = OperationSim {
                submission,
                start: now,
                speed: app.clock.speed(),
                blocked: plan_block(faults, submission),
                cancel_requested: None,
            };
            let base = json!({
                "id": id,
                "offerId": offer,
                "offerVersion": offer_doc["version"],
                "offerTypeId": offer_doc["offerTypeId"],
                "publisherId": publisher,
                "submissionType": submission,
                "submissionState": "running",
                "publishingVersion": publishing_version.max(1),
                "slot": if submission == Submission::Publish { "staging" } else { "production" },
                "version": now.timestamp_micros() * 10,
                "definition": { "metadata": { "emails": emails } },
                "changedTime": timestamp(now),
                "createdDateTime": timestamp(now),
                "lastActionDateTime": timestamp(now),
                "status": "running",
            });
            let mut op = StoredResource::new(
                format!("{}/operations/{id}", offer_id(publisher, offer)),
                TYPE_KEY.into(),
                &base,
                new_etag(),
            );
            op.due = Some(sim.end().0);
            op.sim = sim_state(&sim);
            let mut txn = Txn::default();
            txn.put(op);
            Ok::<_, PartnerError>((txn, ()))
        })
        .await?;
    Ok(accepted(publisher, offer, &id))
}

/// Asks the running publish to stop.
pub async fn cancel(app: &App, publisher: &str, offer: &str) -> Result<Response, PartnerError> {
    let now = app.clock.now();
    let offer_key = offer_id(publisher, offer).to_ascii_lowercase();
    let id = app
        .store
        .write(|state| {
            state.resource(&offer_key).ok_or_else(|| PartnerError::not_found("offer", offer))?;
            let Some(op) = operations_of(state, &offer_key)
                .into_iter()
                .find(|r| sim_of(r).is_some_and(|s| s.status_at(now) == "running"))
            else {
                return Err(PartnerError::new(
                    StatusCode::CONFLICT,
                    "Conflict",
                    format!("No operation is running on offer '{offer}'."),
                ));
            };
            let mut sim =
                sim_of(&op).ok_or_else(|| PartnerError::bad_request("Unreadable", "The operation is unreadable."))?;
            if !sim.can_cancel(now) {
                return Err(PartnerError::new(
                    StatusCode::CONFLICT,
                    "Conflict",
                    format!("Operation '{}' can no longer be canceled.", op.id.rsplit('/').next().unwrap_or_default()),
                ));
            }
            sim.cancel_requested = Some(now);
            let mut next = (*op).clone();
            next.due = Some(sim.end().0);
            next.sim = sim_state(&sim);
            let id = op.id.rsplit('/').next().unwrap_or_default().to_string();
            let mut txn = Txn::default();
            txn.put(next);
            Ok((txn, id))
        })
        .await?;
    Ok(accepted(publisher, offer, &id))
}

/// An offer's operations with their plans, newest first.
fn plans_of(state: &State, offer_key: &str) -> Vec<(OperationSim, Value)> {
    operations_of(state, offer_key).into_iter().filter_map(|r| sim_of(&r).map(|s| (s, r.body_value()))).collect()
}

/// Answers from an offer's operations at the time of the call (404 when the offer is missing):
/// `view` gets the state, the offer's store key, its operations and the time.
async fn from_operations(
    app: &App,
    publisher: &str,
    offer: &str,
    view: impl Fn(&State, &str, Vec<(OperationSim, Value)>, DateTime<Utc>) -> Result<Value, PartnerError>,
) -> Result<Response, PartnerError> {
    let now = app.clock.now();
    let offer_key = offer_id(publisher, offer).to_ascii_lowercase();
    let found = app
        .store
        .read_durable(|state, latest| {
            let found = match state.resource(&offer_key) {
                None => Err(PartnerError::not_found("offer", offer)),
                Some(_) => view(state, &offer_key, plans_of(state, &offer_key), now),
            };
            (found, latest)
        })
        .await?;
    Ok((StatusCode::OK, axum::Json(found)).into_response())
}

/// `…/operations` (with `filteredStatus`) and `…/submissions` (with `submissionState` or `status`).
pub async fn list(
    app: &App,
    publisher: &str,
    offer: &str,
    status_filter: Option<&str>,
) -> Result<Response, PartnerError> {
    from_operations(app, publisher, offer, |_, _, plans, now| {
        let entries = plans
            .iter()
            .map(|(sim, base)| entry(sim, base, now))
            .filter(|e| status_filter.is_none_or(|f| e["status"].as_str().is_some_and(|s| s.eq_ignore_ascii_case(f))))
            .collect();
        Ok(Value::Array(entries))
    })
    .await
}

pub async fn get(app: &App, publisher: &str, offer: &str, id: &str) -> Result<Response, PartnerError> {
    let now = app.clock.now();
    let key = format!("{}/operations/{id}", offer_id(publisher, offer)).to_ascii_lowercase();
    let found = app
        .store
        .read_durable(|state, latest| {
            let found = state
                .resource(&key)
                .and_then(|r| held_detail(r, now))
                .ok_or_else(|| PartnerError::not_found("operation", id));
            (found, latest)
        })
        .await?;
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], found).into_response())
}

/// An operation's detail at `now` (what `GET …/operations/{id}` answers) and when it next
/// changes, for the dashboard; `None` for anything but a publishing operation.
pub fn detail_now(resource: &Arc<StoredResource>, now: DateTime<Utc>) -> Option<(Value, Option<DateTime<Utc>>)> {
    if resource.type_key != TYPE_KEY {
        return None;
    }
    let sim = sim_of(resource)?;
    Some((detail(&sim, &resource.body_value(), now), next_change(&sim, now)))
}

/// Operation details, by version, while they hold: a client polling an operation is answered
/// from one rendering per change.
static DETAILS: TimedCache = TimedCache::new(2 * 1024 * 1024);

fn held_detail(operation: &Arc<StoredResource>, now: DateTime<Utc>) -> Option<Bytes> {
    const DETAIL: Slot = 0;
    if let Some(doc) = DETAILS.get(operation, DETAIL, now) {
        return Some(doc);
    }
    let sim = sim_of(operation)?;
    let doc = to_bytes(&detail(&sim, &operation.body_value(), now));
    DETAILS.keep(operation, DETAIL, now, next_change(&sim, now), doc.clone());
    Some(doc)
}

/// The offer version a slot holds: `preview` after a completed publish, `production` after a
/// completed go-live (the version that publish carried).
pub async fn slot(app: &App, publisher: &str, offer: &str, slot: &str) -> Result<Response, PartnerError> {
    let wanted = match slot.to_ascii_lowercase().as_str() {
        "preview" => Submission::Publish,
        "production" => Submission::GoLive,
        _ => {
            return Err(PartnerError::bad_request(
                "InvalidSlot",
                format!("'{slot}' is not a slot: use 'preview' or 'production'."),
            ))
        }
    };
    from_operations(app, publisher, offer, |state, offer_key, plans, now| {
        let version = plans
            .iter()
            .find(|(s, _)| s.submission == wanted && s.status_at(now) == "completed")
            .and_then(|(_, base)| base["offerVersion"].as_u64())
            .ok_or_else(|| PartnerError::not_found("slot", slot))?;
        state
            .resource(&format!("{offer_key}/versions/{version}"))
            .map(|v| v.body_value())
            .ok_or_else(|| PartnerError::not_found("offer version", &version.to_string()))
    })
    .await
}

/// An offer's publishing status as its latest operation leaves it at `now`.
fn offer_status(latest: Option<&OperationSim>, now: DateTime<Utc>) -> &'static str {
    let Some(sim) = latest else { return "neverPublished" };
    match (sim.submission, sim.status_at(now)) {
        (_, "running") => "running",
        (Submission::Publish, "completed") => "waitingForPublisherReview",
        (Submission::GoLive, "completed") => "succeeded",
        (_, other) => other,
    }
}

/// The publishing status of the offer at `offer_key` (its lower-cased id).
pub fn status_of(state: &State, offer_key: &str, now: DateTime<Utc>) -> &'static str {
    let latest = operations_of(state, offer_key).first().and_then(|r| sim_of(r));
    offer_status(latest.as_ref(), now)
}

/// The offer's publishing status, from its latest operation.
pub async fn status(app: &App, publisher: &str, offer: &str) -> Result<Response, PartnerError> {
    from_operations(app, publisher, offer, |_, _, plans, now| {
        let Some((sim, base)) = plans.first() else {
            return Ok(json!({ "status": offer_status(None, now), "messages": [], "steps": [], "previewLinks": [], "liveLinks": [], "notificationEmails": null }));
        };
        let mut doc = detail(sim, base, now);
        doc["status"] = json!(offer_status(Some(sim), now));
        doc["notificationEmails"] = base["definition"]["metadata"]["emails"].clone();
        Ok(doc)
    })
    .await
}

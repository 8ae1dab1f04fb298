//! Offers of a publisher: `/api/publishers/{p}/offers/{o}`. A PUT stores the body's
//! `offerTypeId`, `publisherId`, `id` and `definition` whole and raises `version` by one; every
//! version stays readable at `…/versions/{n}`.

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::error::PartnerError;
use super::publishers;
use crate::app::App;
use crate::arm::envelope::new_etag;
use crate::arm::timestamp;
use crate::store::{State, StoredResource, Txn};

pub const TYPE_KEY: &str = "partner/offers";
pub const VERSION_TYPE_KEY: &str = "partner/offerversions";

pub fn offer_id(publisher: &str, offer: &str) -> String {
    format!("/api/publishers/{publisher}/offers/{offer}")
}

fn version_id(publisher: &str, offer: &str, version: u64) -> String {
    format!("{}/versions/{version}", offer_id(publisher, offer))
}

fn check_offer_id(id: &str) -> Result<(), PartnerError> {
    publishers::check_portal_id("offer", "InvalidOfferId", id)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OfferInput {
    offer_type_id: String,
    publisher_id: Option<String>,
    id: Option<String>,
    /// Checked as a number, never used: the portal sets versions.
    #[allow(dead_code)]
    version: Option<u64>,
    definition: Map<String, Value>,
}

fn malformed(e: impl std::fmt::Display) -> PartnerError {
    PartnerError::bad_request("InvalidRequestBody", format!("The offer is malformed: {e}."))
}

fn with_etag(status: StatusCode, body: &Value, etag: &str) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(axum::http::header::ETAG, v);
    }
    response
}

fn require_publisher(state: &State, publisher: &str) -> Result<(), PartnerError> {
    state
        .resource(&publishers::key(publisher))
        .map(|_| ())
        .ok_or_else(|| PartnerError::not_found("publisher", publisher))
}

/// `If-Match`: `*` or the offer's ETag; a stale one is 412.
fn check_if_match(headers: &HeaderMap, current: Option<&StoredResource>) -> Result<(), PartnerError> {
    let Some(wanted) = headers.get(axum::http::header::IF_MATCH).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    // `*` creates or overwrites, as the portal's clients send it.
    if wanted.split(',').map(str::trim).any(|tag| tag == "*" || current.is_some_and(|c| c.etag == tag)) {
        return Ok(());
    }
    Err(PartnerError::new(
        StatusCode::PRECONDITION_FAILED,
        "PreconditionFailed",
        format!("The offer has changed since '{wanted}': read it again and retry."),
    ))
}

pub async fn put(
    app: &App,
    publisher: &str,
    offer: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, PartnerError> {
    check_offer_id(offer)?;
    let raw: Value = serde_json::from_slice(body).map_err(malformed)?;
    let input: OfferInput =
        serde_path_to_error::deserialize(&raw).map_err(|e| malformed(format!("{} at '{}'", e.inner(), e.path())))?;
    for (field, given, expected) in [("publisherId", &input.publisher_id, publisher), ("id", &input.id, offer)] {
        if given.as_deref().is_some_and(|g| g != expected) {
            return Err(PartnerError::bad_request(
                "InvalidRequestBody",
                format!(
                    "The body's {field} '{}' does not match '{expected}' in the path.",
                    given.as_deref().unwrap_or_default()
                ),
            ));
        }
    }
    let at = app.clock.now();
    let now = timestamp(at);
    let key = offer_id(publisher, offer).to_ascii_lowercase();
    let (doc, etag, created) = app
        .store
        .write(|state| {
            require_publisher(state, publisher)?;
            let current = state.resource(&key).map(|r| r.as_ref());
            check_if_match(headers, current)?;
            if let Some(running) = super::operations::running(state, &key, at) {
                return Err(PartnerError::new(
                    StatusCode::CONFLICT,
                    "Conflict",
                    format!("Offer '{offer}' is being published (operation '{running}'); change it when the operation ends."),
                ));
            }
            let previous = current.map(|c| c.body_value());
            // The portal numbers versions itself: a body's `version` is read back from a GET and
            // says nothing; concurrency is the ETag's (`If-Match`).
            let last = previous.as_ref().and_then(|p| p["version"].as_u64()).unwrap_or(0);
            let version = last + 1;
            let doc = json!({
                "offerTypeId": input.offer_type_id,
                "publisherId": publisher,
                "id": offer,
                "version": version,
                "definition": Value::Object(input.definition.clone()),
                "changedTime": now,
            });
            let etag = new_etag();
            let mut txn = Txn::default();
            let mut stored = StoredResource::new(offer_id(publisher, offer), TYPE_KEY.into(), &doc, etag.clone());
            if let Some(c) = current {
                stored.sim = c.sim.clone();
            }
            txn.put(stored);
            txn.put(StoredResource::new(
                version_id(publisher, offer, version),
                VERSION_TYPE_KEY.into(),
                &doc,
                new_etag(),
            ));
            Ok::<_, PartnerError>((txn, (doc, etag, current.is_none())))
        })
        .await?;
    Ok(with_etag(if created { StatusCode::CREATED } else { StatusCode::OK }, &doc, &etag))
}

pub async fn get(app: &App, publisher: &str, offer: &str) -> Result<Response, PartnerError> {
    let key = offer_id(publisher, offer).to_ascii_lowercase();
    let found = app
        .store
        .read_durable(|state, latest| {
            let found = require_publisher(state, publisher).and_then(|_| {
                state
                    .resource(&key)
                    .map(|r| (r.body_value(), r.etag.clone()))
                    .ok_or_else(|| PartnerError::not_found("offer", offer))
            });
            (found, latest)
        })
        .await?;
    Ok(with_etag(StatusCode::OK, &found.0, &found.1))
}

pub async fn get_version(app: &App, publisher: &str, offer: &str, version: &str) -> Result<Response, PartnerError> {
    let number: u64 = version
        .parse()
        .map_err(|_| PartnerError::bad_request("InvalidVersion", format!("'{version}' is not a version number.")))?;
    let key = version_id(publisher, offer, number).to_ascii_lowercase();
    let offer_key = offer_id(publisher, offer).to_ascii_lowercase();
    let found = app
        .store
        .read_durable(|state, latest| {
            let found = match (state.resource(&offer_key), state.resource(&key)) {
                (None, _) => Err(PartnerError::not_found("offer", offer)),
                (Some(_), None) => Err(PartnerError::not_found("offer version", version)),
                (Some(_), Some(v)) => Ok(v.body_value()),
            };
            (found, latest)
        })
        .await?;
    Ok((StatusCode::OK, axum::Json(found)).into_response())
}

/// The publisher's offers as the portal summarizes them: type, publisher, publishing status,
/// id, version, the definition's `displayText` and when it last changed.
pub async fn list(app: &App, publisher: &str) -> Result<Response, PartnerError> {
    let prefix = format!("{}/offers/", publishers::key(publisher));
    let now = app.clock.now();
    let offers = app
        .store
        .read_durable(|state, latest| {
            let offers = require_publisher(state, publisher).map(|_| {
                state
                    .with_prefix(&prefix)
                    .filter(|r| r.type_key == TYPE_KEY)
                    .map(|r| {
                        let doc = r.body_value();
                        let display = doc.pointer("/definition/displayText").cloned().unwrap_or(Value::Null);
                        json!({
                            "offerTypeId": doc["offerTypeId"],
                            "publisherId": doc["publisherId"],
                            "status": super::operations::status_of(state, &r.key(), now),
                            "id": doc["id"],
                            "version": doc["version"],
                            "definition": { "displayText": display },
                            "changedTime": doc["changedTime"],
                        })
                    })
                    .collect::<Vec<_>>()
            });
            (offers, latest)
        })
        .await?;
    Ok((StatusCode::OK, axum::Json(Value::Array(offers))).into_response())
}

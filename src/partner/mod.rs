//! The Cloud Partner Portal publishing API, a second protocol layer beside `arm/`: its own paths
//! under `/api/publishers/…`, its api-version rule (`2017-10-31` only), its errors and JSON
//! shapes, on the same store, clock and control plane.
//!
//! Served: publishers, offers (list, PUT, GET, `versions/{n}`, `slot/{slotId}`, `status`),
//! publish / go-live / cancel and the publishing operations with their steps.

pub mod error;
pub mod offers;
pub mod operations;
pub mod publishers;
mod publishing;

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::app::App;
use crate::arm::request::parse_query;
use crate::arm::RequestNames;
use crate::faults::{Deferred, RequestFacts};
use crate::identity::{origin, Audience, Principal};
use error::{PartnerError, API_VERSION};
use publishing::Submission;

pub const PREFIX: &str = "/api/";

/// The partner types' lifecycles, for the simulation engine.
pub fn add_lifecycles(lifecycles: &mut crate::sim::Lifecycles) {
    lifecycles.add(operations::TYPE_KEY, Arc::new(operations::OperationLifecycle));
}

/// The answer, and what metrics and the journal call the request.
pub async fn handle(app: Arc<App>, parts: Parts, body: Bytes) -> (Response, RequestNames) {
    let path = parts.uri.path().trim_start_matches(PREFIX).trim_end_matches('/').to_string();
    let segments: Vec<&str> = path.split('/').collect();
    let operation = operation_name(&parts.method, &segments);
    let principal = match admit(&app, &parts, &segments) {
        Ok(principal) => principal,
        Err(e) => return (e.into_response(), RequestNames { operation, caller: None }),
    };
    let faults = app.faults.on_request(&RequestFacts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        resource_id: Some(parts.uri.path()),
        operation,
        subscription: None,
    });
    let response = if faults.drop_connection {
        crate::arm::dropped()
    } else if let Some(error) = &faults.error {
        let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let mut response = PartnerError::new(status, &error.code, error.message.clone()).into_response();
        if let Some(seconds) = error.retry_after {
            response.headers_mut().insert("retry-after", axum::http::HeaderValue::from(seconds));
        }
        response
    } else {
        route(&app, &parts, &segments, &body, &principal, &faults.deferred)
            .await
            .unwrap_or_else(IntoResponse::into_response)
    };
    if let Some(delay) = faults.latency {
        tokio::time::sleep(delay).await;
    }
    (response, RequestNames { operation, caller: Some(principal.caller.name) })
}

/// The operation a request is, as fault rules, the journal and metrics name it.
fn operation_name(method: &Method, segments: &[&str]) -> Option<&'static str> {
    Some(match (method, segments) {
        (&Method::GET, ["publishers"]) => "Publishers_List",
        (&Method::GET, ["publishers", _]) => "Publishers_Get",
        (&Method::GET, ["publishers", _, "offers"]) => "Offers_List",
        (&Method::GET, ["publishers", _, "offers", _]) => "Offers_Get",
        (&Method::PUT, ["publishers", _, "offers", _]) => "Offers_Put",
        (&Method::GET, ["publishers", _, "offers", _, "versions", _]) => "Offers_GetVersion",
        (&Method::GET, ["publishers", _, "offers", _, "slot", _]) => "Offers_GetSlot",
        (&Method::GET, ["publishers", _, "offers", _, "status"]) => "Offers_GetStatus",
        (&Method::POST, ["publishers", _, "offers", _, "publish"]) => "Offers_Publish",
        (&Method::POST, ["publishers", _, "offers", _, "golive"]) => "Offers_GoLive",
        (&Method::POST, ["publishers", _, "offers", _, "cancel"]) => "Offers_Cancel",
        (&Method::GET, ["publishers", _, "offers", _, "operations"]) => "Operations_List",
        (&Method::GET, ["publishers", _, "offers", _, "submissions"]) => "Submissions_List",
        (&Method::GET, ["publishers", _, "offers", _, "operations", _]) => "Operations_Get",
        _ => return None,
    })
}

/// Authentication, the caller's reach (strict auth) and the api-version.
fn admit(app: &App, parts: &Parts, segments: &[&str]) -> Result<Principal, PartnerError> {
    let principal = app.identity.authenticate(&parts.headers, Audience::Partner, || origin(app.scheme, parts))?;
    let query = parse_query(parts.uri.query());
    let version = query.iter().find(|(k, _)| k.eq_ignore_ascii_case("api-version")).map(|(_, v)| v.as_str());
    if version != Some(API_VERSION) {
        return Err(PartnerError::api_version(version));
    }
    if let ["publishers", publisher, ..] = segments {
        principal.authorize_publisher(&parts.method, publisher, parts.uri.path())?;
    }
    Ok(principal)
}

async fn route(
    app: &App,
    parts: &Parts,
    segments: &[&str],
    body: &[u8],
    principal: &Principal,
    faults: &Deferred,
) -> Result<Response, PartnerError> {
    let query = parse_query(parts.uri.query());
    match (&parts.method, segments) {
        (&Method::GET, ["publishers"]) => {
            let mut all = publishers::list(app).await;
            all.retain(|p| p["id"].as_str().is_some_and(|id| principal.reaches_publisher(id)));
            Ok(json(StatusCode::OK, &serde_json::Value::Array(all)))
        }
        (&Method::GET, ["publishers", id]) => {
            let publisher = publishers::get(app, id).await.ok_or_else(|| PartnerError::not_found("publisher", id))?;
            Ok(json(StatusCode::OK, &publisher))
        }
        (&Method::GET, ["publishers", p, "offers"]) => offers::list(app, p).await,
        (&Method::GET, ["publishers", p, "offers", o]) => offers::get(app, p, o).await,
        (&Method::PUT, ["publishers", p, "offers", o]) => offers::put(app, p, o, &parts.headers, body).await,
        (&Method::GET, ["publishers", p, "offers", o, "versions", n]) => offers::get_version(app, p, o, n).await,
        (&Method::POST, ["publishers", p, "offers", o, "publish"]) => {
            operations::submit(app, p, o, Submission::Publish, body, faults).await
        }
        (&Method::POST, ["publishers", p, "offers", o, "golive"]) => {
            operations::submit(app, p, o, Submission::GoLive, body, faults).await
        }
        (&Method::POST, ["publishers", p, "offers", o, "cancel"]) => operations::cancel(app, p, o).await,
        (&Method::GET, ["publishers", p, "offers", o, "operations"]) => {
            operations::list(app, p, o, query_value(&query, "filteredStatus")).await
        }
        (&Method::GET, ["publishers", p, "offers", o, "submissions"]) => {
            let filter = query_value(&query, "submissionState").or_else(|| query_value(&query, "status"));
            operations::list(app, p, o, filter).await
        }
        (&Method::GET, ["publishers", p, "offers", o, "operations", id]) => operations::get(app, p, o, id).await,
        (&Method::GET, ["publishers", p, "offers", o, "status"]) => operations::status(app, p, o).await,
        (&Method::GET, ["publishers", p, "offers", o, "slot", slot]) => operations::slot(app, p, o, slot).await,
        (_, ["publishers"] | ["publishers", _] | ["publishers", _, "offers"] | ["publishers", _, "offers", _]) => {
            Err(PartnerError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                format!("The method '{}' is not allowed on '{}'.", parts.method, parts.uri.path()),
            ))
        }
        _ => Err(PartnerError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("azemu does not serve '{}' of the partner API.", parts.uri.path()),
        )),
    }
}

fn query_value<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

fn json(status: StatusCode, body: &serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

//! `/_azemu/publishers`: the partner API's publishers, which that API cannot make itself.
//! POST `{"id": "contoso", "displayText": "Contoso"}` makes one (201; 200 if it exists), GET
//! lists them, DELETE `/{id}` removes one with everything under it.

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::app::App;
use crate::arm::respond::json_response;
use crate::partner::error::PartnerError;
use crate::partner::publishers;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewPublisher {
    id: String,
    display_text: Option<String>,
}

pub async fn handle(app: &App, method: &Method, after: &str, body: &[u8]) -> Response {
    let id = after.trim_matches('/');
    let answer = match (method, id.is_empty()) {
        (&Method::GET, true) => Ok(json_response(StatusCode::OK, &json!({ "value": publishers::list(app).await }))),
        (&Method::POST, true) => create(app, body).await,
        (&Method::DELETE, false) => match publishers::remove(app, id).await {
            Ok(true) => Ok(StatusCode::NO_CONTENT.into_response()),
            Ok(false) => Err(PartnerError::not_found("publisher", id)),
            Err(e) => Err(e),
        },
        (&Method::GET, false) => match publishers::get(app, id).await {
            Some(p) => Ok(json_response(StatusCode::OK, &p)),
            None => Err(PartnerError::not_found("publisher", id)),
        },
        _ => Err(PartnerError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("The method '{method}' is not allowed on /_azemu/publishers{after}."),
        )),
    };
    answer.unwrap_or_else(IntoResponse::into_response)
}

async fn create(app: &App, body: &[u8]) -> Result<Response, PartnerError> {
    let input: NewPublisher = serde_json::from_slice(body).map_err(|e| {
        PartnerError::bad_request(
            "InvalidPublisher",
            format!("Expected {{\"id\": \"…\", \"displayText\": \"…\"}}: {e}."),
        )
    })?;
    let (doc, created) = publishers::ensure(app, &input.id, input.display_text.as_deref()).await?;
    Ok(json_response(if created { StatusCode::CREATED } else { StatusCode::OK }, &doc))
}

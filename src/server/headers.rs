//! Headers every response carries: request and correlation ids, and the emulator's identity.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

pub const IDENTITY: &str = concat!("azemu/", env!("CARGO_PKG_VERSION"));

pub async fn common_headers(request: Request, next: Next) -> Response {
    let correlation = request
        .headers()
        .get("x-ms-correlation-request-id")
        .cloned()
        .or_else(|| request.headers().get("x-ms-client-request-id").cloned());
    let client_request_id = request.headers().get("x-ms-client-request-id").cloned();
    let logged = tracing::enabled!(tracing::Level::DEBUG)
        .then(|| (request.method().clone(), request.uri().path().to_string()));
    let mut response = next.run(request).await;
    let request_id = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
        .unwrap_or(HeaderValue::from_static(""));
    let headers = response.headers_mut();
    headers.insert(
        "x-ms-correlation-request-id",
        correlation.unwrap_or_else(|| request_id.clone()),
    );
    if let Some(id) = client_request_id {
        headers.insert("x-ms-client-request-id", id);
    }
    headers.insert("x-ms-request-id", request_id);
    headers.insert("server", HeaderValue::from_static(IDENTITY));
    if let Some((method, path)) = logged {
        tracing::debug!(%method, %path, status = response.status().as_u16(), "request");
    }
    response
}

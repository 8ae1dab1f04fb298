//! Publishers: the partner API has no call that makes one, so they are made through the control
//! API (`/_azemu/publishers`) or `azemu serve --publisher ID`, and kept in the store.

use serde_json::{json, Value};

use super::error::PartnerError;
use crate::app::App;
use crate::arm::envelope::new_etag;
use crate::arm::timestamp;
use crate::store::{StoredResource, Txn};

/// The store's type key for publishers; their ids are `/api/publishers/{id}`.
pub const TYPE_KEY: &str = "partner/publishers";

pub fn key(id: &str) -> String {
    format!("/api/publishers/{id}").to_ascii_lowercase()
}

/// Publisher and offer ids as the portal has them: 1 to 50 lower-case letters, digits, `-`,
/// `_` or `.`, and not `.` or `..` (clients that normalise paths could never reach those);
/// `what` names the kind in the error (`publisher` → `InvalidPublisherId`).
pub fn check_portal_id(what: &str, code: &str, id: &str) -> Result<(), PartnerError> {
    let ok = (1..=50).contains(&id.len())
        && !matches!(id, "." | "..")
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'));
    ok.then_some(()).ok_or_else(|| {
        PartnerError::bad_request(
            code,
            format!(
                "'{id}' is not a {what} id: 1 to 50 lower-case letters, digits, '-', '_' or '.', and not '.' or '..'."
            ),
        )
    })
}

pub fn check_id(id: &str) -> Result<(), PartnerError> {
    check_portal_id("publisher", "InvalidPublisherId", id)
}

fn document(id: &str, display: &str, at: &str) -> Value {
    json!({ "id": id, "definition": { "displayText": display, "offerTypeCategories": ["vm"] }, "changedTime": at })
}

/// Makes a publisher (or answers the one there is): its document, and whether it is new.
/// Makes the `--publisher` publishers that are absent (at start, and after a reset).
pub async fn ensure_startup(app: &App) -> Result<(), String> {
    for publisher in &app.startup_publishers {
        ensure(app, publisher, None).await.map_err(|e| format!("{publisher}: {}", e.message))?;
    }
    Ok(())
}

pub async fn ensure(app: &App, id: &str, display: Option<&str>) -> Result<(Value, bool), PartnerError> {
    check_id(id)?;
    let now = timestamp(app.clock.now());
    let key = key(id);
    app.store
        .write(|state| {
            if let Some(existing) = state.resource(&key) {
                return Ok::<_, PartnerError>((Txn::default(), (existing.body_value(), false)));
            }
            let doc = document(id, display.unwrap_or(id), &now);
            let mut txn = Txn::default();
            txn.put(StoredResource::new(format!("/api/publishers/{id}"), TYPE_KEY.into(), &doc, new_etag()));
            Ok((txn, (doc, true)))
        })
        .await
}

pub async fn remove(app: &App, id: &str) -> Result<bool, PartnerError> {
    let key = key(id);
    let prefix = format!("{key}/");
    app.store
        .write(|state| {
            let mut txn = Txn::default();
            let Some(publisher) = state.resource(&key) else { return Ok::<_, PartnerError>((txn, false)) };
            // Its offers and their operations go with it.
            for below in state.with_prefix(&prefix) {
                txn.delete(below.key());
            }
            txn.delete(publisher.key());
            Ok((txn, true))
        })
        .await
}

/// Every publisher, in id order.
pub async fn list(app: &App) -> Vec<Value> {
    app.store
        .read_durable(|state, latest| {
            let all = state
                .with_prefix("/api/publishers/")
                .filter(|r| r.type_key == TYPE_KEY)
                .map(|r| r.body_value())
                .collect();
            (all, latest)
        })
        .await
}

pub async fn get(app: &App, id: &str) -> Option<Value> {
    let key = key(id);
    app.store.read_durable(|state, latest| (state.resource(&key).map(|r| r.body_value()), latest)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portal_ids() {
        for good in ["contoso", "my-offer_1.2", "a"] {
            assert!(check_portal_id("offer", "InvalidOfferId", good).is_ok(), "{good}");
        }
        for bad in [".", "..", "", "Contoso", "a/b", &"a".repeat(51)] {
            assert!(check_portal_id("offer", "InvalidOfferId", bad).is_err(), "{bad}");
        }
    }
}

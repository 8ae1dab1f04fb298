//! The Cloud Partner Portal API layer beside ARM: publishers made through the control API or
//! `--publisher`, listed and read under `/api/publishers`, with the partner API's api-version
//! rule, auth and errors.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

const V: &str = "api-version=2017-10-31";

#[tokio::test]
async fn publishers_come_from_the_control_api_and_the_command_line() {
    let s = TestServer::start_with(Options { publishers: vec!["contoso".into()], ..Options::default() }).await;
    let made = s.post("/_azemu/publishers", Some(json!({"id": "fabrikam", "displayText": "Fabrikam"}))).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!(s.post("/_azemu/publishers", Some(json!({"id": "fabrikam"}))).await.status, StatusCode::OK);

    let listed = s.get(&format!("/api/publishers?{V}")).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let ids: Vec<&str> = listed.body.as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["contoso", "fabrikam"]);
    let one = s.get(&format!("/api/publishers/fabrikam?{V}")).await;
    assert_eq!(one.body["definition"]["displayText"], "Fabrikam");
    assert_eq!(
        s.get(&format!("/api/publishers/fabrikam/?{V}")).await.status,
        StatusCode::OK,
        "a trailing slash is allowed"
    );

    assert_eq!(s.delete("/_azemu/publishers/fabrikam").await.status, StatusCode::NO_CONTENT);
    let gone = s.get(&format!("/api/publishers/fabrikam?{V}")).await;
    assert_eq!((gone.status, gone.body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("NotFound")));
    assert_eq!(s.delete("/_azemu/publishers/fabrikam").await.status, StatusCode::NOT_FOUND);
    let bad = s.post("/_azemu/publishers", Some(json!({"id": "Not Valid"}))).await;
    assert_eq!((bad.status, bad.body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("InvalidPublisherId")));
    for unreachable in [".", ".."] {
        let refused = s.post("/_azemu/publishers", Some(json!({"id": unreachable}))).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "'{unreachable}' could never be reached by a path");
    }

    // A reset wipes what the control API made; `--publisher` ones are made again.
    s.post("/_azemu/publishers", Some(json!({"id": "fabrikam"}))).await;
    assert_eq!(s.post("/_azemu/reset", None).await.status, StatusCode::OK);
    let after = s.get(&format!("/api/publishers?{V}")).await.body;
    assert_eq!(after.as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect::<Vec<_>>(), ["contoso"]);
}

#[tokio::test]
async fn the_partner_api_has_its_own_api_version_rule_auth_and_errors() {
    let s = TestServer::start_with(Options { publishers: vec!["contoso".into()], ..Options::default() }).await;
    for query in ["", "?api-version=2024-07-01"] {
        let r = s.get(&format!("/api/publishers{query}")).await;
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("InvalidAPIVersion")));
        assert!(r.body["error"]["message"].as_str().unwrap().contains("Allowed values are [2017-10-31]"), "{}", r.body);
    }
    let anonymous = s.send(Method::GET, &format!("/api/publishers?{V}"), None, &[("authorization", "")]).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert!(anonymous.header("www-authenticate").is_some());
    let wrong_method = s.send(Method::DELETE, &format!("/api/publishers/contoso?{V}"), None, &[]).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    let elsewhere = s.get(&format!("/api/somethingelse?{V}")).await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    // ARM is untouched beside it.
    let groups = format!("/subscriptions/{SUB}/resourcegroups?api-version=2025-04-01");
    assert_eq!(s.get(&groups).await.status, StatusCode::OK);
}

fn offer_body(version: Option<u64>) -> serde_json::Value {
    let mut body = json!({"offerTypeId": "microsoft-azure-virtualmachines", "publisherId": "contoso", "id": "ubuntu-hardened",
        "definition": {"displayText": "Hardened Ubuntu", "offer": {"microsoft-azure-marketplace.title": "Hardened Ubuntu"}, "plans": [{"planId": "standard"}]}});
    if let Some(v) = version {
        body["version"] = json!(v);
    }
    body
}

#[tokio::test]
async fn offers_are_stored_whole_versioned_and_guarded_by_their_etag() {
    let s = TestServer::start_with(Options { publishers: vec!["contoso".into()], ..Options::default() }).await;
    let path = format!("/api/publishers/contoso/offers/ubuntu-hardened?{V}");
    let created = s.send(Method::PUT, &path, Some(offer_body(None)), &[("if-match", "*")]).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["version"], 1);
    assert_eq!(created.body["definition"], offer_body(None)["definition"], "the definition is stored whole");
    let first_etag = created.header("etag").expect("an ETag");

    let read = s.get(&path).await;
    assert_eq!((read.status, read.header("etag")), (StatusCode::OK, Some(first_etag.clone())));
    let mut changed = offer_body(Some(1));
    changed["definition"]["displayText"] = json!("Hardened Ubuntu 24.04");
    let updated = s.send(Method::PUT, &path, Some(changed), &[("if-match", &first_etag)]).await;
    assert_eq!((updated.status, updated.body["version"].as_u64()), (StatusCode::OK, Some(2)), "{}", updated.body);
    let stale = s.send(Method::PUT, &path, Some(offer_body(None)), &[("if-match", &first_etag)]).await;
    assert_eq!(
        (stale.status, stale.body["error"]["code"].as_str()),
        (StatusCode::PRECONDITION_FAILED, Some("PreconditionFailed"))
    );

    let v1 = s.get(&format!("/api/publishers/contoso/offers/ubuntu-hardened/versions/1?{V}")).await;
    assert_eq!(v1.body["definition"]["displayText"], "Hardened Ubuntu");
    assert_eq!(
        s.get(&format!("/api/publishers/contoso/offers/ubuntu-hardened/versions/9?{V}")).await.status,
        StatusCode::NOT_FOUND
    );
    // `If-Match: *` overwrites whatever the stored version; a body's version is not the client's.
    let forced = s.send(Method::PUT, &path, Some(offer_body(Some(0))), &[("if-match", "*")]).await;
    assert_eq!((forced.status, forced.body["version"].as_u64()), (StatusCode::OK, Some(3)), "{}", forced.body);
    let listed = s.get(&format!("/api/publishers/contoso/offers?{V}")).await.body;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let summary = &listed[0];
    assert_eq!(summary["definition"], json!({ "displayText": "Hardened Ubuntu" }), "{listed}");
    assert_eq!(summary["status"], "neverPublished");
    assert_eq!(
        (&summary["offerTypeId"], &summary["publisherId"], &summary["id"], &summary["version"]),
        (&json!("microsoft-azure-virtualmachines"), &json!("contoso"), &json!("ubuntu-hardened"), &json!(3))
    );
    assert!(summary["changedTime"].is_string());

    // Bodies that disagree with the path, malformed ones, unknown publishers and offers.
    let mut other = offer_body(None);
    other["publisherId"] = json!("fabrikam");
    let r = s.send(Method::PUT, &path, Some(other), &[("if-match", "*")]).await;
    assert_eq!((r.status, r.body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("InvalidRequestBody")));
    let no_type = s.send(Method::PUT, &path, Some(json!({"definition": {}})), &[("if-match", "*")]).await;
    assert_eq!(no_type.status, StatusCode::BAD_REQUEST, "{}", no_type.body);
    assert!(no_type.body["error"]["message"].as_str().unwrap().contains("offerTypeId"), "{}", no_type.body);
    let nobody = s.get(&format!("/api/publishers/nobody/offers/ubuntu-hardened?{V}")).await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
    assert_eq!(s.get(&format!("/api/publishers/contoso/offers/missing?{V}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(s.get(&path).await.body["version"], 3, "nothing changed");
}

async fn publishing_server() -> TestServer {
    let s = TestServer::start_with(Options { publishers: vec!["contoso".into()], ..Options::default() }).await;
    let path = format!("/api/publishers/contoso/offers/ubuntu-hardened?{V}");
    assert_eq!(
        s.send(Method::PUT, &path, Some(offer_body(None)), &[("if-match", "*")]).await.status,
        StatusCode::CREATED
    );
    s
}

const OFFER: &str = "/api/publishers/contoso/offers/ubuntu-hardened";

async fn submit(s: &TestServer, what: &str) -> Reply {
    let body = json!({"metadata": {"notification-emails": "jdoe@contoso.com"}});
    s.post(&format!("{OFFER}/{what}?{V}"), Some(body)).await
}

fn step_statuses(detail: &serde_json::Value) -> Vec<String> {
    detail["steps"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_publish_walks_the_pipeline_to_sign_off_and_go_live_makes_it_live() {
    let s = publishing_server().await;
    let accepted = submit(&s, "publish").await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.body);
    let location = accepted.header("operation-location").expect("Operation-Location");
    assert!(location.starts_with(&format!("{OFFER}/operations/")) && location.ends_with(V), "a path: {location}");

    let running = s.get(&location).await.body;
    assert_eq!(
        (running["status"].as_str(), running["cancellationRequestState"].as_str()),
        (Some("running"), Some("canCancel"))
    );
    assert_eq!(step_statuses(&running)[..2], ["running".to_string(), "notStarted".to_string()]);
    assert_eq!(running["steps"][1]["estimatedTimeFrame"], "< 5 day");
    let list = s.get(&format!("{OFFER}/operations?{V}")).await.body;
    let first = &list[0];
    assert_eq!(
        (first["submissionType"].as_str(), first["slot"].as_str(), first["status"].as_str()),
        (Some("publish"), Some("staging"), Some("running"))
    );
    assert_eq!(first["definition"]["metadata"]["emails"], "jdoe@contoso.com");

    let second = submit(&s, "publish").await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    let id = location.split("/operations/").nth(1).unwrap().split('?').next().unwrap();
    assert!(second.body["error"]["message"].as_str().unwrap().contains(id), "{}", second.body);
    let edit = s.send(Method::PUT, &format!("{OFFER}?{V}"), Some(offer_body(None)), &[("if-match", "*")]).await;
    assert_eq!(edit.status, StatusCode::CONFLICT, "changing an offer while it publishes is refused");
    assert_eq!(submit(&s, "golive").await.status, StatusCode::CONFLICT, "nothing to sign off yet");

    s.advance(1.0).await;
    let mid = s.get(&location).await.body;
    let percent = mid["steps"][1]["progressPercentage"].as_u64().unwrap();
    assert!(mid["steps"][1]["status"] == "running" && percent > 0 && percent < 100, "{mid}");
    assert_eq!(mid["steps"][1]["messages"].as_array().unwrap().len(), 1, "one message per transition so far");
    s.advance(4.0).await;
    let done = s.get(&location).await.body;
    assert_eq!(done["status"], "completed");
    assert_eq!(step_statuses(&done), ["complete", "complete", "complete", "complete", "complete", "notStarted"]);
    let messages = done["steps"][1]["messages"].as_array().unwrap();
    assert_eq!(
        messages.iter().map(|m| m["messageHtml"].as_str().unwrap()).collect::<Vec<_>>(),
        ["Step started.", "Step completed."]
    );
    assert!(messages[0]["timestamp"].as_str() < messages[1]["timestamp"].as_str());
    assert_eq!(done["steps"][0]["messages"][0]["level"], "information");
    assert!(!done["previewLinks"].as_array().unwrap().is_empty() && done["liveLinks"].as_array().unwrap().is_empty());
    let status = s.get(&format!("{OFFER}/status?{V}")).await.body;
    assert_eq!(status["status"], "waitingForPublisherReview");
    let listed = s.get(&format!("/api/publishers/contoso/offers?{V}")).await.body;
    assert_eq!(listed[0]["status"], "waitingForPublisherReview", "the offer list shows it too");
    assert_eq!(s.get(&format!("{OFFER}/slot/preview?{V}")).await.body["version"], 1);
    assert_eq!(s.get(&format!("{OFFER}/slot/production?{V}")).await.status, StatusCode::NOT_FOUND, "not live yet");
    assert_eq!(s.get(&format!("{OFFER}/slot/staging2?{V}")).await.status, StatusCode::BAD_REQUEST);

    let live = submit(&s, "golive").await;
    assert_eq!(live.status, StatusCode::ACCEPTED, "{}", live.body);
    s.advance(2.0).await;
    let went_live = s.get(&live.header("operation-location").unwrap()).await.body;
    assert_eq!((went_live["status"].as_str(), step_statuses(&went_live)[5].as_str()), (Some("completed"), "complete"));
    assert!(!went_live["liveLinks"].as_array().unwrap().is_empty());
    assert_eq!(s.get(&format!("{OFFER}/status?{V}")).await.body["status"], "succeeded");
    assert_eq!(s.get(&format!("{OFFER}/slot/production?{V}")).await.body["id"], "ubuntu-hardened");

    // Newest first; filters; the submissions spelling with or without a slash.
    let all = s.get(&format!("{OFFER}/operations?{V}")).await.body;
    assert_eq!(
        all.as_array().unwrap().iter().map(|o| o["submissionType"].as_str().unwrap()).collect::<Vec<_>>(),
        ["goLive", "publish"]
    );
    assert_eq!(s.get(&format!("{OFFER}/operations?filteredStatus=running&{V}")).await.body, json!([]));
    assert_eq!(s.get(&format!("{OFFER}/submissions/?status=completed&{V}")).await.body.as_array().unwrap().len(), 2);
    assert_eq!(s.get(&format!("{OFFER}/submissions?submissionState=failed&{V}")).await.body, json!([]));
    assert_eq!(s.get(&format!("{OFFER}/operations/nope?{V}")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn certification_blocked_by_a_fault_rule_fails_the_operation_with_the_message() {
    let s = publishing_server().await;
    let message = "No virtual machine image was found for the plan contoso.";
    s.add_fault(json!({"match": {"step": "Certification"}, "action": {"failStep": {"message": message}}})).await;
    let accepted = submit(&s, "publish").await;
    s.advance(5.0).await;
    let failed = s.get(&accepted.header("operation-location").unwrap()).await.body;
    assert_eq!((failed["status"].as_str(), failed["error"].as_str()), (Some("failed"), Some(message)), "{failed}");
    assert_eq!(failed["steps"][1]["status"], "blocked");
    assert_eq!(
        (
            failed["steps"][1]["messages"][1]["messageHtml"].as_str(),
            failed["steps"][1]["messages"][1]["level"].as_str()
        ),
        (Some(message), Some("error"))
    );
    assert_eq!(failed["steps"][2]["status"], "notStarted");
    let listed = s.get(&format!("{OFFER}/operations?filteredStatus=failed&{V}")).await.body;
    assert_eq!(listed[0]["error"], message);
    assert_eq!(s.get(&format!("{OFFER}/status?{V}")).await.body["status"], "failed");
    // The offer is free again.
    assert_eq!(submit(&s, "publish").await.status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn cancel_stops_a_running_publish_and_is_refused_once_it_cannot() {
    let s = publishing_server().await;
    let accepted = submit(&s, "publish").await;
    s.advance(0.2).await;
    let cancel = s.post(&format!("{OFFER}/cancel?{V}"), None).await;
    assert_eq!(cancel.status, StatusCode::ACCEPTED, "{}", cancel.body);
    assert_eq!(cancel.header("operation-location"), accepted.header("operation-location"));
    let asked = s.get(&accepted.header("operation-location").unwrap()).await.body;
    assert_eq!(asked["cancellationRequestState"], "cancelRequested");
    s.advance(1.0).await;
    let canceled = s.get(&accepted.header("operation-location").unwrap()).await.body;
    assert_eq!(canceled["status"], "canceled", "{canceled}");
    assert!(step_statuses(&canceled).contains(&"canceled".to_string()), "{canceled}");
    assert_eq!(s.post(&format!("{OFFER}/cancel?{V}"), None).await.status, StatusCode::CONFLICT, "nothing runs");

    // Past certification and provisioning, a publish can no longer be canceled.
    submit(&s, "publish").await;
    s.advance(4.1).await;
    let late = s.post(&format!("{OFFER}/cancel?{V}"), None).await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
}

#[tokio::test]
async fn fault_rules_reach_every_partner_request_by_its_operation_name() {
    let s = TestServer::start_with(Options { publishers: vec!["contoso".into()], ..Options::default() }).await;
    let rule = json!({"match": {"operation": "Publishers_Get"}, "action": {"error": {"status": 429, "code": "TooManyRequests", "retryAfter": 3}}, "times": 1});
    s.add_fault(rule).await;
    let throttled = s.get(&format!("/api/publishers/contoso?{V}")).await;
    assert_eq!((throttled.status, throttled.error_code()), (StatusCode::TOO_MANY_REQUESTS, "TooManyRequests"));
    assert_eq!(throttled.header("retry-after").as_deref(), Some("3"));
    assert_eq!(
        s.get(&format!("/api/publishers/contoso?{V}")).await.status,
        StatusCode::OK,
        "the rule was for one time"
    );

    s.add_fault(
        json!({"match": {"path": "/api/publishers/contoso/offers/*"}, "action": {"dropConnection": true}, "times": 1}),
    )
    .await;
    let dropped = s.try_send(Method::GET, &format!("{OFFER}?{V}"), None, &[]).await;
    assert!(dropped.is_err(), "the connection closes unanswered");

    s.add_fault(json!({"match": {"operation": "Offers_List"}, "action": {"latency": {"ms": 300}}, "times": 1})).await;
    let started = std::time::Instant::now();
    assert_eq!(s.get(&format!("/api/publishers/contoso/offers?{V}")).await.status, StatusCode::OK);
    assert!(started.elapsed() >= std::time::Duration::from_millis(300), "the answer waits out the latency");

    let events = s.get("/_azemu/events?kind=request").await.body;
    let operations: Vec<&str> =
        events["value"].as_array().unwrap().iter().filter_map(|e| e["operation"].as_str()).collect();
    assert!(operations.contains(&"Publishers_Get") && operations.contains(&"Offers_List"), "{operations:?}");
}

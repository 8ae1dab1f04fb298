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
    assert_eq!(s.get("/subscriptions/x/resourcegroups?api-version=2025-04-01").await.status, StatusCode::OK);
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
    let listed = s.get(&format!("/api/publishers/contoso/offers?{V}")).await.body;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(listed[0].get("definition").is_none() && listed[0]["version"] == 2, "{listed}");

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
    assert_eq!(s.get(&path).await.body["version"], 2, "nothing changed");
}

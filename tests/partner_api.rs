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

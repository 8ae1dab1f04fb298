//! Generic resources: types azemu does not emulate, stored as sent with ARM's envelope.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

const NETWORK: &str = "2022-01-01";

fn vnet(name: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/virtualNetworks/{name}")
}

#[tokio::test]
async fn a_generic_resource_is_stored_with_arms_envelope_and_listed() {
    let s = TestServer::start().await;
    s.create_group(RG).await;
    let body = json!({
        "location": "West US",
        "tags": {"env": "dev"},
        "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}, "provisioningState": "Updating"},
        "id": "ignored", "name": "ignored"
    });
    let created = s.put(&with_version(&vnet("Vnet-1"), NETWORK), body.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["id"], vnet("Vnet-1"));
    assert_eq!(created.body["name"], "Vnet-1");
    assert_eq!(created.body["type"], "Microsoft.Network/virtualNetworks");
    assert_eq!(created.body["location"], "westus");
    assert_eq!(created.body["tags"], json!({"env": "dev"}));
    assert_eq!(created.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(created.body["properties"]["addressSpace"]["addressPrefixes"], json!(["10.0.0.0/16"]));
    assert!(created.body["systemData"]["createdAt"].is_string());
    let etag = created.header("etag").unwrap();

    let again = s.put(&with_version(&vnet("Vnet-1"), "2015-06-15"), body).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.header("etag"), Some(etag), "the same PUT changes nothing");

    let subnet = format!("{}/subnets/default", vnet("vnet-1"));
    let child = s.put(&with_version(&subnet, NETWORK), json!({"properties": {"addressPrefix": "10.0.0.0/24"}})).await;
    assert_eq!(child.status, StatusCode::CREATED, "{}", child.body);
    assert_eq!(child.body["type"], "Microsoft.Network/virtualNetworks/subnets");
    let orphan =
        s.put(&with_version(&format!("{}/subnets/default", vnet("missing")), NETWORK), json!({"properties": {}})).await;
    assert_eq!((orphan.status, orphan.error_code()), (StatusCode::NOT_FOUND, "ParentResourceNotFound"));

    let listed = s.get(&with_version(&format!("/subscriptions/{SUB}/resourceGroups/{RG}/resources"), RESOURCES)).await;
    let ids: Vec<&str> = listed.body["value"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [vnet("Vnet-1")], "top-level generic resources are in the group's list");
    let by_type = s
        .get(&with_version(
            &format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/virtualNetworks"),
            NETWORK,
        ))
        .await;
    assert_eq!(by_type.body["value"].as_array().unwrap().len(), 1);
    let in_subscription = s
        .get(&with_version(&format!("/subscriptions/{SUB}/providers/Microsoft.Network/virtualNetworks"), NETWORK))
        .await;
    assert_eq!(in_subscription.body["value"].as_array().unwrap().len(), 1, "{}", in_subscription.body);

    let patched =
        s.send(Method::PATCH, &with_version(&vnet("vnet-1"), NETWORK), Some(json!({"tags": {"a": "b"}})), &[]).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["tags"], json!({"a": "b"}));
    assert_eq!(patched.body["properties"]["addressSpace"]["addressPrefixes"], json!(["10.0.0.0/16"]));

    let deleted = s.send(Method::DELETE, &with_version(&vnet("vnet-1"), NETWORK), None, &[]).await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED);
    s.advance(1.0).await;
    assert_eq!(s.get(&with_version(&vnet("vnet-1"), NETWORK)).await.error_code(), "ResourceNotFound");
    assert_eq!(s.get(&with_version(&subnet, NETWORK)).await.status, StatusCode::NOT_FOUND, "children go with it");
}

#[tokio::test]
async fn bad_generic_input_gets_precise_errors() {
    let s = TestServer::start().await;
    s.create_group(RG).await;
    let cases = [
        (vnet("bad%3Fname"), json!({"location": "westus"}), "InvalidResourceName"),
        (vnet("v"), json!({"location": "nowhere"}), "LocationNotAvailableForResourceType"),
        (vnet("v"), json!({"properties": "text"}), "InvalidRequestContent"),
    ];
    for (path, body, code) in cases {
        let r = s.put(&with_version(&path, NETWORK), body).await;
        assert_eq!((r.status, r.error_code()), (StatusCode::BAD_REQUEST, code), "{path}: {}", r.body);
    }
    let no_version = s.put(&vnet("v"), json!({"location": "westus"})).await;
    assert_eq!(no_version.error_code(), "MissingApiVersionParameter");
    let bad_version = s.put(&format!("{}?api-version=latest", vnet("v")), json!({"location": "westus"})).await;
    assert_eq!(bad_version.error_code(), "InvalidApiVersionParameter");
    // The children of an emulated type are the ones its provider defines.
    let cluster = format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.AzureStackHCI/clusters/c1");
    let r = s.put(&with_version(&format!("{cluster}/widgets/w1"), HCI), json!({})).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::NOT_FOUND, "InvalidResourceType"));
}

#[tokio::test]
async fn generic_resources_can_be_turned_off() {
    let s = TestServer::start_with(Options { generic_resources: false, ..Options::default() }).await;
    s.create_group(RG).await;
    let r = s.put(&with_version(&vnet("v"), NETWORK), json!({"location": "westus"})).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::NOT_FOUND, "InvalidResourceType"));
}

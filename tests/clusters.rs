//! Azure Stack HCI clusters over HTTP: create, read, patch, list, delete, bad input.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

fn cluster(name: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.AzureStackHCI/clusters/{name}")
}

fn body() -> serde_json::Value {
    json!({
        "location": "East US",
        "properties": {
            "cloudManagementEndpoint": "https://98294836-31be-4668-aeae-698667faf99b.waconazure.com",
            "aadClientId": "24a6e53d-04e5-44d2-b7cc-1b732a847dfc",
            "aadTenantId": "7e589cc1-a8b6-4dff-91bd-5ec0fa18db94"
        },
        "identity": { "type": "SystemAssigned" }
    })
}

#[tokio::test]
async fn a_cluster_is_created_read_patched_listed_and_deleted() {
    let s = TestServer::start().await;
    s.create_group(RG).await;
    let created = s.put(&with_version(&cluster("myCluster"), "2024-04-01"), body()).await;
    assert_eq!(created.status, StatusCode::OK, "the spec lists only 200: {}", created.body);
    let props = &created.body["properties"];
    assert_eq!(props["provisioningState"], "Succeeded");
    assert_eq!(props["status"], "ConnectedRecently");
    assert_eq!(props["aadClientId"], "24a6e53d-04e5-44d2-b7cc-1b732a847dfc");
    assert_eq!(
        props["desiredProperties"],
        json!({"windowsServerSubscription": "Disabled", "diagnosticLevel": "Basic"})
    );
    let nodes: Vec<&str> =
        props["reportedProperties"]["nodes"].as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert_eq!(nodes, ["Node-1", "Node-2"]);
    assert_eq!(created.body["identity"]["tenantId"], "7e589cc1-a8b6-4dff-91bd-5ec0fa18db94");
    assert!(created.body["identity"]["principalId"].is_string());
    let cloud_id = props["cloudId"].clone();

    // Read at the version it was written with, it is the same document (newer versions add fields).
    let got = s.get(&with_version(&cluster("myCluster"), "2024-04-01")).await;
    assert_eq!((got.status, &got.body), (StatusCode::OK, &created.body));

    let patched = s
        .send(
            Method::PATCH,
            &with_version(&cluster("myCluster"), HCI),
            Some(
                json!({"tags": {"env": "test"}, "properties": {"desiredProperties": {"diagnosticLevel": "Enhanced"}}}),
            ),
            &[],
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["tags"], json!({"env": "test"}));
    assert_eq!(patched.body["properties"]["desiredProperties"]["diagnosticLevel"], "Enhanced");
    assert_eq!(patched.body["properties"]["desiredProperties"]["windowsServerSubscription"], "Disabled");
    assert_eq!(patched.body["properties"]["reportedProperties"]["diagnosticLevel"], "Enhanced");
    assert_eq!(patched.body["properties"]["aadClientId"], "24a6e53d-04e5-44d2-b7cc-1b732a847dfc", "kept");
    assert_eq!(patched.body["properties"]["cloudId"], cloud_id, "stable");
    assert_ne!(patched.header("etag"), created.header("etag"));

    s.put(&with_version(&cluster("other"), HCI), json!({"location": "eastus", "tags": {"azemu-node-count": "4"}}))
        .await;
    let by_group = s
        .get(&with_version(
            &format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.AzureStackHCI/clusters"),
            HCI,
        ))
        .await;
    assert_eq!(by_group.body["value"].as_array().unwrap().len(), 2);
    let by_sub =
        s.get(&with_version(&format!("/subscriptions/{SUB}/providers/Microsoft.AzureStackHCI/clusters"), HCI)).await;
    let four = by_sub.body["value"].as_array().unwrap().iter().find(|c| c["name"] == "other").unwrap().clone();
    assert_eq!(four["properties"]["reportedProperties"]["nodes"].as_array().unwrap().len(), 4);

    let deleting = s.delete(&with_version(&cluster("myCluster"), HCI)).await;
    assert_eq!(deleting.status, StatusCode::ACCEPTED);
    assert!(deleting.header("azure-asyncoperation").is_some() && deleting.header("location").is_some());
    s.advance(2.0).await;
    assert_eq!(s.get(&with_version(&cluster("myCluster"), HCI)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(s.delete(&with_version(&cluster("myCluster"), HCI)).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn bad_cluster_input_is_a_precise_400_and_nothing_is_stored() {
    let s = TestServer::start().await;
    s.create_group(RG).await;
    let cases = [
        (json!({"properties": {}}), "LocationRequired", None),
        (
            json!({"location": "eastus", "properties": {"aadClientId": 5}}),
            "InvalidRequestContent",
            Some("properties.aadClientId"),
        ),
        (
            json!({"location": "eastus", "properties": {"desiredProperties": {"diagnosticLevel": "Loud"}}}),
            "InvalidRequestContent",
            Some("properties.desiredProperties.diagnosticLevel"),
        ),
        (
            json!({"location": "eastus", "identity": {"type": "Everything"}}),
            "InvalidRequestContent",
            Some("identity.type"),
        ),
        (json!({"location": "eastus", "identity": {"type": null}}), "InvalidRequestContent", Some("identity.type")),
        (
            json!({"location": "eastus", "properties": {"aadTenantId": "contoso.onmicrosoft.com"}}),
            "InvalidRequestContent",
            Some("properties.aadTenantId"),
        ),
        (
            json!({"location": "eastus", "tags": {"azemu-node-count": "99"}}),
            "InvalidParameter",
            Some("tags.azemu-node-count"),
        ),
    ];
    for (input, code, target) in cases {
        let r = s.put(&with_version(&cluster("c1"), HCI), input.clone()).await;
        assert_eq!((r.status, r.error_code()), (StatusCode::BAD_REQUEST, code), "{input}: {}", r.body);
        assert_eq!(r.body["error"]["target"].as_str(), target, "{input}");
    }
    assert_eq!(s.get(&with_version(&cluster("c1"), HCI)).await.status, StatusCode::NOT_FOUND);
    let bad_name = s.put(&with_version(&cluster("bad%20name"), HCI), body()).await;
    assert_eq!((bad_name.status, bad_name.error_code()), (StatusCode::BAD_REQUEST, "InvalidResourceName"));
    let patch_missing =
        s.send(Method::PATCH, &with_version(&cluster("ghost"), HCI), Some(json!({"tags": {}})), &[]).await;
    assert_eq!((patch_missing.status, patch_missing.error_code()), (StatusCode::NOT_FOUND, "ResourceNotFound"));
    let no_group = s.put(&with_version(&cluster("c1").replace(RG, "nope-rg"), HCI), body()).await;
    assert_eq!((no_group.status, no_group.error_code()), (StatusCode::NOT_FOUND, "ResourceGroupNotFound"));
    let patch_job = s.send(Method::PATCH, &with_version(&job("dev-1", "job-1"), HCI), Some(json!({})), &[]).await;
    assert_ne!(patch_job.status, StatusCode::OK);
}

#[tokio::test]
async fn patch_is_its_own_operation_for_fault_rules() {
    let s = TestServer::start().await;
    s.create_group(RG).await;
    s.put(&with_version(&cluster("c1"), HCI), body()).await;
    s.add_fault(json!({"match": {"operation": "Clusters_Update"}, "action": {"error": {"status": 429}}})).await;
    let put = s.put(&with_version(&cluster("c1"), HCI), body()).await;
    assert_eq!(put.status, StatusCode::OK, "a PUT is Clusters_Create");
    let patch = s.send(Method::PATCH, &with_version(&cluster("c1"), HCI), Some(json!({"tags": {"a": "b"}})), &[]).await;
    assert_eq!(patch.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(s.get(&with_version(&cluster("c1"), HCI)).await.body["tags"], json!({}), "nothing changed");
    let points = s.get("/_azemu/faults/points").await.body;
    let clusters = points["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["resourceType"] == "Microsoft.AzureStackHCI/clusters")
        .unwrap()
        .clone();
    for op in [
        "Clusters_Get",
        "Clusters_Update",
        "Clusters_ListByResourceGroup",
        "Clusters_ListBySubscription",
        "Clusters_Delete",
    ] {
        assert!(clusters["operations"].as_array().unwrap().iter().any(|o| o == op), "{op}: {clusters}");
    }
}

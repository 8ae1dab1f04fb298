//! ARM's platform around the families: providers and their registration, locations, the
//! resource list, the tags resource, location normalization, tag limits and path validation.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const COMPUTE: &str = "2024-07-01";

fn cluster(group: &str, name: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{group}/providers/Microsoft.AzureStackHCI/clusters/{name}")
}

fn set(group: &str, name: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{group}/providers/Microsoft.Compute/virtualMachineScaleSets/{name}")
}

fn cluster_body(location: &str, tags: Value) -> Value {
    json!({"location": location, "tags": tags, "properties": {
        "aadClientId": "24a6e53d-04e5-44d2-b7cc-1b732a847dfc", "aadTenantId": "7e589cc1-a8b6-4dff-91bd-5ec0fa18db94"}})
}

fn set_body(location: &str, capacity: u64) -> Value {
    json!({"location": location, "sku": {"name": "Standard_D2s_v3", "tier": "Standard", "capacity": capacity},
        "properties": {"upgradePolicy": {"mode": "Manual"}, "virtualMachineProfile": {
            "osProfile": {"computerNamePrefix": "vm", "adminUsername": "azureuser", "adminPassword": "Secret-123!"},
            "storageProfile": {"imageReference": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}},
            "networkProfile": {"networkInterfaceConfigurations": []}}}})
}

fn names(list: &Reply) -> Vec<String> {
    list.body["value"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn locations_are_azure_regions() {
    let s = TestServer::start().await;
    let list = s.get(&format!("/subscriptions/{SUB}/locations?api-version=2022-12-01")).await;
    assert_eq!(list.status, StatusCode::OK);
    let west = list.body["value"].as_array().unwrap().iter().find(|l| l["name"] == "westus").unwrap().clone();
    assert_eq!(west["displayName"], "West US");
    assert_eq!(west["regionalDisplayName"], "(US) West US");
    assert_eq!(west["id"], format!("/subscriptions/{SUB}/locations/westus"));
    assert_eq!(west["metadata"]["pairedRegion"][0]["name"], "eastus");
    assert_eq!(west["metadata"]["regionType"], "Physical");
    let old = s.get(&format!("/subscriptions/{SUB}/locations?api-version=2016-06-01")).await;
    assert_eq!(old.status, StatusCode::OK);
    let missing = s.get(&format!("/subscriptions/{SUB}/locations")).await;
    assert_eq!(missing.error_code(), "MissingApiVersionParameter");
}

#[tokio::test]
async fn providers_are_listed_from_the_registry_and_registered_per_subscription() {
    let s = TestServer::start().await;
    let list = s.get(&format!("/subscriptions/{SUB}/providers?api-version={RESOURCES}")).await;
    assert_eq!(list.status, StatusCode::OK);
    let namespaces: Vec<&str> =
        list.body["value"].as_array().unwrap().iter().map(|p| p["namespace"].as_str().unwrap()).collect();
    assert_eq!(namespaces, ["Microsoft.AzureStackHCI", "Microsoft.Compute", "Microsoft.Resources"]);
    let hci = s.get(&format!("/subscriptions/{SUB}/providers/microsoft.azurestackhci?api-version={RESOURCES}")).await;
    assert_eq!(
        (hci.body["namespace"].as_str(), hci.body["registrationState"].as_str()),
        (Some("Microsoft.AzureStackHCI"), Some("Registered"))
    );
    let clusters =
        hci.body["resourceTypes"].as_array().unwrap().iter().find(|t| t["resourceType"] == "clusters").unwrap();
    let versions: Vec<&str> = clusters["apiVersions"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(versions.contains(&"2024-04-01") && versions.contains(&"2026-10-01"), "{versions:?}");
    assert!(versions[0].len() == 10, "a GA version first: {versions:?}");
    assert!(clusters["locations"].as_array().unwrap().contains(&json!("East US")));

    let compute =
        |verb: &str| format!("/subscriptions/{SUB}/providers/Microsoft.Compute/{verb}?api-version={RESOURCES}");
    let unregistering = s.post(&compute("unregister"), None).await;
    assert_eq!(
        (unregistering.status, unregistering.body["registrationState"].as_str()),
        (StatusCode::OK, Some("Unregistering"))
    );
    s.advance(2.0).await;
    let shown = s.get(&format!("/subscriptions/{SUB}/providers/Microsoft.Compute?api-version={RESOURCES}")).await;
    assert_eq!(shown.body["registrationState"], "Unregistered");
    assert_eq!(s.post(&compute("register"), None).await.body["registrationState"], "Registering");
    s.advance(2.0).await;
    assert_eq!(s.post(&compute("register"), None).await.body["registrationState"], "Registered");
    // Registration is per subscription.
    let other = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
    s.post(
        &format!("/subscriptions/{other}/providers/Microsoft.AzureStackHCI/unregister?api-version={RESOURCES}"),
        None,
    )
    .await;
    let here = s.get(&format!("/subscriptions/{SUB}/providers/Microsoft.AzureStackHCI?api-version={RESOURCES}")).await;
    assert_eq!(here.body["registrationState"], "Registered");

    let unknown = s.get(&format!("/subscriptions/{SUB}/providers/Microsoft.Nothing?api-version={RESOURCES}")).await;
    assert_eq!((unknown.status, unknown.error_code()), (StatusCode::NOT_FOUND, "InvalidResourceNamespace"));
    let resources = s
        .post(&format!("/subscriptions/{SUB}/providers/Microsoft.Resources/unregister?api-version={RESOURCES}"), None)
        .await;
    assert_eq!(resources.status, StatusCode::CONFLICT);
    let tenant =
        s.get(&format!("/providers/Microsoft.Compute?api-version={RESOURCES}&$expand=resourceTypes/aliases")).await;
    assert_eq!(tenant.body["id"], "/providers/Microsoft.Compute");
    assert!(tenant.body.get("registrationState").is_none());
    assert_eq!(tenant.body["resourceTypes"][0]["aliases"], json!([]));
    assert_eq!(s.get(&format!("/providers?api-version={RESOURCES}")).await.body["value"].as_array().unwrap().len(), 3);
    assert_eq!(
        s.get("/providers/Microsoft.Nothing?api-version=2025-04-01").await.error_code(),
        "InvalidResourceNamespace"
    );
}

#[tokio::test]
async fn locations_are_stored_normalized_and_unknown_ones_refused() {
    let s = TestServer::start().await;
    let group = s.put(&with_version(&group_path("rg-a"), RESOURCES), json!({"location": "West US 2"})).await;
    assert_eq!(group.body["location"], "westus2");
    let bad_group = s.put(&with_version(&group_path("rg-b"), RESOURCES), json!({"location": "Atlantis"})).await;
    assert_eq!(
        (bad_group.status, bad_group.error_code()),
        (StatusCode::BAD_REQUEST, "LocationNotAvailableForResourceGroup")
    );
    assert_eq!(s.get(&with_version(&group_path("rg-b"), RESOURCES)).await.status, StatusCode::NOT_FOUND);

    let created = s.put(&with_version(&set("rg-a", "web"), COMPUTE), set_body("West US", 1)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["location"], "westus");
    let op = created.header("azure-asyncoperation").unwrap();
    assert!(op.contains("/locations/westus/"), "{op}");
    let bad = s.put(&with_version(&set("rg-a", "mars"), COMPUTE), set_body("Mars Central", 1)).await;
    assert_eq!((bad.status, bad.error_code()), (StatusCode::BAD_REQUEST, "LocationNotAvailableForResourceType"));
    assert!(bad.body["error"]["message"].as_str().unwrap().contains("Microsoft.Compute/virtualMachineScaleSets"));
    assert_eq!(s.get(&with_version(&set("rg-a", "mars"), COMPUTE)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn resources_are_listed_with_filters_paging_and_expansions() {
    let s = TestServer::start().await;
    s.create_group("rg-a").await;
    s.create_group("rg-b").await;
    s.put(&with_version(&cluster("rg-a", "c1"), HCI), cluster_body("eastus", json!({"env": "prod"}))).await;
    s.put(&with_version(&cluster("rg-b", "c2"), HCI), cluster_body("westeurope", json!({"env": "dev"}))).await;
    let set_created = s.put(&with_version(&set("rg-a", "web"), COMPUTE), set_body("westus", 2)).await;
    assert_eq!(set_created.status, StatusCode::CREATED);
    s.create_device("dev-1").await;
    let list = |query: &str| format!("/subscriptions/{SUB}/resources?api-version={RESOURCES}{query}");

    let all = s.get(&list("")).await;
    assert_eq!(names(&all), ["c1", "web", "c2"], "clusters and sets; no VMs, groups or extension resources");
    let web = &all.body["value"][1];
    assert_eq!(web["type"], "Microsoft.Compute/virtualMachineScaleSets");
    assert_eq!(web["sku"]["capacity"], 2);
    assert!(web.get("properties").is_none());

    assert_eq!(names(&s.get(&list("&$filter=resourceType eq 'Microsoft.AzureStackHCI/clusters'")).await), ["c1", "c2"]);
    assert_eq!(names(&s.get(&list("&$filter=name eq 'WEB'")).await), ["web"]);
    assert_eq!(names(&s.get(&list("&$filter=substringof('c', name)")).await), ["c1", "c2"]);
    assert_eq!(names(&s.get(&list("&$filter=location eq 'westeurope'")).await), ["c2"]);
    assert_eq!(names(&s.get(&list("&$filter=tagName eq 'env' and tagValue eq 'dev'")).await), ["c2"]);
    assert_eq!(names(&s.get(&list("&$filter=tagName eq 'env'")).await), ["c1", "c2"]);
    let bad = s.get(&list("&$filter=color eq 'red'")).await;
    assert_eq!((bad.status, bad.error_code()), (StatusCode::BAD_REQUEST, "InvalidFilterInQueryString"));

    let first = s.get(&list("&$top=2&$expand=createdTime,changedTime,provisioningState")).await;
    assert_eq!(names(&first), ["c1", "web"]);
    assert!(first.body["value"][0]["createdTime"].is_string());
    assert_eq!(first.body["value"][0]["provisioningState"], "Succeeded");
    let next = first.body["nextLink"].as_str().unwrap().to_string();
    let second = s.get(&next).await;
    assert_eq!(names(&second), ["c2"]);
    assert!(second.body["value"][0]["changedTime"].is_string(), "the next page keeps $expand");
    assert!(second.body.get("nextLink").is_none_or(Value::is_null));

    let in_group = s.get(&format!("/subscriptions/{SUB}/resourceGroups/RG-A/resources?api-version={RESOURCES}")).await;
    assert_eq!(names(&in_group), ["c1", "web"]);
    let no_group = s.get(&format!("/subscriptions/{SUB}/resourceGroups/none/resources?api-version={RESOURCES}")).await;
    assert_eq!(no_group.error_code(), "ResourceGroupNotFound");
}

#[tokio::test]
async fn tags_resource_merges_replaces_and_deletes() {
    let s = TestServer::start().await;
    s.create_group("rg-a").await;
    let id = cluster("rg-a", "c1");
    let created = s.put(&with_version(&id, HCI), cluster_body("eastus", json!({"env": "prod", "team": "ci"}))).await;
    let etag = created.header("etag").unwrap();
    let tags = with_version(&format!("{id}/providers/Microsoft.Resources/tags/default"), RESOURCES);

    let read = s.get(&tags).await;
    assert_eq!(read.body["properties"]["tags"], json!({"env": "prod", "team": "ci"}));
    assert_eq!(read.body["type"], "Microsoft.Resources/tags");
    let merged = s
        .send(
            Method::PATCH,
            &tags,
            Some(json!({"operation": "Merge", "properties": {"tags": {"env": "dev", "x": "1"}}})),
            &[],
        )
        .await;
    assert_eq!(merged.body["properties"]["tags"], json!({"env": "dev", "team": "ci", "x": "1"}));
    let resource = s.get(&with_version(&id, HCI)).await;
    assert_eq!(resource.body["tags"], json!({"env": "dev", "team": "ci", "x": "1"}));
    assert_ne!(resource.header("etag").unwrap(), etag, "a tag change is a new version");
    assert_eq!(resource.body["properties"]["provisioningState"], "Succeeded");

    let deleted = s
        .send(Method::PATCH, &tags, Some(json!({"operation": "Delete", "properties": {"tags": {"x": ""}}})), &[])
        .await;
    assert_eq!(deleted.body["properties"]["tags"], json!({"env": "dev", "team": "ci"}));
    let replaced = s.put(&tags, json!({"properties": {"tags": {"only": "this"}}})).await;
    assert_eq!(replaced.body["properties"]["tags"], json!({"only": "this"}));
    let bad_op =
        s.send(Method::PATCH, &tags, Some(json!({"operation": "Sideways", "properties": {"tags": {}}})), &[]).await;
    assert_eq!(bad_op.error_code(), "InvalidTagOperation");
    let bad_name = s.put(&tags, json!({"properties": {"tags": {"a/b": "c"}}})).await;
    assert_eq!(bad_name.error_code(), "InvalidTagNameCharacters");
    assert_eq!(s.get(&tags).await.body["properties"]["tags"], json!({"only": "this"}), "refusals change nothing");
    let cleared = s.delete(&tags).await;
    assert_eq!(cleared.status, StatusCode::OK);
    assert_eq!(s.get(&with_version(&id, HCI)).await.body["tags"], json!({}));

    let group_tags =
        with_version(&format!("{}/providers/Microsoft.Resources/tags/default", group_path("rg-a")), RESOURCES);
    let on_group = s.put(&group_tags, json!({"properties": {"tags": {"cost": "42"}}})).await;
    assert_eq!(on_group.status, StatusCode::OK, "{}", on_group.body);
    assert_eq!(s.get(&with_version(&group_path("rg-a"), RESOURCES)).await.body["tags"], json!({"cost": "42"}));
    let nowhere =
        with_version(&format!("{}/providers/Microsoft.Resources/tags/default", cluster("rg-a", "none")), RESOURCES);
    assert_eq!(s.get(&nowhere).await.error_code(), "ResourceNotFound");
}

#[tokio::test]
async fn tag_limits_hold_on_every_write() {
    let s = TestServer::start().await;
    s.create_group("rg-a").await;
    let many: serde_json::Map<String, Value> = (0..51).map(|i| (format!("t{i}"), json!("v"))).collect();
    let cases = [
        (json!(many), "InvalidTagCount"),
        (json!({"a<b": "c"}), "InvalidTagNameCharacters"),
        (json!({"k".repeat(513): "v"}), "InvalidTagNameLength"),
        (json!({"k": "v".repeat(257)}), "InvalidTagValueLength"),
    ];
    for (tags, code) in cases {
        let r = s.put(&with_version(&cluster("rg-a", "c1"), HCI), cluster_body("eastus", tags)).await;
        assert_eq!((r.status, r.error_code()), (StatusCode::BAD_REQUEST, code));
        let group = s
            .put(&with_version(&group_path("rg-t"), RESOURCES), json!({"location": "eastus", "tags": {"a<b": "c"}}))
            .await;
        assert_eq!(group.error_code(), "InvalidTagNameCharacters");
    }
    assert_eq!(s.get(&with_version(&cluster("rg-a", "c1"), HCI)).await.status, StatusCode::NOT_FOUND);
    let fifty: serde_json::Map<String, Value> = (0..50).map(|i| (format!("t{i}"), json!("v".repeat(256)))).collect();
    let ok = s.put(&with_version(&cluster("rg-a", "c1"), HCI), cluster_body("eastus", json!(fifty))).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
}

#[tokio::test]
async fn paths_as_the_cli_sends_them_reach_the_resource() {
    let s = TestServer::start().await;
    s.create_group("rg-a").await;
    s.put(&with_version(&cluster("rg-a", "c1"), HCI), cluster_body("eastus", json!({}))).await;
    let cli = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-a/providers/Microsoft.AzureStackHCI//clusters/c1?api-version={HCI}"
    );
    let r = s.get(&cli).await;
    assert_eq!((r.status, r.body["name"].as_str()), (StatusCode::OK, Some("c1")));
}

#[tokio::test]
async fn malformed_subscriptions_scopes_and_names_are_refused_and_store_nothing() {
    let s = TestServer::start().await;
    let not_guid = s
        .put(&with_version("/subscriptions/not-a-guid/resourcegroups/rg", RESOURCES), json!({"location": "eastus"}))
        .await;
    assert_eq!((not_guid.status, not_guid.error_code()), (StatusCode::BAD_REQUEST, "InvalidSubscriptionId"));
    let listed = s.get("/subscriptions?api-version=2022-12-01").await;
    let ids: Vec<&str> =
        listed.body["value"].as_array().unwrap().iter().map(|v| v["subscriptionId"].as_str().unwrap()).collect();
    assert!(!ids.contains(&"not-a-guid"), "{ids:?}");

    s.create_group(RG).await;
    let scope = format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Not A Namespace/machines/m1/providers/Microsoft.AzureStackHCI/edgeDevices/default");
    let r = s.put(&with_version(&scope.replace(' ', "%20"), HCI), device_body()).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::BAD_REQUEST, "InvalidResourceNamespace"));
    let control = s.put(&with_version(&group_path("bad%07name"), RESOURCES), json!({"location": "eastus"})).await;
    assert_eq!((control.status, control.error_code()), (StatusCode::BAD_REQUEST, "InvalidResourceName"));
    let unpaired = format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.HybridCompute/machines/m1/extra/providers/Microsoft.AzureStackHCI/edgeDevices/default");
    assert_eq!(s.put(&with_version(&unpaired, HCI), device_body()).await.status, StatusCode::NOT_FOUND);
}

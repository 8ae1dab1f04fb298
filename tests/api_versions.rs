//! Every published api-version is served, each in its own shape; versions that never existed are
//! refused.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

fn cluster(name: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.AzureStackHCI/clusters/{name}")
}

fn cluster_body() -> serde_json::Value {
    json!({ "location": "eastus", "properties": { "aadTenantId": "7e589cc1-a8b6-4dff-91bd-5ec0fa18db94" }, "identity": { "type": "SystemAssigned" } })
}

#[tokio::test]
async fn a_cluster_is_answered_in_the_shape_of_each_version() {
    let s = TestServer::start().await;
    s.create_group(RG).await;
    // What the only npm release of @azure/arm-azurestackhci sends.
    let created = s.put(&with_version(&cluster("c1"), "2022-05-01"), cluster_body()).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let old = &created.body;
    for absent in ["/identity", "/properties/softwareAssuranceProperties", "/properties/connectivityStatus"] {
        assert!(old.pointer(absent).is_none(), "{absent} is not in 2022-05-01: {old}");
    }
    let node = &old["properties"]["reportedProperties"]["nodes"][0];
    assert!(node.get("nodeType").is_none() && node.get("oemActivation").is_none(), "{node}");
    assert_eq!(node["name"], "Node-1");
    assert_eq!(old["properties"]["aadTenantId"], "7e589cc1-a8b6-4dff-91bd-5ec0fa18db94");

    // The same resource at a later version has what that version defines, and no more.
    let at_2023 = s.get(&with_version(&cluster("c1"), "2023-08-01")).await;
    assert_eq!(at_2023.status, StatusCode::OK);
    assert_eq!(at_2023.body["identity"]["type"], "SystemAssigned");
    assert_eq!(at_2023.body["properties"]["connectivityStatus"], "Connected");
    assert!(at_2023.body["properties"].get("logCollectionProperties").is_none());
    let newest = s.get(&with_version(&cluster("c1"), HCI)).await;
    assert_eq!(newest.body["properties"]["logCollectionProperties"]["logCollectionSessionDetails"], json!([]));
    assert!(newest.body["properties"]["isolatedVmAttestationConfiguration"]["attestationServiceEndpoint"].is_string());

    // Lists are shaped too.
    let listed = s
        .get(&with_version(&format!("/subscriptions/{SUB}/providers/Microsoft.AzureStackHCI/clusters"), "2022-05-01"))
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert!(listed.body["value"][0].get("identity").is_none());
}

#[tokio::test]
async fn an_edge_device_before_kinds_existed_is_read_and_answered_without_one() {
    let s = TestServer::start().await;
    s.create_group(RG).await;
    let body = json!({ "properties": { "deviceConfiguration": { "nicDetails": [], "deviceMetadata": "" } } });
    let created = s.put(&with_version(&device("dev-2024"), "2024-01-01"), body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(created.body.get("kind").is_none(), "{}", created.body);
    s.advance(2.0).await;
    let old = s.get(&with_version(&device("dev-2024"), "2024-01-01")).await;
    assert_eq!(old.body["properties"]["provisioningState"], "Succeeded");
    assert!(old.body["properties"].get("reportedProperties").is_none(), "{}", old.body);
    // The same device at a later version is an HCI device with what it reports.
    let newer = s.get(&with_version(&device("dev-2024"), SEED_HCI)).await;
    assert_eq!(newer.body["kind"], "HCI");
    assert_eq!(newer.body["properties"]["reportedProperties"]["deviceState"], "Connected");
    let at_2024_04 = s.get(&with_version(&device("dev-2024"), "2024-04-01")).await;
    let reported = &at_2024_04.body["properties"]["reportedProperties"];
    assert_eq!(reported["osProfile"]["assemblyVersion"], "10.0.25398.1189");
    assert!(reported.get("lastSyncTimestamp").is_none(), "{reported}");
}

#[tokio::test]
async fn versions_a_type_never_had_are_refused() {
    let s = TestServer::start().await;
    s.create_group(RG).await;
    let never = s.put(&with_version(&cluster("c1"), "2024-05-01"), cluster_body()).await;
    assert_eq!((never.status, never.error_code()), (StatusCode::BAD_REQUEST, "NoRegisteredProviderFound"));
    // Jobs came with 2024-09-01-preview, updates with 2022-10-01.
    s.create_device("dev-1").await;
    let job = s.put(&with_version(&job("dev-1", "job1"), "2024-04-01"), collect_log_body()).await;
    assert_eq!((job.status, job.error_code()), (StatusCode::BAD_REQUEST, "NoRegisteredProviderFound"));
    let updates = s.get(&with_version(&format!("{}/updates", cluster("c1")), "2022-05-01")).await;
    assert_eq!((updates.status, updates.error_code()), (StatusCode::BAD_REQUEST, "NoRegisteredProviderFound"));
    assert!(updates.body["error"]["message"].as_str().unwrap().contains("2022-10-01"));
}

#[tokio::test]
async fn the_provider_document_lists_every_published_version() {
    let s = TestServer::start().await;
    let hci = s.get(&with_version(&format!("/subscriptions/{SUB}/providers/Microsoft.AzureStackHCI"), RESOURCES)).await;
    let versions_of = |name: &str| -> Vec<String> {
        let types = hci.body["resourceTypes"].as_array().unwrap();
        let entry = types.iter().find(|t| t["resourceType"] == name).unwrap_or_else(|| panic!("{name}"));
        entry["apiVersions"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
    };
    let clusters = versions_of("clusters");
    assert!(clusters.contains(&"2022-05-01".to_string()) && clusters.contains(&"2026-05-01-preview".to_string()));
    assert!(versions_of("edgeDevices").contains(&"2024-01-01".to_string()));
    assert!(!versions_of("edgeDevices/jobs").contains(&"2024-04-01".to_string()));
}

#[tokio::test]
async fn newer_versions_show_the_fields_they_added() {
    let s = TestServer::start().await;
    s.create_group(RG).await;
    let mut body = cluster_body();
    body["properties"]["ring"] = json!("Insider");
    body["properties"]["identityProvider"] = json!("LocalIdentity");
    let created = s.put(&with_version(&cluster("c2026"), "2026-02-01"), body).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let props = &created.body["properties"];
    assert_eq!((props["ring"].as_str(), props["supportStatus"].as_str()), (Some("Insider"), Some("InSupport")));
    assert_eq!(props["identityProvider"], "LocalIdentity");
    assert_eq!(props["reportedProperties"]["hardwareClass"], "Medium");
    assert!(props.get("billingProperties").is_none(), "billing properties came with 2026-05-01-preview");
    let preview = s.get(&with_version(&cluster("c2026"), "2026-05-01-preview")).await.body;
    assert_eq!(preview["properties"]["billingProperties"]["nextBillingModel"]["trialDaysRemaining"], 60);
    assert_eq!(preview["properties"]["storageType"], "S2D");
    let at_2025 = s.get(&with_version(&cluster("c2026"), "2025-10-01")).await.body;
    for absent in ["ring", "supportStatus", "identityProvider"] {
        assert!(at_2025["properties"].get(absent).is_none(), "{absent}: {at_2025}");
    }
    assert!(at_2025["properties"]["reportedProperties"].get("hardwareClass").is_none());

    s.create_device("dev-1").await;
    s.advance(2.0).await;
    let preview = s.get(&with_version(&device("dev-1"), "2026-05-01-preview")).await.body;
    let reported = &preview["properties"]["reportedProperties"];
    assert_eq!(reported["storageProfile"]["poolableDisksCount"], 4);
    assert_eq!(reported["confidentialVmProfile"]["igvmStatus"], "Enabled");
    assert_eq!(reported["networkProfile"]["sdnProperties"]["sdnStatus"], "Disabled");
    let seed = s.get(&with_version(&device("dev-1"), SEED_HCI)).await.body;
    assert!(seed["properties"]["reportedProperties"].get("storageProfile").is_none());
    assert!(seed["properties"]["reportedProperties"]["networkProfile"].get("sdnProperties").is_none());
    let network = &seed["properties"]["reportedProperties"]["networkProfile"];
    assert_eq!(network["switchDetails"][0]["switchType"], "External");
    assert_eq!(network["hostNetwork"]["intents"][0]["intentAdapters"], json!(["ethernet"]));
    assert_eq!(network["hostNetwork"]["storageNetworks"][0]["networkAdapterName"], "ethernet");
}

#[tokio::test]
async fn updates_before_2022_12_01_have_no_health_checks() {
    let s = TestServer::start().await;
    s.create_group(RG).await;
    s.put(&with_version(&cluster("c1"), "2024-04-01"), cluster_body()).await;
    let update = format!("{}/updates/Solution10.2411.0.1", cluster("c1"));
    let body = json!({ "properties": { "state": "Ready", "version": "10.2411.0.1", "healthState": "Success",
        "healthCheckResult": [{ "name": "a", "status": "Succeeded" }], "rebootRequired": "True" } });
    assert_eq!(s.put(&with_version(&update, "2024-04-01"), body).await.status, StatusCode::OK);
    let old = s.get(&with_version(&update, "2022-10-01")).await.body;
    for absent in ["healthState", "healthCheckResult", "rebootRequired"] {
        assert!(old["properties"].get(absent).is_none(), "{absent}: {old}");
    }
    assert_eq!(old["properties"]["version"], "10.2411.0.1");
    let newer = s.get(&with_version(&update, "2022-12-01")).await.body;
    assert_eq!(newer["properties"]["healthState"], "Success");
}

#[tokio::test]
async fn update_runs_and_summaries_are_answered_in_each_versions_shape() {
    let s = TestServer::start().await;
    s.create_group(RG).await;
    s.put(&with_version(&cluster("c1"), "2024-04-01"), cluster_body()).await;
    let update = format!("{}/updates/Solution10.2411.0.1", cluster("c1"));
    s.put(&with_version(&update, "2024-04-01"), json!({ "properties": { "state": "Installed" } })).await;
    let run = format!("{update}/updateRuns/r1");
    let step = |name: &str, steps: serde_json::Value| json!({ "name": name, "status": "Success", "expectedExecutionTime": "00:10:00", "steps": steps });
    let body = json!({ "properties": { "state": "Succeeded", "timeStarted": "2024-05-01T10:00:00Z",
        "lastUpdatedTime": "2024-05-01T11:00:00Z",
        "progress": step("Unnamed step", json!([step("Prepare", json!([step("Download", json!([]))]))])) } });
    assert_eq!(s.put(&with_version(&run, "2024-04-01"), body).await.status, StatusCode::OK);
    let text = |v: &serde_json::Value| v.to_string();
    let oldest = s.get(&with_version(&run, "2022-10-01")).await.body;
    assert!(oldest["properties"].get("timeStarted").is_none(), "{oldest}");
    assert!(!text(&oldest).contains("expectedExecutionTime"), "{oldest}");
    assert_eq!(oldest["properties"]["progress"]["steps"][0]["steps"][0]["name"], "Download");
    let middle = s.get(&with_version(&run, "2024-02-15-preview")).await.body;
    assert_eq!(middle["properties"]["timeStarted"], "2024-05-01T10:00:00Z");
    assert!(!text(&middle).contains("expectedExecutionTime"), "{middle}");
    let newest = s.get(&with_version(&run, "2024-04-01")).await.body;
    assert_eq!(newest["properties"]["progress"]["steps"][0]["steps"][0]["expectedExecutionTime"], "00:10:00");

    let summary = format!("{}/updateSummaries/default", cluster("c1"));
    let body = json!({ "properties": { "state": "AppliedSuccessfully", "currentOemVersion": "2.1", "currentSbeVersion": "4.1",
        "healthState": "Success", "lastChecked": "2024-05-01T10:00:00Z",
        "healthCheckResult": [{ "name": "a", "displayName": "A", "status": "Succeeded", "targetResourceType": "Cluster" }] } });
    assert_eq!(s.put(&with_version(&summary, "2024-04-01"), body).await.status, StatusCode::OK);
    let oldest = s.get(&with_version(&summary, "2022-10-01")).await.body["properties"].clone();
    for absent in ["healthState", "lastChecked", "healthCheckResult", "currentOemVersion"] {
        assert!(oldest.get(absent).is_none(), "{absent}: {oldest}");
    }
    assert_eq!(oldest["state"], "AppliedSuccessfully");
    let ga_2024 = s.get(&with_version(&summary, "2024-01-01")).await.body["properties"].clone();
    assert_eq!(
        (ga_2024["healthState"].as_str(), ga_2024["healthCheckResult"][0]["displayName"].as_str()),
        (Some("Success"), Some("A"))
    );
    assert!(
        ga_2024.get("currentSbeVersion").is_none()
            && ga_2024["healthCheckResult"][0].get("targetResourceType").is_none()
    );
    let mid_2023 = s.get(&with_version(&summary, "2023-06-01")).await.body["properties"].clone();
    assert!(mid_2023["healthCheckResult"][0].get("displayName").is_none(), "{mid_2023}");
    let newest = s.get(&with_version(&summary, "2024-09-01-preview")).await.body["properties"].clone();
    assert_eq!(
        (newest["currentOemVersion"].as_str(), newest["healthCheckResult"][0]["targetResourceType"].as_str()),
        (Some("2.1"), Some("Cluster"))
    );
}

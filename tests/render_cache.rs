//! Documents rendered from a lifecycle are kept while they hold (until the next step, or a new
//! version) and served to every reader meanwhile. These tests walk jobs, an update run, a VM
//! and a scale set through their lifecycles on the manual clock in uneven steps, and check at
//! each moment that what readers are answered with (kept or not) is what rendering anew gives.

mod common;

use std::sync::Arc;

use azemu::arm::document;
use azemu::store::StoredResource;
use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const HCI_API: &str = "2026-10-01";
const VMS: &str = "2026-04-01";

fn cluster() -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.AzureStackHCI/clusters/c1")
}

fn vm_path() -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/vm1")
}

fn vm_body() -> Value {
    json!({ "location": "westus", "properties": {
        "hardwareProfile": { "vmSize": "Standard_D2s_v5" },
        "storageProfile": { "imageReference": { "publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts-gen2", "version": "latest" } },
        "osProfile": { "computerName": "vm1", "adminUsername": "azureuser", "adminPassword": "Passw0rd!Passw0rd" },
        "networkProfile": { "networkInterfaces": [{ "id": format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/networkInterfaces/vm1-nic") }] } } })
}

fn set_body() -> Value {
    json!({"location": "westus", "sku": {"name": "Standard_D2s_v3", "capacity": 2},
        "properties": {"orchestrationMode": "Uniform", "upgradePolicy": {"mode": "Manual"}, "virtualMachineProfile": {
            "osProfile": {"computerNamePrefix": "web", "adminUsername": "azureuser", "adminPassword": "Secret-123!"},
            "storageProfile": {"imageReference": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}},
            "networkProfile": {"networkInterfaceConfigurations": [{"name": "nic", "properties": {"primary": true,
                "ipConfigurations": [{"name": "ip", "properties": {"subnet": {"id": "/subscriptions/x/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/n/subnets/s"}}}]}}]}}}})
}

/// Work of every kind under way at once.
async fn start_work(s: &TestServer) {
    s.create_device("dev-1").await;
    let expiry = (chrono::Utc::now() + chrono::Duration::seconds(40)).to_rfc3339();
    for (name, body) in [("logs", collect_log_body()), ("support", remote_support_body("Enable", &expiry))] {
        let r = s.put(&with_version(&job("dev-1", name), HCI), body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let r = s.put(&with_version(&cluster(), HCI_API), json!({"location": "westus"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let update = format!("{}/updates/Solution10.2411.0.24", cluster());
    let body = json!({"properties": {"state": "Ready", "version": "10.2411.0.24", "packageType": "Solution"}});
    let r = s.put(&with_version(&update, HCI_API), body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = s.post(&with_version(&format!("{update}/apply"), HCI_API), None).await;
    assert!(r.status.is_success(), "{}", r.body);
    let r = s.put(&with_version(&vm_path(), VMS), vm_body()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = s.put(&v(&set("web")), set_body()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

/// Every resource whose document is rendered from its lifecycle.
fn rendered_resources(s: &TestServer) -> Vec<Arc<StoredResource>> {
    s.running.app.store.read(|state| state.resources().filter(|r| r.sim.is_some()).cloned().collect())
}

/// What readers are answered with now equals what rendering anew gives, for every resource;
/// returns how many of them are still changing.
fn readers_see_fresh_documents(s: &TestServer, at: &str) -> usize {
    let app = &s.running.app;
    let now = app.clock.now();
    let mut changing = 0;
    for resource in rendered_resources(s) {
        let served = document::current(&app.registry, &resource, now);
        let fresh = document::current_unkept(&app.registry, &resource, now);
        assert_eq!(
            String::from_utf8_lossy(&served),
            String::from_utf8_lossy(&fresh),
            "{} at {at}: a kept document no longer holds",
            resource.id
        );
        changing += usize::from(resource.due.is_some());
    }
    changing
}

/// The instance view readers are answered with equals the provider's rendering of it now.
async fn view_is_fresh(s: &TestServer, id: &str, at: &str) {
    let app = &s.running.app;
    let served = s.get(&format!("{id}/instanceView?api-version={VMS}")).await;
    assert_eq!(served.status, StatusCode::OK, "{}", served.body);
    let key = id.to_ascii_lowercase();
    let resource = app.store.read(|state| state.resource(&key).cloned()).expect("the VM");
    let provider = app.registry.get(&resource.type_key).expect("its provider");
    let fresh = app.store.read(|state| provider.view("instanceView", &resource, state, app.clock.now())).unwrap();
    let fresh: Value = serde_json::from_slice(&fresh.doc).unwrap();
    assert_eq!(served.body, fresh, "{id} at {at}: a kept instance view no longer holds");
}

#[tokio::test]
async fn what_readers_are_served_is_what_the_lifecycle_shows_at_every_moment() {
    let s = TestServer::start().await;
    start_work(&s).await;
    let set_vm = format!("{}?api-version={VMS}", vm("web", "0"));
    let mut elapsed = 0.0;
    // Uneven steps, so that reads land between steps, on them and just after them.
    let steps = [0.137, 0.25, 0.5, 0.013, 1.0, 0.6];
    let mut changing = 0;
    for i in 0..180 {
        let at = format!("{elapsed:.3} s");
        // Readers keep what they are answered with...
        for path in [with_version(&job("dev-1", "logs"), HCI), with_version(&vm_path(), VMS), set_vm.clone()] {
            let kept = s.get(&path).await;
            assert_eq!(kept.status, StatusCode::OK);
            // A query the answer cache does not keep answers for takes the full path.
            let full = s.get(&format!("{path}&probe=full")).await;
            assert_eq!(kept.body, full.body, "{path} at {at}: a kept answer no longer holds");
        }
        view_is_fresh(&s, &vm_path(), &at).await;
        // ...and it still holds a moment later, until their next step.
        changing = readers_see_fresh_documents(&s, &at);
        // The VM stops once its agent is ready, and starts again.
        let action = match i {
            60 => "powerOff",
            90 => "start",
            _ => "",
        };
        if !action.is_empty() {
            let r = s.post(&with_version(&format!("{}/{action}", vm_path()), VMS), None).await;
            assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
        }
        let step = steps[i % steps.len()];
        s.advance(step).await;
        elapsed += step;
    }
    assert_eq!(changing, 0, "the work has ended");
    let view = s.get(&format!("{}/instanceView?api-version={VMS}", vm_path())).await.body;
    assert_eq!(view["vmAgent"]["statuses"][0]["displayStatus"], "Ready", "{view}");
}

/// A GET asked again is answered from the answer kept for it only while that is still the
/// answer: not once the parent is being deleted, a fault rule is active, the version changed or
/// the question differs (another api-version, `If-None-Match`).
#[tokio::test]
async fn a_kept_answer_is_given_only_while_it_is_still_the_answer() {
    let s = TestServer::start().await;
    s.create_device("dev-1").await;
    let path = with_version(&job("dev-1", "logs"), HCI);
    assert_eq!(s.put(&path, collect_log_body()).await.status, StatusCode::CREATED);
    s.advance(60.0).await;
    let first = s.get(&path).await;
    let again = s.get(&path).await;
    assert_eq!((first.status, &first.body), (again.status, &again.body));
    assert_eq!(first.header("etag"), again.header("etag"));
    let requests = |metrics: &str| {
        metrics
            .lines()
            .filter(|l| {
                l.starts_with("azemu_requests_total{") && l.contains("EdgeDeviceJobs_Get") && l.contains("\"200\"")
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum::<u64>()
    };
    let metrics = || async { reqwest::get(format!("{}/metrics", s.base)).await.unwrap().text().await.unwrap() };
    let before = requests(&metrics().await);
    s.get(&path).await;
    assert_eq!(requests(&metrics().await), before + 1, "a kept answer is counted as any answer");

    // The same question in another form is another question.
    let etag = first.header("etag").unwrap();
    let unchanged = s.send(reqwest::Method::GET, &path, None, &[("if-none-match", etag.as_str())]).await;
    assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);

    // A fault rule acts on it.
    let rule = s
        .add_fault(json!({"match": {"operation": "EdgeDeviceJobs_Get"}, "action": {"error": {"status": 503, "code": "ServerBusy"}}, "times": 1}))
        .await;
    let faulted = s.get(&path).await;
    assert_eq!((faulted.status, faulted.error_code()), (StatusCode::SERVICE_UNAVAILABLE, "ServerBusy"), "{rule}");
    assert_eq!(s.get(&path).await.status, StatusCode::OK, "the rule fired its one time");

    // A new version is a new answer.
    let changed = json!({ "kind": "HCI", "properties": { "jobType": "CollectLog", "fromDate": "2024-01-30T10:00:00Z", "toDate": "2024-01-30T12:00:00Z" } });
    assert_eq!(s.put(&path, changed).await.status, StatusCode::OK);
    let updated = s.get(&path).await;
    let from = updated.body["properties"]["fromDate"].as_str().unwrap_or_default();
    assert!(from.starts_with("2024-01-30T10:00:00"), "{}", updated.body);
    assert_ne!(updated.header("etag"), first.header("etag"));

    // A parent being deleted takes its children's answers with it.
    s.get(&path).await;
    let r = s.delete(&with_version(&device("dev-1"), HCI)).await;
    assert!(r.status.is_success(), "{}", r.body);
    let orphan = s.get(&path).await;
    assert_eq!(
        (orphan.status, orphan.error_code()),
        (StatusCode::NOT_FOUND, "ParentResourceNotFound"),
        "{}",
        orphan.body
    );
}

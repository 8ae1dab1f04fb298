//! Flexible scale sets over HTTP: their instances are virtual machines named after the set,
//! made and removed as the set scales, listed by the set and by the VM filter, reached by the
//! set's actions and counted by its instance view; VMs that name a set join it; deleting the set
//! takes its VMs.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const VMS: &str = "2026-04-01";

fn at(path: &str) -> String {
    with_version(path, VMS)
}

fn vms_in_subscription() -> String {
    format!("/subscriptions/{SUB}/providers/Microsoft.Compute/virtualMachines")
}

fn flexible(capacity: u64) -> Value {
    json!({"location": "westus", "sku": {"name": "Standard_D2s_v5", "capacity": capacity},
        "properties": {"orchestrationMode": "flexible", "platformFaultDomainCount": 1, "upgradePolicy": {"mode": "manual"},
            "virtualMachineProfile": {
                "osProfile": {"computerNamePrefix": "flex", "adminUsername": "azureuser", "adminPassword": "Passw0rd!Passw0rd"},
                "storageProfile": {"imageReference": {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts-gen2", "version": "latest"},
                    "osDisk": {"createOption": "fromImage", "managedDisk": {"storageAccountType": null}}},
                "networkProfile": {"networkApiVersion": "2020-11-01", "networkInterfaceConfigurations": [{"name": "nic", "properties": {"primary": "true",
                    "ipConfigurations": [{"name": "ip", "properties": {"subnet": {"id": "/subscriptions/x/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/n/subnets/s"}}}]}}]}}}})
}

async fn members(s: &TestServer, set_name: &str) -> Vec<Value> {
    let filter = format!("{}&$filter='virtualMachineScaleSet/id' eq '{}'", at(&vms_in_subscription()), set(set_name));
    let r = s.get(&filter).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["value"].as_array().unwrap().clone()
}

fn names(vms: &[Value]) -> Vec<String> {
    vms.iter().map(|v| v["name"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_flexible_set_makes_its_instances_as_virtual_machines() {
    let s = TestServer::start().await;
    s.create_group(RG).await;
    let r = s.put(&at(&set("flex")), flexible(3)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["properties"]["orchestrationMode"], "Flexible", "answered in Compute's casing");
    assert_eq!(r.body["properties"]["upgradePolicy"]["mode"], "Manual");
    assert_eq!(r.body["properties"]["singlePlacementGroup"], false);
    s.advance(60.0).await;
    assert_eq!(s.get(&at(&set("flex"))).await.body["properties"]["provisioningState"], "Succeeded");

    let vms = members(&s, "flex").await;
    assert_eq!(vms.len(), 3);
    for vm in &vms {
        let name = vm["name"].as_str().unwrap();
        assert!(name.starts_with("flex_") && name.len() == 13, "{name}");
        assert_eq!(vm["type"], "Microsoft.Compute/virtualMachines");
        assert_eq!(vm["properties"]["virtualMachineScaleSet"]["id"], set("flex"));
        assert_eq!(vm["properties"]["hardwareProfile"]["vmSize"], "Standard_D2s_v5");
        assert_eq!(vm["properties"]["storageProfile"]["osDisk"]["createOption"], "FromImage");
        assert_eq!(vm["properties"]["storageProfile"]["imageReference"]["exactVersion"], "22.04.202611120");
        assert!(vm["properties"]["osProfile"]["computerName"].as_str().unwrap().starts_with("flex"));
    }
    // The instance view of a Flexible instance has the seed's shape.
    let first = &names(&vms)[0];
    let view_path = format!(
        "/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/{first}/instanceView"
    );
    let view = s.get(&at(&view_path)).await;
    for field in [
        "platformUpdateDomain",
        "platformFaultDomain",
        "computerName",
        "osName",
        "osVersion",
        "vmAgent",
        "disks",
        "hyperVGeneration",
        "statuses",
    ] {
        assert!(view.body.get(field).is_some(), "{field} in {}", view.body);
    }
    assert_eq!(view.body["statuses"][1]["code"], "PowerState/running");
    // The set's own list shows them too (`az vmss list-instances`).
    let listed = s.get(&at(&format!("{}/virtualMachines", set("flex")))).await;
    assert_eq!(names(listed.body["value"].as_array().unwrap()).len(), 3);

    // Scaling out makes more; scaling in removes the newest.
    let scaled =
        s.send(reqwest::Method::PATCH, &at(&set("flex")), Some(json!({ "sku": { "capacity": 4 } })), &[]).await;
    assert_eq!(scaled.status, StatusCode::OK, "{}", scaled.body);
    s.advance(60.0).await;
    let four = names(&members(&s, "flex").await);
    assert_eq!(four.len(), 4);
    let scaled =
        s.send(reqwest::Method::PATCH, &at(&set("flex")), Some(json!({ "sku": { "capacity": 2 } })), &[]).await;
    assert_eq!(scaled.status, StatusCode::OK);
    s.advance(60.0).await;
    let two = names(&members(&s, "flex").await);
    assert_eq!(two.len(), 2);
    assert!(two.iter().all(|n| four.contains(n)));
    // A member's OS disk goes with it (a Flexible set's VMs delete theirs).
    let disks =
        s.get(&with_version(&format!("/subscriptions/{SUB}/providers/Microsoft.Compute/disks"), "2023-04-02")).await;
    let owners: Vec<&str> =
        disks.body["value"].as_array().unwrap().iter().map(|d| d["managedBy"].as_str().unwrap()).collect();
    assert_eq!(owners.len(), 2, "{owners:?}");
    assert!(owners.iter().all(|o| two.iter().any(|n| o.ends_with(&format!("/virtualMachines/{n}")))));
}

#[tokio::test]
async fn set_actions_reach_flexible_members_by_name() {
    let s = TestServer::start().await;
    s.create_group(RG).await;
    s.put(&at(&set("flex")), flexible(2)).await;
    s.advance(60.0).await;
    let vms = names(&members(&s, "flex").await);
    let stop = s.post(&at(&format!("{}/powerOff", set("flex"))), Some(json!({ "instanceIds": [vms[0]] }))).await;
    assert_eq!(stop.status, StatusCode::ACCEPTED, "{}", stop.body);
    s.advance(30.0).await;
    let view = s.get(&at(&format!("{}/instanceView", set("flex")))).await;
    let summary = &view.body["virtualMachine"]["statusesSummary"];
    assert!(summary.as_array().unwrap().contains(&json!({ "code": "PowerState/stopped", "count": 1 })), "{summary}");
    let unknown =
        s.post(&at(&format!("{}/start", set("flex"))), Some(json!({ "instanceIds": ["flex_nothere"] }))).await;
    assert_eq!((unknown.status, unknown.error_code()), (StatusCode::BAD_REQUEST, "InvalidParameter"));
    let upgrade =
        s.post(&at(&format!("{}/manualupgrade", set("flex"))), Some(json!({ "instanceIds": [vms[0]] }))).await;
    assert_eq!(upgrade.status, StatusCode::CONFLICT);

    let removed = s.post(&at(&format!("{}/delete", set("flex"))), Some(json!({ "instanceIds": [vms[1]] }))).await;
    assert_eq!(removed.status, StatusCode::ACCEPTED);
    s.advance(30.0).await;
    assert_eq!(names(&members(&s, "flex").await), [vms[0].clone()]);
    assert_eq!(s.get(&at(&set("flex"))).await.body["sku"]["capacity"], 1);
}

#[tokio::test]
async fn vms_join_a_flexible_set_and_leave_with_it() {
    let s = TestServer::start().await;
    s.create_group(RG).await;
    let empty = json!({"location": "westus", "sku": {"name": "Standard_D2s_v5", "capacity": 0},
        "properties": {"orchestrationMode": "Flexible", "platformFaultDomainCount": 1}});
    let r = s.put(&at(&set("pool")), empty).await;
    assert_eq!(r.status, StatusCode::CREATED, "a Flexible set needs no profile: {}", r.body);
    s.advance(30.0).await;
    let vm = |name: &str| {
        format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/{name}")
    };
    let body = json!({ "location": "westus", "properties": {
        "hardwareProfile": { "vmSize": "Standard_B2s" },
        "storageProfile": { "imageReference": { "publisher": "Debian", "offer": "debian-12", "sku": "12-gen2", "version": "latest" } },
        "osProfile": { "adminUsername": "azureuser", "adminPassword": "Passw0rd!Passw0rd" },
        "networkProfile": { "networkInterfaces": [{ "id": "/subscriptions/x/resourceGroups/g/providers/Microsoft.Network/networkInterfaces/n" }] },
        "virtualMachineScaleSet": { "id": set("pool") } } });
    let joined = s.put(&at(&vm("joiner")), body.clone()).await;
    assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
    s.advance(30.0).await;
    assert_eq!(s.get(&at(&set("pool"))).await.body["sku"]["capacity"], 1);
    assert_eq!(names(&members(&s, "pool").await), ["joiner"]);

    let mut orphan = body.clone();
    orphan["properties"]["virtualMachineScaleSet"]["id"] = json!(set("missing"));
    assert_eq!(s.put(&at(&vm("orphan")), orphan).await.status, StatusCode::NOT_FOUND);

    let deleted = s.delete(&at(&set("pool"))).await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED);
    s.advance(30.0).await;
    assert_eq!(s.get(&at(&vm("joiner"))).await.status, StatusCode::NOT_FOUND, "the set takes its VMs");
}

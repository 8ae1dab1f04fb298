//! Compute's documents as Compute writes them: the defaults it fills into a model, ETags in the
//! body, `userData` only on `$expand`, the images it accepts without an image reference or an
//! OS profile, a model change reaching the instances as the upgrade policy says, and the
//! instance views' explicit nulls.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn body(capacity: u64, mode: &str) -> Value {
    json!({"location": "westus", "sku": {"name": "Standard_D2s_v3", "tier": "Standard", "capacity": capacity},
        "properties": {"upgradePolicy": {"mode": mode}, "virtualMachineProfile": {
            "osProfile": {"computerNamePrefix": "web", "adminUsername": "azureuser", "adminPassword": "Secret-123!"},
            "storageProfile": {"imageReference": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}},
            "userData": "RXhhbXBsZSBVc2VyRGF0YQ==",
            "licenseType": "RHEL_BYOS",
            "extensionProfile": {"extensions": [{"name": "health", "properties": {"publisher": "Microsoft.ManagedServices", "type": "ApplicationHealthLinux", "typeHandlerVersion": "1.0", "protectedSettings": {"k": "secret"}}}]},
            "networkProfile": {"networkInterfaceConfigurations": [{"name": "nic", "properties": {"primary": true,
                "ipConfigurations": [{"name": "ip", "properties": {"subnet": {"id": "/subscriptions/x/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/n/subnets/s"}}}]}}]}}}})
}

async fn create(s: &TestServer, name: &str, body: Value) -> Reply {
    s.create_group(RG).await;
    let r = s.put(&v(&set(name)), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    s.advance(60.0).await;
    r
}

#[tokio::test]
async fn a_set_shows_what_compute_fills_in_and_its_etag() {
    let s = TestServer::start().await;
    create(&s, "web", body(1, "Manual")).await;
    let got = s.get(&v(&set("web"))).await;
    let profile = &got.body["properties"]["virtualMachineProfile"];
    assert_eq!(profile["osProfile"]["secrets"], json!([]));
    assert_eq!(profile["osProfile"]["linuxConfiguration"]["disablePasswordAuthentication"], false);
    assert!(profile["osProfile"].get("adminPassword").is_none());
    let nic = &profile["networkProfile"]["networkInterfaceConfigurations"][0]["properties"];
    assert_eq!(nic["dnsSettings"], json!({ "dnsServers": [] }));
    assert_eq!(nic["enableAcceleratedNetworking"], false);
    assert_eq!(nic["ipConfigurations"][0]["properties"]["privateIPAddressVersion"], "IPv4");
    assert!(profile["timeCreated"].is_string());
    assert_eq!(got.body["etag"].as_str(), got.header("etag").as_deref(), "the body's etag is the header's");

    let instance = s.get(&v(&vm("web", "0"))).await;
    assert_eq!(instance.body["etag"].as_str(), instance.header("etag").as_deref());
    assert!(instance.body["properties"]["timeCreated"].is_string());
    assert_eq!(instance.body["properties"]["licenseType"], "RHEL_BYOS");
    let extension = &instance.body["resources"][0];
    assert_eq!(extension["name"], "health");
    assert_eq!(extension["properties"]["provisioningState"], "Succeeded");
    assert!(extension["properties"].get("protectedSettings").is_none(), "secrets are never returned");

    // Older api-versions leave out what they did not define.
    let old = s.get(&with_version(&set("web"), "2021-04-01")).await;
    assert_eq!(old.status, StatusCode::OK);
    assert!(old.body["properties"].get("timeCreated").is_none());
    assert!(old.body["properties"]["virtualMachineProfile"].get("timeCreated").is_none());
}

#[tokio::test]
async fn user_data_is_returned_only_when_expanded() {
    let s = TestServer::start().await;
    let created = create(&s, "web", body(1, "Manual")).await;
    assert!(created.body["properties"]["virtualMachineProfile"].get("userData").is_none(), "{}", created.body);
    let plain = s.get(&v(&set("web"))).await;
    assert!(plain.body["properties"]["virtualMachineProfile"].get("userData").is_none());
    let expanded = s.get(&format!("{}&$expand=userData", v(&set("web")))).await;
    assert_eq!(expanded.body["properties"]["virtualMachineProfile"]["userData"], "RXhhbXBsZSBVc2VyRGF0YQ==");

    // Its VMs inherit it from the model, shown the same way.
    let instance = s.get(&v(&vm("web", "0"))).await;
    assert!(instance.body["properties"].get("userData").is_none());
    let instance = s.get(&format!("{}&$expand=UserData", v(&vm("web", "0")))).await;
    assert_eq!(instance.body["properties"]["userData"], "RXhhbXBsZSBVc2VyRGF0YQ==");
    let listed = s.get(&v(&format!("{}/virtualMachines", set("web")))).await;
    assert!(listed.body["value"][0]["properties"].get("userData").is_none());
}

#[tokio::test]
async fn images_without_a_reference_or_an_os_profile_are_accepted() {
    let s = TestServer::start().await;
    let mut specialized = body(2, "Manual");
    let profile = &mut specialized["properties"]["virtualMachineProfile"];
    profile.as_object_mut().unwrap().remove("osProfile");
    profile["storageProfile"]["imageReference"] = json!({ "id": format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/galleries/gallery/images/specialized") });
    create(&s, "spec", specialized).await;
    let instance = s.get(&v(&vm("spec", "1"))).await;
    assert_eq!(instance.body["properties"]["osProfile"], json!({ "computerName": "spec000001" }));
    assert_eq!(instance.body["properties"]["provisioningState"], "Succeeded");

    // An OS profile is still required for a marketplace image.
    let mut no_profile = body(1, "Manual");
    no_profile["properties"]["virtualMachineProfile"].as_object_mut().unwrap().remove("osProfile");
    let refused = s.put(&v(&set("market")), no_profile).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.body["error"]["target"], "properties.virtualMachineProfile.osProfile");

    let mut unmanaged = body(1, "Manual");
    let storage = &mut unmanaged["properties"]["virtualMachineProfile"]["storageProfile"];
    storage.as_object_mut().unwrap().remove("imageReference");
    storage["osDisk"] = json!({ "createOption": "FromImage", "name": "osDisk", "caching": "ReadWrite",
        "image": { "uri": "https://store.blob.example/images/generalized.vhd" } });
    create(&s, "vhd", unmanaged).await;
    let disk = s.get(&v(&vm("vhd", "0"))).await.body["properties"]["storageProfile"]["osDisk"].clone();
    assert_eq!(disk["image"]["uri"], "https://store.blob.example/images/generalized.vhd");
    assert!(disk.get("managedDisk").is_none());
}

async fn latest(s: &TestServer, instance: &str) -> (bool, String) {
    let doc = s.get(&v(&vm("web", instance))).await.body;
    let sku = doc.pointer("/properties/storageProfile/imageReference/sku").and_then(Value::as_str).unwrap_or_default();
    (doc["properties"]["latestModelApplied"] == json!(true), sku.to_string())
}

#[tokio::test]
async fn a_model_change_reaches_the_instances_as_the_upgrade_policy_says() {
    let s = TestServer::start().await;
    create(&s, "web", body(2, "Manual")).await;
    // As `az vmss update --set` sends it: the model without its image reference, and a change.
    let mut update = s.get(&v(&set("web"))).await.body;
    update["properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"] = Value::Null;
    update["properties"]["virtualMachineProfile"]["osProfile"]["linuxConfiguration"]["disablePasswordAuthentication"] =
        json!(true);
    let updated = s.put(&v(&set("web")), update).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    let image = &updated.body["properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"];
    assert_eq!(image["sku"], "server", "the image it left out is kept");
    assert_eq!(latest(&s, "0").await, (false, "server".into()));
    assert_eq!(latest(&s, "1").await, (false, "server".into()));

    // A new image; `manualUpgrade` brings the instances it names to it.
    let mut newer = json!({ "properties": { "virtualMachineProfile": { "storageProfile": { "imageReference":
        { "publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "minimal", "version": "latest" } } } } });
    newer["location"] = json!("westus");
    let patched = s.send(Method::PATCH, &v(&set("web")), Some(newer), &[]).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    s.advance(10.0).await;
    let upgrade = s.post(&v(&format!("{}/manualupgrade", set("web"))), Some(json!({ "instanceIds": ["1"] }))).await;
    assert_eq!(upgrade.status, StatusCode::ACCEPTED, "{}", upgrade.body);
    s.advance(10.0).await;
    assert_eq!(latest(&s, "0").await, (false, "server".into()));
    assert_eq!(latest(&s, "1").await, (true, "minimal".into()));
    let only_latest = s
        .get(&format!(
            "{}&$filter=properties/latestModelApplied eq true",
            v(&format!("{}/virtualMachines", set("web")))
        ))
        .await;
    assert_eq!(only_latest.body["value"].as_array().unwrap().len(), 1);
    let missing = s.post(&v(&format!("{}/manualupgrade", set("web"))), Some(json!({}))).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);

    // An automatic policy brings every instance along at once.
    let automatic = s
        .send(
            Method::PATCH,
            &v(&set("web")),
            Some(json!({ "properties": { "upgradePolicy": { "mode": "Automatic" },
        "virtualMachineProfile": { "storageProfile": { "imageReference": { "sku": "ubuntu-pro" } } } } })),
            &[],
        )
        .await;
    assert_eq!(automatic.status, StatusCode::OK, "{}", automatic.body);
    assert_eq!(latest(&s, "0").await, (true, "ubuntu-pro".into()));
    assert_eq!(latest(&s, "1").await, (true, "ubuntu-pro".into()));
}

#[tokio::test]
async fn instance_views_carry_compute_s_explicit_nulls_and_the_set_s_summaries() {
    let s = TestServer::start().await;
    create(&s, "web", body(2, "Manual")).await;
    let view = s.get(&v(&format!("{}/instanceView", vm("web", "0")))).await.body;
    assert_eq!(view["rdpThumbPrint"], Value::Null);
    assert!(view.as_object().unwrap().contains_key("rdpThumbPrint"));
    assert!(view.as_object().unwrap().contains_key("extensions") && view["extensions"].is_null());
    assert!(view["bootDiagnostics"].is_null() && view.as_object().unwrap().contains_key("bootDiagnostics"));
    assert!(view["disks"][0].as_object().unwrap().contains_key("encryptionSettings"));
    assert!(view["vmAgent"].as_object().unwrap().contains_key("extensionHandlers"));
    let power = &view["statuses"][1];
    assert!(power.as_object().unwrap().contains_key("message") && power["message"].is_null(), "{power}");
    assert!(power["time"].is_null());

    let set_view = s.get(&v(&format!("{}/instanceView", set("web")))).await.body;
    assert_eq!(
        set_view["extensions"],
        json!([{ "name": "health", "statusesSummary": [{ "code": "ProvisioningState/succeeded", "count": 2 }] }])
    );
    assert_eq!(set_view["orchestrationServices"], json!([]));
}

#[tokio::test]
async fn a_vm_s_own_actions_boot_diagnostics_eviction_disks_and_an_approved_upgrade() {
    let s = TestServer::start().await;
    let mut spot = body(3, "Manual");
    let profile = &mut spot["properties"]["virtualMachineProfile"];
    profile["priority"] = json!("Spot");
    profile["evictionPolicy"] = json!("Deallocate");
    profile["diagnosticsProfile"] = json!({ "bootDiagnostics": { "enabled": true } });
    create(&s, "web", spot).await;
    let action = |instance: &str, name: &str| v(&format!("{}/{name}", vm("web", instance)));

    // Boot diagnostics: SAS URIs valid for the minutes asked.
    let diag =
        s.post(&format!("{}&sasUriExpirationTimeInMinutes=60", action("0", "retrieveBootDiagnosticsData")), None).await;
    assert_eq!(diag.status, StatusCode::OK, "{}", diag.body);
    assert!(diag.body["consoleScreenshotBlobUri"].as_str().unwrap().contains(".screenshot.bmp?"));
    assert!(diag.body["serialConsoleLogBlobUri"].as_str().unwrap().contains("se="));
    let bad =
        s.post(&format!("{}&sasUriExpirationTimeInMinutes=0", action("0", "retrieveBootDiagnosticsData")), None).await;
    assert_eq!((bad.status, bad.error_code()), (StatusCode::BAD_REQUEST, "InvalidParameter"));

    // A Spot VM evicted with the Deallocate policy is deallocated.
    let evicted = s.post(&action("1", "simulateEviction"), None).await;
    assert_eq!(evicted.status, StatusCode::NO_CONTENT, "{}", evicted.body);
    s.advance(30.0).await;
    let view = s.get(&v(&format!("{}/instanceView", vm("web", "1")))).await.body;
    assert_eq!(view["statuses"][1]["code"], "PowerState/deallocated");

    // Disks attached (next free LUN) and detached; the result is the storage profile.
    let disk = |n: &str| format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/disks/{n}");
    let attach = s
        .post(
            &action("2", "attachDetachDataDisks"),
            Some(
                json!({ "dataDisksToAttach": [{ "diskId": disk("data-a") }, { "diskId": disk("data-b"), "lun": 5 }] }),
            ),
        )
        .await;
    assert_eq!(attach.status, StatusCode::ACCEPTED, "{}", attach.body);
    s.advance(10.0).await;
    let result = s.get(&attach.header("location").unwrap()).await;
    let luns: Vec<u64> =
        result.body["dataDisks"].as_array().unwrap().iter().map(|d| d["lun"].as_u64().unwrap()).collect();
    assert_eq!(luns, [0, 5], "{}", result.body);
    let detach = s
        .post(
            &action("2", "attachDetachDataDisks"),
            Some(json!({ "dataDisksToDetach": [{ "diskId": disk("data-a") }] })),
        )
        .await;
    assert_eq!(detach.status, StatusCode::ACCEPTED);
    s.advance(10.0).await;
    let disks = s.get(&v(&vm("web", "2"))).await.body["properties"]["storageProfile"]["dataDisks"].clone();
    assert_eq!(disks.as_array().unwrap().len(), 1);
    assert_eq!(disks[0]["name"], "data-b");
    let view = s.get(&v(&format!("{}/instanceView", vm("web", "2")))).await.body;
    assert!(view["disks"].as_array().unwrap().iter().any(|d| d["name"] == "data-b"), "{view}");
    let unknown = s
        .post(&action("2", "attachDetachDataDisks"), Some(json!({ "dataDisksToDetach": [{ "diskId": disk("nope") }] })))
        .await;
    assert_eq!((unknown.status, unknown.error_code()), (StatusCode::BAD_REQUEST, "InvalidParameter"));
    let empty = s.post(&action("2", "attachDetachDataDisks"), Some(json!({}))).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);

    // A model change leaves the instances behind until an upgrade is approved on one.
    let patched = s.send(Method::PATCH, &v(&set("web")), Some(json!({ "properties": { "virtualMachineProfile": { "storageProfile": { "imageReference": { "sku": "minimal" } } } } })), &[]).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    s.advance(10.0).await;
    assert_eq!(s.get(&v(&vm("web", "0"))).await.body["properties"]["latestModelApplied"], false);
    let approved = s.post(&action("0", "approveRollingUpgrade"), None).await;
    assert_eq!(approved.status, StatusCode::ACCEPTED);
    s.advance(15.0).await;
    let upgraded = s.get(&v(&vm("web", "0"))).await.body;
    assert_eq!(upgraded["properties"]["latestModelApplied"], true);
    assert_eq!(upgraded["properties"]["storageProfile"]["imageReference"]["sku"], "minimal");
}

#[tokio::test]
async fn only_spot_vms_are_evicted_and_only_with_boot_diagnostics_are_they_read() {
    let s = TestServer::start().await;
    create(&s, "web", body(1, "Manual")).await;
    let refused = s.post(&v(&format!("{}/simulateEviction", vm("web", "0"))), None).await;
    assert_eq!((refused.status, refused.error_code()), (StatusCode::CONFLICT, "OperationNotAllowed"));
    let no_diag = s.post(&v(&format!("{}/retrieveBootDiagnosticsData", vm("web", "0"))), None).await;
    assert_eq!((no_diag.status, no_diag.error_code()), (StatusCode::CONFLICT, "OperationNotAllowed"));

    // With the Delete policy an evicted Spot VM is deleted and its set made smaller.
    let mut spot = body(2, "Manual");
    spot["properties"]["virtualMachineProfile"]["priority"] = json!("Spot");
    spot["properties"]["virtualMachineProfile"]["evictionPolicy"] = json!("Delete");
    create(&s, "spot", spot).await;
    let evicted = s.post(&v(&format!("{}/virtualMachines/1/simulateEviction", set("spot"))), None).await;
    assert_eq!(evicted.status, StatusCode::NO_CONTENT);
    s.advance(10.0).await;
    assert_eq!(s.get(&v(&format!("{}/virtualMachines/1", set("spot")))).await.status, StatusCode::NOT_FOUND);
    assert_eq!(s.get(&v(&set("spot"))).await.body["sku"]["capacity"], 1);
}

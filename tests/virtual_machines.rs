//! Virtual machines over HTTP: created from the catalog's images and sizes (and refused with
//! Compute's errors when they name what the catalog lacks), their power lifecycle and instance
//! view (the seed's shape, shared with scale-set VMs), their own actions, lists and deletion;
//! and the catalog itself: images, VM sizes and resource SKUs.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const VMS: &str = "2026-04-01";

fn vm_path(name: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachines/{name}")
}

fn at(path: &str) -> String {
    with_version(path, VMS)
}

fn vm_body() -> Value {
    json!({ "location": "westus", "tags": { "team": "infra" }, "properties": {
        "hardwareProfile": { "vmSize": "Standard_D2s_v5" },
        "storageProfile": {
            "imageReference": { "publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts-gen2", "version": "latest" },
            "osDisk": { "createOption": "FromImage", "deleteOption": "Delete", "managedDisk": { "storageAccountType": "Premium_LRS" } } },
        "osProfile": { "computerName": "vm1", "adminUsername": "azureuser", "adminPassword": "Passw0rd!Passw0rd" },
        "networkProfile": { "networkInterfaces": [{ "id": format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/networkInterfaces/vm1-nic") }] } } })
}

async fn created(s: &TestServer, name: &str, body: Value) -> Reply {
    s.create_group(RG).await;
    let r = s.put(&at(&vm_path(name)), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(r.header("azure-asyncoperation").is_some());
    r
}

fn codes(view: &Value) -> Vec<String> {
    view["statuses"].as_array().unwrap().iter().map(|s| s["code"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_vm_is_created_from_the_catalog_and_runs() {
    let s = TestServer::start().await;
    let r = created(&s, "vm1", vm_body()).await;
    assert_eq!(r.body["properties"]["provisioningState"], "Creating");
    assert!(r.body["properties"]["osProfile"].get("adminPassword").is_none(), "secrets are never returned");
    let image = &r.body["properties"]["storageProfile"]["imageReference"];
    assert_eq!(image["exactVersion"], "22.04.202611120", "latest resolves to the newest version");
    let os_disk = &r.body["properties"]["storageProfile"]["osDisk"];
    assert_eq!((os_disk["osType"].as_str(), os_disk["deleteOption"].as_str()), (Some("Linux"), Some("Delete")));
    assert_eq!(os_disk["diskSizeGB"], 30);
    assert!(os_disk["managedDisk"]["id"]
        .as_str()
        .unwrap()
        .contains("/providers/Microsoft.Compute/disks/vm1_OsDisk_1_"));

    let creating = s.get(&at(&format!("{}/instanceView", vm_path("vm1")))).await;
    assert_eq!(codes(&creating.body), ["ProvisioningState/creating", "PowerState/starting"]);
    s.advance(60.0).await;
    let view = s.get(&at(&format!("{}/instanceView", vm_path("vm1")))).await;
    assert_eq!(codes(&view.body), ["ProvisioningState/succeeded", "PowerState/running"]);
    assert_eq!(view.body["computerName"], "vm1");
    assert_eq!(view.body["hyperVGeneration"], "V2");
    assert_eq!(view.body["vmAgent"]["statuses"][0]["displayStatus"], "Ready");
    assert_eq!(view.body["platformFaultDomain"], 0);
    let got = s.get(&format!("{}&$expand=instanceView", at(&vm_path("vm1")))).await;
    assert_eq!(got.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(got.body["properties"]["instanceView"]["statuses"][1]["code"], "PowerState/running");
    assert_eq!(got.body["type"], "Microsoft.Compute/virtualMachines");
    assert_eq!(got.body["etag"].as_str(), got.header("etag").as_deref());
}

#[tokio::test]
async fn power_actions_walk_the_shared_lifecycle() {
    let s = TestServer::start().await;
    created(&s, "vm1", vm_body()).await;
    s.advance(60.0).await;
    let view = || async { codes(&s.get(&at(&format!("{}/instanceView", vm_path("vm1")))).await.body)[1].clone() };
    for (action, during, after) in [
        ("powerOff", "PowerState/stopping", "PowerState/stopped"),
        ("start", "PowerState/starting", "PowerState/running"),
        ("deallocate", "PowerState/deallocating", "PowerState/deallocated"),
    ] {
        let r = s.post(&at(&format!("{}/{action}", vm_path("vm1"))), None).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{action}: {}", r.body);
        assert!(r.header("location").is_some() && r.header("azure-asyncoperation").is_some());
        assert_eq!(view().await, during, "{action}");
        s.advance(30.0).await;
        assert_eq!(view().await, after, "{action}");
    }
    let refused = s.post(&at(&format!("{}/restart", vm_path("vm1"))), None).await;
    assert_eq!((refused.status, refused.error_code()), (StatusCode::CONFLICT, "OperationNotAllowed"));
    let run =
        s.post(&at(&format!("{}/runCommand", vm_path("vm1"))), Some(json!({ "commandId": "RunShellScript" }))).await;
    assert_eq!((run.status, run.error_code()), (StatusCode::CONFLICT, "OperationNotAllowed"), "the VM is deallocated");
}

#[tokio::test]
async fn guest_actions_answer_with_their_results() {
    let s = TestServer::start().await;
    created(&s, "vm1", vm_body()).await;
    s.advance(60.0).await;
    let action = |name: &str| at(&format!("{}/{name}", vm_path("vm1")));
    let result_of = |r: &Reply| {
        r.header("location")
            .unwrap()
            .split_once("127.0.0.1")
            .map(|(_, p)| p.split_once('/').unwrap().1.to_string())
            .unwrap()
    };
    let run =
        s.post(&action("runCommand"), Some(json!({ "commandId": "RunShellScript", "script": ["echo hi"] }))).await;
    assert_eq!(run.status, StatusCode::ACCEPTED, "{}", run.body);
    s.advance(60.0).await;
    let output = s.get(&format!("/{}", result_of(&run))).await;
    assert_eq!(output.status, StatusCode::OK, "{}", output.body);
    assert!(output.body["value"][0]["message"].as_str().unwrap().contains("runs nothing"));

    let assessed = s.post(&action("assessPatches"), None).await;
    assert_eq!(assessed.status, StatusCode::ACCEPTED);
    s.advance(60.0).await;
    let assessment = s.get(&format!("/{}", result_of(&assessed))).await;
    assert_eq!(
        (assessment.body["status"].as_str(), assessment.body["rebootPending"].as_bool()),
        (Some("Succeeded"), Some(false))
    );

    let missing = s.post(&action("installPatches"), Some(json!({ "rebootSetting": "IfRequired" }))).await;
    assert_eq!((missing.status, missing.error_code()), (StatusCode::BAD_REQUEST, "InvalidParameter"));
    let bad = s
        .post(
            &action("installPatches"),
            Some(json!({ "maximumDuration": "four hours", "rebootSetting": "IfRequired" })),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let installed = s
        .post(&action("installPatches"), Some(json!({ "maximumDuration": "PT2H", "rebootSetting": "IfRequired" })))
        .await;
    assert_eq!(installed.status, StatusCode::ACCEPTED, "{}", installed.body);

    let eviction = s.post(&action("simulateEviction"), None).await;
    assert_eq!(
        (eviction.status, eviction.error_code()),
        (StatusCode::CONFLICT, "OperationNotAllowed"),
        "not a Spot VM"
    );
}

#[tokio::test]
async fn a_spot_vm_is_evicted_as_its_policy_says() {
    let s = TestServer::start().await;
    let mut body = vm_body();
    body["properties"]["priority"] = json!("Spot");
    body["properties"]["evictionPolicy"] = json!("Delete");
    created(&s, "spot", body).await;
    s.advance(60.0).await;
    let evicted = s.post(&at(&format!("{}/simulateEviction", vm_path("spot"))), None).await;
    assert_eq!(evicted.status, StatusCode::NO_CONTENT);
    s.advance(30.0).await;
    assert_eq!(s.get(&at(&vm_path("spot"))).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn what_the_catalog_lacks_is_refused_as_compute_refuses_it() {
    let s = TestServer::start().await;
    s.create_group(RG).await;
    let cases: [(&str, Value, StatusCode, &str, &str); 5] = [
        (
            "/properties/hardwareProfile/vmSize",
            json!("Standard_Imaginary"),
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            "vmSize",
        ),
        (
            "/properties/storageProfile/imageReference/offer",
            json!("no-such-offer"),
            StatusCode::NOT_FOUND,
            "PlatformImageNotFound",
            "imageReference",
        ),
        (
            "/properties/storageProfile/imageReference/version",
            json!("1.2.3"),
            StatusCode::NOT_FOUND,
            "PlatformImageNotFound",
            "imageReference",
        ),
        (
            "/properties/osProfile/adminPassword",
            json!("password"),
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            "adminPassword",
        ),
        (
            "/properties/osProfile/adminUsername",
            json!("root"),
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            "adminUsername",
        ),
    ];
    for (pointer, value, status, code, target) in cases {
        let mut body = vm_body();
        *body.pointer_mut(pointer).unwrap() = value;
        let r = s.put(&at(&vm_path("bad")), body).await;
        assert_eq!((r.status, r.error_code()), (status, code), "{pointer}: {}", r.body);
        assert_eq!(r.body["error"]["target"], target, "{pointer}");
    }
    assert_eq!(s.get(&at(&vm_path("bad"))).await.status, StatusCode::NOT_FOUND, "nothing half-written");
    let mut set = json!({"location": "westus", "sku": {"name": "Standard_Nope", "capacity": 1},
        "properties": {"upgradePolicy": {"mode": "Manual"}, "virtualMachineProfile": {
            "osProfile": {"computerNamePrefix": "web", "adminUsername": "azureuser", "adminPassword": "Secret-123!"},
            "storageProfile": {"imageReference": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}},
            "networkProfile": {"networkInterfaceConfigurations": []}}}});
    let r = s.put(&v(&common::set("web")), set.clone()).await;
    assert_eq!((r.status, r.body["error"]["target"].as_str()), (StatusCode::BAD_REQUEST, Some("sku.name")));
    set["sku"]["name"] = json!("Standard_D2s_v3");
    set["properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"]["sku"] = json!("nope");
    let r = s.put(&v(&common::set("web")), set).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::NOT_FOUND, "PlatformImageNotFound"));
}

#[tokio::test]
async fn updates_keep_what_they_leave_out_and_lists_find_vms() {
    let s = TestServer::start().await;
    created(&s, "vm1", vm_body()).await;
    s.advance(60.0).await;
    let patched =
        s.send(reqwest::Method::PATCH, &at(&vm_path("vm1")), Some(json!({ "tags": { "team": "web" } })), &[]).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    s.advance(30.0).await;
    let got = s.get(&at(&vm_path("vm1"))).await;
    assert_eq!(got.body["tags"], json!({ "team": "web" }));
    assert_eq!(got.body["properties"]["hardwareProfile"]["vmSize"], "Standard_D2s_v5");
    let moved = s.put(&at(&vm_path("vm1")), json!({ "location": "eastus" })).await;
    assert_eq!((moved.status, moved.error_code()), (StatusCode::CONFLICT, "PropertyChangeNotAllowed"));
    // Still running after an update, which leaves the guest alone.
    let view = s.get(&at(&format!("{}/instanceView", vm_path("vm1")))).await;
    assert_eq!(codes(&view.body)[1], "PowerState/running");

    let all = s.get(&at(&format!("/subscriptions/{SUB}/providers/Microsoft.Compute/virtualMachines"))).await;
    assert_eq!(all.body["value"].as_array().unwrap().len(), 1);
    let statuses = s
        .get(&format!(
            "{}&statusOnly=true",
            at(&format!("/subscriptions/{SUB}/providers/Microsoft.Compute/virtualMachines"))
        ))
        .await;
    assert_eq!(statuses.body["value"][0]["properties"]["instanceView"]["statuses"][1]["code"], "PowerState/running");
    let filtered = format!(
        "{}&$filter=virtualMachineScaleSet/id eq '{}'",
        at(&format!("/subscriptions/{SUB}/providers/Microsoft.Compute/virtualMachines")),
        common::set("none")
    );
    assert_eq!(s.get(&filtered).await.body["value"], json!([]));
    let refused = s
        .get(&format!(
            "{}&$filter=name eq 'x'",
            at(&format!("/subscriptions/{SUB}/providers/Microsoft.Compute/virtualMachines"))
        ))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);

    let deleted = s.delete(&at(&vm_path("vm1"))).await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED);
    s.advance(30.0).await;
    assert_eq!(s.get(&at(&vm_path("vm1"))).await.status, StatusCode::NOT_FOUND);
}

fn catalog(path: &str) -> String {
    at(&format!("/subscriptions/{SUB}/providers/Microsoft.Compute/locations/westus{path}"))
}

#[tokio::test]
async fn the_image_catalog_lists_and_shows_images() {
    let s = TestServer::start().await;
    let publishers = s.get(&catalog("/publishers")).await;
    assert_eq!(publishers.status, StatusCode::OK);
    let names: Vec<&str> = publishers.body.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    for wanted in ["Canonical", "Debian", "MicrosoftWindowsServer", "RedHat", "SUSE"] {
        assert!(names.contains(&wanted), "{wanted} in {names:?}");
    }
    let offers = s.get(&catalog("/publishers/canonical/artifacttypes/vmimage/offers")).await;
    assert!(offers.body.as_array().unwrap().iter().any(|o| o["name"] == "ubuntu-24_04-lts"));
    let skus = s.get(&catalog("/publishers/Canonical/artifacttypes/vmimage/offers/ubuntu-24_04-lts/skus")).await;
    assert!(skus.body.as_array().unwrap().iter().any(|o| o["name"] == "server"));
    let base =
        "/publishers/Canonical/artifacttypes/vmimage/offers/0001-com-ubuntu-server-jammy/skus/22_04-lts-gen2/versions";
    let all = s.get(&catalog(base)).await;
    let versions: Vec<&str> = all.body.as_array().unwrap().iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(versions, ["22.04.202609150", "22.04.202610140", "22.04.202611120"]);
    let newest = s.get(&format!("{}&$orderby=name%20desc&$top=1&$expand=properties", catalog(base))).await;
    assert_eq!(newest.body[0]["name"], "22.04.202611120");
    assert_eq!(newest.body[0]["properties"]["hyperVGeneration"], "V2");
    let one = s.get(&catalog(&format!("{base}/22.04.202610140"))).await;
    assert_eq!(one.body["properties"]["osDiskImage"]["operatingSystem"], "Linux");
    let features: Vec<&str> =
        one.body["properties"]["features"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(
        features,
        ["SecurityType", "IsAcceleratedNetworkSupported", "DiskControllerTypes", "IsHibernateSupported"]
    );
    assert!(one.body["id"].as_str().unwrap().ends_with("/Skus/22_04-lts-gen2/Versions/22.04.202610140"));
    let missing = s.get(&catalog(&format!("{base}/0.0.1"))).await;
    assert_eq!((missing.status, missing.error_code()), (StatusCode::NOT_FOUND, "NotFound"));
    let nowhere =
        s.get(&at(&format!("/subscriptions/{SUB}/providers/Microsoft.Compute/locations/atlantis/publishers"))).await;
    assert_eq!(nowhere.status, StatusCode::BAD_REQUEST);
    let written = s.put(&catalog("/publishers"), json!({})).await;
    assert_eq!(written.status, StatusCode::METHOD_NOT_ALLOWED);
    let bad_order = s.get(&format!("{}&$orderby=size", catalog(base))).await;
    assert_eq!(bad_order.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn sizes_and_skus_describe_the_catalog_s_sizes() {
    let s = TestServer::start().await;
    let sizes = s.get(&catalog("/vmSizes")).await;
    let d2 = sizes.body["value"].as_array().unwrap().iter().find(|s| s["name"] == "Standard_D2s_v5").unwrap().clone();
    assert_eq!((d2["numberOfCores"].as_u64(), d2["memoryInMB"].as_u64()), (Some(2), Some(8192)));
    let skus = s.get(&format!("/subscriptions/{SUB}/providers/Microsoft.Compute/skus?api-version=2021-07-01&$filter=location%20eq%20'eastus'")).await;
    assert_eq!(skus.status, StatusCode::OK, "{}", skus.body);
    let value = skus.body["value"].as_array().unwrap();
    assert!(value.iter().all(|s| s["locations"] == json!(["eastus"])));
    let sku = value.iter().find(|s| s["name"] == "Standard_D2s_v5").unwrap();
    assert_eq!(sku["locationInfo"][0]["zones"], json!(["1", "2", "3"]));
    let vcpus = sku["capabilities"].as_array().unwrap().iter().find(|c| c["name"] == "vCPUs").unwrap();
    assert_eq!(vcpus["value"], "2");
    let old = s.get(&format!("/subscriptions/{SUB}/providers/Microsoft.Compute/skus?api-version={VMS}")).await;
    assert_eq!(
        (old.status, old.error_code()),
        (StatusCode::BAD_REQUEST, "NoRegisteredProviderFound"),
        "SKUs have their own api-versions"
    );
    let provider = s.get(&format!("/subscriptions/{SUB}/providers/Microsoft.Compute?api-version={RESOURCES}")).await;
    let types: Vec<&str> = provider.body["resourceTypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["resourceType"].as_str().unwrap())
        .collect();
    for wanted in ["virtualMachines", "locations/publishers", "locations/vmSizes", "skus"] {
        assert!(types.contains(&wanted), "{wanted} in {types:?}");
    }
}

#[tokio::test]
async fn a_vm_with_hibernation_enabled_hibernates() {
    let s = TestServer::start().await;
    created(&s, "plain", vm_body()).await;
    let mut body = vm_body();
    body["properties"]["additionalCapabilities"] = json!({ "hibernationEnabled": true });
    let r = s.put(&at(&vm_path("sleepy")), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    s.advance(60.0).await;
    let refused = s.post(&format!("{}&hibernate=true", at(&format!("{}/deallocate", vm_path("plain")))), None).await;
    assert_eq!((refused.status, refused.error_code()), (StatusCode::CONFLICT, "OperationNotAllowed"));
    let slept = s.post(&format!("{}&hibernate=true", at(&format!("{}/deallocate", vm_path("sleepy")))), None).await;
    assert_eq!(slept.status, StatusCode::ACCEPTED, "{}", slept.body);
    s.advance(30.0).await;
    let view = s.get(&at(&format!("{}/instanceView", vm_path("sleepy")))).await;
    assert_eq!(
        codes(&view.body),
        ["ProvisioningState/succeeded", "PowerState/deallocated", "HibernationState/Hibernated"]
    );
    s.post(&at(&format!("{}/start", vm_path("sleepy"))), None).await;
    s.advance(30.0).await;
    let view = s.get(&at(&format!("{}/instanceView", vm_path("sleepy")))).await;
    assert_eq!(codes(&view.body), ["ProvisioningState/succeeded", "PowerState/running"], "resumed");
}

fn disk_path(name: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/disks/{name}")
}

#[tokio::test]
async fn a_vm_makes_its_disks_and_its_deletion_keeps_or_deletes_them() {
    let s = TestServer::start().await;
    let mut body = vm_body();
    body["properties"]["storageProfile"]["dataDisks"] = json!([
        { "lun": 0, "createOption": "Empty", "diskSizeGB": 64, "deleteOption": "Detach" }]);
    let r = created(&s, "vm1", body).await;
    s.advance(60.0).await;
    let os_disk = r.body["properties"]["storageProfile"]["osDisk"]["name"].as_str().unwrap().to_string();
    let data_disk = r.body["properties"]["storageProfile"]["dataDisks"][0]["name"].as_str().unwrap().to_string();
    let disk = s.get(&with_version(&disk_path(&os_disk), "2023-04-02")).await;
    assert_eq!(disk.status, StatusCode::OK, "{}", disk.body);
    assert_eq!(disk.body["properties"]["diskState"], "Attached");
    assert_eq!(disk.body["managedBy"], vm_path("vm1"));
    assert_eq!(disk.body["properties"]["creationData"]["createOption"], "FromImage");
    assert!(disk.body["properties"]["creationData"]["imageReference"]["id"]
        .as_str()
        .unwrap()
        .ends_with("/Versions/22.04.202611120"));
    assert_eq!(disk.body["properties"]["tier"], "P4");
    let attached = s.delete(&with_version(&disk_path(&os_disk), "2023-04-02")).await;
    assert_eq!((attached.status, attached.error_code()), (StatusCode::CONFLICT, "OperationNotAllowed"));

    let deleted = s.delete(&at(&vm_path("vm1"))).await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED);
    s.advance(30.0).await;
    assert_eq!(
        s.get(&with_version(&disk_path(&os_disk), "2023-04-02")).await.status,
        StatusCode::NOT_FOUND,
        "deleteOption Delete"
    );
    let kept = s.get(&with_version(&disk_path(&data_disk), "2023-04-02")).await;
    assert_eq!(kept.body["properties"]["diskState"], "Unattached", "deleteOption Detach");
    assert!(kept.body.get("managedBy").is_none());
    assert_eq!(s.delete(&with_version(&disk_path(&data_disk), "2023-04-02")).await.status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn disks_are_made_read_and_refused_as_compute_does() {
    let s = TestServer::start().await;
    s.create_group(RG).await;
    let path = with_version(&disk_path("data1"), "2023-04-02");
    let made = s
        .put(
            &path,
            json!({ "location": "westus", "sku": { "name": "StandardSSD_LRS" },
        "properties": { "creationData": { "createOption": "Empty" }, "diskSizeGB": 128 } }),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    s.advance(10.0).await;
    let got = s.get(&path).await;
    assert_eq!(
        (got.body["properties"]["diskState"].as_str(), got.body["properties"]["diskSizeBytes"].as_u64()),
        (Some("Unattached"), Some(128 << 30))
    );
    let listed =
        s.get(&with_version(&format!("/subscriptions/{SUB}/providers/Microsoft.Compute/disks"), "2023-04-02")).await;
    assert_eq!(listed.body["value"].as_array().unwrap().len(), 1);
    let sizeless = s
        .put(
            &with_version(&disk_path("data2"), "2023-04-02"),
            json!({ "location": "westus",
        "properties": { "creationData": { "createOption": "Empty" } } }),
        )
        .await;
    assert_eq!(
        (sizeless.status, sizeless.body["error"]["target"].as_str()),
        (StatusCode::BAD_REQUEST, Some("diskSizeGB"))
    );
    let bad_sku = s
        .put(
            &with_version(&disk_path("data2"), "2023-04-02"),
            json!({ "location": "westus", "sku": { "name": "Gold" },
        "properties": { "creationData": { "createOption": "Empty" }, "diskSizeGB": 1 } }),
        )
        .await;
    assert_eq!(bad_sku.status, StatusCode::BAD_REQUEST);
    let accented = s.put(&with_version(&disk_path("d%C3%A9"), "2023-04-02"), json!({ "location": "westus" })).await;
    assert_eq!((accented.status, accented.error_code()), (StatusCode::BAD_REQUEST, "InvalidResourceName"));
    let old = s.get(&with_version(&disk_path("data1"), VMS)).await;
    assert_eq!(old.error_code(), "NoRegisteredProviderFound", "disks have their own api-versions");
}

#[tokio::test]
async fn a_vm_lists_the_sizes_it_can_take_and_is_resized() {
    let s = TestServer::start().await;
    created(&s, "vm1", vm_body()).await;
    s.advance(60.0).await;
    let sizes = s.get(&at(&format!("{}/vmSizes", vm_path("vm1")))).await;
    assert_eq!(sizes.status, StatusCode::OK, "{}", sizes.body);
    let names: Vec<&str> =
        sizes.body["value"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"Standard_D4s_v5"));
    assert!(!names.contains(&"Standard_D2ps_v5"), "an x64 image takes no Arm64 size");
    let resized = s
        .send(
            reqwest::Method::PATCH,
            &at(&vm_path("vm1")),
            Some(json!({ "properties": { "hardwareProfile": { "vmSize": "Standard_D4s_v5" } } })),
            &[],
        )
        .await;
    assert_eq!(resized.status, StatusCode::OK, "{}", resized.body);
    s.advance(30.0).await;
    assert_eq!(s.get(&at(&vm_path("vm1"))).await.body["properties"]["hardwareProfile"]["vmSize"], "Standard_D4s_v5");
    let refused = s
        .send(
            reqwest::Method::PATCH,
            &at(&vm_path("vm1")),
            Some(json!({ "properties": { "hardwareProfile": { "vmSize": "Standard_Huge" } } })),
            &[],
        )
        .await;
    assert_eq!((refused.status, refused.body["error"]["target"].as_str()), (StatusCode::BAD_REQUEST, Some("vmSize")));
}

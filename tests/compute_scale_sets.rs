//! Compute scale sets over HTTP on the manual clock: creation with its instances, Compute's
//! operation URLs, instance views through every power action, scaling out and in, VM deletion,
//! set-level actions, injected failures and Compute's errors.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn body(capacity: u64) -> Value {
    json!({"location": "westus", "sku": {"name": "Standard_D2s_v3", "tier": "Standard", "capacity": capacity},
        "properties": {"upgradePolicy": {"mode": "Manual"}, "virtualMachineProfile": {
            "osProfile": {"computerNamePrefix": "myvmss", "adminUsername": "azureuser", "adminPassword": "Secret-123!"},
            "storageProfile": {"imageReference": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"},
                "osDisk": {"createOption": "FromImage", "managedDisk": {"storageAccountType": "Premium_LRS"}}},
            "networkProfile": {"networkInterfaceConfigurations": [{"name": "nic", "properties": {"primary": true,
                "ipConfigurations": [{"name": "ip", "properties": {"subnet": {"id": "/subscriptions/x/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/n/subnets/s"}}}]}}]}}}})
}

async fn create(s: &TestServer, name: &str, capacity: u64) -> Reply {
    s.create_group(RG).await;
    let r = s.put(&v(&set(name)), body(capacity)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r
}

async fn view(s: &TestServer, set_name: &str, instance: &str) -> Value {
    let r = s.get(&v(&format!("{}/instanceView", vm(set_name, instance)))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

/// The two status codes of an instance view: provisioning, then power.
fn codes(view: &Value) -> (String, String) {
    let statuses = view["statuses"].as_array().unwrap();
    (statuses[0]["code"].as_str().unwrap().to_string(), statuses[1]["code"].as_str().unwrap().to_string())
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_string(), b.to_string())
}

/// The operation `accepted` started ended `Failed` with `code`.
async fn assert_failed_with(s: &TestServer, accepted: &Reply, code: &str) {
    let op = s.get(&accepted.header("azure-asyncoperation").unwrap()).await.body;
    assert_eq!((op["status"].as_str(), op["error"]["code"].as_str()), (Some("Failed"), Some(code)), "{op}");
}

async fn act(s: &TestServer, set_name: &str, instance: &str, action: &str) -> Reply {
    s.post(&v(&format!("{}/{action}", vm(set_name, instance))), None).await
}

#[tokio::test]
async fn a_set_is_created_with_its_instances_and_compute_operation_urls() {
    let s = TestServer::start().await;
    let created = create(&s, "web", 2).await;
    assert_eq!(created.body["properties"]["provisioningState"], "Creating");
    assert!(created.body["properties"]["virtualMachineProfile"]["osProfile"].get("adminPassword").is_none());
    let status_url = created.header("azure-asyncoperation").unwrap();
    assert!(status_url.contains("/providers/Microsoft.Compute/locations/westus/operations/"), "{status_url}");
    let op = s.get(&status_url).await.body;
    assert_eq!(op["status"], "InProgress");
    assert!(op.get("id").is_none() && op["name"].is_string() && op["startTime"].is_string(), "{op}");

    let list = s.get(&v(&format!("{}/virtualMachines", set("web")))).await.body;
    let vms = list["value"].as_array().unwrap();
    assert_eq!(vms.len(), 2);
    assert_eq!((vms[0]["name"].as_str(), vms[0]["instanceId"].as_str()), (Some("web_0"), Some("0")));
    assert_eq!(vms[0]["type"], "Microsoft.Compute/virtualMachines");
    assert_eq!(vms[0]["properties"]["provisioningState"], "Creating");
    assert_eq!(vms[1]["properties"]["osProfile"]["computerName"], "myvmss000001");
    assert_eq!(codes(&view(&s, "web", "0").await), pair("ProvisioningState/creating", "PowerState/starting"));

    s.advance(8.0).await;
    assert_eq!(s.get(&status_url).await.body["status"], "Succeeded");
    let got = s.get(&v(&set("web"))).await.body;
    assert_eq!(got["properties"]["provisioningState"], "Succeeded");
    let running = view(&s, "web", "1").await;
    assert_eq!(codes(&running), pair("ProvisioningState/succeeded", "PowerState/running"));
    assert_eq!(running["statuses"][1]["displayStatus"], "VM running");
    assert_eq!(running["vmAgent"]["statuses"][0]["displayStatus"], "Not Ready");
    assert_eq!((running["platformFaultDomain"].as_u64(), running["platformUpdateDomain"].as_u64()), (Some(1), Some(1)));
    assert_eq!((running["computerName"].as_str(), running["osName"].as_str()), (Some("myvmss000001"), Some("ubuntu")));
    assert!(running["disks"][0]["name"].as_str().unwrap().starts_with("web_web_1_OsDisk_1_"));
    s.advance(10.0).await;
    let ready = view(&s, "web", "1").await;
    assert_eq!(ready["vmAgent"]["statuses"][0]["displayStatus"], "Ready");
    assert_ne!(ready["vmAgent"]["vmAgentVersion"], "Unknown");

    let expanded = s.get(&format!("{}&$expand=instanceView", v(&vm("web", "0")))).await.body;
    assert_eq!(expanded["name"], "web_0");
    assert_eq!(codes(&expanded["properties"]["instanceView"]).1, "PowerState/running");
    let listed = s.get(&format!("{}&$expand=instanceView", v(&format!("{}/virtualMachines", set("web"))))).await.body;
    assert!(listed["value"][1]["properties"]["instanceView"]["statuses"].is_array(), "{listed}");
}

#[tokio::test]
async fn vm_lists_take_computes_filter_select_and_expand_and_page_with_them() {
    let s = TestServer::start().await;
    create(&s, "web", 3).await;
    s.advance(8.0).await;
    let vms = v(&format!("{}/virtualMachines", set("web")));
    let power_filter = "%24filter=startswith(instanceView%2Fstatuses%2Fcode%2C%20%27PowerState%27)%20eq%20true";
    let statuses =
        s.get(&format!("{vms}&{power_filter}&%24select=instanceView%2Fstatuses&%24expand=instanceView")).await;
    assert_eq!(statuses.status, StatusCode::OK, "{}", statuses.body);
    let listed = statuses.body["value"].as_array().unwrap();
    assert_eq!(listed.len(), 3);
    let view = listed[0]["properties"]["instanceView"].as_object().unwrap();
    assert_eq!(view.keys().collect::<Vec<_>>(), ["statuses"], "only the statuses were selected");
    let stale = s.get(&format!("{vms}&%24filter=properties%2FlatestModelApplied%20eq%20false")).await.body;
    assert!(stale["value"].as_array().unwrap().is_empty(), "{stale}");
    let bad = s.get(&format!("{vms}&%24filter=name%20eq%20%27x%27")).await;
    assert_eq!((bad.status, bad.body["error"]["target"].as_str()), (StatusCode::BAD_REQUEST, Some("$filter")));

    let first = s.get(&format!("{vms}&%24top=2&%24expand=instanceView")).await.body;
    assert_eq!(first["value"].as_array().unwrap().len(), 2);
    let next = first["nextLink"].as_str().expect("a next page");
    assert!(next.contains("%24expand=instanceView"), "{next}");
    let second = s.get(next).await.body;
    assert_eq!(second["value"].as_array().unwrap().len(), 1);
    assert!(second["value"][0]["properties"]["instanceView"].is_object());
}

#[tokio::test]
async fn vms_list_in_the_numeric_order_of_their_instance_ids_across_pages() {
    let s = TestServer::start().await;
    create(&s, "web", 12).await;
    let mut url = format!("{}&%24top=5", v(&format!("{}/virtualMachines", set("web"))));
    let mut ids = Vec::new();
    loop {
        let page = s.get(&url).await.body;
        ids.extend(page["value"].as_array().unwrap().iter().map(|vm| vm["instanceId"].as_str().unwrap().to_string()));
        match page["nextLink"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    assert_eq!(ids, (0..12).map(|i| i.to_string()).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_windows_image_makes_windows_instances() {
    let s = TestServer::start().await;
    s.create_group(RG).await;
    let mut windows = body(1);
    windows["properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"] = json!({"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer", "sku": "2022-datacenter-azure-edition", "version": "latest"});
    windows["properties"]["virtualMachineProfile"]["osProfile"]["computerNamePrefix"] = json!("win");
    assert_eq!(s.put(&v(&set("win")), windows).await.status, StatusCode::CREATED);
    s.advance(20.0).await;
    let doc = s.get(&v(&vm("win", "0"))).await.body;
    assert_eq!(doc["properties"]["storageProfile"]["osDisk"]["osType"], "Windows");
    assert_eq!(doc["properties"]["storageProfile"]["osDisk"]["diskSizeGB"], 127);
    assert!(doc["properties"]["osProfile"]["windowsConfiguration"]["provisionVMAgent"].as_bool().unwrap());
    let view = view(&s, "win", "0").await;
    assert_eq!(view["osName"], "Windows Server 2022 Datacenter");
    assert_eq!(view["vmAgent"]["vmAgentVersion"], "2.7.41491.1102");
    // A Windows computer name prefix is at most 9 characters.
    let mut long = body(1);
    long["properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"] = json!({"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer", "sku": "2022-datacenter-azure-edition", "version": "latest"});
    long["properties"]["virtualMachineProfile"]["osProfile"]["computerNamePrefix"] = json!("muchtoolongname");
    let r = s.put(&v(&set("win2")), long).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
}

#[tokio::test]
async fn power_actions_move_the_instance_view_and_refuse_what_compute_refuses() {
    let s = TestServer::start().await;
    create(&s, "web", 1).await;
    s.advance(8.0).await;

    let off = act(&s, "web", "0", "powerOff").await;
    assert_eq!(off.status, StatusCode::ACCEPTED, "{}", off.body);
    let (status_url, location) = (off.header("azure-asyncoperation").unwrap(), off.header("location").unwrap());
    assert!(location.contains("monitor=true") && location.contains("/operations/"), "{location}");
    assert_eq!(codes(&view(&s, "web", "0").await), pair("ProvisioningState/updating", "PowerState/stopping"));
    let busy = act(&s, "web", "0", "start").await;
    assert_eq!((busy.status, busy.error_code()), (StatusCode::CONFLICT, "OperationNotAllowed"), "{}", busy.body);
    assert_eq!(s.get(&location).await.status, StatusCode::ACCEPTED);
    s.advance(3.0).await;
    assert_eq!(codes(&view(&s, "web", "0").await), pair("ProvisioningState/succeeded", "PowerState/stopped"));
    // The journal follows the VM's provisioning state as it is rendered.
    let events = s.get("/_azemu/events?kind=change").await.body;
    let states: Vec<&str> = events["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resourceId"].as_str().is_some_and(|r| r.eq_ignore_ascii_case(&vm("web", "0"))))
        .filter_map(|e| e["to"].as_str())
        .collect();
    assert_eq!(states, ["present", "Creating", "Succeeded", "Updating", "Succeeded"], "{events}");
    assert_eq!(s.get(&status_url).await.body["status"], "Succeeded");
    assert!(s.get(&location).await.status.is_success());

    let restart = act(&s, "web", "0", "restart").await;
    assert_eq!((restart.status, restart.error_code()), (StatusCode::CONFLICT, "OperationNotAllowed"));
    assert!(restart.body["error"]["message"].as_str().unwrap().contains("not running"), "{}", restart.body);

    act(&s, "web", "0", "start").await;
    assert_eq!(codes(&view(&s, "web", "0").await).1, "PowerState/starting");
    s.advance(3.0).await;
    assert_eq!(codes(&view(&s, "web", "0").await).1, "PowerState/running");

    act(&s, "web", "0", "deallocate").await;
    assert_eq!(codes(&view(&s, "web", "0").await).1, "PowerState/deallocating");
    s.advance(5.0).await;
    let deallocated = view(&s, "web", "0").await;
    assert_eq!(deallocated["statuses"][1]["displayStatus"], "VM deallocated");
    assert!(deallocated.get("vmAgent").is_none(), "no agent on a deallocated VM");
    for refused in ["restart", "powerOff", "redeploy"] {
        assert_eq!(act(&s, "web", "0", refused).await.status, StatusCode::CONFLICT, "{refused}");
    }
    act(&s, "web", "0", "start").await;
    s.advance(3.0).await;
    for action in ["restart", "reimage", "reimageall", "redeploy", "performMaintenance"] {
        let r = act(&s, "web", "0", action).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{action}: {}", r.body);
        assert_eq!(codes(&view(&s, "web", "0").await).0, "ProvisioningState/updating", "{action}");
        s.advance(10.0).await;
        assert_eq!(codes(&view(&s, "web", "0").await), pair("ProvisioningState/succeeded", "PowerState/running"));
    }
    assert_eq!(
        view(&s, "web", "0").await["maintenanceRedeployStatus"]["lastOperationResultCode"],
        "MaintenanceCompleted"
    );
    // The spec spells the action paths both ways.
    assert_eq!(
        s.post(&v(&format!("{}/POWEROFF", vm("web", "0").replace("virtualMachines", "virtualmachines"))), None)
            .await
            .status,
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn scaling_adds_new_ids_and_removes_the_newest_and_ids_are_never_reused() {
    let s = TestServer::start().await;
    create(&s, "web", 2).await;
    s.advance(8.0).await;
    let ids = |list: &Value| -> Vec<String> {
        list["value"].as_array().unwrap().iter().map(|v| v["instanceId"].as_str().unwrap().to_string()).collect()
    };
    let out = s.put(&v(&set("web")), body(3)).await;
    assert_eq!((out.status, out.body["properties"]["provisioningState"].as_str()), (StatusCode::OK, Some("Updating")));
    assert_eq!(ids(&s.get(&v(&format!("{}/virtualMachines", set("web")))).await.body), ["0", "1", "2"]);
    s.advance(8.0).await;
    let scale_in = s.send(reqwest::Method::PATCH, &v(&set("web")), Some(json!({"sku": {"capacity": 2}})), &[]).await;
    assert_eq!(scale_in.status, StatusCode::OK, "{}", scale_in.body);
    assert_eq!(s.get(&v(&vm("web", "2"))).await.body["properties"]["provisioningState"], "Deleting");
    s.advance(5.0).await;
    let gone = s.get(&v(&vm("web", "2"))).await;
    assert_eq!((gone.status, gone.error_code()), (StatusCode::NOT_FOUND, "NotFound"));
    assert_eq!(gone.body["error"]["message"], "The entity was not found in this Azure location.");
    // As `az vmss scale` sends it: only location and sku; the rest of the model is kept.
    let scaled = s
        .put(
            &v(&set("web")),
            json!({"location": "westus", "sku": {"name": "Standard_D2s_v3", "tier": "Standard", "capacity": 3}}),
        )
        .await;
    assert_eq!(scaled.status, StatusCode::OK, "{}", scaled.body);
    let profile = &scaled.body["properties"]["virtualMachineProfile"];
    assert_eq!(profile["osProfile"]["computerNamePrefix"], "myvmss");
    assert_eq!(profile["storageProfile"]["imageReference"]["offer"], "ubuntu-24_04-lts");
    assert_eq!(scaled.body["properties"]["upgradePolicy"]["mode"], "Manual");
    assert_eq!(ids(&s.get(&v(&format!("{}/virtualMachines", set("web")))).await.body), ["0", "1", "3"]);
    s.advance(8.0).await;

    // Deleting one VM leaves the set one smaller.
    let deleted = s.delete(&v(&vm("web", "1"))).await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED);
    assert!(deleted.header("azure-asyncoperation").unwrap().contains("/operations/"));
    assert_eq!(codes(&view(&s, "web", "1").await).0, "ProvisioningState/deleting");
    assert_eq!(s.get(&v(&set("web"))).await.body["sku"]["capacity"], 2);
    s.advance(5.0).await;
    assert_eq!(ids(&s.get(&v(&format!("{}/virtualMachines", set("web")))).await.body), ["0", "3"]);

    // Set-level: delete instances, then deallocate the rest.
    let r = s.post(&v(&format!("{}/delete", set("web"))), Some(json!({"instanceIds": ["3"]}))).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(s.get(&v(&set("web"))).await.body["sku"]["capacity"], 1);
    let unknown = s.post(&v(&format!("{}/deallocate", set("web"))), Some(json!({"instanceIds": ["9"]}))).await;
    assert_eq!((unknown.status, unknown.error_code()), (StatusCode::BAD_REQUEST, "InvalidParameter"));
    s.advance(5.0).await;
    let all = s.post(&v(&format!("{}/deallocate", set("web"))), None).await;
    assert_eq!(all.status, StatusCode::ACCEPTED);
    s.advance(5.0).await;
    let set_view = s.get(&v(&format!("{}/instanceView", set("web")))).await.body;
    let summary = set_view["virtualMachine"]["statusesSummary"].as_array().unwrap();
    assert!(summary.contains(&json!({"code": "PowerState/deallocated", "count": 1})), "{set_view}");
    assert_eq!(set_view["statuses"][0]["code"], "ProvisioningState/succeeded");
    assert_eq!(s.get(&all.header("azure-asyncoperation").unwrap()).await.body["status"], "Succeeded");
}

#[tokio::test]
async fn an_injected_failure_shows_in_the_operation_and_the_instance_view() {
    let s = TestServer::start().await;
    create(&s, "web", 1).await;
    s.advance(8.0).await;
    s.add_fault(json!({"match": {"operation": "VirtualMachineScaleSetVMs_Deallocate"},
        "action": {"failOperation": {"code": "AllocationFailed", "message": "The host is out of capacity."}}}))
        .await;
    let r = act(&s, "web", "0", "deallocate").await;
    s.advance(5.0).await;
    assert_failed_with(&s, &r, "AllocationFailed").await;
    let failed = view(&s, "web", "0").await;
    assert_eq!(codes(&failed), pair("ProvisioningState/failed/AllocationFailed", "PowerState/running"));
    assert_eq!(
        (failed["statuses"][0]["level"].as_str(), failed["statuses"][0]["message"].as_str()),
        (Some("Error"), Some("The host is out of capacity."))
    );
    assert_eq!(s.get(&v(&vm("web", "0"))).await.body["properties"]["provisioningState"], "Failed");
    // The next action succeeds and clears it.
    act(&s, "web", "0", "restart").await;
    s.advance(4.0).await;
    assert_eq!(codes(&view(&s, "web", "0").await).0, "ProvisioningState/succeeded");
}

#[tokio::test]
async fn a_fail_step_rule_fails_only_the_instance_it_names_in_a_set_action() {
    let s = TestServer::start().await;
    create(&s, "web", 3).await;
    s.advance(8.0).await;
    let rule = s
        .add_fault(json!({"match": {"operation": "VirtualMachineScaleSets_Deallocate", "step": "instances/1"},
            "action": {"failStep": {"code": "AllocationFailed", "message": "The host is out of capacity."}}}))
        .await;
    let r = s.post(&v(&format!("{}/deallocate", set("web"))), None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    s.advance(5.0).await;
    assert_failed_with(&s, &r, "AllocationFailed").await;
    assert_eq!(
        codes(&view(&s, "web", "1").await),
        pair("ProvisioningState/failed/AllocationFailed", "PowerState/running")
    );
    for other in ["0", "2"] {
        assert_eq!(codes(&view(&s, "web", other).await), pair("ProvisioningState/succeeded", "PowerState/deallocated"));
    }
    let hits = s.get(&format!("/_azemu/faults/{}", rule["id"].as_str().unwrap())).await.body;
    assert_eq!((hits["hits"].as_u64(), hits["active"].as_bool()), (Some(1), Some(false)), "{hits}");

    // A rule naming an instance also reaches an action on that VM alone.
    s.add_fault(
        json!({"match": {"step": "2"}, "action": {"failStep": {"code": "VMStartTimedOut", "message": "Slow."}}}),
    )
    .await;
    let started = act(&s, "web", "2", "start").await;
    s.advance(3.0).await;
    assert_failed_with(&s, &started, "VMStartTimedOut").await;
    assert_eq!(
        codes(&view(&s, "web", "2").await),
        pair("ProvisioningState/failed/VMStartTimedOut", "PowerState/deallocated")
    );
}

#[tokio::test]
async fn a_fail_step_rule_on_a_new_instance_fails_the_sets_put_until_the_next_one() {
    let s = TestServer::start().await;
    s.add_fault(json!({"match": {"operation": "VirtualMachineScaleSets_CreateOrUpdate", "step": "instances/1"},
        "action": {"failStep": {"code": "OSProvisioningTimedOut", "message": "The guest did not answer."}}}))
        .await;
    let created = create(&s, "web", 2).await;
    s.advance(8.0).await;
    assert_failed_with(&s, &created, "OSProvisioningTimedOut").await;
    assert_eq!(s.get(&v(&set("web"))).await.body["properties"]["provisioningState"], "Failed");
    let failed = view(&s, "web", "1").await;
    assert_eq!(codes(&failed).0, "ProvisioningState/failed/OSProvisioningTimedOut");
    assert_eq!(failed["statuses"][0]["level"], "Error");
    assert_eq!(codes(&view(&s, "web", "0").await).0, "ProvisioningState/succeeded");

    // The rule has retired: scaling out succeeds, and the set with it.
    let r = s.put(&v(&set("web")), body(3)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    s.advance(8.0).await;
    assert_eq!(s.get(&r.header("azure-asyncoperation").unwrap()).await.body["status"], "Succeeded");
    assert_eq!(s.get(&v(&set("web"))).await.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(codes(&view(&s, "web", "2").await).0, "ProvisioningState/succeeded");

    let points = s.get("/_azemu/faults/points").await.body["value"].clone();
    let sets =
        points.as_array().unwrap().iter().find(|p| p["resourceType"] == "Microsoft.Compute/virtualMachineScaleSets");
    assert_eq!(sets.unwrap()["steps"], json!(["instances/{instanceId}"]));
}

#[tokio::test]
async fn bad_bodies_and_missing_instances_get_computes_errors_and_change_nothing() {
    let s = TestServer::start().await;
    s.create_group(RG).await;
    let mut cases = Vec::new();
    let mut b = body(2);
    b["sku"]["capacity"] = json!("two");
    cases.push((b, "sku.capacity"));
    let mut b = body(2);
    b["properties"]["virtualMachineProfile"]["osProfile"].as_object_mut().unwrap().remove("computerNamePrefix");
    cases.push((b, "properties.virtualMachineProfile.osProfile.computerNamePrefix"));
    let mut b = body(2);
    b["properties"]["upgradePolicy"]["mode"] = json!("Sometimes");
    cases.push((b, "properties.upgradePolicy.mode"));
    let mut b = body(2);
    b["sku"]["capacity"] = json!(10_001);
    cases.push((b, "sku.capacity"));
    for (bad, target) in cases {
        let r = s.put(&v(&set("bad")), bad.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
        assert_eq!(r.body["error"]["target"], target, "{}", r.body);
        assert_eq!(s.get(&v(&set("bad"))).await.status, StatusCode::NOT_FOUND);
    }
    assert!(s
        .get(&v(&format!(
            "/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachineScaleSets"
        )))
        .await
        .body["value"]
        .as_array()
        .unwrap()
        .is_empty());
    create(&s, "web", 1).await;
    let missing = s.get(&v(&vm("web", "7"))).await;
    assert_eq!((missing.status, missing.error_code()), (StatusCode::NOT_FOUND, "NotFound"));
    let missing_view = s.get(&v(&format!("{}/instanceView", vm("web", "7")))).await;
    assert_eq!(missing_view.status, StatusCode::NOT_FOUND);
    assert_eq!(act(&s, "web", "7", "start").await.status, StatusCode::NOT_FOUND);
    let no_set = s.get(&v(&format!("{}/instanceView", vm("nope", "0")))).await;
    assert_eq!(no_set.status, StatusCode::NOT_FOUND);
    let put_missing = s.put(&v(&vm("web", "7")), json!({"location": "westus"})).await;
    assert_eq!(
        (put_missing.status, put_missing.error_code()),
        (StatusCode::NOT_FOUND, "NotFound"),
        "a PUT makes no VM"
    );
    let put_creating = s.put(&v(&vm("web", "0")), json!({"location": "westus"})).await;
    assert_eq!((put_creating.status, put_creating.error_code()), (StatusCode::CONFLICT, "OperationNotAllowed"));
    let in_sub = s.get(&v(&format!("/subscriptions/{SUB}/providers/Microsoft.Compute/virtualMachineScaleSets"))).await;
    assert_eq!(in_sub.body["value"].as_array().unwrap().len(), 1, "{}", in_sub.body);
}

#[tokio::test]
async fn a_vm_put_updates_its_own_model_as_a_long_running_operation() {
    let s = TestServer::start().await;
    create(&s, "web", 3).await;
    s.advance(20.0).await;
    let current = s.get(&v(&vm("web", "2"))).await.body;
    let mut update = current.clone();
    update["tags"] = json!({"role": "canary"});
    update["properties"]["protectionPolicy"] = json!({"protectFromScaleIn": true});
    update["properties"]["userData"] = json!("aGVsbG8=");
    update["properties"]["vmId"] = json!("not-changeable");
    let accepted = s.put(&v(&vm("web", "2")), update).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    let operation = accepted.header("azure-asyncoperation").expect("an LRO");
    assert!(operation.contains("/providers/Microsoft.Compute/locations/westus/operations/"), "{operation}");
    assert_eq!(accepted.body["properties"]["provisioningState"], "Updating");
    let during = view(&s, "web", "2").await;
    assert_eq!(codes(&during), pair("ProvisioningState/updating", "PowerState/running"));
    assert_eq!(during["vmAgent"]["statuses"][0]["displayStatus"], "Ready", "an update leaves the guest running");
    let busy = s.put(&v(&vm("web", "2")), json!({"tags": {}})).await;
    assert_eq!((busy.status, busy.error_code()), (StatusCode::CONFLICT, "OperationNotAllowed"));

    s.advance(2.0).await;
    assert_eq!(s.get(&operation).await.body["status"], "Succeeded");
    let updated = s.get(&v(&vm("web", "2"))).await.body;
    assert_eq!(updated["tags"], json!({"role": "canary"}));
    assert_eq!(updated["properties"]["protectionPolicy"]["protectFromScaleIn"], true);
    assert_eq!(updated["properties"]["vmId"], current["properties"]["vmId"], "read-only fields are ignored");
    assert_eq!(updated["properties"]["provisioningState"], "Succeeded");
    assert_eq!(codes(&view(&s, "web", "2").await).0, "ProvisioningState/succeeded");

    for (bad, target) in [
        (json!({"tags": {"n": 1}}), "tags"),
        (
            json!({"properties": {"protectionPolicy": {"protectFromScaleIn": "yes"}}}),
            "properties.protectionPolicy.protectFromScaleIn",
        ),
        (json!({"properties": {"userData": "%%%"}}), "properties.userData"),
    ] {
        let r = s.put(&v(&vm("web", "1")), bad).await;
        assert_eq!(
            (r.status, r.body["error"]["target"].as_str()),
            (StatusCode::BAD_REQUEST, Some(target)),
            "{}",
            r.body
        );
    }
    let moved = s.put(&v(&vm("web", "1")), json!({"location": "eastus"})).await;
    assert_eq!((moved.status, moved.error_code()), (StatusCode::CONFLICT, "PropertyChangeNotAllowed"));
    assert_eq!(s.get(&v(&vm("web", "1"))).await.body["tags"], current["tags"], "nothing changed");

    // Scale-in passes over the protected instance: 1 goes, 0 and 2 stay.
    let mut smaller = body(2);
    smaller["sku"]["capacity"] = json!(2);
    assert!(s.put(&v(&set("web")), smaller).await.status.is_success());
    s.advance(10.0).await;
    let left = s.get(&v(&format!("{}/virtualMachines", set("web")))).await.body;
    let ids: Vec<&str> =
        left["value"].as_array().unwrap().iter().map(|vm| vm["instanceId"].as_str().unwrap()).collect();
    assert_eq!(ids, ["0", "2"]);

    s.add_fault(json!({"match": {"operation": "VirtualMachineScaleSetVMs_Update"},
        "action": {"failOperation": {"code": "OSProvisioningTimedOut", "message": "The guest did not answer."}}}))
        .await;
    let failing = s.put(&v(&vm("web", "0")), json!({"tags": {"x": "y"}})).await;
    s.advance(2.0).await;
    assert_failed_with(&s, &failing, "OSProvisioningTimedOut").await;
    assert_eq!(codes(&view(&s, "web", "0").await).0, "ProvisioningState/failed/OSProvisioningTimedOut");
}

//! Conformance with the public examples of every served api-version: each example's request is
//! sent to a fresh azemu (its parents made first, its target too when the example reads one),
//! and its answer is checked for a status the example lists and for the example's shape. The
//! figures per family are printed; the test fails when an example is answered with a status
//! the example does not list, or when fewer examples are in shape than the project has reached.

#[path = "../common/mod.rs"]
mod common;
mod examples;
mod shape;

use common::*;
use examples::Example;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const HCI_DEVICE_VERSION: &str = "2024-09-01-preview";
const HCI_VERSION: &str = "2024-04-01";
const COMPUTE_VERSION: &str = "2024-07-01";

/// How many examples of each family azemu answers in their full shape; raise these as fidelity
/// grows, never lower them.
const IN_SHAPE_AT_LEAST: &[(&str, usize)] = &[("HCI", 38), ("Compute", 36)];

/// A path parameter's value as a URL carries it: the examples' placeholders (`{vmss-name}`,
/// `{subscription-id}`) made into names.
fn path_value(name: &str, value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if name == "subscriptionId" && uuid::Uuid::try_parse(&text).is_err() {
        return SUB.to_string();
    }
    if name == "resourceUri" {
        return text.trim_start_matches('/').to_string();
    }
    // Compute numbers instances `0`, `1`, …; an example's `aaaa…` or `0123` names none it could have.
    if name == "instanceId" && text.parse::<u64>().ok().is_none_or(|n| n.to_string() != text) {
        return "0".into();
    }
    let cleaned: String = text.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect();
    if cleaned.is_empty() {
        "example".into()
    } else {
        cleaned
    }
}

/// The example's request path (without the query).
fn request_path(ex: &Example) -> Option<String> {
    let mut path = ex.template.clone();
    while let Some(start) = path.find('{') {
        let end = start + path[start..].find('}')?;
        let name = path[start + 1..end].to_string();
        let value = ex.parameters.get(&name)?;
        path.replace_range(start..=end, &path_value(&name, value));
    }
    Some(path)
}

fn query(ex: &Example) -> String {
    let version = ex.parameters["api-version"].as_str().unwrap_or(&ex.version).to_string();
    let mut query = format!("api-version={version}");
    for name in ex.query.iter().filter(|q| *q != "api-version") {
        let value = ex.parameters.get(name).or_else(|| ex.parameters.get(name.trim_start_matches('$')));
        if let Some(value) = value {
            let text = value.as_str().map_or_else(|| value.to_string(), str::to_string);
            // The generated examples fill options with `aaaa…`, which no service accepts.
            if !text.is_empty() && text.chars().all(|c| c == 'a') {
                continue;
            }
            query.push_str(&format!("&{name}={text}"));
        }
    }
    query
}

/// What a resource of each served collection is made with when an example needs one (a scale
/// set's instances are Spot VMs when the example evicts one).
fn default_body(collection: &str, instances: u64, spot: bool) -> Option<(Value, &'static str)> {
    Some(match collection {
        "clusters" => (json!({ "location": "eastus" }), HCI_VERSION),
        "updates" => (
            json!({ "properties": { "state": "Ready", "version": "10.2405.0.23", "packageType": "Solution", "displayName": "Example update" } }),
            HCI_VERSION,
        ),
        "updateRuns" => (json!({ "properties": { "state": "Succeeded" } }), HCI_VERSION),
        "edgeDevices" => (device_body(), HCI_DEVICE_VERSION),
        "jobs" => (collect_log_body(), HCI_DEVICE_VERSION),
        "virtualMachineScaleSets" => (
            with_priority(
                json!({"location": "westus", "sku": {"name": "Standard_D2s_v3", "tier": "Standard", "capacity": instances},
                "properties": {"upgradePolicy": {"mode": "Manual"}, "virtualMachineProfile": {
                    "osProfile": {"computerNamePrefix": "example", "adminUsername": "azureuser", "adminPassword": "Secret-123!"},
                    "storageProfile": {"imageReference": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}},
                    "diagnosticsProfile": {"bootDiagnostics": {"enabled": true}},
                    "extensionProfile": {"extensions": [{"name": "health", "properties": {"publisher": "Microsoft.ManagedServices", "type": "ApplicationHealthLinux", "typeHandlerVersion": "1.0"}}]},
                    "networkProfile": {"networkInterfaceConfigurations": [{"name": "nic", "properties": {"primary": true}}]}},
                    "automaticRepairsPolicy": {"enabled": true, "gracePeriod": "PT30M"}}}),
                spot,
            ),
            COMPUTE_VERSION,
        ),
        _ => return None,
    })
}

fn with_priority(mut set: Value, spot: bool) -> Value {
    if spot {
        let profile = &mut set["properties"]["virtualMachineProfile"];
        profile["priority"] = json!("Spot");
        profile["evictionPolicy"] = json!("Deallocate");
    }
    set
}

/// Makes the resource at `id` (of `collection`) unless it exists, from `body` when it is
/// accepted, else from the collection's default.
async fn ensure(s: &TestServer, id: &str, collection: &str, body: Option<(&Value, &str)>, instances: u64, spot: bool) {
    let Some((default, default_version)) = default_body(collection, instances, spot) else { return };
    if s.get(&with_version(id, default_version)).await.status == StatusCode::OK {
        return;
    }
    if let Some((body, version)) = body {
        if s.put(&with_version(id, version), body.clone()).await.status.is_success() {
            s.advance(120.0).await;
            return;
        }
    }
    let made = s.put(&with_version(id, default_version), default).await;
    assert!(made.status.is_success(), "making {id}: {} {}", made.status, made.body);
    s.advance(120.0).await;
}

/// Makes what the example's request needs: its resource group, its parents, and the resource
/// it reads or acts on (or one item of the collection it lists).
async fn prepare(s: &TestServer, ex: &Example, path: &str) {
    let segments: Vec<&str> = path.split('/').collect();
    if let Some(i) = segments.iter().position(|s| s.eq_ignore_ascii_case("resourceGroups")) {
        if segments.len() > i + 1 {
            let id = segments[..=i + 1].join("/");
            s.put(&with_version(&id, RESOURCES), json!({ "location": "eastus" })).await;
        }
    }
    let instance = ex.parameters.get("instanceId").map(|i| path_value("instanceId", i));
    let instances = instance.and_then(|i| i.parse::<u64>().ok()).map_or(2, |i| i + 1);
    let template_ends_in_name = ex.template.ends_with('}') || ex.template.ends_with("/default");
    let last = segments.len() - 1;
    // The resource the request addresses: itself, or the one its last segment acts on or views.
    let target_end = if template_ends_in_name {
        Some(last)
    } else if last >= 2 {
        Some(last - 1)
    } else {
        None
    };
    let example_body = ex.responses["200"]["body"].clone();
    // Each served collection segment followed by a name is a resource to make.
    for (i, collection) in segments.iter().enumerate().take(last) {
        let name_at = i + 1;
        if default_body(collection, instances, false).is_none() {
            continue;
        }
        let id = segments[..=name_at].join("/");
        let is_target = Some(name_at) == target_end;
        if is_target && ex.method == Method::PUT {
            continue;
        }
        // The example's own reading of the resource is the best body to make it with.
        let body = (is_target && ex.method == Method::GET && template_ends_in_name)
            .then_some(&example_body)
            .filter(|b| b.is_object());
        let spot = ex.template.ends_with("/simulateEviction");
        ensure(s, &id, collection, body.map(|b| (b, ex.version.as_str())), instances, spot).await;
    }
    // A list shows one item made from the example's first.
    if !template_ends_in_name && ex.method == Method::GET {
        let collection = segments[last];
        if let Some(first) = example_body["value"].as_array().and_then(|v| v.first()) {
            let name = first["name"].as_str().and_then(|n| n.rsplit('/').next()).map(|n| path_value("name", &json!(n)));
            if let Some(name) = name {
                let id = format!("{path}/{name}");
                ensure(s, &id, collection, Some((first, ex.version.as_str())), instances, false).await;
            }
        }
    }
}

struct Outcome {
    status_ok: bool,
    missing: Vec<String>,
    detail: String,
}

/// A scale set whose instances look like the example's VM: its image, disks, OS, network and
/// other settings as the model they were made from.
fn set_like(vm: &Value) -> Option<Value> {
    let props = vm.get("properties")?;
    let storage = &props["storageProfile"];
    let mut image = storage["imageReference"].clone();
    if let Some(fields) = image.as_object_mut() {
        fields.remove("exactVersion");
    }
    let data_disks: Vec<Value> = storage["dataDisks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            json!({ "lun": d["lun"], "createOption": "Empty", "caching": d["caching"], "diskSizeGB": d["diskSizeGB"],
            "managedDisk": { "storageAccountType": d["managedDisk"]["storageAccountType"] } })
        })
        .collect();
    let os = &props["osProfile"];
    let computer = os["computerName"].as_str().unwrap_or("example000000");
    let mut os_profile = json!({ "computerNamePrefix": &computer[..computer.len().saturating_sub(6).max(1)],
        "adminUsername": os.get("adminUsername").cloned().unwrap_or(json!("azureuser")), "adminPassword": "Secret-123!" });
    // A VM has one OS; an example showing both configurations (a generated one) is read by its disk's.
    let windows = storage["osDisk"]["osType"] == "Windows";
    let config = if windows { "windowsConfiguration" } else { "linuxConfiguration" };
    if let Some(value) = os.get(config) {
        os_profile[config] = value.clone();
    }
    let mut profile = json!({
        "storageProfile": { "imageReference": image, "osDisk": { "createOption": "FromImage", "caching": storage["osDisk"]["caching"],
            "managedDisk": { "storageAccountType": storage["osDisk"]["managedDisk"]["storageAccountType"] } }, "dataDisks": data_disks },
        "osProfile": os_profile,
        "networkProfile": props["networkProfileConfiguration"].clone(),
    });
    for field in ["diagnosticsProfile", "userData", "hardwareProfile", "licenseType"] {
        if let Some(value) = props.get(field) {
            profile[field] = value.clone();
        }
    }
    let extensions: Vec<Value> = vm["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let p = &r["properties"];
            json!({ "name": r["name"], "properties": { "publisher": p["publisher"], "type": p["type"],
                "typeHandlerVersion": p["typeHandlerVersion"], "autoUpgradeMinorVersion": p["autoUpgradeMinorVersion"], "settings": p["settings"] } })
        })
        .collect();
    if !extensions.is_empty() {
        profile["extensionProfile"] = json!({ "extensions": extensions });
    }
    Some(json!({ "location": vm["location"], "tags": vm.get("tags").cloned().unwrap_or(json!({})),
        "sku": { "name": vm["sku"]["name"].as_str().unwrap_or("Standard_D2s_v3"), "capacity": 1 },
        "properties": { "upgradePolicy": { "mode": "Manual" }, "virtualMachineProfile": profile } }))
}

/// Request bodies name other resources the example takes to exist (an edge device validated
/// with its peers); those are made first.
/// The validate example's peer ids lack the `providers/Microsoft.AzureStackHCI` segment of an
/// edge device's id (judged a mistake of the example), so they are given it. Disks an example
/// detaches are attached first.
async fn make_named(s: &TestServer, path: &str, query: &str, body: &mut Option<Value>) {
    let detached = body.as_ref().and_then(|b| b["dataDisksToDetach"].as_array()).cloned().unwrap_or_default();
    if !detached.is_empty() {
        let attach: Vec<Value> = detached.iter().map(|d| json!({ "diskId": d["diskId"] })).collect();
        let r = s.post(&format!("{path}?{query}"), Some(json!({ "dataDisksToAttach": attach }))).await;
        assert!(r.status.is_success(), "attaching the disks to detach: {}", r.body);
        s.advance(30.0).await;
    }
    let ids = body.as_mut().and_then(|b| b.get_mut("edgeDeviceIds")).and_then(Value::as_array_mut);
    for id in ids.into_iter().flatten() {
        let Some(text) = id.as_str() else { continue };
        let fixed = if text.contains("/providers/Microsoft.AzureStackHCI/") {
            text.to_string()
        } else {
            text.replacen("/edgeDevices/", "/providers/Microsoft.AzureStackHCI/edgeDevices/", 1)
        };
        ensure(s, &fixed, "edgeDevices", None, 1, false).await;
        *id = json!(fixed);
    }
}

/// Instance ids in a body that name no instance Compute could have (`aaaa…`) are instance 0.
fn numbered_instances(body: &mut Option<Value>) {
    if let Some(ids) = body.as_mut().and_then(|b| b.get_mut("instanceIds")).and_then(Value::as_array_mut) {
        for id in ids.iter_mut() {
            if id.as_str().is_some_and(|i| i.parse::<u64>().is_err() && i != "*") {
                *id = json!("0");
            }
        }
    }
}

async fn run(ex: &Example) -> Outcome {
    let s = TestServer::start().await;
    let Some(path) = request_path(ex) else {
        return Outcome { status_ok: false, missing: vec![], detail: "a path parameter is missing".into() };
    };
    // A scale-set VM that an example reads, lists or updates comes from a set modelled on it.
    let sent = ex.body.as_ref().and_then(|name| ex.parameters.get(name));
    let shown_vm = match (ex.template.rsplit('/').next(), &ex.method) {
        (Some("{instanceId}"), &Method::PUT) => sent,
        (Some("{instanceId}"), _) => Some(&ex.responses["200"]["body"]),
        (Some("virtualMachines"), _) => ex.responses["200"]["body"]["value"].get(0),
        _ => None,
    };
    let reads_vm = matches!(ex.method, Method::GET | Method::PUT) && ex.template.contains("/virtualMachineScaleSets/");
    if let (true, Some(set)) = (reads_vm, shown_vm.and_then(set_like)) {
        let set_id = &path[..path.find("/virtualMachines").unwrap_or(path.len())];
        let group = &set_id[..set_id.find("/providers/").unwrap_or(set_id.len())];
        s.put(&with_version(group, RESOURCES), json!({ "location": "eastus" })).await;
        let made = s.put(&with_version(set_id, COMPUTE_VERSION), set).await;
        if !made.status.is_success() {
            println!("could not model a set on {}: {}", ex.file, made.body);
        }
        s.advance(120.0).await;
    }
    prepare(&s, ex, &path).await;
    let mut body = ex.body.as_ref().and_then(|name| ex.parameters.get(name)).cloned();
    numbered_instances(&mut body);
    make_named(&s, &path, &query(ex), &mut body).await;
    let reply = s.send(ex.method.clone(), &format!("{path}?{}", query(ex)), body, &[]).await;
    let listed: Vec<u16> =
        ex.responses.as_object().into_iter().flatten().filter_map(|(code, _)| code.parse().ok()).collect();
    let status_ok = listed.contains(&reply.status.as_u16());
    // The example's answer of the same status, or, for a status it does not list, its success.
    let expected = if status_ok {
        ex.responses[reply.status.as_u16().to_string()].get("body")
    } else {
        listed.iter().filter(|c| **c < 300).find_map(|c| ex.responses[c.to_string()].get("body"))
    };
    let missing = match expected {
        Some(_) if reply.body.is_null() => vec!["(no body)".to_string()],
        Some(want) => shape::missing(want, &reply.body),
        None => vec![],
    };
    let detail = if status_ok { String::new() } else { format!("{} {}", reply.status, reply.body) };
    Outcome { status_ok, missing, detail }
}

#[tokio::test]
async fn every_example_is_answered_in_its_shape() {
    if !examples::specs_dir().exists() {
        eprintln!("conformance: skipped, no specs at {}", examples::specs_dir().display());
        return;
    }
    let all = examples::all();
    assert!(all.len() > 50, "the specs' examples are found ({} of them)", all.len());
    let mut tally: std::collections::BTreeMap<&str, (usize, usize, usize)> = Default::default();
    let mut wrong_status = Vec::new();
    for ex in &all {
        let outcome = run(ex).await;
        let entry = tally.entry(ex.family).or_default();
        entry.0 += 1;
        if outcome.status_ok {
            entry.1 += 1;
        } else {
            wrong_status.push(format!("{} {} ({}): {}", ex.method, ex.file, ex.version, outcome.detail));
        }
        if outcome.status_ok && outcome.missing.is_empty() {
            entry.2 += 1;
        } else if !outcome.missing.is_empty() {
            let shown: Vec<&str> = outcome.missing.iter().take(6).map(String::as_str).collect();
            println!("not in shape: {} {}: {}", ex.method, ex.file, shown.join(", "));
        }
    }
    println!("conformance with the specs' examples:");
    for (family, (total, status, shaped)) in &tally {
        println!("  {family}: {total} examples, {status} answered with a listed status, {shaped} in full shape");
    }
    assert!(wrong_status.is_empty(), "answered with a status the example does not list:\n{}", wrong_status.join("\n"));
    for (family, at_least) in IN_SHAPE_AT_LEAST {
        let shaped = tally.get(family).map_or(0, |t| t.2);
        assert!(shaped >= *at_least, "{family}: {shaped} examples in shape, fewer than the {at_least} reached before");
    }
}

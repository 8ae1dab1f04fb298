//! Template deployments: each planned resource goes through the ARM layer as a client's request
//! does, in dependency order, and the deployment reports it as ARM does.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn deployment(name: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Resources/deployments/{name}")
}

/// Networks in a copy loop, a scale set that waits for the first of them, outputs that read both.
fn template() -> Value {
    json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {
            "prefix": { "type": "string", "defaultValue": "web" },
            "count": { "type": "int", "allowedValues": [1, 2, 3] },
            "password": { "type": "secureString" }
        },
        "functions": [{ "namespace": "azemu", "members": { "setName": {
            "parameters": [{ "name": "prefix", "type": "string" }],
            "output": { "type": "string", "value": "[concat(parameters('prefix'), '-vmss')]" } } } }],
        "variables": { "setName": "[azemu.setName(parameters('prefix'))]" },
        "resources": [
            {
                "type": "Microsoft.Network/virtualNetworks", "apiVersion": "2022-01-01",
                "name": "[concat(parameters('prefix'), '-vnet', copyIndex())]",
                "location": "[resourceGroup().location]",
                "copy": { "name": "nets", "count": "[parameters('count')]" },
                "properties": { "addressSpace": { "addressPrefixes": ["[format('10.{0}.0.0/16', copyIndex())]"] } }
            },
            {
                "type": "Microsoft.Compute/virtualMachineScaleSets", "apiVersion": "2024-07-01",
                "name": "[variables('setName')]",
                "location": "[resourceGroup().location]",
                "dependsOn": ["nets"],
                "sku": { "name": "Standard_D2s_v3", "tier": "Standard", "capacity": 2 },
                "properties": {
                    "upgradePolicy": { "mode": "Manual" },
                    "virtualMachineProfile": {
                        "osProfile": { "computerNamePrefix": "vm", "adminUsername": "azureuser", "adminPassword": "[parameters('password')]" },
                        "storageProfile": { "imageReference": { "publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest" } },
                        "networkProfile": { "networkInterfaceConfigurations": [] }
                    }
                }
            }
        ],
        "outputs": {
            "setId": { "type": "string", "value": "[resourceId('Microsoft.Compute/virtualMachineScaleSets', variables('setName'))]" },
            "firstPrefix": { "type": "array", "value": "[reference(concat(parameters('prefix'), '-vnet0')).addressSpace.addressPrefixes]" }
        }
    })
}

fn body(template: Value, parameters: Value) -> Value {
    json!({ "properties": { "template": template, "parameters": parameters, "mode": "Incremental" } })
}

/// Polls the deployment (advancing the manual clock) until it ends.
async fn settle(s: &TestServer, name: &str) -> Reply {
    for _ in 0..400 {
        let r = s.get(&with_version(&deployment(name), RESOURCES)).await;
        let state = r.body["properties"]["provisioningState"].as_str().unwrap_or_default().to_string();
        if ["Succeeded", "Failed", "Canceled"].contains(&state.as_str()) {
            return r;
        }
        s.advance(5.0).await;
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("deployment {name} did not end");
}

#[tokio::test]
async fn a_template_deploys_its_resources_in_order_and_reports_them() {
    let s = TestServer::start().await;
    s.create_group(RG).await;
    let parameters = json!({ "count": { "value": "2" }, "password": { "value": "Secret-123!" } });
    let put = s.put(&with_version(&deployment("main"), RESOURCES), body(template(), parameters)).await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.body);
    assert!(put.header("azure-asyncoperation").is_some());
    assert_eq!(put.body["properties"]["provisioningState"], "Accepted");
    assert_eq!(
        put.body["properties"]["parameters"]["password"],
        json!({ "type": "SecureString" }),
        "secure values are not echoed"
    );
    assert_eq!(put.body["properties"]["parameters"]["count"], json!({ "type": "Int", "value": 2 }));

    let done = settle(&s, "main").await;
    let props = &done.body["properties"];
    assert_eq!(props["provisioningState"], "Succeeded", "{}", done.body);
    let set_id = format!(
        "/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachineScaleSets/web-vmss"
    );
    assert_eq!(props["outputs"]["setId"], json!({ "type": "String", "value": set_id }));
    assert_eq!(props["outputs"]["firstPrefix"]["value"], json!(["10.0.0.0/16"]));
    assert_eq!(props["outputResources"].as_array().unwrap().len(), 3);
    let depends = props["dependencies"].as_array().unwrap();
    assert_eq!(depends.len(), 1);
    assert_eq!(depends[0]["resourceName"], "web-vmss");
    assert_eq!(depends[0]["dependsOn"].as_array().unwrap().len(), 2);
    assert!(props["duration"].as_str().unwrap().starts_with("PT"));
    assert!(props["correlationId"].is_string());

    // Each resource went through the ARM entry (journaled with the deployment's correlation id),
    // the scale set only after both networks.
    let journal = s.get("/_azemu/events?kind=request").await;
    let puts: Vec<String> = journal.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["method"] == "PUT" && e["correlationId"] == props["correlationId"])
        .map(|e| e["path"].as_str().unwrap().rsplit('/').next().unwrap().to_string())
        .collect();
    assert_eq!(puts.len(), 3, "{puts:?}");
    assert_eq!(puts[2], "web-vmss", "{puts:?}");

    // The scale set is a real one: its instances exist.
    let vms = s.get(&with_version(&format!("{set_id}/virtualMachines"), COMPUTE)).await;
    assert_eq!(vms.body["value"].as_array().unwrap().len(), 2, "{}", vms.body);
    let net = s
        .get(&with_version(
            &format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/virtualNetworks/web-vnet1"),
            "2022-01-01",
        ))
        .await;
    assert_eq!(net.body["properties"]["addressSpace"]["addressPrefixes"], json!(["10.1.0.0/16"]));

    // One operation per resource, at both path forms.
    for path in [
        format!("{}/operations", deployment("main")),
        format!("/subscriptions/{SUB}/resourcegroups/{RG}/deployments/main/operations"),
    ] {
        let ops = s.get(&with_version(&path, RESOURCES)).await;
        assert_eq!(ops.status, StatusCode::OK, "{path}: {}", ops.body);
        let ops = ops.body["value"].as_array().unwrap().clone();
        assert_eq!(ops.len(), 3, "{path}");
        for op in &ops {
            assert_eq!(op["properties"]["provisioningState"], "Succeeded");
            assert_eq!(op["properties"]["provisioningOperation"], "Create");
            assert!(op["properties"]["statusCode"] == "Created" || op["properties"]["statusCode"] == "OK");
            assert!(op["properties"]["targetResource"]["id"].is_string());
        }
        let one_path = with_version(&format!("{path}/{}", ops[0]["operationId"].as_str().unwrap()), RESOURCES);
        assert_eq!(s.get(&one_path).await.status, StatusCode::OK);
        for method in [Method::PUT, Method::DELETE, Method::PATCH] {
            let refused = s.send(method.clone(), &one_path, Some(json!({})), &[]).await;
            assert_eq!(
                (refused.status, refused.error_code()),
                (StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed"),
                "{method}"
            );
        }
    }

    let exported = s.post(&with_version(&format!("{}/exportTemplate", deployment("main")), RESOURCES), None).await;
    assert_eq!(exported.body["template"], template());
    let listed = s
        .get(&format!(
            "{}?api-version={RESOURCES}&$filter=provisioningState%20eq%20'Succeeded'",
            deployment("").trim_end_matches('/')
        ))
        .await;
    assert_eq!(listed.body["value"].as_array().map(Vec::len), Some(1), "{}", listed.body);
    let none = s
        .get(&format!(
            "{}?api-version={RESOURCES}&$filter=provisioningState%20eq%20'Failed'",
            deployment("").trim_end_matches('/')
        ))
        .await;
    assert_eq!(none.body["value"], json!([]));
    let resources =
        s.get(&with_version(&format!("/subscriptions/{SUB}/resourceGroups/{RG}/resources"), RESOURCES)).await;
    assert_eq!(resources.body["value"].as_array().unwrap().len(), 3, "deployments are not listed as resources");
}

#[tokio::test]
async fn bad_templates_and_parameters_are_refused_before_anything_is_written() {
    let s = TestServer::start().await;
    s.create_group(RG).await;
    let cases = [
        (json!({ "count": { "value": 5 }, "password": { "value": "x" } }), "InvalidTemplateDeployment"),
        (json!({ "password": { "value": "x" } }), "InvalidTemplateDeployment"),
        (
            json!({ "count": { "value": 1 }, "password": { "value": "x" }, "extra": { "value": 1 } }),
            "InvalidTemplateDeployment",
        ),
    ];
    for (parameters, code) in cases {
        let put = s.put(&with_version(&deployment("bad"), RESOURCES), body(template(), parameters.clone())).await;
        assert_eq!((put.status, put.error_code()), (StatusCode::BAD_REQUEST, code), "{parameters}: {}", put.body);
        let validated = s
            .post(
                &with_version(&format!("{}/validate", deployment("bad")), RESOURCES),
                Some(body(template(), parameters)),
            )
            .await;
        assert_eq!((validated.status, validated.error_code()), (StatusCode::BAD_REQUEST, code));
    }
    let mut circular = template();
    circular["resources"][0]["dependsOn"] = json!(["[variables('setName')]"]);
    let put = s
        .put(
            &with_version(&deployment("bad"), RESOURCES),
            body(circular, json!({ "count": { "value": 1 }, "password": { "value": "x" } })),
        )
        .await;
    assert_eq!(put.error_code(), "InvalidTemplateDeployment", "{}", put.body);
    let mut broken = template();
    broken["variables"]["setName"] = json!("[concat(parameters('prefix')]");
    let put = s
        .put(
            &with_version(&deployment("bad"), RESOURCES),
            body(broken, json!({ "count": { "value": 1 }, "password": { "value": "x" } })),
        )
        .await;
    assert_eq!(put.error_code(), "InvalidTemplate", "{}", put.body);
    let message = put.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("'[concat(parameters('prefix')]' at line '1' and column '"), "{message}");
    assert_eq!(s.get(&with_version(&deployment("bad"), RESOURCES)).await.error_code(), "DeploymentNotFound");

    let ok = s
        .post(
            &with_version(&format!("{}/validate", deployment("good")), RESOURCES),
            Some(body(template(), json!({ "count": { "value": 1 }, "password": { "value": "x" } }))),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(ok.body["properties"]["validatedResources"].as_array().unwrap().len(), 2);
    assert_eq!(
        s.get(&with_version(&deployment("good"), RESOURCES)).await.status,
        StatusCode::NOT_FOUND,
        "validate deploys nothing"
    );
}

#[tokio::test]
async fn a_failed_resource_fails_the_deployment_with_its_own_error() {
    let s = TestServer::start().await;
    s.create_group(RG).await;
    s.add_fault(json!({
        "match": { "operation": "VirtualMachineScaleSets_CreateOrUpdate" },
        "action": { "failOperation": { "code": "AllocationFailed", "message": "No capacity." } },
        "times": 1
    }))
    .await;
    let parameters = json!({ "count": { "value": 1 }, "password": { "value": "x" } });
    let put = s.put(&with_version(&deployment("faulty"), RESOURCES), body(template(), parameters)).await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.body);
    let done = settle(&s, "faulty").await;
    let error = &done.body["properties"]["error"];
    assert_eq!(done.body["properties"]["provisioningState"], "Failed", "{}", done.body);
    assert_eq!(error["code"], "DeploymentFailed");
    assert_eq!(error["details"][0]["code"], "AllocationFailed", "{error}");
    let ops = s.get(&with_version(&format!("{}/operations", deployment("faulty")), RESOURCES)).await;
    let failed: Vec<&Value> = ops.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["properties"]["provisioningState"] == "Failed")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["properties"]["statusMessage"]["error"]["code"], "AllocationFailed");
    let status_url = put.header("azure-asyncoperation").unwrap();
    let status = s.send(Method::GET, &status_url.replace(&s.base, ""), None, &[]).await;
    assert_eq!(status.body["status"], "Failed");
    assert_eq!(status.body["error"]["code"], "DeploymentFailed");
}

#[tokio::test]
async fn a_subscription_deployment_makes_a_group_and_deploys_into_it() {
    let s = TestServer::start().await;
    let id = format!("/subscriptions/{SUB}/providers/Microsoft.Resources/deployments/landing");
    let template = json!({
        "contentVersion": "1.0.0.0",
        "parameters": { "group": { "type": "string" } },
        "resources": [
            { "type": "Microsoft.Resources/resourceGroups", "apiVersion": "2024-11-01", "name": "[parameters('group')]",
              "location": "[deployment().location]" },
            { "type": "Microsoft.Resources/deployments", "apiVersion": "2024-11-01", "name": "inside",
              "resourceGroup": "[parameters('group')]",
              "dependsOn": ["[subscriptionResourceId('Microsoft.Resources/resourceGroups', parameters('group'))]"],
              "properties": { "mode": "Incremental", "expressionEvaluationOptions": { "scope": "inner" }, "template": {
                  "contentVersion": "1.0.0.0",
                  "resources": [{ "type": "Microsoft.Network/virtualNetworks", "apiVersion": "2022-01-01", "name": "net",
                                  "location": "[resourceGroup().location]", "properties": {} }] } } }
        ]
    });
    let no_location =
        s.put(&with_version(&id, RESOURCES), body(template.clone(), json!({ "group": { "value": "landed" } }))).await;
    assert_eq!((no_location.status, no_location.error_code()), (StatusCode::BAD_REQUEST, "LocationRequired"));
    let mut with_location = body(template, json!({ "group": { "value": "landed" } }));
    with_location["location"] = json!("eastus");
    let put = s.put(&with_version(&id, RESOURCES), with_location).await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.body);
    assert_eq!(put.body["location"], "eastus");
    let mut done = put;
    for _ in 0..200 {
        done = s.get(&with_version(&id, RESOURCES)).await;
        if done.body["properties"]["provisioningState"] != "Accepted"
            && done.body["properties"]["provisioningState"] != "Running"
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(done.body["properties"]["provisioningState"], "Succeeded", "{}", done.body);
    let group = s.get(&with_version(&group_path("landed"), RESOURCES)).await;
    assert_eq!(group.body["location"], "eastus");
    let net = format!("/subscriptions/{SUB}/resourceGroups/landed/providers/Microsoft.Network/virtualNetworks/net");
    assert_eq!(s.get(&with_version(&net, "2022-01-01")).await.body["location"], "eastus");
    let listed = s
        .get(&with_version(&format!("/subscriptions/{SUB}/providers/Microsoft.Resources/deployments"), RESOURCES))
        .await;
    let names: Vec<&str> =
        listed.body["value"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["landing"], "only the subscription's own deployments");
}

#[tokio::test]
async fn a_canceled_deployment_starts_nothing_more_and_ends_canceled() {
    let s = TestServer::start().await;
    s.create_group(RG).await;
    let parameters = json!({ "count": { "value": 1 }, "password": { "value": "x" } });
    let mut chained = template();
    // A network that waits for the scale set, which waits for the clock.
    chained["resources"].as_array_mut().unwrap().push(json!({
        "type": "Microsoft.Network/publicIPAddresses", "apiVersion": "2022-01-01", "name": "after",
        "location": "westus", "dependsOn": ["[variables('setName')]"], "properties": {}
    }));
    s.put(&with_version(&deployment("stop"), RESOURCES), body(chained, parameters)).await;
    let mut running = false;
    for _ in 0..200 {
        let r = s.get(&with_version(&format!("{}/operations", deployment("stop")), RESOURCES)).await;
        if r.body["value"]
            .as_array()
            .is_some_and(|ops| ops.iter().any(|o| o["properties"]["targetResource"]["resourceName"] == "web-vmss"))
        {
            running = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(running, "the scale set started");
    let cancel = s.post(&with_version(&format!("{}/cancel", deployment("stop")), RESOURCES), None).await;
    assert_eq!(cancel.status, StatusCode::NO_CONTENT, "{}", cancel.body);
    let done = settle(&s, "stop").await;
    assert_eq!(done.body["properties"]["provisioningState"], "Canceled", "{}", done.body);
    let after = format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/publicIPAddresses/after");
    assert_eq!(
        s.get(&with_version(&after, "2022-01-01")).await.status,
        StatusCode::NOT_FOUND,
        "nothing started after the cancel"
    );
    let again = s.post(&with_version(&format!("{}/cancel", deployment("stop")), RESOURCES), None).await;
    assert_eq!((again.status, again.error_code()), (StatusCode::CONFLICT, "DeploymentCannotBeCanceled"));
    let deleted = s.delete(&with_version(&deployment("stop"), RESOURCES)).await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED);
    s.advance(2.0).await;
    assert_eq!(s.get(&with_version(&deployment("stop"), RESOURCES)).await.error_code(), "DeploymentNotFound");
    let ops = s.get(&with_version(&format!("{}/operations", deployment("stop")), RESOURCES)).await;
    assert_eq!(ops.status, StatusCode::NOT_FOUND, "its operations went with it: {}", ops.body);
}

#[tokio::test]
async fn an_existing_resource_is_read_and_must_be_there() {
    let s = TestServer::start().await;
    s.create_group(RG).await;
    let template = json!({
        "languageVersion": "2.0",
        "contentVersion": "1.0.0.0",
        "resources": {
            "net": { "existing": true, "type": "Microsoft.Network/virtualNetworks", "apiVersion": "2022-01-01", "name": "shared" },
            "ip": { "type": "Microsoft.Network/publicIPAddresses", "apiVersion": "2022-01-01", "name": "ip",
                    "location": "[reference('net', '2022-01-01', 'Full').location]", "properties": {} }
        }
    });
    s.put(&with_version(&deployment("missing"), RESOURCES), body(template.clone(), json!({}))).await;
    let failed = settle(&s, "missing").await;
    assert_eq!(failed.body["properties"]["provisioningState"], "Failed", "{}", failed.body);
    assert_eq!(failed.body["properties"]["error"]["details"][0]["code"], "ResourceNotFound");

    let net = format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/virtualNetworks/shared");
    s.put(&with_version(&net, "2022-01-01"), json!({ "location": "eastus", "properties": {} })).await;
    s.put(&with_version(&deployment("found"), RESOURCES), body(template, json!({}))).await;
    let done = settle(&s, "found").await;
    assert_eq!(done.body["properties"]["provisioningState"], "Succeeded", "{}", done.body);
    assert_eq!(
        done.body["properties"]["outputResources"].as_array().unwrap().len(),
        1,
        "an existing resource is not an output"
    );
    let ops = s.get(&with_version(&format!("{}/operations", deployment("found")), RESOURCES)).await;
    let read: Vec<&Value> = ops.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["properties"]["provisioningOperation"] == "Read")
        .collect();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0]["properties"]["targetResource"]["symbolicName"], "net");
    let ip = format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/publicIPAddresses/ip");
    assert_eq!(s.get(&with_version(&ip, "2022-01-01")).await.body["location"], "eastus", "reference() read it");
}

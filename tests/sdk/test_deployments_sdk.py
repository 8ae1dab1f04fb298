"""Template deployments through azure-mgmt-resource-deployments, as a user runs them: scale sets
and their networks from a copy loop, an HCI cluster with an update, a nested deployment of inner
scope, a languageVersion 2.0 template of the kind Bicep emits, a resource failed by a fault rule,
what-if and validate, mode Complete, and a restart in the middle of a deployment."""

import json
import ssl
import time
import urllib.request

import pytest
from azure.core.exceptions import HttpResponseError

from conftest import SUBSCRIPTION, Emulator, StaticCredential, hci_client, resource_client
from test_compute_sdk import compute_client

GROUP = "deploy-rg"


def deployments_client(emu):
    from azure.mgmt.resource.deployments import DeploymentsMgmtClient

    return DeploymentsMgmtClient(
        credential=StaticCredential(), subscription_id=SUBSCRIPTION, base_url=emu.endpoint, connection_verify=emu.ca_file
    )


def scale_sets_template():
    """`count` scale sets, each with its own network, each set waiting for its network."""
    return {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {
            "count": {"type": "int", "defaultValue": 2, "minValue": 1, "maxValue": 5},
            "adminPassword": {"type": "secureString"},
            "location": {"type": "string", "defaultValue": "[resourceGroup().location]"},
        },
        "variables": {"prefix": "[concat('web', uniqueString(resourceGroup().id))]"},
        "resources": [
            {
                "type": "Microsoft.Network/virtualNetworks",
                "apiVersion": "2022-01-01",
                "name": "[concat(variables('prefix'), '-net', copyIndex())]",
                "location": "[parameters('location')]",
                "copy": {"name": "nets", "count": "[parameters('count')]"},
                "properties": {
                    "addressSpace": {"addressPrefixes": ["[format('10.{0}.0.0/16', copyIndex())]"]},
                    "subnets": [{"name": "default", "properties": {"addressPrefix": "[format('10.{0}.0.0/24', copyIndex())]"}}],
                },
            },
            {
                "type": "Microsoft.Compute/virtualMachineScaleSets",
                "apiVersion": "2024-07-01",
                "name": "[concat(variables('prefix'), '-set', copyIndex())]",
                "location": "[parameters('location')]",
                "copy": {"name": "sets", "count": "[parameters('count')]"},
                "dependsOn": ["[resourceId('Microsoft.Network/virtualNetworks', concat(variables('prefix'), '-net', copyIndex()))]"],
                "sku": {"name": "Standard_D2s_v3", "tier": "Standard", "capacity": 2},
                "properties": {
                    "upgradePolicy": {"mode": "Manual"},
                    "virtualMachineProfile": {
                        "osProfile": {
                            "computerNamePrefix": "web",
                            "adminUsername": "azureuser",
                            "adminPassword": "[parameters('adminPassword')]",
                        },
                        "storageProfile": {
                            "imageReference": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}
                        },
                        "networkProfile": {
                            "networkInterfaceConfigurations": [
                                {
                                    "name": "nic",
                                    "properties": {
                                        "primary": True,
                                        "ipConfigurations": [
                                            {
                                                "name": "ip",
                                                "properties": {
                                                    "subnet": {
                                                        "id": "[concat(resourceId('Microsoft.Network/virtualNetworks', concat(variables('prefix'), '-net', copyIndex())), '/subnets/default')]"
                                                    }
                                                },
                                            }
                                        ],
                                    },
                                }
                            ]
                        },
                    },
                },
            },
        ],
        "outputs": {
            "sets": {
                "type": "array",
                "copy": {"count": "[parameters('count')]", "input": "[concat(variables('prefix'), '-set', copyIndex())]"},
            },
            "firstNetwork": {
                "type": "object",
                "value": "[reference(resourceId('Microsoft.Network/virtualNetworks', concat(variables('prefix'), '-net0')), '2022-01-01')]",
            },
        },
    }


def deploy(client, name, template, parameters=None, mode="Incremental", group=GROUP):
    body = {"properties": {"template": template, "parameters": parameters or {}, "mode": mode}}
    return client.deployments.begin_create_or_update(group, name, body, polling_interval=0.2)


def test_a_copy_loop_of_scale_sets_and_networks_deploys_real_scale_sets(fast_emulator):
    resource_client(fast_emulator).resource_groups.create_or_update(GROUP, {"location": "westus"})
    client = deployments_client(fast_emulator)
    done = deploy(client, "sets", scale_sets_template(), {"adminPassword": {"value": "Secret-123!"}}).result()
    props = done.properties
    assert props.provisioning_state == "Succeeded"
    assert props.parameters["adminPassword"] == {"type": "SecureString"}
    assert props.parameters["count"] == {"type": "Int", "value": 2}
    sets = props.outputs["sets"]["value"]
    assert len(sets) == 2 and all(s.startswith("web") for s in sets)
    assert props.outputs["firstNetwork"]["value"]["addressSpace"]["addressPrefixes"] == ["10.0.0.0/16"]
    assert len(props.output_resources) == 4
    assert {d.resource_name for d in props.dependencies} == set(sets)

    compute = compute_client(fast_emulator)
    for name in sets:
        assert compute.virtual_machine_scale_sets.get(GROUP, name).provisioning_state == "Succeeded"
        assert len(list(compute.virtual_machine_scale_set_vms.list(GROUP, name))) == 2

    operations = list(client.deployment_operations.list(GROUP, "sets"))
    assert len(operations) == 4
    assert {o.properties.provisioning_state for o in operations} == {"Succeeded"}
    assert {o.properties.target_resource.resource_type for o in operations} == {
        "Microsoft.Network/virtualNetworks",
        "Microsoft.Compute/virtualMachineScaleSets",
    }
    one = client.deployment_operations.get(GROUP, "sets", operations[0].operation_id)
    assert one.properties.target_resource.id == operations[0].properties.target_resource.id

    listed = list(client.deployments.list_by_resource_group(GROUP, filter="provisioningState eq 'Succeeded'"))
    assert [d.name for d in listed] == ["sets"]
    exported = client.deployments.export_template(GROUP, "sets")
    assert exported.template["resources"][1]["type"] == "Microsoft.Compute/virtualMachineScaleSets"

    # The same deployment again changes nothing and succeeds again.
    again = deploy(client, "sets", scale_sets_template(), {"adminPassword": {"value": "Secret-123!"}}).result()
    assert again.properties.provisioning_state == "Succeeded"
    client.deployments.begin_delete(GROUP, "sets", polling_interval=0.2).result()
    assert list(client.deployments.list_by_resource_group(GROUP)) == []
    assert compute.virtual_machine_scale_sets.get(GROUP, sets[0]).name == sets[0], "deleting a deployment keeps its resources"


def test_an_hci_cluster_and_its_update_deploy_through_their_lifecycles(fast_emulator):
    resource_client(fast_emulator).resource_groups.create_or_update(GROUP, {"location": "westus"})
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"clusterName": {"type": "string"}},
        "resources": [
            {
                "type": "Microsoft.AzureStackHCI/clusters",
                "apiVersion": "2024-04-01",
                "name": "[parameters('clusterName')]",
                "location": "westus",
                "tags": {"azemu-node-count": "2"},
                "properties": {},
                "resources": [
                    {
                        "type": "updates",
                        "apiVersion": "2024-04-01",
                        "name": "Solution10.2503.0.13",
                        "dependsOn": ["[parameters('clusterName')]"],
                        "properties": {"state": "Ready", "version": "10.2503.0.13", "displayName": "Solution 10.2503.0.13"},
                    }
                ],
            }
        ],
        "outputs": {"nodes": {"type": "int", "value": "[length(reference(parameters('clusterName')).reportedProperties.nodes)]"}},
    }
    done = deploy(deployments_client(fast_emulator), "hci", template, {"clusterName": {"value": "edge-1"}}).result()
    assert done.properties.provisioning_state == "Succeeded"
    assert done.properties.outputs["nodes"]["value"] == 2
    hci = hci_client(fast_emulator)
    assert hci.clusters.get(GROUP, "edge-1").properties.provisioning_state == "Succeeded"
    assert hci.updates.get(GROUP, "edge-1", "Solution10.2503.0.13").properties.state == "Ready"
    assert hci.update_summaries.get(GROUP, "edge-1").properties.state == "UpdateAvailable"


def test_a_nested_deployment_of_inner_scope_and_a_bicep_style_template(fast_emulator):
    resource_client(fast_emulator).resource_groups.create_or_update(GROUP, {"location": "westus"})
    resource_client(fast_emulator).resource_groups.create_or_update("other-rg", {"location": "eastus"})
    nested = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"outer": {"type": "string"}},
        "resources": [
            {
                "type": "Microsoft.Resources/deployments",
                "apiVersion": "2022-09-01",
                "name": "inner",
                "resourceGroup": "other-rg",
                "properties": {
                    "mode": "Incremental",
                    "expressionEvaluationOptions": {"scope": "inner"},
                    "parameters": {"name": {"value": "[concat(parameters('outer'), '-ip')]"}},
                    "template": {
                        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                        "contentVersion": "1.0.0.0",
                        "parameters": {"name": {"type": "string"}},
                        "resources": [
                            {
                                "type": "Microsoft.Network/publicIPAddresses",
                                "apiVersion": "2022-01-01",
                                "name": "[parameters('name')]",
                                "location": "[resourceGroup().location]",
                                "properties": {"publicIPAllocationMethod": "Static"},
                            }
                        ],
                        "outputs": {"where": {"type": "string", "value": "[resourceGroup().name]"}},
                    },
                },
            }
        ],
        "outputs": {"inner": {"type": "string", "value": "[reference('inner').outputs.where.value]"}},
    }
    client = deployments_client(fast_emulator)
    done = deploy(client, "outer", nested, {"outer": {"value": "edge"}}).result()
    assert done.properties.provisioning_state == "Succeeded", done.properties.error
    assert done.properties.outputs["inner"]["value"] == "other-rg", "the inner template sees its own resource group"
    assert client.deployments.get("other-rg", "inner").properties.provisioning_state == "Succeeded"
    resources = resource_client(fast_emulator).resources.list_by_resource_group("other-rg")
    assert [(r.name, r.location) for r in resources] == [("edge-ip", "eastus")]

    # languageVersion 2.0, as Bicep emits it: symbolic names, an existing resource, dependsOn
    # by symbolic name.
    bicep = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "languageVersion": "2.0",
        "contentVersion": "1.0.0.0",
        "metadata": {"_generator": {"name": "bicep", "version": "0.30.23.60470"}},
        "parameters": {"size": {"type": "int", "defaultValue": 1}},
        "resources": {
            "ip": {"existing": True, "type": "Microsoft.Network/publicIPAddresses", "apiVersion": "2022-01-01", "name": "edge-ip", "resourceGroup": "other-rg"},
            "vnet": {
                "type": "Microsoft.Network/virtualNetworks",
                "apiVersion": "2022-01-01",
                "name": "bicep-net",
                "location": "[resourceGroup().location]",
                "properties": {"addressSpace": {"addressPrefixes": ["10.9.0.0/16"]}},
            },
            "set": {
                "type": "Microsoft.Compute/virtualMachineScaleSets",
                "apiVersion": "2024-07-01",
                "name": "bicep-set",
                "location": "[resourceGroup().location]",
                "dependsOn": ["vnet"],
                "sku": {"name": "Standard_D2s_v3", "tier": "Standard", "capacity": "[parameters('size')]"},
                "properties": {
                    "upgradePolicy": {"mode": "Manual"},
                    "virtualMachineProfile": {
                        "osProfile": {"computerNamePrefix": "b", "adminUsername": "azureuser", "adminPassword": "Secret-123!"},
                        "storageProfile": {"imageReference": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}},
                        "networkProfile": {"networkInterfaceConfigurations": []},
                    },
                },
            },
        },
        "outputs": {"setId": {"type": "string", "value": "[resourceId('Microsoft.Compute/virtualMachineScaleSets', 'bicep-set')]"}},
    }
    done = deploy(client, "bicep", bicep).result()
    assert done.properties.provisioning_state == "Succeeded", done.properties.error
    ops = list(client.deployment_operations.list(GROUP, "bicep"))
    assert {o.properties.target_resource.symbolic_name for o in ops} >= {"vnet", "set"}
    assert len(list(compute_client(fast_emulator).virtual_machine_scale_set_vms.list(GROUP, "bicep-set"))) == 1


def test_a_fault_rule_fails_one_resource_and_the_deployment_with_its_error(fast_emulator):
    resource_client(fast_emulator).resource_groups.create_or_update(GROUP, {"location": "westus"})
    rule = {
        "match": {"operation": "VirtualMachineScaleSets_CreateOrUpdate"},
        "action": {"failOperation": {"code": "AllocationFailed", "message": "The region is out of capacity."}},
        "times": 1,
    }
    control(fast_emulator, "POST", "/_azemu/faults", rule)
    client = deployments_client(fast_emulator)
    poller = deploy(client, "faulty", scale_sets_template(), {"count": {"value": 1}, "adminPassword": {"value": "x"}})
    with pytest.raises(HttpResponseError) as failed:
        poller.result()
    assert "DeploymentFailed" in str(failed.value)
    deployment = client.deployments.get(GROUP, "faulty")
    assert deployment.properties.provisioning_state == "Failed"
    assert deployment.properties.error.code == "DeploymentFailed"
    assert [d.code for d in deployment.properties.error.details] == ["AllocationFailed"]
    ops = {o.properties.target_resource.resource_type: o for o in client.deployment_operations.list(GROUP, "faulty")}
    assert ops["Microsoft.Compute/virtualMachineScaleSets"].properties.provisioning_state == "Failed"
    assert ops["Microsoft.Network/virtualNetworks"].properties.provisioning_state == "Succeeded"


def test_what_if_validate_and_mode_complete(fast_emulator):
    resource_client(fast_emulator).resource_groups.create_or_update(GROUP, {"location": "westus"})
    client = deployments_client(fast_emulator)
    network = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"prefix": {"type": "string", "allowedValues": ["10.1.0.0/16", "10.2.0.0/16"]}},
        "resources": [
            {
                "type": "Microsoft.Network/virtualNetworks",
                "apiVersion": "2022-01-01",
                "name": "net",
                "location": "westus",
                "properties": {"addressSpace": {"addressPrefixes": ["[parameters('prefix')]"]}},
            }
        ],
    }
    bad = {"properties": {"template": network, "parameters": {"prefix": {"value": "192.168.0.0/16"}}, "mode": "Incremental"}}
    # A 400 from validate is an error to the SDK's poller, as against Azure.
    with pytest.raises(HttpResponseError) as refused:
        client.deployments.begin_validate(GROUP, "check", bad).result()
    assert refused.value.error.code == "InvalidTemplateDeployment"
    assert "'prefix'" in refused.value.error.message
    good = {"properties": {"template": network, "parameters": {"prefix": {"value": "10.1.0.0/16"}}, "mode": "Incremental"}}
    assert client.deployments.begin_validate(GROUP, "check", good).result().properties.provisioning_state == "Succeeded"

    changes = client.deployments.begin_what_if(GROUP, "plan", good, polling_interval=0.2).result().changes
    assert [(c.change_type, c.resource_id.rsplit("/", 1)[1]) for c in changes] == [("Create", "net")]
    deploy(client, "first", network, {"prefix": {"value": "10.1.0.0/16"}}).result()
    stray = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/Microsoft.Network/publicIPAddresses/stray"
    resources = resource_client(fast_emulator).resources
    resources.begin_create_or_update_by_id(stray, {"location": "westus", "properties": {}}, api_version="2022-01-01").result()

    other = {"properties": {"template": network, "parameters": {"prefix": {"value": "10.2.0.0/16"}}, "mode": "Complete"}}
    changes = {c.resource_id.rsplit("/", 1)[1]: c for c in client.deployments.begin_what_if(GROUP, "plan", other, polling_interval=0.2).result().changes}
    assert changes["net"].change_type == "Modify"
    assert [(d.path, d.property_change_type) for d in changes["net"].delta] == [("properties.addressSpace.addressPrefixes", "Array")]
    assert changes["stray"].change_type == "Delete"

    deploy(client, "second", network, {"prefix": {"value": "10.2.0.0/16"}}, mode="Complete").result()
    names = sorted(r.name for r in resources.list_by_resource_group(GROUP))
    assert names == ["net"], "mode Complete deletes what the template does not name"


def test_a_restart_in_the_middle_of_a_deployment_resumes_it(data_dir):
    emu = Emulator(data_dir, ["--speed", "1"])
    try:
        resource_client(emu).resource_groups.create_or_update(GROUP, {"location": "westus"})
        client = deployments_client(emu)
        deploy(client, "resumed", scale_sets_template(), {"count": {"value": 2}, "adminPassword": {"value": "x"}})
        deadline = time.time() + 30
        while time.time() < deadline:
            state = client.deployments.get(GROUP, "resumed").properties.provisioning_state
            if state == "Running":
                break
            time.sleep(0.1)
        assert state == "Running"
    finally:
        emu.kill()
    emu = Emulator(data_dir, ["--speed", "10"])
    try:
        client = deployments_client(emu)
        deadline = time.time() + 60
        while time.time() < deadline:
            deployment = client.deployments.get(GROUP, "resumed")
            if deployment.properties.provisioning_state not in ("Accepted", "Running"):
                break
            time.sleep(0.2)
        assert deployment.properties.provisioning_state == "Succeeded", deployment.properties.error
        assert len(deployment.properties.output_resources) == 4
        ops = list(client.deployment_operations.list(GROUP, "resumed"))
        assert len(ops) == 4, "a resumed step reports through the same operation"
    finally:
        emu.stop()


def control(emu, method, path, body=None):
    context = ssl.create_default_context(cafile=emu.ca_file)
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(emu.endpoint + path, data=data, method=method, headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, context=context) as response:
        return json.loads(response.read() or b"null")

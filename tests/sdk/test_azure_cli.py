"""The Azure CLI against azemu --auth strict, as a user runs it: register azemu as a cloud from
its metadata, sign in with a service principal, manage resource groups, call `az rest`, and
drive scale-set VMs (`az vmss list-instances`, `get-instance-view`, `stop`, `start`, `restart`,
`deallocate`), which send api-versions 2023-09-01, 2024-11-01 and 2026-04-01."""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT, SUBSCRIPTION
from test_compute_sdk import scale_set

AZ = Path(os.environ.get("AZEMU_AZ", ROOT / "target" / "cli-venv" / "bin" / "az"))
TENANT = "7e5a1e00-a2e0-4c0d-8e00-000000000001"


class Az:
    def __init__(self, emu, config_dir: Path):
        assert AZ.exists(), f"{AZ} is missing: scripts/sdk-tests.sh installs the Azure CLI"
        self.env = {
            **os.environ,
            "AZURE_CONFIG_DIR": str(config_dir),
            "AZURE_CORE_COLLECT_TELEMETRY": "no",
            "AZURE_CORE_NO_COLOR": "true",
            "REQUESTS_CA_BUNDLE": emu.ca_file,
        }

    def run(self, *args, check=True):
        done = subprocess.run([str(AZ), *args], env=self.env, capture_output=True, text=True, timeout=120)
        if check:
            assert done.returncode == 0, f"az {' '.join(args)}: {done.stderr}"
        return done

    def json(self, *args):
        return json.loads(self.run(*args, "-o", "json").stdout)


@pytest.fixture
def az(strict_emulator, tmp_path):
    az = Az(strict_emulator, tmp_path / "az-config")
    az.run("cloud", "register", "-n", "azemu", "--endpoint-resource-manager", strict_emulator.endpoint)
    az.run("cloud", "set", "-n", "azemu")
    az.accounts = az.json("login", "--service-principal", "-u", "ci-pipeline", "-p", "any-secret", "--tenant", TENANT)
    return az


def test_az_signs_in_and_manages_resource_groups(az, strict_emulator):
    assert [(a["id"], a["name"], a["state"]) for a in az.accounts] == [(SUBSCRIPTION, "sdk tests", "Enabled")]
    assert az.accounts[0]["user"] == {"name": "ci-pipeline", "type": "servicePrincipal"}
    cloud = az.json("cloud", "show", "-n", "azemu")
    assert cloud["endpoints"]["activeDirectory"] == f"{strict_emulator.endpoint}/adfs"

    created = az.json("group", "create", "-n", "cli-rg", "-l", "westus")
    assert created["properties"]["provisioningState"] == "Succeeded"
    assert az.json("group", "show", "-n", "cli-rg")["location"] == "westus"
    assert [g["name"] for g in az.json("group", "list")] == ["cli-rg"]
    url = f"/subscriptions/{SUBSCRIPTION}/resourcegroups/cli-rg?api-version=2021-04-01"
    assert az.json("rest", "--method", "get", "--url", url)["systemData"]["createdBy"] == "ci-pipeline"
    az.run("group", "delete", "-n", "cli-rg", "--yes")
    assert az.json("group", "list") == []
    missing = az.run("group", "show", "-n", "cli-rg", check=False)
    assert missing.returncode != 0 and "ResourceGroupNotFound" in missing.stderr


def power(az, instance):
    view = az.json("vmss", "get-instance-view", "-g", "cli-rg", "-n", "web", "--instance-id", instance)
    return [s["code"] for s in view["statuses"] if s["code"].startswith("PowerState/")][0]


def test_az_drives_scale_set_vms(az, tmp_path):
    az.run("group", "create", "-n", "cli-rg", "-l", "westus")
    body = tmp_path / "vmss.json"
    body.write_text(json.dumps(scale_set(2)))
    path = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/cli-rg/providers/Microsoft.Compute/virtualMachineScaleSets/web"
    az.run("rest", "--method", "put", "--url", f"{path}?api-version=2024-07-01", "--body", f"@{body}")
    az.run("vmss", "wait", "-g", "cli-rg", "-n", "web", "--created", "--interval", "1", "--timeout", "60")

    instances = az.json("vmss", "list-instances", "-g", "cli-rg", "-n", "web")
    assert sorted(i["instanceId"] for i in instances) == ["0", "1"]
    view = az.json("vmss", "get-instance-view", "-g", "cli-rg", "-n", "web", "--instance-id", "0")
    assert view["computerName"].startswith("web")
    assert power(az, "0") == "PowerState/running"

    az.run("vmss", "stop", "-g", "cli-rg", "-n", "web", "--instance-ids", "0")
    assert power(az, "0") == "PowerState/stopped"
    az.run("vmss", "start", "-g", "cli-rg", "-n", "web", "--instance-ids", "0")
    assert power(az, "0") == "PowerState/running"
    az.run("vmss", "restart", "-g", "cli-rg", "-n", "web", "--instance-ids", "0")
    assert power(az, "0") == "PowerState/running"
    az.run("vmss", "deallocate", "-g", "cli-rg", "-n", "web", "--instance-ids", "0")
    assert power(az, "0") == "PowerState/deallocated"
    assert power(az, "1") == "PowerState/running"
    refused = az.run("vmss", "restart", "-g", "cli-rg", "-n", "web", "--instance-ids", "0", check=False)
    assert refused.returncode != 0 and "OperationNotAllowed" in refused.stderr

    # `az vmss scale` sends only location and sku: Compute keeps the rest of the model.
    scaled = az.json("vmss", "scale", "-g", "cli-rg", "-n", "web", "--new-capacity", "3")
    assert scaled["sku"]["capacity"] == 3
    assert scaled["virtualMachineProfile"]["osProfile"]["computerNamePrefix"] == "web"
    assert sorted(i["instanceId"] for i in az.json("vmss", "list-instances", "-g", "cli-rg", "-n", "web")) == ["0", "1", "2"]

    # `az vmss update --set` sends the model back without its image reference; the change marks
    # the instances out of date (the policy is Manual) until `az vmss update-instances`.
    updated = az.json("vmss", "update", "-g", "cli-rg", "-n", "web", "--set", "virtualMachineProfile.userData=dXBkYXRlZA==")
    assert updated["virtualMachineProfile"]["storageProfile"]["imageReference"]["offer"] == "ubuntu-24_04-lts"
    instances = az.json("vmss", "list-instances", "-g", "cli-rg", "-n", "web")
    assert [i["latestModelApplied"] for i in instances] == [False, False, False]
    az.run("vmss", "update-instances", "-g", "cli-rg", "-n", "web", "--instance-ids", "0", "2")
    instances = az.json("vmss", "list-instances", "-g", "cli-rg", "-n", "web")
    assert [i["latestModelApplied"] for i in instances] == [True, False, True]


CLUSTER_BODY = {
    "location": "East US",
    "tags": {"env": "prod"},
    "properties": {"aadClientId": "24a6e53d-04e5-44d2-b7cc-1b732a847dfc", "aadTenantId": "7e589cc1-a8b6-4dff-91bd-5ec0fa18db94"},
}


def test_az_reads_the_arm_platform(az, tmp_path):
    locations = az.json("account", "list-locations")
    west = next(l for l in locations if l["name"] == "westus")
    assert (west["displayName"], west["regionalDisplayName"]) == ("West US", "(US) West US")

    namespaces = [p["namespace"] for p in az.json("provider", "list")]
    assert "Microsoft.Compute" in namespaces and "Microsoft.AzureStackHCI" in namespaces
    hci = az.json("provider", "show", "-n", "Microsoft.AzureStackHCI")
    assert hci["registrationState"] == "Registered"
    assert any(t["resourceType"] == "clusters" for t in hci["resourceTypes"])
    az.run("provider", "unregister", "-n", "Microsoft.Compute")  # 2 s of emulator time: 0.2 s at --speed 10
    assert az.json("provider", "show", "-n", "Microsoft.Compute")["registrationState"] == "Unregistered"
    az.run("provider", "register", "-n", "Microsoft.Compute", "--wait")
    assert az.json("provider", "show", "-n", "Microsoft.Compute")["registrationState"] == "Registered"

    az.run("group", "create", "-n", "cli-rg", "-l", "West US", "--tags", "a=1")
    assert az.json("group", "show", "-n", "cli-rg")["location"] == "westus"
    assert az.json("group", "update", "-n", "cli-rg", "--tags", "cost=42")["tags"] == {"cost": "42"}
    body = tmp_path / "cluster.json"
    body.write_text(json.dumps(CLUSTER_BODY))
    cluster = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/cli-rg/providers/Microsoft.AzureStackHCI/clusters/c1"
    az.run("rest", "--method", "put", "--url", f"{cluster}?api-version=2024-04-01", "--body", f"@{body}")
    body.write_text(json.dumps(scale_set(1)))
    vmss = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/cli-rg/providers/Microsoft.Compute/virtualMachineScaleSets/web"
    az.run("rest", "--method", "put", "--url", f"{vmss}?api-version=2024-07-01", "--body", f"@{body}")

    assert sorted(r["name"] for r in az.json("resource", "list")) == ["c1", "web"]
    assert [r["name"] for r in az.json("resource", "list", "-g", "cli-rg", "--resource-type", "Microsoft.Compute/virtualMachineScaleSets")] == ["web"]
    assert [r["name"] for r in az.json("resource", "list", "--tag", "env=prod")] == ["c1"]
    shown = az.json("resource", "show", "--ids", cluster)
    assert (shown["name"], shown["location"]) == ("c1", "eastus")
    by_name = az.json("resource", "show", "-g", "cli-rg", "-n", "c1", "--resource-type", "Microsoft.AzureStackHCI/clusters")
    assert by_name["id"] == cluster

    merged = az.json("tag", "update", "--resource-id", cluster, "--operation", "Merge", "--tags", "team=ci")
    assert merged["properties"]["tags"] == {"env": "prod", "team": "ci"}
    az.run("resource", "tag", "--ids", vmss, "--tags", "owner=cli")
    assert az.json("resource", "show", "--ids", vmss)["tags"] == {"owner": "cli"}
    refused = az.run("tag", "update", "--resource-id", cluster, "--operation", "Merge", "--tags", "a/b=c", check=False)
    assert refused.returncode != 0 and "InvalidTagNameCharacters" in refused.stderr

    az.run("resource", "delete", "--ids", cluster)
    assert [r["name"] for r in az.json("resource", "list", "-g", "cli-rg")] == ["web"]


def test_az_deploys_templates(az, strict_emulator, tmp_path):
    """`az deployment group create/validate/what-if/list/show/export` and `az deployment operation
    group list` (which reads operations at the path without `/providers/Microsoft.Resources`)."""
    from test_deployments_sdk import control, scale_sets_template

    az.run("group", "create", "-n", "cli-rg", "-l", "westus")
    template = tmp_path / "main.json"
    template.write_text(json.dumps(scale_sets_template()))
    params = tmp_path / "main.parameters.json"
    params.write_text(json.dumps({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"adminPassword": {"value": "Secret-123!"}},
    }))

    bad = az.run("deployment", "group", "validate", "-g", "cli-rg", "--template-file", str(template),
                 "--parameters", f"@{params}", "count=9", check=False)
    assert bad.returncode != 0 and "InvalidTemplateDeployment" in bad.stderr, bad.stderr
    changes = az.json("deployment", "group", "what-if", "-g", "cli-rg", "--template-file", str(template),
                      "--parameters", f"@{params}", "count=1", "--no-pretty-print")
    assert sorted(c["changeType"] for c in changes["changes"]) == ["Create", "Create"]

    started = time.time()
    done = az.json("deployment", "group", "create", "-g", "cli-rg", "-n", "main", "--template-file", str(template),
                   "--parameters", f"@{params}", "count=2")
    assert time.time() - started < 60, "running deployments answer with Retry-After"
    assert done["properties"]["provisioningState"] == "Succeeded"
    assert len(done["properties"]["outputs"]["sets"]["value"]) == 2
    assert [d["name"] for d in az.json("deployment", "group", "list", "-g", "cli-rg")] == ["main"]
    assert az.json("deployment", "group", "show", "-g", "cli-rg", "-n", "main")["properties"]["mode"] == "Incremental"
    exported = az.json("deployment", "group", "export", "-g", "cli-rg", "-n", "main")
    assert exported["resources"][0]["type"] == "Microsoft.Network/virtualNetworks"
    operations = az.json("deployment", "operation", "group", "list", "-g", "cli-rg", "-n", "main")
    assert len(operations) == 4 and {o["properties"]["provisioningState"] for o in operations} == {"Succeeded"}
    names = sorted(r["type"] for r in az.json("resource", "list", "-g", "cli-rg"))
    assert names == ["Microsoft.Compute/virtualMachineScaleSets"] * 2 + ["Microsoft.Network/virtualNetworks"] * 2

    # A fault rule fails the scale set: the deployment fails with its error.
    rule = {"match": {"operation": "VirtualMachineScaleSets_CreateOrUpdate"},
            "action": {"failOperation": {"code": "AllocationFailed", "message": "No capacity."}}, "times": 1}
    control(strict_emulator, "POST", "/_azemu/faults", rule)
    failed = az.run("deployment", "group", "create", "-g", "cli-rg", "-n", "faulty", "--template-file", str(template),
                    "--parameters", f"@{params}", "count=1", check=False)
    assert failed.returncode != 0 and "DeploymentFailed" in failed.stderr and "AllocationFailed" in failed.stderr, failed.stderr

    # Mode Complete: what the template does not name goes.
    one = az.json("deployment", "group", "create", "-g", "cli-rg", "-n", "complete", "--template-file", str(template),
                  "--parameters", f"@{params}", "count=1", "--mode", "Complete")
    assert one["properties"]["mode"] == "Complete"
    assert len(az.json("resource", "list", "-g", "cli-rg")) == 2

    # At subscription scope: a template that makes a resource group.
    groups = tmp_path / "groups.json"
    groups.write_text(json.dumps({
        "$schema": "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"name": {"type": "string"}},
        "resources": [{"type": "Microsoft.Resources/resourceGroups", "apiVersion": "2024-11-01",
                       "name": "[parameters('name')]", "location": "[deployment().location]"}],
    }))
    sub = az.json("deployment", "sub", "create", "-l", "eastus", "-n", "landing", "--template-file", str(groups),
                  "--parameters", "name=landed-rg")
    assert sub["properties"]["provisioningState"] == "Succeeded"
    assert az.json("group", "show", "-n", "landed-rg")["location"] == "eastus"


def vm_power(az, name):
    view = az.json("vm", "get-instance-view", "-g", "cli-rg", "-n", name)
    return [s["code"] for s in view["instanceView"]["statuses"] if s["code"].startswith("PowerState/")][0]


def test_az_creates_and_drives_virtual_machines(az):
    """`az vm create` with the defaults a user leaves: the image alias resolved through the catalog,
    the network made as generic resources by the CLI's template deployment, then the VM's
    day-to-day commands; and `az vm image list/show`, `az vm list-skus`."""
    az.run("group", "create", "-n", "cli-rg", "-l", "westus")
    created = az.json("vm", "create", "-g", "cli-rg", "-n", "vm1", "--image", "Ubuntu2204",
                      "--admin-username", "azureuser", "--admin-password", "Passw0rd!Passw0rd")
    assert created["powerState"] == "VM running"
    types = sorted(r["type"] for r in az.json("resource", "list", "-g", "cli-rg"))
    assert types == ["Microsoft.Compute/disks", "Microsoft.Compute/virtualMachines", "Microsoft.Network/networkInterfaces",
                     "Microsoft.Network/networkSecurityGroups", "Microsoft.Network/publicIPAddresses",
                     "Microsoft.Network/virtualNetworks"]
    shown = az.json("vm", "show", "-g", "cli-rg", "-n", "vm1")
    image = shown["storageProfile"]["imageReference"]
    assert (image["offer"], image["sku"], image["exactVersion"]) == ("0001-com-ubuntu-server-jammy", "22_04-lts-gen2", "22.04.202611120")
    os_disk = shown["storageProfile"]["osDisk"]
    assert (os_disk["createOption"], os_disk["managedDisk"]["storageAccountType"]) == ("FromImage", "Premium_LRS")
    assert os_disk["managedDisk"]["id"].endswith(f"/disks/{os_disk['name']}") and os_disk["name"].startswith("vm1_OsDisk_1_")
    assert [v["name"] for v in az.json("vm", "list", "-g", "cli-rg")] == ["vm1"]
    assert vm_power(az, "vm1") == "PowerState/running"
    options = [o["name"] for o in az.json("vm", "list-vm-resize-options", "-g", "cli-rg", "-n", "vm1")]
    assert "Standard_D4s_v5" in options and "Standard_D2ps_v5" not in options
    assert az.json("vm", "resize", "-g", "cli-rg", "-n", "vm1", "--size", "Standard_D4s_v5")["hardwareProfile"]["vmSize"] == "Standard_D4s_v5"

    az.run("vm", "stop", "-g", "cli-rg", "-n", "vm1")
    assert vm_power(az, "vm1") == "PowerState/stopped"
    az.run("vm", "start", "-g", "cli-rg", "-n", "vm1")
    assert vm_power(az, "vm1") == "PowerState/running"
    az.run("vm", "restart", "-g", "cli-rg", "-n", "vm1")
    assert vm_power(az, "vm1") == "PowerState/running"
    az.run("vm", "deallocate", "-g", "cli-rg", "-n", "vm1")
    assert vm_power(az, "vm1") == "PowerState/deallocated"
    assert az.json("vm", "show", "-d", "-g", "cli-rg", "-n", "vm1")["powerState"] == "VM deallocated"
    refused = az.run("vm", "restart", "-g", "cli-rg", "-n", "vm1", check=False)
    assert refused.returncode != 0 and "OperationNotAllowed" in refused.stderr
    bad = az.run("vm", "create", "-g", "cli-rg", "-n", "vm2", "--image", "Canonical:no-such-offer:1:latest",
                 "--admin-username", "azureuser", "--admin-password", "Passw0rd!Passw0rd", check=False)
    assert bad.returncode != 0 and "Artifact: VMImage was not found" in bad.stderr, "the CLI reads the catalog first"
    assert az.json("disk", "show", "--ids", os_disk["managedDisk"]["id"])["diskState"] == "Attached"
    az.run("vm", "delete", "-g", "cli-rg", "-n", "vm1", "--yes")
    assert az.json("vm", "list", "-g", "cli-rg") == []
    # The CLI leaves the OS disk's deleteOption unset: Detach, so the disk stays.
    assert [(d["name"], d["diskState"]) for d in az.json("disk", "list", "-g", "cli-rg")] == [(os_disk["name"], "Unattached")]

    images = az.json("vm", "image", "list", "--all", "-p", "Canonical", "-f", "ubuntu-24_04-lts", "-s", "server", "-l", "westus")
    assert {i["sku"] for i in images} >= {"server"} and all(i["publisher"] == "Canonical" for i in images)
    detail = az.json("vm", "image", "show", "--urn", "MicrosoftWindowsServer:WindowsServer:2022-datacenter-azure-edition:latest", "-l", "westus")
    assert detail["osDiskImage"]["operatingSystem"] == "Windows"
    skus = az.json("vm", "list-skus", "-l", "eastus", "--size", "Standard_D2s_v5")
    assert [s["name"] for s in skus] == ["Standard_D2s_v5"] and skus[0]["locationInfo"][0]["zones"] == ["1", "2", "3"]


def test_az_creates_flexible_and_uniform_scale_sets(az):
    """`az vmss create` with its default (Flexible orchestration) and with `--orchestration-mode
    Uniform`, then `az vmss list-instances/scale/delete-instances/stop` on them."""
    az.run("group", "create", "-n", "cli-rg", "-l", "westus")
    flexible = az.json("vmss", "create", "-g", "cli-rg", "-n", "flex", "--image", "Ubuntu2204", "--instance-count", "3",
                       "--admin-username", "azureuser", "--admin-password", "Passw0rd!Passw0rd")
    assert flexible["VMSS"]["orchestrationMode"] == "Flexible"
    assert flexible["VMSS"]["provisioningState"] == "Succeeded"
    instances = az.json("vmss", "list-instances", "-g", "cli-rg", "-n", "flex")
    names = sorted(i["name"] for i in instances)
    assert len(names) == 3 and all(n.startswith("flex_") for n in names)
    assert sorted(v["name"] for v in az.json("vm", "list", "-g", "cli-rg")) == names
    member = az.json("vm", "show", "-g", "cli-rg", "-n", names[0])
    assert member["virtualMachineScaleSet"]["id"].endswith("/virtualMachineScaleSets/flex")
    assert vm_power(az, names[0]) == "PowerState/running"
    network = {r["type"] for r in az.json("resource", "list", "-g", "cli-rg")}
    assert {"Microsoft.Network/virtualNetworks", "Microsoft.Network/loadBalancers"} <= network

    az.run("vmss", "stop", "-g", "cli-rg", "-n", "flex", "--instance-ids", names[0])
    assert vm_power(az, names[0]) == "PowerState/stopped"
    assert az.json("vmss", "scale", "-g", "cli-rg", "-n", "flex", "--new-capacity", "4")["sku"]["capacity"] == 4
    assert len(az.json("vmss", "list-instances", "-g", "cli-rg", "-n", "flex")) == 4
    az.run("vmss", "delete-instances", "-g", "cli-rg", "-n", "flex", "--instance-ids", names[1])
    left = sorted(i["name"] for i in az.json("vmss", "list-instances", "-g", "cli-rg", "-n", "flex"))
    assert len(left) == 3 and names[1] not in left
    assert az.json("vmss", "show", "-g", "cli-rg", "-n", "flex")["sku"]["capacity"] == 3

    uniform = az.json("vmss", "create", "-g", "cli-rg", "-n", "uni", "--image", "Ubuntu2204", "--instance-count", "2",
                      "--orchestration-mode", "Uniform", "--admin-username", "azureuser", "--admin-password", "Passw0rd!Passw0rd")
    assert uniform["VMSS"]["orchestrationMode"] == "Uniform"
    assert uniform["VMSS"]["upgradePolicy"]["mode"] == "Manual", "sent as 'manual', answered in Compute's casing"
    assert sorted(i["instanceId"] for i in az.json("vmss", "list-instances", "-g", "cli-rg", "-n", "uni")) == ["0", "1"]
    az.run("vmss", "delete-instances", "-g", "cli-rg", "-n", "uni", "--instance-ids", "0")
    assert [i["instanceId"] for i in az.json("vmss", "list-instances", "-g", "cli-rg", "-n", "uni")] == ["1"]

"""azure-mgmt-compute against azemu's virtual machines, Flexible scale sets and catalog: create a
VM from a marketplace image, drive its power with the SDK's pollers, read its instance view, run
its guest actions; make a Flexible set and find its VMs; list images, sizes and SKUs."""

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from conftest import SUBSCRIPTION, resource_client
from test_compute_sdk import POLL, compute_client, power

GROUP = "vm-rg"
NIC = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/Microsoft.Network/networkInterfaces/nic"


def vm_body(image_sku="22_04-lts-gen2"):
    # The SDK sends a dict as it is: the REST shape.
    return {
        "location": "westus",
        "properties": {
            "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
            "storageProfile": {
                "imageReference": {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": image_sku, "version": "latest"},
                "osDisk": {"createOption": "FromImage", "deleteOption": "Delete"},
            },
            "osProfile": {"computerName": "vm1", "adminUsername": "azureuser", "adminPassword": "Passw0rd!Passw0rd"},
            "networkProfile": {"networkInterfaces": [{"id": NIC}]},
        },
    }


def test_a_vm_from_create_to_delete(fast_emulator):
    resource_client(fast_emulator).resource_groups.create_or_update(GROUP, {"location": "westus"})
    compute = compute_client(fast_emulator)
    vms = compute.virtual_machines
    created = vms.begin_create_or_update(GROUP, "vm1", vm_body(), **POLL).result()
    assert created.provisioning_state == "Succeeded"
    assert created.storage_profile.image_reference.exact_version == "22.04.202611120"
    assert created.storage_profile.os_disk.delete_option == "Delete"
    view = vms.instance_view(GROUP, "vm1")
    assert power(view) == "PowerState/running"
    assert (view.computer_name, view.hyper_v_generation) == ("vm1", "V2")

    vms.begin_power_off(GROUP, "vm1", skip_shutdown=True, **POLL).result()
    assert power(vms.instance_view(GROUP, "vm1")) == "PowerState/stopped"
    vms.begin_start(GROUP, "vm1", **POLL).result()
    vms.begin_restart(GROUP, "vm1", **POLL).result()
    assert power(vms.get(GROUP, "vm1", expand="instanceView").instance_view) == "PowerState/running"

    run = vms.begin_run_command(GROUP, "vm1", {"commandId": "RunShellScript", "script": ["uptime"]}, **POLL).result()
    assert "runs nothing" in run.value[0].message
    assessment = vms.begin_assess_patches(GROUP, "vm1", **POLL).result()
    assert (assessment.status, assessment.available_patches) == ("Succeeded", [])
    installed = vms.begin_install_patches(GROUP, "vm1", {"maximumDuration": "PT1H", "rebootSetting": "IfRequired"}, **POLL).result()
    assert (installed.status, installed.reboot_status) == ("Succeeded", "NotNeeded")

    updated = vms.begin_update(GROUP, "vm1", {"tags": {"team": "sdk"}}, **POLL).result()
    assert updated.tags == {"team": "sdk"} and updated.hardware_profile.vm_size == "Standard_D2s_v5"
    assert [v.name for v in vms.list_all()] == ["vm1"]

    with pytest.raises(ResourceNotFoundError) as missing:
        vms.begin_create_or_update(GROUP, "vm2", vm_body("no-such-sku"), **POLL).result()
    assert missing.value.error.code == "PlatformImageNotFound"
    bad_size = vm_body()
    bad_size["properties"]["hardwareProfile"]["vmSize"] = "Standard_Imaginary"
    with pytest.raises(HttpResponseError) as refused:
        vms.begin_create_or_update(GROUP, "vm2", bad_size, **POLL).result()
    assert (refused.value.status_code, refused.value.error.target) == (400, "vmSize")

    vms.begin_deallocate(GROUP, "vm1", **POLL).result()
    vms.begin_delete(GROUP, "vm1", **POLL).result()
    assert list(vms.list(GROUP)) == []


def test_a_flexible_scale_set_and_its_vms(fast_emulator):
    resource_client(fast_emulator).resource_groups.create_or_update(GROUP, {"location": "westus"})
    compute = compute_client(fast_emulator)
    body = {
        "location": "westus",
        "sku": {"name": "Standard_D2s_v5", "capacity": 2},
        "properties": {
            "orchestrationMode": "Flexible",
            "platformFaultDomainCount": 1,
            "virtualMachineProfile": {
                "osProfile": {"computerNamePrefix": "flex", "adminUsername": "azureuser", "adminPassword": "Passw0rd!Passw0rd"},
                "storageProfile": {"imageReference": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}},
                "networkProfile": {"networkApiVersion": "2020-11-01", "networkInterfaceConfigurations": [
                    {"name": "nic", "properties": {"primary": True, "ipConfigurations": [{"name": "ip"}]}}]},
            },
        },
    }
    made = compute.virtual_machine_scale_sets.begin_create_or_update(GROUP, "flex", body, **POLL).result()
    assert (made.orchestration_mode, made.provisioning_state) == ("Flexible", "Succeeded")
    set_id = made.id
    members = list(compute.virtual_machines.list_all(filter=f"'virtualMachineScaleSet/id' eq '{set_id}'"))
    assert len(members) == 2 and all(m.virtual_machine_scale_set.id == set_id for m in members)
    assert all(power(compute.virtual_machines.instance_view(GROUP, m.name)) == "PowerState/running" for m in members)
    compute.virtual_machine_scale_sets.begin_update(GROUP, "flex", {"sku": {"capacity": 3}}, **POLL).result()
    assert len(list(compute.virtual_machines.list(GROUP))) == 3


def test_the_catalog_as_the_sdk_reads_it(fast_emulator):
    compute = compute_client(fast_emulator)
    images = compute.virtual_machine_images
    assert "Canonical" in [p.name for p in images.list_publishers("westus")]
    skus = [s.name for s in images.list_skus("westus", "MicrosoftWindowsServer", "WindowsServer")]
    assert "2022-datacenter-azure-edition" in skus
    newest = images.list("westus", "Canonical", "ubuntu-24_04-lts", "server", top=1, orderby="name desc")
    detail = images.get("westus", "Canonical", "ubuntu-24_04-lts", "server", newest[0].name)
    assert (detail.os_disk_image.operating_system, detail.hyper_v_generation) == ("Linux", "V2")
    with pytest.raises(ResourceNotFoundError):
        images.get("westus", "Canonical", "ubuntu-24_04-lts", "server", "0.0.0")
    sizes = {s.name: s for s in compute.virtual_machine_sizes.list("westus")}
    assert sizes["Standard_B2s"].number_of_cores == 2
    skus = list(compute.resource_skus.list(filter="location eq 'westus2'"))
    assert skus and all(s.locations == ["westus2"] for s in skus)

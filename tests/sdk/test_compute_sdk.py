"""Scale sets and their VMs through azure-mgmt-compute: a 2-instance set created and waited on,
its VMs listed, an instance view checked field by field against the seed's shape, power off,
start, deallocate, restart and reimage, scaling to 3 and back to 2, one VM deleted, a 404 for a
missing instance, and an injected failure surfacing through the poller."""

import time

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.compute.models import VirtualMachineScaleSetVMProtectionPolicy

from conftest import SUBSCRIPTION, StaticCredential, resource_client
from test_faults_sdk import add_fault

GROUP = "compute-rg"
SET = "web"
POLL = {"polling_interval": 0.2}


def compute_client(emu):
    return ComputeManagementClient(
        credential=StaticCredential(), subscription_id=SUBSCRIPTION, base_url=emu.endpoint, connection_verify=emu.ca_file
    )


def scale_set(capacity):
    return {
        "location": "westus",
        "sku": {"name": "Standard_D2s_v3", "tier": "Standard", "capacity": capacity},
        "properties": {
            "upgradePolicy": {"mode": "Manual"},
            "virtualMachineProfile": {
                "osProfile": {"computerNamePrefix": "web", "adminUsername": "azureuser", "adminPassword": "Secret-123!"},
                "storageProfile": {
                    "imageReference": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"},
                    "osDisk": {"createOption": "FromImage", "managedDisk": {"storageAccountType": "Premium_LRS"}},
                },
                "networkProfile": {"networkInterfaceConfigurations": [{"name": "nic", "properties": {"primary": True}}]},
            },
        },
    }


def create(emu, capacity=2):
    resource_client(emu).resource_groups.create_or_update(GROUP, {"location": "westus"})
    compute = compute_client(emu)
    created = compute.virtual_machine_scale_sets.begin_create_or_update(GROUP, SET, scale_set(capacity), **POLL).result()
    assert created.provisioning_state == "Succeeded"
    assert created.sku.capacity == capacity
    return compute


def power(view):
    return [s.code for s in view.statuses if s.code.startswith("PowerState/")][0]


def test_create_list_and_read_the_instance_view_as_the_seed_shows_it(fast_emulator):
    compute = create(fast_emulator)
    vms = list(compute.virtual_machine_scale_set_vms.list(GROUP, SET))
    assert [(vm.name, vm.instance_id) for vm in vms] == [("web_0", "0"), ("web_1", "1")]
    assert all(vm.provisioning_state == "Succeeded" for vm in vms)

    view = compute.virtual_machine_scale_set_vms.get_instance_view(GROUP, SET, "1")
    assert (view.platform_update_domain, view.platform_fault_domain) == (1, 1)
    assert view.computer_name == "web000001"
    assert (view.os_name, view.hyper_v_generation) == ("ubuntu", "V2")
    agent = view.vm_agent
    assert agent.vm_agent_version and agent.statuses[0].code.startswith("ProvisioningState/")
    assert agent.statuses[0].display_status in {"Ready", "Not Ready"}
    assert agent.statuses[0].level in {"Info", "Warning"}
    disk = view.disks[0]
    assert disk.name.startswith("web_web_1_OsDisk_1_")
    assert (disk.statuses[0].code, disk.statuses[0].display_status) == ("ProvisioningState/succeeded", "Provisioning succeeded")
    provisioning, power_state = view.statuses
    assert (provisioning.code, provisioning.level, provisioning.display_status) == (
        "ProvisioningState/succeeded",
        "Info",
        "Provisioning succeeded",
    )
    assert provisioning.time is not None
    assert (power_state.code, power_state.level, power_state.display_status, power_state.time) == (
        "PowerState/running",
        "Info",
        "VM running",
        None,
    )

    expanded = compute.virtual_machine_scale_set_vms.get(GROUP, SET, "0", expand="instanceView")
    assert power(expanded.instance_view) == "PowerState/running"

    with pytest.raises(ResourceNotFoundError) as missing:
        compute.virtual_machine_scale_set_vms.get_instance_view(GROUP, SET, "42")
    assert missing.value.error.code == "NotFound"


def test_power_actions_scaling_and_deletion(fast_emulator):
    compute = create(fast_emulator)
    vms = compute.virtual_machine_scale_set_vms

    vms.begin_power_off(GROUP, SET, "0", **POLL).result()
    assert power(vms.get_instance_view(GROUP, SET, "0")) == "PowerState/stopped"
    vms.begin_start(GROUP, SET, "0", **POLL).result()
    assert power(vms.get_instance_view(GROUP, SET, "0")) == "PowerState/running"
    vms.begin_deallocate(GROUP, SET, "0", **POLL).result()
    assert power(vms.get_instance_view(GROUP, SET, "0")) == "PowerState/deallocated"
    with pytest.raises(HttpResponseError) as refused:
        vms.begin_restart(GROUP, SET, "0", **POLL).result()
    assert refused.value.status_code == 409
    vms.begin_start(GROUP, SET, "0", **POLL).result()
    vms.begin_restart(GROUP, SET, "0", **POLL).result()
    vms.begin_reimage(GROUP, SET, "0", **POLL).result()
    assert power(vms.get_instance_view(GROUP, SET, "0")) == "PowerState/running"

    sets = compute.virtual_machine_scale_sets
    assert sets.begin_create_or_update(GROUP, SET, scale_set(3), **POLL).result().sku.capacity == 3
    assert [vm.instance_id for vm in vms.list(GROUP, SET)] == ["0", "1", "2"]
    assert sets.begin_update(GROUP, SET, {"sku": {"capacity": 2}}, **POLL).result().sku.capacity == 2
    assert [vm.instance_id for vm in vms.list(GROUP, SET)] == ["0", "1"]

    vms.begin_delete(GROUP, SET, "1", **POLL).result()
    assert [vm.instance_id for vm in vms.list(GROUP, SET)] == ["0"]
    assert sets.get(GROUP, SET).sku.capacity == 1
    summary = sets.get_instance_view(GROUP, SET).virtual_machine.statuses_summary
    assert {(s.code, s.count) for s in summary} >= {("PowerState/running", 1)}


def test_a_vm_update_changes_its_own_model_and_protects_it_from_scale_in(fast_emulator):
    compute = create(fast_emulator, capacity=3)
    vms = compute.virtual_machine_scale_set_vms
    vm = vms.get(GROUP, SET, "2")
    vm.tags = {"role": "canary"}
    vm.protection_policy = VirtualMachineScaleSetVMProtectionPolicy(protect_from_scale_in=True)
    updated = vms.begin_update(GROUP, SET, "2", vm, **POLL).result()
    assert updated.tags == {"role": "canary"}
    assert updated.protection_policy.protect_from_scale_in is True
    assert updated.provisioning_state == "Succeeded"

    sets = compute.virtual_machine_scale_sets
    sets.begin_update(GROUP, SET, {"sku": {"capacity": 2}}, **POLL).result()
    assert [vm.instance_id for vm in vms.list(GROUP, SET)] == ["0", "2"]


def test_the_model_as_compute_returns_it_and_changes_reaching_instances(fast_emulator):
    """azure-mgmt-compute at its default api-version: Compute's defaults, ETags, userData only when
    expanded, a licenseType string, and a model change marking Manual instances until upgraded."""
    resource_client(fast_emulator).resource_groups.create_or_update(GROUP, {"location": "westus"})
    compute = compute_client(fast_emulator)
    sets = compute.virtual_machine_scale_sets
    body = scale_set(2)
    body["properties"]["virtualMachineProfile"]["userData"] = "aGVsbG8="
    body["properties"]["virtualMachineProfile"]["licenseType"] = "RHEL_BYOS"
    created = sets.begin_create_or_update(GROUP, SET, body, **POLL).result()
    assert created.etag and created.virtual_machine_profile.os_profile.secrets == []
    assert created.virtual_machine_profile.os_profile.linux_configuration.disable_password_authentication is False
    nic = created.virtual_machine_profile.network_profile.network_interface_configurations[0]
    assert nic.dns_settings.dns_servers == [] and nic.enable_accelerated_networking is False
    assert created.virtual_machine_profile.time_created is not None
    assert sets.get(GROUP, SET).virtual_machine_profile.user_data is None
    assert sets.get(GROUP, SET, expand="userData").virtual_machine_profile.user_data == "aGVsbG8="
    vms = compute.virtual_machine_scale_set_vms
    vm = vms.get(GROUP, SET, "0")
    assert vm.etag and vm.time_created is not None and vm.license_type == "RHEL_BYOS" and vm.user_data is None
    assert vms.get(GROUP, SET, "0", expand="UserData").user_data == "aGVsbG8="

    changed = sets.get(GROUP, SET)
    changed.virtual_machine_profile.storage_profile.image_reference.sku = "minimal"
    sets.begin_create_or_update(GROUP, SET, changed, **POLL).result()
    assert [v.latest_model_applied for v in vms.list(GROUP, SET)] == [False, False]
    sets.begin_update_instances(GROUP, SET, {"instanceIds": ["1"]}, **POLL).result()
    upgraded = vms.get(GROUP, SET, "1")
    assert upgraded.latest_model_applied is True
    assert upgraded.storage_profile.image_reference.sku == "minimal"
    assert vms.get(GROUP, SET, "0").latest_model_applied is False


def test_a_vm_s_own_actions_through_the_sdk(fast_emulator):
    """Boot diagnostics (answered at once), disks attached through the SDK's poller (its result
    the storage profile), and a Spot VM's simulated eviction (204)."""
    resource_client(fast_emulator).resource_groups.create_or_update(GROUP, {"location": "westus"})
    compute = compute_client(fast_emulator)
    body = scale_set(1)
    profile = body["properties"]["virtualMachineProfile"]
    profile.update({"priority": "Spot", "evictionPolicy": "Deallocate", "diagnosticsProfile": {"bootDiagnostics": {"enabled": True}}})
    compute.virtual_machine_scale_sets.begin_create_or_update(GROUP, SET, body, **POLL).result()
    vms = compute.virtual_machine_scale_set_vms
    diag = vms.retrieve_boot_diagnostics_data(GROUP, SET, "0", sas_uri_expiration_time_in_minutes=30)
    assert ".screenshot.bmp?" in diag.console_screenshot_blob_uri and "serialconsole.log" in diag.serial_console_log_blob_uri
    disk = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/Microsoft.Compute/disks/data-a"
    storage = vms.begin_attach_detach_data_disks(GROUP, SET, "0", {"dataDisksToAttach": [{"diskId": disk}]}, **POLL).result()
    assert [(d.lun, d.managed_disk.id) for d in storage.data_disks] == [(0, disk)]
    vms.simulate_eviction(GROUP, SET, "0")
    view = None
    for _ in range(60):
        view = vms.get_instance_view(GROUP, SET, "0")
        if power(view) == "PowerState/deallocated":
            break
        time.sleep(0.2)
    assert power(view) == "PowerState/deallocated"


def test_an_injected_failure_surfaces_through_the_poller(fast_emulator):
    compute = create(fast_emulator, capacity=1)
    rule = {
        "match": {"operation": "VirtualMachineScaleSetVMs_PowerOff"},
        "action": {"failOperation": {"code": "VMAgentStatusCommunicationError", "message": "The VM agent did not answer."}},
    }
    add_fault(fast_emulator, rule)
    with pytest.raises(HttpResponseError) as failure:
        compute.virtual_machine_scale_set_vms.begin_power_off(GROUP, SET, "0", **POLL).result()
    assert "VMAgentStatusCommunicationError" in str(failure.value)
    view = compute.virtual_machine_scale_set_vms.get_instance_view(GROUP, SET, "0")
    assert view.statuses[0].code == "ProvisioningState/failed/VMAgentStatusCommunicationError"
    assert view.statuses[0].level == "Error"
    assert power(view) == "PowerState/running"


def test_a_set_action_fails_only_the_instance_a_fail_step_rule_names(fast_emulator):
    compute = create(fast_emulator, capacity=2)
    rule = {
        "match": {"operation": "VirtualMachineScaleSets_Restart", "step": "instances/1"},
        "action": {"failStep": {"code": "OSProvisioningTimedOut", "message": "The guest did not answer."}},
    }
    add_fault(fast_emulator, rule)
    with pytest.raises(HttpResponseError) as failure:
        compute.virtual_machine_scale_sets.begin_restart(GROUP, SET, **POLL).result()
    assert "OSProvisioningTimedOut" in str(failure.value)
    vms = compute.virtual_machine_scale_set_vms
    assert vms.get_instance_view(GROUP, SET, "1").statuses[0].code == "ProvisioningState/failed/OSProvisioningTimedOut"
    assert vms.get_instance_view(GROUP, SET, "0").statuses[0].code == "ProvisioningState/succeeded"

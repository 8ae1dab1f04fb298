"""azure-mgmt-azurestackhci, unmodified, over HTTPS against a started azemu."""

import datetime as dt
import time

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.azurestackhci import models

from conftest import SUBSCRIPTION, Emulator, hci_client, resource_client

GROUP = "ArcInstance-rg"
MACHINE = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/Microsoft.HybridCompute/machines/Node-1"


def setup_device(emu, name="default"):
    resource_client(emu).resource_groups.create_or_update(GROUP, {"location": "eastus"})
    hci = hci_client(emu)
    device = models.HciEdgeDevice(
        properties=models.HciEdgeDeviceProperties(
            device_configuration=models.DeviceConfiguration(
                nic_details=[models.NicDetail(adapter_name="ethernet", ip4_address="10.10.10.10", subnet_mask="255.255.255.0")],
                device_metadata="",
            )
        )
    )
    result = hci.edge_devices.begin_create_or_update(resource_uri=MACHINE, resource=device, edge_device_name=name).result()
    return hci, result


def collect_log_job(mode=None):
    now = dt.datetime.now(dt.timezone.utc)
    return models.HciEdgeDeviceJob(
        properties=models.HciCollectLogJobProperties(
            from_date=now - dt.timedelta(hours=2), to_date=now, deployment_mode=mode
        )
    )


def remote_support_job(kind="Enable", expires_in=dt.timedelta(hours=8)):
    return models.HciEdgeDeviceJob(
        properties=models.HciRemoteSupportJobProperties(
            access_level="Diagnostics",
            expiration_timestamp=dt.datetime.now(dt.timezone.utc) + expires_in,
            type=kind,
        )
    )


def test_resource_group_and_edge_device(emulator):
    hci, device = setup_device(emulator)
    assert isinstance(device, models.HciEdgeDevice)
    assert device.kind == "HCI"
    assert device.properties.provisioning_state == "Succeeded"
    assert device.properties.reported_properties.device_state == "Connected"
    assert device.system_data.created_by == "sdk-tester@contoso.com"
    fetched = hci.edge_devices.get(MACHINE, "default")
    assert fetched.id == f"{MACHINE}/providers/Microsoft.AzureStackHCI/edgeDevices/default"
    # The network a real device reports, through the SDK's models at its default api-version.
    network = fetched.properties.reported_properties.network_profile
    assert network.switch_details[0].switch_type == "External"
    intent = network.host_network.intents[0]
    assert intent.is_management_intent_set and intent.intent_adapters == [n.adapter_name for n in network.nic_details]
    assert network.host_network.storage_networks[0].storage_adapter_ip_info[0].physical_node == "Node-1"
    assert [d.name for d in hci.edge_devices.list(MACHINE)] == ["default"]
    group = resource_client(emulator).resource_groups.get(GROUP)
    assert group.location == "eastus"
    assert resource_client(emulator).resource_groups.check_existence(GROUP) is True


def test_validate_edge_device(emulator):
    hci, device = setup_device(emulator)
    result = hci.edge_devices.begin_validate(resource_uri=MACHINE, validate_request=models.ValidateRequest(edge_device_ids=[device.id]), edge_device_name="default").result()
    assert result.status == "Succeeded"


def test_both_job_types_run_to_succeeded(emulator):
    hci, _ = setup_device(emulator)
    support = hci.edge_device_jobs.begin_create_or_update(MACHINE, "support-1", remote_support_job(), edge_device_name="default").result()
    assert isinstance(support, models.HciEdgeDeviceJob)
    assert isinstance(support.properties, models.HciRemoteSupportJobProperties)
    assert support.properties.status == "Succeeded"
    assert support.properties.provisioning_state == "Succeeded"
    reported = support.properties.reported_properties
    assert reported.percent_complete == 100
    assert reported.node_settings.connection_status == "Connected"
    assert reported.session_details[0].access_level == "Diagnostics"
    assert support.properties.start_time_utc < support.properties.end_time_utc

    logs = hci.edge_device_jobs.begin_create_or_update(MACHINE, "collect-1", collect_log_job(), edge_device_name="default").result()
    assert isinstance(logs.properties, models.HciCollectLogJobProperties)
    assert logs.properties.status == "Succeeded"
    session = logs.properties.reported_properties.log_collection_session_details[0]
    assert session.status == "Succeeded" and session.log_size > 0
    assert logs.properties.last_log_generated is not None

    names = sorted(j.name for j in hci.edge_device_jobs.list_by_edge_device(MACHINE, edge_device_name="default"))
    assert names == ["collect-1", "support-1"]


def test_watch_a_job_progress_with_get(emulator):
    hci, _ = setup_device(emulator)
    poller = hci.edge_device_jobs.begin_create_or_update(MACHINE, "watch-1", collect_log_job(), edge_device_name="default", polling=False)
    first = poller.result()
    assert first.properties.status == "Scheduled"
    seen, percents = [], []
    deadline = time.time() + 20
    while time.time() < deadline:
        job = hci.edge_device_jobs.get(MACHINE, "watch-1", edge_device_name="default")
        if not seen or seen[-1] != job.properties.status:
            seen.append(job.properties.status)
        percents.append(job.properties.reported_properties.percent_complete or 0)
        if job.properties.status == "Succeeded":
            break
        time.sleep(0.1)
    assert seen[0] == "Scheduled" and seen[-1] == "Succeeded"
    assert "ValidationInProgress" in seen or "DeploymentInProgress" in seen
    assert percents == sorted(percents) and percents[-1] == 100


def test_delete_job_and_device(emulator):
    hci, _ = setup_device(emulator)
    hci.edge_device_jobs.begin_create_or_update(MACHINE, "collect-1", collect_log_job("Validate"), edge_device_name="default").result()
    hci.edge_device_jobs.begin_delete(MACHINE, "collect-1", edge_device_name="default").result()
    with pytest.raises(ResourceNotFoundError) as missing:
        hci.edge_device_jobs.get(MACHINE, "collect-1", edge_device_name="default")
    assert missing.value.error.code == "ResourceNotFound"
    hci.edge_devices.begin_delete(MACHINE, "default").result()
    with pytest.raises(ResourceNotFoundError):
        hci.edge_devices.get(MACHINE, "default")
    # Deleting what is already gone answers 204, which the SDK accepts.
    hci.edge_devices.begin_delete(MACHINE, "default").result()


def test_bad_requests_surface_as_4xx(emulator):
    hci, _ = setup_device(emulator)
    with pytest.raises(HttpResponseError) as bad_name:
        hci.edge_device_jobs.begin_create_or_update(MACHINE, "x", collect_log_job(), edge_device_name="default")
    assert bad_name.value.status_code == 400 and bad_name.value.error.code == "InvalidResourceName"

    now = dt.datetime.now(dt.timezone.utc)
    reversed_range = models.HciEdgeDeviceJob(properties=models.HciCollectLogJobProperties(from_date=now, to_date=now - dt.timedelta(days=1)))
    with pytest.raises(HttpResponseError) as bad_range:
        hci.edge_device_jobs.begin_create_or_update(MACHINE, "range-1", reversed_range, edge_device_name="default")
    assert bad_range.value.status_code == 400 and bad_range.value.error.code == "InvalidParameter"

    with pytest.raises(ResourceNotFoundError) as orphan:
        hci.edge_device_jobs.begin_create_or_update(MACHINE, "orphan-1", collect_log_job(), edge_device_name="ghost")
    assert orphan.value.error.code == "ParentResourceNotFound"

    with pytest.raises(HttpResponseError) as expired:
        hci.edge_device_jobs.begin_create_or_update(
            MACHINE, "late-1", remote_support_job(expires_in=dt.timedelta(hours=-1)), edge_device_name="default"
        ).result()
    assert "JobValidationFailed" in str(expired.value)
    late = hci.edge_device_jobs.get(MACHINE, "late-1", edge_device_name="default")
    assert late.properties.status == "Failed"

    with pytest.raises(ResourceNotFoundError) as no_group:
        hci_client(emulator).edge_devices.begin_create_or_update(
            f"/subscriptions/{SUBSCRIPTION}/resourceGroups/missing-rg/providers/Microsoft.HybridCompute/machines/n1",
            models.HciEdgeDevice(properties=models.HciEdgeDeviceProperties()),
            edge_device_name="default",
        )
    assert no_group.value.error.code == "ResourceGroupNotFound"


def test_restart_keeps_everything_and_jobs_continue(data_dir):
    first = Emulator(data_dir)
    try:
        hci, _ = setup_device(first)
        started = hci.edge_device_jobs.begin_create_or_update(MACHINE, "collect-1", collect_log_job(), edge_device_name="default", polling=False).result()
        job_id = started.properties.job_id
    finally:
        first.kill()
    second = Emulator(data_dir)
    try:
        hci = hci_client(second)
        assert hci.edge_devices.get(MACHINE, "default").properties.provisioning_state == "Succeeded"
        deadline = time.time() + 20
        while True:
            job = hci.edge_device_jobs.get(MACHINE, "collect-1", edge_device_name="default")
            assert job.properties.job_id == job_id
            if job.properties.status == "Succeeded":
                break
            assert time.time() < deadline, job.properties.status
            time.sleep(0.2)
    finally:
        second.stop()

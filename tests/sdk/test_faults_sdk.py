"""Fault rules seen through the official SDK: azure-core's retries and pollers meet them as they
would meet Azure's own throttling, outages and failed operations."""

import time

import pytest
import requests
from azure.core.exceptions import HttpResponseError

from conftest import hci_client, resource_client
from test_hci_sdk import MACHINE, collect_log_job, setup_device


def add_fault(emu, rule):
    r = requests.post(f"{emu.endpoint}/_azemu/faults", json=rule, verify=emu.ca_file, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def hits(emu, rule):
    r = requests.get(f"{emu.endpoint}/_azemu/faults/{rule['id']}", verify=emu.ca_file, timeout=10)
    return r.json()["hits"]


def test_throttling_is_retried_without_the_caller_seeing_it(emulator):
    rule = add_fault(
        emulator,
        {
            "match": {"operation": "ResourceGroups_CreateOrUpdate"},
            "action": {"error": {"status": 429, "retryAfter": 1}},
            "times": 2,
        },
    )
    started = time.monotonic()
    group = resource_client(emulator).resource_groups.create_or_update("throttled-rg", {"location": "eastus"})
    assert group.name == "throttled-rg"
    assert hits(emulator, rule) == 2
    assert time.monotonic() - started >= 2, "azure-core waited Retry-After before each retry"


def test_a_server_error_and_a_dropped_connection_are_retried(emulator):
    hci, _ = setup_device(emulator)
    outage = add_fault(emulator, {"match": {"operation": "EdgeDevices_Get"}, "action": {"error": {"status": 503}}})
    dropped = add_fault(emulator, {"match": {"operation": "EdgeDevices_Get"}, "action": {"dropConnection": True}})
    device = hci.edge_devices.get(MACHINE, "default")
    assert device.name == "default"
    assert hits(emulator, outage) == 1
    assert hits(emulator, dropped) == 1


def test_fail_operation_surfaces_from_the_poller(emulator):
    hci, _ = setup_device(emulator)
    add_fault(
        emulator,
        {
            "match": {"operation": "EdgeDeviceJobs_CreateOrUpdate"},
            "action": {"failOperation": {"code": "LogUploadFailed", "message": "the share is full"}},
        },
    )
    poller = hci.edge_device_jobs.begin_create_or_update(MACHINE, "logs-1", collect_log_job(), edge_device_name="default")
    with pytest.raises(HttpResponseError) as failure:
        poller.result()
    assert "LogUploadFailed" in str(failure.value)
    job = hci.edge_device_jobs.get(MACHINE, "logs-1", edge_device_name="default")
    assert job.properties.status == "Failed"
    assert job.properties.provisioning_state == "Failed"


def test_fail_step_fails_the_job_at_that_step(emulator):
    hci, _ = setup_device(emulator)
    add_fault(
        emulator,
        {"match": {"step": "LogCollectionDeployment/UploadLogArchive"}, "action": {"failStep": {"code": "UploadFailed", "message": "503 from the share"}}},
    )
    poller = hci.edge_device_jobs.begin_create_or_update(MACHINE, "logs-2", collect_log_job(), edge_device_name="default")
    with pytest.raises(HttpResponseError) as failure:
        poller.result()
    assert "UploadFailed" in str(failure.value)
    job = hci.edge_device_jobs.get(MACHINE, "logs-2", edge_device_name="default")
    steps = job.properties.reported_properties.deployment_status.steps[0].steps
    assert [s.status for s in steps] == ["Success", "Success", "Error"]
    assert steps[-1].exception == ["503 from the share"]

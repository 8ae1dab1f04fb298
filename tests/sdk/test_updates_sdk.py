"""HCI updates, update runs and summaries through azure-mgmt-azurestackhci: the seed's update-run
PUT round-tripped level by level, summaries, lists, deletes, a 404."""

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.azurestackhci import models

from conftest import hci_client, resource_client

GROUP = "hci-updates-rg"
UPDATE = "Microsoft4.2203.2.32"
RUN = "23b779ba-0d52-4a80-8571-45ca74664ec3"

SEED_PROGRESS = {
    "name": "Unnamed step",
    "description": "Update Azure Stack.",
    "errorMessage": "",
    "status": "Success",
    "startTimeUtc": "2022-04-06T01:36:33.3876751+00:00",
    "endTimeUtc": "2022-04-06T13:58:42.969006+00:00",
    "lastUpdatedTimeUtc": "2022-04-06T13:58:42.969006+00:00",
    "steps": [
        {
            "name": "PreUpdate Cloud",
            "description": "Prepare for SSU update",
            "errorMessage": "",
            "status": "Success",
            "startTimeUtc": "2022-04-06T01:36:33.3876751+00:00",
            "endTimeUtc": "2022-04-06T01:37:16.8728314+00:00",
            "lastUpdatedTimeUtc": "2022-04-06T01:37:16.8728314+00:00",
            "steps": [],
        }
    ],
}


def setup_cluster(emu):
    resource_client(emu).resource_groups.create_or_update(GROUP, {"location": "westus"})
    hci = hci_client(emu)
    hci.clusters.create(GROUP, "testcluster", models.Cluster(location="West US"))
    return hci


def test_the_seeds_update_run_round_trips(emulator):
    hci = setup_cluster(emulator)
    update = hci.updates.put(
        GROUP,
        "testcluster",
        UPDATE,
        {"properties": {"state": "Installed", "version": "4.2203.2.32", "displayName": "AzS Update - 4.2203.2.32"}},
    )
    assert update.name == UPDATE
    assert update.properties.state == "Installed"

    run = hci.update_runs.put(GROUP, "testcluster", UPDATE, RUN, {"properties": {"progress": SEED_PROGRESS}})
    assert run.name == f"{UPDATE}/{RUN}"
    assert run.type == "Microsoft.AzureStackHCI/updates/updateRuns"
    assert run.location == "westus"  # ARM stores a location normalized
    fetched = hci.update_runs.get(GROUP, "testcluster", UPDATE, RUN)
    top = fetched.properties.progress
    assert (top.name, top.description, top.status, top.error_message) == ("Unnamed step", "Update Azure Stack.", "Success", "")
    child = top.steps[0]
    assert (child.name, child.description, child.status) == ("PreUpdate Cloud", "Prepare for SSU update", "Success")
    assert child.steps == []
    assert fetched.as_dict()["properties"]["progress"] == SEED_PROGRESS
    assert [r.name for r in hci.update_runs.list(GROUP, "testcluster", UPDATE)] == [f"{UPDATE}/{RUN}"]

    summary = hci.update_summaries.put(GROUP, "testcluster", {"properties": {"state": "UpdateAvailable", "currentVersion": "4.2202.0.1"}})
    assert summary.properties.state == "UpdateAvailable"
    assert [s.name for s in hci.update_summaries.list(GROUP, "testcluster")] == ["default"]

    hci.update_runs.begin_delete(GROUP, "testcluster", UPDATE, RUN).result()
    with pytest.raises(ResourceNotFoundError):
        hci.update_runs.get(GROUP, "testcluster", UPDATE, RUN)
    hci.updates.begin_delete(GROUP, "testcluster", UPDATE).result()
    assert list(hci.updates.list(GROUP, "testcluster")) == []


def test_a_bad_step_status_is_a_400_with_its_path(emulator):
    hci = setup_cluster(emulator)
    hci.updates.put(GROUP, "testcluster", UPDATE, {"properties": {"state": "Ready"}})
    bad = dict(SEED_PROGRESS, status="Finished")
    with pytest.raises(HttpResponseError) as failure:
        hci.update_runs.put(GROUP, "testcluster", UPDATE, RUN, {"properties": {"progress": bad}})
    assert failure.value.status_code == 400
    assert failure.value.error.target == "properties.progress.status"

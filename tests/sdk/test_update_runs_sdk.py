"""Applying and preparing HCI updates through azure-mgmt-azurestackhci: begin_prepare and
begin_post waited on with .result(), the run's step tree read level by level while it runs and at
the end, the summary before and after, a 409 while a run holds the cluster, a 400 for an update
already installed, and an injected step failure surfacing through the poller."""

import time

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.azurestackhci import models

from conftest import hci_client, resource_client
from test_faults_sdk import add_fault

GROUP = "hci-runs-rg"
CLUSTER = "cluster-2"
UPDATE = "Solution10.2411.0.24"
STATUSES = {"NotStarted", "InProgress", "Success", "Error", "Skipped"}


def setup(emu):
    resource_client(emu).resource_groups.create_or_update(GROUP, {"location": "westus"})
    hci = hci_client(emu)
    hci.clusters.create(GROUP, CLUSTER, models.Cluster(location="westus"))
    return hci


def publish(hci, name):
    return hci.updates.put(
        GROUP,
        CLUSTER,
        name,
        {"properties": {"state": "Ready", "version": name.removeprefix("Solution"), "displayName": f"Solution {name}"}},
    )


def the_run(hci, update):
    runs = list(hci.update_runs.list(GROUP, CLUSTER, update))
    assert runs, "the apply started a run"
    return max(runs, key=lambda r: r.properties.time_started)


def check_tree(step, depth=0):
    """Every level has the seed's fields; a parent's status follows its children's."""
    assert step.name and step.description is not None and step.error_message is not None
    assert step.status in STATUSES, step.status
    children = step.steps or []
    for child in children:
        check_tree(child, depth + 1)
    if children:
        kinds = {c.status for c in children}
        if "Error" in kinds:
            assert step.status == "Error"
        elif kinds <= {"Success", "Skipped"}:
            assert step.status in {"Success", "Skipped"}
        elif kinds == {"NotStarted"}:
            assert step.status == "NotStarted"
        else:
            assert step.status == "InProgress"
        ends = [c.last_updated_time_utc for c in children if c.last_updated_time_utc]
        if ends:
            assert step.last_updated_time_utc == max(ends)
    if step.status in {"Success", "Error"}:
        assert step.start_time_utc and step.end_time_utc and step.start_time_utc <= step.end_time_utc


def test_prepare_then_apply_walks_the_tree_and_the_summary_follows(fast_emulator):
    hci = setup(fast_emulator)
    before = hci.update_summaries.get(GROUP, CLUSTER)
    assert (before.properties.state, before.properties.current_version) == ("AppliedSuccessfully", "10.2408.0.29")
    publish(hci, UPDATE)
    assert hci.update_summaries.get(GROUP, CLUSTER).properties.state == "UpdateAvailable"

    assert hci.updates.begin_prepare(GROUP, CLUSTER, UPDATE, polling_interval=0.2).result() is None
    prepared = hci.updates.get(GROUP, CLUSTER, UPDATE)
    assert prepared.properties.state == "ReadyToInstall"
    assert prepared.properties.health_state == "Success"
    assert len(prepared.properties.health_check_result) == 3

    poller = hci.updates.begin_post(GROUP, CLUSTER, UPDATE, polling_interval=0.2)
    seen = set()
    while not poller.done():
        run = the_run(hci, UPDATE)
        progress = run.properties.progress
        check_tree(progress)
        seen.add((run.properties.state, progress.status))
        assert [s.name for s in progress.steps] == ["Prepare", "Node-1", "Node-2", "Post-update cleanup"]
        assert progress.steps[0].status == "Skipped", "prepared already"
        time.sleep(0.2)
    assert poller.result() is None
    assert ("InProgress", "InProgress") in seen, seen

    run = the_run(hci, UPDATE)
    assert run.name.startswith(f"{UPDATE}/")
    assert run.properties.state == "Succeeded"
    assert run.properties.duration == "PT2.9S"
    progress = run.properties.progress
    check_tree(progress)
    assert progress.status == "Success"
    for node in progress.steps[1:3]:
        assert [(s.name, s.status) for s in node.steps] == [
            ("Drain", "Success"),
            ("Install", "Success"),
            ("Restart", "Success"),
            ("Resume", "Success"),
        ]
    installed = hci.updates.get(GROUP, CLUSTER, UPDATE)
    assert installed.properties.state == "Installed"
    after = hci.update_summaries.get(GROUP, CLUSTER)
    assert (after.properties.state, after.properties.current_version) == ("AppliedSuccessfully", "10.2411.0.24")
    assert after.properties.last_updated == progress.end_time_utc

    with pytest.raises(HttpResponseError) as refused:
        hci.updates.begin_post(GROUP, CLUSTER, UPDATE).result()
    assert refused.value.status_code == 400
    assert "Installed" in refused.value.message


def test_a_second_run_on_the_cluster_is_a_409_naming_the_first(fast_emulator):
    hci = setup(fast_emulator)
    publish(hci, UPDATE)
    publish(hci, "Solution10.2411.1.3")
    first = hci.updates.begin_post(GROUP, CLUSTER, UPDATE, polling_interval=0.2)
    holder = the_run(hci, UPDATE).name
    with pytest.raises(HttpResponseError) as conflict:
        hci.updates.begin_post(GROUP, CLUSTER, "Solution10.2411.1.3")
    assert conflict.value.status_code == 409
    assert holder in conflict.value.message
    first.result()


def test_an_injected_step_failure_surfaces_through_the_poller(fast_emulator):
    hci = setup(fast_emulator)
    publish(hci, UPDATE)
    rule = {
        "match": {"step": "Node-2/Restart"},
        "action": {"failStep": {"code": "NodeRestartFailed", "message": "Node-2 did not come back after its restart."}},
    }
    add_fault(fast_emulator, rule)
    with pytest.raises(HttpResponseError) as failure:
        hci.updates.begin_post(GROUP, CLUSTER, UPDATE, polling_interval=0.2).result()
    assert "Node-2 did not come back" in str(failure.value)
    run = the_run(hci, UPDATE)
    assert run.properties.state == "Failed"
    progress = run.properties.progress
    check_tree(progress)
    node2 = progress.steps[2]
    assert (node2.status, node2.error_message) == ("Error", "Node-2 did not come back after its restart.")
    assert [s.status for s in node2.steps] == ["Success", "Success", "Error", "NotStarted"]
    assert hci.updates.get(GROUP, CLUSTER, UPDATE).properties.state == "InstallationFailed"
    assert hci.update_summaries.get(GROUP, CLUSTER).properties.state == "UpdateFailed"

    # The rule is used up: applying again finishes from the failed step.
    hci.updates.begin_post(GROUP, CLUSTER, UPDATE, polling_interval=0.2).result()
    rerun = the_run(hci, UPDATE)
    assert rerun.name != run.name and rerun.properties.state == "Succeeded"
    assert [s.status for s in rerun.properties.progress.steps[2].steps] == ["Skipped", "Skipped", "Success", "Success"]

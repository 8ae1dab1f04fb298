"""HCI clusters through azure-mgmt-azurestackhci: create, get, update, list, delete."""

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.azurestackhci import models

from conftest import hci_client, resource_client

GROUP = "hci-clusters-rg"


def test_cluster_create_get_update_list_delete(emulator):
    resource_client(emulator).resource_groups.create_or_update(GROUP, {"location": "eastus"})
    hci = hci_client(emulator)
    cluster = models.Cluster(
        location="eastus",
        kind="AzureLocal",
        tags={"azemu-node-count": "3"},
        identity=models.ManagedServiceIdentity(type="SystemAssigned"),
        properties=models.ClusterProperties(
            aad_client_id="24a6e53d-04e5-44d2-b7cc-1b732a847dfc",
            aad_tenant_id="7e589cc1-a8b6-4dff-91bd-5ec0fa18db94",
        ),
    )
    created = hci.clusters.create(GROUP, "cluster-1", cluster)
    assert created.properties.provisioning_state == "Succeeded"
    assert created.kind == "AzureLocal"
    assert [n.name for n in created.properties.reported_properties.nodes] == ["Node-1", "Node-2", "Node-3"]
    assert created.identity.tenant_id == "7e589cc1-a8b6-4dff-91bd-5ec0fa18db94"

    assert hci.clusters.get(GROUP, "cluster-1").properties.cloud_id == created.properties.cloud_id

    patch = models.ClusterPatch(
        tags={"azemu-node-count": "3", "env": "ci"},
        properties=models.ClusterPatchProperties(
            desired_properties=models.ClusterDesiredProperties(diagnostic_level="Enhanced")
        ),
    )
    updated = hci.clusters.update(GROUP, "cluster-1", patch)
    assert updated.tags["env"] == "ci"
    assert updated.properties.desired_properties.diagnostic_level == "Enhanced"
    assert updated.properties.aad_client_id == "24a6e53d-04e5-44d2-b7cc-1b732a847dfc"

    hci.clusters.create(GROUP, "cluster-2", models.Cluster(location="eastus"))
    assert sorted(c.name for c in hci.clusters.list_by_resource_group(GROUP)) == ["cluster-1", "cluster-2"]
    assert {"cluster-1", "cluster-2"} <= {c.name for c in hci.clusters.list_by_subscription()}

    hci.clusters.begin_delete(GROUP, "cluster-1").result()
    with pytest.raises(ResourceNotFoundError):
        hci.clusters.get(GROUP, "cluster-1")

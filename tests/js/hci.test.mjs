// @azure/arm-azurestackhci 3.1.0, the only npm release, at its default api-version 2022-05-01:
// a cluster is created, read in that version's shape, patched, listed and deleted through the
// SDK's own poller. Run by tests/sdk/test_js_sdk.py.
import assert from "node:assert/strict";
import { test } from "node:test";

import { AzureStackHCIClient } from "@azure/arm-azurestackhci";
import { ResourceManagementClient } from "@azure/arm-resources";
import { ClientSecretCredential } from "@azure/identity";

const endpoint = process.env.AZEMU_ENDPOINT;
const subscription = process.env.AZEMU_SUBSCRIPTION;
const tenant = "7e5a1e00-a2e0-4c0d-8e00-000000000001";
const group = "js-hci-rg";

const credential = new ClientSecretCredential(tenant, "js-pipeline", "any-secret", {
  authorityHost: endpoint,
  disableInstanceDiscovery: true,
});
const hci = new AzureStackHCIClient(credential, subscription, { endpoint });
const resources = new ResourceManagementClient(credential, subscription, { endpoint });

test("a cluster's life through the HCI SDK at its default api-version", async () => {
  assert.equal(hci.apiVersion, "2022-05-01");
  await resources.resourceGroups.createOrUpdate(group, { location: "eastus" });
  const created = await hci.clusters.create(group, "edge1", {
    location: "East US",
    aadClientId: "24a6e53d-04e5-44d2-b7cc-1b732a847dfc",
    aadTenantId: "7e589cc1-a8b6-4dff-91bd-5ec0fa18db94",
    desiredProperties: { windowsServerSubscription: "Enabled", diagnosticLevel: "Enhanced" },
  });
  assert.equal(created.provisioningState, "Succeeded");
  assert.equal(created.location, "eastus");
  assert.equal(created.reportedProperties.nodes.length, 2);

  const got = await hci.clusters.get(group, "edge1");
  assert.equal(got.aadTenantId, "7e589cc1-a8b6-4dff-91bd-5ec0fa18db94");
  assert.equal(got.desiredProperties.diagnosticLevel, "Enhanced");

  const patched = await hci.clusters.update(group, "edge1", { tags: { env: "lab" } });
  assert.deepEqual(patched.tags, { env: "lab" });

  const listed = [];
  for await (const c of hci.clusters.listByResourceGroup(group)) listed.push(c.name);
  assert.deepEqual(listed, ["edge1"]);

  await hci.clusters.beginDeleteAndWait(group, "edge1", { updateIntervalInMs: 200 });
  const left = [];
  for await (const c of hci.clusters.listBySubscription()) left.push(c.name);
  assert.ok(!left.includes("edge1"));
  await resources.resourceGroups.beginDeleteAndWait(group, { updateIntervalInMs: 200 });
});

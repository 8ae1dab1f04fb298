// The official Azure SDKs for JavaScript against a running azemu (AZEMU_ENDPOINT), signed in
// through @azure/identity: every long-running operation of a scale set and its VMs, a tag
// change, the resource list, the providers, and deletes down to the resource group, each
// awaited to completion by the SDK's own poller. Run by tests/sdk/test_js_sdk.py.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ComputeManagementClient } from "@azure/arm-compute";
import { ResourceManagementClient } from "@azure/arm-resources";
import { ClientSecretCredential } from "@azure/identity";

const endpoint = process.env.AZEMU_ENDPOINT;
const subscription = process.env.AZEMU_SUBSCRIPTION;
const tenant = "7e5a1e00-a2e0-4c0d-8e00-000000000001";
const group = "js-rg";
const set = "web";

const credential = new ClientSecretCredential(tenant, "js-pipeline", "any-secret", {
  authorityHost: endpoint,
  disableInstanceDiscovery: true,
});
const options = { endpoint };
const compute = new ComputeManagementClient(credential, subscription, options);
const resources = new ResourceManagementClient(credential, subscription, options);
const poll = { updateIntervalInMs: 200 };

const scaleSet = (capacity) => ({
  location: "West US",
  sku: { name: "Standard_D2s_v3", tier: "Standard", capacity },
  // The SDK's models flatten `properties`.
  upgradePolicy: { mode: "Manual" },
  virtualMachineProfile: {
    osProfile: { computerNamePrefix: "web", adminUsername: "azureuser", adminPassword: "Secret-123!" },
    storageProfile: {
      imageReference: { publisher: "Canonical", offer: "ubuntu-24_04-lts", sku: "server", version: "latest" },
      osDisk: { createOption: "FromImage", managedDisk: { storageAccountType: "Premium_LRS" } },
    },
    networkProfile: { networkInterfaceConfigurations: [{ name: "nic", primary: true }] },
  },
});

async function powerState(instanceId) {
  const view = await compute.virtualMachineScaleSetVMs.getInstanceView(group, set, instanceId);
  return view.statuses.map((s) => s.code).find((c) => c.startsWith("PowerState/"));
}

test("scale-set LROs, tags, listings and deletes complete in the JavaScript pollers", async () => {
  await resources.resourceGroups.createOrUpdate(group, { location: "westus" });
  const created = await compute.virtualMachineScaleSets.createOrUpdate(group, set, scaleSet(2), poll);
  assert.equal(created.provisioningState, "Succeeded");
  assert.equal(created.location, "westus", "stored normalized");

  const vms = compute.virtualMachineScaleSetVMs;
  await vms.powerOff(group, set, "0", poll);
  assert.equal(await powerState("0"), "PowerState/stopped");
  await vms.start(group, set, "0", poll);
  assert.equal(await powerState("0"), "PowerState/running");
  await vms.restart(group, set, "0", poll);
  await vms.deallocate(group, set, "1", poll);
  assert.equal(await powerState("1"), "PowerState/deallocated");
  await vms.reimage(group, set, "0", poll);
  await vms.redeploy(group, set, "0", poll);
  await vms.performMaintenance(group, set, "0", poll);

  const sets = compute.virtualMachineScaleSets;
  await sets.powerOff(group, set, { ...poll, vmInstanceIDs: { instanceIds: ["0"] } });
  assert.equal(await powerState("0"), "PowerState/stopped");
  await sets.start(group, set, poll);
  assert.equal(await powerState("1"), "PowerState/running");
  await sets.restart(group, set, poll);
  await sets.deallocate(group, set, poll);
  assert.equal(await powerState("0"), "PowerState/deallocated");

  const id = `/subscriptions/${subscription}/resourceGroups/${group}/providers/Microsoft.Compute/virtualMachineScaleSets/${set}`;
  const tags = await resources.tagsOperations.updateAtScope(id, { operation: "Merge", properties: { tags: { env: "ci" } } }, poll);
  assert.deepEqual(tags.properties.tags, { env: "ci" });
  const listed = [];
  for await (const r of resources.resources.list({ filter: "tagName eq 'env' and tagValue eq 'ci'" })) listed.push(r.name);
  assert.deepEqual(listed, [set]);
  const provider = await resources.providers.get("Microsoft.Compute");
  assert.equal(provider.registrationState, "Registered");
  assert.ok(provider.resourceTypes.some((t) => t.resourceType === "virtualMachineScaleSets"));

  await vms.delete(group, set, "1", poll);
  const remaining = [];
  for await (const vm of vms.list(group, set)) remaining.push(vm.instanceId);
  assert.deepEqual(remaining, ["0"]);
  await sets.delete(group, set, poll);
  await resources.resourceGroups.delete(group, poll);
  assert.equal((await resources.resourceGroups.checkExistence(group)).body, false);
});

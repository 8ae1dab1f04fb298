// The dashboard in headless Chromium (Debian's, driven by playwright-core): resources made
// through the API appear and move on the page without a reload: a job's bar, an update run's
// running step, a scale set's tiles after a power action, a publishing operation's steps; a
// fault rule added from the form fires; the clock advances, pauses and resets from the page;
// a guarded azemu asks for a sign-in. No console errors. Run by tests/sdk/test_dashboard.py.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { mkdirSync } from "node:fs";

import { chromium } from "playwright-core";

const endpoint = process.env.AZEMU_ENDPOINT;
const guarded = process.env.AZEMU_GUARDED_ENDPOINT;
const secret = process.env.AZEMU_GUARDED_SECRET;
const subscription = process.env.AZEMU_SUBSCRIPTION;
const shots = process.env.AZEMU_SCREENSHOTS;
const group = `/subscriptions/${subscription}/resourceGroups/dash`;
const HCI = "api-version=2026-10-01";
const COMPUTE = "api-version=2024-07-01";

const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
const token = `${b64({ alg: "none", typ: "JWT" })}.${b64({ upn: "dash@contoso.com", oid: "00000000-0000-0000-0000-000000000002", exp: Math.floor(Date.now() / 1000) + 3600 })}.c2ln`;

async function api(method, path, body, headers = {}) {
  const response = await fetch(`${endpoint}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

const advance = (seconds) => api("POST", "/_azemu/clock/advance", { seconds });

let browser;
let page;
const problems = [];
/** The one request the page is made to fail on purpose (a refused fault rule): its 4xx is logged. */
let failingOnPurpose = null;

async function shot(name) {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  await page.waitForTimeout(400);
  await page.screenshot({ path: `${shots}/${name}.png` });
}

async function choose(name) {
  await page.click("#tab-resources");
  await page.locator(`#tree button.resource[title$="/${name}"]`).click();
  await page.waitForSelector("#detail section.view");
}

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  page = await browser.newPage({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
  page.on("console", (m) => {
    const url = m.location()?.url ?? "";
    if (m.type() === "error" && !(failingOnPurpose && url.endsWith(failingOnPurpose))) problems.push(`${m.text()} ${url}`);
  });
  page.on("pageerror", (e) => problems.push(e.message));
  assert.equal((await api("PUT", `${group}?api-version=2025-04-01`, { location: "eastus" })).status, 201);
  await page.goto(`${endpoint}/_azemu/ui/`);
  await page.waitForFunction(() => window.azemuDashboard?.ready);
  // Set once: a reload would lose it.
  await page.evaluate(() => (window.loadedOnce = true));
});

after(async () => {
  assert.equal(await page.evaluate(() => window.loadedOnce), true, "the page never reloaded");
  await browser?.close();
  assert.deepEqual(problems, [], "no console errors");
});

test("a new job appears in the tree and its bar moves with the clock", async () => {
  const machine = `${group}/providers/Microsoft.HybridCompute/machines/Node-1/providers/Microsoft.AzureStackHCI/edgeDevices/default`;
  const device = { kind: "HCI", properties: { deviceConfiguration: { nicDetails: [{ adapterName: "ethernet", ip4Address: "10.10.10.10", subnetMask: "255.255.255.0", defaultGateway: "10.10.10.1", dnsServers: ["10.10.10.1"] }], deviceMetadata: "" } } };
  assert.equal((await api("PUT", `${machine}?${HCI}`, device)).status, 201);
  const job = { kind: "HCI", properties: { jobType: "CollectLog", fromDate: "2024-01-29T10:43:27Z", toDate: "2024-01-29T12:43:27Z" } };
  assert.equal((await api("PUT", `${machine}/jobs/collect-1?${HCI}`, job)).status, 201);
  await choose("collect-1");
  const bar = page.locator("#detail [role=progressbar]").first();
  assert.equal(await bar.getAttribute("aria-valuenow"), "0");
  await advance(1);
  await page.waitForFunction(() => Number(document.querySelector("#detail [role=progressbar]")?.getAttribute("aria-valuenow")) > 0);
  const midway = Number(await bar.getAttribute("aria-valuenow"));
  assert.ok(midway > 0 && midway < 100, `${midway}`);
  await page.waitForSelector("#detail .step.running");
  await advance(1.5);
  await page.waitForFunction((before) => Number(document.querySelector("#detail [role=progressbar]")?.getAttribute("aria-valuenow")) > before, midway);
  await shot("job");
  await advance(10);
  await page.waitForFunction(() => document.querySelector("#detail [role=progressbar]")?.getAttribute("aria-valuenow") === "100");
  await page.waitForSelector('#tree button.resource[title$="/collect-1"] .badge[data-state="Succeeded"]');
});

test("an update run's tree expands and its running step changes", async () => {
  const cluster = `${group}/providers/Microsoft.AzureStackHCI/clusters/edge1`;
  assert.equal((await api("PUT", `${cluster}?${HCI}`, { location: "westus", tags: { "azemu-node-count": "2" } })).status, 200);
  const update = `${cluster}/updates/Solution10.2411.0.24`;
  assert.equal((await api("PUT", `${update}?${HCI}`, { properties: { state: "Ready", version: "10.2411.0.24", displayName: "Solution 10.2411.0.24", packageType: "Solution" } })).status, 200);
  assert.equal((await api("POST", `${update}/apply?${HCI}`)).status, 202);
  await page.locator("#tree summary", { hasText: "updates/updateRuns" }).waitFor();
  const runButton = page.locator("#tree button.resource", { hasText: "Solution10.2411.0.24/" });
  await runButton.click();
  await page.waitForSelector("#detail .step.running");
  const running = () => page.$$eval("#detail .step.running .step-name", (names) => names.map((n) => n.textContent).join(" > "));
  const first = await running();
  assert.match(first, /Start update > Prepare > Download/);
  await advance(5);
  await page.waitForFunction((was) => [...document.querySelectorAll("#detail .step.running .step-name")].map((n) => n.textContent).join(" > ") !== was, first);
  assert.notEqual(await running(), first);
  // A finished branch starts closed; opening it shows its steps.
  const closed = page.locator('#detail .step[aria-expanded="false"] button.toggle').first();
  await closed.click();
  await page.waitForFunction(() => document.querySelectorAll('#detail .step[aria-expanded="true"]').length > 1);
  assert.ok(await page.locator("#detail .gantt").count() > 3, "a timeline bar per started step");
  await shot("update-run");
});

test("a scale set's tile changes colour after a power action", async () => {
  const set = `${group}/providers/Microsoft.Compute/virtualMachineScaleSets/web`;
  const body = { location: "westus", sku: { name: "Standard_D2s_v3", tier: "Standard", capacity: 3 }, properties: { upgradePolicy: { mode: "Manual" }, virtualMachineProfile: { osProfile: { computerNamePrefix: "web", adminUsername: "azureuser", adminPassword: "P@ssw0rd1234!" }, storageProfile: { imageReference: { publisher: "Canonical", offer: "ubuntu-24_04-lts", sku: "server", version: "latest" } } } } };
  assert.equal((await api("PUT", `${set}?${COMPUTE}`, body)).status, 201);
  // Its creation is a running operation until the clock moves on.
  await page.click("#tab-operations");
  await page.waitForSelector('#operations tbody tr button[title$="/virtualMachineScaleSets/web"]');
  assert.match(await page.textContent("#running-count"), /^[1-9]/);
  await shot("operations");
  await advance(60);
  await page.waitForSelector('#operations tbody tr button[title$="/virtualMachineScaleSets/web"]', { state: "detached" });
  await choose("virtualMachineScaleSets/web");
  const tile = page.locator('#detail .tile[data-id$="/virtualMachines/1"]');
  await page.waitForFunction(() => document.querySelector('#detail .tile[data-id$="/virtualMachines/1"]')?.dataset.power === "running");
  const runningColour = await tile.evaluate((t) => getComputedStyle(t).backgroundColor);
  assert.equal((await api("POST", `${set}/virtualMachines/1/deallocate?${COMPUTE}`)).status, 202);
  await advance(60);
  await page.waitForFunction(() => document.querySelector('#detail .tile[data-id$="/virtualMachines/1"]')?.dataset.power === "deallocated");
  assert.notEqual(await tile.evaluate((t) => getComputedStyle(t).backgroundColor), runningColour);
  assert.equal(await page.locator('#detail .tile[data-power="running"]').count(), 2);
  await shot("scale-set");
});

test("a deployment's resources come up in dependency order", async () => {
  const template = {
    $schema: "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    contentVersion: "1.0.0.0",
    resources: [
      { type: "Microsoft.Compute/virtualMachineScaleSets", apiVersion: "2024-07-01", name: "app-vmss", location: "[resourceGroup().location]", dependsOn: ["app-vnet"],
        sku: { name: "Standard_D2s_v3", tier: "Standard", capacity: 1 },
        properties: { upgradePolicy: { mode: "Manual" }, virtualMachineProfile: { osProfile: { computerNamePrefix: "app", adminUsername: "azureuser", adminPassword: "P@ssw0rd1234!" }, storageProfile: { imageReference: { publisher: "Canonical", offer: "ubuntu-24_04-lts", sku: "server", version: "latest" } } } } },
      { type: "Microsoft.Network/virtualNetworks", apiVersion: "2022-01-01", name: "app-vnet", location: "[resourceGroup().location]", properties: { addressSpace: { addressPrefixes: ["10.1.0.0/16"] } } },
    ],
  };
  const deployment = `${group}/providers/Microsoft.Resources/deployments/main?api-version=2025-04-01`;
  assert.equal((await api("PUT", deployment, { properties: { template, mode: "Incremental" } })).status, 201);
  await choose("deployments/main");
  for (let i = 0; i < 40 && (await api("GET", deployment)).body.properties.provisioningState !== "Succeeded"; i++) {
    await advance(5);
    await new Promise((r) => setTimeout(r, 50));
  }
  await page.waitForFunction(() => document.querySelectorAll("#detail tbody tr[data-resource]").length === 2
    && [...document.querySelectorAll("#detail tbody tr[data-resource] .badge")].every((b) => b.dataset.state === "Succeeded"));
  const order = await page.$$eval("#detail tbody tr[data-resource]", (rows) => rows.map((r) => r.dataset.resource.split("/").pop()));
  assert.deepEqual(order, ["app-vnet", "app-vmss"], "what a resource depends on comes first");
  await shot("deployment");
});

test("a publishing operation's steps move through certification", async () => {
  assert.equal((await api("POST", "/_azemu/publishers", { id: "contoso", displayText: "Contoso" })).status, 201);
  const offer = "/api/publishers/contoso/offers/hardened";
  const put = await api("PUT", `${offer}?api-version=2017-10-31`, { offerTypeId: "microsoft-azure-virtualmachines", definition: { displayText: "Hardened Ubuntu", plans: [{ planId: "standard" }] } }, { "If-Match": "*" });
  assert.equal(put.status, 201);
  assert.equal((await api("POST", `${offer}/publish?api-version=2017-10-31`, { metadata: { "notification-emails": "ops@contoso.com" } })).status, 202);
  await page.click("#tab-resources");
  await page.locator("#tree summary", { hasText: "partner/operations" }).waitFor();
  await page.locator("#tree summary", { hasText: "partner/operations" }).locator("xpath=..").locator("button.resource").click();
  await page.waitForSelector("#detail .pub-step");
  await advance(1);
  await page.waitForFunction(() => document.querySelector('#detail .pub-step[data-step="displaycertify"] .badge')?.dataset.state === "running");
  await shot("publishing");
  await advance(10);
  await page.waitForFunction(() => document.querySelector('#detail .pub-step[data-step="displaycertify"] .badge')?.dataset.state === "complete");
});

test("a fault rule added from the form fires on the next request, and a bad one shows the API's error", async () => {
  await page.click("#tab-faults");
  const form = page.locator("#fault-form");
  await form.locator('[name="operation"]').fill("ResourceGroups_Get");
  await form.locator('[name="action"]').selectOption("error");
  await form.locator('[name="status"]').fill("200");
  failingOnPurpose = "/_azemu/faults";
  await form.locator("button[type=submit]").click();
  await page.waitForFunction(() => /InvalidFaultRule/.test(document.getElementById("fault-error").textContent));
  failingOnPurpose = null;
  await form.locator('[name="status"]').fill("429");
  await form.locator('[name="code"]').fill("TooManyRequests");
  await form.locator('[name="times"]').fill("1");
  await form.locator("button[type=submit]").click();
  await page.locator("#faults tbody tr").first().waitFor();
  assert.equal((await api("GET", `${group}?api-version=2025-04-01`)).status, 429);
  await page.waitForFunction(() => document.querySelector("#faults tbody tr .hits")?.textContent === "1");
  assert.equal((await api("GET", `${group}?api-version=2025-04-01`)).status, 200, "the rule retired after one hit");
  await shot("faults");
  await page.locator("#faults tbody tr button.danger").click();
  await page.waitForFunction(() => document.querySelectorAll("#faults tbody tr").length === 0);
  assert.deepEqual((await api("GET", "/_azemu/faults")).body.value, []);
});

test("the event journal filters by kind and resource", async () => {
  await page.click("#tab-events");
  await page.selectOption('#event-filter [name="kind"]', "change");
  await page.fill('#event-filter [name="resource"]', "virtualMachines/1");
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll("#events tbody tr")];
    return rows.length > 0 && rows.every((r) => r.classList.contains("change") && r.cells[3].title.includes("virtualMachines/1"));
  });
  await shot("events");
  await page.fill('#event-filter [name="resource"]', "");
  await page.selectOption('#event-filter [name="kind"]', "");
});

test("the clock advances, resumes, pauses and resets from the page", async () => {
  await page.click("#tab-resources");
  const shown = async () => Date.parse(await page.textContent("#clock-now"));
  const before = await shown();
  await page.fill("#clock-seconds", "3600");
  await page.click("#clock-advance button[type=submit]");
  await page.waitForFunction((b) => Date.parse(document.getElementById("clock-now").textContent) >= b + 3600 * 1000, before);
  const server = Date.parse((await api("GET", "/_azemu/clock")).body.now);
  assert.ok(server >= before + 3600 * 1000);
  await page.click("#clock-toggle");
  await page.waitForFunction(() => document.getElementById("clock-toggle").textContent === "Pause");
  assert.equal((await api("GET", "/_azemu/clock")).body.mode, "real");
  await page.click("#clock-toggle");
  await page.waitForFunction(() => document.getElementById("clock-toggle").textContent === "Resume");
  assert.equal((await api("GET", "/_azemu/clock")).body.mode, "manual");
  // Reset asks first: cancelling keeps everything.
  await page.click("#reset");
  await page.click('#reset-dialog button[value="cancel"]');
  assert.ok((await api("GET", "/_azemu/health")).body.resources > 0);
  await page.click("#reset");
  await page.click('#reset-dialog button[value="reset"]');
  await page.waitForFunction(() => document.getElementById("summary").textContent === "0 resources");
  assert.equal((await api("GET", "/_azemu/health")).body.resources, 0);
});

test("the page reads on a narrow window, in the dark, and by keyboard", async () => {
  await page.setViewportSize({ width: 420, height: 900 });
  await page.click("#tab-resources");
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), "no sideways scrolling at 420 px");
  await page.focus("#tab-resources");
  await page.keyboard.press("ArrowRight");
  assert.equal(await page.evaluate(() => document.activeElement.id), "tab-operations");
  assert.equal(await page.isVisible("#panel-operations"), true);
  await page.keyboard.press("ArrowLeft");
  assert.equal(await page.isVisible("#panel-resources"), true);
  await page.setViewportSize({ width: 1280, height: 800 });
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.emulateMedia({ colorScheme: "light" });
  const light = await background();
  await page.emulateMedia({ colorScheme: "dark" });
  assert.notEqual(await background(), light, "dark follows the system's preference");
  await page.emulateMedia({ colorScheme: "light" });
});

test("a guarded azemu asks the page to sign in", { skip: !guarded }, async () => {
  const guardedPage = await browser.newPage({ ignoreHTTPSErrors: true });
  const errors = [];
  guardedPage.on("pageerror", (e) => errors.push(e.message));
  await guardedPage.goto(`${guarded}/_azemu/ui/`);
  const dialog = guardedPage.locator("#signin-dialog");
  await dialog.waitFor({ state: "visible" });
  await dialog.locator('[name="token"]').fill("not-the-secret");
  await dialog.locator("button[type=submit]").click();
  await guardedPage.waitForFunction(() => document.getElementById("signin-error").textContent.length > 0);
  await dialog.locator('[name="token"]').fill(secret);
  await dialog.locator("button[type=submit]").click();
  await guardedPage.waitForFunction(() => window.azemuDashboard?.ready && document.getElementById("live").textContent === "live");
  assert.match(await guardedPage.textContent("#summary"), /resources?/);
  const [cookie] = (await guardedPage.context().cookies()).filter((c) => c.name === "azemu_control");
  assert.deepEqual([cookie.value, cookie.path, cookie.httpOnly, cookie.secure, cookie.sameSite], [secret, "/_azemu", true, true, "Strict"]);
  assert.deepEqual(errors, []);
  await guardedPage.close();
});

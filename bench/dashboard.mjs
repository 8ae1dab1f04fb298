// Driven by bench/dashboard.sh: fills azemu, opens the dashboard and measures it.
import { chromium } from "../tests/js/node_modules/playwright-core/index.mjs";

const endpoint = process.env.AZEMU_ENDPOINT;
const RESOURCES = Number(process.env.RESOURCES);
const JOBS = Number(process.env.JOBS);
const SUB = "fd3c3665-1729-4b7b-9a38-238e83b0f98b";
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
const token = `${b64({ alg: "none" })}.${b64({ upn: "bench@contoso.com", exp: Math.floor(Date.now() / 1000) + 3600 })}.c2ln`;

async function api(method, path, body) {
  const r = await fetch(`${endpoint}${path}`, { method, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: body && JSON.stringify(body) });
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return r.status === 204 ? null : r.json();
}

/** Runs `work(i)` for 0 ≤ i < n, `width` at a time. */
async function pool(n, width, work) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) await work(next++);
  }));
}

const filled = performance.now();
const machine = `/subscriptions/${SUB}/resourceGroups/jobs/providers/Microsoft.HybridCompute/machines/Node-1/providers/Microsoft.AzureStackHCI/edgeDevices/default`;
await api("PUT", `/subscriptions/${SUB}/resourceGroups/jobs?api-version=2025-04-01`, { location: "eastus" });
await api("PUT", `${machine}?api-version=2026-10-01`, { kind: "HCI", properties: { deviceConfiguration: { nicDetails: [{ adapterName: "ethernet", ip4Address: "10.10.10.10", subnetMask: "255.255.255.0", defaultGateway: "10.10.10.1", dnsServers: ["10.10.10.1"] }], deviceMetadata: "" } } });
await pool(RESOURCES - 2 - JOBS, 16, (i) => api("PUT", `/subscriptions/${SUB}/resourceGroups/rg-${String(i).padStart(5, "0")}?api-version=2025-04-01`, { location: "westus", tags: { bench: "dashboard" } }));
const startJobs = (round) => pool(JOBS, 8, (i) => api("PUT", `${machine}/jobs/job-${round}-${i}?api-version=2026-10-01`, { kind: "HCI", properties: { jobType: "CollectLog", fromDate: "2024-01-29T10:43:27Z", toDate: "2024-01-29T12:43:27Z" } }));
await startJobs(0);
const health = await api("GET", "/_azemu/health");
console.log(`filled: ${health.resources} resources, ${JOBS} of them jobs about to run (${JOBS} more in each later round), in ${((performance.now() - filled) / 1000).toFixed(1)} s`);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
/** A new page on the dashboard, recording main-thread tasks over 50 ms in `window.longTasks`. */
async function openDashboard() {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.addInitScript(() => {
    window.longTasks = [];
    new PerformanceObserver((list) => window.longTasks.push(...list.getEntries().map((e) => e.duration))).observe({ type: "longtask", buffered: true });
  });
  await page.goto(`${endpoint}/_azemu/ui/`);
  await page.waitForFunction(() => window.azemuDashboard?.ready, null, { timeout: 120000 });
  return page;
}

const results = [];
try {
  for (let round = 1; round <= 3; round++) {
    const page = await openDashboard();
    const firstRender = await page.evaluate(() => window.azemuDashboard.readyAt);
    const summary = await page.textContent("#summary");
    await page.evaluate(() => (window.longTasks = []));
    const before = await api("GET", `/_azemu/events?kind=clock&since=${Number.MAX_SAFE_INTEGER}`);
    const applied = await page.evaluate(() => ((window.azemuDashboard.firstChangeAt = null), window.azemuDashboard.applied));
    // A hundred lifecycles from start to end: about 30 changes each.
    if (round > 1) await startJobs(round);
    await api("POST", "/_azemu/clock/advance", { seconds: 6 });
    const changes = (await api("GET", `/_azemu/events?kind=change&since=${before.lastSeq}`)).value.length;
    await page.waitForFunction(([from, n]) => {
      const s = window.azemuDashboard;
      return s.applied >= from + n && s.lastRenderAt > s.firstChangeAt;
    }, [applied, changes], { timeout: 120000 });
    const [apply, longest, renderMs] = await page.evaluate(() => {
      const s = window.azemuDashboard;
      return [s.lastRenderAt - s.firstChangeAt, Math.max(0, ...window.longTasks), s.lastRenderMs];
    });
    results.push({ firstRender, changes, apply, longest, renderMs });
    console.log(`round ${round}: ${summary}; first render ${firstRender.toFixed(0)} ms; ${changes} change events applied in ${apply.toFixed(0)} ms (${longest ? `longest task ${longest.toFixed(0)} ms` : "no task over 50 ms"}, a tree render ${renderMs.toFixed(0)} ms)`);
    await page.close();
  }
  // The same on a running clock: 100 jobs live while the page watches.
  const page = await openDashboard();
  await api("PATCH", "/_azemu/clock", { mode: "real" });
  await page.waitForFunction(() => document.getElementById("clock-toggle").textContent === "Pause");
  const applied = await page.evaluate(() => ((window.longTasks = []), window.azemuDashboard.applied));
  await startJobs("live");
  await new Promise((r) => setTimeout(r, 10000));
  await api("PATCH", "/_azemu/clock", { mode: "manual" });
  const live = await page.evaluate(() => ({ applied: window.azemuDashboard.applied, lag: window.azemuDashboard.maxLagMs, longest: Math.max(0, ...window.longTasks), tasks: window.longTasks.length }));
  console.log(`running clock, 100 jobs over 10 s: ${live.applied - applied} change events applied, each within ${live.lag.toFixed(0)} ms of its time; ${live.tasks} tasks over 50 ms (longest ${live.longest.toFixed(0)} ms)`);
} finally {
  await browser.close();
}
const median = (k) => results.map((r) => r[k]).sort((a, b) => a - b)[1];
console.log(`median of 3: first render ${median("firstRender").toFixed(0)} ms; ${median("changes")} events applied in ${median("apply").toFixed(0)} ms; longest task ${median("longest") ? `${median("longest").toFixed(0)} ms` : "under 50 ms"}`);

// The dashboard's entry: loads what azemu holds once, then keeps every view current from the
// journal's event stream (changes, requests, clock moves), with no polling.
import { getJSON, postJSON, unauthorized } from "./api.js";
import { Model } from "./model.js";
import { Tree } from "./tree.js";
import { Detail } from "./detail.js";
import { Clock } from "./clock.js";
import { renderOperations, tickAges } from "./operations.js";
import { Faults } from "./faults.js";
import { EventLog } from "./events.js";

/** The tree is drawn again at most this often while changes stream in. */
const RENDER_EVERY_MS = 250;

function showError(e) {
  const box = document.getElementById("error");
  box.textContent = String(e?.message ?? e);
  box.hidden = false;
  clearTimeout(showError.timer);
  showError.timer = setTimeout(() => (box.hidden = true), 6000);
}

const model = new Model();
const clock = new Clock(showError, () => {
  tree.selected = null;
  detail.clear();
  start();
});
const tree = new Tree(document.getElementById("tree"), choose);
const detail = new Detail(document.getElementById("detail"), clock, choose, showError);
const faults = new Faults(showError);
const log = new EventLog();
/** What tests and the benchmark read: events applied, renders and their cost. */
const stats = (window.azemuDashboard = { ready: false, readyAt: 0, applied: 0, renders: 0, lastRenderMs: 0, lastRenderAt: 0, firstChangeAt: null, maxLagMs: 0 });

function choose(id) {
  tree.selected = id.toLowerCase();
  showTab("resources");
  for (const b of document.querySelectorAll("#tree button.resource")) b.setAttribute("aria-current", String(b.dataset.id.toLowerCase() === tree.selected));
  detail.show(id);
}

// Tabs, reachable by keyboard (arrows move between them) and by the address's #fragment.
const TABS = ["resources", "operations", "faults", "events"];
let current = "resources";
function showTab(name) {
  current = TABS.includes(name) ? name : "resources";
  for (const tab of TABS) {
    const button = document.getElementById(`tab-${tab}`);
    button.setAttribute("aria-selected", String(tab === current));
    button.tabIndex = tab === current ? 0 : -1;
    document.getElementById(`panel-${tab}`).hidden = tab !== current;
  }
  if (location.hash !== `#${current}`) history.replaceState(null, "", `#${current}`);
  if (current === "operations") {
    clearTimeout(operationsQueued);
    operationsQueued = null;
    refreshOperations();
  }
  if (current === "faults") faults.refresh().catch(showError);
  if (current === "events") log.render();
}
for (const [i, tab] of TABS.entries()) {
  const button = document.getElementById(`tab-${tab}`);
  button.addEventListener("click", () => showTab(tab));
  button.addEventListener("keydown", (e) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
    if (!step) return;
    const next = TABS[(i + step + TABS.length) % TABS.length];
    showTab(next);
    document.getElementById(`tab-${next}`).focus();
  });
}

// Drawing is folded: many changes, one render.
let renderQueued = null;
let lastRender = 0;
function scheduleRender() {
  if (renderQueued) return;
  const wait = Math.max(0, RENDER_EVERY_MS - (performance.now() - lastRender));
  renderQueued = setTimeout(() => requestAnimationFrame(render), wait);
}
function render() {
  renderQueued = null;
  const began = performance.now();
  tree.render(model.resources.values(), document.getElementById("search").value.trim());
  const n = model.resources.size;
  document.getElementById("summary").textContent = `${n} resource${n === 1 ? "" : "s"}${model.truncated ? " (the first ones)" : ""}`;
  lastRender = performance.now();
  stats.renders += 1;
  stats.lastRenderMs = lastRender - began;
  stats.lastRenderAt = lastRender;
  stats.applied = model.applied;
}

let staleQueued = null;
function fetchStale() {
  if (staleQueued || !model.stale.size) return;
  staleQueued = setTimeout(async () => {
    try {
      await model.refreshStale();
    } finally {
      staleQueued = null;
      scheduleRender();
      fetchStale();
    }
  }, 150);
}

/** Running operations are fetched again this long after a change: soon while the tab shows
 * them, less often for the count on the tab alone. */
const OPERATIONS_SHOWN_MS = 200;
const OPERATIONS_COUNTED_MS = 2000;
let operationsQueued = null;
function refreshOperations() {
  if (operationsQueued) return;
  operationsQueued = setTimeout(async () => {
    operationsQueued = null;
    try {
      const page = await getJSON("/_azemu/state?limit=1");
      renderOperations(page.operations ?? [], clock.now(), choose);
    } catch (e) {
      showError(e);
    }
  }, current === "operations" ? OPERATIONS_SHOWN_MS : OPERATIONS_COUNTED_MS);
}

let faultsQueued = null;
function refreshFaults() {
  if (faultsQueued || current !== "faults") return;
  faultsQueued = setTimeout(() => {
    faultsQueued = null;
    faults.refresh().catch(showError);
  }, 200);
}

let logQueued = null;
function logged(event) {
  log.add(event);
  if (current === "events" && !logQueued) logQueued = requestAnimationFrame(() => ((logQueued = null), log.render()));
}

function onChange(message) {
  const change = JSON.parse(message.data);
  stats.firstChangeAt ??= performance.now();
  // On a running clock, how long after it happened a change reached the page.
  if (clock.running()) stats.maxLagMs = Math.max(stats.maxLagMs, clock.now() - Date.parse(change.time));
  logged(change);
  const key = model.apply(change);
  if (key === detail.key && change.property === "resource" && change.to === "absent") detail.gone();
  else if (detail.concerns(key)) detail.refresh();
  fetchStale();
  refreshOperations();
  scheduleRender();
}

function onRequest(message) {
  logged(JSON.parse(message.data));
  refreshFaults();
}

function onClock(message) {
  const moved = JSON.parse(message.data);
  logged(moved);
  clock.set({ mode: moved.mode, speed: moved.speed, now: moved.time });
  detail.refresh();
  refreshOperations();
}

let stream = null;
async function start() {
  stream?.close();
  stats.ready = false;
  try {
    // Events after this position are applied on top of the loaded state; any that it already
    // holds set what it holds again, so the two meet.
    const { lastSeq } = await getJSON(`/_azemu/events?kind=clock&since=${Number.MAX_SAFE_INTEGER}`);
    const [tail] = await Promise.all([getJSON(`/_azemu/events?since=${Math.max(0, lastSeq - 300)}`), model.load(), clock.refresh()]);
    log.events = [];
    for (const e of tail.value ?? []) if (e.seq <= lastSeq) log.add(e);
    render();
    stream = new EventSource(`/_azemu/events?since=${lastSeq}`);
    stream.addEventListener("change", onChange);
    stream.addEventListener("request", onRequest);
    stream.addEventListener("clock", onClock);
    stream.addEventListener("open", () => (document.getElementById("live").textContent = "live"));
    stream.addEventListener("error", () => (document.getElementById("live").textContent = "reconnecting…"));
    if (detail.id) detail.load();
    refreshOperations();
    stats.ready = true;
    stats.readyAt = performance.now();
  } catch (e) {
    showError(e);
  }
}

// Sign-in, when the control API asks for a token: the page trades it for a cookie.
const signin = document.getElementById("signin-dialog");
unauthorized.addEventListener("signin", () => signin.open || signin.showModal());
document.getElementById("signin").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await postJSON("/_azemu/ui/session", { token: new FormData(event.target).get("token") });
    signin.close();
    location.reload();
  } catch (e) {
    document.getElementById("signin-error").textContent = e.message;
  }
});

document.getElementById("search").addEventListener("input", () => render());
clock.wire();
faults.wire();
log.wire();
setInterval(() => current === "operations" && tickAges(clock.now()), 1000);
showTab(location.hash.slice(1));
await start();

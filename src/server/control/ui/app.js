// The dashboard's entry: the clock, the resource browser, and the event stream that keeps both
// current without polling.
import { loadResources, arrange, renderTree, showResource } from "./browser.js";
import { refreshClock, tick, wireAdvance } from "./clock.js";

const state = { resources: [], selected: null };

function showError(e) {
  const box = document.getElementById("error");
  box.textContent = String(e?.message ?? e);
  box.hidden = false;
  setTimeout(() => (box.hidden = true), 6000);
}

function draw() {
  const needle = document.getElementById("search").value.trim();
  const tree = arrange(state.resources, needle);
  renderTree(document.getElementById("tree"), tree, state.selected, choose, Boolean(needle) || state.resources.length < 200);
  document.getElementById("summary").textContent = `${state.resources.length} resources`;
}

async function choose(id) {
  state.selected = id;
  draw();
  try {
    await showResource(document.getElementById("detail"), id);
  } catch (e) {
    showError(e);
  }
}

async function reload() {
  try {
    state.resources = await loadResources();
    draw();
    if (state.selected) await showResource(document.getElementById("detail"), state.selected);
  } catch (e) {
    showError(e);
  }
}

// Changes arrive on the journal's stream (its "change" events only: the page's own requests are
// journaled too); bursts are folded into one reload.
let pending = null;
function changed() {
  if (pending) return;
  pending = setTimeout(() => {
    pending = null;
    reload();
  }, 300);
}

document.getElementById("search").addEventListener("input", draw);
wireAdvance(changed, showError);
setInterval(tick, 250);
await Promise.all([refreshClock().catch(showError), reload()]);
const events = new EventSource("/_azemu/events");
events.addEventListener("change", changed);

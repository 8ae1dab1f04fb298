// The chosen resource: its live progress view (by type), its history from the journal and its
// current document. It is fetched again when the journal reports a change to it (or to what it
// contains), when the clock moves, or at the moment its views say they next change.
import { getJSON } from "./api.js";
import { el, badge, section, when } from "./common.js";
import { jobView, runView } from "./hci.js";
import { publishingView } from "./publishing.js";
import { scaleSetView, vmView } from "./compute.js";
import { deploymentView } from "./deployment.js";

const WITH_CHILDREN = /\/(virtualMachineScaleSets|deployments)\/[^/]+$/i;

function progressOf(found, now, choose) {
  const type = String(found.type ?? "").toLowerCase();
  if (type.endsWith("/edgedevices/jobs")) return jobView(found, now);
  if (type.endsWith("/updates/updateruns")) return runView(found, now);
  if (type === "partner/operations") return publishingView(found);
  if (type.endsWith("/virtualmachinescalesets")) return scaleSetView(found, choose);
  if (type.endsWith("/virtualmachines")) return vmView(found);
  if (type.endsWith("/deployments")) return deploymentView(found, choose);
  return null;
}

function history(id, events) {
  const key = id.toLowerCase();
  const mine = events.filter((e) => String(e.resourceId).toLowerCase() === key).slice(-100);
  const rows = el("tbody");
  for (const e of mine) {
    rows.append(el("tr", {}, el("td", {}, when(e.time)), el("td", {}, e.property), el("td", {}, JSON.stringify(e.from)), el("td", {}, JSON.stringify(e.to))));
  }
  const table = el("table", { className: "history" }, el("thead", {}, el("tr", {}, ...["Time", "Property", "From", "To"].map((h) => el("th", { scope: "col" }, h)))), rows);
  return section("History", mine.length ? table : el("p", { className: "hint" }, "No change of this resource is left in the journal."));
}

export class Detail {
  constructor(container, clock, choose, onError) {
    this.container = container;
    this.clock = clock;
    this.choose = choose;
    this.onError = onError;
    this.id = null;
    this.pending = null;
    this.timer = null;
    this.generation = 0;
  }

  get key() {
    return this.id?.toLowerCase() ?? null;
  }

  /** Whether a change to the resource `key` (lower case) shows here. */
  concerns(key) {
    return this.key !== null && (key === this.key || key.startsWith(`${this.key}/`));
  }

  /** Nothing chosen (after a reset). */
  clear() {
    this.id = null;
    this.generation += 1;
    clearTimeout(this.timer);
    this.container.replaceChildren(el("p", { className: "hint" }, "Choose a resource to see its progress, its document and its history."));
  }

  /** The chosen resource was deleted: say so rather than ask for it. */
  gone() {
    this.generation += 1;
    clearTimeout(this.timer);
    this.container.replaceChildren(el("h2", {}, this.id.split("/").pop()), el("p", { className: "hint gone" }, "This resource is gone."));
  }

  show(id) {
    this.id = id;
    this.container.scrollTop = 0;
    return this.load();
  }

  /** Fetches again soon, folding bursts of changes into one request. */
  refresh() {
    if (!this.id || this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = null;
      this.load();
    }, 100);
  }

  async load() {
    const id = this.id;
    const generation = ++this.generation;
    clearTimeout(this.timer);
    let found;
    let events;
    try {
      const children = WITH_CHILDREN.test(id) ? "&children=true" : "";
      [found, events] = await Promise.all([
        getJSON(`/_azemu/resource?id=${encodeURIComponent(id)}&views=true${children}`),
        getJSON(`/_azemu/events?kind=change&resource=${encodeURIComponent(id)}`),
      ]);
    } catch (e) {
      if (generation !== this.generation) return;
      if (e.status === 404) {
        this.gone();
        return;
      }
      this.onError(e);
      return;
    }
    if (generation !== this.generation) return;
    this.render(found, events.value ?? []);
    // Views that change by time alone (a publishing step's percentage) are fetched again then.
    const next = Date.parse(found.nextChange ?? "");
    if (Number.isFinite(next) && this.clock.running()) {
      this.timer = setTimeout(() => this.refresh(), Math.max(50, next - this.clock.now()));
    }
  }

  render(found, events) {
    const doc = found.document ?? {};
    const title = el("h2", {}, doc.name ?? found.id);
    const state = doc.properties?.status ?? doc.properties?.state ?? doc.properties?.provisioningState ?? doc.status;
    const line = el("p", { className: "hint" }, `${found.type} `, state ? badge(state) : null);
    const pre = el("pre", { className: "document" }, JSON.stringify(doc, null, 2));
    const copy = el("button", { type: "button" }, "Copy");
    copy.addEventListener("click", async () => {
      await navigator.clipboard?.writeText(pre.textContent).catch(() => {});
      copy.textContent = "Copied";
      setTimeout(() => (copy.textContent = "Copy"), 1500);
    });
    const scroll = this.container.scrollTop;
    this.container.replaceChildren(
      title,
      line,
      el("p", { className: "id" }, found.id),
      progressOf(found, this.clock.now(), this.choose),
      history(found.id, events),
      section("Document", copy, pre),
    );
    this.container.scrollTop = scroll;
    this.container.dataset.loadedSeq = String(found.lastSeq ?? "");
  }
}

// The journal's tail, live: requests, changes and clock moves, filtered by resource (or path)
// and kind.
import { el, when } from "./common.js";

/** Events kept for the log. */
const KEPT = 1000;
/** Rows shown at once. */
const SHOWN = 300;

/** The end of a long id or path, where the names that tell resources apart are. */
function short(subject) {
  const parts = subject.split("/");
  return parts.length > 6 ? `…/${parts.slice(-4).join("/")}` : subject;
}

export class EventLog {
  constructor() {
    this.events = [];
    this.form = document.getElementById("event-filter");
    this.dirty = false;
  }

  add(event) {
    this.events.push(event);
    if (this.events.length > KEPT * 1.2) this.events.splice(0, this.events.length - KEPT);
    this.dirty = true;
  }

  wire() {
    this.form.addEventListener("input", () => this.render());
    this.form.addEventListener("submit", (e) => e.preventDefault());
  }

  render() {
    this.dirty = false;
    const needle = this.form.elements.resource.value.trim().toLowerCase();
    const kind = this.form.elements.kind.value;
    const subject = (e) => e.resourceId ?? e.path ?? "";
    const shown = this.events.filter((e) => (!kind || e.kind === kind) && (!needle || subject(e).toLowerCase().includes(needle))).slice(-SHOWN).reverse();
    const rows = shown.map((e) => {
      const what = e.kind === "request" ? `${e.method} → ${e.status}${e.operation ? ` (${e.operation})` : ""}`
        : e.kind === "change" ? `${e.property}: ${JSON.stringify(e.from)} → ${JSON.stringify(e.to)}`
        : `${e.mode}, speed ${e.speed}`;
      return el("tr", { className: e.kind, dataset: { seq: String(e.seq) } }, el("td", {}, String(e.seq)), el("td", { className: "time" }, when(e.time)), el("td", {}, e.kind), el("td", { className: "subject", title: subject(e) }, short(subject(e))), el("td", {}, what));
    });
    document.querySelector("#events tbody").replaceChildren(...rows);
  }
}

// Long-running operations still running, with their age on the emulator's clock.
import { el, badge, when, duration } from "./common.js";

export function renderOperations(operations, now, choose) {
  const running = operations.filter((op) => !/^(succeeded|failed|canceled)$/i.test(op.status ?? ""));
  running.sort((a, b) => Date.parse(a.startTime) - Date.parse(b.startTime));
  const rows = running.map((op) => {
    const target = el("button", { type: "button", className: "link", title: op.resourceId ?? "" }, String(op.resourceId ?? op.id).split("/").slice(-2).join("/"));
    if (op.resourceId) target.addEventListener("click", () => choose(op.resourceId));
    return el("tr", { dataset: { operation: op.name ?? "" } },
      el("td", {}, target), el("td", {}, op.kind ?? ""), el("td", {}, badge(op.status ?? "")),
      el("td", {}, when(op.startTime)), el("td", { className: "age", dataset: { start: op.startTime } }, duration(now - Date.parse(op.startTime))));
  });
  document.querySelector("#operations tbody").replaceChildren(...rows);
  document.getElementById("operations-empty").hidden = rows.length > 0;
  document.getElementById("running-count").textContent = rows.length ? String(rows.length) : "";
}

/** Moves the ages on with the clock, between fetches. */
export function tickAges(now) {
  for (const cell of document.querySelectorAll("#operations td.age")) {
    cell.textContent = duration(now - Date.parse(cell.dataset.start));
  }
}

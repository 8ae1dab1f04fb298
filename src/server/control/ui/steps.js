// A tree of steps (an update run's, an edge-device job's) as a collapsible tree beside a
// timeline: each step's bar runs from its start to its end (or to now while it runs), the
// running steps are highlighted and errors are shown on the step where they happened.
import { el, badge, duration } from "./common.js";

/** A step's start as a time of day. */
const clockTime = (iso) => String(iso).slice(11, 21);

/** Which steps a reader opened or closed, by resource and step path, across refreshes. */
const opened = new Map();

const startOf = (s) => Date.parse(s.startTimeUtc ?? s.startTime ?? "") || null;
const endOf = (s) => Date.parse(s.endTimeUtc ?? s.endTime ?? "") || null;
const isRunning = (s) => /inprogress|running/i.test(String(s.status));
const isFailed = (s) => /error|fail/i.test(String(s.status));

function span(steps, now) {
  let from = Infinity;
  let to = -Infinity;
  const visit = (s) => {
    const start = startOf(s);
    if (start !== null) {
      from = Math.min(from, start);
      to = Math.max(to, endOf(s) ?? now);
    }
    (s.steps ?? []).forEach(visit);
  };
  steps.forEach(visit);
  return Number.isFinite(from) ? { from, to: Math.max(to, from + 1) } : null;
}

/** The errors a step carries: an `exception` list (jobs) or an `errorMessage` (update runs). */
function errorsOf(step) {
  const list = [...(Array.isArray(step.exception) ? step.exception : [])];
  if (step.errorMessage) list.push(step.errorMessage);
  return list.filter(Boolean).map((e) => (typeof e === "string" ? e : JSON.stringify(e)));
}

/** `steps` are the top level; `key` names the resource; `now` is the emulator's time (ms). */
export function stepTree(key, steps, now) {
  const range = span(steps, now);
  const root = el("div", { className: "steps", role: "tree" });
  const add = (parent, step, path, depth) => {
    const children = step.steps ?? [];
    const id = `${key}\u0000${path}`;
    const running = isRunning(step);
    const row = el("div", { className: `step${running ? " running" : ""}${isFailed(step) ? " failed" : ""}`, role: "treeitem", "aria-level": String(depth + 1) });
    if (running) row.setAttribute("aria-current", "step");
    const label = el("div", { className: "step-label" });
    label.style.paddingLeft = `${depth * 1.1}rem`;
    let toggle = null;
    if (children.length) {
      const open = opened.get(id) ?? (running || isFailed(step) || depth === 0 || children.some((c) => isRunning(c) || isFailed(c)));
      toggle = el("button", { type: "button", className: "toggle", "aria-expanded": String(open), title: open ? "Collapse" : "Expand" }, open ? "▾" : "▸");
      row.setAttribute("aria-expanded", String(open));
      label.append(toggle);
    } else {
      label.append(el("span", { className: "toggle-space" }));
    }
    label.append(el("span", { className: "step-name", title: step.description ?? "" }, step.name ?? step.stepName ?? "(step)"), badge(step.status ?? "NotStarted"));
    const start = startOf(step);
    const end = endOf(step);
    const time = el("div", { className: "step-time" }, start ? `${clockTime(step.startTimeUtc ?? step.startTime)}${end ? ` · ${duration(end - start)}` : running ? ` · ${duration(now - start)} so far` : ""}` : "");
    const lane = el("div", { className: "lane" });
    if (range && start) {
      const bar = el("div", { className: "gantt" });
      bar.style.left = `${((start - range.from) / (range.to - range.from)) * 100}%`;
      bar.style.width = `max(2px, ${(((end ?? now) - start) / (range.to - range.from)) * 100}%)`;
      lane.append(bar);
    }
    row.append(label, time, lane);
    for (const message of errorsOf(step)) row.append(el("div", { className: "step-error" }, message));
    parent.append(row);
    if (children.length) {
      const group = el("div", { role: "group" });
      group.hidden = row.getAttribute("aria-expanded") !== "true";
      children.forEach((c, i) => add(group, c, `${path}/${c.name ?? i}`, depth + 1));
      parent.append(group);
      toggle.addEventListener("click", () => {
        const open = group.hidden;
        group.hidden = !open;
        opened.set(id, open);
        toggle.textContent = open ? "▾" : "▸";
        toggle.setAttribute("aria-expanded", String(open));
        row.setAttribute("aria-expanded", String(open));
      });
    }
  };
  steps.forEach((s, i) => add(root, s, s.name ?? String(i), 0));
  if (range) {
    root.prepend(el("div", { className: "step-scale hint" }, `timeline from ${new Date(range.from).toISOString().slice(11, 21)}, ${duration(range.to - range.from)}`));
  }
  return root;
}

// A template deployment: its resources in dependency order (each after what it depends on),
// with the state of the operation that made each.
import { el, badge, section, when } from "./common.js";

/** Orders operations so that each follows the resources it depends on; returns [op, depth]. */
export function inDependencyOrder(operations, dependencies) {
  const key = (id) => String(id ?? "").toLowerCase();
  const needs = new Map(dependencies.map((d) => [key(d.id), (d.dependsOn ?? []).map((x) => key(x.id))]));
  const depth = new Map();
  const depthOf = (id, seen = new Set()) => {
    if (depth.has(id)) return depth.get(id);
    if (seen.has(id)) return 0;
    seen.add(id);
    const d = Math.max(-1, ...(needs.get(id) ?? []).map((x) => depthOf(x, seen))) + 1;
    depth.set(id, d);
    return d;
  };
  return operations
    .map((op) => [op, depthOf(key(op.document?.properties?.targetResource?.id))])
    .sort((a, b) => a[1] - b[1] || String(a[0].document?.properties?.targetResource?.resourceName).localeCompare(String(b[0].document?.properties?.targetResource?.resourceName)));
}

export function deploymentView(found, choose) {
  const p = found.document.properties ?? {};
  const operations = (found.children ?? []).filter((c) => /deployments\/operations$/i.test(c.type));
  const rows = el("tbody");
  for (const [op, depth] of inDependencyOrder(operations, p.dependencies ?? [])) {
    const q = op.document?.properties ?? {};
    const target = q.targetResource ?? {};
    const name = el("button", { type: "button", className: "link", title: target.id ?? "" }, target.resourceName ?? target.id ?? "");
    name.style.marginLeft = `${depth * 1.2}rem`;
    if (target.id) name.addEventListener("click", () => choose(target.id));
    rows.append(el("tr", { dataset: { resource: target.id ?? "" } },
      el("td", {}, name), el("td", {}, target.resourceType ?? ""), el("td", {}, badge(q.provisioningState ?? "")),
      el("td", {}, q.statusCode ?? ""), el("td", {}, when(q.timestamp)), el("td", {}, q.statusMessage?.error?.message ?? "")));
  }
  const table = el("table", {}, el("thead", {}, el("tr", {}, ...["Resource", "Type", "State", "Status", "Time", "Error"].map((h) => el("th", { scope: "col" }, h)))), rows);
  return section("Resources deployed", el("p", {}, badge(p.provisioningState ?? ""), ` ${p.mode ?? ""} · ${p.duration ?? ""}`), table);
}

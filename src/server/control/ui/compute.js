// Compute: a scale set's instances as a grid of tiles coloured by power state, outlined by
// provisioning state; a single VM as one such tile.
import { el, section } from "./common.js";

/** `PowerState/running` → `running`, from an instance view's statuses. */
export function statesOf(view) {
  const codes = (view?.statuses ?? []).map((s) => String(s.code ?? ""));
  const pick = (prefix) => codes.find((c) => c.startsWith(prefix))?.slice(prefix.length).split("/")[0];
  return { power: pick("PowerState/") ?? "unknown", provisioning: pick("ProvisioningState/") ?? "unknown" };
}

function tile(label, id, view, choose) {
  const { power, provisioning } = statesOf(view);
  const button = el("button", { type: "button", className: `tile power-${power} provisioning-${provisioning}`, title: id, dataset: { id, power, provisioning } },
    el("strong", {}, label), el("span", {}, power), el("span", { className: "hint" }, provisioning));
  button.setAttribute("aria-label", `${label}: ${power}, provisioning ${provisioning}`);
  if (choose) button.addEventListener("click", () => choose(id));
  return button;
}

export function scaleSetView(found, choose) {
  const vms = (found.children ?? []).filter((c) => /\/virtualMachines$/i.test(c.type) && c.views?.instanceView);
  vms.sort((a, b) => Number(a.document?.instanceId ?? 0) - Number(b.document?.instanceId ?? 0));
  const grid = el("div", { className: "grid", role: "list", "aria-label": "Instances" });
  for (const vm of vms) {
    const item = tile(vm.document?.instanceId ?? vm.id.split("/").pop(), vm.id, vm.views.instanceView, choose);
    item.setAttribute("role", "listitem");
    grid.append(item);
  }
  const counts = {};
  for (const vm of vms) {
    const { power } = statesOf(vm.views.instanceView);
    counts[power] = (counts[power] ?? 0) + 1;
  }
  const legend = el("p", { className: "hint" }, `${vms.length} instances: ` + Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(", "));
  return section("Instances", legend, grid);
}

export function vmView(found) {
  const view = found.views?.instanceView;
  if (!view) return null;
  return section("Power", el("div", { className: "grid" }, tile(found.document?.name ?? found.id.split("/").pop(), found.id, view, null)));
}

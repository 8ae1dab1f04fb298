// The resource browser: subscriptions, then resource groups, then resource types, each with
// its count; a search box narrows them by name or id; choosing a resource shows its current
// document.
import { getJSON } from "./api.js";

/** At most this many resources are listed (the state dump is paged). */
const LIMIT = 20000;
const PAGE = 1000;

export async function loadResources() {
  const resources = [];
  let url = `/_azemu/state?limit=${PAGE}`;
  while (url && resources.length < LIMIT) {
    const page = await getJSON(url);
    resources.push(...page.resources);
    url = page.nextLink ? new URL(page.nextLink).pathname + new URL(page.nextLink).search : null;
  }
  return resources;
}

/** Where a resource sits: its subscription and resource group, or the partner API. */
export function placeOf(id) {
  const parts = id.split("/");
  const at = (name) => {
    const i = parts.findIndex((p) => p.toLowerCase() === name);
    return i >= 0 ? parts[i + 1] : undefined;
  };
  if (!id.toLowerCase().startsWith("/subscriptions/")) {
    return { subscription: "Partner API", group: "(publishers)" };
  }
  return { subscription: at("subscriptions"), group: at("resourcegroups") ?? "(subscription level)" };
}

/** An entry of `/_azemu/state` is `{id, type, etag, document}`. */
const nameOf = (r) => String(r.document?.name ?? r.id.split("/").pop());

function matches(resource, needle) {
  if (!needle) return true;
  const n = needle.toLowerCase();
  return resource.id.toLowerCase().includes(n) || nameOf(resource).toLowerCase().includes(n);
}

/** Nests resources as subscription → group → type → [resource]. */
export function arrange(resources, needle) {
  const tree = new Map();
  for (const r of resources) {
    if (!r?.id || !matches(r, needle)) continue;
    const { subscription, group } = placeOf(r.id);
    const groups = tree.get(subscription) ?? new Map();
    tree.set(subscription, groups);
    const types = groups.get(group) ?? new Map();
    groups.set(group, types);
    const type = r.document?.type ?? r.type ?? "(untyped)";
    types.set(type, [...(types.get(type) ?? []), r]);
  }
  return tree;
}

function count(map) {
  let n = 0;
  for (const v of map.values()) n += v instanceof Map ? count(v) : v.length;
  return n;
}

function branch(label, n, open) {
  const details = document.createElement("details");
  details.open = open;
  const summary = document.createElement("summary");
  summary.textContent = label;
  const badge = document.createElement("span");
  badge.className = "count";
  badge.textContent = n;
  summary.append(badge);
  details.append(summary);
  return details;
}

export function renderTree(container, tree, selected, onChoose, open) {
  container.replaceChildren();
  for (const [subscription, groups] of tree) {
    const s = branch(subscription, count(groups), true);
    for (const [group, types] of groups) {
      const g = branch(group, count(types), open);
      for (const [type, list] of types) {
        const t = branch(type, list.length, open);
        for (const r of list) {
          const button = document.createElement("button");
          button.className = "resource";
          button.textContent = nameOf(r);
          button.title = r.id;
          button.dataset.id = r.id;
          button.setAttribute("aria-current", String(r.id === selected));
          button.addEventListener("click", () => onChoose(r.id));
          t.append(button);
        }
        g.append(t);
      }
      s.append(g);
    }
    container.append(s);
  }
}

/** Shows a resource's current document, pretty, with a copy button. */
export async function showResource(container, id) {
  const found = await getJSON(`/_azemu/resource?id=${encodeURIComponent(id)}`);
  const doc = found.document ?? {};
  const title = document.createElement("h2");
  title.textContent = doc.name ?? id;
  const state = document.createElement("p");
  state.className = "hint";
  state.textContent = [doc.type, doc.properties?.provisioningState, doc.properties?.status].filter(Boolean).join(" · ");
  const pre = document.createElement("pre");
  pre.textContent = JSON.stringify(doc, null, 2);
  const copy = document.createElement("button");
  copy.textContent = "Copy";
  copy.addEventListener("click", () => navigator.clipboard?.writeText(pre.textContent));
  container.replaceChildren(title, state, copy, pre);
}

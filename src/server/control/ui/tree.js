// The resource browser: subscriptions, then resource groups, then resource types, each with
// its count. Branches are built when opened, so ten thousand resources cost a few closed
// branches until someone looks inside.
import { badge } from "./common.js";

/** Resources listed under one type, and branches under one branch, before the list asks for a
 * narrower search: the page stays quick with tens of thousands of resources. */
const SHOWN_PER_TYPE = 500;
const SHOWN_PER_BRANCH = 200;

function more(container, hidden, what) {
  if (hidden > 0) container.append(Object.assign(document.createElement("p"), { className: "hint", textContent: `… and ${hidden} more ${what}: narrow the search` }));
}

/** Where a resource sits: its subscription and resource group, or the partner API. */
export function placeOf(id) {
  const parts = id.split("/");
  const at = (name) => {
    const i = parts.findIndex((p) => p.toLowerCase() === name);
    return i >= 0 ? parts[i + 1] : undefined;
  };
  if (!id.toLowerCase().startsWith("/subscriptions/")) {
    return { subscription: "Partner API", group: "publishers" };
  }
  return { subscription: at("subscriptions"), group: at("resourcegroups") ?? "(subscription level)" };
}

export const nameOf = (r) => String(r.document?.name ?? r.id.split("/").pop());

function matches(resource, needle) {
  if (!needle) return true;
  return resource.id.toLowerCase().includes(needle) || nameOf(resource).toLowerCase().includes(needle);
}

/** Nests resources as subscription → group → type → [resource]. */
export function arrange(resources, needle) {
  const tree = new Map();
  const n = needle.toLowerCase();
  for (const r of resources) {
    if (!matches(r, n)) continue;
    const { subscription, group } = placeOf(r.id);
    let groups = tree.get(subscription);
    if (!groups) tree.set(subscription, (groups = new Map()));
    let types = groups.get(group);
    if (!types) groups.set(group, (types = new Map()));
    const type = r.document?.type ?? r.type ?? "(untyped)";
    let list = types.get(type);
    if (!list) types.set(type, (list = []));
    list.push(r);
  }
  return tree;
}

function count(map) {
  let n = 0;
  for (const v of map.values()) n += v instanceof Map ? count(v) : v.length;
  return n;
}

export class Tree {
  constructor(container, onChoose) {
    this.container = container;
    this.onChoose = onChoose;
    /** Branch paths the user opened or closed, so a re-render keeps them as they were. */
    this.opened = new Map();
    this.selected = null;
  }

  render(resources, needle) {
    const tree = arrange(resources, needle);
    const small = count(tree) < 200 || Boolean(needle);
    const fragment = document.createDocumentFragment();
    for (const [subscription, groups] of tree) {
      const s = this.branch([subscription], subscription, count(groups), true, (body) => {
        more(body, groups.size - SHOWN_PER_BRANCH, "resource groups");
        for (const [group, types] of [...groups].slice(0, SHOWN_PER_BRANCH)) {
          body.append(this.branch([subscription, group], group, count(types), small, (groupBody) => {
            for (const [type, list] of types) {
              groupBody.append(this.branch([subscription, group, type], type, list.length, small, (typeBody) => this.leaves(typeBody, list)));
            }
          }));
        }
      });
      fragment.append(s);
    }
    this.container.replaceChildren(fragment);
  }

  branch(path, label, n, openByDefault, fill) {
    const key = path.join("\u0000");
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    // Long types break after a slash rather than anywhere.
    label.split("/").forEach((part, i) => {
      if (i > 0) summary.append("/", document.createElement("wbr"));
      summary.append(part);
    });
    const number = document.createElement("span");
    number.className = "count";
    number.textContent = n;
    summary.append(number);
    details.append(summary);
    let filled = false;
    const fillOnce = () => {
      if (!filled && details.open) {
        filled = true;
        fill(details);
      }
    };
    details.open = this.opened.get(key) ?? openByDefault;
    fillOnce();
    details.addEventListener("toggle", () => {
      this.opened.set(key, details.open);
      fillOnce();
    });
    return details;
  }

  leaves(container, list) {
    list.sort((a, b) => nameOf(a).localeCompare(nameOf(b), undefined, { numeric: true }));
    for (const r of list.slice(0, SHOWN_PER_TYPE)) {
      const button = document.createElement("button");
      button.className = "resource";
      button.type = "button";
      button.title = r.id;
      button.dataset.id = r.id;
      button.setAttribute("aria-current", String(r.id.toLowerCase() === this.selected));
      const name = document.createElement("span");
      name.textContent = nameOf(r);
      button.append(name);
      // A publishing operation's stored status is where it began: its detail tells the rest.
      const state = r.type === "partner/operations" ? null : r.document?.properties?.status ?? r.document?.properties?.state ?? r.document?.properties?.provisioningState;
      if (typeof state === "string") button.append(badge(state));
      button.addEventListener("click", () => this.onChoose(r.id));
      container.append(button);
    }
    if (list.length > SHOWN_PER_TYPE) {
      const more = document.createElement("p");
      more.className = "hint";
      more.textContent = `… and ${list.length - SHOWN_PER_TYPE} more: narrow the search`;
      container.append(more);
    }
  }
}

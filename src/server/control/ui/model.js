// The page's copy of what azemu holds: every resource by lower-cased id, kept current by the
// journal's change events rather than by reloading.
import { getJSON, local } from "./api.js";

/** At most this many resources are loaded (the state dump is paged). */
const LIMIT = 50000;
const PAGE = 2000;

export class Model extends EventTarget {
  constructor() {
    super();
    /** lower-cased id → {id, type, document} */
    this.resources = new Map();
    this.operations = [];
    this.truncated = false;
    /** ids whose document must be fetched again (created, or changed in ways events do not carry). */
    this.stale = new Set();
    this.applied = 0;
  }

  async load() {
    const resources = new Map();
    let url = `/_azemu/state?limit=${PAGE}`;
    let operations = null;
    while (url && resources.size < LIMIT) {
      const page = await getJSON(url);
      operations ??= page.operations ?? [];
      for (const r of page.resources) resources.set(r.id.toLowerCase(), { id: r.id, type: r.document?.type ?? r.type, document: r.document });
      url = page.nextLink ? local(page.nextLink) : null;
    }
    this.truncated = Boolean(url);
    this.resources = resources;
    this.operations = operations ?? [];
    this.dispatchEvent(new Event("loaded"));
  }

  /** Applies one change event; returns the lower-cased id it concerned. */
  apply(change) {
    const key = change.resourceId.toLowerCase();
    this.applied += 1;
    if (change.property === "resource") {
      if (change.to === "absent") {
        this.resources.delete(key);
        this.stale.delete(key);
      } else if (!this.resources.has(key) && this.resources.size < LIMIT) {
        this.resources.set(key, { id: change.resourceId, type: change.resourceType, document: { name: change.resourceId.split("/").pop(), type: change.resourceType, properties: {} } });
        this.stale.add(key);
      }
      return key;
    }
    const entry = this.resources.get(key);
    if (entry) setPath(entry.document, change.property, change.to);
    return key;
  }

  /** Fetches the documents of resources that appeared, a few at a time. */
  async refreshStale() {
    const keys = [...this.stale].slice(0, 200);
    keys.forEach((k) => this.stale.delete(k));
    const fetched = await Promise.all(keys.map((k) => getJSON(`/_azemu/resource?id=${encodeURIComponent(this.resources.get(k)?.id ?? k)}`).catch(() => null)));
    for (const [i, found] of fetched.entries()) {
      if (found && this.resources.has(keys[i])) this.resources.set(keys[i], { id: found.id, type: found.type, document: found.document });
    }
    return keys.length;
  }
}

function setPath(doc, dotted, value) {
  const parts = dotted.split(".");
  let at = doc;
  for (const part of parts.slice(0, -1)) {
    if (typeof at[part] !== "object" || at[part] === null) at[part] = {};
    at = at[part];
  }
  at[parts[parts.length - 1]] = value;
}

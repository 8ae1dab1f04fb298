// Small pieces every view uses: elements, state badges, times and durations.

/** Makes an element: `el("td", {className: "x"}, "text", child)`. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "dataset") Object.assign(node.dataset, v);
    else if (k.startsWith("aria-") || k === "role") node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

/** How a state reads: good, bad, running or neutral. */
export function tone(state) {
  const s = String(state).toLowerCase();
  if (/fail|error|cancel|blocked|rejected/.test(s)) return "bad";
  if (/succe|complete|success|^ok$|connected|ready|applied|live/.test(s)) return "good";
  if (/progress|creat|updat|delet|start|accept|provision|running|scheduled|preparing|install|waiting|notstarted|stopping|deallocating/.test(s)) return "busy";
  return "neutral";
}

export function badge(state) {
  return el("span", { className: `badge ${tone(state)}`, dataset: { state: String(state) } }, String(state));
}

/** A timestamp as date and time of day, to the second. */
export function when(iso) {
  if (!iso) return "";
  return String(iso).replace("T", " ").replace(/\.\d+Z$|Z$/, "");
}

export function duration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return "";
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** A progress bar with its figure, for screen readers too. */
export function bar(percent, label) {
  const p = Math.max(0, Math.min(100, Number(percent) || 0));
  const outer = el("div", { className: "bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(p), "aria-label": label });
  const fill = el("div", { className: "fill" });
  fill.style.width = `${p}%`;
  outer.append(fill, el("span", {}, `${p}%`));
  return outer;
}

export function section(title, ...children) {
  return el("section", { className: "view" }, el("h3", {}, title), ...children);
}

// Fault rules: the list with their hits, a form that adds one (the API's own error shown when
// it refuses it) and a delete button per rule.
import { getJSON, postJSON, send } from "./api.js";
import { el } from "./common.js";

export class Faults {
  constructor(onError) {
    this.onError = onError;
    this.form = document.getElementById("fault-form");
  }

  async refresh() {
    const rules = (await getJSON("/_azemu/faults")).value ?? [];
    const rows = rules.map((rule) => {
      const remove = el("button", { type: "button", className: "danger", "aria-label": `Delete rule ${rule.id}` }, "Delete");
      remove.addEventListener("click", async () => {
        try {
          await send("DELETE", `/_azemu/faults/${encodeURIComponent(rule.id)}`);
          await this.refresh();
        } catch (e) {
          this.onError(e);
        }
      });
      return el("tr", { dataset: { rule: rule.id } },
        el("td", {}, rule.id), el("td", {}, el("code", {}, JSON.stringify(rule.match ?? {}))), el("td", {}, el("code", {}, JSON.stringify(rule.action ?? {}))),
        el("td", {}, rule.times ?? (rule.probability !== undefined ? `p=${rule.probability}` : "")), el("td", { className: "hits" }, String(rule.hits ?? 0)),
        el("td", {}, rule.active === false ? "retired" : "yes"), el("td", {}, remove));
    });
    document.querySelector("#faults tbody").replaceChildren(...rows);
    document.getElementById("fault-count").textContent = rules.length ? String(rules.filter((r) => r.active !== false).length) : "";
  }

  /** The rule the form describes, with only the fields filled in. */
  rule() {
    const f = new FormData(this.form);
    const text = (name) => String(f.get(name) ?? "").trim();
    const number = (name) => (text(name) === "" ? undefined : Number(text(name)));
    const match = {};
    for (const name of ["operation", "method", "path", "subscription", "step"]) if (text(name)) match[name] = text(name);
    const kind = text("action");
    const body = {};
    if (kind === "error") Object.assign(body, { status: number("status"), code: text("code") || undefined, message: text("message") || undefined, retryAfter: number("retryAfter") });
    if (kind === "latency") body.ms = number("ms");
    if (kind === "failOperation" || kind === "failStep") Object.assign(body, { code: text("code") || undefined, message: text("message") || undefined });
    const action = { [kind]: kind === "dropConnection" ? true : JSON.parse(JSON.stringify(body)) };
    const rule = { match, action };
    if (number("times") !== undefined) rule.times = number("times");
    if (number("probability") !== undefined) rule.probability = number("probability");
    return rule;
  }

  showFields() {
    const kind = this.form.elements.action.value;
    for (const label of this.form.querySelectorAll("label[data-for]")) label.hidden = !label.dataset.for.split(" ").includes(kind);
  }

  async wire() {
    this.form.elements.action.addEventListener("change", () => this.showFields());
    this.showFields();
    this.form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const output = document.getElementById("fault-error");
      output.textContent = "";
      try {
        const made = await postJSON("/_azemu/faults", this.rule());
        output.textContent = `Added rule ${made.id}.`;
        await this.refresh();
      } catch (e) {
        output.textContent = `${e.code ?? "Error"}: ${e.message}`;
      }
    });
    try {
      const points = (await getJSON("/_azemu/faults/points")).value ?? [];
      const options = (names) => [...new Set(names)].sort().map((n) => el("option", { value: n }));
      document.getElementById("fault-operations").replaceChildren(...options(points.flatMap((p) => p.operations ?? [])));
      document.getElementById("fault-steps").replaceChildren(...options(points.flatMap((p) => p.steps ?? [])));
    } catch (e) {
      this.onError(e);
    }
  }
}

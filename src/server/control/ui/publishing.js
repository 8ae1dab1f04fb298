// A Cloud Partner Portal publishing operation: its steps with their status and progress, and
// what each step said.
import { el, badge, bar, section, when } from "./common.js";

export function publishingView(found) {
  const detail = found.views?.detail;
  if (!detail) return null;
  const list = el("ol", { className: "pub-steps" });
  for (const step of detail.steps ?? []) {
    const running = /running/i.test(step.status);
    const item = el("li", { className: `pub-step${running ? " running" : ""}`, dataset: { step: step.id ?? "" } },
      el("div", { className: "pub-head" }, el("strong", {}, step.stepName ?? step.id), badge(step.status ?? ""), el("span", { className: "hint" }, step.estimatedTimeFrame ?? "")),
      bar(step.progressPercentage, `${step.stepName} progress`));
    if (running) item.setAttribute("aria-current", "step");
    const messages = el("ul", { className: "messages" });
    for (const m of step.messages ?? []) {
      messages.append(el("li", { className: m.level === "error" ? "step-error" : "" }, `${when(m.timestamp)} — ${m.messageHtml ?? ""}`));
    }
    item.append(messages);
    list.append(item);
  }
  const facts = el("dl", { className: "facts" },
    el("dt", {}, "Status"), el("dd", {}, badge(detail.status ?? "")),
    el("dt", {}, "Cancellation"), el("dd", {}, detail.cancellationRequestState ?? "—"));
  return section("Publishing", facts, list);
}

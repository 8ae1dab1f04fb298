// Azure Stack HCI's long-running work: an edge-device job's phases (percentComplete as a bar,
// each phase's steps on a timeline) and an update run's step tree.
import { el, badge, bar, section, when } from "./common.js";
import { stepTree } from "./steps.js";

export function jobView(found, now) {
  const p = found.document.properties ?? {};
  const rp = p.reportedProperties ?? {};
  const phases = [
    ["Validation", rp.validationStatus],
    ["Deployment", rp.deploymentStatus],
  ].filter(([, phase]) => phase);
  const facts = el("dl", { className: "facts" },
    el("dt", {}, "Job type"), el("dd", {}, p.jobType ?? ""),
    el("dt", {}, "Status"), el("dd", {}, badge(p.status ?? "")),
    el("dt", {}, "Started"), el("dd", {}, when(p.startTimeUtc)),
    el("dt", {}, "Ended"), el("dd", {}, when(p.endTimeUtc) || "—"));
  const parts = [bar(rp.percentComplete, "Job progress"), facts];
  for (const [name, phase] of phases) {
    parts.push(el("h4", {}, `${name} `, badge(phase.status ?? "NotStarted")), stepTree(`${found.id}/${name}`, phase.steps ?? [], now));
  }
  return section("Progress", ...parts);
}

/** Counts an update run's leaf steps, done and all, for its bar. */
function leaves(step) {
  const children = step.steps ?? [];
  if (!children.length) return { done: /success|succeeded/i.test(step.status) ? 1 : 0, all: 1 };
  return children.map(leaves).reduce((a, b) => ({ done: a.done + b.done, all: a.all + b.all }), { done: 0, all: 0 });
}

export function runView(found, now) {
  const p = found.document.properties ?? {};
  const progress = p.progress ?? {};
  const counted = leaves(progress);
  const facts = el("dl", { className: "facts" },
    el("dt", {}, "State"), el("dd", {}, badge(p.state ?? "")),
    el("dt", {}, "Started"), el("dd", {}, when(p.timeStarted)),
    el("dt", {}, "Last updated"), el("dd", {}, when(p.lastUpdatedTime)),
    el("dt", {}, "Steps done"), el("dd", {}, `${counted.done} of ${counted.all}`));
  const percent = counted.all ? Math.round((counted.done / counted.all) * 100) : 0;
  return section("Update run", bar(percent, "Steps done"), facts, stepTree(found.id, [progress], now));
}


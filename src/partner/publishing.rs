//! A publishing operation's lifecycle: the seed's pipeline of steps on the emulator clock, and
//! the operation's documents (list entry and detail) rendered from its plan and the time.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::arm::timestamp;
use crate::sim::scaled;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Submission {
    Publish,
    GoLive,
}

pub struct StepSpec {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub estimated: Option<&'static str>,
    /// At `--speed 1`; proportioned like the estimated time frames, short enough for CI.
    pub nominal: Duration,
}

const fn step(
    id: &'static str,
    name: &'static str,
    description: &'static str,
    estimated: Option<&'static str>,
    millis: u64,
) -> StepSpec {
    StepSpec { id, name, description, estimated, nominal: Duration::from_millis(millis) }
}

pub const STEPS: [StepSpec; 6] = [
    step("displaydummycertify", "Validate Pre-Requisites", "Offer settings provided are validated", Some("< 15 min"), 500),
    step("displaycertify", "Certification", "Your offer is analyzed by our certification systems for issues.", Some("< 5 day"), 2000),
    step("displayprovision", "Provisioning", "Your virtual machine is being replicated in our production systems.", Some("< 1 day"), 1500),
    step(
        "displaypackage",
        "Packaging and Lead Generation Registration",
        "Your virtual machine is packaged for being shown to your customers. Additionally, we hookup our lead generation systems to send leads for your offer.",
        Some("< 1 hour"),
        500,
    ),
    step(
        "publisher-signoff",
        "Publisher signoff",
        "Offer is available to preview. Ensure that everything looks good before making your offer live.",
        None,
        0,
    ),
    step("live", "Live", "Offer is publicly visible and is available for purchase.", Some("~2-5 days"), 1500),
];

/// The steps each submission runs (the others show as the publish left them).
fn runs(submission: Submission) -> std::ops::Range<usize> {
    match submission {
        Submission::Publish => 0..5,
        Submission::GoLive => 5..6,
    }
}

/// A step a fault rule made fail: it shows `blocked` with the message at level error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Blocked {
    pub step: usize,
    pub message: String,
}

/// What the store keeps for an operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationSim {
    pub submission: Submission,
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub start: DateTime<Utc>,
    pub speed: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked: Option<Blocked>,
    /// When a cancel was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "crate::arm::envelope::optional_timestamp")]
    pub cancel_requested: Option<DateTime<Utc>>,
}

/// How long a requested cancel takes to stop the operation.
const CANCEL_TAKES: Duration = Duration::from_millis(500);

impl OperationSim {
    /// Each step this operation runs with its start and end.
    pub fn timeline(&self) -> Vec<(usize, DateTime<Utc>, DateTime<Utc>)> {
        let mut at = self.start;
        let mut out = Vec::new();
        for i in runs(self.submission) {
            let end = at + scaled(STEPS[i].nominal, self.speed);
            out.push((i, at, end));
            if self.blocked.as_ref().is_some_and(|b| b.step == i) {
                break;
            }
            at = end;
        }
        out
    }

    /// When the operation ends, and how: `completed`, `failed` or `canceled`.
    pub fn end(&self) -> (DateTime<Utc>, &'static str) {
        let line = self.timeline();
        let natural = line.last().map_or(self.start, |(_, _, end)| *end);
        match self.cancel_requested {
            Some(asked) => {
                let stop = asked + scaled(CANCEL_TAKES, self.speed);
                if stop < natural {
                    return (stop, "canceled");
                }
                (natural, if self.blocked.is_some() { "failed" } else { "completed" })
            }
            None => (natural, if self.blocked.is_some() { "failed" } else { "completed" }),
        }
    }

    /// `running` until it ends, then how it ended.
    pub fn status_at(&self, now: DateTime<Utc>) -> &'static str {
        let (end, how) = self.end();
        if now < end {
            "running"
        } else {
            how
        }
    }

    /// Whether a cancel is still possible at `now`: before packaging starts.
    pub fn can_cancel(&self, now: DateTime<Utc>) -> bool {
        self.submission == Submission::Publish
            && self.status_at(now) == "running"
            && self.cancel_requested.is_none()
            && self.timeline().iter().find(|(i, _, _)| *i == 3).is_none_or(|(_, start, _)| now < *start)
    }
}

/// When the operation's detail next changes after `now`: a step starting or ending, the running
/// step's percentage reaching its next whole number, the operation ending. `None`: never again.
pub fn next_change(sim: &OperationSim, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let line = sim.timeline();
    let percent_tick =
        line.iter().filter(|(_, start, finish)| *start <= now && now < *finish).map(|(_, start, finish)| {
            let total = (*finish - *start).num_milliseconds().max(1);
            let done = (now - *start).num_milliseconds().clamp(0, total);
            let next = done * 100 / total + 1;
            // Milliseconds by which `done * 100 / total` reaches `next` (it stops at 99).
            let at = if next <= 99 { (next * total + 99) / 100 } else { total };
            *start + chrono::Duration::milliseconds(at)
        });
    let steps = line.iter().flat_map(|(_, start, finish)| [*start, *finish]);
    steps.chain(percent_tick).chain([sim.end().0]).filter(|at| *at > now).min()
}

fn message(html: &str, level: &str, at: DateTime<Utc>) -> Value {
    json!({ "messageHtml": html, "level": level, "timestamp": timestamp(at) })
}

/// The operation's detail at `now`: status, messages, links and the steps as the seed shows them.
pub fn detail(sim: &OperationSim, base: &Value, now: DateTime<Utc>) -> Value {
    let status = sim.status_at(now);
    let (end, _) = sim.end();
    let line = sim.timeline();
    let mut steps = Vec::new();
    for (i, spec) in STEPS.iter().enumerate() {
        let run = line.iter().find(|(j, _, _)| *j == i);
        let before = i < runs(sim.submission).start;
        let (state, percent, messages) = match run {
            _ if before => ("complete", 100, vec![message("Step completed.", "information", sim.start)]),
            None => ("notStarted", 0, vec![]),
            Some((_, start, _)) if now < *start => ("notStarted", 0, vec![]),
            Some((_, start, finish)) => {
                // One message per transition the step has made by `now`.
                let started = message("Step started.", "information", *start);
                let blocked = sim.blocked.as_ref().filter(|b| b.step == i);
                let stopped = status == "canceled" && end < *finish;
                if let (Some(b), true) = (blocked, now >= *finish) {
                    ("blocked", 0, vec![started, message(&b.message, "error", *finish)])
                } else if stopped && now >= end {
                    (
                        "canceled",
                        0,
                        vec![started, message("The publishing operation was canceled.", "information", end)],
                    )
                } else if now >= *finish {
                    ("complete", 100, vec![started, message("Step completed.", "information", *finish)])
                } else {
                    let total = (*finish - *start).num_milliseconds().max(1);
                    let done = (now - *start).num_milliseconds().clamp(0, total);
                    ("running", (done * 100 / total).min(99), vec![started])
                }
            }
        };
        let mut entry = json!({
            "id": spec.id,
            "stepName": spec.name,
            "description": spec.description,
            "status": state,
            "messages": messages,
            "progressPercentage": percent,
        });
        if let Some(estimated) = spec.estimated {
            entry["estimatedTimeFrame"] = json!(estimated);
        }
        steps.push(entry);
    }
    let offer = format!(
        "{}-{}",
        base["publisherId"].as_str().unwrap_or_default(),
        base["offerId"].as_str().unwrap_or_default()
    );
    let preview = matches!(status, "completed") || sim.submission == Submission::GoLive;
    let live = sim.submission == Submission::GoLive && status == "completed";
    let cancellation = match (sim.cancel_requested.is_some(), sim.can_cancel(now)) {
        (true, _) => "cancelRequested",
        (false, true) => "canCancel",
        (false, false) => "cannotCancel",
    };
    let mut doc = json!({
        "status": status,
        "messages": [],
        "publishingVersion": base["publishingVersion"],
        "offerVersion": base["offerVersion"],
        "cancellationRequestState": cancellation,
        "steps": steps,
        "previewLinks": if preview { json!([{ "displayText": "Preview", "uri": format!("https://azuremarketplace.example/preview/{offer}") }]) } else { json!([]) },
        "liveLinks": if live { json!([{ "displayText": "Live", "uri": format!("https://azuremarketplace.example/marketplace/apps/{offer}") }]) } else { json!([]) },
    });
    // A failed operation says why, as the list entry does.
    if status == "failed" {
        doc["error"] = json!(sim.blocked.as_ref().map(|b| b.message.clone()));
    }
    doc
}

/// The operation as lists show it at `now`.
pub fn entry(sim: &OperationSim, base: &Value, now: DateTime<Utc>) -> Value {
    let mut doc = base.clone();
    let status = sim.status_at(now);
    let (end, _) = sim.end();
    doc["status"] = json!(status);
    doc["submissionState"] = json!(status);
    let last = if status == "running" { sim.start.max(sim.cancel_requested.unwrap_or(sim.start)) } else { end };
    doc["lastActionDateTime"] = json!(timestamp(last));
    doc["changedTime"] = json!(timestamp(last));
    if status == "failed" {
        doc["error"] = json!(sim.blocked.as_ref().map(|b| b.message.clone()));
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim(submission: Submission, blocked: Option<usize>, cancel_after_ms: Option<i64>) -> OperationSim {
        let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().with_timezone(&Utc);
        OperationSim {
            submission,
            start,
            speed: 1.0,
            blocked: blocked.map(|step| Blocked { step, message: "Certification failed.".into() }),
            cancel_requested: cancel_after_ms.map(|ms| start + chrono::Duration::milliseconds(ms)),
        }
    }

    /// The detail at every moment equals the one rendered at the last change before it.
    #[test]
    fn a_detail_holds_until_its_next_change() {
        let base = json!({ "publisherId": "contoso", "offerId": "web", "publishingVersion": 1, "offerVersion": 2 });
        let sims = [
            sim(Submission::Publish, None, None),
            sim(Submission::Publish, Some(1), None),
            sim(Submission::Publish, None, Some(700)),
            sim(Submission::GoLive, None, None),
        ];
        for sim in &sims {
            let mut now = sim.start - chrono::Duration::milliseconds(50);
            let mut changes = 0;
            while now < sim.start + chrono::Duration::seconds(8) {
                let shown = detail(sim, &base, now);
                let Some(next) = next_change(sim, now) else {
                    assert_eq!(shown, detail(sim, &base, now + chrono::Duration::hours(1)), "final");
                    break;
                };
                assert!(next > now);
                let last = next - chrono::Duration::milliseconds(1);
                for probe in [now + (next - now) / 2, last] {
                    assert_eq!(shown, detail(sim, &base, probe), "{sim:?} from {now} to {probe}");
                }
                // The next change is a change (or the status' end, which may show nothing new).
                changes += usize::from(detail(sim, &base, next) != shown);
                now = next;
            }
            assert!(changes > 100, "{sim:?}: the percentages move one by one ({changes} changes)");
        }
    }
}

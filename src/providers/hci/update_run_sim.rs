//! A simulated update run: what the store keeps (a small plan and a cursor), the times each
//! step runs at (a pure function of the plan), and the run's document at any moment.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::update_plan::{tree, FlatLeaf, RunKind, RunTree, HEALTH_CHECKS};
use crate::arm::formats::iso_duration;
use crate::arm::timestamp;
use crate::sim::scaled;
use crate::sim::timeline::Cursor;

/// A step a fault rule made fail, with the error it fails with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedFailure {
    pub leaf: usize,
    pub code: String,
    pub message: String,
    /// The HTTP status the failed operation answers with.
    #[serde(default = "bad_request")]
    pub status: u16,
}

fn bad_request() -> u16 {
    400
}

/// The run's lifecycle state. `cursor.next` counts the run's events already applied (see
/// [`RunSim::events`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSim {
    #[serde(flatten)]
    pub cursor: Cursor,
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub start: DateTime<Utc>,
    pub kind: RunKind,
    pub nodes: usize,
    /// What the update is called in the run's description.
    pub title: String,
    /// Leaves done by an earlier run of the same update: this run passes them as `Skipped`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip: Vec<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<PlannedFailure>,
}

/// When one leaf runs, and how it ends.
#[derive(Debug, Clone)]
pub struct LeafRun {
    pub leaf: FlatLeaf,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub skipped: bool,
    /// The error it ends with.
    pub error: Option<String>,
    /// It never starts: an earlier leaf failed.
    pub unreached: bool,
}

/// Something the run does beyond its own document: it writes the update and the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEvent {
    /// The health checks passed: their results reach the update and the summary.
    HealthChecked,
    /// The run ended (successfully or not).
    Finished,
}

impl RunSim {
    pub fn tree(&self) -> RunTree {
        tree(self.kind, self.nodes, &self.title)
    }

    /// Every leaf with its times, in order.
    pub fn walk(&self) -> Vec<LeafRun> {
        let mut at = self.start;
        let mut failed = false;
        let mut out = Vec::new();
        for (i, leaf) in self.tree().leaves().into_iter().enumerate() {
            let skipped = self.skip.contains(&i) && !failed;
            let start = at;
            let end = if skipped || failed { start } else { start + scaled(leaf.spec.nominal, self.cursor.speed) };
            let error = self.failure.as_ref().filter(|f| f.leaf == i && !failed && !skipped).map(|f| f.message.clone());
            out.push(LeafRun { leaf, start, end, skipped, unreached: failed, error: error.clone() });
            failed |= error.is_some();
            at = end;
        }
        out
    }

    /// When the run ends: its last leaf, or the one that failed.
    pub fn end(walk: &[LeafRun]) -> DateTime<Utc> {
        walk.iter().rev().find(|l| !l.unreached).map_or(DateTime::<Utc>::MIN_UTC, |l| l.end)
    }

    pub fn failed_leaf(walk: &[LeafRun]) -> Option<&LeafRun> {
        walk.iter().find(|l| l.error.is_some())
    }

    /// The run's events, in order, with their times.
    pub fn events(&self, walk: &[LeafRun]) -> Vec<(DateTime<Utc>, RunEvent)> {
        let end = Self::end(walk);
        let health = walk.iter().find(|l| l.leaf.spec.name == HEALTH_CHECKS && !l.skipped && !l.unreached);
        let mut events = Vec::new();
        if let Some(h) = health.filter(|h| h.error.is_none() && h.end < end) {
            events.push((h.end, RunEvent::HealthChecked));
        }
        events.push((end, RunEvent::Finished));
        events
    }

    /// The next event not yet applied.
    pub fn next_event(&self, walk: &[LeafRun]) -> Option<(DateTime<Utc>, RunEvent)> {
        self.events(walk).get(self.cursor.next).copied()
    }
}

/// One step as the run shows it at a moment.
struct Shown {
    status: &'static str,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    last_updated: Option<DateTime<Utc>>,
    error: Option<String>,
}

fn leaf_at(run: &LeafRun, now: DateTime<Utc>) -> Shown {
    let (started, ended) = (!run.unreached && run.start <= now, !run.unreached && run.end <= now);
    let status = match (started, ended, run.skipped, &run.error) {
        (false, _, _, _) => "NotStarted",
        (true, _, true, _) => "Skipped",
        (true, false, _, _) => "InProgress",
        (true, true, _, Some(_)) => "Error",
        (true, true, _, None) => "Success",
    };
    Shown {
        status,
        start: started.then_some(run.start),
        end: ended.then_some(run.end),
        last_updated: ended.then_some(run.end),
        error: if status == "Error" { run.error.clone() } else { None },
    }
}

/// A parent's state from its children's: Error if one failed, done when all are, NotStarted
/// until one starts, InProgress otherwise; times and the error bubble up.
fn parent_of(children: &[Shown]) -> Shown {
    let all = |s: &[&str]| children.iter().all(|c| s.contains(&c.status));
    let error = children.iter().find(|c| c.status == "Error");
    let status = if error.is_some() {
        "Error"
    } else if all(&["Skipped"]) {
        "Skipped"
    } else if all(&["Success", "Skipped"]) {
        "Success"
    } else if all(&["NotStarted"]) {
        "NotStarted"
    } else {
        "InProgress"
    };
    let done = matches!(status, "Error" | "Skipped" | "Success");
    Shown {
        status,
        start: children.iter().filter_map(|c| c.start).min(),
        end: if done { children.iter().filter_map(|c| c.end).max() } else { None },
        last_updated: children.iter().filter_map(|c| c.last_updated).max(),
        error: error.and_then(|e| e.error.clone()),
    }
}

fn step_json(name: &str, description: &str, shown: &Shown, expected: Option<String>, steps: Vec<Value>) -> Value {
    let mut step = Map::new();
    step.insert("name".into(), json!(name));
    step.insert("description".into(), json!(description));
    step.insert("errorMessage".into(), json!(shown.error.clone().unwrap_or_default()));
    step.insert("status".into(), json!(shown.status));
    for (field, at) in
        [("startTimeUtc", shown.start), ("endTimeUtc", shown.end), ("lastUpdatedTimeUtc", shown.last_updated)]
    {
        if let Some(at) = at {
            step.insert(field.into(), json!(timestamp(at)));
        }
    }
    if let Some(expected) = expected {
        step.insert("expectedExecutionTime".into(), json!(expected));
    }
    step.insert("steps".into(), Value::Array(steps));
    Value::Object(step)
}

/// The run's `properties` at `now`.
pub fn properties_at(sim: &RunSim, now: DateTime<Utc>) -> Value {
    let tree = sim.tree();
    let walk = sim.walk();
    let mut branch_steps = Vec::new();
    let mut branch_shown = Vec::new();
    for (b, branch) in tree.branches.iter().enumerate() {
        let runs: Vec<&LeafRun> = walk.iter().filter(|l| l.leaf.branch == b).collect();
        let shown: Vec<Shown> = runs.iter().map(|r| leaf_at(r, now)).collect();
        let leaves = runs
            .iter()
            .zip(&shown)
            .map(|(r, s)| {
                let expected = iso_duration(scaled(r.leaf.spec.nominal, sim.cursor.speed));
                step_json(r.leaf.spec.name, r.leaf.spec.description, s, Some(expected), Vec::new())
            })
            .collect();
        let parent = parent_of(&shown);
        branch_steps.push(step_json(&branch.name, &branch.description, &parent, None, leaves));
        branch_shown.push(parent);
    }
    let root = parent_of(&branch_shown);
    let root_step = step_json(tree.root_name, &tree.root_description, &root, None, branch_steps);
    let state = match root.status {
        "Error" => "Failed",
        "Success" | "Skipped" => "Succeeded",
        _ => "InProgress",
    };
    let last = root.last_updated.unwrap_or(sim.start);
    // A run under way reports how long it has run to the second; once ended, exactly.
    let duration = match root.end {
        Some(end) => end - sim.start,
        None => chrono::Duration::seconds((now.max(sim.start) - sim.start).num_seconds()),
    };
    json!({
        "provisioningState": "Succeeded",
        "timeStarted": timestamp(sim.start),
        "lastUpdatedTime": timestamp(last),
        "duration": iso_duration(duration),
        "state": state,
        "progress": root_step,
    })
}

/// When the run's document next changes after `now`: a step starting or ending, or, while the
/// run goes on, its `duration` reaching the next second. `None`: the run has ended.
pub fn next_change(sim: &RunSim, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let walk = sim.walk();
    if RunSim::end(&walk) <= now {
        return None;
    }
    let elapsed = (now.max(sim.start) - sim.start).num_seconds();
    let tick = sim.start + chrono::Duration::seconds(elapsed + 1);
    let steps = walk.iter().filter(|l| !l.unreached).flat_map(|l| [l.start, l.end]).filter(|at| *at > now);
    steps.chain([tick]).min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim(failure: Option<usize>, skip: Vec<usize>) -> RunSim {
        RunSim {
            cursor: Cursor { next: 0, speed: 1.0 },
            start: DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().with_timezone(&Utc),
            kind: RunKind::Apply,
            nodes: 2,
            title: "10.2408.0.29".into(),
            skip,
            failure: failure.map(|leaf| PlannedFailure {
                leaf,
                code: "StepFailed".into(),
                message: "boom".into(),
                status: 500,
            }),
        }
    }

    fn at(s: &RunSim, secs: i64) -> Value {
        properties_at(s, s.start + chrono::Duration::seconds(secs))
    }

    #[test]
    fn steps_run_in_tree_order_and_parents_follow_children() {
        let s = sim(None, vec![]);
        let p = at(&s, 10);
        assert_eq!(p["state"], "InProgress");
        assert_eq!(p["progress"]["status"], "InProgress");
        assert_eq!(p["progress"]["steps"][0]["status"], "Success");
        assert_eq!(p["progress"]["steps"][1]["status"], "InProgress");
        assert_eq!(p["progress"]["steps"][1]["steps"][0]["status"], "InProgress");
        assert_eq!(p["progress"]["steps"][2]["status"], "NotStarted");
        assert!(p["progress"]["steps"][2].get("startTimeUtc").is_none());
        assert_eq!(p["lastUpdatedTime"], p["progress"]["steps"][0]["endTimeUtc"]);
        let done = at(&s, 38);
        assert_eq!(done["state"], "Succeeded");
        assert_eq!(done["duration"], "PT38S");
        assert_eq!(
            s.events(&s.walk()),
            vec![
                (s.start + chrono::Duration::seconds(9), RunEvent::HealthChecked),
                (s.start + chrono::Duration::seconds(38), RunEvent::Finished),
            ]
        );
    }

    #[test]
    fn a_failed_leaf_fails_its_ancestors_and_stops_the_run() {
        // Node-2/Restart: Prepare (3 leaves), Node-1 (4), then Node-2's third leaf.
        let s = sim(Some(9), vec![]);
        let walk = s.walk();
        assert_eq!(walk[9].leaf.path, "Node-2/Restart");
        let end = RunSim::end(&walk);
        assert_eq!(end, s.start + chrono::Duration::seconds(9 + 13 + 2 + 4 + 6));
        let p = properties_at(&s, end);
        assert_eq!(p["state"], "Failed");
        assert_eq!(p["progress"]["status"], "Error");
        assert_eq!(p["progress"]["errorMessage"], "boom");
        assert_eq!(p["progress"]["steps"][2]["errorMessage"], "boom");
        assert_eq!(p["progress"]["steps"][2]["steps"][2]["status"], "Error");
        assert_eq!(p["progress"]["steps"][2]["steps"][3]["status"], "NotStarted");
        assert_eq!(p["progress"]["steps"][3]["status"], "NotStarted");
    }

    #[test]
    fn skipped_leaves_take_no_time() {
        let s = sim(None, vec![0, 1, 2]);
        let p = at(&s, 0);
        assert_eq!(p["progress"]["steps"][0]["status"], "Skipped");
        assert_eq!(at(&s, 29)["state"], "Succeeded");
        assert_eq!(s.events(&s.walk()).len(), 1);
    }
}

//! What `azemu watch` knows about the watched resource, and how it shows it: progress bars on a
//! terminal, one plain line per change otherwise.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

const PROVISIONING: &str = "properties.provisioningState";
const STATUS: &str = "properties.status";
const PERCENT: &str = "properties.reportedProperties.percentComplete";
/// An update run's own state: its provisioning state is `Succeeded` from the start.
const RUN_STATE: &str = "properties.state";
const RUN_UPDATED: &str = "properties.lastUpdatedTime";

/// Where a run of steps stands: leaves finished, leaves in all, the step running now.
#[derive(Debug, Clone, PartialEq)]
pub struct StepProgress {
    pub done: usize,
    pub total: usize,
    pub current: Option<String>,
}

impl StepProgress {
    /// Reads a `progress` step tree: its leaves in order, by `Branch/Leaf` path, as they stood
    /// at `at` (from their start and end times), or as they stand now.
    pub fn of(tree: &Value, at: Option<DateTime<FixedOffset>>) -> Option<StepProgress> {
        fn leaves<'a>(step: &'a Value, path: &str, out: &mut Vec<(String, &'a Value)>) {
            let children = step["steps"].as_array().filter(|c| !c.is_empty());
            match children {
                Some(children) => {
                    for child in children {
                        let name = child["name"].as_str().unwrap_or_default();
                        let path = if path.is_empty() { name.to_string() } else { format!("{path}/{name}") };
                        leaves(child, &path, out);
                    }
                }
                None => out.push((path.to_string(), step)),
            }
        }
        tree.get("steps")?;
        let mut all = Vec::new();
        leaves(tree, "", &mut all);
        let time = |leaf: &Value, field: &str| leaf[field].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok());
        let reached = |leaf: &Value, field: &str| match at {
            Some(at) => time(leaf, field).is_some_and(|t| t <= at),
            None => true,
        };
        let status = |leaf: &Value| leaf["status"].as_str().unwrap_or_default().to_string();
        let is_done =
            |leaf: &Value| matches!(status(leaf).as_str(), "Success" | "Skipped") && reached(leaf, "endTimeUtc");
        let done = all.iter().filter(|(_, l)| is_done(l)).count();
        let current = all
            .iter()
            .find(|(_, l)| {
                !is_done(l)
                    && matches!(status(l).as_str(), "InProgress" | "Error" | "Success")
                    && reached(l, "startTimeUtc")
            })
            .map(|(p, _)| p.clone());
        Some(StepProgress { done, total: all.len(), current })
    }
}

/// How the watched work ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Succeeded,
    /// `Failed` or `Canceled`, with what the document says went wrong.
    Failed(String),
    Deleted,
}

impl Outcome {
    pub fn exit_code(&self) -> i32 {
        match self {
            Outcome::Succeeded | Outcome::Deleted => 0,
            Outcome::Failed(_) => 1,
        }
    }
}

/// The watched resource's tracked properties, by dotted path.
pub struct Subject {
    pub id: String,
    pub resource_type: String,
    pub properties: BTreeMap<String, Value>,
    pub deleted: bool,
    /// For an update run: its steps, read from its document.
    pub steps: Option<StepProgress>,
    /// For a deployment: each resource it has started (by its operation's id), as
    /// `type/name` and its provisioning state.
    pub resources: BTreeMap<String, (String, String)>,
}

fn flatten_into(out: &mut BTreeMap<String, Value>, doc: &Value, paths: &[&str]) {
    for path in paths {
        let pointer = format!("/{}", path.replace('.', "/"));
        if let Some(v) = doc.pointer(&pointer) {
            out.insert(path.to_string(), v.clone());
        }
    }
}

impl Subject {
    pub fn new(id: String, resource_type: String, doc: &Value) -> Subject {
        let properties = BTreeMap::new();
        let mut subject =
            Subject { id, resource_type, properties, deleted: false, steps: None, resources: BTreeMap::new() };
        let mut paths = vec![PROVISIONING, STATUS, PERCENT];
        if subject.is_run() {
            paths.extend([RUN_STATE, RUN_UPDATED]);
        }
        flatten_into(&mut subject.properties, doc, &paths);
        subject.observe(doc, None);
        subject
    }

    pub fn is_job(&self) -> bool {
        self.resource_type.to_ascii_lowercase().ends_with("/edgedevices/jobs")
    }

    pub fn is_deployment(&self) -> bool {
        self.resource_type.eq_ignore_ascii_case("Microsoft.Resources/deployments")
    }

    /// An event about one of the watched deployment's operations: the resource it deploys
    /// (`type/name`, from the operation's document) reached `state`.
    pub fn deployed(&mut self, operation: &str, label: String, state: &str) {
        self.resources.insert(operation.to_string(), (label, state.to_string()));
    }

    /// Whether `id` is one of the watched deployment's operations.
    pub fn is_operation(&self, id: &str) -> bool {
        self.is_deployment()
            && id.len() > self.id.len() + "/operations/".len()
            && id[..self.id.len()].eq_ignore_ascii_case(&self.id)
            && id[self.id.len()..].to_ascii_lowercase().starts_with("/operations/")
    }

    pub fn is_run(&self) -> bool {
        self.resource_type.to_ascii_lowercase().ends_with("/updateruns")
    }

    /// Has a progress bar: a job's percentage, a run's steps.
    pub fn shows_progress(&self) -> bool {
        self.is_job() || self.is_run()
    }

    /// Takes in the resource's whole document (an update run's step tree is not tracked), as
    /// it stood at `at` (an event's time), or now.
    pub fn observe(&mut self, doc: &Value, at: Option<&str>) {
        if self.is_run() {
            let at = at.and_then(|t| DateTime::parse_from_rfc3339(t).ok());
            self.steps = doc.pointer("/properties/progress").and_then(|tree| StepProgress::of(tree, at));
        }
    }

    pub fn apply(&mut self, property: &str, to: &Value) {
        if property == "resource" {
            self.deleted = to == "absent";
        } else {
            self.properties.insert(property.to_string(), to.clone());
        }
    }

    fn text(&self, property: &str) -> Option<&str> {
        self.properties.get(property).and_then(Value::as_str)
    }

    pub fn percent(&self) -> Option<u64> {
        match &self.steps {
            Some(steps) if steps.total > 0 => Some((steps.done * 100 / steps.total) as u64),
            _ => self.properties.get(PERCENT).and_then(Value::as_u64),
        }
    }

    /// Where the work stands, in a few words.
    pub fn summary(&self) -> String {
        if self.deleted {
            return "deleted".into();
        }
        if let (true, Some(state)) = (self.is_run(), self.text(RUN_STATE)) {
            return match &self.steps {
                Some(StepProgress { done, total, current: Some(step) }) => format!("{state}: {step} ({done}/{total})"),
                Some(StepProgress { done, total, current: None }) => format!("{state} ({done}/{total})"),
                None => state.to_string(),
            };
        }
        let provisioning = self.text(PROVISIONING).unwrap_or("unknown");
        if self.is_deployment() && !self.resources.is_empty() {
            let done = self.resources.values().filter(|(_, state)| state == "Succeeded").count();
            let failed = self.resources.values().filter(|(_, state)| state == "Failed").count();
            let running = self.resources.values().find(|(_, state)| state == "Running").map(|(label, _)| label);
            let mut summary = format!("{provisioning}: {done} of {} resources deployed", self.resources.len());
            if failed > 0 {
                summary += &format!(", {failed} failed");
            }
            if let Some(label) = running.filter(|_| provisioning == "Running") {
                summary += &format!(" ({label} …)");
            }
            return summary;
        }
        match self.text(STATUS) {
            Some(status) if status != provisioning => format!("{status} ({provisioning})"),
            _ => provisioning.to_string(),
        }
    }

    /// `Some` once the work has reached a terminal state.
    pub fn outcome(&self) -> Option<Outcome> {
        if self.deleted {
            return Some(Outcome::Deleted);
        }
        if let (true, Some(state)) = (self.is_run(), self.text(RUN_STATE)) {
            return match state {
                "Succeeded" => Some(Outcome::Succeeded),
                "Failed" => Some(Outcome::Failed(state.to_string())),
                _ => None,
            };
        }
        match self.text(PROVISIONING)? {
            "Succeeded" => Some(Outcome::Succeeded),
            state @ ("Failed" | "Canceled") => Some(Outcome::Failed(state.to_string())),
            _ => None,
        }
    }
}

/// What failed, from a document: the deepest step in error with its message (a job's
/// `exception`, an update run's `errorMessage`).
pub fn failure_detail(doc: &Value) -> Option<String> {
    // An ARM error (a deployment's): the innermost one, with its code.
    if let Some(error) = doc.pointer("/properties/error").filter(|e| e.is_object()) {
        let mut error = error;
        while let Some(inner) = error.pointer("/details/0") {
            error = inner;
        }
        let text = |key: &str| error.get(key).and_then(Value::as_str).unwrap_or_default();
        return Some(format!("{}: {}", text("code"), text("message")));
    }
    match doc {
        Value::Object(map) => {
            if map.get("status").and_then(Value::as_str) == Some("Error") {
                let exception = map.get("exception").and_then(Value::as_array).and_then(|e| e.first());
                let message = exception.or_else(|| map.get("errorMessage")).and_then(Value::as_str);
                if let (Some(name), Some(message)) = (map.get("name").and_then(Value::as_str), message) {
                    if let Some(steps) = map.get("steps") {
                        if let Some(deeper) = failure_detail(steps) {
                            return Some(deeper);
                        }
                    }
                    return Some(format!("{name}: {message}"));
                }
            }
            map.values().find_map(failure_detail)
        }
        Value::Array(items) => items.iter().find_map(failure_detail),
        _ => None,
    }
}

pub trait Display {
    fn start(&mut self, subject: &Subject);
    fn change(&mut self, subject: &Subject, time: &str, property: &str, from: &Value, to: &Value);
    fn finish(&mut self, subject: &Subject, outcome: &Outcome);
}

/// Progress bars, redrawn in place.
pub struct TerminalDisplay {
    bar: ProgressBar,
}

impl TerminalDisplay {
    pub fn new(subject: &Subject) -> TerminalDisplay {
        let bar = if subject.shows_progress() {
            let bar = ProgressBar::new(100);
            bar.set_style(
                ProgressStyle::with_template("{spinner:.cyan} {prefix:.bold} [{bar:40.cyan/blue}] {pos:>3}% {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar
        } else {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner:.cyan} {prefix:.bold} {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar
        };
        bar.enable_steady_tick(Duration::from_millis(120));
        TerminalDisplay { bar }
    }

    fn update(&self, subject: &Subject) {
        if let Some(p) = subject.percent() {
            self.bar.set_position(p.min(100));
        }
        self.bar.set_message(subject.summary());
    }
}

fn short_name(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

impl Display for TerminalDisplay {
    fn start(&mut self, subject: &Subject) {
        self.bar.set_prefix(short_name(&subject.id).to_string());
        self.update(subject);
    }

    fn change(&mut self, subject: &Subject, _time: &str, _property: &str, _from: &Value, _to: &Value) {
        self.update(subject);
    }

    fn finish(&mut self, subject: &Subject, outcome: &Outcome) {
        self.update(subject);
        let message = match outcome {
            Outcome::Succeeded => format!("✔ {}", subject.summary()),
            Outcome::Deleted => "✔ deleted".to_string(),
            Outcome::Failed(detail) => format!("✘ {} — {detail}", subject.summary()),
        };
        if matches!(outcome, Outcome::Failed(_)) {
            self.bar.abandon_with_message(message);
        } else {
            self.bar.finish_with_message(message);
        }
    }
}

/// One line per change, for logs and pipes.
pub struct LineDisplay<W: Write> {
    out: W,
}

impl<W: Write> LineDisplay<W> {
    pub fn new(out: W) -> LineDisplay<W> {
        LineDisplay { out }
    }
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

impl<W: Write> Display for LineDisplay<W> {
    fn start(&mut self, subject: &Subject) {
        let fields: Vec<String> = subject.properties.iter().map(|(k, v)| format!("{k}={}", shown(v))).collect();
        let _ = writeln!(self.out, "watching {} ({}): {}", subject.id, subject.resource_type, fields.join(" "));
        let _ = self.out.flush();
    }

    fn change(&mut self, subject: &Subject, time: &str, property: &str, from: &Value, to: &Value) {
        let mut line = format!("{time} {property}: {} -> {}", shown(from), shown(to));
        if let (true, Some(steps)) = (subject.is_run(), &subject.steps) {
            let current = steps.current.as_deref().unwrap_or("-");
            line.push_str(&format!(" [{}/{} steps, {current}]", steps.done, steps.total));
        }
        let _ = writeln!(self.out, "{line}");
        let _ = self.out.flush();
    }

    fn finish(&mut self, subject: &Subject, outcome: &Outcome) {
        let line = match outcome {
            Outcome::Succeeded => format!("done: {}", subject.summary()),
            Outcome::Deleted => "done: deleted".to_string(),
            Outcome::Failed(detail) => format!("failed: {} — {detail}", subject.summary()),
        };
        let _ = writeln!(self.out, "{line}");
        let _ = self.out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_job_is_done_when_provisioning_is_terminal() {
        let doc = json!({"properties": {"provisioningState": "Accepted", "status": "Scheduled", "reportedProperties": {"percentComplete": 0}}});
        let mut s = Subject::new("/x/jobs/j".into(), "Microsoft.AzureStackHCI/edgeDevices/jobs".into(), &doc);
        assert!(s.is_job());
        assert_eq!(s.summary(), "Scheduled (Accepted)");
        assert_eq!(s.outcome(), None);
        s.apply(PERCENT, &json!(55));
        s.apply(PROVISIONING, &json!("Failed"));
        assert_eq!(s.percent(), Some(55));
        assert_eq!(s.outcome().map(|o| o.exit_code()), Some(1));
        s.apply("resource", &json!("absent"));
        assert_eq!(s.outcome(), Some(Outcome::Deleted));
    }

    #[test]
    fn a_run_is_done_when_its_state_is_and_counts_its_steps() {
        let doc = json!({"properties": {"provisioningState": "Succeeded", "state": "InProgress", "progress": {
        "name": "Start update", "status": "InProgress", "steps": [
            {"name": "Prepare", "status": "Success", "steps": [{"name": "Download", "status": "Skipped", "steps": []}]},
            {"name": "Node-1", "status": "InProgress", "steps": [
                {"name": "Drain", "status": "Success", "steps": []},
                {"name": "Install", "status": "InProgress", "steps": []}
            ]}
        ]}}});
        let mut s = Subject::new("/x/updateRuns/r".into(), "Microsoft.AzureStackHCI/updates/updateRuns".into(), &doc);
        assert_eq!(s.outcome(), None, "provisioningState is not the run's state");
        assert_eq!(s.summary(), "InProgress: Node-1/Install (2/3)");
        assert_eq!(s.percent(), Some(66));
        s.apply(RUN_STATE, &json!("Failed"));
        assert_eq!(s.outcome(), Some(Outcome::Failed("Failed".into())));
        let failed = json!({"progress": {"name": "Start update", "status": "Error", "errorMessage": "no", "steps": [
            {"name": "Restart", "status": "Error", "errorMessage": "Node-2 did not come back", "steps": []}
        ]}});
        assert_eq!(failure_detail(&failed).as_deref(), Some("Restart: Node-2 did not come back"));
    }

    #[test]
    fn the_failure_detail_is_the_deepest_step_in_error() {
        let doc = json!({"properties": {"reportedProperties": {"deploymentStatus": {"status": "Error", "steps": [
            {"name": "Root", "status": "Error", "exception": ["outer"], "steps": [
                {"name": "Ok", "status": "Success", "exception": []},
                {"name": "Upload", "status": "Error", "exception": ["share full"], "steps": []}
            ]}
        ]}}}});
        assert_eq!(failure_detail(&doc).as_deref(), Some("Upload: share full"));
    }
}

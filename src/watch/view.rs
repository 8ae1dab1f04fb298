//! What `azemu watch` knows about the watched resource, and how it shows it: progress bars on a
//! terminal, one plain line per change otherwise.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

const PROVISIONING: &str = "properties.provisioningState";
const STATUS: &str = "properties.status";
const PERCENT: &str = "properties.reportedProperties.percentComplete";

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
        let mut properties = BTreeMap::new();
        flatten_into(&mut properties, doc, &[PROVISIONING, STATUS, PERCENT]);
        Subject { id, resource_type, properties, deleted: false }
    }

    pub fn is_job(&self) -> bool {
        self.resource_type.to_ascii_lowercase().ends_with("/edgedevices/jobs")
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
        self.properties.get(PERCENT).and_then(Value::as_u64)
    }

    /// Where the work stands, in a few words.
    pub fn summary(&self) -> String {
        if self.deleted {
            return "deleted".into();
        }
        let provisioning = self.text(PROVISIONING).unwrap_or("unknown");
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
        match self.text(PROVISIONING)? {
            "Succeeded" => Some(Outcome::Succeeded),
            state @ ("Failed" | "Canceled") => Some(Outcome::Failed(state.to_string())),
            _ => None,
        }
    }
}

/// What failed, from a document: the first step in error with its exception.
pub fn failure_detail(doc: &Value) -> Option<String> {
    match doc {
        Value::Object(map) => {
            if map.get("status").and_then(Value::as_str) == Some("Error") {
                let exception = map.get("exception").and_then(Value::as_array).and_then(|e| e.first());
                if let (Some(name), Some(exception)) = (map.get("name").and_then(Value::as_str), exception) {
                    if let Some(steps) = map.get("steps") {
                        if let Some(deeper) = failure_detail(steps) {
                            return Some(deeper);
                        }
                    }
                    return Some(format!("{name}: {}", exception.as_str().unwrap_or_default()));
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
        let bar = if subject.is_job() {
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

    fn change(&mut self, _subject: &Subject, time: &str, property: &str, from: &Value, to: &Value) {
        let _ = writeln!(self.out, "{time} {property}: {} -> {}", shown(from), shown(to));
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

//! The public examples of the served operations, found through the specs' `x-ms-examples`
//! (read from `../shared/specs` where they are kept; nothing is copied into the project).

use std::path::{Path, PathBuf};

use reqwest::Method;
use serde_json::Value;

pub struct Example {
    /// `HCI` or `Compute`.
    pub family: &'static str,
    pub version: String,
    pub method: Method,
    /// The spec's path, `{name}` for each path parameter.
    pub template: String,
    /// The example file, relative to the specs directory.
    pub file: String,
    pub parameters: Value,
    pub responses: Value,
    /// The names of the operation's query and body parameters.
    pub query: Vec<String>,
    pub body: Option<String>,
}

pub fn specs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/specs")
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

/// An example a spec refers to, or, when that version's copy is not kept, the same example of
/// another version (the index names such stand-ins).
fn find_example(spec: &Path, reference: &str, all: &[PathBuf]) -> Option<PathBuf> {
    let direct = spec.parent()?.join(reference);
    if direct.exists() {
        return Some(direct);
    }
    let name = Path::new(reference).file_name()?;
    all.iter().find(|p| p.file_name() == Some(name) && p.to_string_lossy().contains("/examples/")).cloned()
}

/// A parameter of an operation: its name and where it goes, resolving local `$ref`s and
/// reading the common types' by name.
fn parameter(spec: &Value, p: &Value) -> Option<(String, String)> {
    match p.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            if let Some(local) = reference.strip_prefix("#/parameters/") {
                return parameter(spec, &spec["parameters"][local]);
            }
            let name = reference.rsplit('/').next()?;
            if name.contains("ApiVersion") {
                Some(("api-version".into(), "query".into()))
            } else {
                None
            }
        }
        None => Some((p["name"].as_str()?.to_string(), p["in"].as_str()?.to_string())),
    }
}

pub fn all() -> Vec<Example> {
    let root = specs_dir();
    let mut files = Vec::new();
    json_files(&root, &mut files);
    files.sort();
    let mut examples = Vec::new();
    for spec_path in files.iter().filter(|p| !p.to_string_lossy().contains("/examples/")) {
        let Ok(spec) = serde_json::from_str::<Value>(&std::fs::read_to_string(spec_path).unwrap_or_default()) else {
            continue;
        };
        let family = if spec_path.to_string_lossy().contains("azurestackhci") { "HCI" } else { "Compute" };
        let version = spec_path.parent().and_then(|d| d.file_name()).map(|n| n.to_string_lossy().to_string());
        let Some(paths) = spec["paths"].as_object() else { continue };
        for (template, operations) in paths {
            let shared: Vec<Value> = operations["parameters"].as_array().cloned().unwrap_or_default();
            for (method, op) in operations.as_object().into_iter().flatten() {
                let Ok(method) = method.to_ascii_uppercase().parse::<Method>() else { continue };
                let params: Vec<(String, String)> = op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .chain(shared.iter())
                    .filter_map(|p| parameter(&spec, p))
                    .collect();
                let query: Vec<String> =
                    params.iter().filter(|(_, at)| at == "query").map(|(n, _)| n.clone()).collect();
                let body = params.iter().find(|(_, at)| at == "body").map(|(n, _)| n.clone());
                for reference in
                    op["x-ms-examples"].as_object().into_iter().flatten().filter_map(|(_, e)| e["$ref"].as_str())
                {
                    let Some(file) = find_example(spec_path, reference, &files) else { continue };
                    let Ok(data) = serde_json::from_str::<Value>(&std::fs::read_to_string(&file).unwrap_or_default())
                    else {
                        continue;
                    };
                    examples.push(Example {
                        family,
                        version: version.clone().unwrap_or_default(),
                        method: method.clone(),
                        template: template.clone(),
                        file: file.strip_prefix(&root).unwrap_or(&file).to_string_lossy().to_string(),
                        parameters: data["parameters"].clone(),
                        responses: data["responses"].clone(),
                        query: query.clone(),
                        body: body.clone(),
                    });
                }
            }
        }
    }
    examples
}

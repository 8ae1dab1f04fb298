//! `azemu watch <resource id>`: follows one resource's changes on the event stream until its
//! work ends. Exit codes: 0 succeeded (or deleted), 1 failed or canceled, 2 not found or bad
//! arguments, 3 the connection to azemu was lost.

mod sse;
mod view;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use sse::EventStream;
use view::{failure_detail, Display, LineDisplay, Outcome, Subject, TerminalDisplay};

pub struct WatchArgs {
    pub target: String,
    pub endpoint: String,
    /// The certificate authority to trust for an https endpoint.
    pub ca_file: Option<PathBuf>,
    pub insecure: bool,
    /// Plain lines even on a terminal.
    pub plain: bool,
    /// Sent as a bearer token, for an azemu whose control API asks for one.
    pub token: Option<String>,
}

#[derive(Debug)]
enum WatchError {
    NotFound(String),
    Usage(String),
    Lost(String),
}

impl WatchError {
    fn exit_code(&self) -> i32 {
        match self {
            WatchError::NotFound(_) | WatchError::Usage(_) => 2,
            WatchError::Lost(_) => 3,
        }
    }
}

impl std::fmt::Display for WatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WatchError::NotFound(m) | WatchError::Usage(m) | WatchError::Lost(m) => f.write_str(m),
        }
    }
}

/// Runs the watch; answers the process's exit code.
pub fn run(args: WatchArgs) -> i32 {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("azemu watch: {e}");
            return 3;
        }
    };
    match runtime.block_on(watch(args)) {
        Ok(outcome) => outcome.exit_code(),
        Err(e) => {
            eprintln!("azemu watch: {e}");
            e.exit_code()
        }
    }
}

fn client(args: &WatchArgs) -> Result<reqwest::Client, WatchError> {
    let mut builder = reqwest::Client::builder().connect_timeout(Duration::from_secs(10));
    if args.insecure {
        builder = builder.danger_accept_invalid_certs(true);
    }
    if let Some(token) = &args.token {
        let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| WatchError::Usage("the token is not a valid header value".into()))?;
        value.set_sensitive(true);
        let headers = reqwest::header::HeaderMap::from_iter([(reqwest::header::AUTHORIZATION, value)]);
        builder = builder.default_headers(headers);
    }
    let ca = args.ca_file.clone().or_else(|| {
        let default = PathBuf::from("azemu-data/tls/ca.pem");
        (args.endpoint.starts_with("https:") && default.exists()).then_some(default)
    });
    if let Some(path) = ca {
        let pem = std::fs::read(&path)
            .map_err(|e| WatchError::Usage(format!("cannot read the CA file {}: {e}", path.display())))?;
        let cert = reqwest::Certificate::from_pem(&pem)
            .map_err(|e| WatchError::Usage(format!("{} is not a PEM certificate: {e}", path.display())))?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build().map_err(|e| WatchError::Usage(e.to_string()))
}

async fn lookup(client: &reqwest::Client, endpoint: &str, id: &str) -> Result<Value, WatchError> {
    lookup_with(client, endpoint, id, false).await
}

/// The resource's document (and with `children`, the resources nested below it).
async fn lookup_with(client: &reqwest::Client, endpoint: &str, id: &str, children: bool) -> Result<Value, WatchError> {
    let children = if children { "true" } else { "false" };
    let url =
        reqwest::Url::parse_with_params(&format!("{endpoint}/_azemu/resource"), [("id", id), ("children", children)])
            .map_err(|e| WatchError::Usage(format!("bad endpoint {endpoint}: {e}")))?;
    let response =
        client.get(url).send().await.map_err(|e| WatchError::Lost(format!("cannot reach azemu at {endpoint}: {e}")))?;
    let status = response.status();
    let body: Value = response.json().await.map_err(|e| WatchError::Lost(e.to_string()))?;
    match status.as_u16() {
        200 => Ok(body),
        404 => Err(WatchError::NotFound(format!("there is no resource '{id}'"))),
        401 | 403 => Err(WatchError::Usage(format!(
            "{} (this azemu's control API asks for a token: pass --token or set AZEMU_TOKEN)",
            body["error"]["message"].as_str().unwrap_or("refused")
        ))),
        _ => Err(WatchError::Usage(body["error"]["message"].as_str().unwrap_or("unexpected answer").to_string())),
    }
}

async fn watch(args: WatchArgs) -> Result<Outcome, WatchError> {
    let endpoint = args.endpoint.trim_end_matches('/').to_string();
    let id = args.target.trim().to_string();
    if !id.starts_with('/') {
        return Err(WatchError::Usage(format!("'{id}' is not a resource id (it starts with /subscriptions/…)")));
    }
    let client = client(&args)?;
    let found = lookup(&client, &endpoint, &id).await?;
    let mut subject = Subject::new(
        found["id"].as_str().unwrap_or(&id).to_string(),
        found["type"].as_str().unwrap_or_default().to_string(),
        &found["document"],
    );
    if subject.is_deployment() {
        // The resources it deployed before the watch began, from its operations.
        let with_operations = lookup_with(&client, &endpoint, &id, true).await?;
        for child in with_operations["children"].as_array().into_iter().flatten() {
            let (child_id, doc) = (child["id"].as_str().unwrap_or_default(), &child["document"]);
            if subject.is_operation(child_id) {
                let state = doc["properties"]["provisioningState"].as_str().unwrap_or_default();
                subject.deployed(child_id, operation_label(doc, child_id), state);
            }
        }
    }
    let since = found["lastSeq"].as_u64().unwrap_or(0);
    let mut display: Box<dyn Display> = if std::io::stdout().is_terminal() && !args.plain {
        Box::new(TerminalDisplay::new(&subject))
    } else {
        Box::new(LineDisplay::new(std::io::stdout()))
    };
    display.start(&subject);
    if let Some(outcome) = subject.outcome() {
        let outcome = detailed(outcome, &found["document"]);
        display.finish(&subject, &outcome);
        return Ok(outcome);
    }
    let url = reqwest::Url::parse_with_params(
        &format!("{endpoint}/_azemu/events"),
        [("kind", "change"), ("resource", subject.id.as_str()), ("since", &since.to_string())],
    )
    .map_err(|e| WatchError::Usage(e.to_string()))?;
    let response = client
        .get(url)
        .header("accept", "text/event-stream")
        .send()
        .await
        .map_err(|e| WatchError::Lost(format!("cannot follow the event stream: {e}")))?;
    let mut stream = EventStream::new(response);
    loop {
        let message = match stream.next().await {
            Ok(Some(m)) => m,
            Ok(None) => return Err(WatchError::Lost("azemu closed the event stream".into())),
            Err(e) => return Err(WatchError::Lost(format!("event stream broke: {e}"))),
        };
        let Ok(event) = serde_json::from_str::<Value>(&message.data) else { continue };
        let resource = event["resourceId"].as_str().unwrap_or_default();
        // A deployment is followed resource by resource, through its operations.
        if subject.is_operation(resource) && event["property"] == "properties.provisioningState" {
            let label = match lookup(&client, &endpoint, resource).await {
                Ok(found) => operation_label(&found["document"], resource),
                Err(_) => resource.rsplit('/').next().unwrap_or_default().to_string(),
            };
            subject.deployed(resource, label.clone(), event["to"].as_str().unwrap_or_default());
            display.change(&subject, event["time"].as_str().unwrap_or_default(), &label, &event["from"], &event["to"]);
            continue;
        }
        // The prefix filter also passes resources nested below the watched one.
        if !resource.eq_ignore_ascii_case(&subject.id) {
            continue;
        }
        let property = event["property"].as_str().unwrap_or_default();
        subject.apply(property, &event["to"]);
        if subject.is_run() {
            // A run's steps are in its document, not in the events: read where it stands.
            // Its steps' times say where it stood at the event, however late it is read.
            if let Ok(found) = lookup(&client, &endpoint, &subject.id).await {
                subject.observe(&found["document"], event["time"].as_str());
            }
        }
        display.change(&subject, event["time"].as_str().unwrap_or_default(), property, &event["from"], &event["to"]);
        if let Some(outcome) = subject.outcome() {
            let doc = match &outcome {
                Outcome::Failed(_) => lookup(&client, &endpoint, &subject.id).await.map(|f| f["document"].clone()).ok(),
                _ => None,
            };
            let outcome = detailed(outcome, doc.as_ref().unwrap_or(&Value::Null));
            display.finish(&subject, &outcome);
            return Ok(outcome);
        }
    }
}

/// What a deployment operation deploys, as `type/name`.
fn operation_label(doc: &Value, id: &str) -> String {
    let target = &doc["properties"]["targetResource"];
    match (target["resourceType"].as_str(), target["resourceName"].as_str()) {
        (Some(t), Some(n)) => format!("{t}/{n}"),
        _ => id.rsplit('/').next().unwrap_or_default().to_string(),
    }
}

/// A failure, with what the document says failed.
fn detailed(outcome: Outcome, doc: &Value) -> Outcome {
    match outcome {
        Outcome::Failed(state) => match failure_detail(doc) {
            Some(detail) => Outcome::Failed(format!("{state}: {detail}")),
            None => Outcome::Failed(state),
        },
        other => other,
    }
}

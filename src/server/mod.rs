//! The listener: TLS (or plain HTTP), HTTP/1.1 and HTTP/2, and the route table.

mod connection;
mod control;
mod headers;
pub mod limits;
mod listener;
mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

use axum::body::Bytes;
use axum::http::request::Parts;
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio_rustls::TlsAcceptor;

pub use crate::identity::{AuthMode, ControlAccess, ControlApi};
pub use headers::IDENTITY;
pub use limits::ConnectionLimits;

use crate::app::App;
use crate::arm::request::{parse_query, read_body, ArmRequest, Query};
use crate::arm::{dispatch, ApiVersionCheck, ArmPath, RequestNames};
use crate::faults::{check, parse_rules};
use crate::identity::{Audience, Identity};
use crate::journal::RequestEvent;
use crate::sim::engine::{CLOCK_OFFSET_SETTING, MANUAL_CLOCK_SETTING};
use crate::sim::{Clock, ClockFloor, ClockMode};
use crate::store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TlsMode {
    Auto,
    Off,
}

#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub host: String,
    pub port: u16,
    /// `None`: nothing on disk (`--in-memory`). With a PostgreSQL store it holds only the TLS
    /// material and the token-signing key.
    pub data_dir: Option<PathBuf>,
    /// A PostgreSQL store's connection URL (`--store`); `None`: SQLite in `data_dir`.
    pub store_url: Option<String>,
    /// This node's name among those sharing a PostgreSQL store; `None`: the host name and port.
    pub node_id: Option<String>,
    /// How long a node's leases on lifecycle work outlive it (a PostgreSQL store's).
    pub lease_timeout: std::time::Duration,
    pub tls: TlsMode,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub auth: AuthMode,
    pub api_version_check: ApiVersionCheck,
    pub speed: f64,
    pub clock: ClockMode,
    /// How long a finished long-running operation stays readable.
    pub operation_retention: std::time::Duration,
    /// Fault rules to start with (JSON, as `POST /_azemu/faults` takes them).
    pub faults: Option<PathBuf>,
    /// Events the journal keeps; 0 turns it off.
    pub journal_size: usize,
    /// Partner API publishers to make at start (when absent).
    pub publishers: Vec<String>,
    /// Subscriptions to list from the start (`--subscription`); one default when empty.
    pub subscriptions: Vec<crate::identity::DeclaredSubscription>,
    pub connections: ConnectionLimits,
    /// Who may use the control API and `/metrics` (`auto`: anyone on loopback).
    pub control_api: ControlApi,
    /// A shared secret the control API takes as a bearer token, besides admin tokens.
    pub control_token: Option<String>,
    /// Types azemu does not emulate are stored as generic resources.
    pub generic_resources: bool,
}

pub struct Running {
    pub addr: SocketAddr,
    pub base_url: String,
    pub app: Arc<App>,
    /// The CA certificate clients should trust, when azemu generated one.
    pub ca_file: Option<PathBuf>,
    /// Connections served at once at most.
    pub max_connections: usize,
    permits: Arc<Semaphore>,
    shutdown: watch::Sender<bool>,
    shutdown_timeout: std::time::Duration,
}

impl Running {
    /// Stops accepting, lets requests in flight finish (for `--shutdown-timeout` at most),
    /// then writes what the store still holds in memory. Returns how many connections were
    /// still open when the time ran out.
    pub async fn shut_down(self) -> usize {
        let _ = self.shutdown.send(true);
        let all = u32::try_from(self.max_connections).unwrap_or(u32::MAX);
        let open = match tokio::time::timeout(self.shutdown_timeout, self.permits.acquire_many(all)).await {
            Ok(_) => 0,
            Err(_) => self.max_connections - self.permits.available_permits(),
        };
        if let Err(e) = self.app.store.flush().await {
            tracing::error!(error = %e, "store flush at shutdown failed");
        }
        self.app.store.leave_cluster().await;
        open
    }
}

/// One request: the control API under `/_azemu/`, everything else through the ARM layer; then
/// the headers every response carries.
/// Generic over the body so that benchmarks can call it without a socket.
pub async fn serve_request<B>(app: Arc<App>, request: Request<B>) -> Response
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let (parts, body) = request.into_parts();
    let echo = headers::Echo::from_request(&parts.headers);
    let started = std::time::Instant::now();
    let control = parts.uri.path().starts_with(control::PREFIX);
    let metrics = parts.uri.path() == "/metrics";
    // Health stays open (what liveness probes and load balancers ask), and so do the dashboard's
    // own files and its sign-in, which hold no state.
    if (control && !control::is_open(&parts.method, parts.uri.path())) || metrics {
        if let Err(e) = app.identity.authorize_control(&app.control, &parts.headers) {
            return e.into_response();
        }
    }
    if metrics && parts.method == axum::http::Method::GET {
        let text = app.metrics.render(&app);
        let mut response = (axum::http::StatusCode::OK, text).into_response();
        response.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        );
        return response;
    }
    let journaled =
        (!control && app.journal.enabled()).then(|| (parts.method.clone(), Box::<str>::from(parts.uri.path())));
    let measured = !control;
    let logged = tracing::enabled!(tracing::Level::DEBUG).then(|| (parts.method.clone(), parts.uri.path().to_string()));
    let unnamed = RequestNames::default;
    // On a shared store, what other nodes committed before this request arrived is read first.
    if let Err(e) = app.store.sync().await {
        tracing::warn!(error = %e, "serving from this node's replica as it stands");
    }
    let (mut response, names) = match read_body(&parts.headers, body, app.body_timeout).await {
        Err(e) => (e.into_response(), unnamed()),
        Ok(body) if control => (control::handle(&app, &parts, body).await, unnamed()),
        Ok(body) if parts.uri.path().starts_with(crate::partner::PREFIX) => {
            crate::partner::handle(app.clone(), parts, body).await
        }
        Ok(body) => match crate::identity::handle(&app, &parts, &body).await {
            Some(response) => (response, unnamed()),
            None => arm_entry(&app, parts, body).await,
        },
    };
    let correlation = echo.apply(response.headers_mut());
    let took = started.elapsed();
    if measured {
        app.metrics.observe_request(names.operation, response.status().as_u16(), took);
    }
    if let Some((method, path)) = journaled {
        let event = RequestEvent {
            method: method_name(&method),
            path,
            operation: names.operation.map(Into::into),
            status: response.status().as_u16(),
            caller: names.caller,
            correlation_id: correlation.to_str().is_ok().then_some(correlation),
            duration_ms: took.as_secs_f64() * 1000.0,
            node: None,
        };
        app.record_request(event);
    }
    if let Some((method, path)) = logged {
        tracing::debug!(%method, %path, status = response.status().as_u16(), "request");
    }
    response
}

/// The method as the journal records it: a static name for the standard ones.
fn method_name(method: &axum::http::Method) -> std::borrow::Cow<'static, str> {
    const STANDARD: [&str; 7] = ["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"];
    match STANDARD.into_iter().find(|name| *name == method.as_str()) {
        Some(name) => name.into(),
        None => method.as_str().to_string().into(),
    }
}

async fn arm_entry(app: &Arc<App>, parts: Parts, body: Bytes) -> (Response, RequestNames) {
    let unnamed = RequestNames::default;
    let origin = || crate::identity::origin(app.scheme, &parts);
    let principal = match parts.extensions.get::<crate::identity::OnBehalfOf>() {
        Some(on_behalf) => on_behalf.0.clone(),
        None => match app.identity.authenticate(&parts.headers, Audience::Arm, origin) {
            Ok(p) => p,
            Err(e) => return (e.into_response(), unnamed()),
        },
    };
    // A GET asked before is answered as it was, while that is still the answer.
    if parts.method == axum::http::Method::GET && !parts.headers.contains_key(axum::http::header::IF_NONE_MATCH) {
        let target = parts.uri.path_and_query().map_or("", |t| t.as_str());
        if let Some((response, operation)) = app.answers.find(app, target, |s| principal.may_read_subscription(s)) {
            return (response, RequestNames { operation, caller: Some(principal.caller.name.clone()) });
        }
    }
    if crate::identity::is_directory_path(parts.uri.path()) {
        let query = parse_query(parts.uri.query());
        let version = query.iter().find(|(k, _)| k.eq_ignore_ascii_case("api-version")).map(|(_, v)| v.as_str());
        let response = crate::identity::directory_request(app, &parts.method, parts.uri.path(), version, &principal);
        return (response, unnamed());
    }
    if let Some(response) = crate::arm::platform::tenant_level(app, &parts.method, parts.uri.path(), parts.uri.query())
    {
        return (response, unnamed());
    }
    let path = match ArmPath::parse(parts.uri.path()) {
        Ok(p) => p,
        // The short form of deployment paths some clients send.
        Err(e) => match crate::arm::path::with_deployments_provider(parts.uri.path()).map(|p| ArmPath::parse(&p)) {
            Some(Ok(p)) => p,
            _ => return (e.into_response(), unnamed()),
        },
    };
    if let Err(e) = principal.authorize_arm(&parts.method, &path) {
        return (e.into_response(), unnamed());
    }
    let caller = principal.caller;
    let caller_name = caller.name.clone();
    let request = ArmRequest {
        method: parts.method,
        query: Query::parse(parts.uri.query()),
        path,
        scheme: app.scheme,
        authority: parts.uri.authority().map(|a| a.to_string()),
        caller,
        headers: parts.headers,
        body,
    };
    let (response, operation) = dispatch::handle(app, request).await;
    (response, RequestNames { operation, caller: Some(caller_name) })
}

/// The entry azemu's own requests take (a deployment writing its resources): the one every
/// client's request takes. Ends with the emulator.
fn internal_entry(app: &Arc<App>) -> crate::deployments::Entry {
    let app = Arc::downgrade(app);
    Arc::new(move |request| {
        let app = app.clone();
        Box::pin(async move {
            match app.upgrade() {
                Some(app) => serve_request(app, request).await,
                None => crate::arm::ArmError::new(
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    "ServiceUnavailable",
                    "azemu is shutting down.",
                )
                .into_response(),
            }
        })
    })
}

/// Records lifecycle changes as the clock passes them, so that live followers see them. On its
/// own thread: under a write load one pass takes milliseconds, which on a runtime worker would
/// hold up every request queued behind it. Ends once the emulator is gone.
fn spawn_journal_ticker(app: &Arc<App>) -> std::io::Result<()> {
    let app = Arc::downgrade(app);
    std::thread::Builder::new().name("azemu-journal".into()).spawn(move || loop {
        std::thread::sleep(std::time::Duration::from_millis(25));
        let Some(app) = app.upgrade() else { return };
        app.journal.changes.catch_up(&app.journal, app.clock.now());
    })?;
    Ok(())
}

/// The error that makes hyper close a connection without answering.
#[derive(Debug)]
pub(crate) struct DroppedByFaultRule;

impl std::fmt::Display for DroppedByFaultRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by a fault rule")
    }
}

impl std::error::Error for DroppedByFaultRule {}

/// Reads `--faults FILE`: one rule or an array of them, as `POST /_azemu/faults` takes them.
async fn load_fault_rules(app: &App, file: &std::path::Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    let rules = parse_rules(&json).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let checked = rules
        .into_iter()
        .enumerate()
        .map(|(i, r)| check(r).map_err(|e| anyhow::anyhow!("{}: rule {}: {e}", file.display(), i + 1)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let added = control::faults::add_file_rules(app, checked).await?;
    if added == 0 {
        tracing::info!(file = %file.display(), "the store holds this file's fault rules already: not added again");
    }
    Ok(())
}

/// The store setting that holds the key every node of a shared store signs tokens with.
const SIGNING_KEY_SETTING: &str = "signing_key";

/// On a shared store, the key the nodes sign tokens with: the one the store keeps, or this node's
/// own (from `--data`) when it is the first; either way also kept in `--data`.
async fn shared_signing_key(
    store: &Store,
    data_dir: Option<&std::path::Path>,
) -> anyhow::Result<crate::identity::signing::SigningKey> {
    let own = crate::identity::signing::SigningKey::pem_kept(data_dir)?;
    let pem = store
        .update_settings(|settings| match settings.get(SIGNING_KEY_SETTING) {
            Some(kept) => (Vec::new(), kept.clone()),
            None => (vec![(SIGNING_KEY_SETTING.to_string(), own.clone())], own),
        })
        .await?;
    crate::identity::signing::SigningKey::adopt(data_dir, &pem)
}

/// This machine's name, for a node id.
fn host_name() -> String {
    let mut buffer = [0u8; 256];
    // SAFETY: the buffer outlives the call, which writes at most its length.
    let written = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
    let end = buffer.iter().position(|b| *b == 0).unwrap_or(buffer.len());
    match written {
        0 if end > 0 => String::from_utf8_lossy(&buffer[..end]).into_owned(),
        _ => "localhost".to_string(),
    }
}

/// Where emulator time stood when the store was last written.
fn clock_floor(store: &Store) -> ClockFloor {
    let manual = store
        .setting(MANUAL_CLOCK_SETTING)
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&chrono::Utc));
    let offset = store.setting(CLOCK_OFFSET_SETTING).and_then(|o| o.parse::<i64>().ok()).unwrap_or(0);
    ClockFloor { manual, real_offset: chrono::Duration::microseconds(offset) }
}

/// The clock settings to store before anyone reads: a manual clock keeps its time from its
/// start, so a restart resumes it exactly there; a real clock clears it (an empty value), since
/// the times it shows pass it, and keeps its offset.
fn clock_settings_to_save(clock: &Clock, floor: ClockFloor) -> Vec<(&'static str, String)> {
    let mut settings = Vec::new();
    match clock.mode() {
        ClockMode::Manual if floor.manual != Some(clock.now()) => {
            settings.push((MANUAL_CLOCK_SETTING, crate::arm::timestamp(clock.now())))
        }
        ClockMode::Real if floor.manual.is_some() => settings.push((MANUAL_CLOCK_SETTING, String::new())),
        _ => {}
    }
    if clock.offset() != floor.real_offset {
        let offset = clock.offset().num_microseconds().unwrap_or(0);
        settings.push((CLOCK_OFFSET_SETTING, offset.to_string()));
    }
    settings
}

/// Binds, opens the store, starts the simulation engine and serves until the process ends.
pub async fn start(config: ServeConfig) -> anyhow::Result<Running> {
    if !(config.speed.is_finite() && config.speed > 0.0) {
        anyhow::bail!("--speed must be a positive number");
    }
    let retention = chrono::Duration::from_std(config.operation_retention)
        .map_err(|_| anyhow::anyhow!("--operation-retention is too long"))?;
    let store = match (&config.store_url, &config.data_dir) {
        (Some(url), _) => Store::connect(url, retention).await?,
        (None, Some(dir)) => Store::open(dir, retention)?,
        (None, None) => Store::in_memory(retention),
    };
    let clock = Clock::resuming(config.clock, config.speed, clock_floor(&store));
    let (acceptor, ca_file, scheme) = match config.tls {
        TlsMode::Off => (None, None, "http"),
        TlsMode::Auto => {
            let material = tls::load(config.cert.as_deref(), config.key.as_deref(), config.data_dir.as_deref())?;
            (Some(TlsAcceptor::from(material.config)), material.ca_file, "https")
        }
    };
    let clock_settings = clock_settings_to_save(&clock, clock_floor(&store));
    let identity = match store.is_shared() {
        true => {
            let key = shared_signing_key(&store, config.data_dir.as_deref()).await?;
            let identity = Identity::signing_with(config.auth, key, config.subscriptions.clone())?;
            crate::identity::share_declared(&store, &identity.subscriptions).await?;
            identity
        }
        false => Identity::new(config.auth, config.data_dir.as_deref(), config.subscriptions.clone())?,
    };
    // Bound first: who may use the control API depends on where azemu listens.
    let listener = TcpListener::bind((config.host.as_str(), config.port)).await?;
    let addr = listener.local_addr()?;
    let control = ControlAccess::resolve(config.control_api, addr.ip(), config.control_token.clone());
    if control != ControlAccess::Open {
        tracing::info!(
            "the control API and /metrics ask for an admin token ('azemu token --role admin') or --control-token"
        );
    }
    let settings = crate::app::AppSettings {
        startup_publishers: config.publishers.clone(),
        api_check: config.api_version_check,
        scheme,
        journal_size: config.journal_size,
        body_timeout: config.connections.body_timeout,
        generic_resources: config.generic_resources,
        control,
    };
    let app = App::new(store, clock, identity, settings);
    let node_id = config.node_id.clone().unwrap_or_else(|| format!("{}:{}", host_name(), addr.port()));
    let cluster = crate::store::ClusterOptions {
        node_id,
        address: format!("{scheme}://{addr}"),
        lease_timeout: config.lease_timeout,
    };
    app.store.join_cluster(cluster).await?;
    if let Some(file) = &config.faults {
        load_fault_rules(&app, file).await?;
    }
    for (name, value) in clock_settings {
        app.store.save_setting(name, value).await?;
    }
    crate::partner::publishers::ensure_startup(&app).await.map_err(|e| anyhow::anyhow!("--publisher {e}"))?;
    // Lifecycle steps are replayed, not stored one by one: catch up before anyone reads.
    app.engine.run_due().await;
    app.engine.spawn();
    crate::deployments::spawn(&app, internal_entry(&app));
    if app.journal.enabled() {
        app.store.read(|s| app.journal.changes.seed(s.resources(), app.clock.now()));
        spawn_journal_ticker(&app)?;
    }
    let descriptors = limits::raise_descriptor_limit();
    let max_connections = config.connections.max_connections.unwrap_or(limits::default_max_connections(descriptors));
    tracing::debug!(descriptors, max_connections, "connection bound");
    let permits = Arc::new(Semaphore::new(max_connections));
    let (shutdown, stop) = watch::channel(false);
    let shutdown_timeout = config.connections.shutdown_timeout;
    let limits = Arc::new(config.connections);
    let listener =
        listener::Listener { listener, acceptor, app: app.clone(), limits, permits: permits.clone(), shutdown: stop };
    tokio::spawn(listener.run());
    Ok(Running {
        addr,
        base_url: format!("{scheme}://{addr}"),
        app,
        ca_file,
        max_connections,
        permits,
        shutdown,
        shutdown_timeout,
    })
}

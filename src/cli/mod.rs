//! The `azemu` command.

pub mod huge_pages;
mod token;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::arm::ApiVersionCheck;
use crate::server::{self, AuthMode, ControlApi, ServeConfig, TlsMode};
use crate::sim::ClockMode;

#[derive(Parser)]
#[command(name = "azemu", version, about = "Local emulator of Azure long-running-operation APIs")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the emulator.
    Serve(Box<ServeArgs>),
    /// Follow a resource's long-running work live until it ends (exit code 0: succeeded or
    /// deleted, 1: failed or canceled, 2: not found, 3: connection lost).
    Watch(WatchCommand),
    /// Print a token signed with a data directory's key (for `--auth strict`), optionally
    /// limited to some subscriptions or publishers and to reading.
    Token(token::TokenCommand),
}

#[derive(Args)]
struct WatchCommand {
    /// The resource id, e.g. /subscriptions/…/edgeDevices/default/jobs/collect-1.
    target: String,
    /// Where azemu runs.
    #[arg(long, env = "AZEMU_ENDPOINT", default_value = "https://127.0.0.1:8443")]
    endpoint: String,
    /// CA certificate to trust for https (default: ./azemu-data/tls/ca.pem when present).
    #[arg(long)]
    ca_file: Option<PathBuf>,
    /// Accept any certificate.
    #[arg(long)]
    insecure: bool,
    /// One line per change even on a terminal.
    #[arg(long)]
    plain: bool,
    /// A bearer token for an azemu whose control API asks for one (an admin token or its
    /// --control-token).
    #[arg(long, env = "AZEMU_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 8443)]
    port: u16,
    /// Directory for the database and the generated TLS material.
    #[arg(long, default_value = "./azemu-data")]
    data: PathBuf,
    /// Keep nothing on disk.
    #[arg(long, conflicts_with = "store")]
    in_memory: bool,
    /// Keep resources, operations and settings in a PostgreSQL database instead of SQLite in
    /// --data, e.g. `postgres://azemu@127.0.0.1:5432/azemu` (--data still holds the TLS
    /// material and the token-signing key).
    #[arg(long, value_name = "postgres://USER@HOST:PORT/DB", value_parser = parse_store_url)]
    store: Option<String>,
    /// This node's name among the nodes sharing a PostgreSQL --store (default: the host name
    /// and port).
    #[arg(long, requires = "store")]
    node_id: Option<String>,
    /// On a shared PostgreSQL --store, how long after a node's last renewal the others take its
    /// lifecycle work over, e.g. `5s`.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    lease_timeout: std::time::Duration,
    /// `auto`: HTTPS with a certificate generated on first start; `off`: plain HTTP.
    #[arg(long, value_enum, default_value_t = TlsMode::Auto)]
    tls: TlsMode,
    /// Your own certificate chain (PEM); needs --key.
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// Private key (PEM) for --cert.
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// `any`: every bearer token is accepted, JWT claims name the caller; `strict`: only tokens
    /// azemu signed, unexpired, for the right audience, within their limits.
    #[arg(long, value_enum, default_value_t = AuthMode::Any)]
    auth: AuthMode,
    /// A subscription to list from the start, `ID` or `ID=name` (repeat for more); without
    /// any, one default subscription 00000000-0000-0000-0000-000000000000.
    #[arg(long = "subscription", value_name = "ID[=NAME]")]
    subscriptions: Vec<crate::identity::DeclaredSubscription>,
    /// `lenient` accepts any well-formed api-version.
    #[arg(long, value_enum, default_value_t = ApiVersionCheck::Strict)]
    api_version_check: ApiVersionCheck,
    /// Divides every simulated duration (2 = twice as fast).
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// `manual` freezes emulator time until POST /_azemu/clock/advance.
    #[arg(long, value_enum, default_value_t = ClockMode::Real)]
    clock: ClockMode,
    /// How long a finished long-running operation stays readable at its status URL, in
    /// emulator time (e.g. `24h`, `30min`, `7days`); after that it answers 404.
    #[arg(long, default_value = "24h", value_parser = humantime::parse_duration)]
    operation_retention: std::time::Duration,
    /// Fault rules to start with: a JSON file holding one rule or an array of rules, as
    /// POST /_azemu/faults takes them.
    #[arg(long)]
    faults: Option<PathBuf>,
    /// Events the journal keeps (requests and state changes, at /_azemu/events); 0 turns it off.
    #[arg(long, default_value_t = 10_000)]
    journal_size: usize,
    /// A partner API publisher to make at start, when absent (repeat for more).
    #[arg(long = "publisher", value_name = "ID")]
    publishers: Vec<String>,
    /// Log filter (overrides RUST_LOG), e.g. `info` or `azemu=debug`.
    #[arg(long)]
    log_level: Option<String>,
    /// Connections served at once; more are closed as soon as they are accepted (default: the
    /// descriptor limit, raised to its hard maximum at start, less 64, at most 16384).
    #[arg(long)]
    max_connections: Option<usize>,
    /// How long a client may take to send a request's headers (the TLS handshake included
    /// for its first request), e.g. `30s`.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    header_timeout: std::time::Duration,
    /// How long a request's body may take to arrive; after it the answer is 408.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    body_timeout: std::time::Duration,
    /// A connection with no request in flight is closed after this.
    #[arg(long, default_value = "120s", value_parser = humantime::parse_duration)]
    idle_timeout: std::time::Duration,
    /// Who may use the control API (`/_azemu/*` but health) and `/metrics`: `auto` leaves them
    /// open on a loopback address and asks for a token elsewhere; `open`; `token`.
    #[arg(long, value_enum, default_value_t = ControlApi::Auto)]
    control_api: ControlApi,
    /// A shared secret the control API takes as a bearer token, besides admin tokens.
    #[arg(long, env = "AZEMU_CONTROL_TOKEN", hide_env_values = true)]
    control_token: Option<String>,
    /// Types azemu does not emulate (virtual networks, public IPs, storage accounts, …): `on`
    /// stores them as sent, with ARM's envelope and `provisioningState: Succeeded`; `off`
    /// answers `InvalidResourceType`.
    #[arg(long, value_enum, default_value_t = Switch::On)]
    generic_resources: Switch,
    /// On SIGTERM or Ctrl-C, how long requests in flight may take to finish.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    shutdown_timeout: std::time::Duration,
}

/// A `--store` value: a PostgreSQL connection URL.
fn parse_store_url(value: &str) -> Result<String, String> {
    if value.starts_with("postgres://") || value.starts_with("postgresql://") {
        Ok(value.to_string())
    } else {
        Err("the store is a PostgreSQL URL, postgres://USER@HOST:PORT/DB (without --store, SQLite in --data)".into())
    }
}

fn init_logging(level: Option<&str>) {
    let filter = match level {
        Some(l) => tracing_subscriber::EnvFilter::new(l),
        None => tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
    };
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

pub fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(*args),
        Command::Watch(args) => std::process::exit(crate::watch::run(crate::watch::WatchArgs {
            target: args.target,
            endpoint: args.endpoint,
            ca_file: args.ca_file,
            insecure: args.insecure,
            plain: args.plain,
            token: args.token,
        })),
        Command::Token(args) => token::run(args),
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_logging(args.log_level.as_deref());
    huge_pages::turn_off();
    let config = ServeConfig {
        host: args.host,
        port: args.port,
        data_dir: (!args.in_memory).then_some(args.data),
        store_url: args.store,
        node_id: args.node_id,
        lease_timeout: args.lease_timeout,
        tls: args.tls,
        cert: args.cert,
        key: args.key,
        auth: args.auth,
        api_version_check: args.api_version_check,
        speed: args.speed,
        clock: args.clock,
        operation_retention: args.operation_retention,
        faults: args.faults,
        journal_size: args.journal_size,
        publishers: args.publishers,
        subscriptions: args.subscriptions,
        connections: server::ConnectionLimits {
            max_connections: args.max_connections,
            header_timeout: args.header_timeout,
            body_timeout: args.body_timeout,
            idle_timeout: args.idle_timeout,
            shutdown_timeout: args.shutdown_timeout,
        },
        control_api: args.control_api,
        generic_resources: args.generic_resources == Switch::On,
        control_token: args.control_token,
    };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let running = server::start(config).await?;
        if let Some(ca) = &running.ca_file {
            println!(
                "azemu TLS certificate authority: {} (Python clients: REQUESTS_CA_BUNDLE=<this file>)",
                ca.display()
            );
        }
        println!("azemu listening on {}", running.base_url);
        use std::io::Write;
        std::io::stdout().flush()?;
        stop_signal().await?;
        tracing::info!("shutting down: finishing the requests in flight (a second signal stops at once)");
        tokio::select! {
            open = running.shut_down() => {
                if open > 0 {
                    tracing::warn!(connections = open, "shut down with requests still in flight");
                }
                tracing::info!("stopped");
                Ok(())
            }
            _ = stop_signal() => {
                tracing::warn!("second signal: stopping at once");
                std::process::exit(130)
            }
        }
    })
}

/// SIGTERM or SIGINT (Ctrl-C).
async fn stop_signal() -> std::io::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        interrupted = tokio::signal::ctrl_c() => interrupted,
        _ = terminate.recv() => Ok(()),
    }
}

/// A feature turned `on` or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Switch {
    On,
    Off,
}

//! `azemu token`: prints a token signed with a data directory's key, optionally limited to
//! some subscriptions or partner publishers and to reading, for `--auth strict` setups.

use std::path::PathBuf;

use clap::Args;

use crate::identity::signing::SigningKey;
use crate::identity::token::{issue, Access, Role, TokenRequest, DEFAULT_TENANT};

#[derive(Args)]
pub struct TokenCommand {
    /// The data directory of the azemu that will check the token (its key is kept there).
    #[arg(long, default_value = "./azemu-data")]
    data: PathBuf,
    /// A subscription the token reaches (repeat for more); with none and no --publisher, all.
    #[arg(long = "subscription", value_name = "ID")]
    subscriptions: Vec<String>,
    /// A partner API publisher the token reaches (repeat for more).
    #[arg(long = "publisher", value_name = "ID")]
    publishers: Vec<String>,
    /// `reader` can only read; `contributor` (the default) can also write; `admin` can also use
    /// the control API where azemu asks for a token there (`serve --control-api token`).
    #[arg(long, value_enum)]
    role: Option<Role>,
    /// The token's audience (default: ARM's, or the partner API's when only publishers are named).
    #[arg(long)]
    audience: Option<String>,
    /// The application the token names.
    #[arg(long, default_value = "azemu-cli")]
    client_id: String,
    /// How long the token is valid, e.g. `1h`, `30min`.
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    lifetime: std::time::Duration,
}

pub fn run(command: TokenCommand) -> anyhow::Result<()> {
    let key = SigningKey::load_or_create(Some(&command.data))?;
    let limited = !command.subscriptions.is_empty() || !command.publishers.is_empty() || command.role.is_some();
    let audience = command.audience.unwrap_or_else(|| {
        if command.subscriptions.is_empty() && !command.publishers.is_empty() {
            "https://cloudpartner.azure.com".into()
        } else {
            "https://management.azure.com/".into()
        }
    });
    let access = limited.then(|| Access {
        subscriptions: command.subscriptions,
        publishers: command.publishers,
        role: command.role.unwrap_or(Role::Contributor),
    });
    let lifetime =
        chrono::Duration::from_std(command.lifetime).map_err(|_| anyhow::anyhow!("--lifetime is too long"))?;
    let issued = issue(
        &key,
        TokenRequest {
            audience,
            issuer: "azemu".into(),
            tenant: DEFAULT_TENANT.into(),
            client_id: command.client_id,
            managed_identity: None,
            access,
            lifetime,
            version: "1.0",
        },
        chrono::Utc::now(),
    );
    println!("{}", issued.token);
    Ok(())
}

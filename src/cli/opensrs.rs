//! `domreg lookup` and `domreg transfer-status`: ask OpenSRS directly.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::Args;

use crate::opensrs::client::{DEFAULT_PORT, LIVE_HOST, TEST_HOST};
use crate::opensrs::{Class, Client, Command, ConnectionSettings, Exchange, Secret};

/// An ad hoc OpenSRS connection.
#[derive(Debug, Args)]
pub struct ConnectionArgs {
    /// OpenSRS host (default: the test host; see --live).
    #[arg(long)]
    pub server: Option<String>,
    #[arg(long, default_value_t = DEFAULT_PORT)]
    pub port: u16,
    /// Reseller login.
    #[arg(long, env = "DOMREG_OPENSRS_LOGIN")]
    pub login: String,
    /// Reseller private key (prefer the environment variable: flags show in `ps`).
    #[arg(long, env = "DOMREG_OPENSRS_KEY", hide_env_values = true)]
    pub key: String,
    /// Use OpenSRS's live host instead of the test host.
    #[arg(long, conflicts_with = "server")]
    pub live: bool,
    /// Plain HTTP (only to a sandbox on loopback).
    #[arg(long)]
    pub plain_http: bool,
    /// Trust this certificate (PEM), e.g. a sandbox's `--cert-out`.
    #[arg(long)]
    pub ca_cert: Option<PathBuf>,
    /// Local address to send from (must be on the OpenSRS allow-list).
    #[arg(long)]
    pub source_ip: Option<IpAddr>,
    /// One JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

impl ConnectionArgs {
    pub fn client(&self) -> anyhow::Result<Client> {
        let server = self
            .server
            .clone()
            .unwrap_or_else(|| if self.live { LIVE_HOST } else { TEST_HOST }.to_string());
        let mut settings = ConnectionSettings::new(
            "ad hoc",
            &server,
            self.port,
            &self.login,
            Secret::new(self.key.clone()),
        );
        settings.plain_http = self.plain_http;
        settings.source_ip = self.source_ip;
        if let Some(path) = &self.ca_cert {
            settings.extra_root_pem = Some(
                std::fs::read(path)
                    .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?,
            );
        }
        Ok(Client::new(settings)?)
    }
}

#[derive(Debug, Args)]
pub struct DomainQueryArgs {
    /// The domain name.
    pub domain: String,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// Prints the exchange; fails (exit code 1) when no answer could be had.
fn finish(
    domain: &str,
    exchange: &Exchange,
    json: bool,
    sentence: impl FnOnce(&Exchange) -> String,
) -> anyhow::Result<()> {
    let answered = matches!(exchange.classification.class, Class::Done | Class::Pending);
    if json {
        println!("{}", exchange.to_json(domain));
    } else if answered {
        println!("{}", sentence(exchange));
    }
    if answered {
        return Ok(());
    }
    let c = &exchange.classification;
    let hint = if c.configuration_error {
        " (check the login, the key, and that this machine's IP is on the OpenSRS allow-list)"
    } else {
        ""
    };
    match c.code {
        Some(code) => anyhow::bail!("OpenSRS refused: {code} {}{hint}", c.text),
        None => anyhow::bail!("no answer from OpenSRS: {}{hint}", c.text),
    }
}

pub async fn lookup(args: DomainQueryArgs) -> anyhow::Result<()> {
    let domain = domreg_events::DomainName::parse(&args.domain)?;
    let client = args.connection.client()?;
    let exchange = client
        .call(&Command::Lookup {
            domain: domain.to_string(),
        })
        .await;
    finish(domain.as_str(), &exchange, args.connection.json, |e| {
        let c = &e.classification;
        let verdict = match c.code {
            Some(210) => "is available",
            Some(211) => "is taken",
            Some(221) => "is taken: a registration is waiting at the registry",
            _ => "returned",
        };
        format!(
            "{domain} {verdict} ({} {})",
            c.code.unwrap_or_default(),
            c.text
        )
    })
}

pub async fn transfer_status(args: DomainQueryArgs) -> anyhow::Result<()> {
    let domain = domreg_events::DomainName::parse(&args.domain)?;
    let client = args.connection.client()?;
    let command = Command::CheckTransfer {
        domain: domain.to_string(),
        check_status: true,
    };
    let exchange = client.call(&command).await;
    finish(domain.as_str(), &exchange, args.connection.json, |e| {
        let reply = e.outcome.as_ref().ok();
        let attr = |k| reply.and_then(|r| r.attr(k)).unwrap_or("").to_string();
        let status = attr("status");
        let reason = attr("reason");
        let mut line = if attr("transferrable") == "1" {
            format!("{domain} can be transferred in")
        } else {
            format!("{domain} cannot be transferred in now")
        };
        if !status.is_empty() {
            line.push_str(&format!("; transfer status: {status}"));
        }
        if !reason.is_empty() {
            line.push_str(&format!(" ({reason})"));
        }
        line
    })
}

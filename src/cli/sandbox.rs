//! `domreg sandbox`: run the OpenSRS-compatible sandbox server.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::Args;

use crate::opensrs::sandbox::state::Settings;
use crate::opensrs::sandbox::{Sandbox, SandboxConfig};
use crate::opensrs::Secret;
use domreg_events::{Currency, Money};

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:55443")]
    pub listen: SocketAddr,
    /// Reseller login (repeat with --key for several resellers).
    #[arg(long = "user", required = true)]
    pub users: Vec<String>,
    /// Private key of the reseller named by the --user in the same position.
    #[arg(
        long = "key",
        required = true,
        env = "DOMREG_SANDBOX_KEY",
        hide_env_values = true
    )]
    pub keys: Vec<String>,
    /// Starting balance of each reseller account (USD).
    #[arg(long, default_value = "10000.00")]
    pub balance: String,
    /// What a registration costs the reseller per year (USD).
    #[arg(long, default_value = "10.00")]
    pub price: String,
    /// TLDs whose registrations complete asynchronously (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "de,ca,co.uk")]
    pub async_tlds: Vec<String>,
    /// An asynchronous registration completes at this probe (LOOKUP or BELONGS_TO_RSP) of its domain.
    #[arg(long, default_value_t = 3)]
    pub async_polls: u32,
    /// Or: complete this long after submission (e.g. 30s, 2h), instead of counting probes.
    #[arg(long, value_parser = super::args::duration)]
    pub async_delay: Option<std::time::Duration>,
    /// How long a transfer waits for the owner's approval.
    #[arg(long, default_value = "1h", value_parser = super::args::duration)]
    pub transfer_owner_delay: std::time::Duration,
    /// How long the registry then takes.
    #[arg(long, default_value = "4h", value_parser = super::args::duration)]
    pub transfer_registry_delay: std::time::Duration,
    /// Accept only these client IPs (others get 400 "Access denied: invalid IP address").
    #[arg(long = "allow-ip")]
    pub allow_ips: Vec<IpAddr>,
    /// Serve HTTPS with a fresh self-signed certificate.
    #[arg(long)]
    pub tls: bool,
    /// Write that certificate (PEM) here, for clients to trust (`--ca-cert`).
    #[arg(long, requires = "tls")]
    pub cert_out: Option<PathBuf>,
    /// Seed for fault rates (printed at start, so a run can be replayed).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

fn secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

pub async fn run(args: SandboxArgs) -> anyhow::Result<()> {
    if args.users.len() != args.keys.len() {
        anyhow::bail!(
            "give one --key per --user ({} users, {} keys)",
            args.users.len(),
            args.keys.len()
        );
    }
    let balance = Money::parse(&args.balance, Currency::USD)
        .map_err(|e| anyhow::anyhow!("--balance: {e}"))?;
    let price =
        Money::parse(&args.price, Currency::USD).map_err(|e| anyhow::anyhow!("--price: {e}"))?;
    let settings = Settings {
        async_tlds: args
            .async_tlds
            .iter()
            .map(|t| t.trim().trim_start_matches('.').to_ascii_lowercase())
            .collect(),
        async_polls: Some(args.async_polls.max(1)),
        async_delay_secs: args.async_delay.map(secs),
        transfer_owner_secs: secs(args.transfer_owner_delay),
        transfer_registry_secs: secs(args.transfer_registry_delay),
        price_per_year_cents: price.minor,
        declined: Vec::new(),
        allowed_ips: args.allow_ips.iter().map(IpAddr::to_string).collect(),
    };
    let config = SandboxConfig {
        listen: args.listen,
        users: args
            .users
            .iter()
            .cloned()
            .zip(args.keys.iter().map(Secret::new))
            .collect(),
        balance_cents: balance.minor,
        settings,
        tls: args.tls,
        seed: args.seed,
    };
    let sandbox = Sandbox::start(config).await?;
    if let (Some(path), Some(pem)) = (&args.cert_out, &sandbox.cert_pem) {
        std::fs::write(path, pem)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    }
    let scheme = if args.tls { "https" } else { "http" };
    println!(
        "OpenSRS sandbox listening on {scheme}://{} for {} (seed {}); admin: {scheme}://{}/sandbox/state",
        sandbox.addr,
        args.users.join(", "),
        args.seed,
        sandbox.addr
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}

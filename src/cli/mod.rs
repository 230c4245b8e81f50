//! The `domreg` command line: argument parsing and dispatch. Each verb lives in its own file.

mod account;
mod args;
mod audit;
mod bench;
mod bulk;
mod hosts;
mod import;
mod log;
mod manage;
mod migrate;
mod models;
mod opensrs;
pub(crate) mod orders;
mod registrar;
mod sandbox;
mod store;
mod sync;
mod tld;
mod token;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Event-sourced domain registration through OpenSRS, for hosting providers.
#[derive(Debug, Parser)]
#[command(name = "domreg", version, about, long_about = None)]
pub struct Cli {
    /// Directory holding the event log, read models and secrets.
    #[arg(
        long,
        env = "DOMREG_DATA",
        default_value = "domreg-data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// The event log: sqlite:PATH (default: the data directory's own, `store use`, else
    /// events.db there), a PostgreSQL server, postgres://USER:PASSWORD@HOST/DB, or an
    /// EventStoreDB / KurrentDB server, esdb://HOST:2113?tls=false or kurrentdb://...
    /// The read models stay in the data directory.
    #[arg(
        long = "store",
        env = "DOMREG_STORE",
        global = true,
        value_name = "URL"
    )]
    pub store: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Measure performance (figures for docs/benchmarks.md).
    Bench(bench::BenchArgs),
    /// A domain's or an account's history from the log, as of any moment (billing disputes).
    Audit(audit::AuditArgs),
    /// Inspect the event log.
    Log(log::LogArgs),
    /// Run an OpenSRS-compatible sandbox server (for tests and trying domreg out).
    Sandbox(sandbox::SandboxArgs),
    /// Ask OpenSRS whether a domain is available.
    Lookup(opensrs::DomainQueryArgs),
    /// Ask OpenSRS whether a domain can be transferred in, and how a transfer is going.
    TransferStatus(opensrs::DomainQueryArgs),
    /// OpenSRS connections.
    Registrar(registrar::RegistrarArgs),
    /// Which connection serves each TLD.
    Tld(tld::TldArgs),
    /// What orders cost, per TLD, kind and period.
    Price(tld::PriceArgs),
    /// How pending orders are polled, per TLD.
    Policy(tld::PolicyArgs),
    /// Customer accounts: payments received.
    Account(account::AccountArgs),
    /// The billing ledger: charges, refunds, credits and balances.
    Ledger(models::LedgerArgs),
    /// Tokens for named admins and customer accounts.
    Token(token::TokenArgs),
    /// Domains and their status, expiry and connection.
    Domains(models::DomainsArgs),
    /// The Async Manager: orders waiting for a registry.
    Async(models::AsyncArgs),
    /// Create the OpenSRS connection (and prices) of an H-Sphere 2.2 `OpenSRS.conf`.
    MigrateOpensrsConf(migrate::MigrateArgs),
    /// Rebuild read models from the log.
    Rebuild(models::RebuildArgs),
    /// Compare the read models with a fresh replay of the log.
    Verify,
    /// Order a new registration (charged now; the engine submits it).
    Register(orders::OrderArgs),
    /// Order a transfer in (charged now; the engine submits it).
    Transfer(orders::OrderArgs),
    /// Order a renewal (charged now; the engine submits it).
    Renew(orders::OrderArgs),
    /// Run the engine: submit charged orders, poll pending ones, time out and refund,
    /// warn before expiry and renew automatically.
    Serve(orders::ServeArgs),
    /// Switch a domain's automatic renewal on or off.
    AutoRenew(orders::AutoRenewArgs),
    /// Reconcile with the account at OpenSRS: expiry drift, domains gone or unknown,
    /// registrations that completed after their order ended.
    Sync(sync::SyncArgs),
    /// Adopt domains registered before domreg from the account at OpenSRS, with a CSV
    /// mapping of domain to account.
    Import(import::ImportArgs),
    /// Replace a registered domain's nameservers at OpenSRS (ADVANCED_UPDATE_NAMESERVERS).
    Nameservers(manage::NameserversArgs),
    /// Switch a registered domain's registrar lock on or off at OpenSRS.
    Lock(manage::LockArgs),
    /// Switch a registered domain's WHOIS privacy on or off at OpenSRS (where the TLD has it).
    Privacy(manage::PrivacyArgs),
    /// A registered domain's transfer (EPP) code: shown, or e-mailed by OpenSRS to the
    /// admin contact where the TLD only does that. Recorded, never the code itself.
    AuthCode(manage::AuthCodeArgs),
    /// Update a registered domain's owner, admin, billing or tech contact at OpenSRS
    /// (UPDATE_CONTACTS); a change of registrant asks about the 60-day transfer lock.
    Contacts(manage::ContactsArgs),
    /// List, create, change or delete the child (glue) nameservers under a domain.
    #[command(alias = "glue")]
    ChildNameservers(hosts::ChildNameserversArgs),
    /// Hand a .uk domain to another registrar by setting its IPS tag (one-shot: the
    /// domain leaves this account).
    IpsTag(manage::IpsTagArgs),
    /// One change (lock, nameservers, privacy, auto-renew) to many domains, one recorded
    /// change each; the same command again finishes a run that was cut short.
    Bulk(bulk::BulkArgs),
    /// Which log this data directory uses: `store use postgres://...`, `store show`.
    #[command(subcommand)]
    Store(store::StoreCommand),
    /// Decide about a late completion `domreg sync` found: charge the customer again, or
    /// let it go.
    Late(sync::LateArgs),
    /// Walk a synchronous and an asynchronous registration through the engine and the
    /// built-in sandbox, in a fresh data directory.
    Demo {
        /// Keep the demo's data here (default: a new temporary directory).
        #[arg(long)]
        keep: Option<PathBuf>,
        /// With --listen, keep running afterwards with the admin API (token from
        /// DOMREG_API_TOKEN, or a new one printed once).
        #[command(flatten)]
        api: crate::serve::ApiArgs,
    },
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(url) = cli.store.as_deref().filter(|u| !u.trim().is_empty()) {
        crate::app::choose_store(crate::store::StoreUrl::parse(url)?);
    }
    match cli.command {
        Command::Bench(args) => bench::run(args).await,
        Command::Audit(args) => audit::run(&cli.data_dir, args).await,
        Command::Log(args) => log::run(&cli.data_dir, args).await,
        Command::Sandbox(args) => sandbox::run(args).await,
        Command::Lookup(args) => opensrs::lookup(args).await,
        Command::TransferStatus(args) => opensrs::transfer_status(args).await,
        Command::Registrar(args) => registrar::run(&cli.data_dir, args).await,
        Command::Tld(args) => tld::tld(&cli.data_dir, args).await,
        Command::Price(args) => tld::price(&cli.data_dir, args).await,
        Command::Policy(args) => tld::policy(&cli.data_dir, args).await,
        Command::Account(args) => account::account(&cli.data_dir, args).await,
        Command::Ledger(args) => models::ledger(&cli.data_dir, args).await,
        Command::Token(args) => token::run(&cli.data_dir, args).await,
        Command::Domains(args) => models::domains(&cli.data_dir, args).await,
        Command::Async(args) => models::async_cmd(&cli.data_dir, args).await,
        Command::MigrateOpensrsConf(args) => migrate::run(&cli.data_dir, args).await,
        Command::Rebuild(args) => models::rebuild(&cli.data_dir, args).await,
        Command::Verify => models::verify(&cli.data_dir).await,
        Command::Register(args) => {
            orders::order(&cli.data_dir, domreg_events::OrderKind::Register, args).await
        }
        Command::Transfer(args) => {
            orders::order(&cli.data_dir, domreg_events::OrderKind::Transfer, args).await
        }
        Command::Renew(args) => {
            orders::order(&cli.data_dir, domreg_events::OrderKind::Renew, args).await
        }
        Command::Serve(args) => orders::serve(&cli.data_dir, args).await,
        Command::AutoRenew(args) => orders::auto_renew(&cli.data_dir, args).await,
        Command::Sync(args) => sync::run(&cli.data_dir, args).await,
        Command::Import(args) => import::run(&cli.data_dir, args).await,
        Command::Late(args) => sync::late(&cli.data_dir, args).await,
        Command::Nameservers(args) => manage::nameservers(&cli.data_dir, args).await,
        Command::Lock(args) => manage::lock(&cli.data_dir, args).await,
        Command::Privacy(args) => manage::privacy(&cli.data_dir, args).await,
        Command::AuthCode(args) => manage::auth_code(&cli.data_dir, args).await,
        Command::Contacts(args) => manage::contacts(&cli.data_dir, args).await,
        Command::ChildNameservers(args) => hosts::run(&cli.data_dir, args).await,
        Command::IpsTag(args) => manage::ips_tag(&cli.data_dir, args).await,
        Command::Bulk(args) => bulk::bulk(&cli.data_dir, args).await,
        Command::Store(c) => store::run(&cli.data_dir, c).await,
        Command::Demo { keep, api } => {
            let api = demo_api(&api).await?;
            match keep {
                Some(dir) => {
                    crate::demo::run(&dir, api).await?;
                    println!("The demo's log and read models are in {}", dir.display());
                    Ok(())
                }
                None => {
                    let dir = tempfile::Builder::new().prefix("domreg-demo-").tempdir()?;
                    crate::demo::run(dir.path(), api).await
                }
            }
        }
    }
}

/// The demo's API listener: the configured token, or a fresh random one shown once.
async fn demo_api(args: &crate::serve::ApiArgs) -> anyhow::Result<Option<crate::serve::Api>> {
    let Some(addr) = args.listen else {
        return Ok(None);
    };
    let token = match args.token()? {
        Some(t) => t,
        None => {
            use rand::distr::{Alphanumeric, SampleString};
            let t = Alphanumeric.sample_string(&mut rand::rng(), 32);
            println!("Admin API token for this demo (export DOMREG_API_TOKEN={t})");
            crate::opensrs::Secret::new(t)
        }
    };
    Ok(Some(
        crate::serve::Api::bind(addr, token, args.allow_plain_http)
            .await?
            .with_admin(&args.api_admin)?,
    ))
}

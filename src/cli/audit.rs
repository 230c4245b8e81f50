//! `domreg audit`: a domain's or an account's history from the log, for billing disputes.

use std::path::Path;

use chrono::{DateTime, Utc};
use clap::Args;

use domreg_events::{AccountId, DomainName, OrderId};

use crate::audit::{self, AccountAudit, DomainAudit};

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("subject").required(true).args(["domain", "account"]))]
pub struct AuditArgs {
    /// The domain whose history to show.
    pub domain: Option<String>,
    /// Only this order of the domain.
    #[arg(long, requires = "domain")]
    pub order: Option<String>,
    /// Show the state and balances as they were at this moment (UTC unless an offset is given).
    #[arg(long, value_parser = super::args::moment, conflicts_with = "account")]
    pub at: Option<DateTime<Utc>>,
    /// An account's ledger instead of a domain.
    #[arg(long)]
    pub account: Option<String>,
    /// With --account: entries from this moment.
    #[arg(long, value_parser = super::args::moment, requires = "account")]
    pub from: Option<DateTime<Utc>>,
    /// With --account: entries up to this moment.
    #[arg(long, value_parser = super::args::moment, requires = "account")]
    pub to: Option<DateTime<Utc>>,
    #[arg(long)]
    pub json: bool,
}

pub async fn run(data_dir: &Path, args: AuditArgs) -> anyhow::Result<()> {
    let store = crate::app::open_log(data_dir).await?;
    let report = match (&args.domain, &args.account) {
        (Some(domain), _) => {
            let order = args
                .order
                .as_deref()
                .map(|o| {
                    o.parse::<OrderId>()
                        .map_err(|_| anyhow::anyhow!("{o:?} is not an order id (a UUID)"))
                })
                .transpose()?;
            audit::domain_audit(
                &store,
                &DomainAudit {
                    domain: DomainName::parse(domain)?,
                    order,
                    at: args.at,
                },
            )
            .await?
        }
        (None, Some(account)) => {
            audit::account_audit(
                &store,
                &AccountAudit {
                    account: AccountId::parse(account)?,
                    from: args.from,
                    to: args.to,
                },
            )
            .await?
        }
        (None, None) => anyhow::bail!("name a domain or give --account ACCOUNT"),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", audit::render_text(&report));
    }
    Ok(())
}

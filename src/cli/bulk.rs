//! `domreg bulk`: one change for many domains (a file or an account's), one recorded
//! change per domain, resumable under the same key.

use std::path::Path;

use clap::Args;

use domreg_events::change::DomainChange;

use crate::app::{cli_actor, App};

#[derive(Debug, Args)]
pub struct BulkArgs {
    #[command(subcommand)]
    pub change: BulkChange,
    /// The domains, one per line (`#` starts a comment).
    #[arg(long, global = true, conflicts_with = "account")]
    pub domains: Option<std::path::PathBuf>,
    /// Every registered domain of this account.
    #[arg(long, global = true)]
    pub account: Option<String>,
    /// The bulk's key (default: derived from the change and the domains, so the same
    /// command run again continues where the last run stopped).
    #[arg(long, global = true)]
    pub key: Option<String>,
    /// Give up waiting for one OpenSRS answer after this long (the change is then read
    /// back, never sent again).
    #[arg(long, global = true, default_value = "30s", value_parser = super::args::duration)]
    pub opensrs_timeout: std::time::Duration,
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum BulkChange {
    /// Switch the registrar lock on or off.
    Lock {
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    /// Switch WHOIS privacy on or off.
    Privacy {
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    /// Replace the nameservers.
    Nameservers {
        #[arg(required = true, num_args = 1..)]
        nameservers: Vec<String>,
    },
    /// Switch automatic renewal on or off (written only where it differs).
    AutoRenew {
        #[arg(value_parser = ["on", "off"])]
        state: String,
        /// Years per automatic renewal (1 to 10); absent: the connection's.
        #[arg(long)]
        years: Option<i64>,
    },
}

pub async fn bulk(data_dir: &Path, args: BulkArgs) -> anyhow::Result<()> {
    use crate::admin::bulk::{AutoRenewTerms, BulkChange as Change};
    let change = match args.change {
        BulkChange::Lock { state } => Change::Registrar(DomainChange::Lock {
            locked: state == "on",
        }),
        BulkChange::Privacy { state } => Change::Registrar(DomainChange::Privacy {
            enabled: state == "on",
        }),
        BulkChange::Nameservers { nameservers } => {
            Change::Registrar(DomainChange::Nameservers { nameservers })
        }
        BulkChange::AutoRenew { state, years } => Change::AutoRenew(AutoRenewTerms {
            enabled: state == "on",
            years,
        }),
    };
    let mut app = App::connect(data_dir).await?;
    app.catch_up().await?;
    let domains: Vec<String> = match (&args.domains, &args.account) {
        (Some(file), _) => std::fs::read_to_string(file)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect(),
        (None, Some(account)) => app
            .models
            .domains(Some(account), usize::MAX >> 1)?
            .into_iter()
            .filter(|d| d.status == "registered")
            .map(|d| d.name)
            .collect(),
        (None, None) => anyhow::bail!("name the domains: --domains FILE or --account ACCOUNT"),
    };
    let key = args
        .key
        .clone()
        .unwrap_or_else(|| crate::admin::bulk::default_key(&change, &domains));
    let report = crate::admin::bulk::bulk(
        &mut app,
        &domains,
        &change,
        &key,
        cli_actor(),
        Some(args.opensrs_timeout),
    )
    .await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "bulk {}: {} domains; {} changed now, {} by an earlier run, {} refused, {} sent without an answer yet",
            report.key,
            report.domains,
            report.applied.len(),
            report.earlier.len(),
            report.refused.len(),
            report.sent.len()
        );
        for r in &report.refused {
            println!("  refused {}: {}", r.domain, r.reason);
        }
        for s in &report.sent {
            println!("  sent    {s}: the engine reads it back (or run this again later)");
        }
    }
    Ok(())
}

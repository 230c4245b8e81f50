//! `domreg nameservers` and `domreg lock`: changes to a registered domain, sent to
//! OpenSRS once and recorded.

use std::path::Path;

use clap::Args;

use domreg_events::change::DomainChange;

use crate::admin::changes::{apply, ChangeOutcome};
use crate::app::{cli_actor, App};

#[derive(Debug, Args)]
pub struct NameserversArgs {
    pub domain: String,
    /// The new set (2 to 13 host names), replacing the current one.
    #[arg(required = true, num_args = 1..)]
    pub nameservers: Vec<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LockArgs {
    pub domain: String,
    /// `on` (no transfer away) or `off`.
    #[arg(value_parser = ["on", "off"])]
    pub state: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PrivacyArgs {
    pub domain: String,
    /// `on` (contact data hidden in WHOIS) or `off`.
    #[arg(value_parser = ["on", "off"])]
    pub state: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AuthCodeArgs {
    pub domain: String,
    #[arg(long)]
    pub json: bool,
}

/// Shows the transfer code (or has OpenSRS mail it), as the TLD allows.
pub async fn auth_code(data_dir: &Path, args: AuthCodeArgs) -> anyhow::Result<()> {
    let mut app = App::connect(data_dir).await?;
    let out = crate::admin::auth_code::give_out(&mut app, &args.domain, cli_actor()).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        match &out.auth_code {
            Some(code) => println!("{}: transfer code {}", out.domain, code.expose()),
            None => println!("{}: the transfer code was {}", out.domain, out.how),
        }
    }
    Ok(())
}

pub async fn privacy(data_dir: &Path, args: PrivacyArgs) -> anyhow::Result<()> {
    let change = DomainChange::Privacy {
        enabled: args.state == "on",
    };
    run(data_dir, &args.domain, change, args.json).await
}

pub async fn nameservers(data_dir: &Path, args: NameserversArgs) -> anyhow::Result<()> {
    let change = DomainChange::Nameservers {
        nameservers: args.nameservers,
    };
    run(data_dir, &args.domain, change, args.json).await
}

pub async fn lock(data_dir: &Path, args: LockArgs) -> anyhow::Result<()> {
    let change = DomainChange::Lock {
        locked: args.state == "on",
    };
    run(data_dir, &args.domain, change, args.json).await
}

async fn run(
    data_dir: &Path,
    domain: &str,
    change: DomainChange,
    json: bool,
) -> anyhow::Result<()> {
    let mut app = App::connect(data_dir).await?;
    let out = apply(&mut app, domain, change, cli_actor()).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print(&out);
    }
    Ok(())
}

fn print(o: &ChangeOutcome) {
    let answer = o.answer.as_ref().map(|a| a.line()).unwrap_or_default();
    match o.state {
        "applied" => println!("{}: {} (OpenSRS: {answer})", o.domain, o.change.describe()),
        _ => println!(
            "{}: {} sent as change {}, no answer yet ({answer}); the engine reads the domain back and records the outcome",
            o.domain,
            o.change.describe(),
            o.change_id
        ),
    }
}

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
}

pub async fn bulk(data_dir: &Path, args: BulkArgs) -> anyhow::Result<()> {
    let change = match args.change {
        BulkChange::Lock { state } => DomainChange::Lock {
            locked: state == "on",
        },
        BulkChange::Privacy { state } => DomainChange::Privacy {
            enabled: state == "on",
        },
        BulkChange::Nameservers { nameservers } => DomainChange::Nameservers { nameservers },
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

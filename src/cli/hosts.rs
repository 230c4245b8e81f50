//! `domreg child-nameservers DOMAIN list|create|modify|delete`: the glue hosts named
//! under a registered domain (NAMESERVER object), each change sent once and recorded.

use std::path::Path;

use clap::{Args, Subcommand};

use domreg_events::change::{under_domain, DomainChange, HostAction};

use crate::app::App;

#[derive(Debug, Args)]
pub struct ChildNameserversArgs {
    pub domain: String,
    #[command(subcommand)]
    pub action: HostCommand,
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum HostCommand {
    /// The domain's child nameservers at OpenSRS and as recorded here.
    List,
    /// Create HOST (its label, ns1, or full name under the domain) with its addresses
    /// (.de needs --ipv4).
    Create(Addresses),
    /// Replace HOST's addresses (a family left out is removed at the registry).
    Modify(Addresses),
    /// Delete HOST (only when it serves no domain).
    Delete { host: String },
}

#[derive(Debug, Args)]
pub struct Addresses {
    pub host: String,
    #[arg(long)]
    pub ipv4: Option<String>,
    #[arg(long)]
    pub ipv6: Option<String>,
}

pub async fn run(data_dir: &Path, args: ChildNameserversArgs) -> anyhow::Result<()> {
    let domain = args.domain.clone();
    let change = |action, a: Addresses| DomainChange::ChildNameserver {
        action,
        host: under_domain(&a.host, &domain),
        ipv4: a.ipv4,
        ipv6: a.ipv6,
    };
    let change = match args.action {
        HostCommand::List => return list(data_dir, &args.domain, args.json).await,
        HostCommand::Create(a) => change(HostAction::Create, a),
        HostCommand::Modify(a) => change(HostAction::Modify, a),
        HostCommand::Delete { host } => DomainChange::ChildNameserver {
            action: HostAction::Delete,
            host: under_domain(&host, &args.domain),
            ipv4: None,
            ipv6: None,
        },
    };
    super::manage::run(data_dir, &args.domain, change, args.json).await
}

async fn list(data_dir: &Path, domain: &str, json: bool) -> anyhow::Result<()> {
    let mut app = App::connect(data_dir).await?;
    let view = crate::admin::hosts::list(&mut app, domain).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&view)?);
        return Ok(());
    }
    let addrs = |h: &crate::opensrs::manage::Host| {
        [&h.ipv4, &h.ipv6]
            .into_iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    };
    match &view.at_opensrs {
        Some(hosts) if hosts.is_empty() => {
            println!("{}: no child nameservers at OpenSRS", view.domain)
        }
        Some(hosts) => {
            println!("{}: child nameservers at OpenSRS", view.domain);
            for h in hosts {
                println!("  {:<40} {}", h.name, addrs(h));
            }
        }
        None => println!(
            "{}: OpenSRS could not be asked ({})",
            view.domain,
            view.unavailable.as_deref().unwrap_or("no answer")
        ),
    }
    let at = view.at_opensrs.unwrap_or_default();
    for h in view.recorded.iter().filter(|h| !at.contains(h)) {
        println!(
            "  recorded here but not listed by OpenSRS: {} {}",
            h.name,
            addrs(h)
        );
    }
    Ok(())
}

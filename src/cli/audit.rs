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
    /// Also show the evidence kept for each OpenSRS answer: the request sent (secrets
    /// and contact data redacted) and the reply body.
    #[arg(long, requires = "domain")]
    pub evidence: bool,
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
    if args.evidence {
        return show_with_evidence(data_dir, &report, args.json);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", audit::render_text(&report));
    }
    Ok(())
}

/// The audit followed by the evidence of every answer in it (JSON: `{audit, evidence}`
/// with the evidence by address; an address whose file is missing or altered says so).
fn show_with_evidence(
    data_dir: &Path,
    report: &audit::AuditReport,
    json: bool,
) -> anyhow::Result<()> {
    let store = crate::opensrs::evidence::EvidenceStore::new(data_dir);
    let linked: Vec<(u64, &str, &str)> = report
        .entries
        .iter()
        .flat_map(|e| {
            e.registrar_answer
                .iter()
                .flat_map(|a| a.evidence.iter())
                .map(move |h| (e.position, e.event_type.as_str(), h.as_str()))
        })
        .collect();
    if json {
        let evidence: serde_json::Map<String, serde_json::Value> = linked
            .iter()
            .map(|(_, _, h)| {
                let v = match store.read(h) {
                    Ok(e) => serde_json::json!(e),
                    Err(e) => serde_json::json!({ "error": e.to_string() }),
                };
                (h.to_string(), v)
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({ "audit": report, "evidence": evidence })
            )?
        );
        return Ok(());
    }
    print!("{}", audit::render_text(report));
    println!();
    if linked.is_empty() {
        println!("No evidence is linked from these events (they predate it, or made no call that changes anything).");
    }
    for (position, event_type, hash) in linked {
        println!("evidence of #{position} {event_type}: {hash}");
        match store.read(hash) {
            Ok(e) => {
                println!(
                    "  {} on connection {}, response code {}",
                    e.command,
                    e.connection,
                    e.response_code
                        .map_or_else(|| "none".to_string(), |c| c.to_string())
                );
                println!("  request sent:\n{}", indent(&e.request));
                match (&e.reply, &e.transport_error) {
                    (Some(body), _) => println!("  reply received:\n{}", indent(body)),
                    (None, Some(why)) => println!("  no reply: {why}"),
                    (None, None) => println!("  no reply"),
                }
            }
            Err(e) => println!("  {e}"),
        }
    }
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

//! `domreg sync`: reconcile the log with the account at OpenSRS.

use std::path::Path;

use clap::Args;

use crate::app::App;
use crate::engine::sync::{sync, SyncReport};

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The connection to reconcile (default: every one).
    #[arg(long)]
    pub registrar: Option<String>,
    /// Only this domain.
    #[arg(long)]
    pub domain: Option<String>,
    /// Report what differs; record nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Calls per second to OpenSRS at most (OpenSRS throttles resellers).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub calls_per_second: u32,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LateArgs {
    /// The order that ended here while OpenSRS completed it (`domreg sync` lists them).
    pub order: String,
    /// Charge the customer again, at the order's price; they hold the domain.
    #[arg(long, conflicts_with = "let_go", required_unless_present = "let_go")]
    pub charge_again: bool,
    /// Charge nothing; the domain stays in the reseller's account.
    #[arg(long)]
    pub let_go: bool,
    #[arg(long)]
    pub json: bool,
}

pub async fn late(data_dir: &Path, args: LateArgs) -> anyhow::Result<()> {
    let mut app = App::connect(data_dir).await?;
    let out = crate::admin::late::settle(
        &mut app,
        &args.order,
        args.charge_again,
        crate::app::cli_actor(),
    )
    .await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        match &out.choice {
            domreg_events::event::LateChoice::ChargeAgain { amount } => println!(
                "{}: account {} charged {amount} again and holds the domain (expires {})",
                out.domain,
                out.account,
                out.expires_at.format("%Y-%m-%d")
            ),
            domreg_events::event::LateChoice::LetGo => println!(
                "{}: let go; account {} not charged, the domain stays with the reseller",
                out.domain, out.account
            ),
        }
    }
    Ok(())
}

pub async fn run(data_dir: &Path, args: SyncArgs) -> anyhow::Result<()> {
    let mut app = App::connect(data_dir).await?;
    app.catch_up().await?;
    let only = args
        .domain
        .as_deref()
        .map(domreg_events::DomainName::parse)
        .transpose()?;
    let titles: Vec<String> = match &args.registrar {
        Some(t) => vec![t.clone()],
        None => app
            .models
            .registrars()?
            .into_iter()
            .map(|c| c.title)
            .collect(),
    };
    if titles.is_empty() {
        anyhow::bail!("no OpenSRS connection is configured (`domreg registrar add`)");
    }
    let mut reports = Vec::new();
    for title in titles {
        let client = crate::engine::client_for(&app, &title).map_err(anyhow::Error::msg)?;
        let pace = crate::engine::sync_listing::Pace {
            calls_per_second: args.calls_per_second,
        };
        reports.push(sync(&mut app, &client, &title, only.as_ref(), args.dry_run, pace).await?);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        reports.iter().for_each(print);
    }
    Ok(())
}

fn print(r: &SyncReport) {
    println!(
        "{}: {} domains at OpenSRS ({} pages){}",
        r.connection,
        r.listed,
        r.pages,
        if r.dry_run {
            ", dry run: nothing recorded"
        } else {
            ""
        }
    );
    let day = |t: &Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or("(none)".into(), |t| t.format("%Y-%m-%d").to_string())
    };
    for d in &r.drift {
        println!(
            "  expiry  {}: here {}, registry {}",
            d.domain,
            day(&d.ours),
            day(&Some(d.registrar))
        );
    }
    for g in &r.gone {
        println!(
            "  gone    {}: {}; no longer warned about or renewed",
            g.domain, g.answer
        );
    }
    for u in &r.unknown {
        println!("  unknown {u}: in the account, not here (adopt it with `domreg import`)");
    }
    for l in &r.late_completions {
        println!(
            "  LATE    {}: registered at OpenSRS after order {} ended {} for {}{}; charge the customer again or let it go",
            l.domain,
            l.order_id,
            l.end,
            l.account,
            l.refunded.map(|m| format!(" (refunded {m})")).unwrap_or_default()
        );
    }
    println!("  {} facts recorded", r.recorded);
}

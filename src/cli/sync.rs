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
    #[arg(long)]
    pub json: bool,
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
        reports.push(sync(&mut app, &client, &title, only.as_ref(), args.dry_run).await?);
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

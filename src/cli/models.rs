//! `domreg rebuild`, `verify`, `ledger`, `domains`, `async list`: the read models and
//! what they answer.

use std::io::IsTerminal;

use chrono::Utc;
use clap::{Args, Subcommand};

use domreg_events::AccountId;
use domreg_projections::{Model, PendingQuery, ReadModels};

use crate::app::{catch_up, App};

#[derive(Debug, Args)]
pub struct RebuildArgs {
    /// Only this model: async, ledger, domains, registrars or quarantine.
    #[arg(long)]
    pub model: Option<String>,
}

#[derive(Debug, Args)]
pub struct LedgerArgs {
    #[arg(long)]
    pub account: Option<String>,
    #[arg(long, default_value_t = 1000)]
    pub limit: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DomainsArgs {
    #[arg(long)]
    pub account: Option<String>,
    #[arg(long, default_value_t = 1000)]
    pub limit: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AsyncArgs {
    #[command(subcommand)]
    pub which: AsyncWhich,
}

#[derive(Debug, Subcommand)]
pub enum AsyncWhich {
    /// Pending orders (the Async Manager), oldest first.
    List {
        #[arg(long)]
        tld: Option<String>,
        #[arg(long)]
        account: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long, default_value_t = 0)]
        offset: usize,
        #[arg(long)]
        json: bool,
        /// Finished orders instead, newest first: how each ended, the refund, OpenSRS's
        /// last answer.
        #[arg(long)]
        finished: bool,
        /// With --finished: only this end (confirmed, rejected, timed_out, cancelled).
        #[arg(long, requires = "finished")]
        end: Option<String>,
        /// With --finished: ended at or after this moment (2026-12-01, or RFC 3339).
        #[arg(long, requires = "finished", value_parser = super::args::moment)]
        since: Option<chrono::DateTime<Utc>>,
        /// With --finished: ended before this moment.
        #[arg(long, requires = "finished", value_parser = super::args::moment)]
        until: Option<chrono::DateTime<Utc>>,
    },
    /// Cancel a pending order: refund it, and cancel it at OpenSRS where possible.
    Cancel {
        order: String,
        /// For an order handed to the admin: you checked at OpenSRS (the Reseller Web
        /// Interface) that it will not complete; cancel and refund without asking OpenSRS.
        #[arg(long)]
        checked_at_opensrs: bool,
    },
    /// Restart a pending order's wait (a new deadline from its TLD's policy).
    Reset { order: String },
    /// Poll a pending order now.
    Check { order: String },
}

fn models_to_rebuild(name: Option<&str>) -> anyhow::Result<Vec<Model>> {
    match name {
        None => Ok(Model::ALL.to_vec()),
        Some(n) => Model::parse(n).map(|m| vec![m]).ok_or_else(|| {
            let names: Vec<_> = Model::ALL.iter().map(|m| m.name()).collect();
            anyhow::anyhow!("unknown model {n:?}; models: {}", names.join(", "))
        }),
    }
}

pub async fn rebuild(data_dir: &std::path::Path, args: RebuildArgs) -> anyhow::Result<()> {
    let mut app = App::connect(data_dir).await?;
    let models = models_to_rebuild(args.model.as_deref())?;
    for m in &models {
        app.models.reset(*m)?;
    }
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message("rebuilding");
        Some(bar)
    } else {
        None
    };
    let applied = catch_up(&app.store, &mut app.models, |n| {
        if let Some(b) = &bar {
            b.set_position(n);
            b.set_message(format!("{n} events"));
        }
    })
    .await?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let names: Vec<_> = models.iter().map(|m| m.name()).collect();
    println!("rebuilt {} from {applied} events", names.join(", "));
    Ok(())
}

/// Replays the whole log into fresh models and compares them with the stored ones.
pub async fn verify(data_dir: &std::path::Path) -> anyhow::Result<()> {
    let mut app = App::connect(data_dir).await?;
    app.catch_up().await?;
    let mut fresh = ReadModels::open_in_memory()?;
    let replayed = catch_up(&app.store, &mut fresh, |_| {}).await?;
    let mut differences = 0;
    for model in Model::ALL {
        let stored = app.models.dump(model)?;
        let expected = fresh.dump(model)?;
        for (table, rows) in &expected {
            let have = stored.get(table).cloned().unwrap_or_default();
            for missing in rows.iter().filter(|r| !have.contains(r)) {
                differences += 1;
                println!("{}: {table}: missing or different: {missing}", model.name());
            }
            for extra in have.iter().filter(|r| !rows.contains(r)) {
                differences += 1;
                println!("{}: {table}: not in a fresh replay: {extra}", model.name());
            }
        }
    }
    if differences > 0 {
        anyhow::bail!("{differences} differences between the read models and a fresh replay of {replayed} events; run `domreg rebuild`");
    }
    let quarantined = app.models.quarantined()?;
    for q in &quarantined {
        println!(
            "quarantined: event {} at position {} in {} ({}): {}",
            q.event_id, q.position.0, q.stream, q.event_type, q.detail
        );
    }
    if !quarantined.is_empty() {
        anyhow::bail!(
            "{} events of {replayed} cannot be read or folded by this build and are skipped by every read model (listed above); upgrade domreg, or ask for help before changing the log",
            quarantined.len()
        );
    }
    println!("read models match a fresh replay of {replayed} events");
    Ok(())
}

pub async fn ledger(data_dir: &std::path::Path, args: LedgerArgs) -> anyhow::Result<()> {
    let mut app = App::connect(data_dir).await?;
    app.catch_up().await?;
    if let Some(a) = &args.account {
        AccountId::parse(a)?;
    }
    let entries = app.models.ledger(args.account.as_deref(), args.limit)?;
    let balances = app.models.balances()?;
    let balances: Vec<_> = balances
        .into_iter()
        .filter(|b| args.account.as_ref().is_none_or(|a| *a == b.account))
        .collect();
    if args.json {
        println!(
            "{}",
            serde_json::json!({ "entries": entries, "balances": balances })
        );
        return Ok(());
    }
    for e in &entries {
        println!(
            "{:>8} {} {:<12} {:<7} {:>14} {:>14}  {}{}",
            e.position,
            e.at.format("%Y-%m-%d %H:%M"),
            e.account,
            e.kind,
            e.amount.to_string(),
            e.balance_after.to_string(),
            e.domain.as_deref().unwrap_or(""),
            if e.note.is_empty() {
                String::new()
            } else {
                format!(" ({})", e.note)
            }
        );
    }
    println!("balances:");
    for b in balances {
        println!("  {:<16} {}", b.account, b.balance);
    }
    Ok(())
}

pub async fn domains(data_dir: &std::path::Path, args: DomainsArgs) -> anyhow::Result<()> {
    let mut app = App::connect(data_dir).await?;
    app.catch_up().await?;
    let rows = app.models.domains(args.account.as_deref(), args.limit)?;
    if args.json {
        println!("{}", serde_json::to_value(&rows)?);
        return Ok(());
    }
    for d in rows {
        println!(
            "{:<32} {:<13} {:<12} {:<12} expires {}  auto-renew {}",
            d.name,
            d.status,
            d.account,
            d.connection,
            d.expires_at
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_else(|| "-".into()),
            if d.auto_renew { "on" } else { "off" }
        );
    }
    Ok(())
}

pub async fn async_cmd(data_dir: &std::path::Path, args: AsyncArgs) -> anyhow::Result<()> {
    match &args.which {
        AsyncWhich::Cancel {
            order,
            checked_at_opensrs,
        } => return super::orders::async_cancel(data_dir, order, *checked_at_opensrs).await,
        AsyncWhich::Reset { order } => return super::orders::async_reset(data_dir, order).await,
        AsyncWhich::Check { order } => return super::orders::async_check(data_dir, order).await,
        AsyncWhich::List { .. } => {}
    }
    let mut app = App::connect(data_dir).await?;
    app.catch_up().await?;
    match args.which {
        AsyncWhich::Cancel { .. } | AsyncWhich::Reset { .. } | AsyncWhich::Check { .. } => {}
        AsyncWhich::List {
            finished: true,
            account,
            limit,
            offset,
            json,
            end,
            since,
            until,
            ..
        } => {
            let q = crate::admin::orders::finished_query(
                end.as_deref(),
                account,
                since,
                until,
                limit,
                offset,
            )?;
            let rows = app.models.finished_orders(&q)?;
            if json {
                println!("{}", serde_json::to_value(&rows)?);
                return Ok(());
            }
            if rows.is_empty() {
                println!("no finished orders");
            }
            for f in rows {
                println!(
                    "{}  {:<28} {:<10} {:<8} ended {} {:<9} {}  {}",
                    f.order_id,
                    f.domain,
                    f.account,
                    f.kind,
                    f.ended_at.format("%Y-%m-%d %H:%M"),
                    f.end,
                    f.refunded
                        .map(|r| format!("refunded {r}"))
                        .unwrap_or_else(|| "no refund".into()),
                    f.last_answer.unwrap_or_default()
                );
            }
        }
        AsyncWhich::List {
            tld,
            account,
            limit,
            offset,
            json,
            ..
        } => {
            let q = PendingQuery {
                tld: tld.map(|t| t.trim_start_matches('.').to_ascii_lowercase()),
                account,
                due_by: None,
                limit,
                offset,
            };
            let rows = app.models.pending_orders(&q)?;
            if json {
                println!("{}", serde_json::to_value(&rows)?);
                return Ok(());
            }
            if rows.is_empty() {
                println!("no pending orders");
            }
            let now = app.clock.now();
            for p in rows {
                let left = p.deadline - now;
                println!(
                    "{}  {:<28} {:<10} {:<8} since {}  polls {:<3} next {}  deadline {} ({}h left)  {}",
                    p.order_id,
                    p.domain,
                    p.account,
                    p.kind,
                    p.pending_since.format("%Y-%m-%d %H:%M"),
                    p.polls,
                    p.next_poll_at.format("%H:%M"),
                    p.deadline.format("%Y-%m-%d %H:%M"),
                    left.num_hours(),
                    p.last_answer.unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}

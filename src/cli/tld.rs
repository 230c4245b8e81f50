//! `domreg tld ...`, `domreg price ...`, `domreg policy ...`: routing, prices, async policies.

use clap::{Args, Subcommand, ValueEnum};

use domreg_events::settings::*;
use domreg_events::Period;

use crate::admin::settings;
use crate::app::{cli_actor, App};

#[derive(Debug, Args)]
pub struct TldArgs {
    #[command(subcommand)]
    pub which: TldWhich,
}

#[derive(Debug, Subcommand)]
pub enum TldWhich {
    /// Route new orders for a TLD through an OpenSRS connection.
    Assign {
        tld: String,
        #[arg(long)]
        registrar: String,
    },
    /// List TLD routes.
    List {
        #[arg(long)]
        json: bool,
    },
    /// A TLD's connection, prices, policies and license agreement.
    Show {
        tld: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    Register,
    Transfer,
    Renew,
    /// Switching WHOIS privacy on, charged once.
    Privacy,
    /// A restore past the renewal grace period (shown to the admin).
    Restore,
}

impl From<KindArg> for PriceKind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Register => PriceKind::Register,
            KindArg::Transfer => PriceKind::Transfer,
            KindArg::Renew => PriceKind::Renew,
            KindArg::Privacy => PriceKind::Privacy,
            KindArg::Restore => PriceKind::Restore,
        }
    }
}

#[derive(Debug, Args)]
pub struct PriceArgs {
    #[command(subcommand)]
    pub which: PriceWhich,
}

#[derive(Debug, Subcommand)]
pub enum PriceWhich {
    /// Set a price: per period for register and renew (absolute, not per year), once for transfer.
    Set {
        tld: String,
        #[arg(long, value_enum)]
        kind: KindArg,
        /// Period in years, 1-10 (register and renew only).
        #[arg(long, allow_negative_numbers = true)]
        years: Option<i64>,
        /// Amount in the currency's units, such as 12.99.
        #[arg(long, allow_hyphen_values = true)]
        amount: String,
        #[arg(long, default_value = "USD")]
        currency: String,
    },
    /// Stop selling a kind and period.
    Remove {
        tld: String,
        #[arg(long, value_enum)]
        kind: KindArg,
        #[arg(long)]
        years: Option<i64>,
    },
    /// List prices.
    List {
        tld: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub which: PolicyWhich,
}

#[derive(Debug, Subcommand)]
pub enum PolicyWhich {
    /// How often pending orders of a TLD are polled and how long they may wait (`*`: all others).
    Set {
        tld: String,
        /// For transfers rather than registrations.
        #[arg(long)]
        transfer: bool,
        #[arg(long, value_parser = super::args::duration)]
        poll_every: std::time::Duration,
        #[arg(long, value_parser = super::args::duration)]
        timeout: std::time::Duration,
    },
    /// Policies in force (configured, or H-Sphere's defaults).
    List {
        #[arg(long)]
        json: bool,
    },
}

fn hours(secs: u64) -> String {
    if secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else if secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

pub async fn tld(data_dir: &std::path::Path, args: TldArgs) -> anyhow::Result<()> {
    let mut app = App::connect(data_dir).await?;
    app.catch_up().await?;
    match args.which {
        TldWhich::Assign { tld, registrar } => {
            let r = settings::assign_tld(&mut app, &tld, &registrar, cli_actor()).await?;
            match r.previous {
                Some(p) => println!(
                    ".{} now goes through {registrar} (was {p}; orders already placed keep {p})",
                    r.tld
                ),
                None => println!(".{} goes through {registrar}", r.tld),
            }
        }
        TldWhich::List { json } => {
            let routes = app.models.routes()?;
            if json {
                let v: Vec<_> = routes
                    .iter()
                    .map(|(t, r)| serde_json::json!({ "tld": t, "registrar": r }))
                    .collect();
                println!("{}", serde_json::Value::Array(v));
            } else if routes.is_empty() {
                println!("no TLD is routed; use `domreg tld assign TLD --registrar TITLE`");
            } else {
                for (t, r) in routes {
                    println!(".{t:<12} {r}");
                }
            }
        }
        TldWhich::Show { tld, json } => {
            let tld = parse_tld(&tld)?;
            let registrar = app.models.route(&tld)?;
            let config = match &registrar {
                Some(r) => app.models.registrar(r)?,
                None => None,
            };
            let prices = app.models.prices(Some(&tld))?;
            let policy = app.models.policy(&tld, false)?;
            let transfer_policy = app.models.policy(&tld, true)?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "tld": tld,
                        "registrar": registrar,
                        "license_agreement": config.as_ref().map(|c| c.license_agreement.clone()),
                        "prices": prices,
                        "policy": policy,
                        "transfer_policy": transfer_policy,
                        "orderable": registrar.is_some() && !prices.is_empty(),
                        "capabilities": domreg_events::capabilities::of(&tld),
                    })
                );
                return Ok(());
            }
            println!(".{tld}");
            println!(
                "  connection: {}",
                registrar.as_deref().unwrap_or("(none: cannot be ordered)")
            );
            let can = domreg_events::capabilities::of(&tld);
            println!(
                "  after registration: registrar lock {}, WHOIS privacy {}, transfer out by {}",
                if can.registrar_lock { "yes" } else { "no" },
                if can.whois_privacy { "yes" } else { "no" },
                match can.auth_code {
                    domreg_events::capabilities::AuthCode::Readable => "EPP code (readable)",
                    domreg_events::capabilities::AuthCode::Emailed =>
                        "EPP code (e-mailed to the admin contact)",
                    domreg_events::capabilities::AuthCode::IpsTag => "IPS tag",
                }
            );
            let yes = |b: bool| if b { "yes" } else { "no" };
            println!(
                "  contacts: updatable {}, registrant change starts the 60-day transfer lock {}",
                yes(can.contact_updates),
                yes(can.registrant_change_lock)
            );
            println!(
                "  child nameservers: IPv4 required {}, IPv6 allowed {}; renewable {} day(s) after expiry",
                yes(can.glue_needs_ipv4),
                yes(can.glue_ipv6),
                can.renewal_grace_days
            );
            if prices.is_empty() {
                println!("  prices:     (none: cannot be ordered)");
            }
            for p in &prices {
                let period = p
                    .years
                    .map(|y| format!("{y} year(s)"))
                    .unwrap_or_else(|| "once".into());
                println!("  {:<9} {:<11} {}", p.kind.as_str(), period, p.price);
            }
            for (label, p) in [("registration", policy), ("transfer", transfer_policy)] {
                println!(
                    "  {label} poll every {}, time out after {}{}",
                    hours(p.policy.poll_every_secs),
                    hours(p.policy.timeout_secs),
                    if p.configured { "" } else { " (default)" }
                );
            }
            if let Some(c) = config.filter(|c| !c.license_agreement.is_empty()) {
                println!("  license agreement (shown to customers before they order):");
                for line in c.license_agreement.lines() {
                    println!("    {line}");
                }
            }
        }
    }
    Ok(())
}

pub async fn price(data_dir: &std::path::Path, args: PriceArgs) -> anyhow::Result<()> {
    let mut app = App::connect(data_dir).await?;
    app.catch_up().await?;
    match args.which {
        PriceWhich::Set {
            tld,
            kind,
            years,
            amount,
            currency,
        } => {
            let p = settings::set_price(
                &mut app,
                &tld,
                kind.into(),
                years,
                &amount,
                &currency,
                cli_actor(),
            )
            .await?;
            let period = p
                .years
                .map(|y| {
                    format!(
                        "for {}",
                        Period::years(y.into())
                            .map(|p| p.to_string())
                            .unwrap_or_default()
                    )
                })
                .unwrap_or_else(|| "once".into());
            println!(".{} {} {period}: {}", p.tld, p.kind.as_str(), p.price);
        }
        PriceWhich::Remove { tld, kind, years } => {
            let kind = PriceKind::from(kind);
            settings::remove_price(&mut app, &tld, kind, years, cli_actor()).await?;
            println!("removed the .{} {} price", parse_tld(&tld)?, kind.as_str());
        }
        PriceWhich::List { tld, json } => {
            let tld = tld.map(|t| parse_tld(&t)).transpose()?;
            let prices = app.models.prices(tld.as_deref())?;
            if json {
                println!("{}", serde_json::to_value(&prices)?);
            } else if prices.is_empty() {
                println!("no prices; a TLD without a price cannot be ordered");
            } else {
                for p in prices {
                    let period = p
                        .years
                        .map(|y| format!("{y}y"))
                        .unwrap_or_else(|| "once".into());
                    println!(
                        ".{:<10} {:<9} {:<5} {}",
                        p.tld,
                        p.kind.as_str(),
                        period,
                        p.price
                    );
                }
            }
        }
    }
    Ok(())
}

pub async fn policy(data_dir: &std::path::Path, args: PolicyArgs) -> anyhow::Result<()> {
    let mut app = App::connect(data_dir).await?;
    app.catch_up().await?;
    match args.which {
        PolicyWhich::Set {
            tld,
            transfer,
            poll_every,
            timeout,
        } => {
            let policy = AsyncPolicy {
                poll_every_secs: poll_every.as_secs(),
                timeout_secs: timeout.as_secs(),
            };
            let row = settings::set_policy(&mut app, &tld, transfer, policy, cli_actor()).await?;
            println!(
                ".{} {}: poll every {}, time out after {}",
                row.tld,
                if transfer {
                    "transfers"
                } else {
                    "registrations"
                },
                hours(policy.poll_every_secs),
                hours(policy.timeout_secs)
            );
        }
        PolicyWhich::List { json } => {
            let rows = app.models.policies()?;
            if json {
                println!("{}", serde_json::to_value(&rows)?);
            } else {
                for p in rows {
                    println!(
                        ".{:<8} {:<13} poll every {:<5} timeout {:<6}{}",
                        p.tld,
                        if p.transfer {
                            "transfers"
                        } else {
                            "registrations"
                        },
                        hours(p.policy.poll_every_secs),
                        hours(p.policy.timeout_secs),
                        if p.configured { "" } else { " (default)" }
                    );
                }
            }
        }
    }
    Ok(())
}

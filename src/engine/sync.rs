//! Reconciling the log with the account at OpenSRS (`domreg sync`): page through the
//! account's domains (GET_DOMAINS_BY_EXPIREDATE), compare with the domains the log holds
//! for the connection, and record what differs as facts, never by rewriting history.
//!
//! - Expiry drift: the listing's date differs from the log's; the registry's date is
//!   read with GET DOMAIN (`registry_expiredate`, falling back to `expiredate`) and
//!   recorded (`ExpirySynced`). The registry's date is the one that decides when the name
//!   lapses; renewing on the reseller's date alone renews early or late.
//! - Gone: a domain of the log missing from the listing, confirmed by BELONGS_TO_RSP,
//!   is recorded (`LeftAccount`): it is no longer warned about or renewed.
//! - Unknown: a domain of the account that the log does not hold (adoptable by import).
//! - Late completion: a domain of the account whose last order here ended without
//!   completing (timed out, refused, cancelled) and was refunded: the registration went
//!   through after all. Listed for the admin (charge again, or let it go); never charged
//!   or kept silently.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use domreg_events::*;

use super::sync_listing::{listing, Pace, Pacer};
use crate::app::App;
use crate::opensrs::{self, Client};
use crate::unit_of_work::{load, UnitOfWork, Written};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SyncReport {
    pub connection: String,
    pub dry_run: bool,
    pub finished_at: Option<DateTime<Utc>>,
    /// Domains in the account's listing.
    pub listed: usize,
    pub pages: u32,
    /// Set when the listing went on from a checkpoint a crash left.
    pub resumed_from_page: Option<u32>,
    pub drift: Vec<Drift>,
    pub gone: Vec<Gone>,
    pub unknown: Vec<String>,
    pub late_completions: Vec<LateCompletion>,
    /// Facts written to the log (0 on a dry run).
    pub recorded: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Drift {
    pub domain: String,
    pub ours: Option<DateTime<Utc>>,
    pub registrar: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Gone {
    pub domain: String,
    pub answer: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LateCompletion {
    pub domain: String,
    pub order_id: OrderId,
    pub account: AccountId,
    pub end: End,
    pub refunded: Option<Money>,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("the account listing of {connection} could not be read: {why}")]
    Listing { connection: String, why: String },
    #[error(transparent)]
    Write(#[from] crate::unit_of_work::UnitError),
    #[error(transparent)]
    Models(#[from] domreg_projections::ModelError),
}

/// Reconciles `connection` (through `client`), or only `only`.
pub async fn sync(
    app: &mut App,
    client: &Client,
    connection: &str,
    only: Option<&DomainName>,
    dry_run: bool,
    pace: Pace,
) -> Result<SyncReport, SyncError> {
    let now = app.clock.now();
    app.catch_up().await.map_err(|e| SyncError::Listing {
        connection: connection.into(),
        why: e.to_string(),
    })?;
    let mut pacer = Pacer::new(pace);
    let got = listing(client, connection, now, &app.data_dir, &mut pacer).await?;
    let mut listed = got.domains;
    let mut report = SyncReport {
        connection: connection.into(),
        dry_run,
        listed: listed.len(),
        pages: got.pages,
        resumed_from_page: got.resumed_from_page,
        ..Default::default()
    };
    if let Some(d) = only {
        listed.retain(|name, _| name == d.as_str());
    }
    let ours: Vec<_> = app
        .models
        .domains(None, usize::MAX >> 1)?
        .into_iter()
        .filter(|d| d.connection == connection && d.status != "gone")
        .filter(|d| only.is_none_or(|o| o.as_str() == d.name))
        .collect();
    let known: BTreeSet<String> = ours.iter().map(|d| d.name.clone()).collect();
    for row in &ours {
        let Ok(domain) = DomainName::parse(&row.name) else {
            continue;
        };
        match listed.get(&row.name) {
            Some(l) => {
                let Some(theirs) = l.expires else { continue };
                if row
                    .expires_at
                    .is_some_and(|t| (t - theirs).abs() < Duration::minutes(1))
                {
                    continue;
                }
                pacer.ready().await;
                let registrar = super::schedule::registry_expiry(client, &domain)
                    .await
                    .unwrap_or(theirs);
                if row.expires_at == Some(registrar) {
                    continue; // the listing's date differs, the registry's agrees
                }
                report.drift.push(Drift {
                    domain: row.name.clone(),
                    ours: row.expires_at,
                    registrar,
                });
                if !dry_run
                    && registrar_fact(
                        app,
                        &domain,
                        Command::SyncExpiry {
                            expires_at: registrar,
                            source: "GET DOMAIN during sync".into(),
                        },
                        now,
                    )
                    .await?
                {
                    report.recorded += 1;
                }
            }
            None if row.status == "registered" => {
                pacer.ready().await;
                let e = client
                    .call(&opensrs::Command::BelongsToRsp {
                        domain: row.name.clone(),
                    })
                    .await;
                let belongs = e
                    .outcome
                    .as_ref()
                    .ok()
                    .and_then(|r| r.attributes.flag("belongs_to_rsp"));
                if belongs != Some(false) {
                    continue; // still ours, or OpenSRS did not say: nothing is recorded
                }
                pacer.ready().await;
                let answer = why_gone(client, &row.name).await;
                report.gone.push(Gone {
                    domain: row.name.clone(),
                    answer: answer.clone(),
                });
                if !dry_run
                    && registrar_fact(
                        app,
                        &domain,
                        Command::RecordLeftAccount {
                            connection: connection.into(),
                            reason: answer,
                        },
                        now,
                    )
                    .await?
                {
                    report.recorded += 1;
                }
            }
            None => {}
        }
    }
    for name in listed.keys().filter(|n| !known.contains(*n)) {
        let Ok(domain) = DomainName::parse(name) else {
            continue;
        };
        let state = load(&app.store, &domain).await?;
        let last = state
            .orders
            .values()
            .filter(|o| o.kind != OrderKind::Renew)
            .max_by_key(|o| o.id.0);
        match last.and_then(|o| o.end().map(|end| (o, end))) {
            Some((o, end))
                if end != End::Confirmed && o.late.is_none() && !state.is_registered() =>
            {
                report.late_completions.push(LateCompletion {
                    domain: name.clone(),
                    order_id: o.id,
                    account: o.account.clone(),
                    end,
                    refunded: o.refunded,
                })
            }
            _ if state.is_registered() => {}
            _ => report.unknown.push(name.clone()),
        }
    }
    if report.recorded > 0 {
        app.refresh_after_append().await;
    }
    report.finished_at = Some(app.clock.now());
    if only.is_none() {
        save_report(&app.data_dir, &report);
    }
    Ok(report)
}

fn reports_path(data_dir: &std::path::Path) -> std::path::PathBuf {
    data_dir.join("sync").join("reports.json")
}

/// The last full reconciliation of each connection (what the API, the page and the
/// metrics show), by connection title.
pub fn last_reports(data_dir: &std::path::Path) -> BTreeMap<String, SyncReport> {
    std::fs::read(reports_path(data_dir))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Keeps `report` as its connection's last; a failure to keep it is logged, not fatal
/// (the facts it found are in the log already).
fn save_report(data_dir: &std::path::Path, report: &SyncReport) {
    let mut all = last_reports(data_dir);
    all.insert(report.connection.clone(), report.clone());
    let path = reports_path(data_dir);
    let written = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|_| {
            let tmp = path.with_extension("json.tmp");
            std::fs::write(&tmp, serde_json::to_vec_pretty(&all).unwrap_or_default())?;
            std::fs::rename(&tmp, &path)
        });
    if let Err(e) = written {
        tracing::warn!(path = %path.display(), error = %e, "the sync report could not be kept");
    }
}

async fn registrar_fact(
    app: &mut App,
    domain: &DomainName,
    command: Command,
    now: DateTime<Utc>,
) -> Result<bool, SyncError> {
    let w = UnitOfWork::new(&app.store, Actor::Engine, now)
        .run(domain, |_| vec![command.clone()])
        .await;
    match w {
        Ok(Written::Appended { .. }) => Ok(true),
        Ok(Written::Unchanged { .. }) => Ok(false),
        Err(crate::unit_of_work::UnitError::Refused { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Why a domain OpenSRS says is not the reseller's left: a transfer away (with the
/// gaining registrar and date, from GET_TRANSFERS_AWAY), or else deleted or expired.
async fn why_gone(client: &Client, domain: &str) -> String {
    let e = client
        .call(&opensrs::Command::GetTransfersAway {
            domain: domain.to_string(),
        })
        .await;
    let transfer = e.outcome.as_ref().ok().and_then(|r| {
        r.attributes
            .get("transfers")
            .and_then(opensrs::value::Value::as_array)
            .and_then(|t| {
                t.iter().find(|t| {
                    t.text("domain")
                        .is_some_and(|d| d.eq_ignore_ascii_case(domain))
                })
            })
            .cloned()
    });
    match transfer {
        Some(t) => format!(
            "transferred away to {} (GET_TRANSFERS_AWAY: status {}{}); BELONGS_TO_RSP: not the reseller's",
            t.text("gaining_registrar").unwrap_or("another registrar"),
            t.text("status").unwrap_or("unknown"),
            t.text("completed_date")
                .and_then(|s| s.parse::<i64>().ok())
                .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
                .map(|d| format!(", {}", d.format("%Y-%m-%d")))
                .unwrap_or_default()
        ),
        None => "deleted or expired: BELONGS_TO_RSP says it is not the reseller's, and GET_TRANSFERS_AWAY shows no transfer".to_string(),
    }
}

//! `domreg import`: adopting domains registered before domreg (by H-Sphere, by hand) from
//! the account at OpenSRS plus a mapping file (CSV: domain, account).
//!
//! Every row is checked before anything is written: its name and account must parse, the
//! domain must be in the account's listing at OpenSRS and appear once in the file. Each
//! usable domain is then recorded on its own stream in one append (`Imported`, with the
//! registry's expiry read by GET DOMAIN), so a domain is imported whole or not at all, and
//! a second run records nothing.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use domreg_events::event::Imported;
use domreg_events::*;

use super::sync::SyncError;
use super::sync_listing::{listing, Pace, Pacer};
use crate::app::App;
use crate::opensrs::Client;
use crate::unit_of_work::{UnitError, UnitOfWork, Written};

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub connection: String,
    pub dry_run: bool,
    /// Data rows read from the mapping (a header row is not counted).
    pub rows: usize,
    /// Recorded by this run (on a dry run: would be).
    pub imported: Vec<ImportedRow>,
    /// Already held by the same account here: nothing to do.
    pub already: Vec<String>,
    /// Rows that cannot be used, with the reason.
    pub refused: Vec<Refusal>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportedRow {
    pub domain: String,
    pub account: String,
    pub expires_at: DateTime<Utc>,
    pub auto_renew: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    pub line: u64,
    pub row: String,
    pub reason: String,
}

struct Row {
    line: u64,
    text: String,
    domain: DomainName,
    account: AccountId,
}

/// Reads the mapping: `domain,account` per row; a first row naming the columns is a header.
fn read_mapping(csv_text: &str, report: &mut ImportReport) -> Vec<Row> {
    let text = csv_text.trim_start_matches('\u{feff}');
    let mut rows = Vec::new();
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    // One record per line (a mapping has no multi-line fields), so every refusal names
    // the file's own line number.
    for (index, raw) in text.lines().enumerate() {
        let line = index as u64 + 1;
        if raw.trim().is_empty() || raw.trim_start().starts_with('#') {
            continue;
        }
        let refuse = |report: &mut ImportReport, text: String, reason: String| {
            report.refused.push(Refusal {
                line,
                row: text,
                reason,
            })
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(raw.as_bytes());
        let record = match reader.records().next() {
            Some(Ok(r)) => r,
            Some(Err(e)) => {
                report.rows += 1;
                refuse(report, raw.to_string(), format!("not CSV: {e}"));
                continue;
            }
            None => continue,
        };
        let text = record.iter().collect::<Vec<_>>().join(",");
        if index == 0
            && record
                .get(0)
                .is_some_and(|f| f.eq_ignore_ascii_case("domain"))
        {
            continue;
        }
        report.rows += 1;
        if record.len() != 2 {
            refuse(
                report,
                text,
                format!("{} columns; a row is: domain,account", record.len()),
            );
            continue;
        }
        let domain = match DomainName::parse(&record[0]) {
            Ok(d) => d,
            Err(e) => {
                refuse(report, text, format!("domain: {e}"));
                continue;
            }
        };
        let account = match AccountId::parse(&record[1]) {
            Ok(a) => a,
            Err(e) => {
                refuse(report, text, format!("account: {e}"));
                continue;
            }
        };
        if let Some(first) = seen.insert(domain.to_string(), line) {
            refuse(
                report,
                text,
                format!("{domain} is already mapped on line {first}; each domain once"),
            );
            continue;
        }
        rows.push(Row {
            line,
            text,
            domain,
            account,
        });
    }
    rows
}

/// Imports the domains `csv_text` maps from `connection`'s account at OpenSRS.
pub async fn import(
    app: &mut App,
    client: &Client,
    connection: &str,
    csv_text: &str,
    source: &str,
    dry_run: bool,
    actor: Actor,
) -> Result<ImportReport, SyncError> {
    let now = app.clock.now();
    let mut report = ImportReport {
        connection: connection.into(),
        dry_run,
        ..Default::default()
    };
    let rows = read_mapping(csv_text, &mut report);
    if rows.is_empty() {
        return Ok(report);
    }
    let mut pacer = Pacer::new(Pace::default());
    let listed = listing(client, connection, now, &app.data_dir, &mut pacer)
        .await?
        .domains;
    let mut recorded = 0;
    for row in rows {
        let refuse = |report: &mut ImportReport, reason: String| {
            report.refused.push(Refusal {
                line: row.line,
                row: row.text.clone(),
                reason,
            })
        };
        let Some(at_opensrs) = listed.get(row.domain.as_str()) else {
            refuse(
                &mut report,
                format!(
                    "{} is not in the account of {connection} at OpenSRS",
                    row.domain
                ),
            );
            continue;
        };
        pacer.ready().await;
        let Some(expires_at) = super::schedule::registry_expiry(client, &row.domain)
            .await
            .or(at_opensrs.expires)
        else {
            refuse(
                &mut report,
                format!("OpenSRS gave no expiry for {}; try again", row.domain),
            );
            continue;
        };
        let imported = Imported {
            domain: row.domain.clone(),
            account: row.account.clone(),
            connection: connection.into(),
            expires_at,
            auto_renew: at_opensrs.auto_renew.unwrap_or(false),
            source: format!("import {source} line {}", row.line),
        };
        let state = crate::unit_of_work::load(&app.store, &row.domain).await?;
        let decided = decide(&state, Command::Import(Box::new(imported.clone())), now);
        match decided {
            Ok(events) if events.is_empty() => {
                report.already.push(row.domain.to_string());
                continue;
            }
            Ok(_) => {}
            Err(e) => {
                refuse(&mut report, e.to_string());
                continue;
            }
        }
        if !dry_run {
            let written = UnitOfWork::new(&app.store, actor.clone(), now)
                .run(&row.domain, |_| {
                    vec![Command::Import(Box::new(imported.clone()))]
                })
                .await;
            match written {
                Ok(Written::Appended { .. }) => recorded += 1,
                Ok(Written::Unchanged { .. }) => {
                    report.already.push(row.domain.to_string());
                    continue;
                }
                Err(UnitError::Refused { error, .. }) => {
                    refuse(&mut report, error.to_string());
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        }
        report.imported.push(ImportedRow {
            domain: row.domain.to_string(),
            account: row.account.to_string(),
            expires_at,
            auto_renew: imported.auto_renew,
        });
    }
    if recorded > 0 {
        app.refresh_after_append().await;
    }
    report.refused.sort_by_key(|r| r.line);
    Ok(report)
}

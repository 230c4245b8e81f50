//! Reconciling an account of many domains against the sandbox on loopback: the log holds
//! every domain (imported), the sandbox changed a few behind its back (expiry drift,
//! transferred away), and a few at OpenSRS are unknown here. One full `sync`, paced.

use std::time::Instant;

use chrono::{Duration, Utc};
use uuid::Uuid;

use domreg_events::event::Imported;
use domreg_events::*;

use super::Figure;
use crate::app::App;
use crate::engine::sync_listing::Pace;
use crate::opensrs::sandbox::state::DomainRecord;
use crate::store::NewEvent;

/// What the bench changes behind the log's back: one domain in this many each.
const DRIFT_EVERY: u64 = 1_000;
const GONE_EVERY: u64 = 2_000;
const UNKNOWN: u64 = 100;

pub async fn run(
    dir: &std::path::Path,
    domains: u64,
    calls_per_second: u32,
) -> anyhow::Result<Vec<Figure>> {
    let sandbox = crate::demo::start_sandbox().await?;
    let mut app = App::open(dir)?;
    crate::demo::configure(&mut app, sandbox.addr.port(), &["com"], 3_600).await?;
    crate::demo::allow_debt(&mut app, "1000000000.00").await?;
    let now = Utc::now();
    let expires = now + Duration::days(200);
    let name = |i: u64| format!("sync-bench-{i}.com");
    let login = "demo".to_string();
    sandbox.with_state(|s| {
        for i in 0..domains + UNKNOWN {
            let gone = i < domains && i % GONE_EVERY == 1;
            let drift = i < domains && i % DRIFT_EVERY == 0;
            s.domains.insert(
                name(i),
                DomainRecord {
                    owner: if gone {
                        "(other registrar)".into()
                    } else {
                        login.clone()
                    },
                    created: now - Duration::days(100),
                    expires: if drift {
                        expires + Duration::days(365)
                    } else {
                        expires
                    },
                    auto_renew: false,
                    transferable: true,
                    nameservers: vec![],
                    renewed_from_year: None,
                },
            );
        }
    });
    // The log: every domain but the unknown ones, imported, 64 appends at a time.
    let started = Instant::now();
    let streams = (0..domains).map(|i| {
        let domain = DomainName::parse(&name(i))?;
        let e: DomainEvent = Imported {
            domain: domain.clone(),
            account: AccountId::parse(&format!("acct-{}", i % 100))?,
            connection: "sandbox".into(),
            expires_at: expires,
            auto_renew: false,
            source: "bench".into(),
        }
        .into();
        let meta = EventMetadata::new(Actor::Engine, Uuid::now_v7(), now);
        Ok((domain_stream(&domain), vec![NewEvent::domain(&e, meta)]))
    });
    super::append_new_streams(&app.store, streams).await?;
    app.catch_up().await?;
    let seeded = started.elapsed();
    let client = crate::engine::client_for(&app, "sandbox").map_err(anyhow::Error::msg)?;
    let calls_before: u64 = sandbox.with_state(|s| s.counters.calls.values().sum());
    let start = Instant::now();
    let report = crate::engine::sync::sync(
        &mut app,
        &client,
        "sandbox",
        None,
        false,
        Pace { calls_per_second },
    )
    .await?;
    let elapsed = start.elapsed();
    let calls: u64 = sandbox.with_state(|s| s.counters.calls.values().sum::<u64>()) - calls_before;
    let drift = domains.div_ceil(DRIFT_EVERY) as usize;
    let gone = (domains.saturating_sub(1)).div_ceil(GONE_EVERY) as usize;
    anyhow::ensure!(
        report.listed as u64 == domains + UNKNOWN - gone as u64
            && report.drift.len() == drift
            && report.gone.len() == gone
            && report.unknown.len() as u64 == UNKNOWN,
        "unexpected report: listed {}, drift {} (want {drift}), gone {} (want {gone}), unknown {}",
        report.listed,
        report.drift.len(),
        report.gone.len(),
        report.unknown.len()
    );
    Ok(vec![
        Figure::new(
            "seed: domains imported into the log",
            domains,
            seeded,
            "domain/s",
            None,
        ),
        Figure::new(
            &format!("sync: domains reconciled ({calls} calls, {calls_per_second}/s at most)"),
            domains,
            elapsed,
            "domain/s",
            // The goal: 100,000 domains in under 60 s.
            Some(100_000.0 / 60.0),
        ),
    ])
}

//! Audit replay: an account with 100,000 events in a log of twice that, replayed into its
//! ledger with running balances, and one of its domains replayed with balances.

use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use uuid::Uuid;

use domreg_events::event::*;
use domreg_events::*;

use super::Figure;
use crate::audit::{self, AccountAudit, DomainAudit};
use crate::store::{EventStore, ExpectedVersion, NewEvent, SqliteStore};

/// One refused order: Requested, Charged, Submitted, Rejected, Refunded (two money moves).
fn order_events(i: u64, account: &AccountId) -> anyhow::Result<(String, Vec<NewEvent>)> {
    let name = DomainName::parse(&format!("audit-bench-{}-{i}.com", account.as_str()))?;
    let order_id = OrderId(Uuid::now_v7());
    let price = Money::new(1299, Currency::USD);
    let events: Vec<DomainEvent> = vec![
        Requested {
            order_id,
            domain: name.clone(),
            account: account.clone(),
            kind: OrderKind::Register,
            period: Period::ONE_YEAR,
            connection: "main".into(),
            price,
        }
        .into(),
        Charged {
            order_id,
            account: account.clone(),
            amount: price,
        }
        .into(),
        Submitted {
            order_id,
            connection: "main".into(),
            lease: None,
        }
        .into(),
        Rejected {
            order_id,
            answer: RegistrarAnswer::new(Some(485), "Domain taken"),
        }
        .into(),
        Refunded {
            order_id,
            account: account.clone(),
            amount: price,
        }
        .into(),
    ];
    let at = Utc
        .timestamp_opt(1_790_000_000, 0)
        .single()
        .unwrap_or_default()
        + Duration::seconds(i as i64);
    let correlation = Uuid::now_v7();
    let new = events
        .iter()
        .map(|e| NewEvent {
            id: Uuid::now_v7(),
            event_type: e.event_type().to_string(),
            schema_version: e.schema_version(),
            data: e.encode(),
            metadata: EventMetadata::new(Actor::Engine, correlation, at),
        })
        .collect();
    Ok((domain_stream(&name), new))
}

/// Fills `dir` with `orders` orders of account `disputed` and as many of `others`, then
/// times the audits.
pub async fn run(dir: &std::path::Path, orders: u64) -> anyhow::Result<Vec<Figure>> {
    let store = SqliteStore::open(dir.join("events.db"))?;
    let disputed = AccountId::parse("disputed")?;
    let others = AccountId::parse("others")?;
    let mut set = tokio::task::JoinSet::new();
    for writer in 0..32u64 {
        let store = store.clone();
        let (disputed, others) = (disputed.clone(), others.clone());
        set.spawn(async move {
            let mut i = writer;
            while i < orders {
                for account in [&disputed, &others] {
                    let (stream, events) = order_events(i, account)?;
                    store
                        .append(&stream, ExpectedVersion::NoStream, events)
                        .await?;
                }
                i += 32;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = set.join_next().await {
        done??;
    }
    let account_events = orders * 5;
    let mut figures = Vec::new();
    for round in 0..3 {
        let started = Instant::now();
        let report = audit::account_audit(
            &store,
            &AccountAudit {
                account: disputed.clone(),
                from: None,
                to: None,
            },
        )
        .await?;
        let replay = started.elapsed();
        let text = audit::render_text(&report);
        let total = started.elapsed();
        anyhow::ensure!(
            report.entries.len() as u64 == orders * 2 && report.balances[0].balance.minor == 0,
            "the account audit lost entries"
        );
        if round == 2 {
            figures.push(Figure::new(
                &format!("account audit replay ({account_events} events of the account)"),
                account_events,
                replay,
                "ev/s",
                Some(account_events as f64),
            ));
            figures.push(Figure::new(
                &format!("account audit + text ({} lines)", text.lines().count()),
                account_events,
                total,
                "ev/s",
                Some(account_events as f64),
            ));
        }
    }
    let started = Instant::now();
    let domain = DomainName::parse(&format!("audit-bench-disputed-{}.com", orders / 2))?;
    let report = audit::domain_audit(
        &store,
        &DomainAudit {
            domain,
            order: None,
            at: None,
        },
    )
    .await?;
    anyhow::ensure!(report.entries.len() == 5, "the domain audit lost entries");
    figures.push(Figure::new(
        &format!(
            "domain audit with balances ({} events in the log)",
            orders * 10
        ),
        orders * 10,
        started.elapsed(),
        "ev/s",
        None,
    ));
    Ok(figures)
}

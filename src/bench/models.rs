//! Read-model figures: folding speed, and query latency with a million domains.

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use serde::Serialize;
use uuid::Uuid;

use domreg_events::event::*;
use domreg_events::*;
use domreg_projections::{Envelope, PendingQuery, ReadModels};

use super::Figure;

/// Latency of one query, repeated.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub name: String,
    pub queries: usize,
    pub avg_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    pub target_us: f64,
}

pub const ACCOUNTS: u64 = 10_000;

/// The events of domain `i`: a registration charged, submitted, and confirmed, except
/// every hundredth, which is left pending at an asynchronous registry.
fn domain_events(i: u64) -> Vec<DomainEvent> {
    let tlds = ["com", "net", "de", "co.uk", "ca"];
    let tld = tlds[(i % tlds.len() as u64) as usize];
    let name =
        DomainName::parse(&format!("bench-domain-{i}.{tld}")).unwrap_or_else(|_| unreachable!());
    let account =
        AccountId::parse(&format!("acct-{}", i % ACCOUNTS)).unwrap_or_else(|_| unreachable!());
    let order_id = OrderId(Uuid::from_u128(u128::from(i) + 1));
    let price = Money::new(1299, Currency::USD);
    let t0 = Utc
        .timestamp_opt(1_790_000_000 + i as i64, 0)
        .single()
        .unwrap_or_default();
    let last: DomainEvent = if i.is_multiple_of(100) {
        UnknownStatus {
            order_id,
            reason: PendingReason::AsyncRegistry,
            answer: Some(RegistrarAnswer::new(Some(250), "Submitted to registry")),
            registrar_order_id: Some(format!("{}", 3_000_000 + i)),
            poll_every_secs: 3600,
            deadline: t0 + chrono::Duration::hours(50),
        }
        .into()
    } else {
        Confirmed {
            order_id,
            expires_at: t0 + chrono::Duration::days(365),
            registrar_order_id: Some(format!("{}", 3_000_000 + i)),
            answer: RegistrarAnswer::new(Some(200), "Domain registration successfully completed"),
        }
        .into()
    };
    vec![
        Requested {
            order_id,
            domain: name,
            account: account.clone(),
            kind: OrderKind::Register,
            period: Period::ONE_YEAR,
            connection: "main".into(),
            price,
        }
        .into(),
        Charged {
            order_id,
            account,
            amount: price,
        }
        .into(),
        Submitted {
            order_id,
            connection: "main".into(),
            lease: None,
        }
        .into(),
        last,
    ]
}

fn time<T>(runs: usize, mut f: impl FnMut(usize) -> T) -> Vec<Duration> {
    (0..runs)
        .map(|i| {
            let start = Instant::now();
            std::hint::black_box(f(i));
            start.elapsed()
        })
        .collect()
}

fn latency(name: &str, mut samples: Vec<Duration>) -> Latency {
    samples.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let total: Duration = samples.iter().sum();
    Latency {
        name: name.to_string(),
        queries: samples.len(),
        avg_us: us(total) / samples.len().max(1) as f64,
        p99_us: samples
            .get(samples.len() * 99 / 100)
            .copied()
            .map(us)
            .unwrap_or(0.0),
        max_us: samples.last().copied().map(us).unwrap_or(0.0),
        target_us: 2_000.0,
    }
}

/// Folds `domains` registrations into fresh models in `dir`, then times the queries.
pub fn run(
    dir: &std::path::Path,
    domains: u64,
    runs: usize,
) -> anyhow::Result<(Figure, Vec<Latency>)> {
    let mut models = ReadModels::open(&dir.join("bench-readmodels.db"))?;
    let start = Instant::now();
    let mut position = 0u64;
    let mut batch = Vec::with_capacity(40_000);
    let mut folded = 0u64;
    for i in 0..domains {
        let stream = format!("domain-bench-domain-{i}");
        for event in domain_events(i) {
            position += 1;
            batch.push(Envelope {
                position: (position, position),
                stream: stream.clone(),
                event_id: Uuid::from_u128(u128::from(position)),
                at: Utc
                    .timestamp_opt(1_790_000_000 + position as i64, 0)
                    .single()
                    .unwrap_or_default(),
                event: AnyEvent::Domain(event),
            });
        }
        if batch.len() >= 40_000 || i + 1 == domains {
            models.apply_batch(&batch)?;
            folded += batch.len() as u64;
            batch.clear();
        }
    }
    let fold = Figure::new(
        &format!("fold {domains} domains into all read models"),
        folded,
        start.elapsed(),
        "ev/s",
        None,
    );

    let pending = models.pending_count()?;
    anyhow::ensure!(
        pending == domains.div_ceil(100),
        "expected {} pending orders, found {pending}",
        domains.div_ceil(100)
    );
    let mut figures = Vec::new();
    let page = |offset: usize| PendingQuery {
        limit: 50,
        offset,
        ..Default::default()
    };
    figures.push(latency(
        "Async Manager: first page of 50 pending orders",
        time(runs, |_| models.pending_orders(&page(0)).map(|r| r.len())),
    ));
    figures.push(latency(
        "Async Manager: page 20 of 50, filtered by TLD .de",
        time(runs, |_| {
            models
                .pending_orders(&PendingQuery {
                    tld: Some("de".into()),
                    limit: 50,
                    offset: 950,
                    ..Default::default()
                })
                .map(|r| r.len())
        }),
    ));
    let due = Utc
        .timestamp_opt(1_790_000_000 + 10_000, 0)
        .single()
        .unwrap_or_default();
    figures.push(latency(
        "Async Manager: 50 orders due for a poll",
        time(runs, |_| {
            models
                .pending_orders(&PendingQuery {
                    due_by: Some(due),
                    limit: 50,
                    ..Default::default()
                })
                .map(|r| r.len())
        }),
    ));
    figures.push(latency(
        &format!("ledger of one account ({} entries)", domains / ACCOUNTS),
        time(runs, |i| {
            models
                .ledger(
                    Some(&format!("acct-{}", (i as u64 * 7919) % ACCOUNTS)),
                    10_000,
                )
                .map(|r| r.len())
        }),
    ));
    figures.push(latency(
        "domains of one account",
        time(runs, |i| {
            models
                .domains(
                    Some(&format!("acct-{}", (i as u64 * 104_729) % ACCOUNTS)),
                    1_000,
                )
                .map(|r| r.len())
        }),
    ));
    Ok((fold, figures))
}

pub fn latency_table(rows: &[Latency]) -> String {
    let mut out = format!(
        "{:<52} {:>8} {:>10} {:>10} {:>10} {:>10}\n",
        "query", "runs", "avg µs", "p99 µs", "max µs", "target"
    );
    for l in rows {
        let verdict = if l.p99_us <= l.target_us {
            "ok"
        } else {
            "OVER"
        };
        out.push_str(&format!(
            "{:<52} {:>8} {:>10.1} {:>10.1} {:>10.1} {:>7.0} {verdict}\n",
            l.name, l.queries, l.avg_us, l.p99_us, l.max_us, l.target_us
        ));
    }
    out
}

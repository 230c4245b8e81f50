//! End-to-end: registrations from Requested to Confirmed through the engine and the
//! sandbox on loopback, 64 in flight.

use std::time::Instant;

use chrono::{Duration, Utc};
use uuid::Uuid;

use domreg_events::*;

use super::Figure;
use crate::app::App;
use crate::clock::ManualClock;
use crate::engine::Engine;
use crate::store::NewEvent;

fn contacts() -> ContactSet {
    ContactSet::all(Contact {
        first_name: "Bench".into(),
        last_name: "Mark".into(),
        org_name: String::new(),
        address1: "1 Loop Road".into(),
        address2: String::new(),
        address3: String::new(),
        city: "Localhost".into(),
        state: String::new(),
        country: "US".into(),
        postal_code: "12345".into(),
        phone: "+1.5555550123".into(),
        fax: String::new(),
        email: "bench@example.com".into(),
    })
}

/// Appends `n` charged registrations under `tld` straight to the log (what
/// `domreg register` appends), 64 at a time.
async fn place(app: &App, n: u64, tld: &str, tag: &str) -> anyhow::Result<()> {
    let now = Utc::now();
    let streams = (0..n).map(|i| {
        let name = DomainName::parse(&format!("bench-{tag}-{i}.{tld}"))?;
        let order_id = OrderId(Uuid::now_v7());
        let commands = vec![
            Command::Request {
                order_id,
                domain: name.clone(),
                account: AccountId::parse(&format!("acct-{}", i % 100))?,
                kind: OrderKind::Register,
                period: Period::ONE_YEAR,
                connection: "sandbox".into(),
                price: Money::new(1299, Currency::USD),
            },
            Command::RecordDetails {
                order_id,
                contacts: Box::new(contacts()),
                nameservers: vec![],
            },
            Command::RecordCharge { order_id },
        ];
        let mut state = Domain::default();
        let mut events = Vec::new();
        for c in commands {
            for e in decide(&state, c, now).map_err(|e| anyhow::anyhow!(e))? {
                state = evolve(state, &e);
                events.push(NewEvent::domain(
                    &e,
                    EventMetadata::new(Actor::Engine, Uuid::now_v7(), now),
                ));
            }
        }
        Ok((domain_stream(&name), events))
    });
    super::append_new_streams(&app.store, streams).await
}

pub async fn run(
    dir: &std::path::Path,
    orders: u64,
    async_orders: u64,
) -> anyhow::Result<Vec<Figure>> {
    let sandbox = crate::demo::start_sandbox().await?;
    let mut app = App::open(dir)?;
    crate::demo::configure(&mut app, sandbox.addr.port(), &["com", "de"], 3_600).await?;
    let clock = ManualClock::new(Utc::now());
    let mut engine = Engine::new(App::open(dir)?, clock.clone());
    engine.concurrency = 64;
    let mut figures = Vec::new();

    place(&app, orders, "com", "sync").await?;
    let start = Instant::now();
    loop {
        let round = engine.run_once().await?;
        if !round.errors.is_empty() {
            anyhow::bail!("engine errors: {:?}", round.errors);
        }
        if !round.did_anything() {
            break;
        }
    }
    let elapsed = start.elapsed();
    let confirmed = engine
        .app
        .models
        .domains(None, usize::MAX >> 1)?
        .iter()
        .filter(|d| d.status == "registered")
        .count() as u64;
    anyhow::ensure!(
        confirmed == orders,
        "{confirmed} of {orders} registrations confirmed"
    );
    figures.push(Figure::new(
        "registrations Requested -> Confirmed, 64 in flight",
        orders,
        elapsed,
        "order/s",
        Some(2_000.0),
    ));

    place(&app, async_orders, "de", "async").await?;
    let start = Instant::now();
    let mut rounds = 0;
    while engine.app.models.pending_count()? > 0 || rounds == 0 {
        let round = engine.run_once().await?;
        anyhow::ensure!(round.errors.is_empty(), "engine errors: {:?}", round.errors);
        clock.advance(Duration::hours(1));
        rounds += 1;
        anyhow::ensure!(rounds < 100, "asynchronous orders did not complete");
    }
    let elapsed = start.elapsed();
    let registered = engine
        .app
        .models
        .domains(None, usize::MAX >> 1)?
        .iter()
        .filter(|d| d.status == "registered")
        .count() as u64;
    anyhow::ensure!(
        registered == orders + async_orders,
        "{registered} registered"
    );
    figures.push(Figure::new(
        "async (.de) registrations incl. 3 polls each, 64 in flight",
        async_orders,
        elapsed,
        "order/s",
        None,
    ));
    Ok(figures)
}

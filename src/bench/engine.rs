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
use crate::store::{EventStore, NewEvent, StoreUrl};

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
/// `domreg register` appends), 64 at a time, and folds them into the first engine's read
/// models as `domreg register` does after its append: the engine finds them there, as it
/// would in production, and its own figure is for what it does itself.
async fn place(app: &mut App, n: u64, tld: &str, tag: &str) -> anyhow::Result<()> {
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
    super::append_new_streams(&app.store, streams).await?;
    app.catch_up().await?;
    Ok(())
}

/// Engines on one log, each with its own data directory and read models, stepped in
/// lock-step rounds (all at once, then the clock moves).
struct Engines {
    engines: Vec<Engine<ManualClock>>,
}

impl Engines {
    /// One round on every engine at once: whether any did anything.
    async fn round(&mut self) -> anyhow::Result<bool> {
        let rounds = futures::future::join_all(self.engines.iter_mut().map(|e| e.run_once())).await;
        let mut did = false;
        for r in rounds {
            let r = r?;
            anyhow::ensure!(r.errors.is_empty(), "engine errors: {:?}", r.errors);
            did |= r.did_anything();
        }
        Ok(did)
    }

    async fn registered(&mut self) -> anyhow::Result<u64> {
        let first = &mut self.engines[0];
        first.app.catch_up().await?;
        Ok(first
            .app
            .models
            .domains(None, usize::MAX >> 1)?
            .iter()
            .filter(|d| d.status == "registered")
            .count() as u64)
    }

    async fn pending(&mut self) -> anyhow::Result<u64> {
        let first = &mut self.engines[0];
        first.app.catch_up().await?;
        Ok(first.app.models.pending_count()?)
    }
}

/// What one end-to-end run measured.
pub struct EngineRun {
    pub figures: Vec<Figure>,
    /// The OpenSRS calls all the orders cost, by action.
    pub calls: std::collections::BTreeMap<String, u64>,
    /// The CPU the synchronous registrations used (engine, store and sandbox together).
    pub sync_cpu: Option<super::cpu::CpuUse>,
}

/// The end-to-end figures on the embedded log (`store` none) or on a server log, with
/// `engines` engines sharing it (more than one needs a server log).
pub async fn run(
    dir: &std::path::Path,
    orders: u64,
    async_orders: u64,
    store: Option<&StoreUrl>,
    engines: usize,
) -> anyhow::Result<EngineRun> {
    anyhow::ensure!(
        (1..=16).contains(&engines),
        "--engines must be 1 to 16, not {engines}"
    );
    anyhow::ensure!(
        engines == 1 || store.is_some(),
        "several engines need a server log: give --store postgres://..."
    );
    let sandbox = crate::demo::start_sandbox().await?;
    let open = |i: usize| {
        let dir = dir.join(format!("engine{i}"));
        async move {
            Ok::<App, anyhow::Error>(match store {
                None => App::open(&dir)?,
                Some(url) => App::open_at(&dir, url).await?,
            })
        }
    };
    let mut app = open(0).await?;
    anyhow::ensure!(
        app.store.head().await? == 0,
        "the benchmark needs an empty log; {} holds events",
        store.map_or("the scratch directory".into(), |u| u.describe())
    );
    crate::demo::configure(&mut app, sandbox.addr.port(), &["com", "de"], 3_600).await?;
    crate::demo::allow_debt(&mut app, "1000000000.00").await?;
    let clock = ManualClock::new(Utc::now());
    let mut all = Vec::new();
    for i in 0..engines {
        let app = open(i).await?;
        app.secrets.put(
            "sandbox",
            &crate::opensrs::Secret::new(crate::demo::DEMO_KEY),
        )?;
        let mut engine = Engine::new(app, clock.clone())
            .sharing(std::time::Duration::from_secs(10))
            .await;
        engine.concurrency = 64;
        all.push(engine);
    }
    // Every engine has beaten once it joined; one more beat each and they all agree.
    if engines > 1 {
        tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    }
    let mut fleet = Engines { engines: all };
    let mut figures = Vec::new();
    let on = if engines == 1 {
        String::new()
    } else {
        format!(", {engines} engines")
    };

    place(&mut app, orders, "com", "sync").await?;
    let calls_before = sandbox.with_state(|s| s.counters.calls.clone());
    let cpu_start = super::cpu::process_time();
    let start = Instant::now();
    while fleet.round().await? {}
    let elapsed = start.elapsed();
    let sync_cpu =
        super::cpu::CpuUse::between(cpu_start, super::cpu::process_time(), elapsed, orders);
    let confirmed = fleet.registered().await?;
    anyhow::ensure!(
        confirmed == orders,
        "{confirmed} of {orders} registrations confirmed"
    );
    figures.push(Figure::new(
        &format!("registrations Requested -> Confirmed, 64 in flight{on}"),
        orders,
        elapsed,
        "order/s",
        (engines == 1 && store.is_none()).then_some(2_000.0),
    ));

    place(&mut app, async_orders, "de", "async").await?;
    let start = Instant::now();
    let mut rounds = 0;
    while fleet.pending().await? > 0 || rounds == 0 {
        fleet.round().await?;
        clock.advance(Duration::hours(1));
        rounds += 1;
        anyhow::ensure!(rounds < 100, "asynchronous orders did not complete");
    }
    let elapsed = start.elapsed();
    let registered = fleet.registered().await?;
    anyhow::ensure!(
        registered == orders + async_orders,
        "{registered} registered"
    );
    figures.push(Figure::new(
        &format!("async (.de) registrations incl. 3 polls each, 64 in flight{on}"),
        async_orders,
        elapsed,
        "order/s",
        None,
    ));
    // Not timed: the engines read the rest of OpenSRS's event feed (two events per
    // registration, a thousand per round at most), so the calls counted are all that
    // these orders cost, whichever round they fell in.
    let mut drained = 0;
    while sandbox.with_state(|s| s.feed.values().map(|q| q.len()).sum::<usize>()) > 0 {
        fleet.round().await?;
        clock.advance(Duration::hours(1));
        drained += 1;
        anyhow::ensure!(drained < 100, "the event feed was not read to its end");
    }
    let calls: std::collections::BTreeMap<String, u64> = sandbox.with_state(|s| {
        s.counters
            .calls
            .iter()
            .map(|(k, n)| (k.clone(), n - calls_before.get(k).copied().unwrap_or(0)))
            .filter(|(_, n)| *n > 0)
            .collect()
    });
    for e in &fleet.engines {
        e.share().leave().await;
    }
    Ok(EngineRun {
        figures,
        calls,
        sync_cpu,
    })
}

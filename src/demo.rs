//! `domreg demo`: the engine with the built-in OpenSRS sandbox on the embedded store,
//! walking one synchronous (.com) and one asynchronous (.de) registration to their end.

use std::path::Path;
use std::time::Duration;

use domreg_events::settings::*;
use domreg_events::*;

use crate::app::App;
use crate::clock::SystemClock;
use crate::engine::place::{place_order, OrderRequest};
use crate::engine::Engine;
use crate::opensrs::sandbox::{Sandbox, SandboxConfig};
use crate::opensrs::Secret;
use crate::store::{EventStore, ExpectedVersion, Position};

pub const DEMO_KEY: &str = "demo-key-0123456789abcdef";

fn demo_contacts() -> ContactSet {
    ContactSet::all(Contact {
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        org_name: "Analytical Engines Ltd".into(),
        address1: "12 St James's Square".into(),
        address2: String::new(),
        address3: String::new(),
        city: "London".into(),
        state: String::new(),
        country: "GB".into(),
        postal_code: "SW1Y 4JH".into(),
        phone: "+44.2079460000".into(),
        fax: String::new(),
        email: "ada@example.com".into(),
    })
}

/// Configures connection `sandbox` (plain HTTP to the sandbox at `port`, reseller `demo`),
/// routes `tlds` to it at 12.99 USD a year, and polls .de every `de_poll_secs` (giving up
/// after 50 polls).
pub async fn configure(
    app: &mut App,
    port: u16,
    tlds: &[&str],
    de_poll_secs: u64,
) -> anyhow::Result<()> {
    let admin = Actor::Admin("demo".into());
    let now = app.clock.now();
    let config = RegistrarConfig {
        title: "sandbox".into(),
        server: "127.0.0.1".into(),
        port,
        source_ip: None,
        login: "demo".into(),
        license_agreement: "Demo agreement: registrations are bound by the registry's terms."
            .into(),
        warn_days: domreg_events::expiry::DEFAULT_WARN_DAYS,
        renew_days: domreg_events::expiry::DEFAULT_RENEW_DAYS,
        test_mode: true,
        plain_http: true,
        nameservers: vec!["ns1.example.net".into(), "ns2.example.net".into()],
        auto_renew_default: true,
        lock_new_registrations: true,
        renew_years: domreg_events::Period::ONE_YEAR,
    };
    config.validate()?;
    app.secrets.put("sandbox", &Secret::new(DEMO_KEY))?;
    let stream = registrar_stream("sandbox");
    let version = app.store.read_stream(&stream, 0, usize::MAX).await?.len() as u64;
    app.append_settings(
        &stream,
        ExpectedVersion::after(version),
        &[RegistrarAdded { config }.into()],
        admin.clone(),
        now,
    )
    .await?;
    let price = Money::parse("12.99", Currency::USD)?;
    let renew_price = Money::parse("11.00", Currency::USD)?;
    for tld in tlds {
        let events: Vec<SettingsEvent> = vec![
            TldAssigned {
                tld: tld.to_string(),
                registrar: "sandbox".into(),
            }
            .into(),
            PriceSet {
                tld: tld.to_string(),
                kind: PriceKind::Register,
                years: Some(Period::ONE_YEAR),
                price,
            }
            .into(),
            PriceSet {
                tld: tld.to_string(),
                kind: PriceKind::Renew,
                years: Some(Period::ONE_YEAR),
                price: renew_price,
            }
            .into(),
        ];
        app.append_settings(
            &tld_stream(tld),
            ExpectedVersion::Any,
            &events,
            admin.clone(),
            now,
        )
        .await?;
    }
    let policy = PolicySet {
        tld: "de".into(),
        transfer: false,
        policy: AsyncPolicy {
            poll_every_secs: de_poll_secs,
            timeout_secs: de_poll_secs * 50,
        },
    };
    app.append_settings(
        &tld_stream("de"),
        ExpectedVersion::Any,
        &[policy.into()],
        admin,
        now,
    )
    .await?;
    Ok(())
}

/// The sandbox the demo and the benchmarks talk to.
pub async fn start_sandbox() -> anyhow::Result<Sandbox> {
    let mut config = SandboxConfig::new("127.0.0.1:0".parse()?, "demo", DEMO_KEY);
    config.balance_cents = 100_000_000;
    Ok(Sandbox::start(config).await?)
}

/// Runs the demo in `data_dir` (which should be empty) and prints what happens.
/// Walks the demo; with `api`, keeps the engine, the sandbox and the admin API running
/// afterwards until Ctrl-C.
pub async fn run(data_dir: &Path, api: Option<crate::serve::Api>) -> anyhow::Result<()> {
    let sandbox =
        Sandbox::start(SandboxConfig::new("127.0.0.1:0".parse()?, "demo", DEMO_KEY)).await?;
    println!(
        "1. OpenSRS sandbox listening on http://{} (reseller `demo`)",
        sandbox.addr
    );
    let mut app = App::connect(data_dir).await?;
    configure(&mut app, sandbox.addr.port(), &["com", "de"], 2).await?;
    let admin = Actor::Admin("demo".into());
    let now = app.clock.now();
    let usd = |s| Money::parse(s, Currency::USD);
    let alice = AccountId::parse("alice")?;
    let credit = AccountCredited {
        account: alice.clone(),
        amount: usd("50.00")?,
        note: "demo payment".into(),
    };
    let contacts = AccountContactsSet {
        account: alice.clone(),
        contacts: Box::new(demo_contacts()),
    };
    app.append_settings(
        &account_stream(&alice),
        ExpectedVersion::Any,
        &[credit.into(), contacts.into()],
        admin,
        now,
    )
    .await?;
    println!("2. Settings: connection `sandbox`, .com and .de at 12.99 USD (renewals 11.00 USD), .de polled every 2 s; alice credited 50.00 USD, her contacts stored");

    let mut orders = Vec::new();
    for domain in ["ada-lovelace.com", "ada-lovelace.de"] {
        let req = OrderRequest {
            domain: domain.into(),
            account: "alice".into(),
            kind: OrderKind::Register,
            years: 1,
            contacts: Some(demo_contacts()),
            nameservers: vec![],
            auth_code: None,
            order_id: None,
        };
        let at = app.clock.now();
        let placed = place_order(&mut app, req, Actor::Customer(alice.clone()), at).await?;
        println!(
            "3. Ordered {domain}: order {}, {} charged",
            placed.order_id, placed.price
        );
        orders.push((DomainName::parse(domain)?, placed.order_id));
    }

    println!("4. The engine runs:");
    let lock = crate::lock::DataDirLock::acquire(data_dir)?;
    let mut engine =
        Engine::new(App::connect(data_dir).await?, SystemClock).with_exclusive_lock(&lock);
    let mut shown: Option<Position> = engine
        .app
        .store
        .read_all(None, usize::MAX)
        .await?
        .last()
        .map(|e| e.position);
    let give_up = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        engine.run_once().await?;
        for e in engine.app.store.read_all(shown, 1_000).await? {
            shown = Some(e.position);
            if let Ok(event) = e.decode_domain() {
                let detail = match &event {
                    DomainEvent::UnknownStatus(u) => format!(
                        " ({:?}: {})",
                        u.reason,
                        u.answer.as_ref().map(|a| a.text.as_str()).unwrap_or("")
                    ),
                    DomainEvent::Polled(p) => match &p.result {
                        PollResult::StillPending { answer } => {
                            format!(" (still pending: {})", answer.text)
                        }
                        PollResult::TransientError { message } => {
                            format!(" (transient error: {message})")
                        }
                    },
                    DomainEvent::Confirmed(c) => {
                        format!(" (expires {})", c.expires_at.format("%Y-%m-%d"))
                    }
                    _ => String::new(),
                };
                println!(
                    "   {} {:<14} {}{detail}",
                    e.metadata.at.format("%H:%M:%S"),
                    e.event_type,
                    e.stream.trim_start_matches("domain-")
                );
            }
        }
        let mut open = 0;
        for (name, id) in &orders {
            let state = crate::engine::steps::load(&engine.app.store, name).await?;
            open += usize::from(state.orders.get(id).is_some_and(|o| o.is_open()));
        }
        if open == 0 {
            break;
        }
        if tokio::time::Instant::now() > give_up {
            anyhow::bail!("the demo orders did not end within a minute");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    engine.app.catch_up().await?;
    println!("5. Domains:");
    for d in engine.app.models.domains(None, 10)? {
        println!(
            "   {:<20} {:<10} expires {}",
            d.name,
            d.status,
            d.expires_at
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_default()
        );
    }
    println!("6. Ledger of alice:");
    for e in engine.app.models.ledger(Some("alice"), 100)? {
        println!(
            "   {:<7} {:>10} balance {:>10}  {}",
            e.kind,
            e.amount.to_string(),
            e.balance_after.to_string(),
            e.domain.unwrap_or_default()
        );
    }
    let counters = sandbox.with_state(|s| s.counters.sw_register_by_domain.clone());
    println!(
        "7. The sandbox received {} SW_REGISTER calls for {} orders.",
        counters.values().sum::<u32>(),
        orders.len()
    );
    let Some(api) = api else {
        return Ok(());
    };
    if let Some(addr) = api.addr() {
        println!("8. The admin API is on http://{addr}/api/v1 (docs/admin-api.md); for example:");
        println!(
            "   curl -H \"Authorization: Bearer $DOMREG_API_TOKEN\" http://{addr}/api/v1/ledger"
        );
        println!(
            "   The admin pages are at http://localhost:{}/admin (sign in with the same token).",
            addr.port()
        );
        println!("   The engine and the sandbox keep running; Ctrl-C stops them.");
    }
    let engine = Engine::new(App::connect(data_dir).await?, SystemClock).with_exclusive_lock(&lock);
    crate::serve::run(
        data_dir,
        engine,
        Some(api),
        Duration::from_secs(1),
        false,
        None,
    )
    .await
}

/// Lets every account owe up to `amount` USD (the benchmarks' and tests' worlds order
/// without paying in first).
pub async fn allow_debt(app: &mut App, amount: &str) -> anyhow::Result<()> {
    let limit = CreditLimitSet {
        account: None,
        limit: Money::parse(amount, Currency::USD)?,
    };
    let now = app.clock.now();
    app.append_settings(
        ACCOUNTS_STREAM,
        ExpectedVersion::Any,
        &[limit.into()],
        Actor::Admin("demo".into()),
        now,
    )
    .await?;
    Ok(())
}

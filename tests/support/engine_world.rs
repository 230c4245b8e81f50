//! The world engine tests share: a sandbox on loopback, a data directory connected to it
//! through the CLI (connection `main`, .com and .de), a manual clock, and helpers.

#![allow(dead_code)] // each test binary uses a part

use chrono::{TimeZone, Utc};
use domreg::app::App;
use domreg::clock::{Clock, ManualClock};
use domreg::engine::place::{place_order, OrderRequest};
use domreg::engine::{steps, Engine};
use domreg::opensrs::sandbox::{Sandbox, SandboxConfig};
use domreg_events::*;

use super::support_cli;
use super::support_contacts;

#[path = "postgres.rs"]
mod pg;

pub const KEY: &str = "engine-test-key-0123456789";

pub fn contacts() -> ContactSet {
    support_contacts::owen("")
}

pub struct World {
    /// With `DOMREG_TEST_STORE=postgres`: the throw-away cluster holding this world's log.
    pub _pg: Option<pg::Postgres>,
    pub _dir: tempfile::TempDir,
    pub dir: std::path::PathBuf,
    pub sandbox: Sandbox,
    pub clock: ManualClock,
}

/// The data directory's app on its log (its `store.url`, as the CLI's processes use it).
pub fn open_app(dir: &std::path::Path) -> App {
    tokio::task::block_in_place(|| {
        tokio::runtime::Handle::current()
            .block_on(App::connect(dir))
            .unwrap()
    })
}

/// `DOMREG_TEST_STORE=postgres` runs the engine tests on a PostgreSQL log.
fn on_postgres() -> bool {
    std::env::var("DOMREG_TEST_STORE").is_ok_and(|s| s == "postgres")
}

pub fn cli(dir: &std::path::Path, args: &[&str]) {
    support_cli::domreg_ok(dir, args);
}

pub async fn world() -> World {
    let sandbox = Sandbox::start(SandboxConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        "reseller",
        KEY,
    ))
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let pg = on_postgres()
        .then(|| tokio::task::block_in_place(|| pg::start("engine test")))
        .flatten();
    if on_postgres() && pg.is_none() {
        panic!("DOMREG_TEST_STORE=postgres but PostgreSQL cannot be started here");
    }
    if let Some(pg) = &pg {
        cli(&d, &["store", "use", &pg.url]);
    }
    tokio::task::block_in_place(|| {
        support_cli::connect_sandbox(&d, sandbox.addr.port(), KEY, &["com", "de"]);
        for tld in ["com", "de"] {
            cli(
                &d,
                &[
                    "price", "set", tld, "--kind", "transfer", "--amount", "9.99",
                ],
            );
            cli(
                &d,
                &[
                    "price", "set", tld, "--kind", "renew", "--years", "1", "--amount", "11.00",
                ],
            );
        }
    });
    // The registry's clock starts beside the engine's, so expiry dates agree on any day.
    let start = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
    sandbox.with_state(|s| s.set_now(start));
    World {
        _pg: pg,
        _dir: dir,
        dir: d,
        sandbox,
        clock: ManualClock::new(start),
    }
}

impl World {
    pub fn clock_now(&self) -> chrono::DateTime<Utc> {
        self.clock.now()
    }

    pub fn engine(&self) -> Engine<ManualClock> {
        Engine::new(open_app(&self.dir), self.clock.clone())
    }

    pub async fn order(&self, domain: &str, kind: OrderKind) -> OrderId {
        let mut app = open_app(&self.dir);
        let req = OrderRequest {
            domain: domain.into(),
            account: "alice".into(),
            kind,
            years: 1,
            contacts: Some(contacts()),
            nameservers: vec![],
            auth_code: (kind == OrderKind::Transfer)
                .then(|| domreg::opensrs::Secret::new("EPP-123")),
            order_id: None,
        };
        place_order(
            &mut app,
            req,
            Actor::Customer(AccountId::parse("alice").unwrap()),
            self.clock.now(),
        )
        .await
        .unwrap()
        .order_id
    }

    pub async fn state(&self, domain: &str) -> Domain {
        let app = open_app(&self.dir);
        steps::load(&app.store, &DomainName::parse(domain).unwrap())
            .await
            .unwrap()
    }

    pub fn registers(&self, domain: &str) -> u32 {
        self.sandbox.with_state(|s| {
            s.counters
                .sw_register_by_domain
                .get(domain)
                .copied()
                .unwrap_or(0)
        })
    }
}

pub fn end(state: &Domain, order: OrderId) -> (Option<End>, Option<Money>, Option<Money>) {
    let o = &state.orders[&order];
    (o.end(), o.charged, o.refunded)
}

pub const FEE: Money = Money::new(1299, Currency::USD);

impl World {
    /// Moves the engine's clock and the sandbox's together.
    pub fn advance(&self, by: chrono::Duration) {
        self.clock.advance(by);
        self.sandbox
            .with_state(|s| s.clock_offset_secs += by.num_seconds());
    }
}

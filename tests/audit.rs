//! `domreg audit`: a disputed order's whole story from the log, and the state as of a
//! moment in the middle of it.

#[path = "support/cli.rs"]
mod support_cli;
#[path = "support/contacts.rs"]
mod support_contacts;

use chrono::{Duration, TimeZone, Utc};
use domreg::app::App;
use domreg::clock::{Clock, ManualClock};
use domreg::engine::place::{place_order, OrderRequest};
use domreg::engine::Engine;
use domreg::opensrs::sandbox::{Sandbox, SandboxConfig};
use domreg_events::*;
use support_cli::{domreg_err, domreg_ok};

const KEY: &str = "audit-test-key-0123456789";

/// A .de order charged at 09:00, pending, polled hourly, timed out after 50 h and
/// refunded; the account paid 100.00 USD before.
async fn disputed_order() -> (tempfile::TempDir, OrderId) {
    let sandbox = Sandbox::start(SandboxConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        "reseller",
        KEY,
    ))
    .await
    .unwrap();
    sandbox.with_state(|s| s.settings.async_polls = Some(10_000));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    tokio::task::block_in_place(|| {
        support_cli::connect_sandbox(&d, sandbox.addr.port(), KEY, &["de"]);
        domreg_ok(
            &d,
            &[
                "account",
                "credit",
                "alice",
                "100.00",
                "--note",
                "invoice 7",
            ],
        );
    });
    // The dispute lies in the future of the credit above (recorded at the real time), so
    // the moments below never fall before it, whatever day the test runs.
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2031, 12, 1, 9, 0, 0).unwrap());
    let mut app = App::open(&d).unwrap();
    let order = place_order(
        &mut app,
        OrderRequest {
            domain: "streit.de".into(),
            account: "alice".into(),
            kind: OrderKind::Register,
            years: 1,
            contacts: Some(support_contacts::owen("")),
            nameservers: vec![],
            auth_code: None,
            order_id: None,
        },
        Actor::Customer(AccountId::parse("alice").unwrap()),
        clock.now(),
    )
    .await
    .unwrap()
    .order_id;
    let mut engine = Engine::new(App::open(&d).unwrap(), clock.clone());
    engine.run_once().await.unwrap();
    for _ in 0..51 {
        clock.advance(Duration::hours(1));
        engine.run_once().await.unwrap();
    }
    (dir, order)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disputed_order_reads_as_its_whole_story() {
    let (dir, order) = disputed_order().await;
    let d = dir.path();
    let text = tokio::task::block_in_place(|| domreg_ok(d, &["audit", "streit.de"]));
    if std::env::var_os("AUDIT_PEEK").is_some() {
        println!("{text}");
    }
    for needle in [
        "Audit of domain streit.de (complete history)",
        "2031-12-01 09:00:00 UTC  customer alice",
        "register of streit.de for 1 year ordered by account alice at 12.99 USD",
        "account alice charged 12.99 USD",
        "money: -12.99 USD on account alice; balance after: 87.01 USD",
        "sent to OpenSRS (connection main)",
        "pending (the registry answers later)",
        "OpenSRS answered: 200",
        "polled: still pending",
        "timed out: not completed by the deadline 2031-12-03 11:00 UTC",
        "12.99 USD refunded to account alice",
        "money: 12.99 USD on account alice; balance after: 100.00 USD",
        "engine ",
        "correlation ",
        &format!("order {order} (register for account alice): timed_out; charged 12.99 USD, refunded 12.99 USD"),
        "Balance now:\n  alice                100.00 USD",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }

    // In the middle: pending, charged, not refunded.
    let middle = tokio::task::block_in_place(|| {
        domreg_ok(d, &["audit", "streit.de", "--at", "2031-12-01 12:30"])
    });
    assert!(middle.contains("as of 2031-12-01 12:30:00 UTC"), "{middle}");
    assert!(
        middle.contains(&format!(
            "order {order} (register for account alice): pending, 3 polls"
        )),
        "{middle}"
    );
    assert!(
        middle.contains("charged 12.99 USD, not refunded"),
        "{middle}"
    );
    assert!(
        middle.contains("  alice                87.01 USD"),
        "{middle}"
    );
    assert!(!middle.contains("refunded to account"), "{middle}");

    // JSON for tools: the same facts, machine-readable.
    let json: serde_json::Value = serde_json::from_str(&tokio::task::block_in_place(|| {
        domreg_ok(
            d,
            &[
                "audit",
                "streit.de",
                "--order",
                &order.to_string(),
                "--json",
            ],
        )
    }))
    .unwrap();
    let entries = json["entries"].as_array().unwrap();
    assert_eq!(entries[0]["event_type"], "Requested");
    assert_eq!(
        entries[0]["actor"],
        serde_json::json!({"kind": "customer", "id": "alice"})
    );
    let last = entries.last().unwrap();
    assert_eq!(last["event_type"], "Refunded");
    assert_eq!(last["money"]["amount"]["minor"], 1299);
    assert_eq!(last["money"]["balance_after"]["minor"], 10_000);
    assert_eq!(json["state"]["orders"][0]["state"], "timed_out");
    let polls = entries
        .iter()
        .filter(|e| e["event_type"] == "Polled")
        .count();
    assert_eq!(polls, 50);
    assert!(entries
        .iter()
        .filter(|e| e["event_type"] == "Polled")
        .all(|e| e["registrar_answer"]["code"].is_u64()));

    // The account's ledger, with running balances and a window.
    let account = tokio::task::block_in_place(|| domreg_ok(d, &["audit", "--account", "alice"]));
    for needle in [
        "Opening balance: none",
        "payment of 100.00 USD received from account alice (invoice 7)",
        "balance after: 87.01 USD",
        "balance after: 100.00 USD",
    ] {
        assert!(
            account.contains(needle),
            "missing {needle:?} in:\n{account}"
        );
    }
    let window = tokio::task::block_in_place(|| {
        domreg_ok(
            d,
            &[
                "audit",
                "--account",
                "alice",
                "--from",
                "2031-12-02",
                "--json",
            ],
        )
    });
    let window: serde_json::Value = serde_json::from_str(&window).unwrap();
    assert_eq!(window["opening_balances"][0]["balance"]["minor"], 8701);
    assert_eq!(
        window["entries"].as_array().unwrap().len(),
        1,
        "only the refund"
    );

    // Clear errors.
    let err = tokio::task::block_in_place(|| {
        domreg_err(
            d,
            &[
                "audit",
                "streit.de",
                "--order",
                "0190aaaa-0000-7000-8000-000000000000",
            ],
        )
    });
    assert!(err.contains("streit.de has no order"), "{err}");
    let err =
        tokio::task::block_in_place(|| domreg_err(d, &["audit", "streit.de", "--at", "soon"]));
    assert!(err.contains("is not a time"), "{err}");
    let err = tokio::task::block_in_place(|| domreg_err(d, &["audit"]));
    assert!(err.contains("required"), "{err}");
}

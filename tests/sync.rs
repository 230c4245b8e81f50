//! `domreg sync` against the sandbox: the account at OpenSRS changed behind the engine's
//! back, and each kind of difference is found and recorded as a fact, once.

#[path = "support/cli.rs"]
mod support_cli;
#[path = "support/contacts.rs"]
mod support_contacts;
#[path = "support/engine_world.rs"]
mod world;

use chrono::Duration;
use domreg::opensrs::sandbox::state::DomainRecord;
use domreg_events::*;
use serde_json::Value;
use support_cli::names;
use world::*;

fn sync(w: &World, extra: &[&str]) -> Value {
    let mut args = vec!["sync", "--json"];
    args.extend(extra);
    let out = tokio::task::block_in_place(|| support_cli::domreg_ok(&w.dir, &args));
    serde_json::from_str::<Value>(&out).unwrap()[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_gone_unknown_and_late_completions_are_found_and_recorded_once() {
    let w = world().await;
    let mut engine = w.engine().with_event_feed(None);
    w.order("drift.com", OrderKind::Register).await;
    w.order("gone.com", OrderKind::Register).await;
    w.order("away.com", OrderKind::Register).await;
    let late = w.order("decline-late.de", OrderKind::Register).await;
    engine.run_once().await.unwrap();
    for _ in 0..8 {
        w.advance(Duration::hours(2));
        engine.run_once().await.unwrap();
    }
    let s = w.state("decline-late.de").await;
    assert_eq!(s.orders[&late].end(), Some(End::Rejected));
    assert!(s.orders[&late].refunded.is_some());
    // Behind the engine's back: renewed elsewhere, transferred away, registered by hand,
    // and the refused registration went through after all.
    let drifted = w.sandbox.with_state(|s| {
        let d = s.domains.get_mut("drift.com").unwrap();
        d.expires = domreg_events::calendar::years_later(d.expires, 1);
        let expires = d.expires;
        s.domains.remove("gone.com");
        s.domains.get_mut("away.com").unwrap().owner = "(other registrar)".into();
        s.transfers_away
            .push(domreg::opensrs::sandbox::state::TransferredAway {
                domain: "away.com".into(),
                reseller: "reseller".into(),
                gaining_registrar: "Elsewhere Ltd".into(),
                completed: expires,
            });
        let record = |owner: &str| DomainRecord {
            owner: owner.into(),
            created: expires,
            expires,
            auto_renew: false,
            transferable: true,
            nameservers: vec![],
            renewed_from_year: None,
        };
        s.domains.insert("unknown.com".into(), record("reseller"));
        s.domains
            .insert("decline-late.de".into(), record("reseller"));
        expires
    });

    let dry = sync(&w, &["--dry-run"]);
    assert_eq!(dry["recorded"], 0);
    assert_eq!(names(&dry, "drift"), ["drift.com"]);
    let report = sync(&w, &[]);
    assert_eq!(names(&report, "drift"), ["drift.com"], "{report}");
    assert_eq!(names(&report, "gone"), ["away.com", "gone.com"], "{report}");
    let why: Vec<&str> = report["gone"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["answer"].as_str().unwrap())
        .collect();
    assert!(
        why[0].starts_with("transferred away to Elsewhere Ltd"),
        "{why:?}"
    );
    assert!(why[1].starts_with("deleted or expired"), "{why:?}");
    assert_eq!(names(&report, "unknown"), ["unknown.com"], "{report}");
    assert_eq!(
        names(&report, "late_completions"),
        ["decline-late.de"],
        "{report}"
    );
    assert_eq!(report["recorded"], 3);

    // The registry's date, as OpenSRS writes it (whole seconds).
    let recorded = w.state("drift.com").await.expires_at.unwrap();
    assert_eq!(recorded.timestamp(), drifted.timestamp());
    let gone = w.state("gone.com").await;
    assert!(gone.gone.is_some(), "{gone:?}");
    let domains =
        tokio::task::block_in_place(|| support_cli::domreg_ok(&w.dir, &["domains", "--json"]));
    assert!(domains.contains(r#""status":"gone""#), "{domains}");

    // Recorded once: a second sync finds the late completion again, records nothing.
    let again = sync(&w, &[]);
    assert_eq!(again["recorded"], 0, "{again}");
    assert!(names(&again, "drift").is_empty() && names(&again, "gone").is_empty());
    assert_eq!(names(&again, "late_completions"), ["decline-late.de"]);

    // The admin's choice: charge the customer again. Recorded once, charged once.
    let order = late.to_string();
    let charged = tokio::task::block_in_place(|| {
        support_cli::domreg_ok(&w.dir, &["late", &order, "--charge-again", "--json"])
    });
    assert!(charged.contains("charge_again"), "{charged}");
    let s = w.state("decline-late.de").await;
    assert_eq!(s.holder, Some(s.orders[&late].account.clone()));
    let twice = tokio::task::block_in_place(|| {
        support_cli::domreg_err(&w.dir, &["late", &order, "--let-go"])
    });
    assert!(twice.contains("already made"), "{twice}");
    let ledger =
        tokio::task::block_in_place(|| support_cli::domreg_ok(&w.dir, &["ledger", "--json"]));
    assert!(
        ledger.contains("late completion: charged again"),
        "{ledger}"
    );
    let after = sync(&w, &[]);
    assert!(names(&after, "late_completions").is_empty(), "{after}");
    assert!(names(&after, "unknown") == ["unknown.com"], "{after}");
}

//! The engine end to end: orders placed in the log, the engine driving the sandbox over
//! loopback HTTP, a controlled clock for the slow registries.

#[path = "support/cli.rs"]
mod support_cli;
#[path = "support/contacts.rs"]
mod support_contacts;
#[path = "support/engine_world.rs"]
mod world;

use world::*;

use chrono::Duration;
use domreg::clock::Clock;
use domreg::engine::steps;
use domreg::opensrs::sandbox::faults::{Fault, FaultRule};
use domreg::store::{EventStore, ExpectedVersion, NewEvent};
use domreg_events::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synchronous_registration_is_confirmed_in_one_round() {
    let w = world().await;
    let order = w.order("sync-example.com", OrderKind::Register).await;
    let mut engine = w.engine();
    let round = engine.run_once().await.unwrap();
    assert_eq!(round.submitted, 1, "{round:?}");
    let s = w.state("sync-example.com").await;
    assert_eq!(end(&s, order), (Some(End::Confirmed), Some(FEE), None));
    assert!(
        s.expires_at.unwrap() > w.clock.now() + Duration::days(360),
        "expiry from BELONGS_TO_RSP"
    );
    assert_eq!(w.registers("sync-example.com"), 1);
    // Nothing more to do, however often the engine runs.
    assert!(!engine.run_once().await.unwrap().did_anything());
    assert_eq!(w.registers("sync-example.com"), 1);
    let balances = engine.app.models.balances().unwrap();
    assert_eq!(balances[0].balance, Money::new(-1299, Currency::USD));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_asynchronous_registration_completes_after_hourly_polls() {
    let w = world().await;
    let order = w.order("langsam.de", OrderKind::Register).await;
    let mut engine = w.engine();
    engine.run_once().await.unwrap();
    let s = w.state("langsam.de").await;
    assert_eq!(s.orders[&order].stage, Stage::Pending);
    assert_eq!(
        s.orders[&order].deadline,
        Some(w.clock.now() + Duration::hours(50)),
        ".de waits 50 h"
    );
    // Not due yet: nothing happens.
    assert!(!engine.run_once().await.unwrap().did_anything());
    for poll in 1..=3 {
        w.clock.advance(Duration::hours(1));
        let round = engine.run_once().await.unwrap();
        assert_eq!(round.polled, 1, "poll {poll}: {round:?}");
    }
    let s = w.state("langsam.de").await;
    assert_eq!(end(&s, order), (Some(End::Confirmed), Some(FEE), None));
    assert_eq!(
        s.orders[&order].polls, 2,
        "two polls said 'not yet', the third confirmed"
    );
    assert_eq!(w.registers("langsam.de"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_that_never_completes_times_out_and_is_refunded() {
    let w = world().await;
    w.sandbox
        .with_state(|s| s.settings.async_polls = Some(10_000));
    let order = w.order("niemals.de", OrderKind::Register).await;
    let mut engine = w.engine();
    engine.run_once().await.unwrap();
    for _ in 0..60 {
        w.clock.advance(Duration::hours(1));
        engine.run_once().await.unwrap();
    }
    let s = w.state("niemals.de").await;
    assert_eq!(end(&s, order), (Some(End::TimedOut), Some(FEE), Some(FEE)));
    assert_eq!(s.orders[&order].polls, 50);
    assert_eq!(engine.app.models.balances().unwrap()[0].balance.minor, 0);
    assert_eq!(engine.app.models.pending_count().unwrap(), 0);
    // Cancelled at OpenSRS before the refund: the registry cannot complete it later.
    let (cancels, registered) = w.sandbox.with_state(|s| {
        (
            s.counters
                .calls
                .get("PROCESS_PENDING")
                .copied()
                .unwrap_or(0),
            s.domains.contains_key("niemals.de"),
        )
    });
    assert_eq!((cancels, registered), (1, false));
    w.sandbox.with_state(|s| s.settings.async_polls = Some(1));
    w.clock.advance(Duration::hours(5));
    engine.run_once().await.unwrap();
    assert!(!w
        .sandbox
        .with_state(|s| s.domains.contains_key("niemals.de")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejections_are_refunded() {
    let w = world().await;
    let taken = w.order("taken-name.com", OrderKind::Register).await;
    let invalid = w.order("invalid-data.com", OrderKind::Register).await;
    let mut engine = w.engine();
    assert_eq!(engine.run_once().await.unwrap().submitted, 2);
    let t = w.state("taken-name.com").await;
    assert_eq!(end(&t, taken), (Some(End::Rejected), Some(FEE), Some(FEE)));
    assert_eq!(
        t.orders[&taken].last_answer.as_ref().unwrap().code,
        Some(485)
    );
    let s = w.state("invalid-data.com").await;
    assert_eq!(
        end(&s, invalid),
        (Some(End::Rejected), Some(FEE), Some(FEE))
    );
    assert_eq!(
        s.orders[&invalid].last_answer.as_ref().unwrap().code,
        Some(465)
    );
    w.sandbox
        .with_state(|s| s.balances_cents.insert("reseller".into(), 0));
    let poor = w.order("poor-reseller.com", OrderKind::Register).await;
    assert_eq!(engine.run_once().await.unwrap().submitted, 1);
    let p = w.state("poor-reseller.com").await;
    assert_eq!(end(&p, poor), (Some(End::Rejected), Some(FEE), Some(FEE)));
    assert_eq!(
        p.orders[&poor].last_answer.as_ref().unwrap().code,
        Some(440)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_reply_is_resolved_by_polling_never_by_resending() {
    let w = world().await;
    w.sandbox.with_state(|s| {
        s.faults = vec![FaultRule {
            command: Some("SW_REGISTER".into()),
            fault: Fault::PerformThenDrop,
            percent: 100,
            times: Some(1),
        }]
    });
    let order = w.order("lost-reply.com", OrderKind::Register).await;
    let mut engine = w.engine();
    engine.run_once().await.unwrap();
    let s = w.state("lost-reply.com").await;
    assert_eq!(s.orders[&order].stage, Stage::Pending);
    w.clock.advance(Duration::hours(1));
    engine.run_once().await.unwrap();
    assert_eq!(
        end(&w.state("lost-reply.com").await, order),
        (Some(End::Confirmed), Some(FEE), None)
    );
    assert_eq!(w.registers("lost-reply.com"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_submitted_is_recovered_and_sent_once_only_when_opensrs_has_no_trace() {
    let w = world().await;
    let order = w.order("crashed.com", OrderKind::Register).await;
    // The engine wrote Submitted and died before (or during) the call.
    let app = open_app(&w.dir);
    let name = DomainName::parse("crashed.com").unwrap();
    let state = steps::load(&app.store, &name).await.unwrap();
    let events = decide(
        &state,
        Command::RecordSubmission {
            order_id: order,
            lease: None,
        },
        w.clock.now(),
    )
    .unwrap();
    let new = events
        .iter()
        .map(|e| {
            NewEvent::domain(
                e,
                EventMetadata::new(Actor::Engine, uuid::Uuid::now_v7(), w.clock.now()),
            )
        })
        .collect();
    app.store
        .append(
            &domain_stream(&name),
            ExpectedVersion::after(state.version),
            new,
        )
        .await
        .unwrap();
    let mut engine = w.engine();
    let round = engine.run_once().await.unwrap();
    assert_eq!(round.recovered, 1, "{round:?}");
    assert_eq!(
        w.state("crashed.com").await.orders[&order].stage,
        Stage::Pending
    );
    for _ in 0..50 {
        w.clock.advance(Duration::hours(1));
        engine.run_once().await.unwrap();
    }
    // Never sent blind: only after its whole wait, with no order at OpenSRS and the name
    // still available, was it sent (once) instead of refunded.
    assert_eq!(
        end(&w.state("crashed.com").await, order),
        (Some(End::Confirmed), Some(FEE), None)
    );
    assert_eq!(w.registers("crashed.com"), 1, "OpenSRS received it once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_engines_on_one_log_submit_each_order_once() {
    let w = world().await;
    let mut orders = Vec::new();
    for i in 0..20 {
        orders.push((
            format!("twin-{i}.com"),
            w.order(&format!("twin-{i}.com"), OrderKind::Register).await,
        ));
    }
    let (mut a, mut b) = (w.engine(), w.engine());
    let (ra, rb) = tokio::join!(a.run_once(), b.run_once());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.submitted + rb.submitted, 20, "{ra:?} {rb:?}");
    for (domain, order) in &orders {
        let s = w.state(domain).await;
        assert_eq!(end(&s, *order).0, Some(End::Confirmed), "{domain}");
        assert_eq!(w.registers(domain), 1, "{domain}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_completes_and_a_refused_one_is_refunded() {
    let w = world().await;
    w.sandbox
        .with_state(|s| s.settings.declined.push("taken-refused.com".into()));
    let moving = w.order("taken-moving.com", OrderKind::Transfer).await;
    let refused = w.order("taken-refused.com", OrderKind::Transfer).await;
    let mut engine = w.engine();
    assert_eq!(engine.run_once().await.unwrap().submitted, 2);
    let s = w.state("taken-moving.com").await;
    assert_eq!(s.orders[&moving].stage, Stage::Pending);
    assert_eq!(
        s.orders[&moving].deadline,
        Some(w.clock.now() + Duration::hours(168)),
        "transfers wait 168 h"
    );
    for _ in 0..4 {
        w.advance(Duration::hours(1));
        engine.run_once().await.unwrap();
    }
    let s = w.state("taken-moving.com").await;
    assert_eq!(
        end(&s, moving),
        (
            Some(End::Confirmed),
            Some(Money::new(999, Currency::USD)),
            None
        )
    );
    assert_eq!(s.holder, Some(AccountId::parse("alice").unwrap()));
    let r = w.state("taken-refused.com").await;
    assert_eq!(end(&r, refused).0, Some(End::Rejected));
    assert_eq!(
        r.orders[&refused].refunded,
        Some(Money::new(999, Currency::USD))
    );
    assert!(r.orders[&refused]
        .last_answer
        .as_ref()
        .unwrap()
        .text
        .contains("transfer cancelled"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_renewal_extends_the_expiry_once() {
    let w = world().await;
    w.order("renew-me.com", OrderKind::Register).await;
    let mut engine = w.engine();
    engine.run_once().await.unwrap();
    let before = w.state("renew-me.com").await.expires_at.unwrap();
    let renewal = w.order("renew-me.com", OrderKind::Renew).await;
    assert_eq!(engine.run_once().await.unwrap().submitted, 1);
    let s = w.state("renew-me.com").await;
    assert_eq!(
        end(&s, renewal),
        (
            Some(End::Confirmed),
            Some(Money::new(1100, Currency::USD)),
            None
        )
    );
    let after = s.expires_at.unwrap();
    assert!(
        after > before + Duration::days(364) && after < before + Duration::days(367),
        "{before} -> {after}"
    );
    w.sandbox
        .with_state(|st| assert_eq!(st.counters.renew_by_domain["renew-me.com"], 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_continues_through_transient_faults() {
    let w = world().await;
    let order = w.order("wackelig.de", OrderKind::Register).await;
    let mut engine = w.engine();
    engine.run_once().await.unwrap();
    // Every BELONGS_TO_RSP fails for the next poll (the client tries three times).
    w.sandbox.with_state(|s| {
        s.faults = vec![FaultRule {
            command: Some("BELONGS_TO_RSP".into()),
            fault: Fault::Http500,
            percent: 100,
            times: Some(3),
        }]
    });
    w.advance(Duration::hours(1));
    assert_eq!(engine.run_once().await.unwrap().polled, 1);
    let s = w.state("wackelig.de").await;
    assert_eq!(
        s.orders[&order].stage,
        Stage::Pending,
        "a transient error keeps the order pending"
    );
    let app = open_app(&w.dir);
    let log: Vec<String> = app
        .store
        .read_stream("domain-wackelig.de", 0, 100)
        .await
        .unwrap()
        .iter()
        .map(|e| String::from_utf8_lossy(&e.data).into_owned())
        .collect();
    assert!(
        log.iter()
            .any(|d| d.contains("transient_error") && d.contains("500")),
        "{log:?}"
    );
    for _ in 0..3 {
        w.advance(Duration::hours(1));
        engine.run_once().await.unwrap();
    }
    assert_eq!(
        end(&w.state("wackelig.de").await, order).0,
        Some(End::Confirmed)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_and_overlapping_rounds_change_nothing_twice() {
    let w = world().await;
    let mut orders = Vec::new();
    for i in 0..6 {
        let d = format!("dup-{i}.{}", if i % 2 == 0 { "com" } else { "de" });
        orders.push((d.clone(), w.order(&d, OrderKind::Register).await));
    }
    let (mut a, mut b) = (w.engine(), w.engine());
    for _ in 0..6 {
        let (ra, rb) = tokio::join!(a.run_once(), b.run_once());
        assert!(ra.unwrap().errors.is_empty() && rb.unwrap().errors.is_empty());
        w.advance(Duration::hours(1));
    }
    for (d, o) in &orders {
        let s = w.state(d).await;
        assert_eq!(end(&s, *o).0, Some(End::Confirmed), "{d}");
        assert_eq!(w.registers(d), 1, "{d}");
        let submitted = s.orders[o].polls;
        assert!(submitted <= 2, "{d}: {submitted} polls");
    }
    let app = open_app(&w.dir);
    for (d, _) in &orders {
        let events = app
            .store
            .read_stream(&format!("domain-{d}"), 0, 100)
            .await
            .unwrap();
        let count = |t: &str| events.iter().filter(|e| e.event_type == t).count();
        assert_eq!(
            (count("Submitted"), count("Confirmed"), count("Charged")),
            (1, 1, 1),
            "{d}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_warning_and_one_automatic_renewal_per_expiry_date() {
    let w = world().await;
    w.order("keep-me.com", OrderKind::Register).await;
    let mut engine = w.engine();
    engine.run_once().await.unwrap();
    let s = w.state("keep-me.com").await;
    assert!(
        s.auto_renew,
        "the connection's auto-renew default applies to new domains"
    );
    let expiry = s.expires_at.unwrap();
    let count = |s: &Domain| {
        (
            s.warned_for.len(),
            s.orders
                .values()
                .filter(|o| o.kind == OrderKind::Renew)
                .count(),
        )
    };

    // A day before the warning window: nothing.
    let to_window = (expiry - Duration::days(31)) - w.clock.now();
    w.advance(to_window);
    engine.run_once().await.unwrap();
    assert_eq!(count(&w.state("keep-me.com").await), (0, 0));
    // Inside the warning window (30 days), for three days: one warning.
    for _ in 0..3 {
        w.advance(Duration::days(1));
        engine.run_once().await.unwrap();
        engine.run_once().await.unwrap();
    }
    assert_eq!(count(&w.state("keep-me.com").await), (1, 0));
    // Inside the renew window (14 days): one renewal order, submitted and confirmed.
    w.advance(Duration::days(16));
    engine.run_once().await.unwrap();
    engine.run_once().await.unwrap();
    let s = w.state("keep-me.com").await;
    assert_eq!(count(&s), (1, 1));
    let renewal = s
        .orders
        .values()
        .find(|o| o.kind == OrderKind::Renew)
        .unwrap();
    assert_eq!(renewal.end(), Some(End::Confirmed));
    assert_eq!(renewal.account, AccountId::parse("alice").unwrap());
    let new_expiry = s.expires_at.unwrap();
    assert!(new_expiry > expiry + Duration::days(364));
    // Days later: nothing more for the old expiry date.
    for _ in 0..5 {
        w.advance(Duration::days(1));
        engine.run_once().await.unwrap();
    }
    assert_eq!(count(&w.state("keep-me.com").await), (1, 1));
    w.sandbox
        .with_state(|st| assert_eq!(st.counters.renew_by_domain["keep-me.com"], 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_automatic_renewal_when_auto_renew_is_off() {
    let w = world().await;
    tokio::task::block_in_place(|| {
        cli(
            &w.dir,
            &["registrar", "update", "main", "--auto-renew", "false"],
        )
    });
    w.order("let-go.com", OrderKind::Register).await;
    let mut engine = w.engine();
    engine.run_once().await.unwrap();
    let expiry = w.state("let-go.com").await.expires_at.unwrap();
    w.advance((expiry - Duration::days(5)) - w.clock.now());
    engine.run_once().await.unwrap();
    let s = w.state("let-go.com").await;
    assert!(!s.auto_renew);
    assert_eq!(s.warned_for.len(), 1, "warned all the same");
    assert!(s.orders.values().all(|o| o.kind != OrderKind::Renew));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engines_stopped_at_any_point_and_restarted_end_every_order_once() {
    let w = world().await;
    w.sandbox.with_state(|s| {
        s.faults = vec![FaultRule {
            command: Some("SW_REGISTER".into()),
            fault: Fault::Latency { ms: 150 },
            percent: 100,
            times: None,
        }]
    });
    let mut orders = Vec::new();
    for i in 0..12 {
        let d = format!("crash-{i}.{}", ["com", "de", "com"][i % 3]);
        orders.push((d.clone(), w.order(&d, OrderKind::Register).await));
    }
    // Each engine is stopped after a short, growing time, wherever it happens to be (after
    // Submitted, during the call, before the outcome is appended); a new one takes over.
    for cut_ms in [1u64, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233] {
        let mut engine = w.engine();
        let _ =
            tokio::time::timeout(std::time::Duration::from_millis(cut_ms), engine.run_once()).await;
        w.advance(Duration::hours(1));
    }
    let mut engine = w.engine();
    for _ in 0..60 {
        engine.run_once().await.unwrap();
        w.advance(Duration::hours(1));
    }
    let app = open_app(&w.dir);
    for (d, o) in &orders {
        let s = w.state(d).await;
        let order = &s.orders[o];
        assert!(order.end().is_some(), "{d} ended");
        assert!(w.registers(d) <= 1, "{d}: at most one SW_REGISTER");
        match order.end() {
            Some(End::Confirmed) => assert!(order.refunded.is_none()),
            _ => assert_eq!(order.refunded, order.charged, "{d}"),
        }
        let events = app
            .store
            .read_stream(&format!("domain-{d}"), 0, 100)
            .await
            .unwrap();
        let ends = events
            .iter()
            .filter(|e| {
                ["Confirmed", "Rejected", "TimedOut", "Cancelled"].contains(&e.event_type.as_str())
            })
            .count();
        assert_eq!(ends, 1, "{d}: exactly one end");
    }
    // Some engine was stopped between Submitted and the outcome (the calls take 150 ms).
    let mut lost = 0;
    for (d, _) in &orders {
        let events = app
            .store
            .read_stream(&format!("domain-{d}"), 0, 100)
            .await
            .unwrap();
        lost += events
            .iter()
            .filter(|e| String::from_utf8_lossy(&e.data).contains("outcome_lost"))
            .count();
    }
    assert!(lost > 0, "no stop landed during a call");
    // The read models equal a fresh replay.
    let mut fresh = domreg_projections::ReadModels::open_in_memory().unwrap();
    domreg::app::catch_up(&app.store, &mut fresh, |_| {})
        .await
        .unwrap();
    let mut stored = open_app(&w.dir);
    stored.catch_up().await.unwrap();
    for model in domreg_projections::Model::ALL {
        assert_eq!(
            stored.models.dump(model).unwrap(),
            fresh.dump(model).unwrap(),
            "{}",
            model.name()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewal_made_elsewhere_is_read_back_not_renewed_again() {
    let w = world().await;
    w.order("renewed-elsewhere.com", OrderKind::Register).await;
    let mut engine = w.engine();
    engine.run_once().await.unwrap();
    let expiry = w.state("renewed-elsewhere.com").await.expires_at.unwrap();
    // Someone renews it in the Reseller Web Interface: the registry's date moves a year.
    w.sandbox.with_state(|s| {
        let d = s.domains.get_mut("renewed-elsewhere.com").unwrap();
        d.expires += Duration::days(365);
    });
    w.advance((expiry - Duration::days(10)) - w.clock.now());
    let round = engine.run_once().await.unwrap();
    let expiry_round = round.expiry.unwrap();
    assert_eq!(
        (
            expiry_round.synced,
            expiry_round.warned,
            expiry_round.renewals
        ),
        (1, 0, 0),
        "{expiry_round:?}"
    );
    let s = w.state("renewed-elsewhere.com").await;
    assert!(s.expires_at.unwrap() > expiry + Duration::days(364));
    assert!(s.warned_for.is_empty() && s.orders.values().all(|o| o.kind != OrderKind::Renew));
    w.sandbox.with_state(|st| {
        assert!(!st
            .counters
            .renew_by_domain
            .contains_key("renewed-elsewhere.com"))
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewal_goes_through_the_connection_that_holds_the_domain() {
    let w = world().await;
    let order = w.order("held-by-main.com", OrderKind::Register).await;
    let mut engine = w.engine();
    engine.run_once().await.unwrap();
    assert_eq!(
        end(&w.state("held-by-main.com").await, order).0,
        Some(End::Confirmed)
    );
    // A second connection takes over new .com orders (it knows nothing of this domain).
    add_connection(&w, "newer");
    tokio::task::block_in_place(|| {
        cli(&w.dir, &["tld", "assign", "com", "--registrar", "newer"]);
    });
    let renewal = w.order("held-by-main.com", OrderKind::Renew).await;
    let s = w.state("held-by-main.com").await;
    assert_eq!(s.orders[&renewal].connection, "main");
    engine.reload_connections();
    engine.run_once().await.unwrap();
    let s = w.state("held-by-main.com").await;
    assert_eq!(end(&s, renewal).0, Some(End::Confirmed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewal_adds_a_calendar_year_across_a_leap_day() {
    let w = world().await;
    w.order("leap-year.com", OrderKind::Register).await;
    let mut engine = w.engine();
    engine.run_once().await.unwrap();
    let before = w.state("leap-year.com").await.expires_at.unwrap();
    w.order("leap-year.com", OrderKind::Renew).await;
    engine.run_once().await.unwrap();
    let after = w.state("leap-year.com").await.expires_at.unwrap();
    assert_eq!(
        after.date_naive(),
        domreg_events::calendar::years_later(before, 1).date_naive(),
        "{before} renewed to {after}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_holds_domains_cannot_be_removed() {
    let w = world().await;
    w.order("kept-by-main.com", OrderKind::Register).await;
    w.engine().run_once().await.unwrap();
    add_connection(&w, "other");
    tokio::task::block_in_place(|| {
        for tld in ["com", "de"] {
            cli(&w.dir, &["tld", "assign", tld, "--registrar", "other"]);
        }
    });
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_domreg"))
        .arg("--data-dir")
        .arg(&w.dir)
        .args(["registrar", "remove", "main"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("still holds 1 domains"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_orders_stay_visible_with_their_end_refund_and_last_answer() {
    let w = world().await;
    let confirmed = w.order("finished-ok.com", OrderKind::Register).await;
    let refused = w.order("invalid-finished.com", OrderKind::Register).await;
    w.engine().run_once().await.unwrap();
    let out = tokio::task::block_in_place(|| {
        support_cli::domreg_ok(&w.dir, &["async", "list", "--finished", "--json"])
    });
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    let find = |id: OrderId| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["order_id"] == id.to_string())
            .cloned()
            .unwrap_or_else(|| panic!("{id} not listed in {rows}"))
    };
    let ok = find(confirmed);
    assert_eq!(
        (ok["end"].as_str(), ok["refunded"].is_null()),
        (Some("confirmed"), true)
    );
    let no = find(refused);
    assert_eq!(no["end"], "rejected");
    assert_eq!(
        no["refunded"],
        serde_json::json!({"minor": 1299, "currency": "USD"})
    );
    assert!(
        no["last_answer"].as_str().unwrap().starts_with("465"),
        "{no}"
    );
    let only = tokio::task::block_in_place(|| {
        support_cli::domreg_ok(
            &w.dir,
            &["async", "list", "--finished", "--end", "rejected"],
        )
    });
    assert!(
        only.contains("invalid-finished.com") && !only.contains("finished-ok.com"),
        "{only}"
    );
}

/// A second connection to the same sandbox account, titled `title`.
fn add_connection(w: &World, title: &str) {
    let port = w.sandbox.addr.port().to_string();
    tokio::task::block_in_place(|| {
        cli(
            &w.dir,
            &[
                "registrar",
                "add",
                title,
                "--login",
                "reseller",
                "--key",
                KEY,
                "--server",
                "127.0.0.1",
                "--port",
                &port,
                "--plain-http",
                "true",
            ],
        )
    });
}

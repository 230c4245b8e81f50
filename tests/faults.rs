//! The faults that used to give domains away or stop the engine (issue #12): a lost
//! answer at a slow registry, a second engine, an OpenSRS that never answers a cancel, an
//! event this build cannot fold, a stalled mail relay, a stop signal mid-call. Each test
//! failed on the code before the fix.

#[path = "support/cli.rs"]
mod support_cli;
#[path = "support/contacts.rs"]
mod support_contacts;
#[path = "support/engine_world.rs"]
mod world;

use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;
use domreg::clock::Clock;
use domreg::opensrs::sandbox::faults::{Fault, FaultRule};
use domreg::opensrs::sandbox::state::OrderStatus;
use domreg::store::{EventStore, ExpectedVersion, NewEvent};
use domreg_events::settings::{account_stream, AccountCredited};
use domreg_events::*;
use world::*;

/// .de registrations that stay waiting at the registry until cancelled.
fn registry_never_completes(w: &World) {
    w.sandbox.with_state(|s| {
        s.settings.async_polls = None;
        s.settings.async_delay_secs = Some(365 * 24 * 3600);
    });
}

fn fault(w: &World, command: &str, fault: Fault, times: Option<u32>) {
    w.sandbox.with_state(|s| {
        s.faults = vec![FaultRule {
            command: Some(command.into()),
            fault,
            percent: 100,
            times,
        }]
    });
}

fn sandbox_order_status(w: &World, domain: &str) -> Vec<OrderStatus> {
    w.sandbox.with_state(|s| {
        s.orders
            .values()
            .filter(|o| o.domain == domain)
            .map(|o| o.status)
            .collect()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_is_found_by_domain_and_cancelled_at_opensrs_before_the_refund() {
    let w = world().await;
    registry_never_completes(&w);
    fault(&w, "SW_REGISTER", Fault::PerformThenDrop, Some(1));
    let order = w.order("lost-answer.de", OrderKind::Register).await;
    let mut engine = w.engine().with_call_timeout(StdDuration::from_secs(2));
    engine.run_once().await.unwrap();
    let s = w.state("lost-answer.de").await;
    assert_eq!(s.orders[&order].stage, Stage::Pending);
    assert_eq!(
        s.orders[&order].registrar_order_id, None,
        "the answer was lost"
    );
    assert_eq!(
        sandbox_order_status(&w, "lost-answer.de"),
        [OrderStatus::Waiting]
    );

    w.advance(Duration::hours(51)); // past .de's 50 h
    engine.run_once().await.unwrap();
    let s = w.state("lost-answer.de").await;
    let o = &s.orders[&order];
    assert_eq!(o.end(), Some(End::TimedOut));
    assert_eq!(o.refunded, Some(FEE));
    assert!(
        o.registrar_order_id.is_some(),
        "found by GET_ORDERS_BY_DOMAIN"
    );
    // The registry cannot complete it later: OpenSRS cancelled it before the refund.
    assert_eq!(
        sandbox_order_status(&w, "lost-answer.de"),
        [OrderStatus::Cancelled]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_engine_leaves_a_running_submission_alone_and_its_answer_is_kept() {
    let w = world().await;
    registry_never_completes(&w);
    fault(&w, "SW_REGISTER", Fault::Latency { ms: 2_000 }, Some(1));
    let order = w.order("slow-answer.de", OrderKind::Register).await;
    let mut first = w.engine();
    let mut second = w.engine();
    let (a, b) = tokio::join!(first.run_once(), async {
        tokio::time::sleep(StdDuration::from_millis(600)).await;
        second.run_once().await
    });
    assert_eq!(a.unwrap().submitted, 1);
    assert_eq!(
        b.unwrap().recovered,
        0,
        "the first engine's lease still ran"
    );
    let s = w.state("slow-answer.de").await;
    let o = &s.orders[&order];
    assert_eq!(o.stage, Stage::Pending);
    assert!(
        o.registrar_order_id.is_some(),
        "OpenSRS's order id from the real answer is kept: {o:?}"
    );
    assert_eq!(w.registers("slow-answer.de"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_cancel_backs_off_and_goes_to_the_admin_instead_of_a_blind_refund() {
    let w = world().await;
    registry_never_completes(&w);
    let order = w.order("silent-cancel.de", OrderKind::Register).await;
    let mut engine = w.engine().with_call_timeout(StdDuration::from_millis(300));
    engine.run_once().await.unwrap();
    fault(&w, "PROCESS_PENDING", Fault::NoReply, None);
    w.advance(Duration::hours(50) + Duration::minutes(1));
    let round = engine.run_once().await.unwrap();
    assert_eq!(round.polled, 1);
    // Not retried at once: the next try waits for the poll interval.
    let again = engine.run_once().await.unwrap();
    assert!(!again.did_anything(), "{again:?}");
    // A simulated day and a half of an OpenSRS that never answers the cancel.
    for _ in 0..36 {
        w.advance(Duration::hours(1));
        engine.run_once().await.unwrap();
    }
    let app = open_app(&w.dir);
    let stream = app
        .store
        .read_stream("domain-silent-cancel.de", 0, usize::MAX)
        .await
        .unwrap();
    let polls = stream.iter().filter(|e| e.event_type == "Polled").count();
    assert!(polls < 20, "{polls} polls in 36 h past the deadline");
    let s = w.state("silent-cancel.de").await;
    let o = &s.orders[&order];
    assert_eq!(o.stage, Stage::Pending, "never timed out blind");
    assert_eq!(o.refunded, None);
    assert!(o.escalated.is_some(), "handed to the admin");
    assert_eq!(
        sandbox_order_status(&w, "silent-cancel.de"),
        [OrderStatus::Waiting]
    );
    // The Async Manager shows why.
    let mut app = open_app(&w.dir);
    app.catch_up().await.unwrap();
    let pending = app
        .models
        .pending_orders(&domreg_projections::PendingQuery::default())
        .unwrap();
    assert!(pending[0]
        .escalated
        .as_deref()
        .is_some_and(|r| r.contains("PROCESS_PENDING")));
    drop(app);
    let id = order.to_string();
    // Having checked at OpenSRS by hand, the admin ends it; the log says so.
    let out = tokio::task::block_in_place(|| {
        support_cli::domreg_ok(&w.dir, &["async", "cancel", &id, "--checked-at-opensrs"])
    });
    assert!(out.contains("refunded"), "{out}");
    let s = w.state("silent-cancel.de").await;
    assert_eq!(s.orders[&order].end(), Some(End::Cancelled));
    assert_eq!(s.orders[&order].refunded, Some(FEE));
}

fn meta() -> EventMetadata {
    EventMetadata::new(Actor::Engine, uuid::Uuid::now_v7(), chrono::Utc::now())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_this_build_cannot_fold_is_quarantined_and_everything_else_goes_on() {
    let w = world().await;
    let app = open_app(&w.dir);
    let poison = |minor| {
        let e: SettingsEvent = AccountCredited {
            account: AccountId::parse("mallory").unwrap(),
            amount: Money::new(minor, Currency::USD),
            note: "written by an older, unbounded build".into(),
        }
        .into();
        NewEvent {
            id: uuid::Uuid::now_v7(),
            event_type: e.event_type().into(),
            schema_version: e.schema_version(),
            data: e.encode(),
            metadata: meta(),
        }
    };
    let stream = account_stream(&AccountId::parse("mallory").unwrap());
    app.store
        .append(&stream, ExpectedVersion::Any, vec![poison(i64::MAX - 10)])
        .await
        .unwrap();
    app.store
        .append(&stream, ExpectedVersion::Any, vec![poison(1_000)])
        .await
        .unwrap();
    let future = NewEvent {
        id: uuid::Uuid::now_v7(),
        event_type: "Teleported".into(),
        schema_version: 1,
        data: b"{}".to_vec(),
        metadata: meta(),
    };
    app.store
        .append("domain-example.com", ExpectedVersion::Any, vec![future])
        .await
        .unwrap();
    drop(app);

    // Orders, the engine and the ledger carry on.
    let order = w.order("after-poison.com", OrderKind::Register).await;
    w.engine().run_once().await.unwrap();
    let s = w.state("after-poison.com").await;
    assert_eq!(s.orders[&order].end(), Some(End::Confirmed));
    let ledger = support_cli::domreg_ok(&w.dir, &["ledger", "--account", "alice"]);
    assert!(ledger.contains("12.99"), "{ledger}");

    let mut app = open_app(&w.dir);
    app.catch_up().await.unwrap();
    let q = app.models.quarantined().unwrap();
    assert_eq!(q.len(), 2, "{q:?}");
    assert!(q[0].detail.contains("overflows"), "{q:?}");
    assert!(q[1].event_type.contains("Teleported"), "{q:?}");

    let out = Process::new(env!("CARGO_BIN_EXE_domreg"))
        .arg("--data-dir")
        .arg(&w.dir)
        .arg("verify")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        stdout.contains("quarantined: event") && stdout.contains("Teleported"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_credit_is_refused_before_anything_is_stored() {
    let w = world().await;
    let head = open_app(&w.dir).store.head().await.unwrap();
    let out = Process::new(env!("CARGO_BIN_EXE_domreg"))
        .arg("--data-dir")
        .arg(&w.dir)
        .args(["account", "credit", "alice", "92233720368547758.07"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("at most 100000000000.00 USD"), "{stderr}");
    assert_eq!(open_app(&w.dir).store.head().await.unwrap(), head);
    // Within the bound, but past it together with the balance: refused too.
    support_cli::domreg_ok(&w.dir, &["account", "credit", "alice", "100000000000.00"]);
    let out = Process::new(env!("CARGO_BIN_EXE_domreg"))
        .arg("--data-dir")
        .arg(&w.dir)
        .args(["account", "credit", "alice", "0.01"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("would take the balance"), "{stderr}");
    let ledger = support_cli::domreg_ok(&w.dir, &["ledger", "--account", "alice"]);
    assert!(ledger.contains("100000000000.00"), "{ledger}");
}

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(w: &World, extra: &[&str]) -> Serve {
    Serve(
        Process::new(env!("CARGO_BIN_EXE_domreg"))
            .arg("--data-dir")
            .arg(&w.dir)
            .args(["serve", "--tick", "100ms"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

async fn wait_for(what: &str, limit: StdDuration, mut done: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < limit, "{what} within {limit:?}");
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_engine_on_the_same_data_directory_is_refused_with_the_holders_pid() {
    let w = world().await;
    let first = serve(&w, &[]);
    let lock = w.dir.join("engine.lock");
    wait_for("the lock", StdDuration::from_secs(20), async || {
        std::fs::read_to_string(&lock).is_ok_and(|p| p.trim() == first.0.id().to_string())
    })
    .await;
    let out = Process::new(env!("CARGO_BIN_EXE_domreg"))
        .arg("--data-dir")
        .arg(&w.dir)
        .args(["serve", "--once"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!("pid {}", first.0.id())),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_mail_relay_does_not_hold_up_orders() {
    let w = world().await;
    // A relay that accepts connections and never says a word.
    let relay = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = relay.local_addr().unwrap().port().to_string();
    let held = std::thread::spawn(move || {
        let mut open = Vec::new();
        for c in relay.incoming().take(50) {
            open.push(c);
        }
    });
    let _serve = serve(
        &w,
        &[
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            &port,
            "--smtp-starttls",
            "false",
            "--admin-email",
            "admin@example.net",
        ],
    );
    for (i, domain) in ["first-mail.com", "second-mail.com", "third-mail.com"]
        .into_iter()
        .enumerate()
    {
        let order = w.order(domain, OrderKind::Register).await;
        let placed = Instant::now();
        wait_for(domain, StdDuration::from_secs(20), async || {
            w.state(domain).await.orders[&order].end() == Some(End::Confirmed)
        })
        .await;
        // The first waits for serve to start; later ones must not wait for the relay.
        if i > 0 {
            assert!(
                placed.elapsed() < StdDuration::from_secs(3),
                "{domain} took {:?}",
                placed.elapsed()
            );
        }
    }
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_stops_within_a_second_of_sigterm_even_mid_call() {
    let w = world().await;
    fault(&w, "SW_REGISTER", Fault::Latency { ms: 60_000 }, None);
    let mut serve = serve(&w, &[]);
    let order = w.order("stuck-call.com", OrderKind::Register).await;
    wait_for("the submission", StdDuration::from_secs(20), async || {
        w.state("stuck-call.com").await.orders[&order].stage == Stage::Submitted
    })
    .await;
    tokio::time::sleep(StdDuration::from_millis(200)).await;
    let sent = Instant::now();
    let status = Process::new("kill")
        .args(["-TERM", &serve.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    loop {
        if serve.0.try_wait().unwrap().is_some() {
            break;
        }
        assert!(
            sent.elapsed() < StdDuration::from_millis(1_500),
            "serve still running {:?} after SIGTERM",
            sent.elapsed()
        );
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    // The cut submission is resolved later by asking OpenSRS, never resent blind.
    assert_eq!(
        w.state("stuck-call.com").await.orders[&order].stage,
        Stage::Submitted
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_directory_is_owner_only_and_a_transfer_code_can_come_from_a_file() {
    use std::os::unix::fs::PermissionsExt;
    let w = world().await;
    let open = w.dir.join("shared-by-mistake");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
    support_cli::domreg_ok(&open, &["tld", "list"]);
    let mode = std::fs::metadata(&open).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "{mode:o}");

    let code = w.dir.join("epp.txt");
    std::fs::write(&code, "EPP-FROM-FILE\n").unwrap();
    let contacts = support_contacts::owen_file(&w.dir);
    let out = support_cli::domreg_ok(
        &w.dir,
        &[
            "transfer",
            "incoming.com",
            "--account",
            "alice",
            "--contacts",
            contacts.to_str().unwrap(),
            "--auth-code-file",
            code.to_str().unwrap(),
            "--json",
        ],
    );
    let placed: serde_json::Value = serde_json::from_str(&out).unwrap();
    let id = placed["order"]["order_id"].as_str().unwrap();
    let stored = domreg::secrets::SecretStore::new(&w.dir)
        .get(&format!("auth-{id}"))
        .unwrap();
    assert_eq!(stored.expose(), "EPP-FROM-FILE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_stranded_while_the_engine_runs_is_recovered_once_its_lease_lapses() {
    let w = world().await;
    let mut engine = w.engine();
    engine.run_once().await.unwrap(); // the engine is running
    let order = w.order("stranded.com", OrderKind::Register).await;
    // Another engine submitted it and then could not record the outcome (a full disk).
    let app = open_app(&w.dir);
    let name = DomainName::parse("stranded.com").unwrap();
    let state = domreg::engine::steps::load(&app.store, &name)
        .await
        .unwrap();
    let lease = Lease {
        engine: "other-host:4242:deadbeef".into(),
        until: w.clock.now() + Duration::minutes(3),
    };
    let submitted = decide(
        &state,
        Command::RecordSubmission {
            order_id: order,
            lease: Some(lease),
        },
        w.clock.now(),
    )
    .unwrap();
    let new = submitted
        .iter()
        .map(|e| NewEvent::domain(e, meta()))
        .collect();
    app.store
        .append(
            &domain_stream(&name),
            ExpectedVersion::after(state.version),
            new,
        )
        .await
        .unwrap();
    // While the lease runs, the order is left to its engine.
    assert_eq!(engine.run_once().await.unwrap().recovered, 0);
    w.advance(Duration::minutes(4));
    assert_eq!(engine.run_once().await.unwrap().recovered, 1);
    let s = w.state("stranded.com").await;
    assert_eq!(
        s.orders[&order].stage,
        Stage::Pending,
        "resolved by polling from here"
    );
    assert_eq!(w.registers("stranded.com"), 0, "never sent again");
}

/// A port on loopback where nothing listens: a connection there is refused.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_refused_at_connect_is_sent_again_and_completes_instead_of_waiting_to_be_refunded() {
    let w = world().await;
    let port = w.sandbox.addr.port().to_string();
    let closed = closed_port().to_string();
    tokio::task::block_in_place(|| {
        cli(&w.dir, &["registrar", "update", "main", "--port", &closed])
    });
    let order = w.order("refused-at-connect.com", OrderKind::Register).await;
    let mut engine = w.engine();
    let round = engine.run_once().await.unwrap();
    assert_eq!(round.submitted, 1, "{round:?}");
    let s = w.state("refused-at-connect.com").await;
    let o = &s.orders[&order];
    assert_eq!(
        o.stage,
        Stage::Accepted,
        "back to be sent again, not pending: {o:?}"
    );
    assert_eq!(o.send_failures, 1);
    assert!(o.refunded.is_none());
    // Not again before its time.
    engine.reload_connections();
    tokio::task::block_in_place(|| cli(&w.dir, &["registrar", "update", "main", "--port", &port]));
    engine.reload_connections();
    assert_eq!(engine.run_once().await.unwrap().submitted, 0);
    w.advance(Duration::minutes(3));
    engine.run_once().await.unwrap();
    let s = w.state("refused-at-connect.com").await;
    assert_eq!(s.orders[&order].end(), Some(End::Confirmed));
    assert_eq!(w.registers("refused-at-connect.com"), 1);
    assert!(s.orders[&order].refunded.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_opensrs_could_never_be_reached_for_is_refunded_after_its_last_try() {
    let w = world().await;
    let closed = closed_port().to_string();
    tokio::task::block_in_place(|| {
        cli(&w.dir, &["registrar", "update", "main", "--port", &closed])
    });
    let order = w.order("never-reached.com", OrderKind::Register).await;
    let mut engine = w.engine();
    for _ in 0..domreg_events::deadline::MAX_SENDS {
        engine.run_once().await.unwrap();
        w.advance(Duration::hours(1) + Duration::minutes(1));
    }
    let s = w.state("never-reached.com").await;
    let o = &s.orders[&order];
    assert_eq!(o.end(), Some(End::Cancelled), "{o:?}");
    assert_eq!(o.refunded, o.charged);
    assert_eq!(w.registers("never-reached.com"), 0);
}

//! `domreg bulk` over 1,000 domains, killed halfway (SIGKILL) and run again: every domain
//! is changed exactly once, and the run after that finds nothing left to do.

#[path = "support/cli.rs"]
mod support_cli;
#[path = "support/contacts.rs"]
mod support_contacts;
#[path = "support/engine_world.rs"]
mod world;

use std::process::{Command as Process, Stdio};
use std::time::{Duration as StdDuration, Instant};

use domreg::opensrs::sandbox::state::DomainRecord;
use domreg::store::{EventStore, NewEvent};
use domreg_events::change::DomainChange;
use domreg_events::event::{Imported, Lease};
use domreg_events::*;
use serde_json::Value;
use world::*;

const DOMAINS: usize = 1_000;

fn calls(w: &World, action: &str) -> u64 {
    w.sandbox
        .with_state(|s| s.counters.calls.get(action).copied().unwrap_or(0))
}

/// The domains in the reseller's account at OpenSRS, unlocked, expiring in 300 days.
fn at_opensrs(w: &World, names: &[String], now: chrono::DateTime<chrono::Utc>) {
    w.sandbox.with_state(|s| {
        for n in names {
            s.domains.insert(
                n.clone(),
                DomainRecord {
                    owner: "reseller".into(),
                    created: now,
                    expires: now + chrono::Duration::days(300),
                    auto_renew: false,
                    transferable: true,
                    nameservers: vec![],
                    renewed_from_year: None,
                },
            );
        }
    });
}

/// The domain as `domreg import` records it: alice's, on connection "main".
fn imported(domain: &DomainName, now: chrono::DateTime<chrono::Utc>) -> DomainEvent {
    Imported {
        domain: domain.clone(),
        account: AccountId::parse("alice").unwrap(),
        connection: "main".into(),
        expires_at: now + chrono::Duration::days(300),
        auto_renew: false,
        source: "bulk test".into(),
    }
    .into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_lock_killed_halfway_and_run_again_changes_every_domain_exactly_once() {
    let w = world().await;
    let names: Vec<String> = (0..DOMAINS).map(|i| format!("bulk-{i}.com")).collect();
    let now = chrono::Utc::now();
    at_opensrs(&w, &names, now);
    let app = open_app(&w.dir);
    let streams = names.iter().map(|n| {
        let domain = DomainName::parse(n)?;
        let e = imported(&domain, now);
        let meta = EventMetadata::new(Actor::Engine, uuid::Uuid::now_v7(), now);
        Ok((domain_stream(&domain), vec![NewEvent::domain(&e, meta)]))
    });
    domreg::bench::append_new_streams(&app.store, streams)
        .await
        .unwrap();
    drop(app);
    let list = w.dir.join("domains.txt");
    std::fs::write(&list, names.join("\n")).unwrap();
    let bulk = || {
        let mut p = Process::new(env!("CARGO_BIN_EXE_domreg"));
        p.arg("--data-dir")
            .arg(&w.dir)
            .args(["bulk", "lock", "on", "--domains"])
            .arg(&list)
            .args(["--opensrs-timeout", "2s", "--json"]);
        p
    };

    let mut first = bulk()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while calls(&w, "MODIFY") < (DOMAINS / 3) as u64 {
        assert!(
            start.elapsed() < StdDuration::from_secs(120),
            "a third sent within 2 minutes"
        );
        assert!(
            first.try_wait().unwrap().is_none(),
            "killed before it finished"
        );
        tokio::time::sleep(StdDuration::from_millis(5)).await;
    }
    first.kill().unwrap();
    first.wait().unwrap();
    let sent_before_kill = calls(&w, "MODIFY");
    assert!(sent_before_kill < DOMAINS as u64, "{sent_before_kill}");

    let run = || -> Value {
        let out = tokio::task::block_in_place(|| bulk().output().unwrap());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let mut report = run();
    let n = |r: &Value, k: &str| r[k].as_array().unwrap().len();
    assert_eq!(n(&report, "refused"), 0, "{report}");
    assert!(
        n(&report, "earlier") as u64 >= sent_before_kill - 1,
        "{report}"
    );
    // One change may have been in flight at the kill: once its sender's lease (the 2 s
    // timeout and 10 s) has lapsed, the next run reads it back.
    let waited = Instant::now();
    while n(&report, "sent") > 0 || n(&report, "applied") > 0 {
        assert!(waited.elapsed() < StdDuration::from_secs(60), "{report}");
        tokio::time::sleep(StdDuration::from_secs(3)).await;
        report = run();
    }
    assert_eq!(
        n(&report, "earlier"),
        DOMAINS,
        "nothing left to do: {report}"
    );
    assert_eq!(
        calls(&w, "MODIFY"),
        DOMAINS as u64,
        "every domain sent exactly once"
    );
    assert!(w
        .sandbox
        .with_state(|s| names.iter().all(|n| !s.domains[n].transferable)));
    let app = open_app(&w.dir);
    for n in names.iter().step_by(97) {
        let events = app
            .store
            .read_stream(
                &domain_stream(&DomainName::parse(n).unwrap()),
                0,
                usize::MAX,
            )
            .await
            .unwrap();
        let count = |t: &str| events.iter().filter(|e| e.event_type == t).count();
        // An attempt that never reached OpenSRS (killed in between) is recorded refused
        // after the read back and asked again: still one change made.
        assert_eq!(
            (
                count("ChangeRequested") - count("ChangeRefused"),
                count("ChangeApplied")
            ),
            (1, 1),
            "{n}"
        );
    }
}

/// The kill that lands after a change was recorded sent and before OpenSRS got it: the
/// next run reads the domain back, records that attempt as not made, and asks again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_killed_before_it_reached_opensrs_is_asked_again_by_the_next_run() {
    let w = world().await;
    let name = DomainName::parse("lost-lock.com").unwrap();
    let now = chrono::Utc::now();
    at_opensrs(&w, &[name.to_string()], now);
    let first = OrderId::for_bulk_change("lost-run", name.as_str()).unwrap();
    let imported = imported(&name, now);
    let mut state = evolve(Domain::default(), &imported);
    let mut events = vec![imported];
    // What the killed run wrote: asked and marked sent, its lease long over.
    for command in [
        Command::RequestChange {
            change_id: first,
            change: DomainChange::Lock { locked: true },
            price: None,
        },
        Command::RecordChangeSubmission {
            change_id: first,
            lease: Lease {
                engine: "killed".into(),
                until: now - chrono::Duration::minutes(1),
            },
        },
    ] {
        for e in decide(&state, command, now).unwrap() {
            state = evolve(state, &e);
            events.push(e);
        }
    }
    let meta = EventMetadata::new(Actor::Engine, uuid::Uuid::now_v7(), now);
    let app = open_app(&w.dir);
    domreg::bench::append_new_streams(
        &app.store,
        std::iter::once(Ok((
            domain_stream(&name),
            events
                .iter()
                .map(|e| NewEvent::domain(e, meta.clone()))
                .collect(),
        ))),
    )
    .await
    .unwrap();
    let list = w.dir.join("domains.txt");
    std::fs::write(&list, name.as_str()).unwrap();
    let run = || -> Value {
        let out = tokio::task::block_in_place(|| {
            Process::new(env!("CARGO_BIN_EXE_domreg"))
                .arg("--data-dir")
                .arg(&w.dir)
                .args(["bulk", "lock", "on", "--key", "lost-run", "--domains"])
                .arg(&list)
                .arg("--json")
                .output()
                .unwrap()
        });
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let report = run();
    assert_eq!(
        report["applied"],
        serde_json::json!([name.as_str()]),
        "{report}"
    );
    assert_eq!(calls(&w, "MODIFY"), 1, "asked again, once");
    assert!(w
        .sandbox
        .with_state(|s| !s.domains[name.as_str()].transferable));
    let report = run();
    assert_eq!(
        report["earlier"],
        serde_json::json!([name.as_str()]),
        "{report}"
    );
    assert_eq!(calls(&w, "MODIFY"), 1, "and never again");
    let recorded = app
        .store
        .read_stream(&domain_stream(&name), 0, usize::MAX)
        .await
        .unwrap();
    let types: Vec<&str> = recorded.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "Imported",
            "ChangeRequested",
            "ChangeSubmitted",
            "ChangeRefused",
            "ChangeRequested",
            "ChangeSubmitted",
            "ChangeApplied"
        ],
        "the lost attempt is on record as not made, then the one that was"
    );
}

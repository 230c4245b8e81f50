//! Changes to a registered domain through the sandbox: nameservers and the registrar
//! lock, applied, refused by OpenSRS, refused by the model, and an answer lost after the
//! call (read back, never sent twice), each in the audit.

#[path = "support/cli.rs"]
mod support_cli;
#[path = "support/contacts.rs"]
mod support_contacts;
#[path = "support/engine_world.rs"]
mod world;

use chrono::Duration;
use domreg::opensrs::sandbox::faults::{Fault, FaultRule};
use domreg_events::change::ChangeStage;
use domreg_events::*;
use serde_json::Value;
use world::*;

fn ok(w: &World, args: &[&str]) -> Value {
    let out = tokio::task::block_in_place(|| support_cli::domreg_ok(&w.dir, args));
    serde_json::from_str(&out).unwrap()
}

fn err(w: &World, args: &[&str]) -> String {
    tokio::task::block_in_place(|| support_cli::domreg_err(&w.dir, args))
}

fn calls(w: &World, action: &str) -> u64 {
    w.sandbox
        .with_state(|s| s.counters.calls.get(action).copied().unwrap_or(0))
}

fn fault(w: &World, command: &str, fault: Fault, times: Option<u32>) {
    w.sandbox.with_state(|s| {
        s.faults.push(FaultRule {
            command: Some(command.into()),
            fault,
            percent: 100,
            times,
        })
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nameservers_and_the_lock_are_changed_once_refused_with_why_and_audited() {
    let w = world().await;
    w.order("manage.com", OrderKind::Register).await;
    let mut engine = w.engine();
    engine.run_once().await.unwrap();
    assert!(
        !w.sandbox
            .with_state(|s| s.domains["manage.com"].transferable),
        "registered locked: the connection's default"
    );
    tokio::task::block_in_place(|| {
        support_cli::domreg_ok(
            &w.dir,
            &["registrar", "update", "main", "--lock-new", "false"],
        )
    });
    w.order("unlocked.com", OrderKind::Register).await;
    engine.reload_connections();
    engine.run_once().await.unwrap();
    assert!(
        w.sandbox
            .with_state(|s| s.domains["unlocked.com"].transferable),
        "registered unlocked once the connection says so"
    );

    let applied = ok(
        &w,
        &[
            "nameservers",
            "manage.com",
            "NS1.Example.NET",
            "ns2.example.net",
            "--json",
        ],
    );
    assert_eq!(applied["state"], "applied", "{applied}");
    let at_opensrs = w
        .sandbox
        .with_state(|s| s.domains["manage.com"].nameservers.clone());
    assert_eq!(at_opensrs, ["ns1.example.net", "ns2.example.net"]);
    assert_eq!(
        w.state("manage.com").await.nameservers,
        Some(vec![
            "ns1.example.net".to_string(),
            "ns2.example.net".to_string()
        ])
    );

    // Refused by OpenSRS: recorded, with its answer, and said.
    let refused = err(
        &w,
        &[
            "nameservers",
            "manage.com",
            "missing-ns.example.net",
            "ns2.example.net",
        ],
    );
    assert!(
        refused.contains("435") && refused.contains("not found at the registry"),
        "{refused}"
    );
    // Refused by the model: nothing is written, nothing is sent.
    let before = w.state("manage.com").await.version;
    let one = err(&w, &["nameservers", "manage.com", "ns1.example.net"]);
    assert!(one.contains("2 to 13"), "{one}");
    w.order("manage.com", OrderKind::Renew).await;
    let busy = err(&w, &["lock", "manage.com", "on"]);
    assert!(
        busy.contains("open") || busy.contains("in progress") || busy.contains("renew"),
        "{busy}"
    );
    assert_eq!(
        w.state("manage.com").await.version,
        before + 2,
        "only the renewal's events"
    );
    engine.run_once().await.unwrap();

    let lock = ok(&w, &["lock", "manage.com", "on", "--json"]);
    assert_eq!(lock["state"], "applied", "{lock}");
    assert!(!w
        .sandbox
        .with_state(|s| s.domains["manage.com"].transferable));

    // The answer is lost after OpenSRS made the change: read back, not sent again.
    let modifies = calls(&w, "MODIFY");
    fault(&w, "MODIFY", Fault::PerformThenDrop, Some(1));
    let lost = ok(&w, &["lock", "manage.com", "off", "--json"]);
    assert_eq!(lost["state"], "applied", "{lost}");
    assert!(lost["answer"]["text"]
        .as_str()
        .unwrap()
        .contains("GET DOMAIN shows the change made"));
    assert_eq!(calls(&w, "MODIFY"), modifies + 1, "sent once, never again");
    assert!(w
        .sandbox
        .with_state(|s| s.domains["manage.com"].transferable));

    // Lost, and the read-back gets no answer either: the engine settles it later.
    fault(&w, "MODIFY", Fault::PerformThenDrop, Some(1));
    fault(&w, "GET", Fault::Drop, None);
    let pending = ok(&w, &["lock", "manage.com", "on", "--json"]);
    assert_eq!(pending["state"], "sent", "{pending}");
    let id: OrderId = pending["change_id"].as_str().unwrap().parse().unwrap();
    assert!(matches!(
        w.state("manage.com").await.changes[&id].stage,
        ChangeStage::Submitted(_)
    ));
    w.sandbox.with_state(|s| s.faults.clear());
    engine.run_once().await.unwrap();
    assert!(
        matches!(
            w.state("manage.com").await.changes[&id].stage,
            ChangeStage::Submitted(_)
        ),
        "untouched while its lease runs"
    );
    let real_now = chrono::Utc::now();
    w.advance(real_now - w.clock_now() + Duration::minutes(5));
    let round = engine.run_once().await.unwrap();
    assert_eq!(round.changes_recovered, 1, "{round:?}");
    let s = w.state("manage.com").await;
    assert_eq!(s.changes[&id].stage, ChangeStage::Applied);
    assert_eq!(s.locked, Some(true));
    assert_eq!(calls(&w, "MODIFY"), modifies + 2, "each change sent once");

    // WHOIS privacy: where the TLD has it; refused by the model where it has not.
    let on = ok(&w, &["privacy", "manage.com", "on", "--json"]);
    assert_eq!(on["state"], "applied", "{on}");
    assert!(w.sandbox.with_state(|s| s.privacy.contains("manage.com")));
    assert_eq!(w.state("manage.com").await.privacy, Some(true));
    w.order("privat.de", OrderKind::Register).await;
    for _ in 0..4 {
        w.advance(Duration::hours(2));
        engine.run_once().await.unwrap();
    }
    let modifies = calls(&w, "MODIFY");
    let de = err(&w, &["privacy", "privat.de", "on"]);
    assert!(
        de.contains(".de cannot have its WHOIS privacy changed"),
        "{de}"
    );
    let de_lock = err(&w, &["lock", "privat.de", "on"]);
    assert!(de_lock.contains("no registrar lock"), "{de_lock}");
    assert_eq!(
        calls(&w, "MODIFY"),
        modifies,
        "nothing sent for what the TLD cannot do"
    );
    // The transfer code: read and shown where the TLD allows, e-mailed for .de; the log
    // records that it was given out, never the code.
    let code = ok(&w, &["auth-code", "manage.com", "--json"]);
    assert_eq!(code["how"], "shown", "{code}");
    let secret = code["auth_code"].as_str().unwrap().to_string();
    assert!(secret.starts_with("EPP-"), "{secret}");
    let mailed = ok(&w, &["auth-code", "privat.de", "--json"]);
    assert_eq!(mailed["how"], "emailed to the admin contact", "{mailed}");
    assert!(mailed.get("auth_code").is_none(), "{mailed}");
    assert_eq!(
        w.sandbox.with_state(|s| s.auth_codes_mailed.clone()),
        ["privat.de"]
    );
    let raw = tokio::task::block_in_place(|| {
        support_cli::domreg_ok(&w.dir, &["audit", "manage.com", "--json"])
    });
    assert!(raw.contains("transfer code given out: shown"), "{raw}");
    assert!(!raw.contains(&secret), "the code never enters the log");
    let shown =
        tokio::task::block_in_place(|| support_cli::domreg_ok(&w.dir, &["tld", "show", "de"]));
    assert!(
        shown.contains("registrar lock no, WHOIS privacy no"),
        "{shown}"
    );

    let audit =
        tokio::task::block_in_place(|| support_cli::domreg_ok(&w.dir, &["audit", "manage.com"]));
    for line in [
        "nameservers set to ns1.example.net, ns2.example.net",
        "not made: Request failed validation",
        "registrar lock switched on",
        "applied at OpenSRS",
        "WHOIS privacy switched on",
    ] {
        assert!(audit.contains(line), "{line:?} in\n{audit}");
    }
}

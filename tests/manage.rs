//! Contacts, child nameservers, the .uk IPS tag, priced WHOIS privacy and renewals past
//! the grace period, through the CLI and the sandbox: applied, refused by OpenSRS,
//! refused by the model (nothing sent), an answer lost after the call (read back, never
//! sent twice), each in the audit.

#[path = "support/cli.rs"]
mod support_cli;
#[path = "support/contacts.rs"]
mod support_contacts;
#[path = "support/engine_world.rs"]
mod world;

use chrono::Duration;
use domreg::engine::place::{place_order, OrderRequest};
use domreg::opensrs::sandbox::faults::{Fault, FaultRule};
use domreg_events::change::ChangeStage;
use domreg_events::*;
use serde_json::Value;
use world::*;

fn ok(w: &World, args: &[&str]) -> Value {
    let out = tokio::task::block_in_place(|| support_cli::domreg_ok(&w.dir, args));
    serde_json::from_str(&out).unwrap()
}

fn text(w: &World, args: &[&str]) -> String {
    tokio::task::block_in_place(|| support_cli::domreg_ok(&w.dir, args))
}

fn err(w: &World, args: &[&str]) -> String {
    tokio::task::block_in_place(|| support_cli::domreg_err(&w.dir, args))
}

fn calls(w: &World, action: &str) -> u64 {
    w.sandbox
        .with_state(|s| s.counters.calls.get(action).copied().unwrap_or(0))
}

fn fault(w: &World, command: &str, fault: Fault) {
    w.sandbox.with_state(|s| {
        s.faults.push(FaultRule {
            command: Some(command.into()),
            fault,
            percent: 100,
            times: Some(1),
        })
    });
}

fn contact_file(w: &World, first: &str, email: &str) -> String {
    let mut c = support_contacts::owen("").owner;
    c.first_name = first.into();
    c.email = email.into();
    let path = w.dir.join(format!("{first}.json"));
    std::fs::write(&path, serde_json::to_string(&c).unwrap()).unwrap();
    path.display().to_string()
}

async fn registered(w: &World, domain: &str) {
    w.order(domain, OrderKind::Register).await;
    let mut engine = w.engine();
    for _ in 0..6 {
        engine.run_once().await.unwrap();
        if w.state(domain).await.is_registered() {
            return;
        }
        w.advance(Duration::hours(2));
    }
    panic!("{domain} was not registered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_change_once_and_a_new_registrant_asks_about_the_transfer_lock() {
    let w = world().await;
    registered(&w, "people.com").await;
    let nora = contact_file(&w, "Nora", "nora@example.com");
    let before = w.state("people.com").await.version;
    let asked = err(
        &w,
        &[
            "contacts",
            "people.com",
            "--file",
            &nora,
            "--roles",
            "owner",
        ],
    );
    assert!(
        asked.contains("60-day") && asked.contains("--opt-out-of-transfer-lock"),
        "{asked}"
    );
    assert_eq!(
        w.state("people.com").await.version,
        before,
        "nothing written"
    );
    assert_eq!(calls(&w, "UPDATE_CONTACTS"), 0, "nothing sent");

    let applied = ok(
        &w,
        &[
            "contacts",
            "people.com",
            "--file",
            &nora,
            "--roles",
            "owner,admin",
            "--opt-out-of-transfer-lock",
            "--json",
        ],
    );
    assert_eq!(applied["state"], "applied", "{applied}");
    let at_opensrs = w
        .sandbox
        .with_state(|s| s.profiles["people.com"].contacts.clone());
    assert_eq!(at_opensrs["owner"]["first_name"], "Nora");
    assert_eq!(at_opensrs["admin"]["email"], "nora@example.com");
    assert_eq!(at_opensrs["tech"]["first_name"], "Owen", "tech untouched");
    let state = w.state("people.com").await;
    assert_eq!(state.owner.map(|o| o.first_name), Some("Nora".into()));

    // The tech contact alone: no registrant change, no question.
    let tess = contact_file(&w, "Tess", "tess@example.com");
    let tech = ok(
        &w,
        &[
            "contacts",
            "people.com",
            "--file",
            &tess,
            "--roles",
            "tech",
            "--json",
        ],
    );
    assert_eq!(tech["state"], "applied", "{tech}");

    // The answer is lost after OpenSRS made it: read back (GET DOMAIN), never sent again.
    let sent = calls(&w, "UPDATE_CONTACTS");
    fault(&w, "UPDATE_CONTACTS", Fault::PerformThenDrop);
    let ada = contact_file(&w, "Ada", "ada@example.com");
    let lost = ok(
        &w,
        &[
            "contacts",
            "people.com",
            "--file",
            &ada,
            "--roles",
            "billing",
            "--json",
        ],
    );
    assert_eq!(lost["state"], "applied", "{lost}");
    assert!(lost["answer"]["text"]
        .as_str()
        .unwrap()
        .contains("shows the change made"));
    assert_eq!(calls(&w, "UPDATE_CONTACTS"), sent + 1, "sent once");

    // Refused by OpenSRS (the domain is no longer in the account there): recorded, said.
    w.sandbox.with_state(|s| {
        s.domains.get_mut("people.com").unwrap().owner = "someone-else".into();
    });
    let gone = err(
        &w,
        &[
            "contacts",
            "people.com",
            "--file",
            &tess,
            "--roles",
            "admin",
        ],
    );
    assert!(
        gone.contains("480") && gone.contains("not found in your account"),
        "{gone}"
    );
    w.sandbox.with_state(|s| {
        s.domains.get_mut("people.com").unwrap().owner = "reseller".into();
    });
    let sent = calls(&w, "UPDATE_CONTACTS");

    // Refused by the model: a contact OpenSRS would refuse, and .dk's registry.
    let bad = w.dir.join("bad.json");
    std::fs::write(&bad, r#"{"first_name":"X","last_name":"Y","address1":"1","city":"C","country":"USA","postal_code":"1","phone":"+1.5555550100","email":"x@example.com"}"#).unwrap();
    let refused = err(
        &w,
        &[
            "contacts",
            "people.com",
            "--file",
            bad.to_str().unwrap(),
            "--roles",
            "admin",
        ],
    );
    assert!(refused.contains("country"), "{refused}");
    assert_eq!(calls(&w, "UPDATE_CONTACTS"), sent, "nothing sent");

    let audit = text(&w, &["audit", "people.com"]);
    for line in [
        "owner, admin contact set to Nora Ottway <nora@example.com>; registrant opted out of the 60-day transfer lock",
        "tech contact set to Tess Ottway",
        "applied at OpenSRS",
    ] {
        assert!(audit.contains(line), "{line:?} in\n{audit}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_nameservers_are_made_changed_and_deleted_once_with_the_registrys_rules() {
    let w = world().await;
    registered(&w, "glue.com").await;
    let made = ok(
        &w,
        &[
            "child-nameservers",
            "glue.com",
            "create",
            "NS1.glue.com",
            "--ipv4",
            "192.0.2.1",
            "--json",
        ],
    );
    assert_eq!(made["state"], "applied", "{made}");
    let host = w.sandbox.with_state(|s| s.hosts["ns1.glue.com"].clone());
    assert_eq!(host.ipv4.as_deref(), Some("192.0.2.1"));
    let listed = ok(&w, &["child-nameservers", "glue.com", "list", "--json"]);
    assert_eq!(listed["at_opensrs"][0]["name"], "ns1.glue.com", "{listed}");
    assert_eq!(listed["recorded"][0]["ipv4"], "192.0.2.1", "{listed}");

    // Refused by OpenSRS: it exists already. Recorded with the answer, and said.
    let again = err(
        &w,
        &[
            "child-nameservers",
            "glue.com",
            "create",
            "ns1.glue.com",
            "--ipv4",
            "192.0.2.9",
        ],
    );
    assert!(
        again.contains("485") && again.contains("already exists"),
        "{again}"
    );

    let moved = ok(
        &w,
        &[
            "child-nameservers",
            "glue.com",
            "modify",
            "ns1.glue.com",
            "--ipv6",
            "2001:DB8::53",
            "--json",
        ],
    );
    assert_eq!(moved["state"], "applied", "{moved}");
    let host = w.sandbox.with_state(|s| s.hosts["ns1.glue.com"].clone());
    assert_eq!(
        (host.ipv4, host.ipv6.as_deref()),
        (None, Some("2001:db8::53"))
    );

    // In use by the domain itself: OpenSRS refuses the delete.
    ok(
        &w,
        &[
            "nameservers",
            "glue.com",
            "ns1.glue.com",
            "ns2.example.net",
            "--json",
        ],
    );
    let busy = err(
        &w,
        &["child-nameservers", "glue.com", "delete", "ns1.glue.com"],
    );
    assert!(busy.contains("in use"), "{busy}");
    ok(
        &w,
        &[
            "nameservers",
            "glue.com",
            "ns1.example.net",
            "ns2.example.net",
            "--json",
        ],
    );

    // The delete's answer lost and the read-back unanswered: the engine settles it once
    // the lease lapses, from NAMESERVER GET, without sending it again.
    let deletes = calls(&w, "DELETE");
    fault(&w, "DELETE", Fault::PerformThenDrop);
    w.sandbox.with_state(|s| {
        s.faults.push(FaultRule {
            command: Some("GET".into()),
            fault: Fault::Drop,
            percent: 100,
            times: None,
        })
    });
    let pending = ok(
        &w,
        &[
            "child-nameservers",
            "glue.com",
            "delete",
            "ns1.glue.com",
            "--json",
        ],
    );
    assert_eq!(pending["state"], "sent", "{pending}");
    let id: OrderId = pending["change_id"].as_str().unwrap().parse().unwrap();
    w.sandbox.with_state(|s| s.faults.clear());
    let real_now = chrono::Utc::now();
    w.advance(real_now - w.clock_now() + Duration::minutes(5));
    let round = w.engine().run_once().await.unwrap();
    assert_eq!(round.changes_recovered, 1, "{round:?}");
    let s = w.state("glue.com").await;
    assert_eq!(s.changes[&id].stage, ChangeStage::Applied);
    assert!(s.child_nameservers.is_empty(), "{:?}", s.child_nameservers);
    assert_eq!(calls(&w, "DELETE"), deletes + 1, "sent once, never again");

    // Refused by the model, nothing sent: outside the domain, .de without IPv4.
    let creates = calls(&w, "CREATE");
    let outside = err(
        &w,
        &[
            "child-nameservers",
            "glue.com",
            "create",
            "ns1.other.com",
            "--ipv4",
            "192.0.2.1",
        ],
    );
    assert!(outside.contains("not under glue.com"), "{outside}");
    registered(&w, "glue.de").await;
    let de = err(
        &w,
        &[
            "child-nameservers",
            "glue.de",
            "create",
            "ns1.glue.de",
            "--ipv6",
            "2001:db8::1",
        ],
    );
    assert!(de.contains("IPv4"), "{de}");
    assert_eq!(calls(&w, "CREATE"), creates, "nothing sent");
    let audit = text(&w, &["audit", "glue.com"]);
    for line in [
        "child nameserver ns1.glue.com created at 192.0.2.1",
        "child nameserver ns1.glue.com changed at 2001:db8::53",
        "not made: Nameserver already exists",
        "child nameserver ns1.glue.com deleted",
    ] {
        assert!(audit.contains(line), "{line:?} in\n{audit}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_uk_domain_leaves_by_its_ips_tag_once_and_other_tlds_are_refused() {
    let w = world().await;
    text(&w, &["tld", "assign", "co.uk", "--registrar", "main"]);
    text(
        &w,
        &[
            "price", "set", "co.uk", "--kind", "register", "--years", "1", "--amount", "7.00",
        ],
    );
    registered(&w, "leaving.co.uk").await;
    registered(&w, "staying.com").await;
    let unconfirmed = err(&w, &["ips-tag", "leaving.co.uk", "TUCOWS-CA"]);
    assert!(unconfirmed.contains("--release"), "{unconfirmed}");
    let com = err(&w, &["ips-tag", "staying.com", "TUCOWS-CA", "--release"]);
    assert!(com.contains("transfer code, not an IPS tag"), "{com}");
    let code = err(&w, &["auth-code", "leaving.co.uk"]);
    assert!(code.contains("ips-tag leaving.co.uk"), "{code}");
    assert_eq!(calls(&w, "MODIFY"), 0, "nothing sent");

    let bad = err(&w, &["ips-tag", "leaving.co.uk", "BADTAG", "--release"]);
    assert!(
        bad.contains("465") && bad.contains("not a Nominet IPS tag"),
        "{bad}"
    );
    // Its answer lost after OpenSRS moved it: BELONGS_TO_RSP settles it, never a resend.
    fault(&w, "MODIFY", Fault::PerformThenDrop);
    let gone = ok(
        &w,
        &[
            "ips-tag",
            "leaving.co.uk",
            "tucows-ca",
            "--release",
            "--json",
        ],
    );
    assert_eq!(gone["state"], "applied", "{gone}");
    assert!(
        gone["answer"]["text"]
            .as_str()
            .unwrap()
            .contains("shows the change made"),
        "{gone}"
    );
    assert_eq!(calls(&w, "MODIFY"), 2, "each sent once");
    let state = w.state("leaving.co.uk").await;
    assert!(
        state
            .gone
            .as_deref()
            .is_some_and(|g| g.contains("TUCOWS-CA")),
        "{:?}",
        state.gone
    );
    let away = w.sandbox.with_state(|s| s.transfers_away.clone());
    assert_eq!(away.len(), 1);
    assert_eq!(away[0].gaining_registrar, "TUCOWS-CA");
    let after = err(
        &w,
        &[
            "nameservers",
            "leaving.co.uk",
            "ns1.example.net",
            "ns2.example.net",
        ],
    );
    assert!(after.contains("not registered"), "{after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn priced_privacy_is_charged_and_refunded_when_opensrs_refuses() {
    let w = world().await;
    registered(&w, "quiet.com").await;
    text(
        &w,
        &[
            "price", "set", "com", "--kind", "privacy", "--amount", "3.00",
        ],
    );
    let years = err(
        &w,
        &[
            "price", "set", "com", "--kind", "privacy", "--years", "1", "--amount", "3.00",
        ],
    );
    assert!(years.contains("priced once"), "{years}");
    let on = ok(&w, &["privacy", "quiet.com", "on", "--json"]);
    assert_eq!(on["state"], "applied", "{on}");
    assert_eq!(on["charged"]["minor"], 300, "{on}");
    let off = ok(&w, &["privacy", "quiet.com", "off", "--json"]);
    assert!(off.get("charged").is_none(), "switching off is free: {off}");
    // OpenSRS no longer has the domain: refused, and the charge goes back.
    w.sandbox.with_state(|s| {
        s.domains.get_mut("quiet.com").unwrap().owner = "someone-else".into();
    });
    let refused = err(&w, &["privacy", "quiet.com", "on"]);
    assert!(refused.contains("480"), "{refused}");
    let ledger = text(&w, &["ledger", "--account", "alice"]);
    let privacy_lines = ledger.lines().filter(|l| l.contains("3.00")).count();
    assert_eq!(privacy_lines, 3, "two charges, one refund:\n{ledger}");
    let audit = text(&w, &["audit", "quiet.com"]);
    assert!(
        audit.contains("3.00 USD refunded to account alice"),
        "{audit}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewal_in_the_grace_period_works_past_it_the_admin_is_told_to_restore() {
    let w = world().await;
    registered(&w, "lapsed.com").await;
    text(&w, &["auto-renew", "lapsed.com", "off"]);
    let expires = w.state("lapsed.com").await.expires_at.unwrap();
    let renew = |w: &World| {
        let mut app = open_app(&w.dir);
        let req = OrderRequest {
            domain: "lapsed.com".into(),
            account: "alice".into(),
            kind: OrderKind::Renew,
            years: 1,
            contacts: None,
            nameservers: vec![],
            auth_code: None,
            order_id: None,
        };
        let now = w.clock_now();
        async move {
            place_order(&mut app, req, Actor::Admin("test".into()), now)
                .await
                .map_err(|e| e.to_string())
        }
    };
    w.advance(expires - w.clock_now() + Duration::days(31));
    let refused = renew(&w).await.unwrap_err();
    assert!(
        refused.contains("can no longer be renewed, only restored")
            && refused.contains("no .com restore price is set"),
        "{refused}"
    );
    text(
        &w,
        &[
            "price", "set", "com", "--kind", "restore", "--amount", "80.00",
        ],
    );
    let priced = renew(&w).await.unwrap_err();
    assert!(priced.contains("restore price is 80.00 USD"), "{priced}");
    assert!(
        w.state("lapsed.com").await.orders.len() == 1,
        "nothing ordered or charged"
    );

    // Inside the grace period a renewal goes through.
    registered(&w, "late.com").await;
    text(&w, &["auto-renew", "late.com", "off"]);
    let expires = w.state("late.com").await.expires_at.unwrap();
    w.advance(expires - w.clock_now() + Duration::days(10));
    let mut app = open_app(&w.dir);
    let placed = place_order(
        &mut app,
        OrderRequest {
            domain: "late.com".into(),
            account: "alice".into(),
            kind: OrderKind::Renew,
            years: 1,
            contacts: None,
            nameservers: vec![],
            auth_code: None,
            order_id: None,
        },
        Actor::Admin("test".into()),
        w.clock_now(),
    )
    .await
    .unwrap();
    w.engine().run_once().await.unwrap();
    let s = w.state("late.com").await;
    assert_eq!(s.orders[&placed.order_id].end(), Some(End::Confirmed));
    assert!(s.expires_at.unwrap() > expires + Duration::days(360));
}

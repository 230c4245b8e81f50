//! Evidence for disputes: every mutating OpenSRS call's request (secrets and contacts
//! redacted) and reply body, kept by content address and linked from the order's events.

#[path = "support/cli.rs"]
mod support_cli;
#[path = "support/contacts.rs"]
mod support_contacts;
#[path = "support/engine_world.rs"]
mod world;

use domreg_events::*;
use serde_json::Value;
use world::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_registration_and_the_cancel_of_a_parked_order_are_kept_and_shown() {
    let w = world().await;
    let order = w.order("evidence.com", OrderKind::Register).await;
    let parked = w.order("parked-evidence.com", OrderKind::Register).await;
    let mut engine = w.engine();
    engine.run_once().await.unwrap();
    let s = w.state("evidence.com").await;
    let answer = s.orders[&order].last_answer.clone().unwrap();
    assert_eq!(answer.evidence.len(), 1, "{answer:?}");
    let s = w.state("parked-evidence.com").await;
    let answer = s.orders[&parked].last_answer.clone().unwrap();
    assert_eq!(
        answer.evidence.len(),
        2,
        "SW_REGISTER and PROCESS_PENDING: {answer:?}"
    );

    let out = tokio::task::block_in_place(|| {
        support_cli::domreg_ok(&w.dir, &["audit", "evidence.com", "--evidence", "--json"])
    });
    let v: Value = serde_json::from_str(&out).unwrap();
    let kept = v["evidence"].as_object().unwrap();
    assert_eq!(kept.len(), 1, "{v}");
    let (hash, e) = kept.iter().next().unwrap();
    assert_eq!(hash.len(), 64);
    assert_eq!(e["command"], "SW_REGISTER");
    let request = e["request"].as_str().unwrap();
    assert!(
        request.contains("<item key=\"domain\">evidence.com</item>"),
        "{request}"
    );
    assert!(request.contains("[redacted]"), "{request}");
    let owner = &support_contacts::owen("").owner;
    for personal in [&owner.first_name, &owner.email, &owner.phone] {
        assert!(
            !request.contains(personal.as_str()),
            "{personal} in {request}"
        );
    }
    assert!(!request.contains(KEY), "the reseller key never appears");
    let reply = e["reply"].as_str().unwrap();
    assert!(
        reply.contains("<item key=\"response_code\">200</item>"),
        "{reply}"
    );

    let text = tokio::task::block_in_place(|| {
        support_cli::domreg_ok(&w.dir, &["audit", "parked-evidence.com", "--evidence"])
    });
    assert!(
        text.contains("PROCESS_PENDING on connection main"),
        "{text}"
    );
    assert!(text.contains("forced_pending"), "{text}");

    // What is kept shares one evidence file (one commit for the calls of a moment); a
    // body altered there is reported, never shown as evidence.
    let db = rusqlite::Connection::open(w.dir.join("evidence").join("evidence.db")).unwrap();
    let body: Vec<u8> = db
        .query_row("SELECT body FROM evidence WHERE hash = ?1", [hash], |r| {
            r.get(0)
        })
        .unwrap();
    let altered = String::from_utf8(body.clone())
        .unwrap()
        .replace("200", "485");
    db.execute(
        "UPDATE evidence SET body = ?2 WHERE hash = ?1",
        rusqlite::params![hash, altered.as_bytes()],
    )
    .unwrap();
    let text = tokio::task::block_in_place(|| {
        support_cli::domreg_ok(&w.dir, &["audit", "evidence.com", "--evidence"])
    });
    assert!(text.contains("does not match its address"), "{text}");

    // Evidence kept before the file (one JSON file per exchange) is still read, and
    // checked the same way.
    db.execute("DELETE FROM evidence WHERE hash = ?1", [hash])
        .unwrap();
    drop(db);
    let path = w
        .dir
        .join("evidence")
        .join(&hash[..2])
        .join(format!("{hash}.json"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &body).unwrap();
    let text = tokio::task::block_in_place(|| {
        support_cli::domreg_ok(&w.dir, &["audit", "evidence.com", "--evidence"])
    });
    assert!(text.contains("SW_REGISTER on connection main"), "{text}");
    std::fs::write(&path, altered).unwrap();
    let text = tokio::task::block_in_place(|| {
        support_cli::domreg_ok(&w.dir, &["audit", "evidence.com", "--evidence"])
    });
    assert!(text.contains("does not match its address"), "{text}");
    std::fs::remove_file(&path).unwrap();
    let text = tokio::task::block_in_place(|| {
        support_cli::domreg_ok(&w.dir, &["audit", "evidence.com", "--evidence"])
    });
    assert!(text.contains("is not kept here"), "{text}");
}

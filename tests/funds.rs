//! Money the customer has: credit limits, and concurrent orders of one account that
//! together cannot spend past them (the API over real HTTP, the embedded log).

#[path = "support/api.rs"]
mod support_api;
#[path = "support/cli.rs"]
mod support_cli;
#[path = "support/contacts.rs"]
mod support_contacts;

use serde_json::{json, Value};
use support_api::api_world as world;
use support_cli::domreg_ok;

fn connect(w: &support_api::ApiWorld) {
    let port = w.sandbox.addr.port();
    tokio::task::block_in_place(|| {
        support_cli::connect_sandbox(w.dir.path(), port, support_api::KEY, &["com"]);
        domreg_ok(
            w.dir.path(),
            &[
                "account",
                "contacts",
                "alice",
                "--file",
                support_contacts::owen_file(w.dir.path()).to_str().unwrap(),
            ],
        );
    });
}

/// The events of one type in the log.
fn count(dir: &std::path::Path, event_type: &str) -> i64 {
    domreg::store::SqliteStore::read_file(dir.join("events.db"))
        .unwrap()
        .iter()
        .filter(|e| e.event_type == event_type)
        .count() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_orders_of_one_account_cannot_overspend() {
    let w = world().await;
    connect(&w);
    // No debt for alice (the test world's default lets accounts owe), and exactly ten
    // registrations' worth of money.
    w.api
        .expect(
            "PUT",
            "/api/v1/accounts/alice/credit-limit",
            Some(&json!({"amount": "0"})),
            200,
        )
        .await;
    w.api
        .expect(
            "POST",
            "/api/v1/accounts/alice/credits",
            Some(&json!({"amount": "129.90"})),
            201,
        )
        .await;
    let api = std::sync::Arc::new(w.api);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..50 {
        let api = api.clone();
        tasks.spawn(async move {
            let body =
                json!({"kind": "register", "domain": format!("rush-{i}.com"), "account": "alice"});
            api.send("POST", "/api/v1/orders", Some(&body)).await
        });
    }
    let mut placed = 0;
    let mut refused = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let (status, body) = r.unwrap();
        match status {
            201 => placed += 1,
            402 => refused.push(body),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(placed, 10, "exactly what 129.90 USD pays for");
    assert_eq!(refused.len(), 40);
    for body in &refused {
        assert_eq!(body["error"]["code"], "insufficient_funds", "{body}");
        let m = body["error"]["message"].as_str().unwrap();
        assert!(
            m.contains("12.99 USD is missing") && m.contains("nothing was charged"),
            "{m}"
        );
    }
    let standing = api.expect("GET", "/api/v1/accounts/alice", None, 200).await;
    assert_eq!(standing["balance"]["minor"], 0, "{standing}");
    assert_eq!(standing["available"]["minor"], 0, "{standing}");
    assert_eq!(count(w.dir.path(), "Charged"), 10);
    assert_eq!(count(w.dir.path(), "Requested"), 10);
    assert_eq!(count(w.dir.path(), "FundsHeld"), 10);
    let ledger: Value = api
        .expect("GET", "/api/v1/ledger?account=alice", None, 200)
        .await;
    let entries = ledger["entries"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .all(|e| e["balance_after"]["minor"].as_i64().unwrap() >= 0),
        "the balance never went below the limit: {ledger}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_past_the_credit_limit_is_refused_with_the_amount_missing() {
    let w = world().await;
    connect(&w);
    let d = w.dir.path();
    tokio::task::block_in_place(|| {
        domreg_ok(d, &["account", "limit", "alice", "5.00"]);
        domreg_ok(d, &["account", "credit", "alice", "10.00"]);
    });
    let order = |domain: &str| json!({"kind": "register", "domain": domain, "account": "alice"});
    // 10.00 - 12.99 = -2.99: within the 5.00 alice may owe.
    w.api
        .expect("POST", "/api/v1/orders", Some(&order("first.com")), 201)
        .await;
    let before = support_api::log_head(d);
    let (status, body) = w
        .api
        .send("POST", "/api/v1/orders", Some(&order("second.com")))
        .await;
    assert_eq!(status, 402, "{body}");
    let m = body["error"]["message"].as_str().unwrap();
    assert!(
        m.contains("balance is -2.99 USD")
            && m.contains("credit limit 5.00 USD")
            && m.contains("10.98 USD is missing"),
        "{m}"
    );
    assert_eq!(
        support_api::log_head(d),
        before,
        "a refused order writes nothing"
    );
    // The CLI refuses the same way, and says so on stderr.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_domreg"))
        .arg("--data-dir")
        .arg(d)
        .args(["register", "second.com", "--account", "alice"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("10.98 USD is missing"), "{err}");
    // Paying in the difference lets it through.
    tokio::task::block_in_place(|| domreg_ok(d, &["account", "credit", "alice", "10.98"]));
    w.api
        .expect("POST", "/api/v1/orders", Some(&order("second.com")), 201)
        .await;
    let shown =
        tokio::task::block_in_place(|| domreg_ok(d, &["account", "show", "alice", "--json"]));
    let shown: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["balance"]["minor"], -500, "{shown}");
    assert_eq!(shown["available"]["minor"], 0, "{shown}");
    // A negative limit is no limit at all: refused by name.
    let (status, body) = w
        .api
        .send(
            "PUT",
            "/api/v1/accounts/alice/credit-limit",
            Some(&json!({"amount": "-1"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("zero or more"));
}

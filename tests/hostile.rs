//! Hostile input against the CLI and the HTTP API: every case gets a clear error (or is
//! handled correctly) and a rejected command writes nothing to the log. And 100
//! simultaneous registrations of one domain: one proceeds, the others get a conflict.

#[path = "support/api.rs"]
mod support_api;
#[path = "support/cli.rs"]
mod support_cli;
#[path = "support/contacts.rs"]
mod support_contacts;

use std::path::Path;
use std::process::Command;

use domreg::app::App;
use domreg::clock::SystemClock;
use domreg::engine::Engine;
use serde_json::{json, Value};
use support_api::{api_world, log_head, ApiWorld, KEY};
use support_cli::{connect_sandbox, domreg_ok};

async fn world() -> ApiWorld {
    let w = api_world().await;
    let d = w.dir.path().to_path_buf();
    let port = w.sandbox.addr.port();
    tokio::task::block_in_place(|| {
        connect_sandbox(&d, port, KEY, &["com", "de"]);
        let contacts = d.join("contacts.json");
        std::fs::write(
            &contacts,
            serde_json::to_string(&support_contacts::owen("")).unwrap(),
        )
        .unwrap();
        for a in 0..100 {
            let account = format!("acct{a}");
            domreg_ok(
                &d,
                &[
                    "account",
                    "contacts",
                    &account,
                    "--file",
                    contacts.to_str().unwrap(),
                ],
            );
        }
        domreg_ok(&d, &["account", "credit", "acct0", "100.00"]);
    });
    w
}

/// Runs the CLI; the test fails unless it fails with a message holding `expected`.
fn refused(dir: &Path, args: &[&str], expected: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_domreg"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} should be refused");
    assert!(
        stderr.contains(expected),
        "{args:?}: expected {expected:?} in: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
}

fn contacts_with(field: &str, value: &str) -> Value {
    let mut c = serde_json::to_value(support_contacts::owen("")).unwrap();
    for role in ["owner", "admin", "billing", "tech"] {
        c[role][field] = json!(value);
    }
    c
}

const FIELDS: [&str; 13] = [
    "first_name",
    "last_name",
    "org_name",
    "address1",
    "address2",
    "address3",
    "city",
    "state",
    "country",
    "postal_code",
    "phone",
    "fax",
    "email",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_cli_input_gets_clear_errors_and_writes_nothing() {
    let w = world().await;
    let d = w.dir.path();
    let before = log_head(d);
    let long_label = format!("{}.com", "a".repeat(64));
    let long_name = format!("{}.com", ["abcdefghij"; 25].join("."));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["register", "", "--account", "acct0"], "empty"),
        (
            vec!["register", "a..com", "--account", "acct0"],
            "labels hold 1 to 63",
        ),
        (
            vec!["register", &long_label, "--account", "acct0"],
            "labels hold 1 to 63",
        ),
        (
            vec!["register", &long_name, "--account", "acct0"],
            "at most 253",
        ),
        (
            vec!["register", "-bad-.com", "--account", "acct0"],
            "to pass '-b' as a value, use '-- -b'",
        ),
        (
            vec!["register", "--account", "acct0", "--", "-bad-.com"],
            "may not start or end with '-'",
        ),
        (
            vec!["register", "ex ample.com", "--account", "acct0"],
            "may only hold letters a-z, digits and '-'",
        ),
        (
            vec!["register", "<script>.com", "--account", "acct0"],
            "may only hold letters a-z, digits and '-'",
        ),
        (
            vec!["register", "p\u{0430}ypal.com", "--account", "acct0"],
            "mixes Latin and Cyrillic letters",
        ),
        (
            vec!["register", "xn--pypal-4ve.com", "--account", "acct0"],
            "mixes Latin and Cyrillic letters",
        ),
        (
            vec!["register", "example.unknowntld", "--account", "acct0"],
            "no OpenSRS connection is assigned",
        ),
        (
            vec!["register", "co.uk", "--account", "acct0"],
            "bare public suffix",
        ),
        (
            vec!["register", "www.example.com", "--account", "acct0"],
            "drop the leading",
        ),
        (
            vec!["register", "example.123", "--account", "acct0"],
            "all digits",
        ),
        (
            vec![
                "register",
                "ok-name.com",
                "--account",
                "acct0",
                "--years",
                "0",
            ],
            "1 to 10 years",
        ),
        (
            vec![
                "register",
                "ok-name.com",
                "--account",
                "acct0",
                "--years",
                "-3",
            ],
            "1 to 10 years",
        ),
        (
            vec![
                "register",
                "ok-name.com",
                "--account",
                "acct0",
                "--years",
                "11",
            ],
            "1 to 10 years",
        ),
        (
            vec![
                "register",
                "ok-name.com",
                "--account",
                "acct0",
                "--years",
                "99999999999999999999",
            ],
            "invalid value",
        ),
        (
            vec!["register", "ok-name.com", "--account", ""],
            "account id",
        ),
        (
            vec!["register", "ok-name.com", "--account", "a b"],
            "account id",
        ),
        (
            vec!["register", "ok-name.com", "--account", "acct\u{7}"],
            "account id",
        ),
        (
            vec!["register", "ok-name.com", "--account", "nobody"],
            "no contacts for account nobody",
        ),
        (
            vec!["renew", "never-registered.com", "--account", "acct0"],
            "renew",
        ),
        (vec!["account", "credit", "acct0", "-5"], "more than zero"),
        (vec!["account", "credit", "acct0", "0"], "more than zero"),
        (
            vec!["account", "credit", "acct0", "12.999"],
            "is not an amount",
        ),
        (
            vec!["account", "credit", "acct0", "1e5"],
            "is not an amount",
        ),
        (
            vec!["account", "credit", "acct0", "99999999999999999999"],
            "more than domreg accepts",
        ),
        (
            vec!["account", "credit", "acct0", "NaN"],
            "is not an amount",
        ),
        (
            vec!["account", "credit", "acct0", "5", "--currency", "ZZZZ"],
            "currency",
        ),
        (
            vec!["async", "cancel", "0190aaaa-0000-7000-8000-000000000000"],
            "no open order",
        ),
        (
            vec!["async", "check", "../../etc/passwd"],
            "is not an order id",
        ),
        (
            vec![
                "price", "set", "com", "--kind", "register", "--years", "1", "--amount", "-1",
            ],
            "more than zero",
        ),
        (
            vec![
                "price", "set", "com", "--kind", "register", "--years", "1000", "--amount", "1",
            ],
            "1 to 10 years",
        ),
        (
            vec![
                "policy",
                "set",
                "de",
                "--poll-every",
                "0s",
                "--timeout",
                "1h",
            ],
            "--poll-every",
        ),
        (
            vec!["audit", "example.com", "--at", "\u{1}"],
            "is not a time",
        ),
    ];
    tokio::task::block_in_place(|| {
        for (args, expected) in &cases {
            refused(d, args, expected);
        }
        // Control characters in any contact field: refused, naming the field.
        for field in FIELDS {
            let file = d.join(format!("bad-{field}.json"));
            std::fs::write(
                &file,
                contacts_with(field, "bad\u{1b}[31mvalue\n").to_string(),
            )
            .unwrap();
            refused(
                d,
                &[
                    "register",
                    "ok-name.com",
                    "--account",
                    "acct0",
                    "--contacts",
                    file.to_str().unwrap(),
                ],
                field,
            );
        }
        let junk = d.join("junk.json");
        std::fs::write(&junk, "{\"owner\": <xml/>}").unwrap();
        refused(
            d,
            &[
                "register",
                "ok-name.com",
                "--account",
                "acct0",
                "--contacts",
                junk.to_str().unwrap(),
            ],
            "is not a contact set",
        );
    });
    assert_eq!(log_head(d), before, "a rejected command wrote to the log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_api_input_gets_clear_errors_and_writes_nothing() {
    let w = world().await;
    let api = &w.api;
    let before = log_head(w.dir.path());
    let order = |domain: &str| json!({"kind": "register", "domain": domain, "account": "acct0"});
    let cases: Vec<(&str, String, Option<Value>, u16, &str)> = vec![
        (
            "POST",
            "/api/v1/orders".into(),
            Some(order("p\u{0430}ypal.com")),
            400,
            "invalid_domain",
        ),
        (
            "POST",
            "/api/v1/orders".into(),
            Some(order(&"x".repeat(300))),
            400,
            "invalid_domain",
        ),
        (
            "POST",
            "/api/v1/orders".into(),
            Some(order("bad\u{0}name.com")),
            400,
            "invalid_domain",
        ),
        (
            "POST",
            "/api/v1/orders".into(),
            Some(order("example.unknowntld")),
            409,
            "not_orderable",
        ),
        (
            "POST",
            "/api/v1/orders".into(),
            Some(
                json!({"kind": "register", "domain": "ok.com", "account": "acct0", "years": 1e20}),
            ),
            422,
            "invalid_body",
        ),
        (
            "POST",
            "/api/v1/orders".into(),
            Some(json!({"kind": "register", "domain": "ok.com", "account": "acct0", "years": -1})),
            400,
            "invalid_period",
        ),
        (
            "POST",
            "/api/v1/orders".into(),
            Some(
                json!({"kind": "register", "domain": "ok.com", "account": "acct0", "contacts": contacts_with("city", "x\u{7}")}),
            ),
            400,
            "invalid_contacts",
        ),
        (
            "POST",
            "/api/v1/orders".into(),
            Some(json!([1, 2, 3])),
            400,
            "invalid_body",
        ),
        (
            "POST",
            "/api/v1/accounts/acct0/credits".into(),
            Some(json!({"amount": "-0.01"})),
            400,
            "invalid_amount",
        ),
        (
            "POST",
            "/api/v1/accounts/acct0/credits".into(),
            Some(json!({"amount": "92233720368547758.08"})),
            400,
            "invalid_amount",
        ),
        (
            "POST",
            "/api/v1/accounts/acct0/credits".into(),
            Some(json!({"amount": "1", "note": "x\u{1b}"})),
            400,
            "invalid_note",
        ),
        (
            "POST",
            "/api/v1/accounts/a%20b/credits".into(),
            Some(json!({"amount": "1"})),
            400,
            "invalid_account",
        ),
        (
            "POST",
            "/api/v1/async/0190aaaa-0000-7000-8000-000000000000/reset".into(),
            None,
            404,
            "not_found",
        ),
        (
            "GET",
            "/api/v1/audit/domains/%3Cscript%3E.com".into(),
            None,
            400,
            "invalid_domain",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let (s, j) = api.send(method, &path, body.as_ref()).await;
        assert_eq!(
            (s, j["error"]["code"].as_str()),
            (status, Some(code)),
            "{method} {path}: {j}"
        );
    }
    // A body too large: answered 413 before it is read, so the server closes that
    // connection; a client of its own keeps the others' connections out of the race.
    let (s, j) = support_api::ApiClient::new(api.base.clone(), &api.token)
        .send(
            "POST",
            "/api/v1/orders",
            Some(&json!({"pad": "x".repeat(1 << 20)})),
        )
        .await;
    assert_eq!(
        (s, j["error"]["code"].as_str()),
        (413, Some("body_too_large")),
        "{j}"
    );
    for token in [
        None,
        Some(""),
        Some("x"),
        Some("api-test-token-abcdefghijklmnoX"),
    ] {
        let (s, _, _) = api
            .send_as("POST", "/api/v1/orders", Some(&order("ok.com")), token)
            .await;
        assert!(s == 401 || s == 403, "token {token:?}: {s}");
    }
    assert_eq!(
        log_head(w.dir.path()),
        before,
        "a rejected request wrote to the log"
    );

    // A replayed request is a new command for the same domain: refused while the first
    // is open, so nobody pays twice.
    let first = api
        .send("POST", "/api/v1/orders", Some(&order("replayed.com")))
        .await;
    assert_eq!(first.0, 201, "{}", first.1);
    let again = api
        .send("POST", "/api/v1/orders", Some(&order("replayed.com")))
        .await;
    assert_eq!(
        (again.0, again.1["error"]["code"].as_str()),
        (409, Some("conflict")),
        "{}",
        again.1
    );
    assert!(again.1["error"]["message"]
        .as_str()
        .unwrap()
        .contains("has an open register order"));

    // XML metacharacters in every free-text contact field reach OpenSRS intact.
    let mut tricky = serde_json::to_value(support_contacts::owen("")).unwrap();
    for role in ["owner", "admin", "billing", "tech"] {
        for field in [
            "first_name",
            "last_name",
            "org_name",
            "address1",
            "address2",
            "address3",
            "city",
            "state",
            "postal_code",
        ] {
            tricky[role][field] = json!("<a href=\"x\">&amp; 'quoted' </a>]]>");
        }
    }
    let placed = api
        .send("POST", "/api/v1/orders", Some(&json!({"kind": "register", "domain": "xml-meta.com", "account": "acct1", "contacts": tricky})))
        .await;
    assert_eq!(placed.0, 201, "{}", placed.1);
    Engine::new(App::open(w.dir.path()).unwrap(), SystemClock)
        .run_once()
        .await
        .unwrap();
    let audit = api
        .send("GET", "/api/v1/audit/domains/xml-meta.com", None)
        .await
        .1;
    assert_eq!(audit["state"]["orders"][0]["state"], "confirmed", "{audit}");
    let details = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event_type"] == "OrderDetailsRecorded")
        .unwrap();
    assert_eq!(
        details["data"]["contacts"]["owner"]["city"],
        "<a href=\"x\">&amp; 'quoted' </a>]]>"
    );
}

/// 100 registrations of one domain at once, from 100 accounts: one order, one charge.
async fn one_wins(w: &ApiWorld, domain: &str, by_api: bool) {
    let mut tasks = tokio::task::JoinSet::new();
    for a in 0..100 {
        let account = format!("acct{a}");
        let domain = domain.to_string();
        if by_api {
            let base = w.api.base.clone();
            tasks.spawn(async move {
                let api = support_api::ApiClient::new(base, support_api::TOKEN);
                let (s, j) = api
                    .send(
                        "POST",
                        "/api/v1/orders",
                        Some(&json!({"kind": "register", "domain": domain, "account": account})),
                    )
                    .await;
                (s == 201, j.to_string())
            });
        } else {
            let dir = w.dir.path().to_path_buf();
            tasks.spawn(async move {
                let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_domreg"))
                    .arg("--data-dir")
                    .arg(&dir)
                    .args(["register", &domain, "--account", &account])
                    .output()
                    .await
                    .unwrap();
                (
                    out.status.success(),
                    String::from_utf8_lossy(&out.stderr).into_owned(),
                )
            });
        }
    }
    let mut winners = 0;
    while let Some(r) = tasks.join_next().await {
        let (won, message) = r.unwrap();
        if won {
            winners += 1;
        } else {
            assert!(
                message.contains(&format!("{domain} has an open register order")),
                "a loser should hear why: {message}"
            );
        }
    }
    assert_eq!(winners, 1, "{domain}: exactly one order proceeds");
    let log = domreg::store::SqliteStore::read_file(w.dir.path().join("events.db")).unwrap();
    let stream = format!("domain-{domain}");
    let count = |t: &str| {
        log.iter()
            .filter(|e| e.stream == stream && e.event_type == t)
            .count()
    };
    assert_eq!((count("Requested"), count("Charged")), (1, 1), "{domain}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_simultaneous_registrations_of_one_domain_charge_one_account() {
    let w = world().await;
    one_wins(&w, "contested-api.com", true).await;
    one_wins(&w, "contested-cli.com", false).await;
    // The ledger agrees: two charges in all, and the read models equal a replay.
    let ledger: Value = serde_json::from_str(&tokio::task::block_in_place(|| {
        domreg_ok(w.dir.path(), &["ledger", "--json"])
    }))
    .unwrap();
    let charges = ledger["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "charge")
        .count();
    assert_eq!(charges, 2);
    tokio::task::block_in_place(|| domreg_ok(w.dir.path(), &["verify"]));
}

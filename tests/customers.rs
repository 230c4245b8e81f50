//! Customers over HTTP: tokens scoped to one account (another account is a 404), named
//! admins the audit names, the catalogue and orders that accept the agreement shown.

#[path = "support/api.rs"]
mod support_api;
#[path = "support/cli.rs"]
mod support_cli;
#[path = "support/contacts.rs"]
mod support_contacts;

use serde_json::{json, Value};
use support_api::{api_world as world, ApiWorld};
use support_cli::domreg_ok;

fn connect(w: &ApiWorld) {
    let port = w.sandbox.addr.port();
    let d = w.dir.path();
    tokio::task::block_in_place(|| {
        support_cli::connect_sandbox(d, port, support_api::KEY, &["com"]);
        domreg_ok(
            d,
            &[
                "registrar",
                "update",
                "main",
                "--license",
                "Be kind to the registry.",
            ],
        );
        for account in ["alice", "bob"] {
            domreg_ok(
                d,
                &[
                    "account",
                    "contacts",
                    account,
                    "--file",
                    support_contacts::owen_file(d).to_str().unwrap(),
                ],
            );
        }
    });
}

fn issue(w: &ApiWorld, args: &[&str]) -> Value {
    let mut all = vec!["token", "issue", "--json"];
    all.extend_from_slice(args);
    let out = tokio::task::block_in_place(|| domreg_ok(w.dir.path(), &all));
    serde_json::from_str(&out).unwrap()
}

async fn send(
    w: &ApiWorld,
    method: &str,
    path: &str,
    body: Option<&Value>,
    token: &str,
) -> (u16, Value) {
    let (s, j, _) = w.api.send_as(method, path, body, Some(token)).await;
    (s, j)
}

async fn agreement(w: &ApiWorld, token: &str, domain: &str) -> Value {
    let (s, offer) = send(
        w,
        "GET",
        &format!("/api/v1/accounts/alice/catalogue/{domain}"),
        None,
        token,
    )
    .await;
    assert_eq!(s, 200, "{offer}");
    offer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_token_sees_only_its_own_account() {
    let w = world().await;
    connect(&w);
    let alice = issue(&w, &["--customer", "alice"])["token"]
        .as_str()
        .unwrap()
        .to_string();
    let bob = issue(&w, &["--customer", "bob"])["token"]
        .as_str()
        .unwrap()
        .to_string();
    // Bob has a domain; alice must not learn of it.
    let offer = agreement(&w, &alice, "bobs.com").await;
    let version = offer["agreement"]["version"].as_str().unwrap().to_string();
    let order = json!({"kind": "register", "domain": "bobs.com", "agreement_version": version});
    let (s, body) = send(
        &w,
        "POST",
        "/api/v1/accounts/bob/orders",
        Some(&order),
        &bob,
    )
    .await;
    assert_eq!(s, 201, "{body}");
    let routes: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", "/api/v1/accounts/bob".into(), None),
        ("GET", "/api/v1/accounts/bob/domains".into(), None),
        ("GET", "/api/v1/accounts/bob/orders".into(), None),
        (
            "POST",
            "/api/v1/accounts/bob/orders".into(),
            Some(order.clone()),
        ),
        ("GET", "/api/v1/accounts/bob/ledger".into(), None),
        ("GET", "/api/v1/accounts/bob/audit".into(), None),
        ("GET", "/api/v1/accounts/bob/catalogue/x.com".into(), None),
        (
            "PUT",
            "/api/v1/accounts/bob/domains/bobs.com/auto-renew".into(),
            Some(json!({"enabled": false})),
        ),
        (
            "PUT",
            "/api/v1/accounts/bob/domains/bobs.com/nameservers".into(),
            Some(json!({"nameservers": ["ns1.evil.example", "ns2.evil.example"]})),
        ),
    ];
    let before = support_api::log_head(w.dir.path());
    for (method, path, body) in &routes {
        let (s, j) = send(&w, method, path, body.as_ref(), &alice).await;
        assert_eq!(s, 404, "{method} {path} with alice's token: {j}");
        assert!(
            !j.to_string().contains("bobs.com") || path.contains("bobs.com"),
            "{j}"
        );
    }
    // Bob's domain through alice's own account: not hers, so not found either.
    for (method, path, body) in [
        (
            "PUT",
            "/api/v1/accounts/alice/domains/bobs.com/auto-renew",
            json!({"enabled": false}),
        ),
        (
            "PUT",
            "/api/v1/accounts/alice/domains/bobs.com/nameservers",
            json!({"nameservers": ["ns1.evil.example"]}),
        ),
    ] {
        let (s, j) = send(&w, method, path, Some(&body), &alice).await;
        assert_eq!(s, 404, "{path}: {j}");
    }
    assert_eq!(
        support_api::log_head(w.dir.path()),
        before,
        "nothing written for alice"
    );
    // Her own account answers; its domains are hers only.
    let (s, domains) = send(&w, "GET", "/api/v1/accounts/alice/domains", None, &alice).await;
    assert_eq!(
        (s, domains.as_array().unwrap().len()),
        (200, 0),
        "{domains}"
    );
    let (s, domains) = send(&w, "GET", "/api/v1/accounts/bob/domains", None, &bob).await;
    assert_eq!(
        (s, domains.as_array().unwrap().len()),
        (200, 1),
        "{domains}"
    );
    // Admin routes are not a customer's.
    for path in [
        "/api/v1/ledger",
        "/api/v1/domains",
        "/api/v1/async",
        "/api/v1/tokens",
    ] {
        let (s, j) = send(&w, "GET", path, None, &alice).await;
        assert_eq!(s, 403, "{path}: {j}");
    }
    // Revoked: the token stops working at once.
    let id = issue(&w, &["--customer", "alice", "--rotate"])["revoked"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!id.is_empty());
    let (s, _) = send(&w, "GET", "/api/v1/accounts/alice", None, &alice).await;
    assert_eq!(s, 403, "a rotated token is refused");
    // No token, nor its digest, is in the log.
    let log = std::fs::read(w.dir.path().join("events.db")).unwrap();
    let log = String::from_utf8_lossy(&log);
    assert!(
        !log.contains(&alice) && !log.contains(&bob),
        "a token in the log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_records_the_agreement_accepted_and_a_changed_one_is_refused() {
    let w = world().await;
    connect(&w);
    let d = w.dir.path();
    let alice = issue(&w, &["--customer", "alice"])["token"]
        .as_str()
        .unwrap()
        .to_string();
    let offer = agreement(&w, &alice, "kind.com").await;
    assert_eq!(offer["status"], "available", "{offer}");
    assert_eq!(offer["orderable"], true);
    assert_eq!(offer["agreement"]["text"], "Be kind to the registry.");
    assert!(offer["prices"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["kind"] == "register"));
    let shown = offer["agreement"]["version"].as_str().unwrap().to_string();
    assert_eq!(shown.len(), 64);
    let order = |domain: &str, version: &str| json!({"kind": "register", "domain": domain, "agreement_version": version});
    let (s, placed) = send(
        &w,
        "POST",
        "/api/v1/accounts/alice/orders",
        Some(&order("kind.com", &shown)),
        &alice,
    )
    .await;
    assert_eq!(s, 201, "{placed}");
    // The audit says who accepted which text, from where, and that the customer ordered.
    let (s, audit) = send(
        &w,
        "GET",
        "/api/v1/audit/domains/kind.com",
        None,
        support_api::TOKEN,
    )
    .await;
    assert_eq!(s, 200);
    let text = audit.to_string();
    assert!(
        text.contains("account alice accepted the license agreement of connection main")
            && text.contains(&shown[..16])
            && text.contains("from 127.0.0.1"),
        "{audit:#}"
    );
    // The agreement changes: an order accepting the old text is refused, nothing written.
    tokio::task::block_in_place(|| {
        domreg_ok(
            d,
            &["registrar", "update", "main", "--license", "Be very kind."],
        )
    });
    let before = support_api::log_head(d);
    let (s, refused) = send(
        &w,
        "POST",
        "/api/v1/accounts/alice/orders",
        Some(&order("later.com", &shown)),
        &alice,
    )
    .await;
    assert_eq!(s, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "agreement_changed");
    assert!(refused["error"]["message"]
        .as_str()
        .unwrap()
        .contains("show the customer the current text"));
    assert_eq!(support_api::log_head(d), before);
    // A premium name is reported as such and not sold at the standard price.
    let premium = agreement(&w, &alice, "premium-gold.com").await;
    assert_eq!(
        (premium["status"].as_str(), premium["orderable"].as_bool()),
        (Some("premium"), Some(false)),
        "{premium}"
    );
    let current = premium["agreement"]["version"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, refused) = send(
        &w,
        "POST",
        "/api/v1/accounts/alice/orders",
        Some(&order("premium-gold.com", &current)),
        &alice,
    )
    .await;
    assert_eq!(s, 409, "{refused}");
    assert!(refused["error"]["message"]
        .as_str()
        .unwrap()
        .contains("premium"));
    // A named admin's token: the audit names that admin for what they do.
    let ops = issue(&w, &["--admin", "ops-bea"])["token"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, j) = send(
        &w,
        "POST",
        "/api/v1/orders",
        Some(&json!({"kind": "register", "domain": "behalf.com", "account": "alice"})),
        &ops,
    )
    .await;
    assert_eq!(s, 201, "{j}");
    // The admin ordered on the customer's behalf: the audit says which admin.
    let (s, audit) = send(&w, "GET", "/api/v1/audit/domains/behalf.com", None, &ops).await;
    assert_eq!(s, 200);
    assert!(audit.to_string().contains("ops-bea"), "{audit:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_admin_signs_in_to_the_admin_pages_and_a_customer_does_not() {
    let w = world().await;
    connect(&w);
    let ops = issue(&w, &["--admin", "ops-bea"])["token"]
        .as_str()
        .unwrap()
        .to_string();
    let carol = issue(&w, &["--customer", "carol"])["token"]
        .as_str()
        .unwrap()
        .to_string();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = |token: String| {
        let http = http.clone();
        let url = format!("{}/admin/login", w.api.base);
        async move {
            http.post(url)
                .form(&[("token", token)])
                .send()
                .await
                .unwrap()
        }
    };
    let admin = login(ops).await;
    assert_eq!(admin.status().as_u16(), 303);
    assert!(admin.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .starts_with("domreg_admin="));
    let customer = login(carol.clone()).await;
    assert_eq!(
        customer.status().as_u16(),
        403,
        "a customer's token is no admin's"
    );
    // ...and the customer's own sign-in takes it.
    let own = http
        .post(format!("{}/account/sign-in", w.api.base))
        .form(&[("token", carol)])
        .send()
        .await
        .unwrap();
    assert_eq!(own.status().as_u16(), 303);
    assert!(own.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .starts_with("domreg_account="));
}
